import type { PlatformBindings } from '../bindings-chart';

/**
 * The deploy-time values as Flux post-build variables: CDK writes them into one ConfigMap in the
 * Flux namespace (the only workload input it still applies), and the Kustomization substitutes
 * them into the rendered manifests (`${NAME}`), so dist/<env>/ is the same for every deploy.
 */
export const BINDINGS_CONFIGMAP = 'platform-bindings';

const VARIABLES: Readonly<Record<keyof PlatformBindings, string>> = {
  databaseWriterHost: 'DATABASE_WRITER_HOST',
  databaseReaderHosts: 'DATABASE_READER_HOSTS',
  cacheHost: 'CACHE_HOST',
  kafkaBootstrapBrokers: 'KAFKA_BOOTSTRAP_BROKERS',
  apiGatewayTargetGroupArn: 'API_GATEWAY_TARGET_GROUP_ARN',
  dmzSecurityGroupId: 'DMZ_SECURITY_GROUP_ID',
};

/** The ConfigMap's data: one variable per binding (reader hosts comma-separated, as PgBouncer reads them). */
export function bindingsVariables(bindings: PlatformBindings): Record<string, string> {
  return Object.fromEntries(Object.entries(VARIABLES).map(([field, name]) => {
    const value = bindings[field as keyof PlatformBindings];
    return [name, Array.isArray(value) ? value.join(',') : value as string];
  }));
}

/**
 * The ConfigMap the Kustomization substitutes from, in the Flux namespace: written by the Cluster
 * stack (bin/platform-stage.ts) and, on the local cluster, by its harness.
 */
export function bindingsConfigMap(namespace: string, data: Readonly<Record<string, string>>) {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: BINDINGS_CONFIGMAP,
      namespace,
      // kustomize-controller re-applies at once when a watched ConfigMap it substitutes from
      // changes (a new endpoint after a restore), not at the next drift interval.
      labels: { 'reconcile.fluxcd.io/watch': 'Enabled' },
    },
    data,
  };
}

/** The bindings as the rendered manifests carry them: each a `${NAME}` the Kustomization fills in. */
export const BINDING_PLACEHOLDERS: PlatformBindings = {
  databaseWriterHost: `\${${VARIABLES.databaseWriterHost}}`,
  databaseReaderHosts: [`\${${VARIABLES.databaseReaderHosts}}`],
  cacheHost: `\${${VARIABLES.cacheHost}}`,
  kafkaBootstrapBrokers: `\${${VARIABLES.kafkaBootstrapBrokers}}`,
  apiGatewayTargetGroupArn: `\${${VARIABLES.apiGatewayTargetGroupArn}}`,
  dmzSecurityGroupId: `\${${VARIABLES.dmzSecurityGroupId}}`,
};

/** The variable names of the bindings, in PlatformBindings' field order. */
export const BINDING_VARIABLES: readonly string[] = Object.values(VARIABLES);

/**
 * The text that Flux's post-build substitution (fluxcd/pkg envsubst, a fork of drone/envsubst)
 * acts on: a `${...}` expression, and `$$`, its escape, which it turns into `$`. A bare `$name`,
 * `$(...)`, `$?` or `$!` (PgBouncer's start script) is left alone.
 */
export const SUBSTITUTION_SYNTAX = /\$\{[^}]*\}?|\$\$/g;

/**
 * The rendered text as Flux applies it: each `${NAME}` of the bindings replaced by `values[NAME]`.
 * Any other substitution syntax is an error, as it would be a surprise in the cluster.
 */
export function substituteBindings(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(SUBSTITUTION_SYNTAX, (match) => {
    const name = /^\$\{([A-Z_][A-Z0-9_]*)\}$/.exec(match)?.[1];
    if (!name || !BINDING_VARIABLES.includes(name)) throw new Error(`${JSON.stringify(match)} is not a binding variable (${BINDING_VARIABLES.join(', ')})`);
    const value = values[name];
    if (value === undefined) throw new Error(`no value for \${${name}}`);
    return value;
  });
}
