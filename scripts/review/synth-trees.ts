/**
 * The two synths behind `npm run diff` and `npm run check:replacements`: the base (a git ref,
 * checked out as a `git worktree` in a temp dir) and the head (the working tree, or another ref),
 * each synthesized into temp dirs, never into the user's cdk.out/ or dist/. Offline: the app
 * runs the way the CDK CLI runs it (cdk.json's `app` command with CDK_OUTDIR and
 * CDK_CONTEXT_JSON), and charts/main.ts renders the manifests. No AWS credentials involved.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SynthOutput } from './assembly';

export type Log = (message: string) => void;

export class SynthError extends Error {}

function git(repo: string, args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
    throw new SynthError(`git ${args.join(' ')} failed in ${repo}: ${stderr || (error as Error).message}`);
  }
}

export function repoRoot(dir: string): string {
  return git(dir, ['rev-parse', '--show-toplevel']);
}

export function resolveCommit(repo: string, ref: string): string {
  return git(repo, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
}

/** Runs a shell command, capturing its output; rejects with the output's tail on failure. */
function run(command: string, cwd: string, env: NodeJS.ProcessEnv, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    child.stdout.on('data', (chunk) => output.push(String(chunk)));
    child.stderr.on('data', (chunk) => output.push(String(chunk)));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const tail = output.join('').trimEnd().split('\n').slice(-30).join('\n');
      reject(new SynthError(`${what} failed (${signal ?? `exit ${code}`}): ${command} in ${cwd}\n${tail}`));
    });
  });
}

interface CdkJson { app?: string; context?: Record<string, unknown> }

/**
 * What the CLI hands the app: cdk.json's context over cdk.context.json's, plus the metadata
 * switches `cdk synth` turns on by default, so templates match what `npm run synth` writes.
 */
export function appContext(root: string): { app: string; context: Record<string, unknown> } {
  const cdkJsonFile = path.join(root, 'cdk.json');
  if (!fs.existsSync(cdkJsonFile)) throw new SynthError(`${root} has no cdk.json: cannot tell how to run the CDK app`);
  const cdkJson = JSON.parse(fs.readFileSync(cdkJsonFile, 'utf8')) as CdkJson;
  if (!cdkJson.app) throw new SynthError(`${cdkJsonFile} has no "app" command`);
  const contextFile = path.join(root, 'cdk.context.json');
  const saved = fs.existsSync(contextFile) ? JSON.parse(fs.readFileSync(contextFile, 'utf8')) as Record<string, unknown> : {};
  return {
    app: cdkJson.app,
    context: { 'aws:cdk:enable-path-metadata': true, 'aws:cdk:enable-asset-metadata': true, ...saved, ...cdkJson.context },
  };
}

/** The chart renderer of a tree, if it has one: `charts/main.ts <outdir>`. */
export const CHARTS_ENTRY = 'charts/main.ts';
/** A tree's runner of transpiled TypeScript, if it has one (cdk.json's app uses it): the charts then run through it too. */
export const PRECOMPILE_ENTRY = 'scripts/precompile.mjs';

/** Synthesizes one tree: the app into <outdir>/cdk.out, the charts into <outdir>/dist (in parallel). */
export async function synthTree(root: string, outdir: string, log: Log = () => undefined): Promise<SynthOutput> {
  const { app, context } = appContext(root);
  const cdkOut = path.join(outdir, 'cdk.out');
  const dist = path.join(outdir, 'dist');
  fs.rmSync(outdir, { recursive: true, force: true });
  fs.mkdirSync(cdkOut, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // As under `npm run`: the tree's own tools first (tsx without npx's start-up cost).
    PATH: [path.join(root, 'node_modules', '.bin'), process.env.PATH].filter(Boolean).join(path.delimiter),
    CDK_OUTDIR: cdkOut,
    CDK_CONTEXT_JSON: JSON.stringify(context),
    CDK_DISABLE_VERSION_CHECK: 'true',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    // CDK's built-in CloudFormation validation (WASM, about half of synth time) only reports on
    // the templates, never changes them; `npm run synth` and the tests run it. A base commit
    // whose findings have since been fixed must still diff.
    CDK_VALIDATION: 'false',
  };
  const precompiled = fs.existsSync(path.join(root, PRECOMPILE_ENTRY));
  // Transpiled once before the app and the charts start together, not by both at once.
  if (precompiled) await run(`node ${PRECOMPILE_ENTRY} --compile-only`, root, env, 'transpiling');
  const jobs = [run(app, root, env, 'CDK app synthesis')];
  const hasCharts = fs.existsSync(path.join(root, CHARTS_ENTRY));
  const charts = precompiled ? `node ${PRECOMPILE_ENTRY} ${CHARTS_ENTRY}` : `tsx ${CHARTS_ENTRY}`;
  if (hasCharts) jobs.push(run(`${charts} '${dist}'`, root, env, 'chart rendering'));
  log(`synthesizing ${root} -> ${outdir}${hasCharts ? '' : ` (no ${CHARTS_ENTRY}: no manifests)`}`);
  await Promise.all(jobs);
  return { cdkOut, dist: hasCharts ? dist : undefined };
}

