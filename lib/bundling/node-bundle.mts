// How the repository bundles code for Node with esbuild: the custom resources' Lambda handlers
// (at synth, by their bundle.mjs) and the services (scripts/build-services.ts). Deterministic:
// paths stay relative to the repository root and nothing depends on the machine or the time, so
// the same sources give the same bytes (the handlers' asset hashes are hashes of these bytes).
//
// An .mts file so that plain Node runs it for bundle.mjs (type stripping; ES module whatever the
// package.json says) as well as tsx for the scripts.
import * as path from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { BuildOptions, Plugin } from 'esbuild';

export const REPO_ROOT: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What every Node bundle shares: one file for Node 24, paths relative to the repository. */
export const NODE_BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  absWorkingDir: REPO_ROOT,
  legalComments: 'none',
  logLevel: 'warning',
} as const satisfies BuildOptions;

export interface DependencyPatch {
  /** The plugin's name. */
  readonly name: string;
  /** The dependency's files to patch (esbuild onLoad filter on the absolute path). */
  readonly filter: RegExp;
  /** The text to replace (its first occurrence); the build fails when a file no longer has it. */
  readonly find: string;
  readonly replace: string;
  /** Code put before the patched source, given the file's path (e.g. an import the replacement uses). */
  readonly prefix?: (file: string) => string;
  /** Where the patch is written, for the message when the dependency changed. */
  readonly owner: string;
}

/**
 * A plugin that loads a dependency's files with one text replaced: for a dependency that reads
 * a file from beside its own at run time, a path a one-file bundle no longer has. An upgrade that
 * drops the text fails the build, naming where to update the patch, instead of a bundle that
 * breaks at run time.
 */
export function patchDependency(patch: DependencyPatch): Plugin {
  return {
    name: patch.name,
    setup(b) {
      b.onLoad({ filter: patch.filter }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        if (!source.includes(patch.find)) {
          throw new Error(`${args.path} no longer contains ${patch.find}: update ${patch.owner}`);
        }
        return {
          contents: (patch.prefix?.(args.path) ?? '') + source.replace(patch.find, () => patch.replace),
          loader: 'js',
          resolveDir: path.dirname(args.path),
        };
      });
    },
  };
}

/**
 * Bundles `<handlerDir>/handler.ts` into `<outdir>/index.mjs`, a minified ES module for the
 * Lambda Node.js 24 runtime (which provides the AWS SDK v3), without a source map. `extra` adds
 * a handler's own loaders, banner or plugins.
 */
export async function bundleLambdaHandler(handlerDir: string, outdir: string, extra: BuildOptions = {}): Promise<void> {
  const result = await build({
    ...NODE_BUNDLE_OPTIONS,
    entryPoints: [path.join(handlerDir, 'handler.ts')],
    outfile: path.join(outdir, 'index.mjs'),
    format: 'esm',
    mainFields: ['module', 'main'],
    external: ['@aws-sdk/*'],
    minify: true,
    sourcemap: false,
    metafile: true,
    ...extra,
  });
  await writeBundleInputs(result.metafile);
}

/**
 * Every file a build read (esbuild's metafile inputs, relative to the repository), written to
 * the file BUNDLE_INPUTS_FILE names when set: what the synth's bundle cache checks before it
 * reuses a bundle (lib/custom-resources/bundle-cache.ts).
 */
async function writeBundleInputs(metafile: { inputs: Record<string, unknown> } | undefined): Promise<void> {
  const file = process.env.BUNDLE_INPUTS_FILE;
  if (!file) return;
  if (!metafile) throw new Error('esbuild returned no metafile: the bundle cache cannot know what the build read');
  await writeFile(file, JSON.stringify(Object.keys(metafile.inputs).sort()));
}

/** The output directory a handler's bundle.mjs is given (argv[2]); exits with its usage without one. */
export function bundleOutdirArg(): string {
  const outdir = process.argv[2];
  if (!outdir) {
    console.error('usage: node bundle.mjs <output directory>');
    process.exit(2);
  }
  return outdir;
}
