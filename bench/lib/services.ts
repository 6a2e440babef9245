/**
 * The services as the benchmarks run them: child processes on what production runs (the esbuild
 * bundles of `npm run build:services`, as the images run them) or, with the `tsx` runner, the
 * TypeScript sources; configured by environment like a Deployment, each with its own event loop.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildService } from '../../scripts/build-services';
import type { AnyWorkload, PreparedStack } from '../../test/services/integration/stack';

const ROOT = join(__dirname, '..', '..');

export type Runner = 'bundle' | 'tsx';

/** The --runner option's value, checked. */
export function parseRunner(value: string | undefined): Runner {
  if (value !== 'bundle' && value !== 'tsx') throw new Error(`--runner must be bundle or tsx, got ${JSON.stringify(value)}`);
  return value;
}

/** Builds the bundles the `bundle` runner starts (nothing for tsx). */
export async function buildFor(runner: Runner, names: readonly AnyWorkload[], bench: string): Promise<void> {
  if (runner !== 'bundle') return;
  process.stderr.write(`${bench}: building the service bundles (npm run build:services)...\n`);
  for (const name of names) await buildService(name);
}

export interface SpawnOptions {
  readonly runner: Runner;
  /** Directory for a CPU profile of this process (node --cpu-prof, written when it exits). */
  readonly profileDir?: string;
  /** Extra node flags (a V8 heap setting under trial, say), before the entry point. */
  readonly nodeFlags?: readonly string[];
}

/** Starts a service; the stack stops it (SIGTERM) when disposed. */
export function spawnService(stack: PreparedStack, name: AnyWorkload, env: Readonly<Record<string, string>>, opts: SpawnOptions): ChildProcess {
  const profile = opts.profileDir ? ['--cpu-prof', '--cpu-prof-dir', opts.profileDir, '--cpu-prof-name', `${name}.cpuprofile`] : [];
  // As the image runs it (services/*/Dockerfile: NODE_OPTIONS=--enable-source-maps, node main.js).
  const flags = [...profile, ...(opts.nodeFlags ?? [])];
  const args = opts.runner === 'bundle'
    ? [...flags, '--enable-source-maps', join(ROOT, 'build', 'services', name, 'main.js')]
    : [...flags, '--import', 'tsx', join(ROOT, 'services', name, 'src', 'main.ts')];
  const child = spawn(process.execPath, args, {
    cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'inherit'],
  });
  stack.onDispose(() => new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  }));
  return child;
}

/** Resolves once `url` answers 200; fails when the process exits first or after `timeoutMs`. */
export async function waitReady(url: string, what: string, child?: ChildProcess, timeoutMs = 90_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} not ready at ${url} within ${timeoutMs / 1000} s`);
}

// sysconf(_SC_CLK_TCK): 100 on every Linux Node runs on.
const CLOCK_TICKS = 100;

/** CPU time (user + system) a process has used so far, in ms (Linux /proc; 0 elsewhere). */
export function cpuMs(pid: number | undefined): number {
  try {
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th of them.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/**
 * CPU time per unit of work of each process between `start()` and `perUnit(units)`: the figure
 * a shared machine's load distorts least.
 */
export function cpuMeter(processes: Readonly<Record<string, ChildProcess>>): { perUnit(units: number): string } {
  const before = Object.fromEntries(Object.entries(processes).map(([name, p]) => [name, cpuMs(p.pid)]));
  return {
    perUnit: (units) => Object.entries(processes)
      .map(([name, p]) => `${name} ${((cpuMs(p.pid) - before[name]!) / Math.max(1, units)).toFixed(3)}`).join(', '),
  };
}
