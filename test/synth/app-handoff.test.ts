/**
 * `npm run synth` starts the app beside the CDK CLI: the app waits for the CLI's environment
 * (bin/cli-environment.ts), which the CLI's app command (scripts/app-relay.mjs) hands over
 * through a FIFO before returning the app's status. Real processes and a real FIFO; the whole
 * path through scripts/synth.sh is in synth-script.test.ts and the failure of the CLI below.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { receiveCliEnvironment } from '../../bin/cli-environment';

const root = path.join(__dirname, '..', '..');
const relayScript = path.join(root, 'scripts', 'app-relay.mjs');
const dirs: string[] = [];
const relays: ChildProcess[] = [];
afterAll(() => {
  relays.forEach((child) => child.kill()); // a relay left waiting by a failed test
  dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true }));
});

function handoffDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'platform-handoff-'));
  dirs.push(dir);
  const made = spawnSync('mkfifo', [path.join(dir, 'environment')], { encoding: 'utf8' });
  expect(made.stderr).toBe('');
  expect(made.status).toBe(0);
  return dir;
}

function relay(env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [relayScript], { env: { PATH: process.env.PATH, ...env } });
  relays.push(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exit, stderr: () => stderr };
}

const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** Polls `done` every 100 ms; throws `failure()` once `budgetMs` (for a loaded machine) is spent. */
async function waitUntil(done: () => boolean, budgetMs: number, failure: () => string): Promise<void> {
  for (let waited = 0; !done(); waited += 100) {
    if (waited > budgetMs) throw new Error(failure());
    await sleep(100);
  }
}

/** A folder for one run of synth.sh: its output and, through TMPDIR, its handoff folder. */
function synthRun(prefix: string): { tmp: string; out: string; env: NodeJS.ProcessEnv } {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(tmp);
  const out = path.join(tmp, 'out');
  return { tmp, out, env: { ...process.env, SYNTH_OUTDIR: out, TMPDIR: tmp, CDK_DISABLE_CLI_TELEMETRY: 'true' } };
}

