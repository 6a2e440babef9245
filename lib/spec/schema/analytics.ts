/**
 * The spec's Data Flow "Analytics: Kafka -> Flink -> Data Warehouse": what the Flink job reads
 * and how it treats time, the warehouse's names, and each environment's capacity.
 */
import { z } from 'zod';
import { logRetentionDays, port, positiveInt } from './common';

/** environments.<name>.analytics: Flink capacity and the warehouse's. */
export const environmentAnalytics = z.strictObject({
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
});

const sqlIdentifier = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier');

/** analytics: everything here is our choice. */
export const analytics = z.strictObject({
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