export type Installer = (dir: string) => void;

/** `npm ci` in a checkout, for a base whose package-lock.json differs from the working tree's. */
export const npmCi: Installer = (dir) => {
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: ['ignore', process.stderr, process.stderr] });
};

const readOrUndefined = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file) : undefined);

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** The first 12 hex digits of package-lock.json's sha256 (`none` without one): the cache key of a dependency set. */
export function lockfileHash(root: string): string {
  const lock = readOrUndefined(path.join(root, 'package-lock.json'));
  return lock ? sha(lock).slice(0, 12) : 'none';
}

/** Where the review tools keep what outlives a run: `.cache/review` of the repository (gitignored). */
export const cacheDir = (repo: string) => path.join(repo, '.cache', 'review');

/** How many base synths and dependency sets the cache keeps (least recently used go first). */
const KEEP_SYNTHS = 8;
const KEEP_DEPENDENCY_SETS = 3;

function prune(dir: string, keep: number): void {
  if (!fs.existsSync(dir)) return;
  const entries = fs.readdirSync(dir).filter((name) => !name.includes('.tmp-'))
    .map((name) => ({ name, used: fs.statSync(path.join(dir, name)).mtimeMs })).sort((a, b) => b.used - a.used);
  for (const { name } of entries.slice(keep)) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
}

/** Half-made entries (`*.tmp-*`) of runs killed mid-way; a live run's are younger than this. */
const STALE_MS = 3 * 60 * 60 * 1000;

function sweepStale(dir: string, repo: string): void {
  if (!fs.existsSync(dir)) return;
  let swept = false;
  for (const name of fs.readdirSync(dir).filter((n) => n.includes('.tmp-'))) {
    const entry = path.join(dir, name);
    if (Date.now() - fs.statSync(entry).mtimeMs < STALE_MS) continue;
    fs.rmSync(entry, { recursive: true, force: true });
    swept = true;
  }
  // Their worktrees are gone from disk; forget them in git too.
  if (swept) git(repo, ['worktree', 'prune']);
}

/** Marks a cache entry used now (pruning goes by it). */
const touch = (dir: string) => { const now = new Date(); fs.utimesSync(dir, now, now); };

