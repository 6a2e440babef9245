/**
 * The environments: the AWS ones of `environments` (stacks, docs, cost, reachability and the
 * charts), and the local one the charts alone render, derived from staging.
 */
import type { ChartEnvironment, EnvironmentName, PlatformSpec } from './schema';

/** The AWS environments, in the order the app, the docs and dist/ list them. */
export const ENVIRONMENT_NAMES: readonly EnvironmentName[] = ['production', 'staging'];

/**
 * The environment the local one starts from: the smaller of the two, with self-signed
 * certificates possible before Vault PKI exists, following the main branch.
 */
export const LOCAL_BASE_ENVIRONMENT: EnvironmentName = 'staging';

/** Fields of T that may replace the base's: objects field by field, arrays and values whole. */
type Overrides<T> = {
  readonly [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? Overrides<T[K]> : T[K];
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `base` with every field `overrides` gives in place of its own; the rest is the base's. */
function overlay<T extends object>(base: T, overrides: Overrides<T>): T {
  const result: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(overrides)) {
    const own = result[key];
    result[key] = isRecord(value) && isRecord(own) ? overlay(own, value) : value;
  }
  return Object.freeze(result) as T;
}

/** The local environment: staging's values with localCluster's in place of theirs. */
export function localEnvironment(spec: Pick<PlatformSpec, 'environments' | 'localCluster'>): ChartEnvironment {
  return overlay<ChartEnvironment>(spec.environments[LOCAL_BASE_ENVIRONMENT], spec.localCluster);
}

/** Every environment the charts render to dist/<name>/: the AWS ones, then the local one. */
export function chartEnvironments(spec: Pick<PlatformSpec, 'environments' | 'localCluster'>): ChartEnvironment[] {
  return [...ENVIRONMENT_NAMES.map((name) => spec.environments[name]), localEnvironment(spec)];
}
