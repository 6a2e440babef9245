/**
 * The comparison core, the guard, the allow-list and the line diff, on small hand-written
 * cloud assemblies (no synthesis): the cases the fixture repository does not cover.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SynthOutput } from '../../scripts/review/assembly';
import { compareTrees } from '../../scripts/review/compare';
import { AllowListError, applyAllowList, findStatefulRisks, loadAllowList } from '../../scripts/review/guard';
import type { AllowEntry } from '../../scripts/review/guard';
import { diffLines, unifiedDiff } from '../../scripts/review/line-diff';
import { renderGuard, renderMarkdown, renderText } from '../../scripts/review/render';
import { isStatefulType, STATEFUL_RESOURCE_TYPES } from '../../scripts/review/stateful-types';
import { lockfileHash, provideNodeModules, synthKey } from '../../scripts/review/synth-trees';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'review-core-test-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;
interface StackDef { stage: string; stackName: string; resources: Resources }

let counter = 0;
/** A cloud assembly as aws-cdk-lib writes it: one nested assembly per Stage, one template per stack. */
function assembly(stacks: StackDef[], manifests: Record<string, string> = {}): SynthOutput {
  const root = path.join(work, `tree-${counter++}`);
  const cdkOut = path.join(root, 'cdk.out');
  const dist = path.join(root, 'dist');
  fs.mkdirSync(cdkOut, { recursive: true });
  const stages = [...new Set(stacks.map((s) => s.stage))];
  const top: Record<string, unknown> = {};
  for (const stage of stages) {
    const dir = `assembly-${stage}`;
    fs.mkdirSync(path.join(cdkOut, dir));
    top[dir] = { type: 'cdk:cloud-assembly', properties: { directoryName: dir, displayName: stage } };
    const artifacts: Record<string, unknown> = {};
    for (const stack of stacks.filter((s) => s.stage === stage)) {
      const id = stack.stackName.replace(/-/g, '');
      fs.writeFileSync(path.join(cdkOut, dir, `${id}.template.json`), JSON.stringify({ Resources: stack.resources }));
      artifacts[id] = {
        type: 'aws:cloudformation:stack', environment: 'aws://111111111111/us-east-1', displayName: `${stage}/${stack.stackName.split('-').pop()}`,
        properties: { templateFile: `${id}.template.json`, stackName: stack.stackName },
      };
    }
    fs.writeFileSync(path.join(cdkOut, dir, 'manifest.json'), JSON.stringify({ version: '50.0.0', artifacts }));
  }
  fs.writeFileSync(path.join(cdkOut, 'manifest.json'), JSON.stringify({ version: '50.0.0', artifacts: top }));
  for (const [file, text] of Object.entries(manifests)) {
    fs.mkdirSync(path.dirname(path.join(dist, file)), { recursive: true });
    fs.writeFileSync(path.join(dist, file), text);
  }
  return { cdkOut, dist };
}

const db = (props: Record<string, unknown> = {}) => ({
  Type: 'AWS::RDS::DBInstance', DeletionPolicy: 'Snapshot', UpdateReplacePolicy: 'Snapshot',
  Properties: { Engine: 'postgres', DBInstanceClass: 'db.m5.large', AllocatedStorage: '100', ...props },
});
const labels = { base: 'base', head: 'head' };

describe('the stateful type list', () => {
  it('holds the data holders and keys, not configuration', () => {
    for (const type of ['AWS::RDS::DBInstance', 'AWS::RDS::DBCluster', 'AWS::ElastiCache::ReplicationGroup', 'AWS::MSK::Cluster',
      'AWS::KMS::Key', 'AWS::KMS::ReplicaKey', 'AWS::SecretsManager::Secret', 'AWS::S3::Bucket', 'AWS::DynamoDB::Table',
      'AWS::DynamoDB::GlobalTable', 'AWS::Backup::BackupVault', 'AWS::Logs::LogGroup', 'AWS::EFS::FileSystem', 'AWS::EKS::Cluster']) {
      expect(isStatefulType(type)).toBe(true);
    }
    for (const type of ['AWS::RDS::DBParameterGroup', 'AWS::RDS::DBSubnetGroup', 'AWS::EC2::SecurityGroup', 'AWS::IAM::Role', undefined]) {
      expect(isStatefulType(type)).toBe(false);
    }
    for (const why of Object.values(STATEFUL_RESOURCE_TYPES)) expect(why.length).toBeGreaterThan(0);
  });
});

