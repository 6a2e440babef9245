import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Besides what a build reads, what decides a bundle's bytes: the bundler's code and the dependencies' versions. */
const BUILD_DEFINITION = ['lib/bundling/node-bundle.mts', 'package-lock.json'];

export interface BundleCacheOptions {
  /** Where the entries are kept (default `.cache/bundles` in the repository). */
  readonly root?: string;
}

/**
 * Bundles a handler folder (its bundle.mjs writes the handler into a given directory) into
 * `outputDir`, reusing the bundle of an earlier synth when nothing it was made from changed.
 * Every synth of an environment bundled both handlers again, a Node process and an esbuild build
 * each (about half a second of CPU), for the same bytes. An entry is used only while every file
 * the build read (esbuild's metafile inputs, which bundle.mjs reports), the bundle script,
 * lib/bundling/node-bundle.mts and package-lock.json hash as they did; otherwise the handler is
 * bundled again and the entry replaced. Entries are written whole (a folder renamed into place).
 */
export function bundleWithCache(bundleDir: string, outputDir: string, options: BundleCacheOptions = {}): 'built' | 'cached' {
  const root = options.root ?? path.join(REPO_ROOT, '.cache', 'bundles');
  const script = path.join(bundleDir, 'bundle.mjs');
  const definition = hashFiles([path.relative(REPO_ROOT, script), ...BUILD_DEFINITION]);
  if (!definition) {
    bundle(script, outputDir);
    return 'built';
  }
  const name = path.basename(bundleDir);
  const key = createHash('sha256').update(JSON.stringify([path.relative(REPO_ROOT, bundleDir), definition])).digest('hex').slice(0, 16);
  const entry = path.join(root, `${name}-${key}`);
  if (copyEntry(entry, outputDir)) return 'cached';

  fs.mkdirSync(root, { recursive: true });
  const partial = `${entry}.${process.pid}-${randomBytes(4).toString('hex')}`;
  fs.mkdirSync(partial);
  try {
    const inputsFile = path.join(partial, 'inputs.list');
    bundle(script, outputDir, inputsFile);
    const inputs = hashFiles(JSON.parse(fs.readFileSync(inputsFile, 'utf8')) as string[]);
    fs.rmSync(inputsFile);
    // An input that is not a file of the repository (a virtual module) cannot be checked: no entry.
    if (inputs) {
      fs.cpSync(outputDir, path.join(partial, 'output'), { recursive: true });
      fs.writeFileSync(path.join(partial, 'inputs.json'), JSON.stringify(inputs));
      fs.rmSync(entry, { recursive: true, force: true });
      try {
        fs.renameSync(partial, entry);
      } catch {
        // Another synth put its entry there first: the same bytes.
      }
      // The same handler's entries of earlier definitions (another lock file, bundler, script).
      for (const other of fs.readdirSync(root)) {
        if (/^(.+)-[0-9a-f]{16}$/.exec(other)?.[1] === name && other !== path.basename(entry)) fs.rmSync(path.join(root, other), { recursive: true, force: true });
      }
    }
  } finally {
    fs.rmSync(partial, { recursive: true, force: true });
  }
  return 'built';
}

/** Runs the handler's bundle.mjs into `outputDir` (a child process: esbuild plugins need its async API). */
function bundle(script: string, outputDir: string, inputsFile?: string): void {
  const run = spawnSync(process.execPath, [script, outputDir], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: inputsFile ? { ...process.env, BUNDLE_INPUTS_FILE: inputsFile } : process.env,
  });
  if (run.status !== 0) throw new Error(`bundling ${script} failed (exit ${run.status ?? run.signal})`);
}

/** The entry's output copied into `outputDir` if every input it records still hashes the same. */
function copyEntry(entry: string, outputDir: string): boolean {
  try {
    const recorded = JSON.parse(fs.readFileSync(path.join(entry, 'inputs.json'), 'utf8')) as Record<string, string>;
    const current = hashFiles(Object.keys(recorded));
    if (!current || Object.entries(recorded).some(([file, hash]) => current[file] !== hash)) return false;
    fs.cpSync(path.join(entry, 'output'), outputDir, { recursive: true });
    return true;
  } catch {
    // No entry, or one being replaced: bundle.
    return false;
  }
}

/** sha256 of each file (paths relative to the repository), or undefined if one is not a readable file. */
function hashFiles(files: readonly string[]): Record<string, string> | undefined {
  const hashes: Record<string, string> = {};
  for (const file of files) {
    try {
      hashes[file] = createHash('sha256').update(fs.readFileSync(path.join(REPO_ROOT, file))).digest('hex');
    } catch {
      return undefined;
    }
  }
  return hashes;
}
