/**
 * `npm run ops -- <command> [args] [--json]`: operational commands on a deployed environment
 * (endpoints, DR status, recovery), on the AWS SDK. Environments and regions come from the spec.
 */
import { parseArgs } from 'node:util';
import { loadPlatformSpec, PlatformSpecError } from '../../lib/spec';
import { OpsAssembly } from './assembly';
import { describeAwsError, OpsError } from './command';
import type { OpsArgs, OpsCommand } from './command';
import { COMMANDS } from './commands';
import { CDK_OUT_FLAG, OFFLINE_FLAG, refuseOfflineExecute, renderOfflinePlan } from './offline-plan';

function renderDefault(result: unknown, indent = ''): string {
  if (result === null || typeof result !== 'object') return `${indent}${String(result)}`;
  return Object.entries(result).map(([key, value]) => (value !== null && typeof value === 'object'
    ? `${indent}${key}:\n${renderDefault(value, `${indent}  `)}`
    : `${indent}${key}: ${String(value)}`)).join('\n');
}

/** Usages longer than this get their summary on the next line, so one long usage does not push every summary off screen. */
const HELP_USAGE_WIDTH = 60;

function help(): string {
  const width = Math.min(Math.max(...COMMANDS.map((c) => c.usage.length), 10), HELP_USAGE_WIDTH);
  return ['usage: npm run ops -- <command> [args] [--json] [--offline [--cdk-out <dir>]]', '',
    `--${OFFLINE_FLAG}: print the dry run's plan from the synthesized templates (npm run synth) and the spec, without AWS`, '', 'commands:',
    ...COMMANDS.map((c) => (c.usage.length > width
      ? `  ${c.usage}\n  ${' '.repeat(width)}  ${c.summary}`
      : `  ${c.usage.padEnd(width)}  ${c.summary}`))].join('\n');
}

/** Runs one command line; returns the exit code. Exported for tests. */
export async function runOps(
  argv: readonly string[],
  io: { stdout: (text: string) => void; stderr: (text: string) => void } = {
    stdout: (text) => process.stdout.write(`${text}\n`),
    stderr: (text) => process.stderr.write(`${text}\n`),
  },
): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help') {
    io.stdout(help());
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name) as OpsCommand | undefined;
  if (!command) {
    io.stderr(`ops: unknown command "${name}"\n${help()}`);
    return 2;
  }
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: [...rest], allowPositionals: true, strict: true,
        options: {
          json: { type: 'boolean' }, [OFFLINE_FLAG]: { type: 'boolean' }, [CDK_OUT_FLAG]: { type: 'string' }, ...command.options,
        },
      });
    } catch (error) {
      throw new OpsError(`${(error as Error).message}\nusage: npm run ops -- ${command.usage} [--json] [--${OFFLINE_FLAG} [--${CDK_OUT_FLAG} <dir>]]`);
    }
    const args: OpsArgs = { positionals: parsed.positionals, values: parsed.values as OpsArgs['values'] };
    refuseOfflineExecute(args.values);
    const cdkOut = parsed.values[CDK_OUT_FLAG];
    if (cdkOut !== undefined && parsed.values[OFFLINE_FLAG] !== true) throw new OpsError(`--${CDK_OUT_FLAG} only with --${OFFLINE_FLAG}`);
    const spec = loadPlatformSpec({ env: process.env });
    if (parsed.values[OFFLINE_FLAG] === true) {
      const plan = command.offline(args, { spec, assembly: OpsAssembly.load(typeof cdkOut === 'string' ? cdkOut : 'cdk.out') });
      io.stdout(parsed.values.json ? JSON.stringify(plan, null, 2) : renderOfflinePlan(plan));
      return 0;
    }
    const result = await command.run(args, { spec, log: io.stderr });
    io.stdout(parsed.values.json ? JSON.stringify(result, null, 2) : (command.render?.(result) ?? renderDefault(result)));
    return command.exitCode?.(result) ?? 0;
  } catch (error) {
    const expected = error instanceof OpsError || error instanceof PlatformSpecError
      ? (error as Error).message
      : describeAwsError(error);
    if (expected === undefined) throw error;
    io.stderr(`ops ${name}: ${expected}`);
    return 2;
  }
}

if (require.main === module) {
  runOps(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