describe('compareTrees and the guard', () => {
  it('counts a stack removed entirely as deleting its stateful resources, and only those', () => {
    const base = assembly([
      { stage: 'production', stackName: 'platform-production-data', resources: { Archive: { Type: 'AWS::S3::Bucket' }, Events: { Type: 'AWS::SQS::Queue' } } },
      { stage: 'production', stackName: 'platform-production-network', resources: { Vpc: { Type: 'AWS::EC2::VPC' } } },
    ]);
    const head = assembly([{ stage: 'production', stackName: 'platform-production-network', resources: { Vpc: { Type: 'AWS::EC2::VPC' } } }]);
    const comparison = compareTrees(base, head);
    expect(comparison.stacks.map((s) => [s.stackName, s.status])).toEqual([
      ['platform-production-data', 'removed'], ['platform-production-network', 'unchanged'],
    ]);
    const risks = findStatefulRisks(comparison);
    expect(risks).toEqual([expect.objectContaining({ stackName: 'platform-production-data', logicalId: 'Archive', type: 'AWS::S3::Bucket', action: 'delete', stackRemoved: true })]);
    const report = renderGuard(applyAllowList(risks, [], '2026-01-01'), labels, 'allow.json');
    expect(report).toContain('FAIL    platform-production-data (production/data) Archive [AWS::S3::Bucket]: would be DELETED (its stack is removed)');
    expect(renderText(comparison, labels)).toContain('platform-production-data (production/data) [stack REMOVED]: 0 added, 2 removed');
  });

  it('sees a logical id change as a deletion and points at the same-type resource added', () => {
    const base = assembly([{ stage: 'staging', stackName: 'platform-staging-data', resources: { Db: db() } }]);
    const head = assembly([{ stage: 'staging', stackName: 'platform-staging-data', resources: { Database: db() } }]);
    const risks = findStatefulRisks(compareTrees(base, head));
    expect(risks).toEqual([expect.objectContaining({ logicalId: 'Db', action: 'delete', addedSameType: ['Database'] })]);
    expect(renderGuard(applyAllowList(risks, [], '2026-01-01'), labels, 'allow.json'))
      .toContain('Db [AWS::RDS::DBInstance]: would be DELETED; same-type resource added: Database (logical id changed? that replaces it)');
  });

  it('names the property forcing a replacement, treats conditional replacement as a failure too, and lets in-place updates pass', () => {
    const base = assembly([{ stage: 'production', stackName: 'platform-production-data', resources: {
      Primary: db({ DBInstanceIdentifier: 'orders' }), Replica: db(), Resized: db(), Access: { Type: 'AWS::EC2::SecurityGroup', Properties: { GroupDescription: 'a' } },
    } }]);
    const head = assembly([{ stage: 'production', stackName: 'platform-production-data', resources: {
      Primary: db({ DBInstanceIdentifier: 'orders-v2' }), Replica: db({ Engine: 'mysql' }), Resized: db({ AllocatedStorage: '200' }),
      Access: { Type: 'AWS::EC2::SecurityGroup', Properties: { GroupDescription: 'b' } },
    } }]);
    const comparison = compareTrees(base, head);
    const [stack] = comparison.stacks;
    expect(stack.replaced.map((r) => [r.logicalId, r.kind, r.replacedBy.map((p) => p.name)])).toEqual([
      ['Access', 'replaced', ['GroupDescription']], ['Primary', 'replaced', ['DBInstanceIdentifier']], ['Replica', 'may-replace', ['Engine']],
    ]);
    expect(stack.modified.map((r) => [r.logicalId, r.changed])).toEqual([['Resized', ['AllocatedStorage']]]);
    const risks = findStatefulRisks(comparison);
    expect(risks.map((r) => [r.logicalId, r.action])).toEqual([['Primary', 'replace'], ['Replica', 'may-replace']]);
    const report = renderGuard(applyAllowList(risks, [], '2026-01-01'), labels, 'allow.json');
    expect(report).toContain('Primary [AWS::RDS::DBInstance]: would be REPLACED; replacement forced by DBInstanceIdentifier ("orders" -> "orders-v2")');
    expect(report).toContain('Replica [AWS::RDS::DBInstance]: would possibly be REPLACED (conditional); replacement forced by Engine ("postgres" -> "mysql")');
    expect(report).toContain('2 stateful resources would be replaced or deleted');
  });

  it('treats a type change of a stateful resource as a replacement', () => {
    const base = assembly([{ stage: 'production', stackName: 'platform-production-vault', resources: { Storage: { Type: 'AWS::DynamoDB::Table' } } }]);
    const head = assembly([{ stage: 'production', stackName: 'platform-production-vault', resources: { Storage: { Type: 'AWS::DynamoDB::GlobalTable' } } }]);
    expect(findStatefulRisks(compareTrees(base, head)))
      .toEqual([expect.objectContaining({ logicalId: 'Storage', action: 'replace', replacedBy: [{ name: 'Type', oldValue: 'AWS::DynamoDB::Table', newValue: 'AWS::DynamoDB::GlobalTable' }] })]);
  });

  it('fails on removing a retained resource too, and says it is orphaned', () => {
    const base = assembly([{ stage: 'production', stackName: 'platform-production-observability', resources: {
      Audit: { Type: 'AWS::Logs::LogGroup', DeletionPolicy: 'Retain' }, Key: { Type: 'AWS::KMS::Key', DeletionPolicy: 'Retain' },
    } }]);
    const head = assembly([{ stage: 'production', stackName: 'platform-production-observability', resources: { Key: { Type: 'AWS::KMS::Key', DeletionPolicy: 'Retain' } } }]);
    const comparison = compareTrees(base, head);
    const report = renderGuard(applyAllowList(findStatefulRisks(comparison), [], '2026-01-01'), labels, 'allow.json');
    expect(report).toContain('Audit [AWS::Logs::LogGroup]: would be DELETED from the stack (DeletionPolicy Retain: orphaned, a redeploy creates a new, empty one)');
    expect(renderText(comparison, labels)).toContain('[-] AWS::Logs::LogGroup Audit [STATEFUL] (DeletionPolicy Retain: orphaned, not deleted)');
  });

  it('passes with exit-0 wording when nothing stateful is touched, and diffs added and removed manifests', () => {
    const stacks = [{ stage: 'production', stackName: 'platform-production-edge', resources: { Queue: { Type: 'AWS::SQS::Queue' } } }];
    const comparison = compareTrees(
      assembly(stacks, { 'production/old.k8s.yaml': 'a: 1\n', 'production/same.k8s.yaml': 'x: 1\n' }),
      assembly(stacks, { 'production/new.k8s.yaml': 'b: 2\n', 'production/same.k8s.yaml': 'x: 1\n' }),
    );
    expect(comparison.manifests.map((m) => [m.file, m.status])).toEqual([['production/new.k8s.yaml', 'added'], ['production/old.k8s.yaml', 'removed']]);
    expect(comparison.manifests[0].unified).toBe('--- /dev/null\n+++ b/production/new.k8s.yaml\n@@ -0,0 +1,1 @@\n+b: 2\n');
    expect(comparison.manifests[1].unified).toBe('--- a/production/old.k8s.yaml\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-a: 1\n');
    expect(renderGuard(applyAllowList(findStatefulRisks(comparison), [], '2026-01-01'), labels, 'allow.json'))
      .toBe('Stateful-replacement guard: base -> head\nOK: no stateful resource would be replaced or deleted.\n');
    expect(renderMarkdown(comparison, labels)).toContain('Unchanged: `platform-production-edge`');
  });
});

