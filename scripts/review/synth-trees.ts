/**
 * The two synths behind `npm run diff` and `npm run check:replacements`: the base (a git ref,
 * checked out as a `git worktree` in a temp dir) and the head (the working tree, or another ref),
 * each synthesized into temp dirs, never into the user's cdk.out/ or dist/. Offline: the app
 * runs the way the CDK CLI runs it (cdk.json's `app` command with CDK_OUTDIR and
 * CDK_CONTEXT_JSON), and charts/main.ts renders the manifests. No AWS credentials involved.
 */
import { execFileSync, spawn } from 'node:child_process';
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

/** The chart renderer of a tree, if it has one: `tsx charts/main.ts <outdir>`. */
export const CHARTS_ENTRY = 'charts/main.ts';

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
  const jobs = [run(app, root, env, 'CDK app synthesis')];
  const hasCharts = fs.existsSync(path.join(root, CHARTS_ENTRY));
  if (hasCharts) jobs.push(run(`tsx ${CHARTS_ENTRY} '${dist}'`, root, env, 'chart rendering'));
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

/**
 * Gives a checkout its node_modules: a symlink to `from`'s when their package-lock.json files
 * are byte-identical (the same packages), else a real install.
 */
export function provideNodeModules(checkout: string, from: string, install: Installer = npmCi): 'symlink' | 'install' {
  const theirs = readOrUndefined(path.join(checkout, 'package-lock.json'));
  const ours = readOrUndefined(path.join(from, 'package-lock.json'));
  if ((theirs === undefined && ours === undefined) || (theirs && ours && theirs.equals(ours))) {
    fs.symlinkSync(fs.realpathSync(path.join(from, 'node_modules')), path.join(checkout, 'node_modules'), 'dir');
    return 'symlink';
  }
  install(checkout);
  return 'install';
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
  /** The trees synthesized (the head is the repository itself unless a head ref was given). */
  readonly roots: { readonly base: string; readonly head: string };
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
    const checkout = (commit: string, name: string) => {
      const tree = addWorktree(repo, commit, path.join(workdir, name));
      checkouts.push(tree);
      const how = provideNodeModules(tree.root, repo, options.install);
      log(`${name}: worktree of ${commit.slice(0, 12)} at ${tree.root}, node_modules ${how === 'symlink' ? `linked from ${repo} (same package-lock.json)` : 'installed with npm ci (package-lock.json differs)'}`);
      return tree.root;
    };
    const baseRoot = checkout(baseCommit, 'base-tree');
    const headRoot = headCommit === undefined ? repo : checkout(headCommit, 'head-tree');
    const [base, head] = await Promise.all([
      synthTree(baseRoot, path.join(workdir, 'base'), log),
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
      roots: { base: baseRoot, head: headRoot },
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
