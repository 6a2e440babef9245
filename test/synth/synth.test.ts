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
import { chartEnvironments, ENVIRONMENT_NAMES, loadPlatformSpec } from '../../lib/spec';
import { failedValidations, summariseAssembly } from '../../scripts/synth-summary';

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

const VENV_BIN = path.join(root, '.cache', 'venv', 'bin');
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

  it('passes every validator the app registers (CloudFormation rules, cdk-nag packs)', () => {
    const report = JSON.parse(fs.readFileSync(path.join(first, 'validation-report.json'), 'utf8'));
    // Plugins with no finding leave no entry; CDK's own rules always report.
    expect(report.pluginReports.map((p: { pluginName: string }) => p.pluginName)).toContain('CloudFormation Validate');
    expect(failedValidations(first)).toEqual([]);
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

/** Runs a validator that prints JSON; exit code 1 means "findings", which the JSON lists. */
function runJsonTool(tool: string, args: string[]): unknown {
  try {
    return JSON.parse(execFileSync(path.join(VENV_BIN, tool), args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
  } catch (error) {
    const { status, stdout, stderr } = error as { status?: number; stdout?: string; stderr?: string };
    // cfn-lint exits with a bit mask of finding levels (2, 4, 8), checkov with 1: the JSON lists them.
    if (status !== undefined && status > 0 && status < 16 && stdout) return JSON.parse(stdout);
    throw new Error(`${tool} failed (exit ${status}): ${stderr}`, { cause: error });
  }
}

interface CheckovReport { check_type?: string; results?: { failed_checks: { check_id: string; check_name: string; resource: string; file_path: string }[] } }

function checkovFailures(dir: string, framework: string): string[] {
  const output = runJsonTool('checkov', ['-d', dir, '--framework', framework, '--skip-download', '--quiet', '--compact', '-o', 'json']);
  const reports = (Array.isArray(output) ? output : [output]) as CheckovReport[];
  return reports.flatMap((r) => r.results?.failed_checks ?? [])
    .map((f) => `${f.check_id} ${f.resource} (${f.file_path}): ${f.check_name}`);
}

describe('validators over the synthesized output', () => {
  it('cfn-lint finds nothing in any template', () => {
    const templates = Object.keys(digest(first)).filter((f) => f.endsWith('.template.json')).map((f) => path.join(first, f));
    expect(templates.length).toBeGreaterThan(0);
    const findings = runJsonTool('cfn-lint', ['--format', 'json', '--', ...templates]) as
      { Rule: { Id: string }; Filename: string; Location: { Path: (string | number)[] }; Message: string }[];
    expect(findings.map((f) => `${f.Rule.Id} ${path.basename(f.Filename)} ${f.Location.Path.join('/')}: ${f.Message}`)).toEqual([]);
  });

  it('checkov finds nothing unacknowledged in the CloudFormation templates', () => {
    expect(checkovFailures(first, 'cloudformation')).toEqual([]);
  });

  it('checkov finds nothing unacknowledged in the Kubernetes manifests', () => {
    const dist = path.join(work, 'dist.checkov');
    renderCharts(loadPlatformSpec(), dist);
    expect(checkovFailures(dist, 'kubernetes')).toEqual([]);
  });
});

describe('chart rendering', () => {
  it('writes every chart of every environment (the local one too) to dist/<env>/, identically twice', () => {
    const spec = loadPlatformSpec();
    const written = renderCharts(spec, path.join(work, 'dist.1'));
    renderCharts(spec, path.join(work, 'dist.2'));
    expect(written.map((f) => path.relative(path.join(work, 'dist.1'), f)).sort())
      .toEqual(chartEnvironments(spec).map((e) => e.name).flatMap((env) => ['namespaces', 'bindings', 'vault-auth', 'pki', 'pgbouncer', ...spec.services.map((s) => s.name)]
        .map((chart) => `${env}/${chart}.k8s.yaml`)).sort());
    expect(digest(path.join(work, 'dist.2'))).toEqual(digest(path.join(work, 'dist.1')));
  });
});
