/**
 * The generated regions of README.md and docs/*.md against a fresh synth of this repository (one
 * per file, as `npm run diff` synthesizes a tree): the checked-in text is what `npm run docs`
 * writes, a changed spec value changes the text, and `npm run docs -- --check` names each stale
 * region and exits non-zero.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadPlatformSpec } from '../../lib/spec';
import { platformSpecData } from '../../lib/spec/platform';
import { estimateAssembly } from '../../scripts/cost/assembly';
import type { CostReport } from '../../scripts/cost/assembly';
import { PRICES } from '../../scripts/cost/prices';
import { docFiles, EXCLUDED_FILES, generateDocs, humanDuration, REGIONS, renderedAutoscaling } from '../../scripts/docs/generate';
import type { DocsInputs } from '../../scripts/docs/generate';
import { findRegions } from '../../scripts/docs/regions';
import { synthTree } from '../../scripts/review/synth-trees';

const ROOT = path.join(__dirname, '..', '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'docs-test-'));
const spec = loadPlatformSpec();
let cdkOut: string;
let cost: CostReport;
let inputs: DocsInputs;

beforeAll(async () => {
  cdkOut = (await synthTree(ROOT, path.join(work, 'out'))).cdkOut;
  cost = estimateAssembly(cdkOut, PRICES);
  inputs = { spec, autoscaling: renderedAutoscaling(spec), cost };
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

type SpecData = typeof platformSpecData;
const mutable = () => structuredClone(platformSpecData) as { -readonly [K in keyof SpecData]: any };
const regionIn = (text: string, name: string) => findRegions(text).find((r) => r.name === name)?.body;

describe('the checked-in documentation', () => {
  it('is what `npm run docs` generates from this commit', () => {
    const stale = generateDocs(ROOT, inputs).flatMap((r) => r.stale.map((name) => `${r.file} generated:${name}`));
    expect(stale).toEqual([]);
  });

  it('uses every generator, and only in the files the generator owns', () => {
    const used = new Set(docFiles(ROOT).flatMap((f) => findRegions(fs.readFileSync(path.join(ROOT, f), 'utf8'), f).map((r) => r.name)));
    expect([...used].sort()).toEqual(Object.keys(REGIONS).sort());
    expect(docFiles(ROOT)).toEqual(expect.arrayContaining(['README.md', 'docs/cost.md', 'docs/workloads.md', 'docs/data-tier.md']));
    for (const excluded of EXCLUDED_FILES) expect(docFiles(ROOT)).not.toContain(excluded);
  });

  it('generates the same bytes twice', () => {
    const again = generateDocs(ROOT, { spec, autoscaling: renderedAutoscaling(spec), cost: estimateAssembly(cdkOut, PRICES) });
    expect(again.map((r) => r.generated)).toEqual(generateDocs(ROOT, inputs).map((r) => r.generated));
  });

  it('reads the stacks and the cost from the assembly: every stack, the totals of the estimator', () => {
    const readme = generateDocs(ROOT, inputs).find((r) => r.file === 'README.md')!.generated;
    const stacks = regionIn(readme, 'stacks')!;
    for (const env of cost.environments) {
      expect(env.stacks.length).toBeGreaterThan(10);
      for (const s of env.stacks) expect(stacks).toContain(`\`${s.stack}\``);
      expect(stacks).toContain(`| ${env.name} | ${env.stacks.length} |`);
    }
    const money = cost.total.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    expect(regionIn(readme, 'cost')).toContain(`| total | $${money} |`);
  });
});

describe('a changed spec value changes the generated text', () => {
  it('node count, read replicas, the DR target and the cache engine each reach their region, and only theirs', () => {
    const data = mutable();
    data.environments.production.cluster.nodeGroup.nodes = 12;
    data.environments.staging.database.readReplicas = 1;
    data.disasterRecovery.database.rto = 'PT2H';
    data.dataTier.redis.engine = 'redis';
    data.dataTier.redis.engineVersion = '7.1';
    const changed = loadPlatformSpec({ data });
    const results = generateDocs(ROOT, { spec: changed, autoscaling: renderedAutoscaling(changed), cost });
    const readme = results.find((r) => r.file === 'README.md')!;

    expect(readme.stale.sort()).toEqual(['architecture-diagram', 'data-tier', 'dr-targets', 'node-groups', 'ports'].sort());
    expect(regionIn(readme.generated, 'node-groups')).toContain('| production | us-east-1 | 1.35 | 12 x m5.xlarge |');
    expect(regionIn(readme.generated, 'data-tier')).toContain('| staging | db.t4g.large Multi-AZ + 1 read replicas |');
    expect(regionIn(readme.generated, 'dr-targets')).toContain('| database | 1 h | 2 h | Automated snapshots |');
    expect(regionIn(readme.generated, 'architecture-diagram')).toContain('CACHE[(ElastiCache Redis OSS)]');
    expect(regionIn(readme.generated, 'architecture-diagram')).toContain('+ 2 or 1 read replicas');
    // The hand-written text around the regions is kept byte for byte.
    const outside = (text: string) => text.replace(/(<!-- generated:([a-z-]+) -->\n)[\s\S]*?(<!-- \/generated:\2 -->)/g, '$1$3');
    expect(outside(readme.generated)).toBe(outside(readme.current));
    expect(results.find((r) => r.file === 'docs/data-tier.md')!.stale.sort()).toEqual(['data-tier', 'dr-targets']);
  });

  it('durations read as an operator says them', () => {
    expect(['PT1H', 'PT4H', 'PT0S', 'PT30M', 'PT1H30M'].map(humanDuration)).toEqual(['1 h', '4 h', '0', '30 min', '1 h 30 min']);
  });
});

describe('npm run docs, on a copy of the documentation', () => {
  const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');
  const cli = path.join(ROOT, 'scripts', 'docs', 'main.ts');
  const run = (cwd: string, ...args: string[]) => spawnSync(tsx, [cli, ...args, '--assembly', cdkOut], { cwd, encoding: 'utf8' });

  it('--check names each stale region and exits 1; a run rewrites them; --check then passes', () => {
    const copy = path.join(work, 'copy');
    fs.mkdirSync(copy);
    fs.cpSync(path.join(ROOT, 'docs'), path.join(copy, 'docs'), { recursive: true });
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const cost = regionIn(readme, 'cost')!;
    const services = regionIn(readme, 'services')!;
    // A stale total, and a stale autoscaling bound, as a hand edit would leave them.
    fs.writeFileSync(path.join(copy, 'README.md'), readme.replace(cost, cost.replace(/\| total \| \$[0-9,.]+ \|/, '| total | $1.00 |'))
      .replace(services, services.replace('| 3-20 |', '| 3-25 |')));
    const workloads = path.join(copy, 'docs', 'workloads.md');
    fs.writeFileSync(workloads, fs.readFileSync(workloads, 'utf8').replace(/(<!-- generated:services -->\n)[\s\S]*?(<!-- \/generated:services -->)/, '$1$2'));

    const check = run(copy, '--check');
    expect(check.stderr).toBe('');
    expect(check.status).toBe(1);
    expect(check.stdout.split('\n').filter((l) => l.startsWith('stale:'))).toEqual([
      'stale: README.md generated:services',
      'stale: README.md generated:cost',
      'stale: docs/workloads.md generated:services',
    ]);

    const write = run(copy);
    expect(write.status).toBe(0);
    expect(write.stdout).toContain('updated: README.md (generated:services, generated:cost)');
    expect(fs.readFileSync(path.join(copy, 'README.md'), 'utf8')).toBe(readme);
    expect(fs.readFileSync(workloads, 'utf8')).toBe(fs.readFileSync(path.join(ROOT, 'docs', 'workloads.md'), 'utf8'));
    expect(run(copy, '--check').status).toBe(0);
  });

  it('without an assembly it says to synthesize first, exit 2', () => {
    const result = spawnSync(tsx, [cli, '--check', '--assembly', path.join(work, 'nothing')], { cwd: ROOT, encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/no cloud assembly at .*run `npm run synth` first/);
  });
});
