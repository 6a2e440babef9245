/**
 * `npm run reachability [-- --env <name>] [--from <dir>] [--all]`: proves, from the synthesized
 * output, that every flow the spec needs is open and every flow the zone table forbids is closed.
 * Exits 1 when one is not, 2 when it cannot run.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ENVIRONMENT_NAMES, loadPlatformSpec } from '../../lib/spec';
import { repoRoot, synthTree } from '../review/synth-trees';
import { checkModel, environmentModel } from './check';
import { renderReport } from './render';

const USAGE = `usage: npm run reachability [-- --env <name>] [--from <dir>] [--all]
  --env <name>   one environment of the spec (default: every one)
  --from <dir>   read <dir>/cdk.out and <dir>/dist (after npm run synth: --from .); default: synthesize this tree first, offline, into a temp dir
  --all          also list every open required flow with its reason, and every forbidden flow with the layer that closes it
exit codes: 0 every required flow open and every forbidden flow closed; 1 not so; 2 could not run`;

async function main(argv: string[]): Promise<number> {
  let values: { env?: string; from?: string; all?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { env: { type: 'string' }, from: { type: 'string' }, all: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (error) {
    console.error(`error: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const spec = loadPlatformSpec({ env: process.env });
  if (values.env && !(ENVIRONMENT_NAMES as readonly string[]).includes(values.env)) {
    console.error(`error: --env ${values.env}: not an environment of the spec (${ENVIRONMENT_NAMES.join(', ')})`);
    return 2;
  }
  let outputs: { cdkOut: string; dist?: string };
  let cleanup = () => undefined as void;
  if (values.from) {
    outputs = { cdkOut: path.resolve(values.from, 'cdk.out'), dist: path.resolve(values.from, 'dist') };
    if (!fs.existsSync(path.join(outputs.cdkOut, 'manifest.json'))) {
      console.error(`error: ${outputs.cdkOut} holds no cloud assembly: run npm run synth first, or leave out --from`);
      return 2;
    }
  } else {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'platform-reachability-'));
    cleanup = () => fs.rmSync(work, { recursive: true, force: true });
    console.error('reachability: synthesizing this tree (offline) ...');
    outputs = await synthTree(repoRoot(process.cwd()), work);
  }
  try {
    let failures = 0;
    for (const environment of values.env ? [values.env] : ENVIRONMENT_NAMES) {
      const report = checkModel(spec, environmentModel(spec, { ...outputs, environment }));
      process.stdout.write(renderReport(report, { all: values.all }));
      failures += report.failures;
    }
    if (failures) console.error(`reachability: ${failures} flow(s) not as the spec requires (rows marked !!)`);
    return failures ? 1 : 0;
  } finally {
    cleanup();
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
});
