/**
 * Synthesizes the CDK app at another git ref (the base of a pull request) into a temporary
 * directory, without touching this checkout. The machinery is the review tools' (scripts/review/
 * synth-trees.ts, shared with `npm run diff`): a detached `git worktree` under the OS temp
 * directory, this checkout's node_modules symlinked in when package-lock.json is the same at the
 * ref (else `npm ci` there), and cdk.json's app (`npx tsx bin/platform.ts`) run with CDK_OUTDIR
 * and CDK_CONTEXT_JSON = the ref's cdk.json context. Only the base is synthesized: the head is
 * the cdk.out/ that `npm run synth` wrote.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { addWorktree, provideNodeModules, repoRoot, resolveCommit, synthTree } from '../review/synth-trees';
import type { Checkout } from '../review/synth-trees';

export interface BaseSynth {
  /** The cloud assembly of the ref. */
  readonly outdir: string;
  /** The commit the ref resolved to. */
  readonly commit: string;
  /** Removes the worktree and the temporary directory. */
  cleanup(): void;
}

/** Progress goes to stderr, so `--json` output on stdout stays clean. */
const log = (message: string) => process.stderr.write(`cost: ${message}\n`);

export async function synthesizeRef(dir: string, ref: string): Promise<BaseSynth> {
  const repo = repoRoot(dir);
  const commit = resolveCommit(repo, ref);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'platform-cost-base-'));
  let checkout: Checkout | undefined;
  const cleanup = () => {
    checkout?.remove();
    checkout = undefined;
    fs.rmSync(work, { recursive: true, force: true });
  };
  try {
    log(`synthesizing ${ref} (${commit.slice(0, 12)}) in a temporary worktree`);
    checkout = addWorktree(repo, commit, path.join(work, 'tree'));
    provideNodeModules(checkout.root, repo);
    const output = await synthTree(checkout.root, path.join(work, 'out'), log);
    return { outdir: output.cdkOut, commit, cleanup };
  } catch (error) {
    cleanup();
    throw error;
  }
}