describe('the Markdown for a pull-request comment', () => {
  const stacks = (size: number) => Array.from({ length: 6 }, (_, i) => ({
    stage: i % 2 ? 'staging' : 'production', stackName: `platform-${i % 2 ? 'staging' : 'production'}-layer${i}`,
    resources: Object.fromEntries(Array.from({ length: size }, (__, j) => [`Queue${j}`, { Type: 'AWS::SQS::Queue', Properties: { DelaySeconds: j } }])),
  }));
  const comparison = compareTrees(assembly(stacks(1)), assembly(stacks(40)));

  it('has a summary table and a collapsible section per stack', () => {
    const markdown = renderMarkdown(comparison, labels);
    expect(markdown).toContain('| Environment | Stack | Added | Removed | Replaced | Modified | IAM | Security groups |');
    expect(markdown).toContain('| production | `platform-production-layer0` | 39 | 0 | 0 | 0 |   |   |');
    expect(markdown.match(/<details><summary><b>platform-/g)).toHaveLength(6);
    expect(markdown).toContain('<details><summary>Full template diff</summary>');
    expect(markdown.split('<details').length).toBe(markdown.split('</details>').length);
  });

  it('fits the budget: full template diffs go first, then whole sections from the end, named in a note', () => {
    const full = renderMarkdown(comparison, labels);
    const budget = Math.floor(full.length / 2);
    const cut = renderMarkdown(comparison, labels, budget);
    expect(cut.length).toBeLessThanOrEqual(budget);
    expect(cut).not.toContain('<details><summary>Full template diff</summary>');
    expect(cut).toContain('_Full template diffs left out to fit a comment');
    expect(cut).not.toContain('### staging');
    expect(cut).toContain('| staging | `platform-staging-layer5` |');
    expect(cut).toMatch(/_Left out to fit a comment: .*`platform-staging-layer5`/);
    expect(cut.split('<details').length).toBe(cut.split('</details>').length);
  });
});

