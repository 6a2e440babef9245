/**
 * Runs a TypeScript entry of this repository (the CDK app, the chart renderer, a script) from
 * JavaScript transpiled ahead of time, file by file, into build/js/. Plain node then loads
 * aws-cdk-lib's thousands of modules without a TypeScript loader hooked into every require:
 * under tsx the CDK app alone took longer than the whole synthesis precompiled.
 *
 *   node scripts/precompile.mjs [--compile-only] [<entry.ts> [args...]]
 *
 * Only sources whose content changed since the last run are transpiled again: each output's
 * banner names the hash of the source (and of the transpiler's options) it was made from.
 * The outputs of deleted sources are removed (build/js/.sources.json lists the last run's
 * sources), so a stale module never answers for a missing one. Type checking stays with `npm
 * run typecheck`, as under tsx. __dirname and __filename keep naming the source's folder and
 * file: constructs read files beside their module (handler sources, migrations, schemas). JSON
 * modules are symlinked. Stack traces name the TypeScript sources (inline source maps).
 *
 * Two runs at once in one checkout (the app and the chart renderer start together) are safe:
 * every file is written to a temporary name and renamed into place.
 */
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Everything an entry may import: the app, its library, the charts and the scripts. */
const SOURCE_DIRS = ['bin', 'lib', 'charts', 'scripts'];
const OUT_DIR = path.join(root, 'build', 'js');
const STATE_FILE = path.join(OUT_DIR, '.sources.json');

/** @returns {string[]} paths relative to the root */
function sourceFiles() {
  const files = [];
  for (const dir of SOURCE_DIRS.filter((d) => fs.existsSync(path.join(root, d)))) {
    for (const entry of fs.readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const file = path.relative(root, path.join(entry.parentPath, entry.name));
      if ((file.endsWith('.ts') && !file.endsWith('.d.ts')) || file.endsWith('.json')) files.push(file);
    }
  }
  return files.sort();
}

/** @param {string} file */
function outputOf(file) {
  return path.join(OUT_DIR, file.endsWith('.ts') ? file.replace(/\.ts$/, '.js') : file);
}

/** @param {string} file @param {(tmp: string) => void} write */
function writeAtomically(file, write) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.rmSync(tmp, { force: true }); // left by a run that was killed
  write(tmp);
  fs.renameSync(tmp, file);
}

/** @param {string} file @returns {string[]} the first two lines of a file (a hashbang, then the banner), or none */
function head(file) {
  let fd;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    const buffer = Buffer.alloc(256);
    return buffer.toString('utf8', 0, fs.readSync(fd, buffer, 0, buffer.length, 0)).split('\n').slice(0, 2);
  } finally {
    fs.closeSync(fd);
  }
}

/** @param {string} file @returns {string | undefined} where a symlink points */
function readLink(file) {
  try {
    return fs.readlinkSync(file);
  } catch {
    return undefined;
  }
}

/** @returns {string[]} the sources of the last run */
function lastSources() {
  try {
    return JSON.parse(fs.readFileSync(STATE_FILE, 'utf8'));
  } catch {
    return [];
  }
}

/** Transpiles what changed since the last run. */
async function compile() {
  const tsconfig = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.json'), 'utf8'));
  /** @type {import('esbuild').TransformOptions} */
  const base = {
    loader: 'ts', format: 'cjs', target: `node${process.versions.node.split('.')[0]}`,
    sourcemap: 'inline', sourcesContent: false, tsconfigRaw: { compilerOptions: tsconfig.compilerOptions },
  };
  // A new esbuild, Node, tsconfig or checkout folder (__dirname) makes every key new. esbuild
  // itself is loaded only when something is to be transpiled.
  const esbuildVersion = createRequire(import.meta.url)('esbuild/package.json').version;
  const options = `${esbuildVersion} ${root} ${JSON.stringify(base)}`;
  const sources = sourceFiles();
  /** @type {{ text: string, options: import('esbuild').TransformOptions, out: string }[]} */
  const work = [];
  for (const file of sources) {
    const source = path.join(root, file);
    const out = outputOf(file);
    if (file.endsWith('.json')) {
      const target = path.relative(path.dirname(out), source);
      if (readLink(out) !== target) writeAtomically(out, (tmp) => fs.symlinkSync(target, tmp));
      continue;
    }
    const text = fs.readFileSync(source, 'utf8');
    const banner = `// precompiled ${createHash('sha256').update(options).update(text).digest('hex')}`;
    if (head(out).includes(banner)) continue;
    work.push({
      text, out, options: {
        ...base,
        banner,
        sourcefile: source,
        define: { __dirname: JSON.stringify(path.dirname(source)), __filename: JSON.stringify(source) },
      },
    });
  }
  if (work.length > 0) {
    const { transform } = await import('esbuild');
    await Promise.all(work.map(async ({ text, out, options: transformOptions }) => {
      const { code } = await transform(text, transformOptions);
      writeAtomically(out, (tmp) => fs.writeFileSync(tmp, code));
    }));
  }
  const current = new Set(sources);
  for (const file of lastSources()) {
    if (!current.has(file)) fs.rmSync(outputOf(file), { force: true });
  }
  writeAtomically(STATE_FILE, (tmp) => fs.writeFileSync(tmp, `${JSON.stringify(sources)}\n`));
  // The outputs are CommonJS whatever a package.json above them says.
  const pkg = path.join(OUT_DIR, 'package.json');
  if (!fs.existsSync(pkg)) writeAtomically(pkg, (tmp) => fs.writeFileSync(tmp, '{ "type": "commonjs" }\n'));
}

/**
 * Runs the entry's JavaScript in a child node (so that no frame of this runner shows in the
 * stack traces CDK records in the assembly's metadata), passing signals on and its exit status
 * back.
 * @param {string} entry @param {string[]} args
 */
function run(entry, args) {
  const file = path.relative(root, path.resolve(entry));
  if (!file.endsWith('.ts') || !fs.existsSync(path.join(root, file))) {
    console.error(`precompile: ${entry} is not a TypeScript file of this repository`);
    process.exit(2);
  }
  const child = spawn(process.execPath, ['--enable-source-maps', outputOf(file), ...args], { stdio: 'inherit' });
  const forward = (/** @type {NodeJS.Signals} */ signal) => child.kill(signal);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, forward);
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const compileOnly = args[0] === '--compile-only';
  await compile();
  if (!compileOnly) {
    if (args.length === 0) {
      console.error('usage: node scripts/precompile.mjs [--compile-only] [<entry.ts> [args...]]');
      process.exit(2);
    }
    run(args[0], args.slice(1));
  }
}
