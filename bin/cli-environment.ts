/**
 * The environment the CDK CLI runs its app with (CDK_OUTDIR, the context in CDK_CONTEXT_JSON or
 * a file it names, the CLI's versions), for an app started before the CLI.
 *
 * `npm run synth` (scripts/synth.sh) starts the app beside the CLI rather than after it: the CLI
 * takes a second and more to start, and the app spends about as long loading its modules, which
 * needs no context. The app then waits here, before it builds anything, until the command the
 * CLI runs as the app (scripts/app-relay.mjs) writes the CLI's environment into the FIFO
 * `environment` of the folder PLATFORM_APP_HANDOFF names. Run any other way (`cdk synth`, `cdk
 * deploy`, the tests), PLATFORM_APP_HANDOFF is unset and this does nothing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const APP_HANDOFF_ENV = 'PLATFORM_APP_HANDOFF';

export function receiveCliEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  const handoff = env[APP_HANDOFF_ENV];
  if (!handoff) return;
  const fifo = path.join(handoff, 'environment');
  // Blocks until the relay has written and closed its end: the CLI starts meanwhile.
  const text = fs.readFileSync(fifo, 'utf8');
  let received: unknown;
  try {
    received = JSON.parse(text);
  } catch {
    throw new Error(`${fifo}: expected the CDK CLI's environment as JSON, got ${JSON.stringify(text.slice(0, 80))}`);
  }
  if (typeof received !== 'object' || received === null || Array.isArray(received)
    || Object.values(received).some((value) => typeof value !== 'string')) {
    throw new Error(`${fifo}: expected the CDK CLI's environment as an object of strings`);
  }
  Object.assign(env, received);
}
