// A server's first start on ports freePort() found free a moment before (startOnFreePorts): when
// another process took one in between, the server's log says so and it starts again on new
// ports; any other failure is thrown at once.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess, freePort, startOnFreePorts, waitReady } from '../../scripts/local-stack/process';

// A server that binds its port and says so; Node logs EADDRINUSE when the port is taken.
const SERVER = "const port = Number(process.argv[1]); require('node:net').createServer().listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));";

let dir: string;
const running: ManagedProcess[] = [];
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'platform-test-free-ports-')); });
afterEach(async () => {
  for (const proc of running.splice(0)) await proc.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function server(exitCode?: number) {
  const args: string[] = [];
  const logFile = join(dir, 'server.log');
  const script = exitCode === undefined ? SERVER : `console.error('no configuration'); process.exit(${exitCode});`;
  const proc = new ManagedProcess({ name: 'server', command: process.execPath, args, cwd: dir, logFile });
  running.push(proc);
  let port = 0;
  const ports: number[] = [];
  const configure = async () => {
    port = await freePort();
    ports.push(port);
    args.splice(0, args.length, '-e', script, String(port));
  };
  const start = async () => {
    proc.start();
    await waitReady(proc, async () => readFileSync(logFile, 'utf8').includes(`listening on ${port}\n`), { timeoutMs: 60_000, intervalMs: 50, what: `the server on ${port}` });
  };
  return { proc, logFile, ports, configure, start };
}

function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const blocker = createServer();
    blocker.once('error', reject);
    blocker.listen(port, '127.0.0.1', () => resolve(blocker));
  });
}

describe('startOnFreePorts', () => {
  it('starts again on a new port when the one it picked was taken before the server bound it', async () => {
    const s = server();
    let blocker: Server | undefined;
    await startOnFreePorts(s.proc, async () => {
      await s.configure();
      // Another process takes the first port between freePort() and the server's bind.
      if (s.ports.length === 1) blocker = await occupy(s.ports[0]!);
    }, s.start);
    try {
      expect(s.ports).toHaveLength(2);
      expect(s.ports[1]).not.toBe(s.ports[0]);
      expect(s.proc.running).toBe(true);
      const log = readFileSync(s.logFile, 'utf8');
      expect(log).toContain('EADDRINUSE');
      expect(log).toContain(`listening on ${s.ports[1]}`);
    } finally {
      await new Promise((resolve) => blocker?.close(resolve));
    }
  });

  it('throws any other failure at once, without a second try', async () => {
    const s = server(3);
    await expect(startOnFreePorts(s.proc, s.configure, s.start)).rejects.toThrow(/server exited \(code 3, signal none\) before it was ready[\s\S]*no configuration/);
    expect(s.ports).toHaveLength(1);
  });
});
