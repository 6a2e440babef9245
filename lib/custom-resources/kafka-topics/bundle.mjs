// Bundles handler.ts into one ESM file, index.mjs, in the directory given as argv[2].
// Run by ../bundled-provider.ts at synth (a child process: esbuild plugins need its async API).
// Deterministic: same sources, same bytes (lib/bundling/node-bundle.mts).
//
// @platformatic/wasm-utils reads its WebAssembly (crc32c, lz4, snappy) with
// readFileSync(new URL('../dist/native.wasm', import.meta.url)), a path that does not exist
// inside a one-file bundle. The patch below embeds the .wasm bytes instead, and fails the
// build when the library no longer reads it that way (so an upgrade cannot break it silently).
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleLambdaHandler, bundleOutdirArg, patchDependency } from '../../bundling/node-bundle.mts';

const embedWasm = patchDependency({
  name: 'embed-platformatic-wasm',
  filter: /[\\/]@platformatic[\\/]wasm-utils[\\/]dist[\\/]index\.js$/,
  find: "readFileSync(new URL('../dist/native.wasm', import.meta.url))",
  replace: '__embeddedWasm',
  prefix: (file) => `import __embeddedWasm from ${JSON.stringify(path.join(path.dirname(file), 'native.wasm'))};\n`,
  owner: 'lib/custom-resources/kafka-topics/bundle.mjs',
});

await bundleLambdaHandler(path.dirname(fileURLToPath(import.meta.url)), bundleOutdirArg(), {
  loader: { '.wasm': 'binary' },
  // Some bundled CommonJS calls require() for Node built-ins; ESM has no require of its own.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  plugins: [embedWasm],
});
