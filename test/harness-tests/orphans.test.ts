// A harness process that dies without cleaning up (a jest worker killed with SIGKILL) must not
// leave its servers running: the watchdog kills them.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive as alive } from '../../scripts/local-stack/process';

const REPO = join(__dirname, '..', '..');


async function waitFor(condition: () => boolean, limitMs: number): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return condition();
}

test('servers die with the process that started them, even when it is killed outright', async () => {
  const script = `
    const { startRedis, startPostgres } = require('./test/harness');
    Promise.all([startRedis(), startPostgres()]).then(([r, p]) => {
      console.log(JSON.stringify({ redis: r.pid, postgres: p.pid, dirs: [r.dir, p.dir] }));
      setInterval(() => {}, 1000); // stay alive until killed
    }, (e) => { console.error(e); process.exit(1); });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  const pids = await new Promise<{ redis: number; postgres: number; dirs: string[] }>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line));
    });
    child.once('exit', (code) => reject(new Error(`harness child exited with ${code} before starting its servers`)));
  });
  expect(alive(pids.redis)).toBe(true);
  expect(alive(pids.postgres)).toBe(true);

  child.kill('SIGKILL');
  // The watchdog polls once a second; allow for a loaded machine.
  expect(await waitFor(() => !alive(pids.redis) && !alive(pids.postgres), 20000)).toBe(true);
  // ... and removes their temp dirs.
  expect(await waitFor(() => pids.dirs.every((d) => !existsSync(d)), 10000)).toBe(true);
});

test('servers are stopped and their folders removed when the process exits normally', async () => {
  const script = `
    const { startRedis } = require('./test/harness');
    startRedis().then((r) => {
      console.log(JSON.stringify({ pid: r.pid, dir: r.dir }));
      process.exit(0); // no dispose(): the exit handler cleans up
    }, (e) => { console.error(e); process.exit(1); });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(code).toBe(0);
  const { pid, dir } = JSON.parse(out.trim()) as { pid: number; dir: string };
  // SIGKILL is sent synchronously in the exit handler; reaping by init may take a moment.
  expect(await waitFor(() => !alive(pid), 5000)).toBe(true);
  expect(existsSync(dir)).toBe(false);
});
