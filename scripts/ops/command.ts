/**
 * The ops CLI's contract: a command parses its own arguments, talks to AWS through the SDK
 * (region from the spec; AWS_ENDPOINT_URL points the SDK at an emulator in tests), returns a
 * plain result object, and renders it for humans. `--json` prints the result instead.
 */
import type { EnvironmentName, EnvironmentSpec, PlatformSpec } from '../../lib/spec';
import type { OfflineContext, OfflinePlan } from './offline-plan';

export interface OpsContext {
  readonly spec: PlatformSpec;
  /** Where human-readable progress goes (stderr), so stdout stays the result. */
  readonly log: (line: string) => void;
}

export interface OpsCommand<Result = unknown> {
  readonly name: string;
  /** One line for `ops help`. */
  readonly summary: string;
  /** Usage line, e.g. `endpoints <env>`. */
  readonly usage: string;
  /** Options the command accepts besides --json (node:util parseArgs format). */
  readonly options?: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;
  run(args: OpsArgs, context: OpsContext): Promise<Result>;
  /**
   * `--offline`: the same dry run's plan from the synthesized templates and the spec, with what
   * only AWS knows as named unknowns. Must not create an AWS client.
   */
  offline(args: OpsArgs, context: OfflineContext): OfflinePlan;
  /** Text for a human; defaults to YAML-ish key: value lines of the result. */
  render?(result: Result): string;
  /**
   * Exit code for a result that was printed (default 0), e.g. 1 when a health check finds a
   * breach: the output is still the full result, in text or --json.
   */
  exitCode?(result: Result): number;
}

export interface OpsArgs {
  readonly positionals: readonly string[];
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
}

/** An expected failure: printed as one line (no stack trace), exit code 2. */
export class OpsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OpsError';
  }
}

/** Mutating commands plan by default and act only with this flag. */
export const EXECUTE_FLAG = 'execute';

export function environmentArg(spec: PlatformSpec, args: OpsArgs, position = 0): EnvironmentSpec {
  const name = args.positionals[position];
  const known = Object.keys(spec.environments);
  if (!name) throw new OpsError(`missing environment argument (one of ${known.join(', ')})`);
  if (!known.includes(name)) throw new OpsError(`unknown environment "${name}" (one of ${known.join(', ')})`);
  return spec.environments[name as EnvironmentName];
}

/** The `<env>` of a command that takes no other positional argument. */
export function soleEnvironmentArg(spec: PlatformSpec, args: OpsArgs): EnvironmentSpec {
  const environment = environmentArg(spec, args);
  if (args.positionals.length > 1) throw new OpsError(`unexpected argument "${args.positionals[1]}"`);
  return environment;
}

/** Turns SDK and network failures into one readable line; anything else is a bug and rethrown. */
export function describeAwsError(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const fault = (error as { $fault?: string }).$fault;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (fault || status) return `AWS ${error.name}${status ? ` (HTTP ${status})` : ''}: ${error.message}`;
  if (error.name === 'CredentialsProviderError') return `no AWS credentials: ${error.message}`;
  const network = ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN'];
  const code = (error as NodeJS.ErrnoException).code;
  if (code && network.includes(code)) {
    return `cannot reach the AWS endpoint (${code}): ${error.message}`;
  }
  // The SDK's retry layer re-wraps an error it does not recognise as an Error (e.g. one from
  // another JS realm, as under jest) into "AWS SDK error wrapper for Error: connect ...",
  // dropping `code`; the code survives only in the message.
  const wrapped = /^AWS SDK error wrapper for (?:Error: )?(.*)$/s.exec(error.message);
  const wrappedCode = wrapped && network.find((c) => new RegExp(`\\b${c}\\b`).test(wrapped[1]));
  if (wrapped && wrappedCode) return `cannot reach the AWS endpoint (${wrappedCode}): ${wrapped[1]}`;
  return undefined;
}
