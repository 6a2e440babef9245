/**
 * The deploy-time inputs a person may give synth besides the spec: CDK context (`-c key=value`)
 * and environment variables. Every one of them is named here, so that a misspelt environment or
 * key fails synth with one line instead of being ignored (a silent wrong target).
 */
import type { EnvironmentName } from './schema';

/** The image tag of the services: `-c services:imageTag=<git sha>` or SERVICES_IMAGE_TAG. */
export const IMAGE_TAG_CONTEXT = 'services:imageTag';
export const IMAGE_TAG_ENV = 'SERVICES_IMAGE_TAG';

/**
 * `-c gitops:retainAppliedCharts=true`: the one deploy that hands a cluster whose workloads CDK
 * applied over to Flux (docs/gitops.md). The workload charts' kubectl resources stay in the
 * template under their old logical ids with a Retain deletion policy, so the next deploy
 * (without the flag) drops them without deleting the objects they applied.
 */
export const RETAIN_APPLIED_CHARTS_CONTEXT = 'gitops:retainAppliedCharts';

/** Account ids are what a deployer overrides per environment: env PLATFORM_<ENV>_ACCOUNT or -c <env>:account=... */
export function accountOverrideSources(env: EnvironmentName) {
  return { envVar: `PLATFORM_${env.toUpperCase()}_ACCOUNT`, contextKey: `${env}:account` } as const;
}

/** Reads a CDK context value (`-c key=value`); the app passes `node.tryGetContext`. */
export type ContextReader = (key: string) => unknown;

/**
 * Context keys are `<namespace>:<key>`. CDK's own (`aws:cdk:*`, `aws-cdk:*`) and feature flags
 * (`@aws-cdk/...`) are not ours; every other namespace must be an environment or `services`.
 */
function isOurs(key: string): boolean {
  return key.includes(':') && !key.startsWith('@') && !/^aws[-:]/.test(key);
}

/**
 * One line per context key or environment variable that names no known target: an unknown
 * environment (`-c prod:account=...`, PLATFORM_PROD_ACCOUNT) or an unknown key of a known one.
 */
export function unknownTargetInputs(environments: readonly string[], contextKeys: readonly string[],
  env: Readonly<Record<string, string | undefined>>): string[] {
  const problems: string[] = [];
  const known = new Set([...environments.map((e) => `${e}:account`), IMAGE_TAG_CONTEXT, RETAIN_APPLIED_CHARTS_CONTEXT]);
  const namespaces = [...environments, ...[IMAGE_TAG_CONTEXT, RETAIN_APPLIED_CHARTS_CONTEXT].map((key) => key.split(':')[0]!)];
  for (const key of [...contextKeys].sort()) {
    if (!isOurs(key) || known.has(key)) continue;
    const namespace = key.slice(0, key.indexOf(':'));
    problems.push(namespaces.includes(namespace)
      ? `context ${key}: unknown key; ${namespace} takes ${[...known].filter((k) => k.startsWith(`${namespace}:`)).join(', ')}`
      : `context ${key}: unknown environment ${JSON.stringify(namespace)}; the environments are ${environments.join(', ')}`);
  }
  for (const name of Object.keys(env).sort()) {
    const match = /^PLATFORM_(.+)_ACCOUNT$/.exec(name);
    if (!match || env[name] === undefined || env[name] === '') continue;
    if (!environments.some((e) => accountOverrideSources(e as EnvironmentName).envVar === name)) {
      problems.push(`environment variable ${name}: unknown environment ${JSON.stringify(match[1]!.toLowerCase())}; the environments are ${environments.join(', ')}`);
    }
  }
  return problems;
}

/**
 * Whether the adoption deploy's flag is on: `true`/`false` (a string on the command line, a
 * boolean in cdk.json), absent meaning false.
 */
export function retainAppliedChartsFrom(context: ContextReader | undefined): boolean {
  const value = context?.(RETAIN_APPLIED_CHARTS_CONTEXT);
  if (value === undefined || value === '' || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw new Error(`context ${RETAIN_APPLIED_CHARTS_CONTEXT} = ${JSON.stringify(value)}: must be true or false`);
}

/** The services' image tag: context wins over the environment variable, as for accounts. */
export function imageTagFrom(context: ContextReader | undefined, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const fromContext = context?.(IMAGE_TAG_CONTEXT);
  if (fromContext !== undefined && fromContext !== '') return String(fromContext);
  return env[IMAGE_TAG_ENV] || undefined;
}

/** A malformed `-c` argument: a usage error to print as it is, not a crash. */
export class ContextArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContextArgumentError';
  }
}

/**
 * `-c key=value` / `--context key=value` / `--context=key=value` pairs of a CDK command line, for
 * tools that render from the same arguments as `cdk synth` (the chart renderer).
 */
export function contextFromArgs(args: readonly string[]): Map<string, string> {
  const context = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    let pair: string | undefined;
    if (arg === '-c' || arg === '--context') {
      pair = args[++i];
      if (pair === undefined) throw new ContextArgumentError(`${arg}: expected key=value after it`);
    } else if (arg.startsWith('--context=')) pair = arg.slice('--context='.length);
    if (pair === undefined) continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ContextArgumentError(`${arg} ${pair}: expected key=value`);
    context.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return context;
}
