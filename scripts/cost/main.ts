/**
 * `npm run cost`: the monthly on-demand estimate of what `npm run synth` wrote to cdk.out/,
 * per environment and stack, from the checked-in price table (scripts/cost/prices.ts).
 *
 *   npm run cost                                  text report of cdk.out/
 *   npm run cost -- --json                        the report as JSON on stdout
 *   npm run cost -- --markdown cost.md            also write a Markdown report (PR comments)
 *   npm run cost -- --base origin/main            synthesize that ref and show the change
 *   npm run cost -- --base-assembly <dir>         compare against an assembly already synthesized
 *   npm run cost -- --assembly <dir>              read another assembly than cdk.out/
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AssemblyError, diffReports, estimateAssembly } from './assembly';
import type { CostDelta } from './assembly';
import { PRICES } from './prices';
import { formatJson, formatMarkdown, formatText } from './report';
import { SynthError } from '../review/synth-trees';
import { synthesizeRef } from './synth-base';

export interface CostOptions {
  assembly: string;
  base?: string;
  baseAssembly?: string;
  markdown?: string;
  json: boolean;
}

export function parseArgs(argv: readonly string[]): CostOptions {
  const options: CostOptions = { assembly: 'cdk.out', json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--json') options.json = true;
    else if (arg === '--base') options.base = value();
    else if (arg === '--base-assembly') options.baseAssembly = value();
    else if (arg === '--markdown') options.markdown = value();
    else if (arg === '--assembly') options.assembly = value();
    else throw new Error(`unknown argument ${arg}; usage: npm run cost [-- --base <git-ref>] [--markdown <file>] [--json]`);
  }
  if (options.base && options.baseAssembly) throw new Error('give --base or --base-assembly, not both');
  return options;
}

/** Runs the CLI; returns what goes to stdout. */
export async function runCost(options: CostOptions, root: string): Promise<string> {
  const head = estimateAssembly(path.resolve(root, options.assembly), PRICES);
  let delta: CostDelta | undefined;
  if (options.baseAssembly) {
    delta = diffReports(estimateAssembly(path.resolve(root, options.baseAssembly), PRICES), head, options.baseAssembly);
  } else if (options.base) {
    const base = await synthesizeRef(root, options.base);
    try {
      delta = diffReports(estimateAssembly(base.outdir, PRICES), head, `${options.base} (${base.commit.slice(0, 12)})`);
    } finally {
      base.cleanup();
    }
  }
  if (options.markdown) fs.writeFileSync(path.resolve(root, options.markdown), formatMarkdown(head, delta));
  return options.json ? formatJson(head, delta) : formatText(head, delta);
}

if (require.main === module) {
  (async () => {
    process.stdout.write(await runCost(parseArgs(process.argv.slice(2)), process.cwd()));
  })().catch((error: unknown) => {
    const expected = error instanceof AssemblyError || error instanceof SynthError
      || (error instanceof Error && /needs a value|unknown argument|not both/.test(error.message));
    console.error(expected ? `error: ${(error as Error).message}` : error);
    process.exit(expected ? 2 : 1);
  });
}
