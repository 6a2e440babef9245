/** The services and what the charts deploy them with: ports, autoscaling, resources, PgBouncer, mTLS. */
import { z } from 'zod';
import { CPU_QUANTITY, MEMORY_QUANTITY } from '../parse';
import { duration, httpsOrigin, kebabName, port, positiveInt } from './common';
import { ZONE_NAMES } from './network';
import { VAULT_SECRET_KINDS } from './vault';

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

const replicaBounds = { minReplicas: positiveInt, maxReplicas: positiveInt };
const autoscaling = z.strictObject({
  ...replicaBounds,
  trigger: z.discriminatedUnion('type', [cpuTrigger, latencyTrigger]),
});

/**
 * What a service serves on its port. 'edge': HTTPS to the edge's load balancer (CloudFront -> ALB
 * -> this service: the ALB's TargetGroupBinding, HTTP_PORT, X-Forwarded-For believed from the public
 * zone, metrics per HTTP route); exactly one service is the edge. 'grpc': gRPC over mTLS to the
 * callers whose services[].calls name it (GRPC_PORT, GRPC_ALLOWED_PEERS, a headless Service, metrics per RPC).
 */
export const SERVICE_EXPOSURES = ['edge', 'grpc'] as const;
export type ServiceExposure = (typeof SERVICE_EXPOSURES)[number];

/**
 * A service's part in the access tokens (JWTs, services/README.md): 'sign' issues them (and serves
 * its key set over gRPC), 'verify' checks them against the signer's key set. Both get the
 * environment's issuer and audience (JWT_ISSUER, JWT_AUDIENCE).
 */
export const TOKEN_ROLES = ['sign', 'verify'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/**
 * A secret no store issues: vault/bootstrap.sh generates it once (random bytes, base64) into KV
 * `services/<service>/<path>`, field `field`, and never overwrites it; the Vault Agent renders it
 * to /vault/secrets/<file>, whose path the service reads from the variable `env`.
 */
const generatedKey = z.strictObject({
  path: kebabName,
  field: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'must be a KV field name such as keyEncryptionKey'),
  bytes: z.number().int().min(16, 'must be >= 16 (a key, not a password)').max(1024),
  file: kebabName,
  env: z.string().regex(/^[A-Z][A-Z0-9_]*_FILE$/, 'must be an environment variable ending in _FILE'),
});
export type GeneratedKeySpec = z.infer<typeof generatedKey>;

const cpuQuantity = z.string().regex(CPU_QUANTITY, 'must be a CPU quantity such as 250m or 1');
const memoryQuantity = z.string().regex(MEMORY_QUANTITY, 'must be a memory quantity such as 256Mi or 1Gi');
export const containerResources = z.strictObject({
  requests: z.strictObject({ cpu: cpuQuantity, memory: memoryQuantity }),
  limits: z.strictObject({ cpu: cpuQuantity, memory: memoryQuantity }),
});
export type ContainerResourcesSpec = z.infer<typeof containerResources>;

/**
 * The sizes of one environment's workloads where they differ from the global ones
 * (environments.<env>.workloads, localCluster.workloads). One size for every service, so a new
 * services[] entry is sized there too and the spec keeps no per-service table outside the entry.
 */
export const environmentWorkloads = z.strictObject({
  /** Every service's autoscaler bounds and container resources, in place of its entry's. */
  services: z.strictObject({
    ...replicaBounds,
    /** The edge service's floor (services[].exposes 'edge'): it takes every request; minReplicas unless given. */
    edgeMinReplicas: positiveInt.optional(),
    resources: containerResources,
  }).optional(),
  /** Each pool's replicas and the containers of each pooler pod, in place of workloads.pgbouncer's. */
  pgbouncer: z.strictObject({
    replicas: positiveInt,
    resources: containerResources,
    exporterResources: containerResources,
  }).optional(),
});
export type EnvironmentWorkloadsSpec = z.infer<typeof environmentWorkloads>;

const percent = z.number().gt(0, 'must be > 0 %').max(100, 'must be <= 100 %');
/** A service's SLO, per HTTP route (the edge service) or per RPC (the rest); prometheus-rules.ts alerts on it. */
const serviceSlo = z.strictObject({
  /** Share of requests (per route or RPC) that may fail with a server error. */
  errorRateMaxPercent: percent,
  /** p99 latency per route or RPC. */
  latencyP99MaxMs: z.number().gt(0, 'must be > 0'),
});
export type ServiceSloSpec = z.infer<typeof serviceSlo>;

/** A service's own PostgreSQL database, reached through PgBouncer (docs/data-tier.md). */
const serviceDatabase = z.strictObject({
  /** DATABASE_NAME; one database per service, so no two services share a name. */
  name: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be a PostgreSQL identifier'),
  /** Also reads from the replicas, through PgBouncer's reader pool (DATABASE_READ_HOST); false unless given. */
  replicaReads: z.boolean().default(false),
});
export type ServiceDatabaseSpec = z.infer<typeof serviceDatabase>;

