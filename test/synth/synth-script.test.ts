/**
 * `npm run synth` as a person runs it (scripts/synth.sh): its arguments reach the CDK app and
 * the chart renderer, and a failed synth keeps the last good output instead of deleting it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chartEnvironments, loadPlatformSpec } from '../../lib/spec';

const root = path.join(__dirname, '..', '..');
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'platform-synth-script-'));
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

function synth(...args: string[]) {
  return spawnSync('bash', [path.join(root, 'scripts', 'synth.sh'), ...args], {
    cwd: root, encoding: 'utf8',
    env: {
      ...process.env, SYNTH_OUTDIR: out, CDK_DISABLE_CLI_TELEMETRY: 'true',
      AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    },
  });
}

const read = (file: string) => fs.readFileSync(path.join(out, file), 'utf8');
const stagingTemplates = () => fs.readdirSync(path.join(out, 'cdk.out', 'assembly-staging'))
  .filter((f) => f.endsWith('.template.json')).map((f) => read(path.join('cdk.out', 'assembly-staging', f))).join('\n');

let first: ReturnType<typeof synth>;
beforeAll(() => {
  first = synth('-c', 'staging:account=123456789012', '-c', 'services:imageTag=0123abcd');
});

test('forwards its arguments: the account reaches the templates, the image tag the manifests Flux applies', () => {
  expect(first.stderr).not.toMatch(/synth failed/);
  expect(first.status).toBe(0);
  const [, stacks, manifests] = /(\d+) stacks in .*cdk\.out\/, (\d+) manifests/.exec(first.stdout) ?? [];
  expect(Number(stacks)).toBeGreaterThan(20);
  const environments = chartEnvironments(loadPlatformSpec()).map((e) => e.name);
  expect(fs.readdirSync(path.join(out, 'dist')).sort()).toEqual([...environments].sort());
  expect(Number(manifests)).toBe(environments.flatMap((env) => fs.readdirSync(path.join(out, 'dist', env))).length);
  const staging = stagingTemplates();
  expect(staging).toContain('"123456789012"');
  // Everything that lives in the account follows it: certificates, the admin role.
  expect(staging).not.toContain('222222222222');
  // The workloads reach the cluster through Flux, not the templates: no image is named there.
  expect(staging).not.toContain(':0123abcd');
  expect(read('dist/staging/api-gateway.k8s.yaml')).toMatch(/image: .*api-gateway:0123abcd$/m);
  expect(fs.readdirSync(out).sort()).toEqual(['cdk.out', 'dist']);
});

test.each([
  [['-c', 'prod:account=123456789012'], 'context prod:account: unknown environment "prod"; the environments are production, staging'],
  [['-c', 'staging:acount=123456789012'], 'context staging:acount: unknown key; staging takes staging:account'],
  // The CLI only warns of this one; the chart renderer refuses it.
  [['-c', 'novalue'], '-c novalue: expected key=value'],
])('a failed synth (%j) names the cause and keeps the last good cdk.out and dist', (args, message) => {
  const before = { manifest: read('cdk.out/manifest.json'), chart: read('dist/staging/api-gateway.k8s.yaml') };
  const failed = synth(...args);
  expect(failed.status).toBe(1);
  expect(failed.stderr).toContain(message);
  expect(failed.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  expect(failed.stderr).toContain('still hold the last good output');
  expect(read('cdk.out/manifest.json')).toBe(before.manifest);
  expect(read('dist/staging/api-gateway.k8s.yaml')).toBe(before.chart);
  expect(stagingTemplates()).toContain('"123456789012"');
  expect(fs.readdirSync(out).sort()).toEqual(['cdk.out', 'dist']);
});
