/** What the two review commands share: argument parsing, the two synths, errors and exit codes. */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { compareTrees } from './compare';
import type { TreeComparison } from './compare';
import type { Labels } from './render';
import { synthTrees } from './synth-trees';
import type { SynthOutput } from './assembly';

/** Exit codes: 0 fine, 1 the check failed, 2 the tool could not run (bad arguments, synth error). */
export const EXIT_FAILED = 1;
export const EXIT_ERROR = 2;

export class UsageError extends Error {}

const COMMON = {
  base: { type: 'string' },
  head: { type: 'string' },
  keep: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export type Args = Record<string, string | boolean | undefined> & { base: string; head?: string; keep?: boolean };

export function parse(argv: string[], extra: NonNullable<ParseArgsConfig['options']>, usage: string): Args {
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: { ...COMMON, ...extra }, allowPositionals: false, strict: true }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${usage}`);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  if (typeof values.base !== 'string' || !values.base) throw new UsageError(`--base <git-ref> is required\n${usage}`);
  return values as Args;
}

export interface Compared {
  readonly comparison: TreeComparison;
  /** The two synthesized outputs (removed after `use` returns). */
  readonly outputs: { readonly base: SynthOutput; readonly head: SynthOutput };
  readonly labels: Labels;
  /** The directory whose files (allow-list) belong to the head: the working tree, or the head checkout. */
  readonly headRoot: string;
}

/** Synthesizes base and head, compares them, cleans up; logs progress to stderr. */
export async function synthAndCompare(options: { base: string; head?: string; keep?: boolean }, use: (compared: Compared) => void): Promise<void> {
  const log = (message: string) => console.error(`review: ${message}`);
  const trees = await synthTrees({ repo: process.cwd(), base: options.base, head: options.head, keep: options.keep, log });
  try {
    const comparison = compareTrees(trees.base, trees.head);
    use({ comparison, labels: trees.labels, headRoot: trees.roots.head, outputs: { base: trees.base, head: trees.head } });
    if (options.keep) log(`outputs kept in ${trees.workdir}`);
  } finally {
    trees.cleanup();
  }
}

/** Runs a command's main, mapping errors to exit code 2 with a one-line message. */
export function main(body: () => Promise<number>): void {
  body().then((code) => { process.exitCode = code; }, (error: unknown) => {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = EXIT_ERROR;
  });
}
