/**
 * Names and addresses the charts and the stacks share: namespaces, DNS names, secret and account
 * names, and the subnet CIDRs of each security zone (for NetworkPolicy ipBlocks to things outside
 * the cluster). Derived from the spec only, so the charts (which create these objects) and the
 * stacks and Vault configuration (which refer to them) cannot disagree.
 */
import { addressCount, formatIpv4, parseCidr } from './parse';
import type { ChartEnvironment, EnvironmentSpec, GeneratedKeySpec, PlatformSpec, ServiceSpec, VaultSecretKind, ZoneName } from './schema';

/** PgBouncer's namespace; its writer and reader pools are two Deployments and Services in it. */
export const PGBOUNCER_NAMESPACE = 'pgbouncer';
export const PGBOUNCER_WRITER = 'pgbouncer';
export const PGBOUNCER_READER = 'pgbouncer-reader';

/** The namespaces the charts deploy into, with their security zone: one per service, and PgBouncer's. */
export function workloadNamespaces(spec: PlatformSpec): Array<{ name: string; zone: ZoneName }> {
  return [
    ...spec.services.map((s) => ({ name: s.name, zone: s.zone })),
    // The pooler is a private-zone workload between the services and the restricted zone.
    { name: PGBOUNCER_NAMESPACE, zone: 'private' as const },
  ];
}

/** Service account cert-manager logs in to Vault as (Kubernetes auth role `cert-manager`; pki chart). */
export const VAULT_ISSUER_SERVICE_ACCOUNT = 'cert-manager-vault-issuer';

/**
 * The account Vault's Kubernetes auth reviews the pods' tokens with, and the Secret holding its
 * long-lived token, which vault/bootstrap.sh writes into `auth/kubernetes/config`
 * (`token_reviewer_jwt`). Vault runs on EC2, outside the cluster: without a reviewer token it
 * would send each pod's own token to the TokenReview API, which only accounts bound to
 * `system:auth-delegator` may call (docs/vault.md "Kubernetes auth"). Created by the vault-auth chart.
 */
export const TOKEN_REVIEWER = { serviceAccount: 'vault-token-reviewer', secret: 'vault-token-reviewer' } as const;

/** The namespace of the reviewer: the injector's (created with its Helm release). */
export const tokenReviewerNamespace = (spec: PlatformSpec) => spec.clusterAddons.vaultInjector.namespace;
/** The cert-manager issuer every workload certificate comes from (kind ClusterIssuer). */
export const SERVICES_ISSUER = 'platform-services';
/** ConfigMap of deploy-time endpoints (Redis, Kafka) in each namespace that needs them (bindings chart). */
export const DATA_ENDPOINTS_CONFIGMAP = 'data-endpoints';
/** ConfigMap holding PgBouncer's `[databases]` section with the RDS endpoints (bindings chart). */
export const PGBOUNCER_DATABASES_CONFIGMAP = 'pgbouncer-databases';
/**
 * Where workloads find Vault: the `vault` ExternalName Service (namespaces chart), in the injector's
 * namespace, on the environment's private DNS name of Vault (a failover moves that record).
 */
export const vaultAddress = (spec: PlatformSpec) =>
  `https://vault.${spec.clusterAddons.vaultInjector.namespace}.svc.cluster.local:${spec.vault.apiPort}`;
/** Namespace and selector labels of the Prometheus server that scrapes pods (Helm release `prometheus`). */
export const MONITORING = { podLabels: { 'app.kubernetes.io/name': 'prometheus', 'app.kubernetes.io/component': 'server' } } as const;

/**
 * The payment provider's secret key (services[].secrets 'payment-provider'): KV v2 entry
 * `services/<svc>/<name>`, field `field`, rendered to `/vault/secrets/<file>` (STRIPE_SECRET_KEY_FILE).
 */
export const PAYMENT_PROVIDER_SECRET = { name: 'stripe', field: 'secret_key', file: 'stripe-secret-key' } as const;

/** The cache user the services log in as: ElastiCache's AUTH token without RBAC users is the `default` user's. */
export const CACHE_AUTH_USER = 'default';

/** Port of the payment provider's API (workloads.paymentProvider.apiBase): the URL's, else 443. */
export function paymentProviderPort(spec: PlatformSpec): number {
  const url = new URL(spec.workloads.paymentProvider.apiBase);
  return url.port ? Number(url.port) : 443;
}

/**
 * Address space that is not the internet, for the one egress rule to it: the environment's own
 * networks from the spec (VPC, VPN clients, the Vault standby's VPC), the private ranges of
 * RFC 1918 (the cluster's Service CIDR among them), shared address space 100.64.0.0/10 (EKS
 * custom pod networking) and link-local 169.254.0.0/16 (the instance metadata service and the
 * EKS Pod Identity agent: their credentials must stay out of reach).
 */
export function nonInternetCidrs(spec: PlatformSpec, environment: EnvironmentSpec): string[] {
  const standby = vaultStandbyCidr(spec, environment);
  const blocks = [
    environment.network.vpcCidr, environment.network.vpn.clientCidr, ...(standby ? [standby] : []),
    '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16',
  ];
  return [...new Set(blocks)];
}

export const TLS_MOUNT = '/etc/platform/tls';
export const VAULT_SECRETS_MOUNT = '/vault/secrets';

