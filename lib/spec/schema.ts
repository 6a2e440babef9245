/**
 * The shape of the platform spec, and the rules every value must satisfy.
 *
 * This file has no AWS or Kubernetes dependency on purpose: the services import the spec
 * (ports, topics) and are bundled by esbuild, so the spec must stay plain data + zod.
 */
import { z } from 'zod';
import { checkObservability, observabilitySchema } from './observability-schema';

/** Instance families and sizes we accept; anything else is a typo until proven otherwise. */
export const INSTANCE_FAMILIES = [
  't3', 't3a', 'm5', 'm5a', 'm6i', 'm6a', 'm7i', 'm7a', 'm6g', 'm7g',
  'c5', 'c6i', 'c7i', 'c6g', 'c7g', 'r5', 'r6i', 'r7i', 'r6g', 'r7g',
] as const;
export const INSTANCE_SIZES = [
  'micro', 'small', 'medium', 'large', 'xlarge', '2xlarge', '4xlarge', '8xlarge',
  '12xlarge', '16xlarge', '24xlarge',
] as const;

const instanceType = z.string().refine(
  (value) => {
    const [family, size, ...rest] = value.split('.');
    return rest.length === 0
      && (INSTANCE_FAMILIES as readonly string[]).includes(family)
      && (INSTANCE_SIZES as readonly string[]).includes(size ?? '');
  },
  { message: `unknown EC2 instance type (expected <family>.<size>, family one of ${INSTANCE_FAMILIES.join(', ')})` },
);

const awsAccountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
const awsRegion = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region name such as us-east-1');
const port = z.number().int().min(1024, 'must be >= 1024 (unprivileged)').max(65535, 'must be <= 65535');
const positiveInt = z.number().int().min(1, 'must be >= 1');
/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;
const logRetentionDays = z.number().refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
  message: `must be a CloudWatch Logs retention period (${LOG_RETENTION_DAYS.join(', ')})`,
});
const kebabName = z.string().regex(/^[a-z][a-z0-9-]*[a-z0-9]$/, 'must be kebab-case');
const duration = z.string().regex(
  /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$|^PT0S$/,
  'must be an ISO-8601 duration such as PT1H or PT30M',
);
// Certificates and roles are named by id/name; their ARNs are derived in the environment's account
// and region and the using stack's partition (lib/constructs/environment-arns.ts), so an account
// override moves them along.
const acmCertificateId = z.string().regex(
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  'must be an ACM certificate id (the UUID that ends its ARN)',
);
const iamRoleName = z.string().regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name (no path, at most 64 characters)');

const cidr = z.string().refine((value) => parseCidr(value) !== undefined, {
  message: 'must be an IPv4 CIDR block such as 10.0.0.0/16',
});

/** The four zones of the spec's "Security Boundaries" table. */
export const ZONE_NAMES = ['public', 'dmz', 'private', 'restricted'] as const;
export type ZoneName = (typeof ZONE_NAMES)[number];

const securityZone = z.strictObject({
  access: z.enum(['internet', 'vpn-only', 'service-mesh', 'bastion-only']),
  examples: z.array(z.string()).min(1),
  /** Prefix length of this zone's subnet in each AZ. */
  subnetCidrMask: z.number().int().min(16).max(28),
});

const cpuTrigger = z.strictObject({
  type: z.literal('cpu'),
  targetUtilizationPercent: z.number().int().min(1).max(100, 'must be <= 100'),
});
const latencyTrigger = z.strictObject({
  type: z.literal('latency'),
  /** Scale out when this percentile of request latency exceeds thresholdMs. */
  percentile: z.number().min(50).max(99.9),
  thresholdMs: positiveInt,
  /** Latency alone can mask saturation; a CPU trigger runs beside it. */
  cpuTargetUtilizationPercent: z.number().int().min(1).max(100, 'must be <= 100'),
});

const autoscaling = z.strictObject({
  minReplicas: positiveInt,
  maxReplicas: positiveInt,
  trigger: z.discriminatedUnion('type', [cpuTrigger, latencyTrigger]),
});

const service = z.strictObject({
  name: kebabName,
  /** The spec's port: gRPC (services) or HTTPS (api-gateway). */
  port,
  /** Plaintext health/readiness/metrics port (DESIGN.md §5); our choice, port + 1000. */
  healthPort: port,
  /** Readiness endpoint on healthPort; the ALB health-checks the api-gateway here. */
  readinessPath: z.string().regex(/^\/[A-Za-z0-9._~/-]*$/, 'must be an absolute URL path such as /readyz'),
  zone: z.enum(ZONE_NAMES),
  purpose: z.string().min(1),
  autoscaling,
});

const nodeGroup = z.strictObject({
  instanceType,
  nodes: positiveInt,
  diskSizeGiB: z.number().int().min(20).max(16384),
});

const helmChart = z.strictObject({
  chart: z.string().min(1),
  repository: z.string().url(),
  version: z.string().regex(/^v?\d+\.\d+\.\d+$/, 'must be an exact chart version such as 1.2.3'),
  namespace: kebabName,
});

const dnsName = z.string().regex(
  /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
  'must be a lower-case DNS name such as api.example.com',
);

/** The edge of one environment (DESIGN.md §4): CloudFront (WAF) -> ALB (WAF) -> api-gateway. */
const environmentEdge = z.strictObject({
  /** The name clients use: CloudFront's alternate domain name. */
  domainName: dnsName,
  /** The ALB's own name: CloudFront connects to it over TLS, so the ALB certificate must cover it. */
  originDomainName: dnsName,
  /** CloudFront's viewer certificate: its ACM id in the environment's account, in us-east-1 (CloudFront reads ACM there only). */
  cloudFrontCertificateId: acmCertificateId,
  /** The ALB's HTTPS listener certificate: its ACM id in the environment's account and region. */
  loadBalancerCertificateId: acmCertificateId,
  /** WAF rate-based rule: requests per client IP per 5-minute window (WAF allows 10..2e9). */
  wafRateLimitPer5Minutes: z.number().int().min(10, 'must be >= 10 (WAF minimum)').max(2_000_000_000, 'must be <= 2000000000 (WAF maximum)'),
  wafLogRetentionDays: logRetentionDays,
  /** Days ALB and CloudFront access logs stay in S3 before the lifecycle rule expires them. */
  accessLogExpirationDays: positiveInt,
  /**
   * Origin-verify secret versions in use (docs/edge.md, rotation): CloudFront sends the first,
   * the ALB accepts all. Empty: the secret's current version. A new id changes the template,
   * which is what makes CloudFormation resolve the secret again.
   */
  originVerifySecretVersionIds: z.array(z.string().regex(
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a Secrets Manager version id (a lower-case UUID)',
  )).max(2, 'must list at most 2 versions (the new one and the one being retired)'),
});

