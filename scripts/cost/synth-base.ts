/**
 * Synthesizes the CDK app at another git ref (the base of a pull request), without touching this
 * checkout. The machinery is the review tools' (scripts/review/synth-trees.ts): the synth of a
 * commit is cached in .cache/review/synth/ (keyed by commit, lock file and environment), made on
 * first use in a temporary `git worktree` with this checkout's node_modules when package-lock.json
 * is the same at the ref, else the ref's dependencies installed once into .cache/review/deps/.
 * `npm run diff` and `npm run check:replacements` against the same base share it. Only the base is
 * synthesized: the head is the cdk.out/ that `npm run synth` wrote.
 */
import { repoRoot, resolveCommit, synthCommit } from '../review/synth-trees';

export interface BaseSynth {
  /** The cloud assembly of the ref (in the cache: read it, do not change it). */
  readonly outdir: string;
  /** The commit the ref resolved to. */
  readonly commit: string;
  /** Whether the synth came from the cache (an earlier run of cost, diff or check:replacements). */
  readonly cached: boolean;
  /** Nothing to remove any more (the cache keeps the synth for the next run); kept for callers. */
  cleanup(): void;
}

/** Progress goes to stderr, so `--json` output on stdout stays clean. */
const log = (message: string) => process.stderr.write(`cost: ${message}\n`);

export async function synthesizeRef(dir: string, ref: string): Promise<BaseSynth> {
  const repo = repoRoot(dir);
  const commit = resolveCommit(repo, ref);
  const output = await synthCommit(repo, commit, { log, name: ref });
  return { outdir: output.cdkOut, commit, cached: output.cached, cleanup: () => undefined };
}
