/**
 * Synthesis benchmark: the median wall time of a full `npm run synth` (CDK CLI, the app and the
 * charts run from build/js by scripts/precompile.mjs, the summary) against its floor: the same
 * synthesis from the same transpiled JavaScript with the same node flags, the app then the
 * charts, run by plain node without the CLI and without a check for changed sources, each run
 * of one followed by a run of the other. Prints both and the ratio, and checks that the floor
 * wrote what `npm run synth` wrote: the floor is the same synthesis, not a cheaper one.
 *
 *   npm run bench:synth [-- --runs 5]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { appContext } from '../scripts/review/synth-trees';

const root = path.join(__dirname, '..');
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function seconds(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const env = { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true', CDK_DISABLE_CLI_TELEMETRY: 'true' };
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'platform-bench-'));
const synthOut = path.join(work, 'synth');
const floorOut = path.join(work, 'floor');

// Transpiled once before both: the runs below find build/js current (npm run synth still checks).
execFileSync(process.execPath, [path.join(root, 'scripts', 'precompile.mjs'), '--compile-only'], { cwd: root, env, stdio: 'inherit' });
const js = (entry: string) => path.join(root, 'build', 'js', entry);
// The floor: the context the CLI hands the app.
const { context } = appContext(root);

// The two alternate, run by run: a machine whose speed drifts over the minutes of the benchmark
// (a shared host) slows both alike instead of whichever ran last.
const full: number[] = [];
const floor: number[] = [];
for (let i = 0; i < runs; i++) {
  full.push(seconds(() => {
    execFileSync('npm', ['run', '--silent', 'synth'], { cwd: root, env: { ...env, SYNTH_OUTDIR: synthOut }, stdio: 'ignore' });
  }));
  floor.push(seconds(() => {
    fs.rmSync(floorOut, { recursive: true, force: true });
    execFileSync(process.execPath, ['--enable-source-maps', js('bin/platform.js')], {
      cwd: root, env: { ...env, CDK_OUTDIR: path.join(floorOut, 'cdk.out'), CDK_CONTEXT_JSON: JSON.stringify(context) }, stdio: 'ignore',
    });
    execFileSync(process.execPath, ['--enable-source-maps', js('charts/main.js'), path.join(floorOut, 'dist')], { cwd: root, env, stdio: 'ignore' });
  }));
  console.error(`run ${i + 1}/${runs}: npm run synth ${full[i]!.toFixed(2)} s, floor ${floor[i]!.toFixed(2)} s`);
}

const diff = spawnSync('diff', ['-rq', synthOut, floorOut], { encoding: 'utf8' });
fs.rmSync(work, { recursive: true, force: true });
if (diff.status !== 0) {
  console.error(`the floor did not write what npm run synth wrote:\n${diff.stdout}${diff.stderr}`);
  process.exit(1);
}

const fullMedian = median(full);
const floorMedian = median(floor);
console.log(`synth benchmark, median of ${runs} runs on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'})`);
console.log(`  npm run synth (CLI, precompiled): ${fullMedian.toFixed(2)} s`);
console.log(`  floor (precompiled JS, no CLI):   ${floorMedian.toFixed(2)} s`);
console.log(`  ratio:                            ${(fullMedian / floorMedian).toFixed(2)}x`);
