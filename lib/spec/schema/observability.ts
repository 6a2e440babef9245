/**
 * The spec's `observability` section (docs/observability.md): alarm thresholds next to what they
 * watch (the services' SLOs are in services[].slo), the in-cluster alert thresholds and who is notified. Plain zod, like
 * the rest of the spec; units are in the field names. Its cross-field rules: checks/observability.ts.
 */
import { z } from 'zod';
import { positiveInt } from './common';

const percent = z.number().gt(0, 'must be > 0 %').max(100, 'must be <= 100 %');
const positive = z.number().gt(0, 'must be > 0');

/** pager: an HTTPS endpoint that pages (production's critical alarms); chat: an HTTPS webhook; email. */
export const NOTIFICATION_KINDS = ['pager', 'chat', 'email'] as const;

const subscription = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('pager'), endpoint: z.string().regex(/^https:\/\/[a-z0-9.-]+\.[a-z]{2,}(\/[\w./-]*)?$/, 'must be an https URL such as https://events.pager.example.com/integration/x') }),
  z.strictObject({ kind: z.literal('chat'), endpoint: z.string().regex(/^https:\/\/[a-z0-9.-]+\.[a-z]{2,}(\/[\w./-]*)?$/, 'must be an https URL such as https://chat.example.com/hooks/x') }),
  z.strictObject({ kind: z.literal('email'), endpoint: z.string().regex(/^[^@\s]+@[a-z0-9.-]+\.[a-z]{2,}$/, 'must be an email address such as oncall@example.com') }),
]);

/** Where one environment's alarms go: one SNS topic per severity. */
const environmentNotifications = z.strictObject({
  /** true: critical alarms page (a `pager` subscription is required); false: the environment only notifies. */
  paging: z.boolean(),
  critical: z.array(subscription).min(1, 'must list at least one subscription: an alarm nobody receives is no alarm'),
  warning: z.array(subscription).min(1, 'must list at least one subscription: an alarm nobody receives is no alarm'),
});

export const observabilitySchema = z.strictObject({
  /** Period of every CloudWatch alarm metric except AWS Backup's (its own below). */
  alarmPeriodSeconds: z.union([z.literal(10), z.literal(30), z.literal(60), z.literal(300)]),
  /** How long a condition must hold before it alarms. */
  sustainedMinutes: positiveInt,
  database: z.strictObject({
    cpuUtilizationMaxPercent: percent,
    /** Free storage below this share of environments.<env>.database.allocatedStorageGiB. */
    freeStorageMinPercentOfAllocated: percent,
    /** Connections per instance above this share of PgBouncer's server-connection budget. */
    connectionsMaxPercentOfPgBouncerBudget: percent,
    /** Warning on replica lag; the critical alarm is disasterRecovery.database.rpo. */
    replicaLagWarningSeconds: positiveInt,
  }),
  backup: z.strictObject({
    /** Period of the AWS Backup metrics (each divides the whole-hour database RPO). */
    metricPeriodMinutes: z.union([z.literal(1), z.literal(5), z.literal(15), z.literal(60)]),
  }),
  cache: z.strictObject({
    memoryUsageMaxPercent: percent,
    evictionsMaxPerMinute: z.number().int().min(0),
    replicationLagMaxSeconds: positive,
  }),
  kafka: z.strictObject({
    diskUsedMaxPercent: percent,
    /** EstimatedMaxTimeLag of the analytics job's consumer group (analytics.flink.consumerGroup). */
    analyticsConsumerLagMaxSeconds: positiveInt,
  }),
  edge: z.strictObject({
    loadBalancer5xxMaxPercent: percent,
    targetResponseTimeP99MaxMs: positive,
    wafBlockedRequestsMaxPer5Minutes: positiveInt,
    cloudFront5xxMaxPercent: percent,
  }),
  vault: z.strictObject({
    /** DynamoDB global table ReplicationLatency to the DR region (the achieved secrets RPO). */
    replicationLatencyMaxMs: positiveInt,
  }),
  nat: z.strictObject({ packetsDroppedMaxPer5Minutes: positiveInt }),
  analytics: z.strictObject({ warehouseAtMaxCapacityMinutes: positiveInt }),
  inCluster: z.strictObject({
    outboxBacklogMaxRows: positiveInt,
    outboxLagP99MaxSeconds: positive,
    rateLimitFallbackMaxMinutes: positiveInt,
    consumerDuplicateMaxPercent: percent,
    /** Alert when a serving certificate has less than this left; must be below workloads.certificates.renewBefore. */
    certificateExpiryMinHours: positiveInt,
    pgbouncerPoolUtilizationMaxPercent: percent,
  }),
  /** Per environment name (environments.<name>). */
  notifications: z.record(z.string(), environmentNotifications),
});

export type ObservabilitySpec = z.infer<typeof observabilitySchema>;
export type NotificationSubscription = z.infer<typeof subscription>;
export type Severity = 'critical' | 'warning';
export const SEVERITIES: readonly Severity[] = ['critical', 'warning'];
