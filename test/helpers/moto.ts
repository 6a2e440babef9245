/**
 * The AWS API emulator of the tests: moto's server mode (from PyPI, installed into .cache/venv
 * by scripts/setup-tools.sh), started on loopback on a free port. The SDK reaches it through
 * AWS_ENDPOINT_URL, so the code under test is the production code, unchanged.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort } from '../harness';

const MOTO_SERVER = path.join(__dirname, '..', '..', '.cache', 'venv', 'bin', 'moto_server');

export interface Moto {
  readonly endpoint: string;
  /** Environment for the SDK (and child processes): endpoint, dummy credentials, no IMDS. */
  readonly env: Record<string, string>;
  /** Wipes all emulated state between tests. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

async function waitUntilUp(endpoint: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.once('exit', () => { exited = true; });
  while (Date.now() < deadline) {
    if (exited) throw new Error('moto_server exited during start-up');
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms`);
}

export async function startMoto(): Promise<Moto> {
  if (!fs.existsSync(MOTO_SERVER)) {
    throw new Error(`${MOTO_SERVER} is missing: run \`npm run setup\` (scripts/setup-tools.sh)`);
  }
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(MOTO_SERVER, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000); });
  try {
    await waitUntilUp(endpoint, child);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n${stderr}`, { cause: error });
  }
  return {
    endpoint,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_SESSION_TOKEN: 'testing',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`);
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Sets the moto environment on this process for the duration of a test file. */
export function useMotoEnv(moto: Moto): () => void {
  const saved = Object.fromEntries(Object.keys(moto.env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, moto.env);
  return () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}

/**
 * One moto server for the whole test file, its environment set on this process: registers the
 * beforeAll/afterAll hooks and returns an accessor for the running server.
 */
export function motoForThisFile(): () => Moto {
  let moto: Moto | undefined;
  let restoreEnv: () => void = () => undefined;
  beforeAll(async () => {
    moto = await startMoto();
    restoreEnv = useMotoEnv(moto);
  });
  afterAll(async () => {
    restoreEnv();
    await moto?.stop();
  });
  return () => {
    if (!moto) throw new Error('moto is not running (use it inside a test)');
    return moto;
  };
}
