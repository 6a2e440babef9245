import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { diffReports, estimateAssembly } from '../../scripts/cost/assembly';
import { parseArgs, runCost } from '../../scripts/cost/main';
import { PRICES } from '../../scripts/cost/prices';
import { synthesizeRef } from '../../scripts/cost/synth-base';

const root = path.join(__dirname, '..', '..');
const fixtures = path.join(__dirname, 'fixtures');
const head = path.join(fixtures, 'head');
const base = path.join(fixtures, 'base');

describe('--base delta on two fixture assemblies', () => {
  const delta = diffReports(estimateAssembly(base, PRICES), estimateAssembly(head, PRICES), 'origin/main');

  test('per environment and stack; stacks new at head count from $0', () => {
    expect(delta.base).toBe('origin/main');
    expect(delta.total).toEqual({ base: 1555.52, head: 4507.39, delta: 2951.87 });
    const production = delta.environments.find((e) => e.name === 'production');
    expect(production).toMatchObject({ base: 1259.28, head: 4211.15, delta: 2951.87 });
    expect(production?.stacks).toEqual([
      // 10 instead of 8 x m5.xlarge: 2 x 0.192 x 730 = 280.32, plus 2 x 100 GiB gp3 = 16.00
      { stack: 'platform-production-cluster', base: 1259.28, head: 1555.60, delta: 296.32 },
      { stack: 'platform-production-data', base: null, head: 2192.45, delta: 2192.45 },
      { stack: 'platform-production-edge', base: null, head: 463.10, delta: 463.10 },
    ]);
    expect(delta.environments.find((e) => e.name === 'staging')).toMatchObject({ base: 296.24, head: 296.24, delta: 0 });
  });

  test('a stack removed at head shows a negative change', () => {
    const reverse = diffReports(estimateAssembly(head, PRICES), estimateAssembly(base, PRICES), 'x');
    expect(reverse.environments[0].stacks.find((s) => s.stack === 'platform-production-edge')).toEqual({
      stack: 'platform-production-edge', base: 463.10, head: null, delta: -463.10,
    });
  });
});

