/**
 * The spec's `observability` section (docs/observability.md): alarm thresholds next to what they
 * watch, the services' SLOs, the in-cluster alert thresholds and who is notified. Plain zod, like
 * the rest of the spec; units are in the field names.
 */
import { z } from 'zod';

const percent = z.number().gt(0, 'must be > 0 %').max(100, 'must be <= 100 %');
const positive = z.number().gt(0, 'must be > 0');
const positiveInt = z.number().int().min(1, 'must be >= 1');

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

const slo = z.strictObject({
  /** Share of requests (per route or RPC) that may fail with a server error. */
  errorRateMaxPercent: percent,
  /** p99 latency per route or RPC. */
  latencyP99MaxMs: positive,
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
  /** SLO per service name (services[].name). */
  slos: z.record(z.string(), slo),
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

interface CrossFieldInput {
  readonly observability: ObservabilitySpec;
  readonly environmentNames: readonly string[];
  readonly serviceNames: readonly string[];
  /** Seconds, already validated by the rest of the spec. */
  readonly databaseRpoSeconds: number | undefined;
  readonly certificateRenewBeforeSeconds: number;
}

/** The rules that span the section and the rest of the spec; each names the offending field. */
export function checkObservability(input: CrossFieldInput, issue: (path: (string | number)[], value: unknown, message: string) => void) {
  const o = input.observability;
  const at = (...rest: (string | number)[]) => ['observability', ...rest];
  for (const name of input.environmentNames) {
    if (!o.notifications[name]) issue(at('notifications'), Object.keys(o.notifications), `has no entry for environment ${name}`);
  }
  for (const [name, n] of Object.entries(o.notifications)) {
    if (!input.environmentNames.includes(name)) {
      issue(at('notifications', name), name, 'is not an environment of the spec');
      continue;
    }
    const pagers = (['critical', 'warning'] as const).flatMap((sev) => n[sev].map((s, i) => ({ sev, i, s })).filter((x) => x.s.kind === 'pager'));
    if (n.paging && !n.critical.some((s) => s.kind === 'pager')) {
      issue(at('notifications', name, 'critical'), n.critical, 'must include a pager subscription: this environment pages (paging: true)');
    }
    if (!n.paging) {
      for (const p of pagers) issue(at('notifications', name, p.sev, p.i, 'kind'), 'pager', 'a pager in an environment that only notifies (paging: false)');
    } else {
      for (const p of pagers.filter((x) => x.sev === 'warning')) {
        issue(at('notifications', name, 'warning', p.i, 'kind'), 'pager', 'warnings notify, they never page');
      }
    }
    for (const sev of ['critical', 'warning'] as const) {
      const seen = new Set<string>();
      n[sev].forEach((s, i) => {
        if (seen.has(s.endpoint)) issue(at('notifications', name, sev, i, 'endpoint'), s.endpoint, 'duplicate subscription');
        seen.add(s.endpoint);
      });
    }
  }
  for (const name of input.serviceNames) {
    if (!o.slos[name]) issue(at('slos'), Object.keys(o.slos), `has no SLO for service ${name}`);
  }
  for (const name of Object.keys(o.slos)) {
    if (!input.serviceNames.includes(name)) issue(at('slos', name), name, 'is not a service of the spec');
  }
  const rpo = input.databaseRpoSeconds;
  if (rpo !== undefined) {
    if (o.database.replicaLagWarningSeconds >= rpo) {
      issue(at('database', 'replicaLagWarningSeconds'), o.database.replicaLagWarningSeconds, `must be < the database RPO (${rpo} s), which is the critical threshold`);
    }
  }
  if (o.sustainedMinutes * 60 < o.alarmPeriodSeconds) {
    issue(at('sustainedMinutes'), o.sustainedMinutes, `must cover at least one alarm period (${o.alarmPeriodSeconds} s)`);
  }
  if (o.sustainedMinutes * 60 > 86_400) {
    issue(at('sustainedMinutes'), o.sustainedMinutes, 'must be <= one day (CloudWatch evaluates at most a day)');
  }
  if (o.inCluster.certificateExpiryMinHours * 3600 >= input.certificateRenewBeforeSeconds) {
    issue(at('inCluster', 'certificateExpiryMinHours'), o.inCluster.certificateExpiryMinHours,
      `must be < workloads.certificates.renewBefore (${input.certificateRenewBeforeSeconds / 3600} h), or it fires before every renewal`);
  }
}