/**
 * services[]: everything about one service, so adding a service is one entry here plus its code
 * folder (docs/recipes.md). Where each value comes from (spec or choice) is noted at the entry.
 */
export const service = z.strictObject({
  name: kebabName,
  /** The spec's port: HTTPS for the edge service, gRPC for the rest (`exposes`). */
  port,
  /** Plaintext health/readiness/metrics port (DESIGN.md §5); our choice, port + 1000. */
  healthPort: port,
  /** Readiness endpoint on healthPort; the ALB health-checks the api-gateway here. */
  readinessPath: z.string().regex(/^\/[A-Za-z0-9._~/-]*$/, 'must be an absolute URL path such as /readyz'),
  zone: z.enum(ZONE_NAMES),
  purpose: z.string().min(1),
  autoscaling,
  /** What the port serves (SERVICE_EXPOSURES); gRPC unless given. */
  exposes: z.enum(SERVICE_EXPOSURES).default('grpc'),
  /** Its part in the access tokens (TOKEN_ROLES), if any. */
  tokens: z.enum(TOKEN_ROLES).optional(),
  /** Secrets generated for it alone (e.g. a key encrypting its own keys at rest); none unless given. */
  generatedKeys: z.array(generatedKey).default([]),
  /**
   * What it may read from Vault (VAULT_SECRET_KINDS): the stores it uses, and with them its
   * NetworkPolicy egress and its Vault policy.
   */
  secrets: z.array(z.enum(VAULT_SECRET_KINDS)).min(1),
  /** The services it calls over gRPC (mTLS): each callee admits its identity and NetworkPolicy; none unless given. */
  calls: z.array(kebabName).default([]),
  /** Its PostgreSQL database; given exactly when secrets has 'database'. */
  database: serviceDatabase.optional(),
  /** Requests and limits of its container. */
  resources: containerResources,
  /** Its error-rate and latency SLO (docs/observability.md). */
  slo: serviceSlo,
});

/** A third-party image, pinned: `<registry>/<repository>:<tag>`, optionally `@sha256:<digest>`. */
const pinnedImage = z.string().regex(
  /^[a-z0-9.-]+\.[a-z]{2,}\/[a-z0-9._/-]+:[A-Za-z0-9._-]+(@sha256:[0-9a-f]{64})?$/,
  'must be a pinned image <registry>/<repository>:<tag>[@sha256:<digest>] (no "latest" guessing)',
);

/** PgBouncer pods per pool in an AWS environment: a node drain or AZ loss must leave a pooler. */
export const MIN_POOLER_REPLICAS = 2;

/** The charts: what the spec does not give about the workloads, all our choice. */
export const workloads = z.strictObject({
  /** Image tag of the services when no `-c services:imageTag=<tag>` is given. */
  defaultImageTag: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/, 'must be a Docker image tag'),
  /**
   * The external payment provider (Stripe) the services with secrets
   * 'payment-provider' (services[].secrets) call over the internet; its secret key is in Vault (docs/vault.md).
   */
  paymentProvider: z.strictObject({
    /** `STRIPE_API_BASE`; the NetworkPolicy opens the internet on its port only (443 unless given). */
    apiBase: httpsOrigin,
  }),
  /**
   * Seconds between SIGTERM and SIGKILL: the endpoint drain, then the services' own drain
   * (SHUTDOWN_GRACE_MS, what is left less 10 s for the exit).
   */
  terminationGracePeriodSeconds: z.number().int().min(1).max(600),
  /**
   * Seconds a service keeps serving after SIGTERM before it drains (ENDPOINT_DRAIN_MS): the
   * Endpoints controller and every node's kube-proxy (and the ALB's target group) stop sending
   * it new connections only some time after the pod is marked terminating.
   */
  endpointDrainSeconds: z.number().int().min(0, 'must be >= 0').max(120, 'must be <= 120'),
  pgbouncer: z.strictObject({
    /** At least two, so a node drain or AZ loss leaves a pooler (PodDisruptionBudget minAvailable 1). */
    replicas: z.number().int().min(MIN_POOLER_REPLICAS, `must be >= ${MIN_POOLER_REPLICAS} (one pooler must survive a disruption)`),
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
    /**
     * Who signs the services' mTLS certificates, by environment name: one entry for each
     * environment the charts render (environments.<env> and localCluster), checked.
     */
    issuer: z.record(kebabName, z.enum(['vault-pki', 'self-signed'])),
    /** Vault PKI mount and role cert-manager signs with (issuer vault-pki). */
    vaultPkiPath: z.string().regex(/^[a-z0-9_-]+\/sign\/[a-z0-9_-]+$/, 'must be <pki mount>/sign/<role> such as pki/sign/services'),
    /** Certificate lifetime and renewal point (ISO-8601 hours). */
    duration: duration,
    renewBefore: duration,
  }),
});