const cachePathPattern = z.string()
  .regex(/^\/[A-Za-z0-9_\-.*$/~"'@:+&?]*$/, 'must be a CloudFront path pattern starting with / such as /static/*')
  .refine((p) => p !== '/*', { message: 'must not be /* (that is the default behaviour: the API, never cached)' });

/** Edge settings shared by every environment. */
const edge = z.strictObject({
  /** Paths CloudFront caches (static assets); everything else is the API and is never cached. */
  staticPaths: z.strictObject({
    pathPatterns: z.array(cachePathPattern).min(1).max(20, 'must be <= 20 (CloudFront allows 25 cache behaviours)'),
    defaultTtlSeconds: z.number().int().min(0),
    maxTtlSeconds: z.number().int().min(1),
  }),
  /** The header CloudFront adds and the ALB requires, carrying the origin secret. */
  originVerifyHeaderName: z.string().regex(/^x-[a-z0-9-]+$/, 'must be a lower-case custom header name such as x-origin-verify'),
  /**
   * com.amazonaws.global.cloudfront.origin-facing managed prefix list id per region (the id
   * differs by region and a lookup would break offline synth).
   */
  cloudFrontOriginFacingPrefixLists: z.record(awsRegion, z.string().regex(/^pl-[0-9a-f]{8,17}$/, 'must be a managed prefix list id such as pl-3b927c52')),
});

/**
 * AWS node classes of the data tier: `<service prefix>.<family>.<size>`, with the families each
 * service offers that we accept (Graviton and current Intel); anything else is a typo.
 */
function nodeClass(prefix: string, families: readonly string[]) {
  return z.string().refine(
    (value) => {
      const [head, family, size, ...rest] = value.split('.');
      return head === prefix && rest.length === 0 && families.includes(family ?? '')
        && (INSTANCE_SIZES as readonly string[]).includes(size ?? '');
    },
    { message: `unknown ${prefix} node class (expected ${prefix}.<family>.<size>, family one of ${families.join(', ')})` },
  );
}
const dbInstanceClass = nodeClass('db', ['t4g', 'm6g', 'm7g', 'm6i', 'm7i', 'r6g', 'r7g', 'r6i', 'r7i']);
const cacheNodeType = nodeClass('cache', ['t4g', 'm6g', 'm7g', 'r6g', 'r7g']);
const kafkaBrokerType = nodeClass('kafka', ['t3', 'm5', 'm7g']);
const engineVersion = z.string().regex(/^\d+\.\d+$/, 'must be an exact <major>.<minor> version such as 17.6');

/** A Kafka topic the services publish to; created from this spec (docs/data-tier.md). */
const kafkaTopic = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9.-]{0,248}$/, 'must be a lowercase Kafka topic name (a-z, 0-9, ".", "-")'),
  partitions: positiveInt,
  retentionHours: positiveInt,
  /** The one service whose outbox publishes to the topic (the services find their topic by it). */
  producer: kebabName,
  purpose: z.string().min(1),
});

const environment = z.strictObject({
  name: kebabName,
  account: awsAccountId,
  region: awsRegion,
  availabilityZones: z.array(z.string().regex(/^[a-z]{2}-[a-z]+-\d[a-z]$/, 'must be an AZ name such as us-east-1a'))
    .length(3, 'must list exactly three availability zones'),
  /** Termination protection on every stack of the environment. */
  terminationProtection: z.boolean(),
  network: z.strictObject({
    vpcCidr: cidr,
    natGateways: positiveInt,
    flowLogRetentionDays: logRetentionDays,
    vpn: z.strictObject({
      /** ACM certificate id of the VPN server certificate, in the environment's account and region. */
      serverCertificateId: acmCertificateId,
      /** ACM certificate id of the client root CA, in the environment's account and region. */
      clientRootCertificateId: acmCertificateId,
      clientCidr: cidr,
    }),
    bastionInstanceType: instanceType,
  }),
  cluster: z.strictObject({
    kubernetesVersion: z.string().regex(/^1\.\d{2}$/, 'must be a Kubernetes minor version such as 1.35'),
    nodeGroup,
    /** The IAM role (in the environment's account) operators assume for cluster admin. */
    adminRoleName: iamRoleName,
    controlPlaneLogRetentionDays: logRetentionDays,
  }),
  database: z.strictObject({
    readReplicas: z.number().int().min(0).max(5),
    instanceClass: dbInstanceClass,
    allocatedStorageGiB: z.number().int().min(20, 'must be >= 20 (gp3 minimum)').max(65536),
    /** Storage autoscaling ceiling. */
    maxAllocatedStorageGiB: z.number().int().min(20).max(65536),
    /** RDS automated backups (point-in-time restore window). */
    backupRetentionDays: z.number().int().min(1, 'must be >= 1: 0 turns automated backups off').max(35, 'must be <= 35 (RDS limit)'),
    /**
     * PostgreSQL's max_connections, pinned in the parameter group: PgBouncer's server connections
     * plus dataTier.postgres.reservedConnections must fit (checked below).
     */
    maxConnections: z.number().int().min(10, 'must be >= 10').max(5000, 'must be <= 5000 (the most RDS gives any class by default)'),
    logRetentionDays,
  }),
  cache: z.strictObject({
    nodeType: cacheNodeType,
    snapshotRetentionDays: z.number().int().min(1, 'must be >= 1: 0 turns snapshots off').max(35),
    logRetentionDays,
  }),
  messaging: z.strictObject({
    brokerInstanceType: kafkaBrokerType,
    brokerStorageGiB: z.number().int().min(1).max(16384),
    logRetentionDays,
  }),
  edge: environmentEdge,
  /** The analytics path of the environment: Flink capacity and the warehouse's. */
  analytics: z.strictObject({
    flink: z.strictObject({
      /** Managed Flink starting parallelism (total slots over all KPUs). */
      parallelism: positiveInt,
      /** Slots per KPU (1 KPU = 1 vCPU, 4 GiB). */
      parallelismPerKpu: z.number().int().min(1).max(8, 'must be <= 8 (Managed Flink limit)'),
      /** Managed Flink scales parallelism up on CPU and back down (never below `parallelism`). */
      autoScaling: z.boolean(),
      logRetentionDays,
    }),
    warehouse: z.strictObject({
      /** Redshift Serverless base capacity in RPUs: 8 to 512 in steps of 8. */
      baseCapacityRpu: z.number().int().min(8, 'must be >= 8 RPUs (Redshift Serverless minimum)').max(512)
        .refine((n) => n % 8 === 0, { message: 'must be a multiple of 8 RPUs' }),
      /** Ceiling of capacity scaling; caps the bill. */
      maxCapacityRpu: z.number().int().min(8).max(5632),
    }),
  }),
});

