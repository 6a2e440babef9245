// Every metric and label the Prometheus rules read is one the running services really export:
// the five services start on the harness's real PostgreSQL, Redis and Kafka (the integration
// stack), traffic goes through the whole path (an order, its payment, the payment.captured event
// consumed, and that event delivered a second time), then each /metrics is scraped and parsed.
import { loadPlatformSpec } from '../../lib/spec';
import { metricsReadBy, prometheusRules, TARGET_LABELS } from '../../lib/observability/prometheus-rules';
import { PAYMENT_EVENTS_TOPIC as PAYMENT_EVENTS_TOPIC_NAME } from '../../services/events';
import { createKafkaProducer } from '../../services/shared/src';
import { kafkaConfig, readTopic } from '../services/order-service/kafka-read';
import { apiClient, newAccount } from '../services/integration/client';
import { startStack } from '../services/integration/stack';
import type { Stack } from '../services/integration/stack';

/**
 * The PgBouncer exporter's series (prometheus-community pgbouncer_exporter, the image of
 * workloads.pgbouncer.exporterImage) and their labels, from its collector's metric maps (SHOW
 * DATABASES: name, host, port, database, force_user, pool_mode; SHOW POOLS: database, user). It
 * cannot run here: the Go module proxy refuses the module and Debian packages another exporter,
 * so these rules are checked against this list and the list against the collector by review.
 */
const PGBOUNCER_EXPORTER_SERIES: Readonly<Record<string, readonly string[]>> = {
  pgbouncer_databases_current_connections: ['name', 'host', 'port', 'database', 'force_user', 'pool_mode'],
  pgbouncer_databases_max_connections: ['name', 'host', 'port', 'database', 'force_user', 'pool_mode'],
  pgbouncer_pools_client_waiting_connections: ['database', 'user'],
};

interface Sample { readonly name: string; readonly labels: Readonly<Record<string, string>>; readonly value: number }

/** The Prometheus text exposition format, as far as prom-client writes it. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

const spec = loadPlatformSpec();
const rules = prometheusRules(spec);
let stack: Stack;
const scraped = new Map<string, Sample[]>();

/** order-service's kafka_consumer_messages_total for the payment events, by outcome, as last scraped. */
function consumedCounts() {
  const consumed = (scraped.get('order-service') ?? []).filter((s) => s.name === 'kafka_consumer_messages_total' && s.labels.topic === PAYMENT_EVENTS_TOPIC_NAME);
  const by = (outcome: string) => consumed.find((s) => s.labels.outcome === outcome)?.value ?? 0;
  const counts = { processed: by('processed'), duplicate: by('duplicate'), invalid: by('invalid') };
  return { ...counts, total: counts.processed + counts.duplicate + counts.invalid };
}
let beforeRedelivery: ReturnType<typeof consumedCounts>;

beforeAll(async () => {
  stack = await startStack({
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent', payments: true, kafka: true, outboxPollIntervalMs: 100,
    // This test reads metrics, not latency: a sign-up (password hashing) on a loaded two-core
    // machine must not hit the gateway's 5 s production deadline.
    gatewayEnv: { REQUEST_TIMEOUT_MS: '60000' },
  });
  const api = apiClient(stack.gatewayUrl);
  const alice = await newAccount(api, 'metrics');
  const order = await api('POST', '/v1/orders', {
    token: alice.access, body: { items: [{ productId: 'sku-1', quantity: 2, unitPrice: '5.00' }], currency: 'USD' },
  });
  expect(order.status).toBe(201);
  const paid = await api('POST', '/v1/payments', {
    token: alice.access, headers: { 'idempotency-key': `metrics-${order.body.id}` },
    body: { orderId: order.body.id, amount: '10.00', currency: 'USD', paymentMethod: 'pm_card_visa' },
  });
  expect(paid.status).toBe(201);
  // The captured event as payment-service's outbox published it, then delivered once more: the
  // consumer must recognise the redelivery (kafka_consumer_messages_total{outcome="duplicate"}).
  const events = await readTopic(stack.kafka!, PAYMENT_EVENTS_TOPIC_NAME, (ms) => ms.some((m) => (m.value as { orderId?: string }).orderId === order.body.id));
  const captured = events.find((m) => (m.value as { orderId?: string; type?: string }).orderId === order.body.id && (m.value as { type?: string }).type === 'payment.captured')!;
  expect(captured).toBeDefined();
  const handles = { 'api-gateway': stack.gateway, 'auth-service': stack.auth, 'user-service': stack.users, 'order-service': stack.orders!, 'payment-service': stack.payments! };
  const scrape = async () => {
    for (const [service, handle] of Object.entries(handles)) {
      const res = await fetch(`http://127.0.0.1:${handle.healthPort}/metrics`);
      expect(res.status).toBe(200);
      scraped.set(service, parseExposition(await res.text()));
    }
  };
  // order-service consumes asynchronously (and payment-service may already have handed the event
  // over by gRPC, which makes even the first delivery a duplicate): scrape until it has counted
  // `total` payment events, whatever their outcome.
  const waitForConsumed = async (total: number) => {
    for (let i = 0; i < 240; i++) {
      await scrape();
      if (consumedCounts().total >= total) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`order-service counted ${consumedCounts().total} payment events, not ${total}`);
  };
  await waitForConsumed(events.length);
  beforeRedelivery = consumedCounts();
  const producer = createKafkaProducer(kafkaConfig(stack.kafka!), { clientId: 'metrics-test-redelivery' });
  try {
    await producer.send({ messages: [{ topic: PAYMENT_EVENTS_TOPIC_NAME, key: captured.key, value: JSON.stringify(captured.value), headers: captured.headers }] });
  } finally {
    await producer.close();
  }
  await waitForConsumed(events.length + 1);
}, 300_000);