describe('the CLI', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cost-cli-test-'));
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  test('parses its arguments and rejects unknown ones', () => {
    expect(parseArgs(['--base', 'origin/main', '--markdown', 'cost.md', '--json'])).toEqual({
      assembly: 'cdk.out', base: 'origin/main', markdown: 'cost.md', json: true,
    });
    expect(() => parseArgs(['--base'])).toThrow('--base needs a value');
    expect(() => parseArgs(['--frobnicate'])).toThrow('unknown argument --frobnicate');
  });

  test('--json: report shape, with the delta when a base is given', async () => {
    const out = JSON.parse(await runCost({ assembly: head, baseAssembly: base, json: true }, root));
    expect(Object.keys(out).sort()).toEqual(['currency', 'delta', 'environments', 'hoursPerMonth', 'notEstimated', 'prices', 'total', 'unknown']);
    expect(out).toMatchObject({ currency: 'USD', hoursPerMonth: 730, total: 4507.39, unknown: 1, prices: { date: PRICES.date } });
    const stack = out.environments[0].stacks[0];
    expect(Object.keys(stack).sort()).toEqual(['environment', 'freeResources', 'items', 'monthly', 'region', 'stack', 'unknown', 'unknownTypes', 'usageOnly']);
    expect(Object.keys(stack.items[0]).sort()).toEqual(['description', 'logicalId', 'monthly', 'note', 'quantity', 'type', 'unit', 'unitPrice']);
    expect(out.delta.total).toEqual({ base: 1555.52, head: 4507.39, delta: 2951.87 });
    expect(out.notEstimated.join(' ')).toMatch(/CloudFront has no base fee/);
  });

  test('--markdown writes the PR comment body; stdout keeps the text report', async () => {
    const file = path.join(work, 'cost.md');
    const text = await runCost({ assembly: head, baseAssembly: base, markdown: file, json: false }, root);
    expect(text).toContain('production: $4,211.15/month + 1 unknown');
    expect(text).toContain('change against');
    const md = fs.readFileSync(file, 'utf8');
    expect(md).toContain('## Cost estimate');
    expect(md).toContain('**Change against `' + base + '`: +$2,951.87/month**');
    expect(md).toContain('| | platform-production-cluster | $1,259.28 | $1,555.60 | +$296.32 |');
    expect(md).toContain('- `AWS::OpenSearchService::Domain`: platform-production-edge/SearchDomain');
    expect(md).toMatch(/LCU usage not estimated/);
  });

  test('npm run cost runs end to end and fails clearly without an assembly', () => {
    const ok = spawnSync('npx', ['tsx', 'scripts/cost/main.ts', '--assembly', head, '--json'], { cwd: root, encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).total).toBe(4507.39);
    const missing = spawnSync('npx', ['tsx', 'scripts/cost/main.ts', '--assembly', path.join(work, 'nothing')], { cwd: root, encoding: 'utf8' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('run `npm run synth` first');
  });
});

describe('--base synthesizes a git ref in a temporary worktree (scripts/review/synth-trees.ts)', () => {
  // A throwaway repository whose "app" writes a one-stack assembly sized from cdk.json's context,
  // so the test proves: worktree at the ref, node_modules linked, CDK_OUTDIR and CDK_CONTEXT_JSON.
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'cost-base-repo-'));
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-C', repo, ...args], { stdio: 'pipe' });
  const app = `
const fs = require('node:fs'); const path = require('node:path');
const out = process.env.CDK_OUTDIR; const nodes = JSON.parse(process.env.CDK_CONTEXT_JSON).nodes;
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify({ artifacts: { S: { type: 'aws:cloudformation:stack',
  environment: 'aws://1/us-east-1', properties: { templateFile: 'S.template.json', stackName: 's' } } } }));
fs.writeFileSync(path.join(out, 'S.template.json'), JSON.stringify({ Resources: { N: { Type: 'AWS::EKS::Nodegroup',
  Properties: { InstanceTypes: ['m5.large'], ScalingConfig: { DesiredSize: nodes }, DiskSize: 20 } } } }));
`;
  afterAll(() => fs.rmSync(repo, { recursive: true, force: true }));

  test('estimates the ref, not the working tree, removes the worktree, and reuses the cached synth on the next run', async () => {
    fs.mkdirSync(path.join(repo, 'bin'));
    fs.writeFileSync(path.join(repo, 'bin', 'platform.ts'), app);
    fs.copyFileSync(path.join(root, 'package-lock.json'), path.join(repo, 'package-lock.json'));
    fs.writeFileSync(path.join(repo, 'cdk.json'), JSON.stringify({ app: 'npx tsx bin/platform.ts', context: { nodes: 2 } }));
    fs.writeFileSync(path.join(repo, '.gitignore'), 'node_modules\n');
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(repo, 'node_modules'), 'dir');
    git('init', '-q');
    git('add', '.');
    git('commit', '-q', '-m', 'base');
    fs.writeFileSync(path.join(repo, 'cdk.json'), JSON.stringify({ app: 'npx tsx bin/platform.ts', context: { nodes: 5 } })); // uncommitted

    const synth = await synthesizeRef(repo, 'HEAD');
    try {
      const report = estimateAssembly(synth.outdir, PRICES);
      expect(report.environments[0].stacks[0].items[0]).toMatchObject({ quantity: 2, monthly: 140.16 }); // 2 x 0.096 x 730
      expect(synth.commit).toMatch(/^[0-9a-f]{40}$/);
    } finally {
      synth.cleanup();
    }
    expect(synth.cached).toBe(false);
    expect(path.relative(repo, synth.outdir)).toMatch(/^\.cache\/review\/synth\/[0-9a-f]{12}-[0-9a-f]{12}-[0-9a-f]{8}\/cdk\.out$/);
    const again = await synthesizeRef(repo, 'HEAD');
    expect(again).toMatchObject({ cached: true, outdir: synth.outdir, commit: synth.commit });
    expect(execFileSync('git', ['-C', repo, 'worktree', 'list'], { encoding: 'utf8' }).trim().split('\n')).toHaveLength(1);
  });
});
