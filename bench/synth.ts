/**
 * Synthesis benchmark: the median wall time of a full `npm run synth` (CDK CLI + tsx, as a
 * developer runs it) against its floor, the same synthesis from pre-compiled JavaScript
 * (bin/, lib/ and charts/ transpiled file by file with esbuild into a copy of the tree, run by
 * plain node, no CLI). Prints both and the ratio. File by file, not one bundle: constructs that
 * read files beside their own module (__dirname, e.g. the Kafka topics handler's bundler) must
 * find them.
 *
 *   npm run bench:synth [-- --runs 5]
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { transformSync } from 'esbuild';

const root = path.join(__dirname, '..');
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function time(label: string, fn: () => void): number[] {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1e9);
    console.error(`${label} run ${i + 1}/${runs}: ${samples[i].toFixed(2)} s`);
  }
  return samples;
}

const env = { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true', CDK_DISABLE_CLI_TELEMETRY: 'true' };

// The floor: compile once (not timed), then run the app and the chart renderer with node.
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'platform-bench-'));
for (const dir of ['bin', 'lib', 'charts']) {
  fs.cpSync(path.join(root, dir), path.join(work, dir), { recursive: true });
  for (const entry of fs.readdirSync(path.join(work, dir), { recursive: true, withFileTypes: true })) {
    const file = path.join(entry.parentPath, entry.name);
    if (!entry.isFile() || !file.endsWith('.ts') || file.endsWith('.d.ts')) continue;
    const { code } = transformSync(fs.readFileSync(file, 'utf8'), { loader: 'ts', format: 'cjs', target: 'node20', sourcefile: file });
    fs.writeFileSync(file.replace(/\.ts$/, '.js'), code);
  }
}
// The copy resolves packages from the repository's node_modules, and reads the analytics job's
// sources (the jar's key) and the warehouse migrations from the repository.
fs.symlinkSync(path.join(root, 'node_modules'), path.join(work, 'node_modules'));
fs.symlinkSync(path.join(root, 'analytics'), path.join(work, 'analytics'));
const context = JSON.parse(fs.readFileSync(path.join(root, 'cdk.json'), 'utf8')).context;

const full = time('npm run synth', () => {
  execFileSync('npm', ['run', '--silent', 'synth'], { cwd: root, env, stdio: 'ignore' });
});
const floor = time('precompiled', () => {
  const out = path.join(work, 'cdk.out');
  fs.rmSync(out, { recursive: true, force: true });
  fs.rmSync(path.join(work, 'dist'), { recursive: true, force: true });
  // cdk.json's context reaches the app through the same variable the CLI sets.
  execFileSync(process.execPath, [path.join(work, 'bin', 'platform.js')], {
    cwd: root, env: { ...env, CDK_OUTDIR: out, CDK_CONTEXT_JSON: JSON.stringify(context) }, stdio: 'ignore',
  });
  execFileSync(process.execPath, [path.join(work, 'charts', 'main.js'), path.join(work, 'dist')], { cwd: root, env, stdio: 'ignore' });
});
fs.rmSync(work, { recursive: true, force: true });

const fullMedian = median(full);
const floorMedian = median(floor);
console.log(`synth benchmark, median of ${runs} runs on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'})`);
console.log(`  npm run synth (CLI + tsx):        ${fullMedian.toFixed(2)} s`);
console.log(`  floor (precompiled JS, no CLI):   ${floorMedian.toFixed(2)} s`);
console.log(`  ratio:                            ${(fullMedian / floorMedian).toFixed(2)}x`);