/** Moves a finished temp dir into place; if a parallel run got there first, keeps theirs. */
function publish(tmp: string, target: string): void {
  try {
    fs.renameSync(tmp, target);
  } catch (error) {
    if (!fs.existsSync(target)) throw error;
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * The node_modules for a checkout's package-lock.json, installed once per distinct lock file into
 * `.cache/review/deps/<hash>/` (package.json and package-lock.json copied there, `install` run
 * there) and reused by every later run of diff, check:replacements and cost. Announced before it
 * starts: an install takes minutes.
 */
export function cachedDependencies(checkout: string, repo: string, install: Installer = npmCi, log: Log = () => undefined): { dir: string; installed: boolean } {
  const hash = lockfileHash(checkout);
  const depsRoot = path.join(cacheDir(repo), 'deps');
  const target = path.join(depsRoot, hash);
  const shown = path.relative(repo, target);
  if (fs.existsSync(path.join(target, 'node_modules'))) {
    touch(target);
    log(`the base's dependencies (lockfile ${hash}) are cached in ${shown}`);
    return { dir: path.join(target, 'node_modules'), installed: false };
  }
  fs.mkdirSync(depsRoot, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(depsRoot, `${hash}.tmp-`));
  log(`installing the base's dependencies (lockfile ${hash}, differs from the working tree's; once: cached in ${shown}) ...`);
  const started = Date.now();
  try {
    for (const file of ['package.json', 'package-lock.json']) {
      if (fs.existsSync(path.join(checkout, file))) fs.copyFileSync(path.join(checkout, file), path.join(tmp, file));
    }
    install(tmp);
    if (!fs.existsSync(path.join(tmp, 'node_modules'))) throw new SynthError(`installing the dependencies of ${checkout} left no node_modules in ${tmp}`);
  } catch (error) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
  publish(tmp, target);
  log(`installed the base's dependencies in ${Math.round((Date.now() - started) / 1000)} s`);
  prune(depsRoot, KEEP_DEPENDENCY_SETS);
  return { dir: path.join(target, 'node_modules'), installed: true };
}

/**
 * Gives a checkout its node_modules: a symlink to `from`'s when their package-lock.json files
 * are byte-identical (the same packages), else to the cached install of its lock file
 * (cachedDependencies: installed on first use only).
 */
export function provideNodeModules(checkout: string, from: string, install: Installer = npmCi, log: Log = () => undefined): 'symlink' | 'cached' | 'install' {
  const theirs = readOrUndefined(path.join(checkout, 'package-lock.json'));
  const ours = readOrUndefined(path.join(from, 'package-lock.json'));
  if ((theirs === undefined && ours === undefined) || (theirs && ours && theirs.equals(ours))) {
    fs.symlinkSync(fs.realpathSync(path.join(from, 'node_modules')), path.join(checkout, 'node_modules'), 'dir');
    return 'symlink';
  }
  const dependencies = cachedDependencies(checkout, from, install, log);
  fs.symlinkSync(fs.realpathSync(dependencies.dir), path.join(checkout, 'node_modules'), 'dir');
  return dependencies.installed ? 'install' : 'cached';
}

/**
 * What a synth of a commit depends on besides the commit: its lock file (the library versions)
 * and the environment the app reads (PLATFORM_* account overrides, CDK_* settings).
 */
export function synthKey(commit: string, lockHash: string, env: NodeJS.ProcessEnv = process.env): string {
  const relevant = Object.keys(env).filter((k) => /^(PLATFORM_|CDK_)/.test(k)).sort().map((k) => `${k}=${env[k]}`).join('\n');
  return `${commit.slice(0, 12)}-${lockHash}-${sha(relevant).slice(0, 8)}`;
}

/**
 * The synth of a commit, cached in `.cache/review/synth/<commit>-<lockfile>-<env>/`: checked out
 * as a temporary worktree and synthesized on first use only; diff, check:replacements and cost
 * against the same base share it, within a run and across runs.
 */
export async function synthCommit(
  repo: string, commit: string,
  options: { log?: Log; install?: Installer; name?: string; onCheckout?: (checkout: Checkout) => void } = {},
): Promise<SynthOutput & { cached: boolean }> {
  const log = options.log ?? (() => undefined);
  const name = options.name ?? 'base';
  // The lock file's blob id: no checkout needed to know whether the cache has this synth.
  let lockHash = 'none';
  try {
    lockHash = git(repo, ['rev-parse', '--verify', '--quiet', `${commit}:package-lock.json`]).slice(0, 12);
  } catch { /* no lock file at that commit */ }
  const synthRoot = path.join(cacheDir(repo), 'synth');
  const target = path.join(synthRoot, synthKey(commit, lockHash));
  const outputOf = (dir: string) => ({ cdkOut: path.join(dir, 'cdk.out'), dist: fs.existsSync(path.join(dir, 'dist')) ? path.join(dir, 'dist') : undefined });
  if (fs.existsSync(path.join(target, 'complete'))) {
    touch(target);
    log(`${name}: synth of ${commit.slice(0, 12)} reused from ${path.relative(repo, target)}`);
    return { ...outputOf(target), cached: true };
  }
  fs.mkdirSync(synthRoot, { recursive: true });
  sweepStale(synthRoot, repo);
  sweepStale(path.join(cacheDir(repo), 'deps'), repo);
  const tmp = fs.mkdtempSync(path.join(synthRoot, `${path.basename(target)}.tmp-`));
  const checkout = addWorktree(repo, commit, path.join(tmp, 'tree'));
  // The caller removes it on Ctrl-C.
  options.onCheckout?.(checkout);
  try {
    const how = provideNodeModules(checkout.root, repo, options.install, log);
    log(`${name}: worktree of ${commit.slice(0, 12)}, node_modules ${how === 'symlink' ? `linked from ${repo} (same package-lock.json)` : `from the cache (lockfile ${lockfileHash(checkout.root)})`}`);
    const output = await synthTree(checkout.root, path.join(tmp, 'out'), log);
    checkout.remove();
    fs.renameSync(output.cdkOut, path.join(tmp, 'cdk.out'));
    if (output.dist && fs.existsSync(output.dist)) fs.renameSync(output.dist, path.join(tmp, 'dist'));
    fs.rmSync(path.join(tmp, 'out'), { recursive: true, force: true });
    fs.writeFileSync(path.join(tmp, 'complete'), `${new Date().toISOString()}\n`);
  } catch (error) {
    checkout.remove();
    fs.rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
  publish(tmp, target);
  prune(synthRoot, KEEP_SYNTHS);
  return { ...outputOf(target), cached: false };
}

export interface Checkout { readonly root: string; readonly commit: string; remove(): void }

/** A detached `git worktree` of a commit under dir; remove() takes it away again. */
export function addWorktree(repo: string, commit: string, dir: string): Checkout {
  git(repo, ['worktree', 'add', '--detach', '--quiet', dir, commit]);
  return {
    root: dir,
    commit,
    remove: () => {
      // Unlink our node_modules symlink first so nothing ever follows it.
      const link = path.join(dir, 'node_modules');
      if (fs.lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink()) fs.unlinkSync(link);
      try {
        git(repo, ['worktree', 'remove', '--force', dir]);
      } catch {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export interface TreeOutputs {
  readonly base: SynthOutput;
  readonly head: SynthOutput;
  /** e.g. `HEAD~1 (9f1e207)` and `working tree`. */
  readonly labels: { readonly base: string; readonly head: string };
  /** The tree synthesized as the head: the repository itself unless a head ref was given. */
  readonly roots: { readonly head: string };
  /** Where the outputs are (kept when `keep` was asked). */
  readonly workdir: string;
  /** Removes the worktree(s) and, unless kept, the outputs. Idempotent. */
  cleanup(): void;
}

export interface SynthTreesOptions {
  /** Any directory inside the repository. */
  readonly repo: string;
  readonly base: string;
  /** A ref to compare instead of the working tree. */
  readonly head?: string;
  readonly keep?: boolean;
  readonly log?: Log;
  readonly install?: Installer;
}

/** Checks out and synthesizes base and head, in parallel. The caller must call cleanup(). */
export async function synthTrees(options: SynthTreesOptions): Promise<TreeOutputs> {
  const log = options.log ?? (() => undefined);
  const repo = repoRoot(options.repo);
  const resolve = (ref: string) => {
    try {
      return resolveCommit(repo, ref);
    } catch {
      throw new SynthError(`unknown git ref '${ref}' in ${repo}`);
    }
  };
  const baseCommit = resolve(options.base);
  const headCommit = options.head === undefined ? undefined : resolve(options.head);
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'platform-review-'));
  const checkouts: Checkout[] = [];
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    for (const checkout of checkouts) checkout.remove();
    if (!options.keep) fs.rmSync(workdir, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals) => { cleanup(); process.kill(process.pid, signal); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // A --head ref is checked out (its allow-list is read from there), like the working tree synthesized every run.
    let headRoot = repo;
    if (headCommit !== undefined) {
      const tree = addWorktree(repo, headCommit, path.join(workdir, 'head-tree'));
      checkouts.push(tree);
      const how = provideNodeModules(tree.root, repo, options.install, log);
      log(`head: worktree of ${headCommit.slice(0, 12)} at ${tree.root}, node_modules ${how === 'symlink' ? `linked from ${repo} (same package-lock.json)` : 'from the cache'}`);
      headRoot = tree.root;
    }
    // The base comes from the cache: synthesized on first use, then shared by diff, the guard and cost.
    const [base, head] = await Promise.all([
      synthCommit(repo, baseCommit, { log, install: options.install, name: 'base', onCheckout: (c) => checkouts.push(c) }),
      synthTree(headRoot, path.join(workdir, 'head'), log),
    ]);
    const short = (commit: string) => commit.slice(0, 7);
    return {
      base,
      head,
      labels: {
        base: `${options.base} (${short(baseCommit)})`,
        head: headCommit === undefined ? 'working tree' : `${options.head} (${short(headCommit)})`,
      },
      roots: { head: headRoot },
      workdir,
      cleanup: () => {
        cleanup();
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
      },
    };
  } catch (error) {
    cleanup();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    throw error;
  }
}