afterAll(async () => {
  await stack?.dispose();
});

it('every metric a rule reads is exported by a service (or the PgBouncer exporter), with every label the rule uses', () => {
  const read = metricsReadBy(rules);
  expect(read.size).toBeGreaterThan(10);
  const problems: string[] = [];
  for (const [metric, labels] of read) {
    const wanted = [...labels].filter((l) => !(TARGET_LABELS as readonly string[]).includes(l));
    const pgbouncer = PGBOUNCER_EXPORTER_SERIES[metric];
    if (metric.startsWith('pgbouncer_')) {
      if (!pgbouncer) problems.push(`${metric}: not a series of the PgBouncer exporter`);
      else for (const l of wanted) if (!pgbouncer.includes(l)) problems.push(`${metric}: the exporter gives it no label ${l}`);
      continue;
    }
    const exporters = [...scraped].filter(([, samples]) => samples.some((s) => s.name === metric));
    if (exporters.length === 0) {
      problems.push(`${metric}: no service exports it`);
      continue;
    }
    for (const l of wanted) {
      if (!exporters.some(([, samples]) => samples.some((s) => s.name === metric && l in s.labels))) problems.push(`${metric}: no service exports it with label ${l}`);
    }
  }
  expect(problems).toEqual([]);
});

it('each service exports the request metrics its SLO alerts read, with traffic in them', () => {
  for (const service of spec.services) {
    const family = service.name === 'api-gateway' ? 'http_request_duration_seconds_count' : 'grpc_server_handling_seconds_count';
    const samples = scraped.get(service.name)!.filter((s) => s.name === family && s.labels.grpc_service !== 'grpc.health.v1.Health');
    expect({ service: service.name, requests: samples.reduce((n, s) => n + s.value, 0) > 0 }).toEqual({ service: service.name, requests: true });
  }
});

it('counts a redelivered payment event as a duplicate, and nothing else for it', () => {
  const after = consumedCounts();
  expect(after.total - beforeRedelivery.total).toBe(1);
  expect(after.duplicate - beforeRedelivery.duplicate).toBe(1);
  expect(after.invalid).toBe(0);
});

it('reports each serving certificate\'s expiry, in the future and within its lifetime', () => {
  const now = Date.now() / 1000;
  for (const [service, samples] of scraped) {
    const expiry = samples.find((s) => s.name === 'tls_certificate_expiry_timestamp_seconds');
    expect({ service, exported: expiry !== undefined }).toEqual({ service, exported: true });
    expect(expiry!.value).toBeGreaterThan(now);
  }
});

it('exports the outbox backlog per topic and the rate limiter\'s fallback state', () => {
  for (const service of ['order-service', 'payment-service']) {
    expect(scraped.get(service)!.some((s) => s.name === 'outbox_pending' || s.name === 'outbox_published_total')).toBe(true);
  }
  const fallback = scraped.get('api-gateway')!.find((s) => s.name === 'rate_limit_fallback_active');
  // Redis is up: limits are counted in Redis, not per pod.
  expect(fallback?.value).toBe(0);
});
