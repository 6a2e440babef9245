/**
 * The in-cluster Prometheus rules of the services (docs/observability.md): recording rules for
 * the golden signals per HTTP route (api-gateway) and per RPC (the gRPC services), and alerts
 * against lib/spec `services[].slo` and `observability.inCluster`. Rendered into the
 * prometheus chart's serverFiles by the cluster's Helm add-ons; unit-tested with promtool
 * (test/observability/prometheus-rules.test.ts), and every metric and label they read is checked
 * against what the running services export (test/observability/service-metrics.test.ts).
 *
 * Labels: the chart's `kubernetes-pods` job adds `namespace` and `pod`; each service runs in
 * the namespace of its name, so `namespace` names the service.
 */
import type { PlatformSpec, Severity } from '../spec';
import { PGBOUNCER_NAMESPACE } from '../spec/topology';
import { runbookLink } from './runbooks';

export interface RecordingRule { readonly record: string; readonly expr: string }
export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: { readonly severity: Severity } & Readonly<Record<string, string>>;
  readonly annotations: { readonly summary: string; readonly runbook: string };
}
export interface RuleGroup<R> { readonly name: string; readonly rules: readonly R[] }
export interface PrometheusRules {
  readonly recording: { readonly groups: ReadonlyArray<RuleGroup<RecordingRule>> };
  readonly alerting: { readonly groups: ReadonlyArray<RuleGroup<AlertingRule>> };
}

/** The window every rate in the rules uses (a few scrapes of the chart's 1 m interval). */
export const RATE_WINDOW = '5m';
/** gRPC status codes that are the server's fault (the others are the caller's). */
export const GRPC_SERVER_ERROR_CODES = ['Unknown', 'Internal', 'Unavailable', 'DataLoss', 'DeadlineExceeded', 'Unimplemented'] as const;
/** The standard health service every gRPC server registers: probes, not traffic. */
const HEALTH_SERVICE = 'grpc.health.v1.Health';

export function prometheusRules(spec: PlatformSpec): PrometheusRules {
  const o = spec.observability;
  const w = RATE_WINDOW;
  const sustained = `${o.sustainedMinutes}m`;
  const rpcFilter = `grpc_service!="${HEALTH_SERVICE}"`;
  const route = 'namespace, method, route';
  const rpc = 'namespace, grpc_service, grpc_method';
  const recording: RecordingRule[] = [
    { record: 'route:http_requests:rate5m', expr: `sum by (${route}) (rate(http_request_duration_seconds_count[${w}]))` },
    { record: 'route:http_errors:rate5m', expr: `sum by (${route}) (rate(http_request_duration_seconds_count{status_code=~"5.."}[${w}]))` },
    { record: 'route:http_error_ratio:rate5m', expr: 'route:http_errors:rate5m / route:http_requests:rate5m' },
    { record: 'route:http_latency_seconds:p99_5m', expr: `histogram_quantile(0.99, sum by (${route}, le) (rate(http_request_duration_seconds_bucket[${w}])))` },
    { record: 'rpc:grpc_requests:rate5m', expr: `sum by (${rpc}) (rate(grpc_server_handling_seconds_count{${rpcFilter}}[${w}]))` },
    { record: 'rpc:grpc_errors:rate5m', expr: `sum by (${rpc}) (rate(grpc_server_handling_seconds_count{${rpcFilter},grpc_code=~"${GRPC_SERVER_ERROR_CODES.join('|')}"}[${w}]))` },
    { record: 'rpc:grpc_error_ratio:rate5m', expr: 'rpc:grpc_errors:rate5m / rpc:grpc_requests:rate5m' },
    { record: 'rpc:grpc_latency_seconds:p99_5m', expr: `histogram_quantile(0.99, sum by (${rpc}, le) (rate(grpc_server_handling_seconds_bucket{${rpcFilter}}[${w}])))` },
  ];

  const alert = (area: 'services', name: string, expr: string, forDuration: string, severity: Severity, summary: string): AlertingRule => ({
    alert: name, expr, for: forDuration, labels: { severity }, annotations: { summary, runbook: runbookLink(area, kebab(name)) },
  });
  const sloAlerts: AlertingRule[] = spec.services.flatMap((service) => {
    const { slo } = service;
    const ns = `namespace="${service.name}"`;
    // The edge service answers HTTP (services[].exposes), the rest gRPC.
    const [kind, what] = service.exposes === 'edge' ? ['route', 'route {{ $labels.method }} {{ $labels.route }}'] : ['rpc', 'RPC {{ $labels.grpc_service }}/{{ $labels.grpc_method }}'];
    const metric = kind === 'route' ? 'http' : 'grpc';
    const id = pascal(service.name);
    return [
      alert('services', `${id}ErrorRate`, `${kind}:${metric}_error_ratio:rate5m{${ns}} > ${slo.errorRateMaxPercent / 100}`, sustained, 'critical',
        `${service.name}: ${what} fails more than ${slo.errorRateMaxPercent}% of requests (SLO)`),
      alert('services', `${id}LatencyP99`, `${kind}:${metric}_latency_seconds:p99_5m{${ns}} > ${slo.latencyP99MaxMs / 1000}`, sustained, 'warning',
        `${service.name}: ${what} p99 latency above ${slo.latencyP99MaxMs} ms (SLO)`),
    ];
  });

  const c = o.inCluster;
  const pipelineAlerts: AlertingRule[] = [
    alert('services', 'OutboxBacklog', `max by (namespace, topic) (outbox_pending) > ${c.outboxBacklogMaxRows}`, sustained, 'critical',
      `{{ $labels.namespace }}: more than ${c.outboxBacklogMaxRows} outbox rows for {{ $labels.topic }} not yet in Kafka`),
    alert('services', 'OutboxRelayLag',
      `histogram_quantile(0.99, sum by (namespace, topic, le) (rate(outbox_publish_lag_seconds_bucket[${w}]))) > ${c.outboxLagP99MaxSeconds}`, sustained, 'warning',
      `{{ $labels.namespace }}: p99 outbox-to-Kafka lag of {{ $labels.topic }} above ${c.outboxLagP99MaxSeconds} s`),
    alert('services', 'OutboxRelayFailing', `sum by (namespace) (increase(outbox_publish_errors_total[${w}])) > 0 and sum by (namespace) (outbox_pending) > 0`, sustained, 'warning',
      '{{ $labels.namespace }}: the outbox relay keeps failing (Kafka or PostgreSQL unreachable) while rows wait'),
    alert('services', 'RateLimitFallbackToLocal', 'max by (namespace, pod) (rate_limit_fallback_active) > 0', `${c.rateLimitFallbackMaxMinutes}m`, 'warning',
      '{{ $labels.pod }}: rate limits counted in process memory (Redis unavailable): limits are per pod, not global'),
    alert('services', 'ConsumerDuplicateRate',
      `sum by (namespace, topic) (rate(kafka_consumer_messages_total{outcome="duplicate"}[${w}])) / sum by (namespace, topic) (rate(kafka_consumer_messages_total[${w}])) > ${c.consumerDuplicateMaxPercent / 100}`,
      sustained, 'warning', `{{ $labels.namespace }}: more than ${c.consumerDuplicateMaxPercent}% of {{ $labels.topic }} events are redeliveries`),
    alert('services', 'CertificateExpiringSoon', `min by (namespace, pod) (tls_certificate_expiry_timestamp_seconds) - time() < ${c.certificateExpiryMinHours * 3600}`, '0m', 'critical',
      `{{ $labels.pod }}: its serving certificate expires in less than ${c.certificateExpiryMinHours} h (cert-manager renews ${spec.workloads.certificates.renewBefore} ahead)`),
    alert('services', 'PgbouncerPoolSaturated',
      `max by (pod, name) (pgbouncer_databases_current_connections{namespace="${PGBOUNCER_NAMESPACE}"} / (pgbouncer_databases_max_connections{namespace="${PGBOUNCER_NAMESPACE}"} > 0)) > ${c.pgbouncerPoolUtilizationMaxPercent / 100}`,
      sustained, 'warning', `{{ $labels.pod }}: database {{ $labels.name }} uses more than ${c.pgbouncerPoolUtilizationMaxPercent}% of its server connections`),
    alert('services', 'PgbouncerClientsWaiting', `max by (pod, database) (pgbouncer_pools_client_waiting_connections{namespace="${PGBOUNCER_NAMESPACE}"}) > 0`, sustained, 'warning',
      '{{ $labels.pod }}: clients of {{ $labels.database }} wait for a server connection (pool exhausted)'),
  ];

  return {
    recording: { groups: [{ name: 'platform-golden-signals', rules: recording }] },
    alerting: { groups: [{ name: 'platform-slos', rules: sloAlerts }, { name: 'platform-pipelines', rules: pipelineAlerts }] },
  };
}