describe('the allow-list', () => {
  const risks = findStatefulRisks(compareTrees(
    assembly([{ stage: 'production', stackName: 'platform-production-data', resources: { Database: db({ DBInstanceIdentifier: 'a' }) } }]),
    assembly([{ stage: 'production', stackName: 'platform-production-data', resources: { Database: db({ DBInstanceIdentifier: 'b' }) } }]),
  ));

  it('matches by stack name or construct path and logical id, valid through its expiry day', () => {
    const entry: AllowEntry = { stack: 'production/data', logicalId: 'Database', reason: 'rename approved in CHG-1', expires: '2026-03-01' };
    expect(applyAllowList(risks, [entry], '2026-03-01').allowed).toHaveLength(1);
    const expired = applyAllowList(risks, [entry], '2026-03-02');
    expect(expired.blocked).toEqual([{ risk: risks[0], expired: entry }]);
    expect(renderGuard(expired, labels, 'allow.json')).toContain('(allow-list entry expired on 2026-03-01)');
    const other = { stack: 'platform-production-data', logicalId: 'Other', reason: 'old' };
    const result = applyAllowList(risks, [other, { ...entry, stack: 'platform-production-data', expires: undefined }], '2030-01-01');
    expect(result.blocked).toEqual([]);
    const report = renderGuard(result, labels, 'allow.json');
    expect(report).toContain('ALLOWED platform-production-data (production/data) Database [AWS::RDS::DBInstance]: would be REPLACED');
    expect(report).toContain('by allow.json entry 1 (stack platform-production-data, logicalId Database): rename approved in CHG-1');
    expect(report).toContain('note: allow.json entry 0 (stack platform-production-data, logicalId Other) matched nothing');
  });

  it('is validated: every entry needs stack, logicalId and a non-empty reason; errors name the entry and field', () => {
    const write = (content: string) => {
      const file = path.join(work, `allow-${counter++}.json`);
      fs.writeFileSync(file, content);
      return file;
    };
    expect(loadAllowList(path.join(work, 'absent.json'))).toEqual([]);
    expect(loadAllowList(write('[{"stack":"s","logicalId":"L","reason":"why","expires":"2026-12-31"}]'))).toHaveLength(1);
    expect(() => loadAllowList(write('[{"stack":"s","logicalId":"L","reason":"  "}]'))).toThrow(/entry 0\.reason: must give the reviewed reason/);
    expect(() => loadAllowList(write('[{"stack":"s","logicalId":"L"}]'))).toThrow(/entry 0\.reason/);
    expect(() => loadAllowList(write('[{"stack":"s","logicalId":"L","reason":"r","expires":"2026-02-30"}]'))).toThrow(/entry 0\.expires: is not a calendar date/);
    expect(() => loadAllowList(write('[{"stack":"s","logicalId":"L","reason":"r","expires":"soon"}]'))).toThrow(/entry 0\.expires: must be a date YYYY-MM-DD/);
    expect(() => loadAllowList(write('[{"stack":"s","logicalId":"L","reason":"r","logicalID":"x"}]'))).toThrow(/entry 0: Unrecognized key/);
    expect(() => loadAllowList(write('{"stack":"s"}'))).toThrow(AllowListError);
    expect(() => loadAllowList(write('[,'))).toThrow(/not valid JSON/);
  });

  it("this repository's list parses, and no exception in it stands for ever", () => {
    const entries = loadAllowList(path.join(__dirname, '..', '..', 'review', 'replacements-allowed.json'));
    for (const entry of entries) expect(entry.expires).toEqual(expect.any(String));
  });
});

