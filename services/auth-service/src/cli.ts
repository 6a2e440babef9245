/**
 * Operator commands against the auth database (DATABASE_* environment):
 *
 *   cli.ts grant-role --email <email> --role <role>    e.g. bootstrap the first admin
 *
 * Roles cached in Redis by the running service expire within ROLES_CACHE_TTL_SECONDS.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createLogger, createPostgres, databaseEnv, loadConfig } from '../../shared/src';
import { grantRole } from './accounts';
import { ROLES_CACHE_TTL_SECONDS } from './authorization';

export const USAGE = 'usage: cli.ts grant-role --email <email> --role <role>';

export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly out: (line: string) => void;
}

/** Runs one command; returns the exit code. Errors are one line naming the problem. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'grant-role') {
    io.out(command ? `unknown command ${JSON.stringify(command)}\n${USAGE}` : USAGE);
    return 2;
  }
  let values: { email?: string; role?: string };
  try {
    ({ values } = parseArgs({ args: [...rest], options: { email: { type: 'string' }, role: { type: 'string' } }, strict: true }));
  } catch (err) {
    io.out(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!values.email) return missing('--email', io);
  if (!values.role) return missing('--role', io);
  const config = loadConfig(z.object(databaseEnv), io.env);
  const postgres = createPostgres(config, { logger: createLogger({ service: 'auth-service-cli', level: 'warn' }), applicationName: 'auth-service-cli' });
  try {
    const userId = await grantRole(postgres.pool, values.email, values.role);
    io.out(`granted ${values.role} to ${values.email} (${userId}); cached roles refresh within ${ROLES_CACHE_TTL_SECONDS} s`);
    return 0;
  } catch (err) {
    io.out((err as Error).message);
    return 1;
  } finally {
    await postgres.close();
  }
}

function missing(flag: string, io: CliIo): number {
  io.out(`${flag} is required\n${USAGE}`);
  return 2;
}

if (require.main === module) {
  runCli(process.argv.slice(2), { env: process.env, out: (line) => process.stdout.write(`${line}\n`) }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