/**
 * The payment provider's API origin (services/README.md `STRIPE_API_BASE`): HTTPS only (the
 * secret key travels in every request), and an origin only: the client takes host and port, so
 * a path, query or credentials would be silently dropped.
 */
const httpsOrigin = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an https URL such as https://api.stripe.com' });
    return;
  }
  if (url.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: `must be an https URL (got ${url.protocol.slice(0, -1)}): the secret key travels in every request` });
  else if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'must not carry credentials: the key comes from Vault' });
  else if (url.pathname !== '/' || url.search || url.hash || value.endsWith('/')) {
    ctx.addIssue({ code: 'custom', message: 'must be an origin only (https://<host>[:<port>], no path, query or trailing slash)' });
  } else if (!/^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(url.hostname)) {
    ctx.addIssue({ code: 'custom', message: 'must name the provider by DNS name, not an IP address (its addresses change)' });
  }
});

/**
 * What a service may read from Vault: its database, cache and broker credentials, and
 * `payment-provider`: the payment provider's secret key (workloads.paymentProvider), which also
 * gives the service its only egress to the internet (docs/workloads.md "Network zones").
 */
export const VAULT_SECRET_KINDS = ['database', 'cache', 'broker', 'payment-provider'] as const;
/** Vault (DESIGN.md §7): the secrets store of every environment, primary + DR-region standby. */
const vaultSpec = z.strictObject({
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
  /** What each service may read from Vault, by VAULT_SECRET_KINDS. */
  serviceSecrets: z.record(kebabName, z.array(z.enum(VAULT_SECRET_KINDS)).min(1)),
  /** How often Vault rotates the services' static database passwords (database/static-creds). */
  staticCredentialRotation: z.strictObject({ services: duration }),
  /** Lifetime of the services' CA that the PKI mount generates (and the mount's max lease TTL). */
  pkiCaTtl: duration,
});

/** Kubernetes quantities we accept: CPU in millicores or cores, memory in Mi/Gi. */
const cpuQuantity = z.string().regex(/^(\d+m|\d+(\.\d+)?)$/, 'must be a CPU quantity such as 250m or 1');
const memoryQuantity = z.string().regex(/^\d+(Mi|Gi)$/, 'must be a memory quantity such as 256Mi or 1Gi');
const containerResources = z.strictObject({
  requests: z.strictObject({ cpu: cpuQuantity, memory: memoryQuantity }),
  limits: z.strictObject({ cpu: cpuQuantity, memory: memoryQuantity }),
});
/** A third-party image, pinned: `<registry>/<repository>:<tag>`, optionally `@sha256:<digest>`. */
const pinnedImage = z.string().regex(
  /^[a-z0-9.-]+\.[a-z]{2,}\/[a-z0-9._/-]+:[A-Za-z0-9._-]+(@sha256:[0-9a-f]{64})?$/,
  'must be a pinned image <registry>/<repository>:<tag>[@sha256:<digest>] (no "latest" guessing)',
);

/** The charts: what the spec does not give about the workloads, all our choice. */
const workloads = z.strictObject({
  /** Image tag of the services when no `-c services:imageTag=<tag>` is given. */
  defaultImageTag: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/, 'must be a Docker image tag'),
  /** Who calls whom over gRPC (services/README.md): the callee admits the caller's identity and NetworkPolicy. */
  calls: z.record(kebabName, z.array(kebabName).min(1)),
  /**
   * The external payment provider (Stripe) the services with vault.serviceSecrets
   * 'payment-provider' call over the internet; its secret key is in Vault (docs/vault.md).
   */
  paymentProvider: z.strictObject({
    /** `STRIPE_API_BASE`; the NetworkPolicy opens the internet on its port only (443 unless given). */
    apiBase: httpsOrigin,
  }),
  /** PostgreSQL database of each service that has one (vault.serviceSecrets 'database'). */
  databaseNames: z.record(kebabName, z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be a PostgreSQL identifier')),
  /** Services that also read from the replicas, through PgBouncer's reader pool (DATABASE_READ_HOST). */
  replicaReaders: z.array(kebabName),
  /** Requests and limits of each service's container, keyed by service name. */
  resources: z.record(kebabName, containerResources),
  /** Seconds between SIGTERM and SIGKILL; must exceed the services' drain time (SHUTDOWN_GRACE_MS). */
  terminationGracePeriodSeconds: z.number().int().min(1).max(600),
  pgbouncer: z.strictObject({
    /** At least two, so a node drain or AZ loss leaves a pooler (PodDisruptionBudget minAvailable 1). */
    replicas: z.number().int().min(2, 'must be >= 2 (one pooler must survive a disruption)'),
    image: pinnedImage,
    exporterImage: pinnedImage,
    exporterPort: port,
    /** Server connections per (database, user) pair of each pooler replica. */
    defaultPoolSize: positiveInt,
    /** Server connections per database of each replica; times replicas must fit max_connections. */
    maxDbConnections: positiveInt,
    resources: containerResources,
    exporterResources: containerResources,
  }),
  certificates: z.strictObject({
    /** Who signs the services' mTLS certificates in each environment. */
    issuer: z.strictObject({ production: z.enum(['vault-pki', 'self-signed']), staging: z.enum(['vault-pki', 'self-signed']) }),
    /** Vault PKI mount and role cert-manager signs with (issuer vault-pki). */
    vaultPkiPath: z.string().regex(/^[a-z0-9_-]+\/sign\/[a-z0-9_-]+$/, 'must be <pki mount>/sign/<role> such as pki/sign/services'),
    /** Certificate lifetime and renewal point (ISO-8601 hours). */
    duration: duration,
    renewBefore: duration,
  }),
});

