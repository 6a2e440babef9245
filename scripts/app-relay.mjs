/**
 * The app command scripts/synth.sh gives the CDK CLI. The app itself was started earlier, beside
 * the CLI, and waits for the CLI's environment (bin/cli-environment.ts): this passes the
 * environment it was run with on to the app through the FIFO `environment` of the folder
 * PLATFORM_APP_HANDOFF names, then waits for the file `status`, which synth.sh writes when the
 * app has exited, and exits with the app's status. The CLI reads the assembly only after that,
 * as it would after its own app.
 *
 * An app that exits before it reads the FIFO (a module that fails to load) makes this exit with
 * its status; a relay that never runs (the CLI failed first) leaves the app waiting, and synth.sh
 * stops it; a synth.sh that stopped (its folder gone) makes this exit 1 rather than wait forever.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const handoff = process.env.PLATFORM_APP_HANDOFF;
if (!handoff) {
  console.error('app-relay: PLATFORM_APP_HANDOFF is not set; `npm run synth` runs this, `cdk synth` runs cdk.json\'s app');
  process.exit(2);
}
const fifo = path.join(handoff, 'environment');

/** synth.sh removes the folder when it exits: no status will come, so the relay must not wait. */
function abandoned() {
  if (fs.existsSync(handoff)) return;
  console.error(`app-relay: ${handoff} is gone: the npm run synth that made it has stopped`);
  process.exit(1);
}

/** @returns {number | undefined} the app's exit status once synth.sh has recorded it */
function appStatus() {
  let text;
  try {
    text = fs.readFileSync(path.join(handoff, 'status'), 'utf8');
  } catch (error) {
    if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'ENOENT') throw error;
    abandoned();
    return undefined;
  }
  const status = Number(text.trim());
  return Number.isInteger(status) ? status : 1;
}

// The app opens the FIFO once its modules have loaded; until then an open without a reader
// fails (ENXIO) rather than blocking, so an app that died meanwhile is noticed.
let probe;
for (;;) {
  try {
    probe = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    break;
  } catch (error) {
    const { code } = /** @type {NodeJS.ErrnoException} */ (error);
    if (code === 'ENOENT') abandoned();
    if (code !== 'ENXIO') throw error;
  }
  const status = appStatus();
  if (status !== undefined) {
    console.error(`app-relay: the app exited with status ${status} before it took the CDK CLI's environment`);
    process.exit(status || 1);
  }
  await sleep(10);
}
// A blocking descriptor for the write (the environment can exceed the pipe's buffer), opened
// before the probe closes so that the app never sees a moment without a writer (an early EOF).
const fd = fs.openSync(fifo, 'w');
fs.closeSync(probe);
fs.writeFileSync(fd, JSON.stringify(process.env));
fs.closeSync(fd);

for (;;) {
  const status = appStatus();
  if (status !== undefined) process.exit(status);
  await sleep(20);
}