/**
 * Labels Prometheus itself attaches to every series of the chart's `kubernetes-pods` job (target
 * labels from service discovery), so no service exports them.
 */
export const TARGET_LABELS = ['namespace', 'pod'] as const;

/**
 * The raw metric names a set of rules reads (recorded series excluded), each with the labels a
 * rule selects on or aggregates by while reading it.
 */
export function metricsReadBy(rules: PrometheusRules): Map<string, Set<string>> {
  const recorded = new Set(rules.recording.groups.flatMap((g) => g.rules.map((r) => r.record)));
  const exprs = [...rules.recording.groups.flatMap((g) => g.rules.map((r) => r.expr)), ...rules.alerting.groups.flatMap((g) => g.rules.map((r) => r.expr))];
  const keywords = new Set(['sum', 'max', 'min', 'rate', 'increase', 'histogram_quantile', 'by', 'and', 'time']);
  const read = new Map<string, Set<string>>();
  for (const expr of exprs) {
    const grouping = [...expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((l) => l.trim()));
    const withoutGrouping = expr.replace(/\bby \([^)]*\)/g, '');
    const inExpr: string[] = [];
    for (const m of withoutGrouping.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?/g)) {
      const name = m[1]!;
      if (keywords.has(name) || recorded.has(name) || !name.includes('_') || name.startsWith('$')) continue;
      const labels = read.get(name) ?? new Set<string>();
      for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!=|=)/g)) labels.add(l[1]!);
      read.set(name, labels);
      inExpr.push(name);
    }
    // A grouping label must exist on every series it aggregates (le only on histogram buckets).
    for (const name of inExpr) {
      for (const label of grouping) if (label !== 'le' || name.endsWith('_bucket')) read.get(name)!.add(label);
    }
  }
  return read;
}

function pascal(name: string): string {
  return name.split('-').map((p) => p[0]!.toUpperCase() + p.slice(1)).join('');
}

/** The runbook anchor of an alert: CertificateExpiringSoon -> certificate-expiring-soon. */
export function kebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}