/** The command lines of the processes that synth.sh started with its handoff folder under `tmp`. */
function processesOf(tmp: string): string[] {
  return fs.readdirSync('/proc').filter((pid) => /^\d+$/.test(pid)).flatMap((pid) => {
    try {
      if (!fs.readFileSync(`/proc/${pid}/environ`, 'latin1').includes(`PLATFORM_APP_HANDOFF=${tmp}`)) return [];
      return [fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ').trim()];
    } catch {
      return []; // exited meanwhile, or not ours to read
    }
  });
}

test('the app takes the environment the CLI ran the relay with, however large; the relay then returns the app\'s status', async () => {
  const dir = handoffDir();
  // More than a pipe's buffer (64 KiB), less than one variable's limit (128 KiB): the relay's
  // write must block until the app has read it.
  const context = JSON.stringify({ big: 'x'.repeat(100_000), 'staging:account': '123456789012' });
  const cli = relay({ PLATFORM_APP_HANDOFF: dir, CDK_OUTDIR: '/elsewhere/cdk.out', CDK_CONTEXT_JSON: context });
  const env: NodeJS.ProcessEnv = { PLATFORM_APP_HANDOFF: dir, CDK_OUTDIR: 'stale' };
  receiveCliEnvironment(env); // blocks this process until the relay has written
  expect(env.CDK_OUTDIR).toBe('/elsewhere/cdk.out');
  expect(env.CDK_CONTEXT_JSON).toBe(context);
  // The relay waits for the app's exit, which synth.sh records in `status`.
  await sleep(300);
  expect(running(cli.child)).toBe(true);
  fs.writeFileSync(path.join(dir, 'status'), '3\n');
  expect(await cli.exit).toBe(3);
  expect(cli.stderr()).toBe('');
});

test('an app that exited before it read the environment fails the relay at once with its status', async () => {
  const dir = handoffDir();
  fs.writeFileSync(path.join(dir, 'status'), '2\n');
  const cli = relay({ PLATFORM_APP_HANDOFF: dir });
  expect(await cli.exit).toBe(2);
  expect(cli.stderr()).toContain("the app exited with status 2 before it took the CDK CLI's environment");
});

test('the relay waits for an app still loading its modules, and a status of 0 passes through', async () => {
  const dir = handoffDir();
  const cli = relay({ PLATFORM_APP_HANDOFF: dir, CDK_OUTDIR: '/late/cdk.out' });
  await sleep(300); // no reader yet: the relay polls instead of blocking or failing
  expect(running(cli.child)).toBe(true);
  const env: NodeJS.ProcessEnv = { PLATFORM_APP_HANDOFF: dir };
  receiveCliEnvironment(env);
  expect(env.CDK_OUTDIR).toBe('/late/cdk.out');
  fs.writeFileSync(path.join(dir, 'status'), '0\n');
  expect(await cli.exit).toBe(0);
});

test('a relay whose handoff folder is gone (synth.sh stopped) exits instead of waiting for a status that cannot come', async () => {
  const dir = handoffDir();
  const cli = relay({ PLATFORM_APP_HANDOFF: dir });
  receiveCliEnvironment({ PLATFORM_APP_HANDOFF: dir });
  await sleep(300);
  expect(running(cli.child)).toBe(true);
  fs.rmSync(dir, { recursive: true, force: true }); // synth.sh's exit trap
  expect(await cli.exit).toBe(1);
  expect(cli.stderr()).toContain(`${dir} is gone: the npm run synth that made it has stopped`);
});

test('anything but a JSON object of strings in the FIFO is a clear error', () => {
  for (const [text, message] of [
    ['not json', "expected the CDK CLI's environment as JSON, got \"not json\""],
    ['["a"]', "expected the CDK CLI's environment as an object of strings"],
    ['{"CDK_OUTDIR": 1}', "expected the CDK CLI's environment as an object of strings"],
  ]) {
    const dir = handoffDir();
    const writer = spawn('sh', ['-c', 'printf %s "$1" > "$2"', 'sh', text, path.join(dir, 'environment')]);
    const env: NodeJS.ProcessEnv = { PLATFORM_APP_HANDOFF: dir };
    expect(() => receiveCliEnvironment(env)).toThrow(message);
    expect(env.CDK_OUTDIR).toBeUndefined();
    writer.kill();
  }
});

test('without PLATFORM_APP_HANDOFF the app runs as cdk runs it, and the relay refuses to run', () => {
  const env: NodeJS.ProcessEnv = { CDK_OUTDIR: 'cdk.out' };
  receiveCliEnvironment(env);
  expect(env).toEqual({ CDK_OUTDIR: 'cdk.out' });
  const refused = spawnSync(process.execPath, [relayScript], { env: { PATH: process.env.PATH }, encoding: 'utf8' });
  expect(refused.status).toBe(2);
  expect(refused.stderr).toContain('PLATFORM_APP_HANDOFF is not set');
});

test('a CLI that fails before it runs the app fails the synth without leaving the early app behind', () => {
  const { tmp, out, env } = synthRun('platform-handoff-synth-');
  // An option without its value: the CLI stops at its command line, before it runs any app.
  const failed = spawnSync('bash', [path.join(root, 'scripts', 'synth.sh'), '--role-arn'], {
    cwd: root, encoding: 'utf8', env, timeout: 180_000, // a budget: a synth.sh that waited on the app would never return
  });
  expect(failed.signal).toBeNull();
  expect(failed.stderr).toContain('Not enough arguments following: role-arn');
  expect(failed.stderr).toContain('synth failed: nothing was written');
  expect(failed.status).toBe(1);
  // The app started early waited for an environment that never came: synth.sh stopped it.
  expect(processesOf(tmp)).toEqual([]);
  expect(fs.readdirSync(tmp).filter((name) => name.startsWith('platform-synth.'))).toEqual([]);
  expect(fs.readdirSync(out)).toEqual([]);
});

test('a synth.sh stopped by SIGTERM while the CLI runs the relay leaves no process waiting', async () => {
  const { tmp, env } = synthRun('platform-handoff-term-');
  const synth = spawn('bash', [path.join(root, 'scripts', 'synth.sh')], { cwd: root, stdio: 'ignore', env });
  const exited = new Promise((resolve) => synth.on('exit', resolve));
  // Budgets for a loaded machine: the CLI takes seconds to start its app command.
  await waitUntil(() => !running(synth) || processesOf(tmp).some((cmd) => cmd.includes('app-relay.mjs')), 120_000,
    () => `the relay never started: ${processesOf(tmp).join('; ')}`);
  expect(running(synth)).toBe(true);
  synth.kill('SIGTERM');
  await exited;
  // bash leaves the CLI in the foreground to finish; the relay, its folder gone, ends it.
  await waitUntil(() => processesOf(tmp).length === 0, 60_000, () => `still running: ${processesOf(tmp).join('; ')}`);
  expect(fs.readdirSync(tmp).filter((name) => name.startsWith('platform-synth.'))).toEqual([]);
});
