/**
 * `npm run dev` (scripts/dev.ts) as a developer runs it: the stack comes up on the spec's
 * well-known ports, each service answers /readyz, and a Ctrl-C or SIGTERM stops everything
 * (every port free again). Uses the fixed ports 8000-8004 and 9000-9004 of lib/spec.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { loadPlatformSpec } from '../../lib/spec';
import type { ServiceSpec } from '../../lib/spec';

jest.setTimeout(240_000);

const ROOT = resolve(__dirname, '..', '..');
const spec = loadPlatformSpec();
const serviceSpec = (name: string): ServiceSpec => {
  const svc = spec.services.find((s) => s.name === name);
  if (!svc) throw new Error(`ready line names ${name}, which is not in lib/spec`);
  return svc;
};
// All five services of lib/spec (a service whose src/main.ts is missing is not started).
const EXPECTED = spec.services.map((s) => s.name).filter((name) => existsSync(join(ROOT, 'services', name, 'src', 'main.ts')));

test('starts all five services of lib/spec', () => {
  expect([...EXPECTED].sort()).toEqual(['api-gateway', 'auth-service', 'order-service', 'payment-service', 'user-service']);
});

interface Dev {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let running: Dev | undefined;

function startDev(command: string, args: string[]): Dev {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, like a job in a terminal: a Ctrl-C goes to the whole group.
    detached: true,
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  running = { child, output: () => output, exited };
  return running;
}

/** Resolves with the services of the `ready:` line; fails with the output if the script ends first. */
async function ready(dev: Dev): Promise<string[]> {
  let ended = false;
  void dev.exited.then(() => (ended = true));
  for (;;) {
    const match = /^ready: (.+) \(Ctrl-C stops everything\)$/m.exec(dev.output());
    if (match) return match[1]!.split(', ');
    if (ended) throw new Error(`npm run dev ended before it was ready:\n${dev.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function listen(port: number): Promise<Server> {
  return new Promise((resolveListen, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, () => resolveListen(srv));
  });
}

/** A port nothing listens on any more: we can bind it ourselves. */
async function isFree(port: number): Promise<boolean> {
  try {
    const srv = await listen(port);
    await new Promise((r) => srv.close(r));
    return true;
  } catch {
    return false;
  }
}

async function expectStackUp(dev: Dev): Promise<void> {
  const names = await ready(dev);
  expect(names.sort()).toEqual([...EXPECTED].sort());
  for (const name of names) {
    const svc = serviceSpec(name);
    const res = await fetch(`http://127.0.0.1:${svc.healthPort}${svc.readinessPath}`);
    expect({ name, status: res.status }).toEqual({ name, status: 200 });
  }
  const out = dev.output();
  for (const name of names) expect(out).toContain(`http://127.0.0.1:${serviceSpec(name).healthPort}/metrics`);
  if (names.includes('api-gateway')) {
    const url = `http://127.0.0.1:${serviceSpec('api-gateway').port}/openapi.json`;
    expect(out).toContain(url);
    expect((await fetch(url)).status).toBe(200);
  }
  expect(out).toMatch(/services\/auth-service\/src\/cli\.ts grant-role --email \S+ --role admin/);
}

async function expectAllPortsFree(): Promise<void> {
  for (const name of EXPECTED) {
    const svc = serviceSpec(name);
    expect({ name, port: svc.port, free: await isFree(svc.port) }).toEqual({ name, port: svc.port, free: true });
    expect({ name, port: svc.healthPort, free: await isFree(svc.healthPort) }).toEqual({ name, port: svc.healthPort, free: true });
  }
}

afterEach(async () => {
  // Only after a failed test: do not leave the stack running for the next one.
  const dev = running;
  running = undefined;
  if (dev && dev.child.exitCode === null && dev.child.signalCode === null) {
    process.kill(-dev.child.pid!, 'SIGTERM');
    await dev.exited;
  }
});

test('npm run dev serves every service until Ctrl-C, then stops all of them', async () => {
  const dev = startDev('npm', ['run', '--silent', 'dev']);
  await expectStackUp(dev);
  // What a terminal does on Ctrl-C: SIGINT to the foreground process group (npm, sh, tsx, node).
  process.kill(-dev.child.pid!, 'SIGINT');
  await dev.exited;
  // npm reports the signal as its own exit; the script's verdict is its last line.
  expect(dev.output()).toMatch(/^dev: stopped$/m);
  await expectAllPortsFree();
});

test('SIGTERM stops every service gracefully and exits 0', async () => {
  const dev = startDev(join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/dev.ts']);
  await expectStackUp(dev);
  process.kill(dev.child.pid!, 'SIGTERM');
  expect(await dev.exited).toEqual({ code: 0, signal: null });
  expect(dev.output()).toMatch(/^dev: stopped$/m);
  for (const name of EXPECTED) expect(dev.output()).toMatch(new RegExp(`^${name} +\\| .*"msg":"stopped"`, 'm'));
  await expectAllPortsFree();
  // The CA's and PostgreSQL's temp dirs, as printed, are gone.
  const caDir = dirname(/DATABASE_CA_FILE=(\S+)/.exec(dev.output())![1]!);
  const pgDir = dirname(dirname(/DATABASE_PASSWORD_FILE=(\S+)/.exec(dev.output())![1]!));
  expect([caDir, pgDir].filter((dir) => existsSync(dir))).toEqual([]);
});

test('a busy well-known port stops the start with a line naming it', async () => {
  const first = serviceSpec(EXPECTED[0]!);
  const blocker = await listen(first.port);
  try {
    const dev = startDev(join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/dev.ts']);
    expect(await dev.exited).toEqual({ code: 1, signal: null });
    const kind = EXPECTED[0] === 'api-gateway' ? 'HTTP' : 'gRPC';
    expect(dev.output()).toContain(`port ${first.port} (${EXPECTED[0]} ${kind}) is already in use`);
    expect(dev.output()).not.toContain('starting PostgreSQL');
  } finally {
    await new Promise((r) => blocker.close(r));
  }
});
