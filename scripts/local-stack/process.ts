// Child-process plumbing shared by the servers: free ports, log files, readiness polling, and
// making sure no server outlives the process that started it (jest worker, dev script).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** A server could not be set up; the message says what is missing or what went wrong. */
export class HarnessError extends Error {
  override name = 'HarnessError';
}

/** The repository root (scripts/local-stack/..). */
export const REPO_ROOT = resolve(__dirname, '..', '..');

/** The one line thrown when a binary or jar is not installed. */
export function missingError(what: string, detail?: string): HarnessError {
  return new HarnessError(
    `missing: ${what}${detail ? ` (${detail})` : ''}; install it with \`npm run setup\` (scripts/setup/servers.sh; apt-get needs root)`,
  );
}

/** A port that was free on 127.0.0.1 a moment ago (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolvePort(address.port);
        else reject(new HarnessError('could not get a free port on 127.0.0.1'));
      });
    });
  });
}

/** The last lines of a log file, for error messages. */
export function tailFile(path: string, lines = 30): string {
  if (!existsSync(path)) return `(no log at ${path})`;
  const text = readFileSync(path, 'utf8').trimEnd();
  const all = text.split('\n');
  return all.slice(-lines).join('\n');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Uid and gid of a local account, or undefined when there is none. */
export function lookupUser(name: string): { uid: number; gid: number } | undefined {
  try {
    const line = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim();
    const [, , uid, gid] = line.split(':');
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

// Every live server process, killed when this process exits (under jest, when the test file
// ends: the hook below). A process killed outright (SIGKILL of a jest worker) runs no handler:
// the watchdog below covers that case.
const live = new Set<ManagedProcess>();
const tempDirs = new Set<string>();
let exitHandlerInstalled = false;

function onExit(): void {
  for (const proc of live) proc.killNow();
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort while exiting
    }
  }
}

/**
 * Under jest every test file loads its own copy of this module while one worker process runs many
 * files, and a worker ended by jest may run no exit handler at all: the test environment
 * (test/environment.js) calls this when each file ends, after its afterAll hooks.
 */
const FILE_END_HOOK = Symbol.for('platform.local-stack.cleanUp');
(globalThis as Record<symbol, unknown>)[FILE_END_HOOK] = (): void => {
  onExit();
  live.clear();
  tempDirs.clear();
  syncExitHandler();
};

function syncExitHandler(): void {
  const needed = live.size > 0 || tempDirs.size > 0;
  if (needed && !exitHandlerInstalled) {
    process.on('exit', onExit);
    exitHandlerInstalled = true;
  } else if (!needed && exitHandlerInstalled) {
    process.removeListener('exit', onExit);
    exitHandlerInstalled = false;
  }
}

/**
 * Deletes the folder when this process exits (under jest, when the test file ends), unless
 * unregistered first (dispose does it).
 */
export function registerTempDir(dir: string): void {
  tempDirs.add(dir);
  syncExitHandler();
}

export function unregisterTempDir(dir: string): void {
  tempDirs.delete(dir);
  syncExitHandler();
}

/** Deletes a registered temp dir now. */
export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  unregisterTempDir(dir);
}

/**
 * Sets a server up in a new temp dir `platform-test-<name>-*` (deleted when this process exits,
 * unless disposed of before); when set-up fails, the dir is deleted at once.
 */
export async function setUpInTempDir<T>(name: string, setUp: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), `platform-test-${name}-`));
  registerTempDir(dir);
  try {
    return await setUp(dir);
  } catch (error) {
    await removeTempDir(dir);
    throw error;
  }
}

/**
 * A server's dispose(): `stop` its process, then delete its temp dir. Only the first call does
 * anything, so a test's afterAll may dispose of a server it already disposed of.
 */
export function disposeOnce(dir: string, stop: () => Promise<void>): () => Promise<void> {
  let disposed = false;
  return async () => {
    if (disposed) return;
    disposed = true;
    await stop();
    await removeTempDir(dir);
  };
}

// Polls once a second that the harness's process is alive; when it is gone (even by SIGKILL)
// the server's process group is killed and its temp dir removed. It ends by itself once the
// group is gone (a normal stop()).
const WATCHDOG = `parent=$1; group=$2; dir=$3
while kill -0 "$parent" 2>/dev/null && kill -0 "-$group" 2>/dev/null; do sleep 1; done
kill -0 "$parent" 2>/dev/null && exit 0
kill -KILL "-$group" 2>/dev/null
if [ -n "$dir" ]; then sleep 1; rm -rf "$dir"; fi
exit 0`;

