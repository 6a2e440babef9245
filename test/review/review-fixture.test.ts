/**
 * `npm run diff` and `npm run check:replacements` end to end on a fixture repository (see
 * fixture-repo.ts) whose commits (a) add resources, (b) change an autoscaling bound in a
 * rendered manifest, (d) open a path into the restricted zone (an ingress from anywhere on the
 * database's group), (e) close paths (both of the group's ingress rules removed), (c) replace a database.
 * Each commit is synthesized once, through the tools' own worktree + synth machinery, and
 * reused; the last tests run the real CLI entries.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SynthOutput } from '../../scripts/review/assembly';
import { loadPlatformSpec } from '../../lib/spec';
import { compareTrees } from '../../scripts/review/compare';
import { compareReachability } from '../../scripts/review/reachability';
import type { ReachabilityDiff } from '../../scripts/review/reachability';
import type { TreeComparison } from '../../scripts/review/compare';
import { applyAllowList, findStatefulRisks } from '../../scripts/review/guard';
import { renderGuard, renderMarkdown, renderText } from '../../scripts/review/render';
import { addWorktree, provideNodeModules, synthCommit, synthTree } from '../../scripts/review/synth-trees';
import { FixtureRepo, MAIN_ROOT } from './fixture-repo';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'review-fixture-test-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const BASE = { dbIdentifier: 'orders-db', queue: false, maxReplicas: 10 };
let repo: FixtureRepo;
const outputs: SynthOutput[] = [];
const installs: string[] = [];
let addResource: TreeComparison;
let changeBound: TreeComparison;
let replaceDb: TreeComparison;
let openPath: ReachabilityDiff;
let closePath: ReachabilityDiff;
let noPathChange: ReachabilityDiff;
const spec = loadPlatformSpec();

beforeAll(async () => {
  repo = new FixtureRepo(work);
  const commits = [
    repo.commit(BASE, 'base'),
    repo.commit({ ...BASE, queue: true }, '(a) add a queue, a role and a security group'),
    repo.commit({ ...BASE, queue: true, maxReplicas: 20 }, '(b) raise the payment-service maxReplicas'),
    repo.commit({ ...BASE, queue: true, maxReplicas: 20, anywhereToDatabase: true }, '(d) admit anything on the database port'),
    repo.commit({ ...BASE, queue: true, maxReplicas: 20, bastionToDatabase: false }, '(e) drop both rules of the database\'s group'),
    repo.commit({ ...BASE, queue: true, maxReplicas: 20, bastionToDatabase: false, dbIdentifier: 'orders-db-v2' }, '(c) rename the database instance'),
  ];
  const checkouts = commits.map((commit, i) => addWorktree(repo.root, commit, path.join(work, `tree-${i}`)));
  try {
    for (const checkout of checkouts) provideNodeModules(checkout.root, repo.root, (dir) => installs.push(dir));
    outputs.push(...await Promise.all(checkouts.map((checkout, i) => synthTree(checkout.root, path.join(work, `out-${i}`)))));
  } finally {
    for (const checkout of checkouts) checkout.remove();
  }
  addResource = compareTrees(outputs[0], outputs[1]);
  changeBound = compareTrees(outputs[1], outputs[2]);
  replaceDb = compareTrees(outputs[4], outputs[5]);
  openPath = compareReachability(outputs[2], outputs[3], spec);
  closePath = compareReachability(outputs[3], outputs[4], spec);
  noPathChange = compareReachability(outputs[4], outputs[5], spec);
});

const labels = { base: 'HEAD~1 (abc1234)', head: 'working tree' };
const guard = (comparison: TreeComparison, entries = [] as Parameters<typeof applyAllowList>[1]) =>
  applyAllowList(findStatefulRisks(comparison), entries, '2026-06-01');

describe('the synth machinery', () => {
  it('checked each commit out as a worktree with linked node_modules (same lock file), then removed it', () => {
    expect(installs).toEqual([]);
    expect(repo.git('worktree', 'list').split('\n')).toHaveLength(1);
    for (const output of outputs) {
      expect(fs.readdirSync(path.join(output.dist!, 'production'))).toEqual(['payment-service.k8s.yaml']);
      expect(fs.existsSync(path.join(output.cdkOut, 'manifest.json'))).toBe(true);
    }
  });
});

describe('(a) a commit adding resources', () => {
  it('lists the added resources per environment and stack, with the IAM and security-group changes', () => {
    expect(addResource.stacks.map((s) => [s.environment, s.stackName, s.added.map((r) => `${r.type} ${r.logicalId}`)])).toEqual([
      ['production', 'fixture-production-data', ['AWS::EC2::SecurityGroup DatabaseAccess', 'AWS::SQS::Queue Events', 'AWS::IAM::Role Publisher']],
      ['staging', 'fixture-staging-data', ['AWS::EC2::SecurityGroup DatabaseAccess', 'AWS::SQS::Queue Events', 'AWS::IAM::Role Publisher']],
    ]);
    const text = renderText(addResource, labels);
    expect(text).toContain('fixture-production-data (production/Data): 3 added, 0 removed, 0 replaced, 0 modified');
    expect(text).toContain('[+] AWS::SQS::Queue Events (production/Data/Events)');
    expect(text).toContain('IAM statement changes (permissions broadened):');
    expect(text).toMatch(/│ \+ │ <Events>\.Arn\s+│ Allow\s+│ sqs:SendMessage/);
    expect(text).toMatch(/│ \+ │ <DatabaseAccess>\.GroupId │ In\s+│ TCP 5432 │ 10\.0\.0\.0\/16 │/);
    const markdown = renderMarkdown(addResource, labels);
    expect(markdown).toContain('| production | `fixture-production-data` | 3 | 0 | 0 | 0 | broadened | changed |');
    expect(markdown).toContain('<details><summary><b>fixture-production-data</b> (production/Data): 3 added, IAM broadened, security groups</summary>');
    expect(markdown).toContain('| `Events` | `AWS::SQS::Queue` | `production/Data/Events` |');
    expect(markdown).toContain('| + | &lt;Events&gt;.Arn | Allow | sqs:SendMessage | AWS:&lt;Publisher&gt; |');
    expect(addResource.manifests).toEqual([]);
  });

  it('passes the guard', () => {
    expect(guard(addResource)).toEqual({ blocked: [], allowed: [], unused: [] });
  });
});

describe('(b) a commit changing an autoscaling bound in a rendered manifest', () => {
  it('shows the unified diff of each changed manifest and no template change', () => {
    expect(changeBound.stacks.map((s) => s.status)).toEqual(['unchanged', 'unchanged']);
    expect(changeBound.manifests.map((m) => [m.file, m.status])).toEqual([
      ['production/payment-service.k8s.yaml', 'changed'], ['staging/payment-service.k8s.yaml', 'changed'],
    ]);
    const [production] = changeBound.manifests;
    expect(production.unified).toMatch(/^--- a\/production\/payment-service\.k8s\.yaml\n\+\+\+ b\/production\/payment-service\.k8s\.yaml\n@@ -\d+,7 \+\d+,7 @@\n/);
    expect(production.unified).toContain('\n-  maxReplicas: 10\n+  maxReplicas: 20\n');
    expect(renderText(changeBound, labels)).toContain('manifest production/payment-service.k8s.yaml (changed):');
    expect(renderMarkdown(changeBound, labels)).toContain('```diff\n--- a/staging/payment-service.k8s.yaml');
  });

  it('passes the guard', () => {
    const result = guard(changeBound);
    expect(result.blocked).toEqual([]);
    expect(renderGuard(result, labels, 'review/replacements-allowed.json')).toContain('OK: no stateful resource would be replaced or deleted.');
  });
});

describe('(c) a commit replacing a database', () => {
  it('fails the guard naming stack, logical id, type and the property forcing replacement', () => {
    const result = guard(replaceDb);
    expect(result.blocked.map(({ risk }) => [risk.stackName, risk.logicalId, risk.type, risk.action, risk.replacedBy.map((p) => p.name)])).toEqual([
      ['fixture-production-data', 'Database', 'AWS::RDS::DBInstance', 'replace', ['DBInstanceIdentifier']],
      ['fixture-staging-data', 'Database', 'AWS::RDS::DBInstance', 'replace', ['DBInstanceIdentifier']],
    ]);
    expect(renderGuard(result, labels, 'review/replacements-allowed.json')).toContain(
      'FAIL    fixture-production-data (production/Data) Database [AWS::RDS::DBInstance] at production/Data/Database: would be REPLACED; '
      + 'replacement forced by DBInstanceIdentifier ("orders-db-production" -> "orders-db-v2-production")',
    );
  });

  it('lists the replacement in the diff', () => {
    expect(renderText(replaceDb, labels)).toContain(
      '[!] AWS::RDS::DBInstance Database (staging/Data/Database) [STATEFUL] REPLACED, forced by DBInstanceIdentifier ("orders-db-staging" -> "orders-db-v2-staging")',
    );
    expect(renderMarkdown(replaceDb, labels)).toContain('| `Database` | `AWS::RDS::DBInstance` **stateful** | `production/Data/Database` | replaced, forced by `DBInstanceIdentifier`');
  });

  it('lets the replacement through only with a reviewed allow-list entry per resource, printing its reason', () => {
    const production = { stack: 'fixture-production-data', logicalId: 'Database', reason: 'CHG-42: rename approved, data restored from snapshot' };
    const partial = guard(replaceDb, [production]);
    expect(partial.blocked.map(({ risk }) => risk.stackName)).toEqual(['fixture-staging-data']);
    const result = guard(replaceDb, [production, { stack: 'staging/Data', logicalId: 'Database', reason: 'staging follows production', expires: '2026-06-30' }]);
    expect(result.blocked).toEqual([]);
    const report = renderGuard(result, labels, 'review/replacements-allowed.json');
    expect(report).toContain('by review/replacements-allowed.json entry 0 (stack fixture-production-data, logicalId Database): CHG-42: rename approved, data restored from snapshot');
    expect(report).toContain('by review/replacements-allowed.json entry 1 (stack staging/Data, logicalId Database, expires 2026-06-30): staging follows production');
  });
});

describe('(d) a commit opening a path into the restricted zone, (e) one closing the bastion\'s', () => {
  const DB = 'RDS writer Data/Database';
  it('reports the opening as forbidden, first, naming the zone rule it breaks', () => {
    expect(openPath.environments).toEqual(['production', 'staging']);
    const [first] = openPath.changes;
    expect(first).toMatchObject({
      environment: 'production', change: 'opened', from: 'Lambda Data/Handler', to: DB, port: 'tcp/5432', before: 'none', after: 'all',
      forbidden: 'the restricted zone admits only the bastion and the workloads that own the store',
    });
    // The function's group has EC2's default egress: only the new ingress stood in the way.
    expect(openPath.changes.map((c) => `${c.environment} ${c.change} ${c.from} -> ${c.to} ${c.port}`)).toEqual([
      `production opened Lambda Data/Handler -> ${DB} tcp/5432`, `staging opened Lambda Data/Handler -> ${DB} tcp/5432`,
    ]);
    const text = renderText({ ...changeBound, reachability: openPath }, labels);
    expect(text).toContain('2 forbidden openings, 0 required flows closed, 0 other changes');
    expect(text).toContain(`[FORBIDDEN] OPENED Lambda Data/Handler -> ${DB} tcp/5432 - breaks: the restricted zone admits only the bastion and the workloads that own the store`);
    const markdown = renderMarkdown({ ...changeBound, reachability: openPath }, labels);
    // The alert comes before anything else of the comment.
    expect(markdown.indexOf('> [!CAUTION]')).toBeGreaterThan(0);
    expect(markdown.indexOf('> [!CAUTION]')).toBeLessThan(markdown.indexOf('stacks changed'));
    expect(markdown).toContain('> **This change opens 2 forbidden paths** (the zone table of lib/spec):');
    expect(markdown).toContain(`> - \`production\`: Lambda Data/Handler → ${DB} \`tcp/5432\`: the restricted zone admits only the bastion and the workloads that own the store`);
    expect(markdown).toContain(`| :no_entry: **forbidden** | production | opened | Lambda Data/Handler | ${DB} | \`tcp/5432\` |`);
  });

  it('reports the closing of the bastion\'s required flow first, with the layer that now stops it', () => {
    expect(closePath.changes.map((c) => [c.environment, c.change, c.from, c.to, c.port, c.required ?? c.forbidden])).toEqual([
      ['production', 'closed', 'instance Data/Bastion/Host', DB, 'tcp/5432', 'operatorAccess.bastion: the restricted zone (PostgreSQL writer)'],
      ['staging', 'closed', 'instance Data/Bastion/Host', DB, 'tcp/5432', 'operatorAccess.bastion: the restricted zone (PostgreSQL writer)'],
      // Closing the forbidden path again is listed, unflagged.
      ['production', 'closed', 'Lambda Data/Handler', DB, 'tcp/5432', undefined],
      ['staging', 'closed', 'Lambda Data/Handler', DB, 'tcp/5432', undefined],
    ]);
    expect(closePath.changes[0]!.detail).toMatch(/^security-group-ingress: production\/Data\/RestrictedGroup: ingress: nothing admits 10\.0\.0\.0\/24 or its groups \(production\/Data\/BastionGroup\) on tcp\/5432/);
    const text = renderText({ ...changeBound, reachability: closePath }, labels);
    expect(text).toContain('0 forbidden openings, 2 required flows closed, 2 other changes');
    expect(text).toContain(`[REQUIRED] CLOSED instance Data/Bastion/Host -> ${DB} tcp/5432 - needed: operatorAccess.bastion: the restricted zone (PostgreSQL writer) (security-group-ingress:`);
    const markdown = renderMarkdown({ ...changeBound, reachability: closePath }, labels);
    expect(markdown).not.toContain('[!CAUTION]');
    expect(markdown).toContain('> [!WARNING]\n> **This change closes 2 required flows:**');
  });

  it('reports no reachability change for a commit that changes no path', () => {
    expect(noPathChange.changes).toEqual([]);
    expect(renderText({ ...replaceDb, reachability: noPathChange }, labels)).toContain('no flow opened or closed');
  });
});

describe('a base whose package-lock.json differs', () => {
  it('installs its dependencies once (announced first), synthesizes it once, and reuses both', async () => {
    const other = new FixtureRepo(work);
    // Same packages, different bytes: the tools must not link this checkout's node_modules.
    fs.appendFileSync(path.join(other.root, 'package-lock.json'), '\n');
    const commit = other.commit(BASE, 'base with another lock file');
    // The working tree has moved on to this repository's lock file (uncommitted).
    fs.copyFileSync(path.join(MAIN_ROOT, 'package-lock.json'), path.join(other.root, 'package-lock.json'));
    const log: string[] = [];
    const installed: string[] = [];
    // Stands for `npm ci` (minutes, the registry): the same packages, linked.
    const install = (dir: string) => { installed.push(dir); fs.symlinkSync(path.join(MAIN_ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir'); };
    const first = await synthCommit(other.root, commit, { install, log: (m) => log.push(m) });
    expect(first.cached).toBe(false);
    expect(installed).toHaveLength(1);
    const announce = log.findIndex((m) => m.startsWith("installing the base's dependencies (lockfile "));
    expect(announce).toBeGreaterThanOrEqual(0);
    expect(announce).toBeLessThan(log.findIndex((m) => m.startsWith('synthesizing ')));
    expect(fs.existsSync(path.join(first.cdkOut, 'manifest.json'))).toBe(true);

    log.length = 0;
    const second = await synthCommit(other.root, commit, { install, log: (m) => log.push(m) });
    expect(second).toEqual({ ...first, cached: true });
    expect(installed).toHaveLength(1);
    expect(log).toEqual([`base: synth of ${commit.slice(0, 12)} reused from ${path.relative(other.root, path.dirname(first.cdkOut))}`]);

    // Another environment is another synth, but the same lock file: the dependencies come from the cache.
    process.env.PLATFORM_REVIEW_TEST_MARKER = '1';
    try {
      log.length = 0;
      const third = await synthCommit(other.root, commit, { install, log: (m) => log.push(m) });
      expect(third.cached).toBe(false);
      expect(third.cdkOut).not.toBe(first.cdkOut);
    } finally {
      delete process.env.PLATFORM_REVIEW_TEST_MARKER;
    }
    expect(installed).toHaveLength(1);
    expect(log.some((m) => /^the base's dependencies \(lockfile [0-9a-f]{12}\) are cached in \.cache\/review\/deps\//.test(m))).toBe(true);
    expect(other.git('worktree', 'list').split('\n')).toHaveLength(1);
  });
});

describe('the command-line entries', () => {
  const cli = (script: string, args: string[]) => spawnSync(process.execPath, [path.join(MAIN_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(MAIN_ROOT, 'scripts', 'review', script), ...args], {
    cwd: repo.root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' },
  });

  it('check-replacements --base HEAD~1 fails (exit 1) on the database replacement, passes (exit 0) with an allow-list entry, and leaves no worktree', () => {
    const failed = cli('check-replacements.ts', ['--base', 'HEAD~1']);
    expect(failed.stderr).toContain('node_modules linked from');
    expect(failed.stdout).toContain('Stateful-replacement guard: HEAD~1 (');
    expect(failed.stdout).toContain('FAIL    fixture-production-data (production/Data) Database [AWS::RDS::DBInstance] at production/Data/Database: would be REPLACED; replacement forced by DBInstanceIdentifier');
    expect(failed.stdout).toContain('2 stateful resources would be replaced or deleted');
    expect(failed.status).toBe(1);

    // The allow-list of the working tree (the pull request's own, reviewed with it).
    fs.mkdirSync(path.join(repo.root, 'review'));
    fs.writeFileSync(path.join(repo.root, 'review', 'replacements-allowed.json'), JSON.stringify([
      { stack: 'fixture-production-data', logicalId: 'Database', reason: 'CHG-42: rename approved' },
      { stack: 'fixture-staging-data', logicalId: 'Database', reason: 'CHG-42: staging too', expires: '2999-12-31' },
    ]));
    const allowed = cli('check-replacements.ts', ['--base', 'HEAD~1']);
    // The base was synthesized by the first run: this one reads it from the cache.
    expect(allowed.stderr).toMatch(/review: base: synth of [0-9a-f]{12} reused from \.cache\/review\/synth\//);
    expect(allowed.stderr).not.toContain('worktree of');
    expect(allowed.stdout).toContain('by review/replacements-allowed.json entry 0 (stack fixture-production-data, logicalId Database): CHG-42: rename approved');
    expect(allowed.stdout).toContain('OK: no stateful resource would be replaced or deleted beyond the 2 allowed changes.');
    expect(allowed.status).toBe(0);
    expect(repo.git('worktree', 'list').split('\n')).toHaveLength(1);
  });

  it('diff --base HEAD~3 --head HEAD~2 (commit d) --markdown shows the forbidden opening at the top of the comment', () => {
    const markdown = path.join(work, 'diff.md');
    const run = cli('diff.ts', ['--base', 'HEAD~3', '--head', 'HEAD~2', '--markdown', markdown]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('== reachability: flows this change opens or closes');
    expect(run.stdout).toMatch(/\[FORBIDDEN\] OPENED Lambda Data\/Handler -> RDS writer Data\/Database tcp\/5432/);
    const text = fs.readFileSync(markdown, 'utf8');
    expect(text.indexOf('> [!CAUTION]')).toBeLessThan(text.indexOf('### production'));
    expect(repo.git('worktree', 'list').split('\n')).toHaveLength(1);
  });

  it('exits 2 with a clear message on a bad ref, a bad allow-list or missing arguments', () => {
    const badRef = cli('diff.ts', ['--base', 'no-such-ref']);
    expect(badRef.stderr).toContain("error: unknown git ref 'no-such-ref'");
    expect(badRef.status).toBe(2);
    const badList = path.join(work, 'bad-allow-list.json');
    fs.writeFileSync(badList, JSON.stringify([{ stack: 'fixture-production-data', logicalId: 'Database', reason: '' }]));
    const invalid = cli('check-replacements.ts', ['--base', 'HEAD~1', '--allow-list', badList]);
    expect(invalid.stderr).toContain('invalid allow-list');
    expect(invalid.stderr).toContain('entry 0.reason: must give the reviewed reason');
    expect(invalid.status).toBe(2);
    const noBase = cli('check-replacements.ts', []);
    expect(noBase.stderr).toContain('--base <git-ref> is required');
    expect(noBase.status).toBe(2);
  });
});