const sqlIdentifier = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier');
/**
 * The spec's Data Flow "Analytics: Kafka -> Flink -> Data Warehouse": what the Flink
 * job reads and how it treats time, and the warehouse's names. Everything here is our choice.
 */
const analytics = z.strictObject({
  flink: z.strictObject({
    /** Managed Service for Apache Flink runtime (RuntimeEnvironment); analytics/pom.xml builds against it. */
    runtime: z.string().regex(/^FLINK-\d+_\d+$/, 'must be a Managed Flink runtime such as FLINK-2_2'),
    /** How the job signs in to MSK: with its execution role (MSK IAM), on dataTier.kafka.iamPort. */
    kafkaAuthentication: z.literal('iam'),
    /** The Kafka topics (of dataTier.kafka.topics) the job consumes. */
    topics: z.array(z.string()).min(1),
    /** Kafka consumer group of the job (its IAM policy names it). */
    consumerGroup: z.string().regex(/^[a-z][a-z0-9.-]{0,100}$/, 'must be a lowercase consumer group name'),
    checkpointIntervalSeconds: positiveInt,
    minPauseBetweenCheckpointsSeconds: positiveInt,
    /** How long an event id is remembered; must cover the topics' retention so a replay is de-duplicated. */
    dedupRetentionHours: positiveInt,
    /** Event-time watermark: how far out of order (occurredAt) events may arrive and still count on time. */
    maxOutOfOrdernessSeconds: positiveInt,
    /** A partition silent this long stops holding the watermark back. */
    idleTimeoutSeconds: positiveInt,
    /** Windows accept late events this long after they fired, and re-emit their (upserted) result. */
    allowedLatenessMinutes: z.number().int().min(0),
  }),
  warehouse: z.strictObject({
    port,
    databaseName: sqlIdentifier,
    schemaName: sqlIdentifier,
    adminUsername: sqlIdentifier,
    /** The least-privilege user the Flink job writes as (created by the schema migrations resource). */
    writerUsername: sqlIdentifier,
  }),
});

/** What an operator entry point may reach (operatorAccess). */
export const OPERATOR_TARGETS = ['dmz', 'cluster-api', 'restricted', 'vault'] as const;
export type OperatorTarget = (typeof OPERATOR_TARGETS)[number];

export const platformSpecSchema = z.strictObject({
  project: kebabName,
  securityZones: z.strictObject({
    public: securityZone,
    dmz: securityZone,
    private: securityZone,
    restricted: securityZone,
  }),
  /**
   * The operators' entry points and what each reaches: the Client VPN (the DMZ's "VPN only") and
   * the SSM bastion (the restricted zone's "Bastion only"). Security groups and the reachability
   * model are derived from it.
   */
  operatorAccess: z.strictObject({
    vpn: z.array(z.enum(OPERATOR_TARGETS)).min(1),
    bastion: z.array(z.enum(OPERATOR_TARGETS)).min(1),
  }),
  environments: z.strictObject({
    production: environment,
    staging: environment,
  }),
  services: z.array(service).min(1),
  vault: vaultSpec,
  dataTier: z.strictObject({
    postgres: z.strictObject({
      port,
      engineMajorVersion: z.string().regex(/^\d+$/),
      /** The pinned minor; must belong to engineMajorVersion. */
      engineVersion,
      masterUsername: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be a PostgreSQL identifier'),
      logExports: z.array(z.enum(['postgresql', 'upgrade', 'iam-db-auth-error'])).min(1),
      monitoringIntervalSeconds: z.union([1, 5, 10, 15, 30, 60].map((n) => z.literal(n)) as [z.ZodLiteral<number>, z.ZodLiteral<number>]),
      /**
       * Connections kept free of PgBouncer's pools (superuser and RDS-reserved slots, Vault's
       * admin connection, operators through the bastion): max_connections must exceed the pools by it.
       */
      reservedConnections: z.number().int().min(5, 'must be >= 5: PostgreSQL and RDS reserve some for superusers'),
      performanceInsightsRetentionDays: z.number().int().refine((d) => d === 7 || (d % 31 === 0 && d <= 713) || d === 731, {
        message: 'must be 7, a multiple of 31 up to 713, or 731 (Performance Insights retention periods)',
      }),
    }),
    pgbouncer: z.strictObject({ maxClientConnections: positiveInt, port }),
    redis: z.strictObject({ port, engine: z.enum(['valkey', 'redis']), engineVersion }),
    kafka: z.strictObject({
      saslScramPort: port,
      iamPort: port,
      version: z.string().regex(/^\d+\.\d+\.(\d+|x)(\.kraft)?$/, 'must be an MSK Kafka version such as 3.9.x.kraft'),
      brokersPerAz: positiveInt,
      defaultReplicationFactor: positiveInt,
      minInsyncReplicas: positiveInt,
      /** The SCRAM user the services authenticate as; its secret is AmazonMSK_<...>. */
      scramUsername: kebabName,
      topics: z.array(kafkaTopic).min(1),
    }),
    /** AWS Backup of the database: the hourly rule derives from disasterRecovery.database.rpo. */
    backup: z.strictObject({
      recoveryPointRetentionDays: positiveInt,
      drCopyRetentionDays: positiveInt,
      vaultLock: z.strictObject({
        minRetentionDays: positiveInt,
        maxRetentionDays: positiveInt,
        /** Grace period before the lock becomes immutable (compliance mode); AWS minimum 3. */
        changeableForDays: z.number().int().min(3, 'must be >= 3 (AWS Backup Vault Lock minimum)'),
      }),
    }),
    /** The spec: "Sharding: Not implemented (planned for 2026)". */
    sharding: z.strictObject({ implemented: z.boolean(), plannedYear: z.number().int() }),
  }),
  /** Where standbys and backup copies live; never an environment's own region. */
  drRegion: z.strictObject({
    name: awsRegion,
    availabilityZones: z.array(z.string().regex(/^[a-z]{2}-[a-z]+-\d[a-z]$/, 'must be an AZ name such as us-west-2a'))
      .length(3, 'must list exactly three availability zones'),
  }),
  disasterRecovery: z.record(
    z.enum(['database', 'secrets', 'configuration']),
    z.strictObject({ rpo: duration, rto: duration, strategy: z.string().min(1) }),
  ),
  edge,
  workloads,
  analytics,
  clusterAddons: z.strictObject({
    awsLoadBalancerController: helmChart,
    metricsServer: helmChart,
    certManager: helmChart,
    keda: helmChart,
    prometheus: helmChart,
    /** The Vault Agent injector (docs/vault.md): renders secrets into the pods; no Vault server in-cluster. */
    vaultInjector: helmChart,
  }),
  /** Alarms, alerts, dashboards and who they notify (lib/spec/observability-schema.ts). */
  observability: observabilitySchema,
}).superRefine((spec, ctx) => {
  checkObservability({
    observability: spec.observability,
    environmentNames: Object.keys(spec.environments),
    serviceNames: spec.services.map((s) => s.name),
    databaseRpoSeconds: spec.disasterRecovery.database ? isoSeconds(spec.disasterRecovery.database.rpo) : undefined,
    certificateRenewBeforeSeconds: isoSeconds(spec.workloads.certificates.renewBefore),
  }, (path, input, message) => ctx.addIssue({ code: 'custom', path, input, message }));
  checkWorkloads(spec, ctx);
  checkPorts(spec.services, spec.dataTier, ctx);
  checkVault(spec, ctx);
  checkDataTier(spec, ctx);
  checkAnalytics(spec, ctx);
  checkStaticPaths(spec.edge.staticPaths, ctx);
  spec.services.forEach((svc, i) => {
    if (svc.autoscaling.minReplicas > svc.autoscaling.maxReplicas) {
      ctx.addIssue({
        code: 'custom',
        path: ['services', i, 'autoscaling', 'minReplicas'],
        input: svc.autoscaling.minReplicas,
        message: `must be <= maxReplicas (${svc.autoscaling.maxReplicas}) of service ${svc.name}`,
      });
    }
  });
  const names = new Set<string>();
  spec.services.forEach((svc, i) => {
    if (names.has(svc.name)) {
      ctx.addIssue({ code: 'custom', path: ['services', i, 'name'], input: svc.name, message: 'duplicate service name' });
    }
    names.add(svc.name);
  });
  for (const [key, env] of Object.entries(spec.environments)) {
    checkEnvironment(key, env, ctx);
    checkEnvironmentEdge(key, env, spec.edge, ctx);
    if (env.region === spec.drRegion.name) {
      ctx.addIssue({
        code: 'custom', path: ['drRegion', 'name'], input: spec.drRegion.name,
        message: `must differ from the region of environment ${key}: a DR copy in the same region survives nothing`,
      });
    }
  }
  spec.drRegion.availabilityZones.forEach((az, i) => {
    if (!az.startsWith(spec.drRegion.name)) {
      ctx.addIssue({ code: 'custom', path: ['drRegion', 'availabilityZones', i], input: az, message: `is not in region ${spec.drRegion.name}` });
    }
  });
});

