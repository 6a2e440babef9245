/** Vault (DESIGN.md §7): the secrets store of every environment, primary + DR-region standby. */
import { z } from 'zod';
import { cidr, duration, httpsOrigin, instanceType, logRetentionDays, port, positiveInt } from './common';

/**
 * What a service may read from Vault: its database, cache and broker credentials, and
 * `payment-provider`: the payment provider's secret key (workloads.paymentProvider), which also
 * gives the service its only egress to the internet (docs/workloads.md "Network zones").
 */
export const VAULT_SECRET_KINDS = ['database', 'cache', 'broker', 'payment-provider'] as const;
export type VaultSecretKind = (typeof VAULT_SECRET_KINDS)[number];

export const vaultSpec = z.strictObject({
  /** Open-source Vault version installed from HashiCorp's RPM repository (exact, e.g. 1.20.4). */
  version: z.string().regex(/^\d+\.\d+\.\d+$/, 'must be an exact Vault version such as 1.20.4'),
  /** Nodes of the primary cluster (and of the standby once failed over), spread over the three AZs. */
  nodes: positiveInt,
  instanceType,
  diskSizeGiB: z.number().int().min(8).max(16384),
  apiPort: port,
  clusterPort: port,
  auditLogRetentionDays: logRetentionDays,
  /** true: Vault Enterprise DR replication to a running standby instead of the shared global table. */
  enterpriseReplication: z.boolean(),
  /** The DR-region VPC of each environment's standby; must not overlap the environment's networks. */
  standbyVpc: z.strictObject({
    cidrs: z.strictObject({ production: cidr, staging: cidr }),
    natGateways: positiveInt,
    /** Prefix length of each of its subnets (a public and a private one per AZ). */
    subnetCidrMask: z.number().int().min(16).max(28),
  }),
  /** Lifetime of the Vault token a pod gets from its Kubernetes service account. */
  kubernetesTokenTtl: duration,
  /** The AWS APIs a Vault node calls (storage, unseal, TLS secret, audit logs): its HTTPS egress must reach them. */
  awsApis: z.array(z.enum(['dynamodb', 'kms', 'secretsmanager', 'logs', 'ssm', 'ssmmessages', 'ec2messages', 'sts'])).min(1),
  /** HashiCorp's package repository the nodes install Vault from at boot (through the NAT). */
  packageRepository: httpsOrigin,
  /** TTL of the private DNS record the cluster's clients resolve Vault by; a failover moves it. */
  dnsTtlSeconds: z.number().int().min(5, 'must be >= 5').max(300, 'must be <= 300: a failover waits this long for clients to follow'),
  /** How often Vault rotates the services' static database passwords (database/static-creds). */
  staticCredentialRotation: z.strictObject({ services: duration }),
  /** Lifetime of the services' CA that the PKI mount generates (and the mount's max lease TTL). */
  pkiCaTtl: duration,
});
