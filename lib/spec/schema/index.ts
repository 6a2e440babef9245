/**
 * The shape of the platform spec, composed from one module per domain; the rules that span
 * fields are in ../checks, the value grammars in ../parse.
 *
 * The spec has no AWS or Kubernetes dependency on purpose: the services import it (ports,
 * topics) and are bundled by esbuild, so it must stay plain data + zod.
 */
import { z } from 'zod';
import { checkPlatformSpec } from '../checks';
import { analytics, environmentAnalytics } from './analytics';
import { clusterAddons, environmentCluster } from './cluster';
import { awsAccountId, awsRegion, kebabName, threeAvailabilityZones } from './common';
import { dataTier, environmentCache, environmentDatabase, environmentMessaging } from './data-tier';
import { disasterRecovery, drRegion } from './dr';
import { edge, environmentEdge } from './edge';
import { environmentGitops, gitops } from './gitops';
import { localCluster } from './local-cluster';
import { environmentNetwork, operatorAccess, securityZones } from './network';
import { observabilitySchema } from './observability';
import { vaultSpec } from './vault';
import { environmentWorkloads, service, workloads } from './workloads';

export { INSTANCE_FAMILIES, INSTANCE_SIZES, LOG_RETENTION_DAYS } from './common';
export { ZONE_NAMES, OPERATOR_TARGETS } from './network';
export type { ZoneName, OperatorTarget } from './network';
export { CLOUDFRONT_REGION } from './edge';
export { VAULT_SECRET_KINDS } from './vault';
export type { VaultSecretKind } from './vault';
export type { HelmChartSpec } from './cluster';
export type { GitopsRevision } from './gitops';
export type { KafkaTopicSpec } from './data-tier';
export { SERVICE_EXPOSURES, TOKEN_ROLES } from './workloads';
export type { LocalClusterSpec } from './local-cluster';
export type { ContainerResourcesSpec, EnvironmentWorkloadsSpec, GeneratedKeySpec, ServiceDatabaseSpec, ServiceExposure, ServiceSloSpec, TokenRole } from './workloads';
export { SEVERITIES } from './observability';
export type { ObservabilitySpec, NotificationSubscription, Severity } from './observability';

/** One environment (environments.<name>): its account and region, and each domain's sizing. */
const environment = z.strictObject({
  name: kebabName,
  account: awsAccountId,
  region: awsRegion,
  availabilityZones: threeAvailabilityZones('us-east-1a'),
  /** Termination protection on every stack of the environment. */
  terminationProtection: z.boolean(),
  network: environmentNetwork,
  cluster: environmentCluster,
  database: environmentDatabase,
  cache: environmentCache,
  messaging: environmentMessaging,
  edge: environmentEdge,
  analytics: environmentAnalytics,
  gitops: environmentGitops,
  /** Its workload sizes where they differ from services[] and workloads.pgbouncer; none unless given. */
  workloads: environmentWorkloads.optional(),
});

const platformSpecFields = z.strictObject({
  project: kebabName,
  securityZones,
  operatorAccess,
  environments: z.strictObject({
    production: environment,
    staging: environment,
  }),
  /** The charts' single-node environment, as overrides of staging (schema/local-cluster.ts). */
  localCluster,
  services: z.array(service).min(1),
  vault: vaultSpec,
  dataTier,
  drRegion,
  disasterRecovery,
  gitops,
  edge,
  workloads,
  analytics,
  clusterAddons,
  /** Alarms, alerts, dashboards and who they notify (schema/observability.ts). */
  observability: observabilitySchema,
}).superRefine((spec, ctx) => {
  // Every rule runs and reports on its own field, so one load lists every problem of the spec.
  checkPlatformSpec(spec, (path, input, message) => ctx.addIssue({ code: 'custom', path, input, message }));
});

/** The spec as the checks see it: the fields as written, defaults filled in. */
export type PlatformSpecFields = z.infer<typeof platformSpecFields>;

export const platformSpecSchema = platformSpecFields;

export type PlatformSpec = z.infer<typeof platformSpecSchema>;
/** The spec as written (lib/spec/platform.ts): fields with a default may be left out. */
export type PlatformSpecInput = z.input<typeof platformSpecSchema>;
export type EnvironmentSpec = PlatformSpec['environments']['production'];
export type EnvironmentName = keyof PlatformSpec['environments'];
/**
 * An environment the charts render: an AWS environment, or the local one derived from staging
 * (lib/spec/environments.ts), whose images come from its own registry.
 */
export type ChartEnvironment = EnvironmentSpec & { readonly imageRegistry?: string };
export type ServiceSpec = PlatformSpec['services'][number];
export type VaultSpec = PlatformSpec['vault'];
export type WorkloadsSpec = PlatformSpec['workloads'];
export type AnalyticsSpec = PlatformSpec['analytics'];