export type PlatformSpec = z.infer<typeof platformSpecSchema>;
export type EnvironmentSpec = PlatformSpec['environments']['production'];
export type EnvironmentName = keyof PlatformSpec['environments'];
export type ServiceSpec = PlatformSpec['services'][number];
export type VaultSpec = PlatformSpec['vault'];
export type VaultSecretKind = (typeof VAULT_SECRET_KINDS)[number];
export type HelmChartSpec = z.infer<typeof helmChart>;
export type KafkaTopicSpec = z.infer<typeof kafkaTopic>;
export type WorkloadsSpec = PlatformSpec['workloads'];
export type AnalyticsSpec = PlatformSpec['analytics'];
export type ContainerResourcesSpec = z.infer<typeof containerResources>;
export type { ObservabilitySpec, NotificationSubscription, Severity } from './observability-schema';
export { SEVERITIES } from './observability-schema';

type Ctx = z.RefinementCtx;

function checkPorts(services: ServiceSpec[], dataTier: PlatformSpec['dataTier'], ctx: Ctx) {
  const seen = new Map<number, string>();
  const claim = (value: number, owner: string, path: (string | number)[]) => {
    const other = seen.get(value);
    if (other !== undefined) {
      ctx.addIssue({ code: 'custom', path, input: value, message: `port clash: also used by ${other}` });
    } else {
      seen.set(value, owner);
    }
  };
  services.forEach((svc, i) => {
    claim(svc.port, `services[${i}].port (${svc.name})`, ['services', i, 'port']);
    claim(svc.healthPort, `services[${i}].healthPort (${svc.name})`, ['services', i, 'healthPort']);
  });
  claim(dataTier.pgbouncer.port, 'dataTier.pgbouncer.port', ['dataTier', 'pgbouncer', 'port']);
}

/** Cross-field rules of the data tier: engine pins, Kafka durability, backup vs. RPO. */
function checkAnalytics(spec: PlatformSpec, ctx: Ctx) {
  const issue = (path: (string | number)[], input: unknown, message: string) =>
    ctx.addIssue({ code: 'custom', path, input, message });
  const { flink, warehouse } = spec.analytics;
  const topics = spec.dataTier.kafka.topics;
  flink.topics.forEach((name, i) => {
    if (!topics.some((t) => t.name === name)) issue(['analytics', 'flink', 'topics', i], name, 'is not a topic of dataTier.kafka.topics');
  });
  const longestRetention = Math.max(...topics.filter((t) => flink.topics.includes(t.name)).map((t) => t.retentionHours));
  if (flink.dedupRetentionHours < longestRetention) {
    issue(['analytics', 'flink', 'dedupRetentionHours'], flink.dedupRetentionHours,
      `must be >= the longest retention of its topics (${longestRetention} h), or a replay from the earliest offset counts events twice`);
  }
  if (flink.minPauseBetweenCheckpointsSeconds >= flink.checkpointIntervalSeconds) {
    issue(['analytics', 'flink', 'minPauseBetweenCheckpointsSeconds'], flink.minPauseBetweenCheckpointsSeconds,
      `must be < checkpointIntervalSeconds (${flink.checkpointIntervalSeconds})`);
  }
  if (warehouse.writerUsername === warehouse.adminUsername) {
    issue(['analytics', 'warehouse', 'writerUsername'], warehouse.writerUsername, 'must differ from adminUsername (the job writes with least privilege)');
  }
  for (const [key, env] of Object.entries(spec.environments)) {
    const w = env.analytics.warehouse;
    if (w.maxCapacityRpu < w.baseCapacityRpu) {
      issue(['environments', key, 'analytics', 'warehouse', 'maxCapacityRpu'], w.maxCapacityRpu, `must be >= baseCapacityRpu (${w.baseCapacityRpu})`);
    }
  }
}

