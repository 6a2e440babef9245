/** The data tier (docs/data-tier.md): PostgreSQL + PgBouncer, Redis/Valkey, Kafka, AWS Backup. */
import { z } from 'zod';
import { INSTANCE_SIZES, kebabName, logRetentionDays, port, positiveInt } from './common';

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

/** environments.<name>.database */
export const environmentDatabase = z.strictObject({
  readReplicas: z.number().int().min(0).max(5),
  instanceClass: dbInstanceClass,
  allocatedStorageGiB: z.number().int().min(20, 'must be >= 20 (gp3 minimum)').max(65536),
  /** Storage autoscaling ceiling. */
  maxAllocatedStorageGiB: z.number().int().min(20).max(65536),
  /** RDS automated backups (point-in-time restore window). */
  backupRetentionDays: z.number().int().min(1, 'must be >= 1: 0 turns automated backups off').max(35, 'must be <= 35 (RDS limit)'),
  /**
   * PostgreSQL's max_connections, pinned in the parameter group: PgBouncer's server connections
   * plus dataTier.postgres.reservedConnections must fit (checks/workloads.ts).
   */
  maxConnections: z.number().int().min(10, 'must be >= 10').max(5000, 'must be <= 5000 (the most RDS gives any class by default)'),
  logRetentionDays,
});

/** environments.<name>.cache */
export const environmentCache = z.strictObject({
  nodeType: cacheNodeType,
  snapshotRetentionDays: z.number().int().min(1, 'must be >= 1: 0 turns snapshots off').max(35),
  logRetentionDays,
});

/** environments.<name>.messaging */
export const environmentMessaging = z.strictObject({
  brokerInstanceType: kafkaBrokerType,
  brokerStorageGiB: z.number().int().min(1).max(16384),
  logRetentionDays,
});

/** A Kafka topic the services publish to; created from this spec (docs/data-tier.md). */
export const kafkaTopic = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9.-]{0,248}$/, 'must be a lowercase Kafka topic name (a-z, 0-9, ".", "-")'),
  partitions: positiveInt,
  retentionHours: positiveInt,
  /** The one service whose outbox publishes to the topic (the services find their topic by it). */
  producer: kebabName,
  purpose: z.string().min(1),
});
export type KafkaTopicSpec = z.infer<typeof kafkaTopic>;

/** dataTier: what every environment's data tier shares. */
export const dataTier = z.strictObject({
  postgres: z.strictObject({
    port,
    engineMajorVersion: z.string().regex(/^\d+$/),
    /** The pinned minor; must belong to engineMajorVersion. */
    engineVersion,
    masterUsername: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be a PostgreSQL identifier'),
    logExports: z.array(z.enum(['postgresql', 'upgrade', 'iam-db-auth-error'])).min(1),
    monitoringIntervalSeconds: z.union([1, 5, 10, 15, 30, 60].map((n) => z.literal(n)) as [z.ZodLiteral<number>, z.ZodLiteral<number>]),
    /**
     * The services' statement timeout, a default of their database roles (the database
     * bootstrap): behind PgBouncer a client cannot send it as a startup parameter.
     */
    serviceStatementTimeoutSeconds: z.number().int().min(1).max(600),
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
});
