// Bundles handler.ts into one ESM file, index.mjs, in the directory given as argv[2].
// Run by ../bundled-provider.ts at synth (a child process, as lib/custom-resources/kafka-topics/bundle.mjs).
// Deterministic: same sources, same bytes (no timestamps, no absolute paths, no source map).
import { build } from 'esbuild';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = process.argv[2];
if (!outdir) {
  console.error('usage: node bundle.mjs <output directory>');
  process.exit(2);
}

await build({
  entryPoints: [path.join(here, 'handler.ts')],
  outfile: path.join(outdir, 'index.mjs'),
  absWorkingDir: path.resolve(here, '..', '..', '..'),
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  mainFields: ['module', 'main'],
  // The Lambda runtime provides the AWS SDK v3 (client-redshift-data and client-secrets-manager included).
  external: ['@aws-sdk/*'],
  legalComments: 'none',
  minify: true,
  sourcemap: false,
  logLevel: 'warning',
});
