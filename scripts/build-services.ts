/**
 * Bundles every service (services/<svc>/src/main.ts) into build/services/<svc>/main.js with
 * esbuild — one file, Node 24 — and copies the service's SQL migrations beside it
 * (DESIGN.md §5). Output is deterministic: same sources, same bytes.
 *
 * Usage: tsx scripts/build-services.ts [service ...]   (default: every service with a main.ts)
 */
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import type { Plugin } from 'esbuild';

const ROOT = resolve(__dirname, '..');
const SERVICES_DIR = join(ROOT, 'services');
export const OUT_DIR = join(ROOT, 'build', 'services');

const HEALTH_PROTO_DIR = join(ROOT, 'node_modules', 'grpc-health-check', 'proto');

/**
 * grpc-health-check loads health.proto at run time from a path relative to its own file; in a
 * bundle that file is gone, so point it at the copy placed beside main.js (`proto/`).
 */
const healthProtoPlugin: Plugin = {
  name: 'grpc-health-check-proto',
  setup(b) {
    b.onLoad({ filter: /grpc-health-check[\\/]build[\\/]src[\\/]health\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const patched = source.replace('includeDirs: [`${__dirname}/../../proto`]', "includeDirs: [path.join(__dirname, 'proto')]");
      if (patched === source) throw new Error('grpc-health-check changed: update healthProtoPlugin in scripts/build-services.ts');
      return { contents: patched, loader: 'js' };
    });
  },
};

export function servicesWithEntry(): string[] {
  return readdirSync(SERVICES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(SERVICES_DIR, d.name, 'src', 'main.ts')))
    .map((d) => d.name)
    .sort();
}

export async function buildService(name: string): Promise<string> {
  const entry = join(SERVICES_DIR, name, 'src', 'main.ts');
  if (!existsSync(entry)) throw new Error(`services/${name}/src/main.ts does not exist`);
  const outDir = join(OUT_DIR, name);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, 'main.js');
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    // The ESM-only dependencies use import.meta.url; give them the CommonJS equivalent.
    define: { 'import.meta.url': '__importMetaUrl' },
    banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    sourcemap: 'linked',
    sourcesContent: false,
    // Paths in the bundle and its map stay relative to the repository: no machine-specific bytes.
    absWorkingDir: ROOT,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    plugins: [healthProtoPlugin],
    // The Kafka client's WebAssembly (crc32c, compression) is read from a file beside the
    // package at load time; the package's `bundled` entry inlines it, made for bundlers.
    alias: { '@platformatic/wasm-utils': '@platformatic/wasm-utils/bundled' },
  });
  if (result.errors.length > 0) throw new Error(`esbuild failed for ${name}`);
  const migrations = join(SERVICES_DIR, name, 'migrations');
  if (existsSync(migrations)) cpSync(migrations, join(outDir, 'migrations'), { recursive: true });
  if (Object.keys(result.metafile.inputs).some((p) => p.includes('grpc-health-check'))) cpSync(HEALTH_PROTO_DIR, join(outDir, 'proto'), { recursive: true });
  return outfile;
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const names = wanted.length > 0 ? wanted : servicesWithEntry();
  if (names.length === 0) throw new Error('no services/<svc>/src/main.ts found');
  for (const name of names) {
    const outfile = await buildService(name);
    console.log(`${name}: ${outfile.slice(ROOT.length + 1)}`);
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