describe('line diff', () => {
  /** Applies a unified diff to a text, as `patch` would. */
  function applyPatch(oldText: string, patch: string): string {
    const old = oldText === '' ? [] : oldText.replace(/\n$/, '').split('\n');
    const out: string[] = [];
    let at = 0;
    for (const hunk of patch.split('\n').slice(2).join('\n').split(/^@@ /m).slice(1)) {
      const [header, ...body] = hunk.replace(/\n$/, '').split('\n');
      const [, start, count] = /^-(\d+),(\d+)/.exec(header)!.map(Number);
      const from = count === 0 ? start : start - 1;
      out.push(...old.slice(at, from));
      at = from;
      for (const line of body) {
        if (line[0] === ' ') { expect(old[at]).toBe(line.slice(1)); out.push(old[at++]); }
        if (line[0] === '-') { expect(old[at]).toBe(line.slice(1)); at++; }
        if (line[0] === '+') out.push(line.slice(1));
      }
    }
    out.push(...old.slice(at));
    return out.length ? `${out.join('\n')}\n` : '';
  }

  const lcs = (a: string[], b: string[]) => {
    const t = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
    for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) t[i][j] = a[i] === b[j] ? t[i + 1][j + 1] + 1 : Math.max(t[i + 1][j], t[i][j + 1]);
    return t[0][0];
  };

  it('finds a shortest edit script (checked against LCS on pseudo-random inputs) that patches old into new', () => {
    let seed = 42;
    const random = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
    for (let round = 0; round < 300; round++) {
      const make = () => Array.from({ length: Math.floor(random() * 30) }, () => 'abcde'[Math.floor(random() * 5)]);
      const a = make();
      const b = make();
      const edits = diffLines(a, b);
      expect(edits.filter((e) => e.op !== '+').map((e) => e.line)).toEqual(a);
      expect(edits.filter((e) => e.op !== '-').map((e) => e.line)).toEqual(b);
      expect(edits.filter((e) => e.op !== ' ').length).toBe(a.length + b.length - 2 * lcs(a, b));
      const oldText = a.map((l) => `${l}\n`).join('');
      const newText = b.map((l) => `${l}\n`).join('');
      expect(applyPatch(oldText, unifiedDiff(oldText, newText, 'a', 'b', round % 4))).toBe(newText);
    }
  });

  it('renders hunks like diff -u: 3 lines of context, nearby changes merged, distant ones split', () => {
    const lines = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`);
    const changed = lines.map((l, i) => (i === 4 ? 'LINE 5' : i === 7 ? 'LINE 8' : i === 25 ? 'LINE 26' : l));
    const ours = unifiedDiff(`${lines.join('\n')}\n`, `${changed.join('\n')}\n`, 'a/x', 'b/x');
    expect(ours).toBe([
      '--- a/x', '+++ b/x',
      '@@ -2,10 +2,10 @@', ' line 2', ' line 3', ' line 4', '-line 5', '+LINE 5', ' line 6', ' line 7', '-line 8', '+LINE 8', ' line 9', ' line 10', ' line 11',
      '@@ -23,7 +23,7 @@', ' line 23', ' line 24', ' line 25', '-line 26', '+LINE 26', ' line 27', ' line 28', ' line 29', '',
    ].join('\n'));
    // The same hunks as GNU diff, where it is installed.
    const a = path.join(work, 'a.txt');
    const b = path.join(work, 'b.txt');
    fs.writeFileSync(a, `${lines.join('\n')}\n`);
    fs.writeFileSync(b, `${changed.join('\n')}\n`);
    let gnu: string | undefined;
    try { execFileSync('diff', ['-u', a, b], { encoding: 'utf8' }); } catch (error) { gnu = (error as { stdout?: string }).stdout; }
    if (gnu) expect(ours.split('\n').slice(2)).toEqual(gnu.split('\n').slice(2));
    expect(unifiedDiff('same\n', 'same\n', 'a', 'b')).toBe('');
  });
});

describe('node_modules for the base checkout', () => {
  function tree(name: string, lock: string | undefined) {
    const dir = path.join(work, name);
    fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
    if (lock !== undefined) fs.writeFileSync(path.join(dir, 'package-lock.json'), lock);
    return dir;
  }

  it('links the working tree node_modules when package-lock.json is identical, else installs once per lock file into the cache', () => {
    const head = tree('nm-head', '{"lockfileVersion":3}\n');
    const same = path.join(work, 'nm-same');
    fs.mkdirSync(same);
    fs.writeFileSync(path.join(same, 'package-lock.json'), '{"lockfileVersion":3}\n');
    const installs: string[] = [];
    const log: string[] = [];
    // The injected installer stands for `npm ci`: it sees the lock file and leaves a node_modules.
    const install = (dir: string) => {
      installs.push(fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8'));
      fs.mkdirSync(path.join(dir, 'node_modules', 'left-pad'), { recursive: true });
    };
    expect(provideNodeModules(same, head, install, (m) => log.push(m))).toBe('symlink');
    expect(fs.realpathSync(path.join(same, 'node_modules'))).toBe(fs.realpathSync(path.join(head, 'node_modules')));

    const otherLock = '{"lockfileVersion":3,"packages":{}}\n';
    const checkout = (name: string) => {
      const dir = path.join(work, name);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'package-lock.json'), otherLock);
      fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"base"}\n');
      return dir;
    };
    const first = checkout('nm-other-1');
    expect(provideNodeModules(first, head, install, (m) => log.push(m))).toBe('install');
    const hash = lockfileHash(first);
    const cached = path.join(head, '.cache', 'review', 'deps', hash, 'node_modules');
    expect(fs.realpathSync(path.join(first, 'node_modules'))).toBe(fs.realpathSync(cached));
    expect(fs.existsSync(path.join(first, 'node_modules', 'left-pad'))).toBe(true);
    // Announced before it started, with the lock file and where it goes.
    expect(log[0]).toBe(`installing the base's dependencies (lockfile ${hash}, differs from the working tree's; once: cached in .cache/review/deps/${hash}) ...`);
    expect(log[1]).toMatch(/^installed the base's dependencies in \d+ s$/);

    // A second checkout of the same lock file (a later run, another command): no install.
    const second = checkout('nm-other-2');
    expect(provideNodeModules(second, head, install, (m) => log.push(m))).toBe('cached');
    expect(installs).toEqual([otherLock]);
    expect(fs.realpathSync(path.join(second, 'node_modules'))).toBe(fs.realpathSync(cached));
    expect(log[2]).toBe(`the base's dependencies (lockfile ${hash}) are cached in .cache/review/deps/${hash}`);
    expect(fs.readdirSync(path.dirname(path.dirname(cached)))).toEqual([hash]);
  });

  it('leaves nothing in the cache when the install fails', () => {
    const head = tree('nm-fail-head', '{"lockfileVersion":3}\n');
    const base = tree('nm-fail-base', '{"lockfileVersion":3,"name":"x"}\n');
    fs.rmSync(path.join(base, 'node_modules'), { recursive: true });
    expect(() => provideNodeModules(base, head, () => { throw new Error('registry unreachable'); })).toThrow('registry unreachable');
    expect(fs.readdirSync(path.join(head, '.cache', 'review', 'deps'))).toEqual([]);
  });

  it('keys a synth by commit, lock file and the PLATFORM_/CDK_ environment the app reads', () => {
    const key = synthKey('a'.repeat(40), 'abc', { PLATFORM_STAGING_ACCOUNT: '1', HOME: '/x' });
    expect(key).toMatch(/^a{12}-abc-[0-9a-f]{8}$/);
    expect(synthKey('a'.repeat(40), 'abc', { PLATFORM_STAGING_ACCOUNT: '1', HOME: '/y' })).toBe(key);
    expect(synthKey('a'.repeat(40), 'abc', { PLATFORM_STAGING_ACCOUNT: '2' })).not.toBe(key);
    expect(synthKey('a'.repeat(40), 'abd', { PLATFORM_STAGING_ACCOUNT: '1' })).not.toBe(key);
  });
});

