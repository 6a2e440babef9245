// Property-based and stateful tests of the public API from its OpenAPI document: Schemathesis
// (pinned in scripts/requirements-tools.txt, installed into .cache/venv by `npm test`'s setup)
// against the real stack (gateway, the four services, PostgreSQL, Redis, stripe-mock), with every
// check: no 5xx, every response as the document says (status, content type, headers, schema), every
// request the document admits accepted and every one it refuses refused, 405 with Allow for other
// methods, authentication enforced, created resources reachable. It authenticates as a real
// signed-up customer (schemathesis/hooks.py). Settings, seed and bounds: schemathesis/schemathesis.toml.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { apiClient, newAccount } from './client';
import { startStack } from './stack';
import type { Stack } from './stack';

const ROOT = resolve(__dirname, '../../..');
const SCHEMATHESIS = join(ROOT, '.cache', 'venv', 'bin', 'schemathesis');

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent', payments: true,
    // Hundreds of requests from one client and one user in a minute: limits are not what this run
    // is about, nor is latency (a login's scrypt on a loaded 2-core machine can take seconds).
    gatewayEnv: { RATE_LIMIT_ANONYMOUS: '1000000', RATE_LIMIT_AUTHENTICATED: '1000000', REQUEST_TIMEOUT_MS: '20000' },
  });
}, 240_000);

afterAll(async () => {
  await stack?.dispose();
});

function run(command: string, args: readonly string[], env: Readonly<Record<string, string>>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolveRun({ code, output }));
  });
}

it('Schemathesis finds nothing: no 5xx, responses as documented, documented requests accepted, the rest refused', async () => {
  const me = await newAccount(apiClient(stack.gatewayUrl), 'fuzz');
  const reports = mkdtempSync(join(tmpdir(), 'platform-schemathesis-'));
  try {
    const { code, output } = await run(SCHEMATHESIS, [
      '--no-color', '--config-file', 'test/services/integration/schemathesis/schemathesis.toml',
      'run', 'services/api-gateway/openapi.json', '--url', stack.gatewayUrl,
      '--checks', 'all', '--report-dir', reports,
    ], {
      FUZZ_BASE_URL: stack.gatewayUrl, FUZZ_EMAIL: me.email, FUZZ_PASSWORD: me.password,
      // Hypothesis keeps caches in ./.hypothesis by default: not in the repository.
      HYPOTHESIS_STORAGE_DIRECTORY: join(reports, 'hypothesis'),
    });
    // The whole report on failure: what failed, and the curl line reproducing it.
    if (code !== 0) throw new Error(`schemathesis exited with ${code}:\n${output}`);
    expect(output).toMatch(/Stateful/);
    expect(output).not.toMatch(/\d+ failures?/);
  } finally {
    rmSync(reports, { recursive: true, force: true });
  }
}, 600_000);
