// The services' Prometheus rules, unit-tested with promtool (Debian's prometheus package) on
// synthetic series: each alert fires when its condition has held for its `for` and one
// evaluation interval more, not before, and stays quiet just under its threshold. The
// Alertmanager configuration is checked with amtool. Both tools come from scripts/setup/servers.sh.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { loadPlatformSpec } from '../../lib/spec';
import { serviceByName } from '../../lib/spec/topology';
import { alertmanagerConfig, prometheusAddonValues } from '../../lib/observability/prometheus-addon';
import { prometheusRules } from '../../lib/observability/prometheus-rules';
import type { AlertingRule } from '../../lib/observability/prometheus-rules';

const run = promisify(execFile);
const spec = loadPlatformSpec();
const rules = prometheusRules(spec);
const o = spec.observability;
const alerts = new Map<string, AlertingRule>(rules.alerting.groups.flatMap((g) => g.rules.map((r) => [r.alert, r] as const)));
/** The chart's evaluation_interval (prometheus chart default, 1 m): the resolution of every `for`. */
const EVALUATION_INTERVAL_MINUTES = 1;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'platform-rules-'));
  await writeFile(join(dir, 'recording_rules.yml'), stringify(rules.recording));
  await writeFile(join(dir, 'alerting_rules.yml'), stringify(rules.alerting));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Expected { readonly labels: Record<string, string> }
interface Case {
  readonly name: string;
  readonly series: ReadonlyArray<{ readonly series: string; readonly values: string }>;
  /** minute -> alerts of `alert` expected firing then (empty: none). */
  readonly checks: ReadonlyArray<{ readonly minute: number; readonly firing: readonly Expected[] }>;
  readonly alert: string;
}

/** What promtool must see for a firing alert: its rule's labels and its annotations rendered for these labels. */
function expected(alert: string, labels: Record<string, string>) {
  const rule = alerts.get(alert)!;
  const render = (t: string) => t.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, l: string) => labels[l] ?? '');
  return {
    exp_labels: { ...labels, severity: rule.labels.severity },
    exp_annotations: { summary: render(rule.annotations.summary), runbook: rule.annotations.runbook },
  };
}