function checkDataTier(spec: PlatformSpec, ctx: Ctx) {
  const issue = (path: (string | number)[], input: unknown, message: string) =>
    ctx.addIssue({ code: 'custom', path, input, message });
  const { postgres, kafka, backup } = spec.dataTier;
  if (!postgres.engineVersion.startsWith(`${postgres.engineMajorVersion}.`)) {
    issue(['dataTier', 'postgres', 'engineVersion'], postgres.engineVersion, `must be a minor of engineMajorVersion ${postgres.engineMajorVersion}`);
  }
  for (const [key, env] of Object.entries(spec.environments)) {
    const brokers = kafka.brokersPerAz * env.availabilityZones.length;
    if (kafka.defaultReplicationFactor > brokers) {
      issue(['dataTier', 'kafka', 'defaultReplicationFactor'], kafka.defaultReplicationFactor,
        `must be <= the broker count of environment ${key} (${brokers})`);
    }
    if (env.database.maxAllocatedStorageGiB < env.database.allocatedStorageGiB) {
      issue(['environments', key, 'database', 'maxAllocatedStorageGiB'], env.database.maxAllocatedStorageGiB,
        `must be >= allocatedStorageGiB (${env.database.allocatedStorageGiB})`);
    }
  }
  if (kafka.minInsyncReplicas >= kafka.defaultReplicationFactor) {
    issue(['dataTier', 'kafka', 'minInsyncReplicas'], kafka.minInsyncReplicas,
      `must be < defaultReplicationFactor (${kafka.defaultReplicationFactor}), or one broker down stops every producer`);
  }
  const topicNames = new Set<string>();
  kafka.topics.forEach((topic, i) => {
    if (topicNames.has(topic.name)) issue(['dataTier', 'kafka', 'topics', i, 'name'], topic.name, 'duplicate topic name');
    topicNames.add(topic.name);
    if (!spec.services.some((s) => s.name === topic.producer)) {
      issue(['dataTier', 'kafka', 'topics', i, 'producer'], topic.producer, 'is not a service of the spec');
    } else if (!spec.vault.serviceSecrets[topic.producer]?.includes('broker')) {
      issue(['dataTier', 'kafka', 'topics', i, 'producer'], topic.producer, 'has no broker credentials (vault.serviceSecrets)');
    }
  });
  // AWS Backup runs at most hourly, so the RPO must be a whole number of hours between 1 and 24.
  const rpo = spec.disasterRecovery.database?.rpo;
  const rpoMatch = rpo === undefined ? null : /^PT(\d+)H$/.exec(rpo);
  if (rpo !== undefined && (!rpoMatch || Number(rpoMatch[1]) < 1 || Number(rpoMatch[1]) > 24)) {
    issue(['disasterRecovery', 'database', 'rpo'], rpo, 'must be whole hours from PT1H to PT24H (AWS Backup runs at most hourly)');
  }
  const lock = backup.vaultLock;
  if (lock.minRetentionDays > lock.maxRetentionDays) {
    issue(['dataTier', 'backup', 'vaultLock', 'minRetentionDays'], lock.minRetentionDays, `must be <= maxRetentionDays (${lock.maxRetentionDays})`);
  }
  for (const field of ['recoveryPointRetentionDays', 'drCopyRetentionDays'] as const) {
    const days = backup[field];
    if (days < lock.minRetentionDays || days > lock.maxRetentionDays) {
      issue(['dataTier', 'backup', field], days,
        `must lie within the vault lock (${lock.minRetentionDays}-${lock.maxRetentionDays} days), or AWS Backup rejects the rule`);
    }
  }
}

function checkEnvironment(key: string, env: EnvironmentSpec, ctx: Ctx) {
  const at = (...rest: (string | number)[]) => ['environments', key, ...rest];
  if (env.name !== key) {
    ctx.addIssue({ code: 'custom', path: at('name'), input: env.name, message: `must equal its key "${key}"` });
  }
  env.availabilityZones.forEach((az, i) => {
    if (!az.startsWith(env.region)) {
      ctx.addIssue({ code: 'custom', path: at('availabilityZones', i), input: az, message: `is not in region ${env.region}` });
    }
  });
  if (new Set(env.availabilityZones).size !== env.availabilityZones.length) {
    ctx.addIssue({ code: 'custom', path: at('availabilityZones'), input: env.availabilityZones, message: 'must not repeat a zone' });
  }
  if (env.network.natGateways > env.availabilityZones.length) {
    ctx.addIssue({
      code: 'custom', path: at('network', 'natGateways'), input: env.network.natGateways,
      message: `must be <= the number of availability zones (${env.availabilityZones.length})`,
    });
  }
  const vpc = parseCidr(env.network.vpcCidr);
  const vpn = parseCidr(env.network.vpn.clientCidr);
  if (vpc && vpn && overlaps(vpc, vpn)) {
    ctx.addIssue({
      code: 'custom', path: at('network', 'vpn', 'clientCidr'), input: env.network.vpn.clientCidr,
      message: `overlaps the VPC CIDR ${env.network.vpcCidr}`,
    });
  }
  if (vpn && (vpn.prefix < 12 || vpn.prefix > 22)) {
    ctx.addIssue({
      code: 'custom', path: at('network', 'vpn', 'clientCidr'), input: env.network.vpn.clientCidr,
      message: 'must be between /12 and /22 (AWS Client VPN limit)',
    });
  }
}

/** CloudFront takes viewer certificates and CLOUDFRONT-scope web ACLs from us-east-1 only. */
export const CLOUDFRONT_REGION = 'us-east-1';

