/**
 * Vault's configuration as code, rendered from the spec: one policy and one Kubernetes auth role
 * per Vault client (each service, PgBouncer, cert-manager), the database static roles, the PKI
 * role, and the parameters vault/bootstrap.sh needs. The files under vault/ are these renders,
 * checked in for review (test/spec/vault-spec.test.ts keeps them in sync; regenerate with
 * `npm run vault:config`); vault/bootstrap.sh applies them.
 */
import { VAULT_AUDIT_LOG } from '../constructs/vault/vault-user-data';
import {
  generatedKeyPath, PAYMENT_PROVIDER_SECRET, PGBOUNCER_NAMESPACE, PGBOUNCER_WRITER, TOKEN_REVIEWER, tokenReviewerNamespace, VAULT_ISSUER_SERVICE_ACCOUNT,
  servicesWithSecret, workloadNamespaces,
} from '../spec/topology';
import { durationSeconds } from '../spec';
import type { PlatformSpec, ServiceSpec, VaultSecretKind } from '../spec';
import {
  DATABASE_CONNECTION, DATABASE_HOST_PLACEHOLDER, DATABASE_PORT_PLACEHOLDER, pgbouncerUserPaths, renderDatabaseBootstrapSql, renderDatabaseConnection,
  renderStaticRoles, staticCredsPath, VAULT_DATABASE_ADMIN,
} from './database';
import { pkiMountConfig, pkiPath, renderPkiRole, renderVaultServerExtensions } from './pki';

/** The KV v2 mount of static secrets; policies name `<mount>/data/<path>`, the CLI `<path>`. */
export const KV_MOUNT = 'kv';
const kvData = (path: string) => `${KV_MOUNT}/data/${path}`;

/** Where each kind of credential lives in Vault, per service. */
export const SECRET_PATHS: Record<VaultSecretKind, (service: string) => string> = {
  // Static role: a fixed PostgreSQL user (DATABASE_USER) whose password Vault rotates.
  database: (service) => staticCredsPath(service),
  // Redis and Kafka (SASL/SCRAM) credentials are static: KV v2, one entry per service.
  cache: (service) => kvData(cacheCredentialPath(service)),
  broker: (service) => kvData(brokerCredentialPath(service)),
  // The payment provider's secret key: KV v2, put there by an operator (OPERATOR_SECRETS).
  'payment-provider': (service) => kvData(paymentProviderKeyPath(service)),
};

const cacheCredentialPath = (service: string) => `services/${service}/redis`;
const brokerCredentialPath = (service: string) => `services/${service}/kafka`;
const paymentProviderKeyPath = (service: string) => `services/${service}/${PAYMENT_PROVIDER_SECRET.name}`;

/**
 * A secret only an operator has (the Stripe secret key): bootstrap never generates it and never
 * writes a placeholder a service could mistake for a key. It writes the operator's file when the
 * entry is absent, and otherwise fails, printing the command that puts it (docs/vault.md).
 */
export interface OperatorSecret {
  readonly service: string;
  /** KV path under the mount. */
  readonly path: string;
  readonly field: string;
  readonly description: string;
  /** Bash ERE the value must match: anything else (empty, "changeme", a publishable key) is refused. */
  readonly pattern: string;
  /** Optional variable of vault/bootstrap.sh naming a file that holds the value. */
  readonly fileVariable: string;
}

/**
 * Stripe secret keys: `sk_` (or restricted `rk_`), mode `live`/`test`, then the key material
 * (stripe.com/docs/keys). A publishable key (`pk_`) cannot charge, so it is refused too.
 */
export const STRIPE_SECRET_KEY_PATTERN = '^[sr]k_(live|test)_[A-Za-z0-9]{16,}$';

/** One entry per service with secrets 'payment-provider' (services[].secrets), in spec order. */
export function operatorSecrets(spec: PlatformSpec): OperatorSecret[] {
  return servicesWithSecret(spec, 'payment-provider').map((s) => ({
    service: s.name,
    path: paymentProviderKeyPath(s.name),
    field: PAYMENT_PROVIDER_SECRET.field,
    description: `the Stripe secret key of ${s.name} (STRIPE_SECRET_KEY_FILE; a test-mode key in staging, live in production)`,
    pattern: STRIPE_SECRET_KEY_PATTERN,
    fileVariable: `${s.name.replace(/-/g, '_').toUpperCase()}_STRIPE_SECRET_KEY_FILE`,
  }));
}

/**
 * A credential AWS issues and keeps in Secrets Manager (the ElastiCache AUTH token, the MSK SCRAM
 * secret) that services read from Vault: bootstrap copies it into each consuming service's KV entry
 * from the operator's file (the secret's SecretString, e.g. through process substitution), and
 * rewrites entries that differ, so re-running it after a rotation brings every service along.
 */
