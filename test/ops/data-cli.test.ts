/**
 * The acceptance: `npm run ops -- endpoints staging` works against the emulator. Runs
 * the real npm script (and the tsx entry point) as child processes with AWS_ENDPOINT_URL set.
 *
 * Emulator gaps, served by the fixture in front of moto (test/helpers/aws-fixture.ts):
 *  - kafka:GetBootstrapBrokers — not implemented by moto.
 *  - backup:ListRecoveryPointsByBackupVault — not implemented by moto.
 *  - kafka:ListClustersV2 / DescribeClusterV2: moto's `creationTime` lacks a UTC offset, which
 *    the SDK rejects; the fixture appends "Z" to that field.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { startAwsFixture } from '../helpers/aws-fixture';
import type { AwsFixture } from '../helpers/aws-fixture';
import { seedDataTier } from '../helpers/data-tier-seed';
import type { SeededTier } from '../helpers/data-tier-seed';
import { startMoto, useMotoEnv } from '../helpers/moto';
import type { Moto } from '../helpers/moto';

const ROOT = path.join(__dirname, '..', '..');
let moto: Moto;
let fixture: AwsFixture;
let restoreEnv: () => void;
let staging: SeededTier;
beforeAll(async () => {
  moto = await startMoto();
  fixture = await startAwsFixture(moto);
  restoreEnv = useMotoEnv({ ...moto, env: fixture.env });
  staging = await seedDataTier(fixture, 'staging');
});
afterAll(async () => {
  restoreEnv();
  await fixture.stop();
  await moto.stop();
});

/** Asynchronous on purpose: the fixture serving the child lives in this process's event loop. */
function run(command: string, args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run ops', () => {
  it('`npm run ops -- endpoints staging` prints the data tier endpoints from the emulator', async () => {
    const r = await run('npm', ['run', 'ops', '--', 'endpoints', 'staging'], fixture.env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^staging \(us-east-1\)$/m);
    expect(r.stdout).toMatch(/^postgres writer +platform-staging-db\.\S+:5432$/m);
    expect(r.stdout).toMatch(/^postgres reader +platform-staging-db-replica-1\.\S+:5432 /m);
    expect(r.stdout).toMatch(/^postgres reader +platform-staging-db-replica-2\.\S+:5432 /m);
    expect(r.stdout).toContain(`kafka sasl/scram  ${staging.saslScramBrokers}`);
    expect(r.stdout).toMatch(/^redis primary +\S+:6379$/m);
  });

  it('the tsx entry point prints --json and exits 0', async () => {
    const r = await run(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/ops/main.ts', 'endpoints', 'staging', '--json'], fixture.env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).kafka.saslScramBootstrapBrokers).toBe(staging.saslScramBrokers);
  });

  it('an unreachable endpoint is one line on stderr, exit code 2, no stack trace', async () => {
    const r = await run(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/ops/main.ts', 'endpoints', 'staging'],
      { ...fixture.env, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('ops '));
    expect(lines).toEqual([expect.stringMatching(/^ops endpoints: cannot reach the AWS endpoint \(ECONNREFUSED\): .*127\.0\.0\.1:9/)]);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