export interface ManagedProcessOptions {
  /** Short name for messages, e.g. `PostgreSQL`. */
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here (kept across restarts). */
  logFile: string;
  /** Run as this user (the harness runs as root in CI; PostgreSQL refuses root). */
  uid?: number;
  gid?: number;
  /** Keep this process's event loop alive while the child runs (one-shot tools). */
  keepAlive?: boolean;
  /** Removed by the watchdog when the harness's process dies while the server runs. */
  orphanDir?: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One server process in its own process group, with its output in a log file. */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exitPromise: Promise<ExitInfo> | undefined;
  private lastExit: ExitInfo | undefined;
  /** Set when the command could not be spawned at all (ENOENT, EACCES). */
  spawnError: Error | undefined;

  constructor(readonly opts: ManagedProcessOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.lastExit === undefined;
  }

  /** The pid while the process runs, else undefined: a server's `pid` (for crash tests). */
  get runningPid(): number | undefined {
    return this.running ? this.pid : undefined;
  }

  /** Why the process ended, when it has. */
  get exitInfo(): ExitInfo | undefined {
    return this.lastExit;
  }

  start(): void {
    if (this.running) throw new HarnessError(`${this.opts.name} is already running (pid ${this.pid})`);
    const log = openSync(this.opts.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.opts.command, this.opts.args, {
        cwd: this.opts.cwd,
        env: this.opts.env ?? process.env,
        stdio: ['ignore', log, log],
        // Own process group: killing the group reaches the server's children too, and a
        // Ctrl-C in the terminal reaches the harness first, which then stops the servers.
        detached: true,
        uid: this.opts.uid,
        gid: this.opts.gid,
      });
    } finally {
      closeSync(log);
    }
    this.child = child;
    this.lastExit = undefined;
    this.spawnError = undefined;
    this.exitPromise = new Promise<ExitInfo>((resolveExit) => {
      child.once('error', (error) => {
        // Reported by waitReady: the command could not be run at all.
        this.spawnError = error;
        this.lastExit = { code: null, signal: null };
        live.delete(this);
        syncExitHandler();
        resolveExit(this.lastExit);
      });
      child.once('exit', (code, signal) => {
        this.lastExit = { code, signal };
        live.delete(this);
        syncExitHandler();
        resolveExit(this.lastExit);
      });
    });
    // A server must not keep jest or a dev script alive on its own: dispose() ends it.
    if (!this.opts.keepAlive) child.unref();
    live.add(this);
    syncExitHandler();
    if (child.pid !== undefined) {
      spawn('/bin/sh', ['-c', WATCHDOG, 'harness-watchdog', String(process.pid), String(child.pid), this.opts.orphanDir ?? ''], {
        detached: true,
        stdio: 'ignore',
      }).unref();
    }
  }

  /** Resolves when the process has exited (immediately if it is not running). */
  async waitExit(): Promise<ExitInfo> {
    if (!this.exitPromise) return { code: null, signal: null };
    return this.exitPromise;
  }

  /**
   * Sends `signal` to the server and waits for it to exit; after `timeoutMs` the whole process
   * group is killed. Children left in the group are killed either way.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20000): Promise<void> {
    const child = this.child;
    if (!child || !this.running || child.pid === undefined) return;
    // Until it has exited, the child keeps this process alive: once the timer below has fired,
    // nothing else might, and the exit would never be observed.
    child.ref();
    try {
      process.kill(child.pid, signal);
    } catch {
      // already gone
    }
    const timer = setTimeout(() => this.killNow(), timeoutMs);
    try {
      await this.waitExit();
    } finally {
      clearTimeout(timer);
    }
    this.killGroup();
  }

  /** SIGKILL to the process group, synchronously (usable in an exit handler). */
  killNow(): void {
    this.killGroup();
  }

  private killGroup(): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // group already gone
    }
  }
}

/**
 * Polls `check` until it returns true. Fails early, with the log's last lines, when the
 * process exits; fails after `timeoutMs` the same way.
 */
