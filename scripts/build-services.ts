/**
 * Bundles every service (services/<svc>/src/main.ts) into build/services/<svc>/main.js with
 * esbuild — one file, Node 24 — and copies the service's SQL migrations beside it
 * (DESIGN.md §5). Output is deterministic: same sources, same bytes.
 *
 * Usage: tsx scripts/build-services.ts [--out=<dir>] [service ...]   (default: every service with a main.ts,
 * into build/services)
 */
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { NODE_BUNDLE_OPTIONS, REPO_ROOT as ROOT, patchDependency } from '../lib/bundling/node-bundle.mjs';

const SERVICES_DIR = join(ROOT, 'services');
export const OUT_DIR = join(ROOT, 'build', 'services');

const HEALTH_PROTO_DIR = join(ROOT, 'node_modules', 'grpc-health-check', 'proto');

/**
 * grpc-health-check loads health.proto at run time from a path relative to its own file; in a
 * bundle that file is gone, so point it at the copy placed beside main.js (`proto/`).
 */
const healthProtoPlugin = patchDependency({
  name: 'grpc-health-check-proto',
  filter: /grpc-health-check[\\/]build[\\/]src[\\/]health\.js$/,
  find: 'includeDirs: [`${__dirname}/../../proto`]',
  replace: "includeDirs: [path.join(__dirname, 'proto')]",
  owner: 'healthProtoPlugin in scripts/build-services.ts',
});

export function servicesWithEntry(): string[] {
  return readdirSync(SERVICES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(SERVICES_DIR, d.name, 'src', 'main.ts')))
    .map((d) => d.name)
    .sort();
}

/** Bundles one service into `<root>/<name>/` (default build/services/, what the Dockerfiles copy). */
export async function buildService(name: string, root = OUT_DIR): Promise<string> {
  const entry = join(SERVICES_DIR, name, 'src', 'main.ts');
  if (!existsSync(entry)) throw new Error(`services/${name}/src/main.ts does not exist`);
  const outDir = join(root, name);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, 'main.js');
  const result = await build({
    ...NODE_BUNDLE_OPTIONS,
    entryPoints: [entry],
    outfile,
    format: 'cjs',
    // The ESM-only dependencies use import.meta.url; give them the CommonJS equivalent.
    define: { 'import.meta.url': '__importMetaUrl' },
    banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    sourcemap: 'linked',
    sourcesContent: false,
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
  const args = process.argv.slice(2);
  // --out=<dir>: another folder than build/services (a build context of a test's own).
  const out = args.find((a) => a.startsWith('--out='))?.slice('--out='.length);
  const wanted = args.filter((a) => !a.startsWith('--out='));
  const names = wanted.length > 0 ? wanted : servicesWithEntry();
  if (names.length === 0) throw new Error('no services/<svc>/src/main.ts found');
  for (const name of names) {
    const outfile = await buildService(name, out ? resolve(out) : OUT_DIR);
    console.log(`${name}: ${outfile.startsWith(ROOT) ? outfile.slice(ROOT.length + 1) : outfile}`);
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
