/**
 * Loads and validates the platform spec. Every stack, chart, doc and test reads the spec
 * through here, so a bad value fails synth before any construct is built.
 */
import { accountOverrideSources, retainAppliedChartsFrom, unknownTargetInputs } from './context';
import type { ContextReader } from './context';
import { ENVIRONMENT_NAMES } from './environments';
import { platformSpecData } from './platform';
import { platformSpecSchema } from './schema';
import type { PlatformSpec } from './schema';

export * from './schema';
export * from './parse';
export { PGBOUNCER_POOLS, pgbouncerClientConnectionsPerPod, pgbouncerServerConnectionsPerPod, serviceDatabaseCount, serviceShutdownGraceMs } from './checks';
export * from './names';
export * from './context';
export * from './environments';
export * from './sizing';

export class PlatformSpecError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid platform spec:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PlatformSpecError';
  }
}

export interface LoadOptions {
  /** The raw spec; defaults to the repository's spec. Tests pass broken copies. */
  readonly data?: unknown;
  readonly context?: ContextReader;
  /**
   * Every context key given (the app passes `node.getAllContext()`'s keys): one that names an
   * unknown environment or key fails the load, as does an unknown PLATFORM_<ENV>_ACCOUNT.
   */
  readonly contextKeys?: readonly string[];
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export function loadPlatformSpec(options: LoadOptions = {}): PlatformSpec {
  const data = structuredClone(options.data ?? platformSpecData) as Record<string, unknown>;
  const unknown = unknownTargetInputs(ENVIRONMENT_NAMES, options.contextKeys ?? [], options.env ?? {});
  try {
    retainAppliedChartsFrom(options.context);
  } catch (error) {
    unknown.push((error as Error).message);
  }
  if (unknown.length > 0) throw new PlatformSpecError(unknown);
  applyAccountOverrides(data, options);
  const result = platformSpecSchema.safeParse(data, { reportInput: true });
  if (!result.success) {
    throw new PlatformSpecError(result.error.issues.map((issue) => {
      const field = issue.path.map(String).join('.') || '(root)';
      const value = 'input' in issue && issue.input !== undefined ? ` = ${JSON.stringify(issue.input)}` : '';
      return `${field}${value}: ${issue.message}`;
    }));
  }
  return deepFreeze(result.data);
}

function applyAccountOverrides(data: Record<string, unknown>, options: LoadOptions) {
  const environments = data.environments as Record<string, Record<string, unknown>> | undefined;
  if (!environments) return;
  for (const name of ['production', 'staging'] as const) {
    const target = environments[name];
    if (!target) continue;
    const { envVar, contextKey } = accountOverrideSources(name);
    const fromContext = options.context?.(contextKey);
    const fromEnv = options.env?.[envVar];
    const override = fromContext ?? fromEnv;
    // Context wins over env: `-c` on the command line is the more deliberate of the two.
    if (override !== undefined && override !== '') target.account = String(override);
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
