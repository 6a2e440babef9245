/**
 * `npm run docs`: regenerates the marked regions (`<!-- generated:NAME -->` ...
 * `<!-- /generated:NAME -->`) of README.md and docs/*.md from lib/spec, the charts rendered from
 * it and the cost estimate of the synthesized assembly.
 *
 *   npm run synth && npm run docs        rewrite the stale regions in place
 *   npm run docs -- --check              exit 1 naming each stale region; writes nothing
 *   npm run docs -- --assembly <dir>     read another cloud assembly than cdk.out/
 *
 * The stack list and the cost tables come from cdk.out/, so synthesize first: a cdk.out/ older
 * than the spec gives the old figures.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadPlatformSpec } from '../../lib/spec';
import { AssemblyError, estimateAssembly } from '../cost/assembly';
import { PRICES } from '../cost/prices';
import { generateDocs, renderedAutoscaling } from './generate';
import { RegionError } from './regions';

export interface DocsOptions {
  readonly check: boolean;
  readonly assembly: string;
}

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): DocsOptions {
  let check = false;
  let assembly = 'cdk.out';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--check') check = true;
    else if (arg === '--assembly') {
      const value = argv[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError('--assembly needs a value');
      assembly = value;
    } else throw new UsageError(`unknown argument ${arg}; usage: npm run docs [-- --check] [--assembly <dir>]`);
  }
  return { check, assembly };
}

/** Runs the command in `root`; returns the exit code and what it printed. */
export function runDocs(options: DocsOptions, root: string): { code: number; output: string } {
  // The repository's spec as written: no account override from the shell reaches the docs.
  const spec = loadPlatformSpec();
  const results = generateDocs(root, {
    spec,
    autoscaling: renderedAutoscaling(spec),
    cost: estimateAssembly(path.resolve(root, options.assembly), PRICES),
  });
  const stale = results.filter((r) => r.stale.length > 0);
  const lines: string[] = [];
  if (options.check) {
    for (const r of stale) for (const name of r.stale) lines.push(`stale: ${r.file} generated:${name}`);
    lines.push(stale.length === 0 ? 'docs: every generated region is current' : 'docs: run `npm run synth && npm run docs` and commit the result');
    return { code: stale.length === 0 ? 0 : 1, output: `${lines.join('\n')}\n` };
  }
  for (const r of stale) {
    fs.writeFileSync(path.join(root, r.file), r.generated);
    lines.push(`updated: ${r.file} (${r.stale.map((n) => `generated:${n}`).join(', ')})`);
  }
  const regions = results.reduce((n, r) => n + (r.current.match(/<!-- generated:/g)?.length ?? 0), 0);
  lines.push(`docs: ${regions} generated regions in ${results.filter((r) => r.current.includes('<!-- generated:')).length} files, ${stale.length} files updated`);
  return { code: 0, output: `${lines.join('\n')}\n` };
}

if (require.main === module) {
  try {
    const { code, output } = runDocs(parseArgs(process.argv.slice(2)), process.cwd());
    process.stdout.write(output);
    process.exit(code);
  } catch (error) {
    const expected = error instanceof UsageError || error instanceof AssemblyError || error instanceof RegionError;
    console.error(expected ? `error: ${(error as Error).message}` : error);
    process.exit(2);
  }
}
