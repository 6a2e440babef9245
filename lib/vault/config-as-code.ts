/**
 * Vault's configuration as code, rendered from the spec: one policy per service (the paths it
 * may read) and one Kubernetes auth role per service. The files under vault/ are these renders,
 * checked in for review (test/vault/config-as-code.test.ts keeps them in sync; regenerate with
 * `npx tsx scripts/vault/generate-config.ts`); vault/bootstrap.sh applies them.
 */
import { durationSeconds } from '../spec';
import type { PlatformSpec, ServiceSpec, VaultSecretKind } from '../spec';

/** Where each kind of credential lives in Vault, per service. */
export const SECRET_PATHS: Record<VaultSecretKind, (service: string) => string> = {
  // Dynamic PostgreSQL users from the database secrets engine: short-lived, per service.
  database: (service) => `database/creds/${service}`,
  // Redis and Kafka (SASL/SCRAM) credentials are static: KV v2, one entry per service.
  cache: (service) => `kv/data/services/${service}/redis`,
  broker: (service) => `kv/data/services/${service}/kafka`,
};

/** The Kubernetes auth mount, and the audience the projected service-account tokens carry. */
export const KUBERNETES_AUTH_PATH = 'auth/kubernetes';
export const KUBERNETES_TOKEN_AUDIENCE = 'vault';

export function servicePolicyPaths(spec: PlatformSpec, service: ServiceSpec): string[] {
  return spec.vault.serviceSecrets[service.name].map((kind) => SECRET_PATHS[kind](service.name));
}

export function renderServicePolicy(spec: PlatformSpec, service: ServiceSpec): string {
  const kinds = spec.vault.serviceSecrets[service.name];
  return [
    `# Vault policy of ${service.name} (${service.purpose}).`,
    '# Generated from lib/spec by scripts/vault/generate-config.ts: edit the spec, not this file.',
    `# Reads: ${kinds.join(', ')} credentials, nothing else.`,
    ...servicePolicyPaths(spec, service).flatMap((path) => ['', `path "${path}" {`, '  capabilities = ["read"]', '}']),
    '',
  ].join('\n');
}

export interface KubernetesRole {
  readonly bound_service_account_names: string[];
  readonly bound_service_account_namespaces: string[];
  readonly audience: string;
  readonly token_policies: string[];
  readonly token_ttl: number;
  readonly token_max_ttl: number;
}

/** auth/kubernetes/role/<service>: the service account <service> in namespace <service> only. */
export function renderKubernetesRoles(spec: PlatformSpec): Record<string, KubernetesRole> {
  const ttl = durationSeconds(spec.vault.kubernetesTokenTtl);
  return Object.fromEntries(spec.services.map((service) => [`${KUBERNETES_AUTH_PATH}/role/${service.name}`, {
    // The namespaces chart names each namespace after its service; the service charts name the service account so.
    bound_service_account_names: [service.name],
    bound_service_account_namespaces: [service.name],
    audience: KUBERNETES_TOKEN_AUDIENCE,
    token_policies: [service.name],
    token_ttl: ttl,
    token_max_ttl: ttl,
  }]));
}

/** Every generated file, by path relative to the repository root. */
export function vaultConfigFiles(spec: PlatformSpec): Record<string, string> {
  return {
    ...Object.fromEntries(spec.services.map((s) => [`vault/policies/${s.name}.hcl`, renderServicePolicy(spec, s)])),
    'vault/auth/kubernetes-roles.json': `${JSON.stringify(renderKubernetesRoles(spec), null, 2)}\n`,
  };
}
