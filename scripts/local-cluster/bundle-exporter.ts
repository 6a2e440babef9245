/**
 * Bundles the local cluster's PgBouncer exporter (pgbouncer-exporter.ts) into one file with the
 * services' esbuild options: `tsx scripts/local-cluster/bundle-exporter.ts <out file>`. A command
 * of its own because those options live in an ES module that the test runner cannot load.
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { NODE_BUNDLE_OPTIONS, REPO_ROOT } from '../../lib/bundling/node-bundle.mjs';

async function main(): Promise<void> {
  const outfile = process.argv[2];
  if (!outfile) throw new Error('usage: bundle-exporter.ts <out file>');
  const result = await build({
    ...NODE_BUNDLE_OPTIONS,
    entryPoints: [join(REPO_ROOT, 'scripts', 'local-cluster', 'pgbouncer-exporter.ts')],
    outfile,
    format: 'cjs',
  });
  if (result.errors.length > 0) throw new Error('esbuild failed for the PgBouncer exporter');
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