export interface PlatformCredential {
  readonly name: 'redis' | 'kafka';
  /** KV paths under the mount, one per service with that secret kind, in spec order. */
  readonly paths: readonly string[];
  readonly field: string;
  readonly description: string;
  /** Variable of vault/bootstrap.sh naming a file that holds the SecretString. */
  readonly fileVariable: string;
  /** Where the SecretString is: the stack (per environment) and its output holding the secret's ARN. */
  readonly stack: string;
  readonly output: string;
  /** A SCRAM secret is JSON; its user must be the one the services log in as (KAFKA_SASL_USERNAME). */
  readonly username?: string;
}

export function platformCredentials(spec: PlatformSpec): PlatformCredential[] {
  const consumers = (kind: VaultSecretKind) => servicesWithSecret(spec, kind).map((s) => s.name);
  return [
    {
      name: 'redis', paths: consumers('cache').map(cacheCredentialPath), field: 'password',
      description: 'the ElastiCache AUTH token (a plain SecretString)', fileVariable: 'REDIS_AUTH_TOKEN_FILE',
      stack: `${spec.project}-<env>-cache`, output: 'AuthSecretArn',
    },
    {
      name: 'kafka', paths: consumers('broker').map(brokerCredentialPath), field: 'password',
      description: `the MSK SASL/SCRAM secret (JSON {"username": "${spec.dataTier.kafka.scramUsername}", "password": ...})`,
      fileVariable: 'KAFKA_SCRAM_SECRET_FILE', stack: `${spec.project}-<env>-messaging`, output: 'ScramSecretArn',
      username: spec.dataTier.kafka.scramUsername,
    },
  ].filter((c) => c.paths.length > 0) as PlatformCredential[];
}

/** A secret no store issues: bootstrap generates it once (random bytes, base64) and never overwrites it. */
export interface GeneratedKey {
  readonly service: string;
  /** KV path under the mount. */
  readonly path: string;
  readonly field: string;
  readonly bytes: number;
}

/** The services' generated keys (lib/spec services[].generatedKeys), in spec order. */
export function generatedKeys(spec: PlatformSpec): GeneratedKey[] {
  return spec.services.flatMap((s) => s.generatedKeys.map((key) => ({ service: s.name, path: generatedKeyPath(s.name, key), field: key.field, bytes: key.bytes })));
}

/** The RDS CA bundle of the region (public), which PgBouncer verifies RDS with. */
export const RDS_CA = { path: 'platform/rds-ca', field: 'bundle' } as const;

/** The Vault CA as a Kubernetes Secret in each namespace whose pods talk to Vault. */
export const VAULT_CA_SECRET = { name: 'vault-ca', key: 'ca.crt' } as const;

/** The Kubernetes auth mount, and the audience the projected service-account tokens carry. */
export const KUBERNETES_AUTH_PATH = 'auth/kubernetes';
export const KUBERNETES_TOKEN_AUDIENCE = 'vault';
/** Vault policy and auth role of cert-manager's Vault issuer (charts/pki-chart.ts `role: 'cert-manager'`). */
export const CERT_MANAGER_ROLE = 'cert-manager';

export interface PolicyRule {
  readonly path: string;
  readonly capabilities: readonly string[];
}

/** A workload that logs in to Vault: its policy and Kubernetes auth role share `name`. */
export interface VaultClient {
  readonly name: string;
  readonly description: string;
  readonly serviceAccount: string;
  readonly namespace: string;
  readonly rules: readonly PolicyRule[];
}

export function servicePolicyPaths(service: ServiceSpec): string[] {
  return [...service.secrets.map((kind) => SECRET_PATHS[kind](service.name)), ...service.generatedKeys.map((k) => kvData(generatedKeyPath(service.name, k)))];
}