function checkEnvironmentEdge(key: string, env: EnvironmentSpec, edgeSpec: PlatformSpec['edge'], ctx: Ctx) {
  const at = (...rest: (string | number)[]) => ['environments', key, 'edge', ...rest];
  const { domainName, originDomainName } = env.edge;
  const versions = env.edge.originVerifySecretVersionIds;
  if (new Set(versions).size !== versions.length) {
    ctx.addIssue({ code: 'custom', path: at('originVerifySecretVersionIds'), input: versions, message: 'must not repeat a version' });
  }
  if (originDomainName === domainName) {
    ctx.addIssue({
      code: 'custom', path: at('originDomainName'), input: originDomainName,
      message: 'must differ from domainName: that name points at CloudFront, the origin name at the ALB',
    });
  }
  if (edgeSpec.cloudFrontOriginFacingPrefixLists[env.region] === undefined) {
    ctx.addIssue({
      code: 'custom', path: ['edge', 'cloudFrontOriginFacingPrefixLists'], input: edgeSpec.cloudFrontOriginFacingPrefixLists,
      message: `has no entry for region ${env.region} of environment ${key}`,
    });
  }
}

function checkStaticPaths({ pathPatterns, defaultTtlSeconds, maxTtlSeconds }: PlatformSpec['edge']['staticPaths'], ctx: Ctx) {
  if (defaultTtlSeconds > maxTtlSeconds) {
    ctx.addIssue({
      code: 'custom', path: ['edge', 'staticPaths', 'defaultTtlSeconds'], input: defaultTtlSeconds,
      message: `must be <= maxTtlSeconds (${maxTtlSeconds})`,
    });
  }
  pathPatterns.forEach((pattern, i) => {
    if (pathPatterns.indexOf(pattern) !== i) {
      ctx.addIssue({ code: 'custom', path: ['edge', 'staticPaths', 'pathPatterns', i], input: pattern, message: 'duplicate path pattern' });
    }
  });
}

interface ParsedCidr { readonly base: number; readonly prefix: number }

export function parseCidr(value: string): ParsedCidr | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) return undefined; // host bits set: 10.0.0.1/16 is a typo
  return { base, prefix };
}

function overlaps(a: ParsedCidr, b: ParsedCidr): boolean {
  const aEnd = a.base + 2 ** (32 - a.prefix);
  const bEnd = b.base + 2 ** (32 - b.prefix);
  return a.base < bEnd && b.base < aEnd;
}

/** Vault's cross-field rules (DESIGN.md §7). */
function checkVault(spec: PlatformSpec, ctx: Ctx) {
  const { vault } = spec;
  const at = (...rest: (string | number)[]) => ['vault', ...rest];
  const azs = spec.drRegion.availabilityZones.length;
  if (vault.nodes % azs !== 0) {
    ctx.addIssue({ code: 'custom', path: at('nodes'), input: vault.nodes, message: `must be a multiple of the ${azs} availability zones (even spread)` });
  }
  if (vault.apiPort === vault.clusterPort) {
    ctx.addIssue({ code: 'custom', path: at('clusterPort'), input: vault.clusterPort, message: 'must differ from vault.apiPort' });
  }
  const known = new Set(spec.services.map((s) => s.name));
  for (const name of Object.keys(vault.serviceSecrets)) {
    if (!known.has(name)) {
      ctx.addIssue({ code: 'custom', path: at('serviceSecrets', name), input: name, message: 'is not a service of the spec' });
    }
  }
  for (const svc of spec.services) {
    if (!(svc.name in vault.serviceSecrets)) {
      ctx.addIssue({ code: 'custom', path: at('serviceSecrets'), input: svc.name, message: `has no entry for service ${svc.name}` });
    }
  }
  for (const key of ['services'] as const) {
    // Vault refuses static roles rotated more often than every 5 s; minutes are the sane floor.
    if (isoSeconds(vault.staticCredentialRotation[key]) < 3600) {
      ctx.addIssue({ code: 'custom', path: at('staticCredentialRotation', key), input: vault.staticCredentialRotation[key], message: 'must be at least PT1H (each rotation briefly re-renders every client\'s password)' });
    }
  }
  if (isoSeconds(vault.pkiCaTtl) <= isoSeconds(spec.workloads.certificates.duration)) {
    ctx.addIssue({ code: 'custom', path: at('pkiCaTtl'), input: vault.pkiCaTtl, message: `must be longer than workloads.certificates.duration (${spec.workloads.certificates.duration})` });
  }
  if (vault.standbyVpc.natGateways > spec.drRegion.availabilityZones.length) {
    ctx.addIssue({
      code: 'custom', path: at('standbyVpc', 'natGateways'), input: vault.standbyVpc.natGateways,
      message: `must be <= the number of availability zones (${spec.drRegion.availabilityZones.length})`,
    });
  }
  for (const [key, env] of Object.entries(spec.environments)) {
    const standby = vault.standbyVpc.cidrs[key as keyof typeof vault.standbyVpc.cidrs];
    const parsed = parseCidr(standby);
    const needed = 2 * spec.drRegion.availabilityZones.length * 2 ** (32 - vault.standbyVpc.subnetCidrMask);
    if (parsed && needed > 2 ** (32 - parsed.prefix)) {
      ctx.addIssue({
        code: 'custom', path: at('standbyVpc', 'cidrs', key), input: standby,
        message: `is too small for ${2 * spec.drRegion.availabilityZones.length} subnets of /${vault.standbyVpc.subnetCidrMask}`,
      });
    }
    for (const other of [env.network.vpcCidr, env.network.vpn.clientCidr]) {
      const o = parseCidr(other);
      if (parsed && o && overlaps(parsed, o)) {
        ctx.addIssue({ code: 'custom', path: at('standbyVpc', 'cidrs', key), input: standby, message: `overlaps ${other} of environment ${key}` });
      }
    }
  }
}

/** Kubernetes CPU quantity in millicores (250m -> 250, 1.5 -> 1500). */
export function cpuMillis(quantity: string): number {
  return quantity.endsWith('m') ? Number(quantity.slice(0, -1)) : Math.round(Number(quantity) * 1000);
}

/** Kubernetes memory quantity in MiB (Mi/Gi only, as the schema accepts). */
export function memoryMiB(quantity: string): number {
  return quantity.endsWith('Gi') ? Number(quantity.slice(0, -2)) * 1024 : Number(quantity.slice(0, -2));
}