describe('cross-stack references in the tables and lines', () => {
  // The shapes a real synth writes: a consumer role reading topics of another stack's MSK cluster
  // (a cross-region reference, Fn::GetStackOutput, cut up with Fn::Select/Fn::Split), and a group
  // admitting the other stack's security group. Before: 1,400-character escaped JSON cells.
  const output = (stack: string, name: string) => ({ 'Fn::GetStackOutput': { StackName: stack, Region: 'us-east-1', OutputName: name } });
  const cluster = output('platform-production-messaging', 'PublishOutputFnGetAttKafkaCluster21A1BE89ArnDDB38E7D');
  const parts = [0, 1, 2].map((i) => ({ 'Fn::Select': [i, { 'Fn::Split': ['/', cluster] }] }));
  const topic = (name: string) => ({ 'Fn::Join': ['', ['arn:aws:kafka:us-east-1:111111111111:topic/', { 'Fn::Select': [1, parts] }, '/', { 'Fn::Select': [2, parts] }, `/${name}`]] });
  const topics = ['order.created', 'order.cancelled', 'payment.captured', 'payment.refunded', 'inventory.reserved', 'inventory.released'];
  const consumer: Resources = {
    ConsumerRoleA1B2C3D4: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: { Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }] } } },
    ConsumerPolicyE5F6A7B8: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        PolicyName: 'consumer', Roles: [{ Ref: 'ConsumerRoleA1B2C3D4' }],
        PolicyDocument: {
          Statement: [
            { Effect: 'Allow', Action: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'], Resource: cluster },
            { Effect: 'Allow', Action: ['kafka-cluster:ReadData', 'kafka-cluster:DescribeTopic'], Resource: topics.map(topic) },
            {
              Effect: 'Allow', Action: 'kms:Decrypt', Resource: output('platform-production-messaging', 'PublishOutputFnGetAttKafkaKeyB520D703Arn0C2A1E55'),
              Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'kafka.${AWS::Region}.amazonaws.com' } } },
            },
          ],
        },
      },
    },
    ConsumerGroup11223344: { Type: 'AWS::EC2::SecurityGroup', Properties: { GroupDescription: 'consumer', VpcId: output('platform-production-network', 'PublishOutputRefNetworkVpc7FB7348F0A8D3E1C') } },
    ConsumerToBrokers55667788: {
      Type: 'AWS::EC2::SecurityGroupIngress',
      Properties: {
        GroupId: output('platform-production-messaging', 'PublishOutputFnGetAttKafkaGroup9A8B7C6DGroupId4E3F2A1B'), IpProtocol: 'tcp', FromPort: 9098, ToPort: 9098,
        SourceSecurityGroupId: { 'Fn::GetAtt': ['ConsumerGroup11223344', 'GroupId'] },
      },
    },
  };
  const stacks = (resources: Resources) => [{ stage: 'production', stackName: 'platform-production-orders', resources }];

  it('shows every reference as what it points to, in lines under 200 characters, text (also --full) and Markdown', () => {
    const comparison = compareTrees(assembly(stacks({ Placeholder: { Type: 'AWS::SQS::Queue' } })), assembly(stacks(consumer)));
    const outputs = {
      text: renderText(comparison, labels),
      full: renderText(comparison, labels, { full: true }),
      narrow: renderText(comparison, labels, { columns: 100 }),
      markdown: renderMarkdown(comparison, labels),
    };
    for (const [name, out] of Object.entries(outputs)) {
      expect({ name, fn: out.match(/Fn::|\\"/g) ?? [] }).toEqual({ name, fn: [] });
      const long = out.split('\n').filter((line) => line.length >= 200);
      expect({ name, long }).toEqual({ name, long: [] });
    }
    expect(outputs.narrow.split('\n').every((line) => line.length <= 100)).toBe(true);
    // The ARN column gets the room (the others keep their width); its cells wrap after a separator.
    const wide = outputs.text;
    // A cell wrapped over several lines of its row, read back whole.
    const resources = wide.split(/\n\s*[├└]/).map((row) => row.split('\n').map((line) => line.split('│')[2]?.trim() ?? '').join(''));
    expect(resources.join('\n')).toContain('arn:aws:kafka:us-east-1:111111111111:topic/<platform-production-messaging>.KafkaCluster.Arn.split("/")[1..2]/order.created');
    expect(wide).toMatch(/│ \+ │ <platform-production-messaging>\.KafkaCluster\.Arn\s+│ Allow\s+│ kafka-cluster:Connect/);
    expect(wide).toContain('AWS:<ConsumerRoleA1B2C3D4>');
    expect(wide).toContain('"kms:ViaService": "kafka.<AWS::Region>.amazonaws.');
    expect(wide).toMatch(/│ \+ │ <platform-production-messaging>\.KafkaGroup\.GroupId\s+│ In\s+│ TCP 9098\s+│ <ConsumerGroup11223344>\.GroupId/);
    // Too wide for Markdown rows, the IAM table is the terminal's, in a code block; outside code
    // blocks angle brackets are escaped (else they read as HTML tags and vanish).
    const segments = outputs.markdown.split(/^`{3,}.*$/m);
    const code = segments.filter((_, i) => i % 2 === 1).join('\n');
    const prose = segments.filter((_, i) => i % 2 === 0).join('\n');
    expect(code).toContain('│ + │ <platform-production-messaging>.KafkaCluster.Arn');
    expect(prose).toContain('| + | &lt;platform-production-messaging&gt;.KafkaGroup.GroupId | In | TCP 9098 | &lt;ConsumerGroup11223344&gt;.GroupId |');
    expect(prose).not.toMatch(/(?<!`)<(platform-|Consumer)/);
  });

  it('renders a replacement forced by a changed reference as the references, not JSON', () => {
    const before = { Db: db({ DBSubnetGroupName: output('platform-production-network', 'PublishOutputRefSubnetsA1B2C3D4E5F6A7B8') }) };
    const after = { Db: db({ DBSubnetGroupName: { Ref: 'LocalSubnets' } }) };
    const comparison = compareTrees(assembly(stacks(before)), assembly(stacks(after)));
    expect(renderText(comparison, labels)).toContain('forced by DBSubnetGroupName ("<platform-production-network>.Subnets" -> "<LocalSubnets>")');
    // In a code span the brackets stay as they are (an entity there would show as `&lt;`).
    expect(renderMarkdown(comparison, labels)).toContain('forced by `DBSubnetGroupName`: `"<platform-production-network>.Subnets"` → `"<LocalSubnets>"`');
  });
});
