/**
 * The main job itself: `cdk synth` through the real CLI (as `npm run synth` runs it), offline,
 * twice, and the chart rendering twice. Proves no lookups and byte-identical output.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { renderCharts } from '../../charts/main';
import { ENVIRONMENT_NAMES, loadPlatformSpec } from '../../lib/spec';
import { summariseAssembly } from '../../scripts/synth-summary';

const root = path.join(__dirname, '..', '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'platform-synth-test-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** The CLI with no AWS configuration at all: no credentials, no profile, no region. */
function cdkSynth(outdir: string): string {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, HOME: fs.mkdtempSync(path.join(work, 'home-')),
    CDK_DISABLE_VERSION_CHECK: 'true', CDK_DISABLE_CLI_TELEMETRY: 'true',
    AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
  return execFileSync(process.execPath, [path.join(root, 'node_modules', 'aws-cdk', 'bin', 'cdk'), 'synth', '--quiet', '-o', outdir], {
    cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Every file under dir (tree.json aside: it records construct metadata, not deployables) with its sha256. */
function digest(dir: string): Record<string, string> {
  const files = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => fs.statSync(path.join(dir, file)).isFile() && path.basename(file) !== 'tree.json')
    .sort();
  return Object.fromEntries(files.map((file) => [file, createHash('sha256').update(fs.readFileSync(path.join(dir, file))).digest('hex')]));
}

const first = path.join(work, 'cdk.out.1');
const second = path.join(work, 'cdk.out.2');

beforeAll(() => {
  cdkSynth(first);
  cdkSynth(second);
});

describe('npx cdk synth', () => {
  it('synthesizes every layer of every environment with no context lookup', () => {
    const { stacks, missing } = summariseAssembly(first);
    expect(missing).toBe(0);
    // Every environment has the same layers, each named platform-<env>-<layer>.
    const layersOf = (env: string) => stacks.filter((s) => s.environment === env)
      .map((s) => s.stack.replace(`platform-${env}-`, '')).sort();
    expect([...new Set(stacks.map((s) => s.environment))].sort()).toEqual([...ENVIRONMENT_NAMES].sort());
    for (const env of ENVIRONMENT_NAMES) {
      expect(layersOf(env)).toEqual(layersOf(ENVIRONMENT_NAMES[0]));
      expect(layersOf(env)).toEqual(expect.arrayContaining(['network', 'cluster']));
      for (const stack of stacks.filter((s) => s.environment === env)) expect(stack.stack).toMatch(`platform-${env}-`);
    }
    for (const stack of stacks) expect(stack.resources).toBeGreaterThan(0);
  });

  it('writes no placeholder values from a lookup into any template', () => {
    for (const [file] of Object.entries(digest(first)).filter(([f]) => f.endsWith('.template.json'))) {
      expect(fs.readFileSync(path.join(first, file), 'utf8')).not.toMatch(/dummy1a|dummy-value/);
    }
  });

  it('is deterministic: two synths are byte-identical', () => {
    const a = digest(first);
    const b = digest(second);
    expect(Object.keys(a).length).toBeGreaterThan(10);
    expect(b).toEqual(a);
  });
});

describe('chart rendering', () => {
  it('writes every chart of every environment to dist/<env>/, identically twice', () => {
    const spec = loadPlatformSpec();
    const written = renderCharts(spec, path.join(work, 'dist.1'));
    renderCharts(spec, path.join(work, 'dist.2'));
    expect(written.map((f) => path.relative(path.join(work, 'dist.1'), f)).sort())
      .toEqual(ENVIRONMENT_NAMES.map((env) => `${env}/namespaces.k8s.yaml`).sort());
    expect(digest(path.join(work, 'dist.2'))).toEqual(digest(path.join(work, 'dist.1')));
  });
});