export async function waitReady(
  proc: ManagedProcess,
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; intervalMs?: number; what?: string },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (!proc.running) {
      const exit = proc.exitInfo;
      const how = proc.spawnError
        ? `could not be started: ${proc.spawnError.message}`
        : `exited (code ${exit?.code ?? 'none'}, signal ${exit?.signal ?? 'none'})`;
      throw new HarnessError(`${proc.opts.name} ${how} before it was ready; last lines of ${proc.opts.logFile}:\n${tailFile(proc.opts.logFile)}`);
    }
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      proc.killNow();
      const detail = lastError instanceof Error ? ` (last attempt: ${lastError.message})` : '';
      throw new HarnessError(
        `${proc.opts.name} was not ready${opts.what ? ` (${opts.what})` : ''} within ${opts.timeoutMs} ms${detail}; last lines of ${proc.opts.logFile}:\n${tailFile(proc.opts.logFile)}`,
      );
    }
    await sleep(opts.intervalMs ?? 100);
  }
}

/** True when the log says the port was taken between freePort() and the server's bind. */
export function portWasTaken(logFile: string): boolean {
  return /address already in use|EADDRINUSE|could not bind|BindException/i.test(tailFile(logFile, 60));
}

/**
 * A server's first start: `configure` picks its ports with freePort() and writes them into its
 * configuration, then `start` starts it and waits until it is ready. A port free a moment ago
 * may have been taken since: when the server exits saying so (its log), both run again, three
 * tries in all. On any other failure the process is killed and the error thrown.
 */
export async function startOnFreePorts(proc: ManagedProcess, configure: () => Promise<void>, start: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await configure();
    try {
      await start();
      return;
    } catch (error) {
      if (attempt < 3 && !proc.running && portWasTaken(proc.opts.logFile)) continue;
      await proc.stop('SIGKILL');
      throw error;
    }
  }
}

/** Random URL-safe secret for passwords. */
export function randomSecret(bytes = 18): string {
  return randomBytes(bytes).toString('base64url');
}

/** The user a server's clients log in as (PasswordServer's `username`, `password`, `passwordFile`). */
export interface ClientUser {
  username: string;
  password: string;
  /** `<secretsDir>/<username>.password`, the password alone (mode 0600). */
  passwordFile: string;
}

/** A random password for `username`, also written to a file in `secretsDir` for the services. */
export async function createClientUser(secretsDir: string, username: string): Promise<ClientUser> {
  const password = randomSecret();
  const passwordFile = join(secretsDir, `${username}.password`);
  await writeFile(passwordFile, password, { mode: 0o600 });
  return { username, password, passwordFile };
}

export function cacheDir(...parts: string[]): string {
  return join(REPO_ROOT, '.cache', ...parts);
}

/**
 * The release a setup script builds, from its `<variable>=v<version>` line: read from the
 * script, the one place it is written.
 */
export function setupScriptVersion(script: string, variable: string): string {
  const match = new RegExp(`^${variable}=(v\\S+)$`, 'm').exec(readFileSync(join(REPO_ROOT, 'scripts', 'setup', script), 'utf8'));
  if (!match) throw new HarnessError(`scripts/setup/${script}: no ${variable}=v<version> line`);
  return match[1]!;
}

/** A setup script's `<variable>="<word> <word>..."` line (what it builds in), read from the script. */
export function setupScriptWords(script: string, variable: string): string[] {
  const match = new RegExp(`^${variable}="([^"]*)"$`, 'm').exec(readFileSync(join(REPO_ROOT, 'scripts', 'setup', script), 'utf8'));
  if (!match) throw new HarnessError(`scripts/setup/${script}: no ${variable}="<word>..." line`);
  return match[1]!.split(/\s+/).filter(Boolean);
}

export interface InstalledBy {
  /** The script of scripts/setup/ that puts it there. */
  readonly script: string;
  /** What it is, when the path alone does not say (`metrics-server v0.8.0`). */
  readonly what?: string;
  /** Built from source (the default) or installed as it is. */
  readonly verb?: 'build' | 'install';
}

/** `path`, which a setup script installs; when it is missing, one line naming it and `npm run setup`. */
export function installed(path: string, by: InstalledBy): string {
  if (!existsSync(path)) {
    const what = by.what ? `${by.what} (no ${path})` : path;
    throw new HarnessError(`missing: ${what}; ${by.verb ?? 'build'} it with \`npm run setup\` (scripts/setup/${by.script})`);
  }
  return path;
}

/** Whether a process of this PID exists (signal 0 tests without signalling). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