/** Every Vault client: the services (namespace and service account = service name), PgBouncer, cert-manager. */
export function vaultClients(spec: PlatformSpec): VaultClient[] {
  const read = (path: string): PolicyRule => ({ path, capabilities: ['read'] });
  const clients: VaultClient[] = [
    ...spec.services.map((service) => ({
      name: service.name,
      description: `${service.name} (${service.purpose})`,
      // The namespaces chart names each namespace after its service; the service charts name the service account so.
      serviceAccount: service.name,
      namespace: service.name,
      rules: servicePolicyPaths(service).map(read),
    })),
    {
      name: PGBOUNCER_WRITER,
      // Its auth_file holds every service's database password (charts/pgbouncer-chart.ts): it
      // checks the services' SCRAM logins and logs in to RDS as them.
      description: "PgBouncer (both pools): every service's static database credentials (its auth_file) and the RDS CA bundle",
      serviceAccount: PGBOUNCER_WRITER,
      namespace: PGBOUNCER_NAMESPACE,
      rules: [...pgbouncerUserPaths(spec).map(read), read(kvData(RDS_CA.path))],
    },
    {
      name: CERT_MANAGER_ROLE,
      description: "cert-manager's Vault issuer: signs the workloads' certificates with the services role",
      serviceAccount: VAULT_ISSUER_SERVICE_ACCOUNT,
      namespace: spec.clusterAddons.certManager.namespace,
      rules: [{ path: pkiPath(spec).signPath, capabilities: ['create', 'update'] }],
    },
  ];
  const seen = new Set<string>();
  for (const client of clients) {
    if (seen.has(client.name)) throw new Error(`services: "${client.name}" is also the name of a platform Vault client (PgBouncer, cert-manager)`);
    seen.add(client.name);
  }
  return clients;
}

export function renderPolicy(client: VaultClient): string {
  return [
    `# Vault policy of ${client.description}.`,
    '# Generated from lib/spec by scripts/vault/generate-config.ts: edit the spec, not this file.',
    '# Nothing else is allowed: Vault denies every path not listed.',
    ...client.rules.flatMap((rule) => [
      '',
      `path "${rule.path}" {`,
      `  capabilities = [${rule.capabilities.map((c) => `"${c}"`).join(', ')}]`,
      '}',
    ]),
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

/** auth/kubernetes/role/<client>: that service account in that namespace only, audience `vault`. */
export function renderKubernetesRoles(spec: PlatformSpec): Record<string, KubernetesRole> {
  const ttl = durationSeconds(spec.vault.kubernetesTokenTtl);
  return Object.fromEntries(vaultClients(spec).map((client) => [`${KUBERNETES_AUTH_PATH}/role/${client.name}`, {
    bound_service_account_names: [client.serviceAccount],
    bound_service_account_namespaces: [client.namespace],
    audience: KUBERNETES_TOKEN_AUDIENCE,
    token_policies: [client.name],
    token_ttl: ttl,
    token_max_ttl: ttl,
  }]));
}

/** What vault/bootstrap.sh needs besides the path -> body files: read with jq. */
export function renderBootstrapParameters(spec: PlatformSpec) {
  return {
    kvMount: KV_MOUNT,
    // The file the nodes' CloudWatch agent ships (lib/constructs/vault/vault-user-data.ts).
    audit: { file: VAULT_AUDIT_LOG },
    // Vault calls TokenReview with this account's long-lived token (charts/vault-auth-chart.ts).
    kubernetesAuth: { tokenReviewer: { namespace: tokenReviewerNamespace(spec), secret: TOKEN_REVIEWER.secret } },
    database: {
      connection: DATABASE_CONNECTION, adminUser: VAULT_DATABASE_ADMIN,
      hostPlaceholder: DATABASE_HOST_PLACEHOLDER, port: spec.dataTier.postgres.port, portPlaceholder: DATABASE_PORT_PLACEHOLDER,
    },
    generatedKeys: generatedKeys(spec).map(({ path, field, bytes }) => ({ path, field, bytes })),
    operatorSecrets: operatorSecrets(spec).map(({ path, field, description, pattern, fileVariable }) => ({ path, field, description, pattern, fileVariable })),
    platformCredentials: platformCredentials(spec),
    rdsCa: RDS_CA,
    pki: pkiMountConfig(spec),
    vaultCa: {
      ...VAULT_CA_SECRET,
      // Every workload namespace (the injector mounts it into each pod's agent) and cert-manager's (its Vault issuer).
      namespaces: [...workloadNamespaces(spec).map((n) => n.name), spec.clusterAddons.certManager.namespace],
    },
  };
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** Every generated file, by path relative to the repository root. */
export function vaultConfigFiles(spec: PlatformSpec): Record<string, string> {
  return {
    ...Object.fromEntries(vaultClients(spec).map((c) => [`vault/policies/${c.name}.hcl`, renderPolicy(c)])),
    'vault/auth/kubernetes-roles.json': json(renderKubernetesRoles(spec)),
    'vault/database/connection.json': json(renderDatabaseConnection(spec)),
    'vault/database/static-roles.json': json(renderStaticRoles(spec)),
    'vault/database/bootstrap.sql': renderDatabaseBootstrapSql(spec),
    'vault/pki/roles.json': json(renderPkiRole(spec)),
    'vault/tls/vault-server.ext': renderVaultServerExtensions(spec),
    'vault/bootstrap.json': json(renderBootstrapParameters(spec)),
  };
}
