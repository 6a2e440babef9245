// Bundles handler.ts into one ESM file, index.mjs, in the directory given as argv[2].
// Run by ../bundled-provider.ts at synth (a child process: esbuild plugins need its async API).
// Deterministic: same sources, same bytes (no timestamps, no absolute paths, no source map).
//
// @platformatic/wasm-utils reads its WebAssembly (crc32c, lz4, snappy) with
// readFileSync(new URL('../dist/native.wasm', import.meta.url)), a path that does not exist
// inside a one-file bundle. The plugin below embeds the .wasm bytes instead, and fails the
// build when the library no longer reads it that way (so an upgrade cannot break it silently).
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = process.argv[2];
if (!outdir) {
  console.error('usage: node bundle.mjs <output directory>');
  process.exit(2);
}

const WASM_READ = "readFileSync(new URL('../dist/native.wasm', import.meta.url))";

const embedWasm = {
  name: 'embed-platformatic-wasm',
  setup(b) {
    b.onLoad({ filter: /[\\/]@platformatic[\\/]wasm-utils[\\/]dist[\\/]index\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes(WASM_READ)) {
        throw new Error(`${args.path} no longer contains ${WASM_READ}: update lib/custom-resources/kafka-topics/bundle.mjs`);
      }
      const wasmPath = path.join(path.dirname(args.path), 'native.wasm');
      return {
        contents: `import __embeddedWasm from ${JSON.stringify(wasmPath)};\n${source.replace(WASM_READ, '__embeddedWasm')}`,
        loader: 'js',
        resolveDir: path.dirname(args.path),
      };
    });
  },
};

await build({
  entryPoints: [path.join(here, 'handler.ts')],
  outfile: path.join(outdir, 'index.mjs'),
  absWorkingDir: path.resolve(here, '..', '..', '..'),
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  mainFields: ['module', 'main'],
  // The Lambda runtime provides the AWS SDK v3.
  external: ['@aws-sdk/*'],
  loader: { '.wasm': 'binary' },
  // Some bundled CommonJS calls require() for Node built-ins; ESM has no require of its own.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  legalComments: 'none',
  minify: true,
  sourcemap: false,
  logLevel: 'warning',
  plugins: [embedWasm],
});