/** The charts' cross-field rules. */
function checkWorkloads(spec: PlatformSpec, ctx: Ctx) {
  const issue = (path: (string | number)[], input: unknown, message: string) =>
    ctx.addIssue({ code: 'custom', path, input, message });
  const { workloads: w } = spec;
  const names = spec.services.map((s) => s.name);
  for (const name of names) {
    if (!w.resources[name]) issue(['workloads', 'resources'], Object.keys(w.resources), `has no entry for service ${name}`);
  }
  for (const name of Object.keys(w.resources)) {
    if (!names.includes(name)) issue(['workloads', 'resources', name], name, 'is not a service of the spec');
  }
  const checkResources = (path: (string | number)[], r: ContainerResourcesSpec) => {
    if (cpuMillis(r.requests.cpu) > cpuMillis(r.limits.cpu)) issue([...path, 'requests', 'cpu'], r.requests.cpu, `must be <= limits.cpu (${r.limits.cpu})`);
    if (memoryMiB(r.requests.memory) > memoryMiB(r.limits.memory)) {
      issue([...path, 'requests', 'memory'], r.requests.memory, `must be <= limits.memory (${r.limits.memory})`);
    }
  };
  for (const [caller, callees] of Object.entries(w.calls)) {
    if (!names.includes(caller)) issue(['workloads', 'calls', caller], caller, 'is not a service of the spec');
    callees.forEach((callee, i) => {
      if (!names.includes(callee)) issue(['workloads', 'calls', caller, i], callee, 'is not a service of the spec');
      if (callee === caller) issue(['workloads', 'calls', caller, i], callee, 'a service does not call itself over the network');
    });
  }
  for (const [name, kinds] of Object.entries(spec.vault.serviceSecrets)) {
    if (kinds.includes('database') && !w.databaseNames[name]) issue(['workloads', 'databaseNames'], Object.keys(w.databaseNames), `has no database for ${name} (vault.serviceSecrets gives it one)`);
  }
  for (const name of Object.keys(w.databaseNames)) {
    if (!spec.vault.serviceSecrets[name]?.includes('database')) issue(['workloads', 'databaseNames', name], name, 'has no database in vault.serviceSecrets');
  }
  for (const [name, r] of Object.entries(w.resources)) checkResources(['workloads', 'resources', name], r);
  checkResources(['workloads', 'pgbouncer', 'resources'], w.pgbouncer.resources);
  checkResources(['workloads', 'pgbouncer', 'exporterResources'], w.pgbouncer.exporterResources);
  if (w.pgbouncer.defaultPoolSize > w.pgbouncer.maxDbConnections) {
    issue(['workloads', 'pgbouncer', 'defaultPoolSize'], w.pgbouncer.defaultPoolSize, `must be <= maxDbConnections (${w.pgbouncer.maxDbConnections})`);
  }
  const clientsPerPod = pgbouncerClientConnectionsPerPod(spec);
  const serversPerPod = pgbouncerServerConnectionsPerPod(spec);
  if (clientsPerPod < 1) {
    issue(['dataTier', 'pgbouncer', 'maxClientConnections'], spec.dataTier.pgbouncer.maxClientConnections,
      `is shared by ${PGBOUNCER_POOLS} pools x ${w.pgbouncer.replicas} replicas: must be at least one per PgBouncer pod`);
  } else if (serversPerPod > clientsPerPod) {
    issue(['workloads', 'pgbouncer', 'maxDbConnections'], w.pgbouncer.maxDbConnections,
      `times the ${Object.keys(w.databaseNames).length} databases (${serversPerPod}) must be <= each PgBouncer pod's share of dataTier.pgbouncer.maxClientConnections (${clientsPerPod}): a pool never holds more server than client connections`);
  }
  for (const [key, env] of Object.entries(spec.environments)) {
    // Each pool's replicas all reach one instance in the worst case (the writer; the reader pool's
    // hosts when one replica is down).
    const needed = w.pgbouncer.replicas * serversPerPod + spec.dataTier.postgres.reservedConnections;
    if (needed > env.database.maxConnections) {
      issue(['environments', key, 'database', 'maxConnections'], env.database.maxConnections,
        `must be >= PgBouncer's server connections to one instance (${w.pgbouncer.replicas} replicas x ${serversPerPod}) + dataTier.postgres.reservedConnections (${spec.dataTier.postgres.reservedConnections}) = ${needed}`);
    }
  }
  w.replicaReaders.forEach((name, i) => {
    if (!spec.vault.serviceSecrets[name]?.includes('database')) issue(['workloads', 'replicaReaders', i], name, 'has no database in vault.serviceSecrets');
  });
  if (isoSeconds(w.certificates.renewBefore) >= isoSeconds(w.certificates.duration)) {
    issue(['workloads', 'certificates', 'renewBefore'], w.certificates.renewBefore, `must be shorter than duration (${w.certificates.duration})`);
  }
  const reserved = new Map<number, string>();
  spec.services.forEach((s) => { reserved.set(s.port, s.name); reserved.set(s.healthPort, s.name); });
  reserved.set(spec.dataTier.pgbouncer.port, 'dataTier.pgbouncer.port');
  const other = reserved.get(w.pgbouncer.exporterPort);
  if (other) issue(['workloads', 'pgbouncer', 'exporterPort'], w.pgbouncer.exporterPort, `port clash: also used by ${other}`);
}

/** PgBouncer runs two pools (charts/pgbouncer-chart.ts): the writer (RDS primary) and the reader (the replicas). */
export const PGBOUNCER_POOLS = 2;

/**
 * Each PgBouncer pod's max_client_conn: the spec's limit is for PgBouncer as a whole, so it is
 * shared by every replica of both pools.
 */
export function pgbouncerClientConnectionsPerPod(spec: Pick<PlatformSpec, 'dataTier' | 'workloads'>): number {
  return Math.floor(spec.dataTier.pgbouncer.maxClientConnections / (PGBOUNCER_POOLS * spec.workloads.pgbouncer.replicas));
}

/** Server connections one PgBouncer pod may open: max_db_connections for each service database. */
export function pgbouncerServerConnectionsPerPod(spec: Pick<PlatformSpec, 'workloads'>): number {
  return Object.keys(spec.workloads.databaseNames).length * spec.workloads.pgbouncer.maxDbConnections;
}

/** Seconds of an already-validated PT duration (index.ts' durationSeconds imports this module). */
function isoSeconds(iso: string): number {
  const match = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(iso);
  const [, h = '0', m = '0', s = '0'] = match ?? [];
  return Number(h) * 3600 + Number(m) * 60 + Number(s);
}