async function promtoolTest(cases: readonly Case[]): Promise<void> {
  const file = join(dir, `test-${cases[0]!.alert}.yml`);
  await writeFile(file, stringify({
    rule_files: ['recording_rules.yml', 'alerting_rules.yml'],
    evaluation_interval: `${EVALUATION_INTERVAL_MINUTES}m`,
    // promtool evaluates groups in random order unless told: an alert on a recorded series
    // would then, in some runs, see the previous evaluation's value and fire one interval
    // late. Recording groups first, as the alerts' timing below assumes.
    group_eval_order: [...rules.recording.groups, ...rules.alerting.groups].map((g) => g.name),
    tests: cases.map((c) => ({
      name: c.name,
      interval: '1m',
      input_series: c.series,
      alert_rule_test: c.checks.map((check) => ({
        eval_time: `${check.minute}m`,
        alertname: c.alert,
        exp_alerts: check.firing.map((f) => expected(c.alert, f.labels)),
      })),
    })),
  }));
  try {
    await run('promtool', ['test', 'rules', file], { cwd: dir });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`promtool test rules failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
  }
}

/** `for` of an alert in minutes. */
const forMinutes = (alert: string) => Number(/^(\d+)m$/.exec(alerts.get(alert)!.for)![1]);

it('promtool accepts the rule files', async () => {
  const { stdout } = await run('promtool', ['check', 'rules', join(dir, 'recording_rules.yml'), join(dir, 'alerting_rules.yml')]);
  expect(stdout).toMatch(/SUCCESS: 8 rules found/);
});

it('the chart gets exactly these rules, and Alertmanager a configuration amtool accepts', async () => {
  const arn = (s: string) => `arn:aws:sns:us-east-1:111111111111:platform-production-alarms-${s}`;
  const values = prometheusAddonValues(spec, spec.environments.production, arn);
  expect(values.serverFiles['alerting_rules.yml']).toEqual(rules.alerting);
  expect(values.serverFiles['recording_rules.yml']).toEqual(rules.recording);
  const file = join(dir, 'alertmanager.yml');
  await writeFile(file, stringify(alertmanagerConfig(spec.environments.production, arn)));
  const { stdout } = await run('amtool', ['check-config', file]);
  expect(stdout).toMatch(/SUCCESS/);
  expect(stdout).toMatch(/2 receivers/);
  // Routing: critical alerts to the critical topic, everything else to the warning one.
  const routes = await run('amtool', ['config', 'routes', 'test', '--config.file', file, 'severity=critical']);
  expect(routes.stdout.trim()).toBe('critical');
  const other = await run('amtool', ['config', 'routes', 'test', '--config.file', file, 'severity=warning']);
  expect(other.stdout.trim()).toBe('warning');
});

describe('an HTTP route against the api-gateway SLO', () => {
  const { slo } = serviceByName(spec, 'api-gateway');
  const route = (r: string, status: string) => `http_request_duration_seconds_count{namespace="api-gateway",pod="gw-1",method="GET",route="${r}",status_code="${status}"}`;
  const bad = { namespace: 'api-gateway', method: 'GET', route: '/v1/orders/:id' };
  const errorsPerMinute = Math.ceil(slo.errorRateMaxPercent) + 1; // per 100 requests: above the SLO
  it(`ApiGatewayErrorRate fires after ${o.sustainedMinutes} min above ${slo.errorRateMaxPercent}% and one interval, not before; a route under the SLO never`, async () => {
    const f = forMinutes('ApiGatewayErrorRate');
    await promtoolTest([{
      name: 'error rate',
      alert: 'ApiGatewayErrorRate',
      series: [
        { series: route('/v1/orders/:id', '200'), values: `0+${100 - errorsPerMinute}x30` },
        { series: route('/v1/orders/:id', '500'), values: `0+${errorsPerMinute}x30` },
        // Exactly at the SLO on another route: not above it.
        { series: route('/v1/users/:id', '200'), values: `0+${100 - slo.errorRateMaxPercent}x30` },
        { series: route('/v1/users/:id', '503'), values: `0+${slo.errorRateMaxPercent}x30` },
        // Client errors are not the service's.
        { series: route('/v1/payments', '429'), values: '0+50x30' },
        { series: route('/v1/payments', '200'), values: '0+50x30' },
      ],
      // The rate exists from the second sample (1 m); the alert is pending from then for `for`.
      checks: [
        { minute: EVALUATION_INTERVAL_MINUTES + f - 1, firing: [] },
        { minute: EVALUATION_INTERVAL_MINUTES + f, firing: [{ labels: bad }] },
        { minute: 20, firing: [{ labels: bad }] },
      ],
    }]);
  });
  it('ApiGatewayLatencyP99 fires on a route whose p99 is above the SLO', async () => {
    const f = forMinutes('ApiGatewayLatencyP99');
    const bucket = (le: string, values: string) => ({ series: `http_request_duration_seconds_bucket{namespace="api-gateway",pod="gw-1",method="POST",route="/v1/payments",status_code="201",le="${le}"}`, values });
    const slowLe = [1, 2.5, 5, 10].find((le) => le > slo.latencyP99MaxMs / 1000)!;
    await promtoolTest([{
      name: 'latency',
      alert: 'ApiGatewayLatencyP99',
      series: [
        bucket(String(slo.latencyP99MaxMs / 1000), '0x30'),
        bucket(String(slowLe), '0+10x30'),
        bucket('+Inf', '0+10x30'),
      ],
      checks: [
        { minute: EVALUATION_INTERVAL_MINUTES + f - 1, firing: [] },
        { minute: EVALUATION_INTERVAL_MINUTES + f, firing: [{ labels: { namespace: 'api-gateway', method: 'POST', route: '/v1/payments' } }] },
      ],
    }]);
  });
});

it('an RPC against its service SLO: server faults count, caller errors and health checks do not', async () => {
  const { slo } = serviceByName(spec, 'user-service');
  const f = forMinutes('UserServiceErrorRate');
  const call = (method: string, code: string, service = 'user.v1.UserService') =>
    `grpc_server_handling_seconds_count{namespace="user-service",pod="u-1",grpc_service="${service}",grpc_method="${method}",grpc_code="${code}"}`;
  const faultsPer1000 = Math.floor(slo.errorRateMaxPercent * 10) + 1;
  await promtoolTest([{
    name: 'rpc error rate',
    alert: 'UserServiceErrorRate',
    series: [
      { series: call('GetUser', 'OK'), values: `0+${1000 - faultsPer1000}x30` },
      { series: call('GetUser', 'Internal'), values: `0+${faultsPer1000}x30` },
      { series: call('CreateUser', 'OK'), values: '0+500x30' },
      { series: call('CreateUser', 'AlreadyExists'), values: '0+500x30' },
      { series: call('Check', 'Unavailable', 'grpc.health.v1.Health'), values: '0+100x30' },
    ],
    checks: [
      { minute: EVALUATION_INTERVAL_MINUTES + f - 1, firing: [] },
      { minute: EVALUATION_INTERVAL_MINUTES + f, firing: [{ labels: { namespace: 'user-service', grpc_service: 'user.v1.UserService', grpc_method: 'GetUser' } }] },
    ],
  }]);
});

describe('the write path and the runtime', () => {
  const c = o.inCluster;
  it(`OutboxBacklog: more than ${c.outboxBacklogMaxRows} rows for ${o.sustainedMinutes} min`, async () => {
    const f = forMinutes('OutboxBacklog');
    await promtoolTest([{
      name: 'backlog', alert: 'OutboxBacklog',
      series: [
        { series: 'outbox_pending{namespace="order-service",pod="o-1",topic="order-events"}', values: `${c.outboxBacklogMaxRows + 1}x30` },
        { series: 'outbox_pending{namespace="payment-service",pod="p-1",topic="payment-events"}', values: `${c.outboxBacklogMaxRows}x30` },
      ],
      checks: [
        { minute: f - 1, firing: [] },
        { minute: f, firing: [{ labels: { namespace: 'order-service', topic: 'order-events' } }] },
      ],
    }]);
  });
  it('OutboxRelayLag: the p99 of outbox-to-Kafka lag above its threshold', async () => {
    const f = forMinutes('OutboxRelayLag');
    const bucket = (le: string, values: string) => ({ series: `outbox_publish_lag_seconds_bucket{namespace="order-service",pod="o-1",topic="order-events",le="${le}"}`, values });
    await promtoolTest([{
      name: 'lag', alert: 'OutboxRelayLag',
      // The relay's buckets (services/shared/src/outbox.ts) around the threshold: every lag in (30 s, 60 s].
      series: [bucket(String(c.outboxLagP99MaxSeconds), '0x30'), bucket('60', '0+10x30'), bucket('+Inf', '0+10x30')],
      checks: [
        { minute: EVALUATION_INTERVAL_MINUTES + f - 1, firing: [] },
        { minute: EVALUATION_INTERVAL_MINUTES + f, firing: [{ labels: { namespace: 'order-service', topic: 'order-events' } }] },
      ],
    }]);
  });
  it('OutboxRelayFailing: relay errors while rows wait; errors with an empty outbox are not an incident', async () => {
    const f = forMinutes('OutboxRelayFailing');
    await promtoolTest([{
      name: 'relay failing', alert: 'OutboxRelayFailing',
      series: [
        { series: 'outbox_publish_errors_total{namespace="order-service",pod="o-1"}', values: '0+3x30' },
        { series: 'outbox_pending{namespace="order-service",pod="o-1",topic="order-events"}', values: '5x30' },
        { series: 'outbox_publish_errors_total{namespace="payment-service",pod="p-1"}', values: '0+3x30' },
        { series: 'outbox_pending{namespace="payment-service",pod="p-1",topic="payment-events"}', values: '0x30' },
      ],
      checks: [
        { minute: EVALUATION_INTERVAL_MINUTES + f - 1, firing: [] },
        { minute: EVALUATION_INTERVAL_MINUTES + f, firing: [{ labels: { namespace: 'order-service' } }] },
      ],
    }]);
  });
  it(`RateLimitFallbackToLocal: a pod counting limits locally for ${c.rateLimitFallbackMaxMinutes} min`, async () => {
    const f = forMinutes('RateLimitFallbackToLocal');
    expect(f).toBe(c.rateLimitFallbackMaxMinutes);
    await promtoolTest([{
      name: 'fallback', alert: 'RateLimitFallbackToLocal',
      series: [
        { series: 'rate_limit_fallback_active{namespace="api-gateway",pod="gw-1"}', values: '1x30' },
        // Back on Redis before the threshold: never fires.
        { series: 'rate_limit_fallback_active{namespace="api-gateway",pod="gw-2"}', values: `1x${f - 2} 0x${30 - f + 1}` },
      ],
      checks: [
        { minute: f - 1, firing: [] },
        { minute: f, firing: [{ labels: { namespace: 'api-gateway', pod: 'gw-1' } }] },
      ],
    }]);
  });
  it(`ConsumerDuplicateRate: more than ${c.consumerDuplicateMaxPercent}% redeliveries`, async () => {
    const f = forMinutes('ConsumerDuplicateRate');
    const consumed = (outcome: string) => `kafka_consumer_messages_total{namespace="order-service",pod="o-1",topic="payment-events",outcome="${outcome}"}`;
    await promtoolTest([{
      name: 'duplicates', alert: 'ConsumerDuplicateRate',
      series: [
        { series: consumed('processed'), values: `0+${100 - c.consumerDuplicateMaxPercent - 1}x30` },
        { series: consumed('duplicate'), values: `0+${c.consumerDuplicateMaxPercent + 1}x30` },
      ],
      checks: [
        { minute: EVALUATION_INTERVAL_MINUTES + f - 1, firing: [] },
        { minute: EVALUATION_INTERVAL_MINUTES + f, firing: [{ labels: { namespace: 'order-service', topic: 'payment-events' } }] },
      ],
    }]);
  });
  it(`CertificateExpiringSoon: fires once less than ${c.certificateExpiryMinHours} h are left, not before`, async () => {
    // promtool's clock starts at 0: a certificate expiring at threshold + 10 min.
    const expiry = c.certificateExpiryMinHours * 3600 + 600;
    await promtoolTest([{
      name: 'expiry', alert: 'CertificateExpiringSoon',
      series: [
        { series: 'tls_certificate_expiry_timestamp_seconds{namespace="auth-service",pod="a-1"}', values: `${expiry}x30` },
        { series: 'tls_certificate_expiry_timestamp_seconds{namespace="auth-service",pod="a-2"}', values: `${expiry + 86_400}x30` },
      ],
      checks: [
        { minute: 10, firing: [] },
        { minute: 11, firing: [{ labels: { namespace: 'auth-service', pod: 'a-1' } }] },
      ],
    }]);
  });
  it(`PgbouncerPoolSaturated: a database above ${c.pgbouncerPoolUtilizationMaxPercent}% of its server connections`, async () => {
    const f = forMinutes('PgbouncerPoolSaturated');
    const max = spec.workloads.pgbouncer.maxDbConnections;
    const used = Math.floor((max * c.pgbouncerPoolUtilizationMaxPercent) / 100);
    const db = (metric: string, name: string, value: number) => ({ series: `pgbouncer_databases_${metric}{namespace="pgbouncer",pod="pgbouncer-1",name="${name}",host="db",port="5432",database="${name}",force_user="",pool_mode="transaction"}`, values: `${value}x30` });
    await promtoolTest([{
      name: 'pool', alert: 'PgbouncerPoolSaturated',
      series: [
        db('current_connections', 'orders', used + 1), db('max_connections', 'orders', max),
        db('current_connections', 'users', used), db('max_connections', 'users', max),
      ],
      checks: [
        { minute: f - 1, firing: [] },
        { minute: f, firing: [{ labels: { pod: 'pgbouncer-1', name: 'orders' } }] },
      ],
    }]);
  });
  it('PgbouncerClientsWaiting: clients queueing for a server connection', async () => {
    const f = forMinutes('PgbouncerClientsWaiting');
    await promtoolTest([{
      name: 'waiting', alert: 'PgbouncerClientsWaiting',
      series: [
        { series: 'pgbouncer_pools_client_waiting_connections{namespace="pgbouncer",pod="pgbouncer-1",database="payments",user="payment_service"}', values: '3x30' },
        { series: 'pgbouncer_pools_client_waiting_connections{namespace="pgbouncer",pod="pgbouncer-1",database="users",user="user_service"}', values: '0x30' },
      ],
      checks: [
        { minute: f - 1, firing: [] },
        { minute: f, firing: [{ labels: { pod: 'pgbouncer-1', database: 'payments' } }] },
      ],
    }]);
  });
});

it('tests every alert the rules define', () => {
  const tested = ['ApiGatewayErrorRate', 'ApiGatewayLatencyP99', 'UserServiceErrorRate', 'OutboxBacklog', 'OutboxRelayLag', 'OutboxRelayFailing',
    'RateLimitFallbackToLocal', 'ConsumerDuplicateRate', 'CertificateExpiringSoon', 'PgbouncerPoolSaturated', 'PgbouncerClientsWaiting'];
  // The SLO alerts of the other services are the same rule with another namespace and threshold.
  const sloTwins = [...alerts.keys()].filter((a) => /(ErrorRate|LatencyP99)$/.test(a) && !tested.includes(a));
  expect([...alerts.keys()].filter((a) => !tested.includes(a) && !sloTwins.includes(a))).toEqual([]);
  for (const twin of sloTwins) expect(alerts.get(twin)!.expr).toMatch(/^(route|rpc):(http|grpc)_(error_ratio|latency_seconds)/);
});