/** In-cluster DNS name of a service (namespace = service name, services/README.md). */
export const serviceDnsName = (name: string) => `${name}.${name}.svc.cluster.local`;
/** The certificate's DNS SANs: what callers dial (services/README.md "Identities"). */
export const serviceDnsSans = (name: string) => [name, `${name}.${name}.svc`, serviceDnsName(name)];
/** Secret cert-manager writes the service's key pair and CA into (tls.crt, tls.key, ca.crt). */
export const tlsSecretName = (name: string) => `${name}-tls`;
/** `auth-service` -> `AUTH_SERVICE_ADDR` (services/README.md). */
export const addrEnvName = (name: string) => `${name.replace(/-/g, '_').toUpperCase()}_ADDR`;
/** The PostgreSQL role of a service: its name as an identifier (Vault static role of the same name). */
export const databaseUser = (name: string) => name.replace(/-/g, '_');

/** The labels a DMZ service's pods carry and its SecurityGroupPolicy selects (bindings chart). */
export const dmzPodLabels = (name: string) => ({ 'app.kubernetes.io/name': name, 'platform/zone': 'dmz' });

/** The Vault standby's VPC in the DR region (reached over the peering after a failover). */
export function vaultStandbyCidr(spec: PlatformSpec, environment: EnvironmentSpec): string | undefined {
  return spec.vault.standbyVpc.cidrs[environment.name as keyof PlatformSpec['vault']['standbyVpc']['cidrs']];
}

export function serviceByName(spec: PlatformSpec, name: string): ServiceSpec {
  const service = spec.services.find((s) => s.name === name);
  if (!service) throw new Error(`services: no service named "${name}"`);
  return service;
}

/** The service the edge fronts (exposes 'edge'; the spec's checks keep it exactly one). */
export function edgeService(spec: PlatformSpec): ServiceSpec {
  const service = spec.services.find((s) => s.exposes === 'edge');
  if (!service) throw new Error("services: no service exposes 'edge' for the load balancer to front");
  return service;
}

/** The service that signs the access tokens (tokens 'sign'), if any. */
export const tokenSigner = (spec: PlatformSpec): ServiceSpec | undefined => spec.services.find((s) => s.tokens === 'sign');

/** KV path (under the mount) of a service's generated key: `services/<service>/<path>`. */
export const generatedKeyPath = (service: string, key: GeneratedKeySpec) => `services/${service}/${key.path}`;

/** Services that call `name` (services[].calls), sorted. */
export function callersOf(spec: PlatformSpec, name: string): string[] {
  return spec.services.filter((s) => s.calls.includes(name)).map((s) => s.name).sort();
}

/** Services whose secrets include `kind` (services[].secrets), in spec order. */
export const servicesWithSecret = (spec: Pick<PlatformSpec, 'services'>, kind: VaultSecretKind): ServiceSpec[] =>
  spec.services.filter((s) => s.secrets.includes(kind));

/** ECR repository of a service (lib/stacks/registry-stack.ts creates it under this name). */
export const serviceRepositoryName = (spec: PlatformSpec, name: string) => `${spec.project}/${name}`;

/** The environment's ECR registry host (RegistryStack's repositories), in its account and region. */
const ecrRegistry = (environment: EnvironmentSpec) => `${environment.account}.dkr.ecr.${environment.region}.amazonaws.com`;

/** The service's image: its repository in the environment's registry (its own, else ECR), deterministic from the spec. */
export function serviceImage(spec: PlatformSpec, environment: ChartEnvironment, name: string, tag: string): string {
  return `${environment.imageRegistry ?? ecrRegistry(environment)}/${serviceRepositoryName(spec, name)}:${tag}`;
}

/** ECR repository of an environment's rendered manifests (gitops.repositoryName), beside the images. */
export const configRepositoryName = (spec: PlatformSpec) => `${spec.project}/${spec.gitops.repositoryName}`;

/** `<registry host>/<repository>` of the environment's rendered manifests, as an OCI reference. */
export function configRepositoryUrl(spec: PlatformSpec, environment: EnvironmentSpec): string {
  return `${ecrRegistry(environment)}/${configRepositoryName(spec)}`;
}

/** Name of the environment's OCIRepository and Kustomization in the Flux namespace. */
export const GITOPS_OBJECT_NAME = 'workloads';

/** Zones in the VPC's allocation order (lib/constructs/network/zoned-vpc.ts: largest blocks first, stable). */
const ZONE_ORDER: readonly ZoneName[] = ['public', 'dmz', 'private', 'restricted'];

/**
 * The subnet CIDRs of each zone, as the network stack allocates them: zones by prefix length
 * (largest first, ties in table order), each zone one block per AZ, packed from the VPC base.
 * test/stacks/platform-stage.test.ts checks the result against the synthesized subnets.
 */
export function zoneSubnetCidrs(spec: PlatformSpec, environment: EnvironmentSpec): Record<ZoneName, string[]> {
  const vpc = parseCidr(environment.network.vpcCidr);
  if (!vpc) throw new Error(`environments.${environment.name}.network.vpcCidr: not a CIDR`);
  const order = [...ZONE_ORDER].sort((a, b) => spec.securityZones[a].subnetCidrMask - spec.securityZones[b].subnetCidrMask);
  let next = vpc.base;
  const result = {} as Record<ZoneName, string[]>;
  for (const zone of order) {
    const mask = spec.securityZones[zone].subnetCidrMask;
    const size = addressCount(mask);
    result[zone] = environment.availabilityZones.map(() => {
      const cidr = `${formatIpv4(next)}/${mask}`;
      next += size;
      return cidr;
    });
  }
  return result;
}
