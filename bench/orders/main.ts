/**
 * bench/orders: order creation through the gateway for a fixed time at fixed concurrency, on
 * loopback: HTTP -> api-gateway (JWT, rate limit, Authorize) -> gRPC over mTLS -> order-service
 * -> PostgreSQL (order, items and the outbox row in one transaction) -> outbox relay -> Kafka
 * (SASL/SCRAM over TLS). Load: autocannon, each request with the token of one of the pre-created
 * users in turn. Prints orders/s, p50/p99 latency, errors (must be 0) and the outbox-to-Kafka lag:
 * p99 measured by consuming the topic (consume time - event occurredAt) and p99 read from
 * order-service's outbox_publish_lag_seconds histogram (row creation to broker ack; bucket bound).
 *
 * The services run as child processes on what production runs, the esbuild bundles (bench/lib/services.ts;
 * `--runner tsx` runs the sources); the benchmark prints the CPU time each spent per order, and
 * `--profile <dir>` writes CPU profiles of api-gateway and order-service there.
 *
 *   npm run bench:orders [-- --connections 20 --duration 60 --warmup 5 --users 20 --runner bundle --profile <dir>]
 */
import type { ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { ORDER_EVENTS_TOPIC } from '../../services/events';
import { createKafkaConsumer } from '../../services/shared/src/kafka';
import type { KafkaMessage } from '../../services/shared/src/kafka';
import { apiClient, newAccount, orderBody } from '../../test/services/integration/client';
import { freePort } from '../../scripts/local-stack';
import { prepareStack } from '../../test/services/integration/stack';
import { buildFor, cpuMeter, parseRunner, spawnService, waitReady } from '../lib/services';

// After the load stops, how long the lag consumer may take to see the last events.
const DRAIN_TIMEOUT_MS = 120_000;

/** Cumulative bucket counts of a Prometheus histogram (summed over labels), by upper bound. */
async function histogram(port: number, name: string): Promise<Map<number, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const buckets = new Map<number, number>();
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}_bucket\\{.*le="([^"]+)".*\\} (\\S+)$`).exec(line);
    if (!m) continue;
    const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(m[2]));
  }
  return buckets;
}

/** The smallest bucket bound holding quantile q of the observations between two scrapes. */
function bucketQuantile(before: Map<number, number>, after: Map<number, number>, q: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  if (total === 0) return NaN;
  for (const le of bounds) {
    if ((after.get(le) ?? 0) - (before.get(le) ?? 0) >= q * total) return le;
  }
  return Infinity;
}

/** Waits until `done` holds or DRAIN_TIMEOUT_MS passed (the report then shows how many arrived). */
async function drained(done: () => boolean): Promise<void> {
  const until = Date.now() + DRAIN_TIMEOUT_MS;
  while (!done() && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      connections: { type: 'string', default: '20' }, duration: { type: 'string', default: '60' },
      warmup: { type: 'string', default: '5' }, users: { type: 'string', default: '20' },
      runner: { type: 'string', default: 'bundle' }, profile: { type: 'string' },
    },
  });
  const runner = parseRunner(values.runner);
  const profileDir = values.profile ? resolve(values.profile) : undefined;
  const opts = { connections: Number(values.connections), duration: Number(values.duration), warmup: Number(values.warmup), users: Number(values.users) };
  for (const [k, v] of Object.entries(opts)) {
    if (!Number.isInteger(v) || v < (k === 'warmup' ? 0 : 1)) throw new Error(`--${k} must be a ${k === 'warmup' ? 'non-negative' : 'positive'} integer, got ${JSON.stringify(values[k as keyof typeof values])}`);
  }

  await buildFor(runner, ['user-service', 'auth-service', 'order-service', 'api-gateway'], 'bench:orders');
  process.stderr.write('bench:orders: starting PostgreSQL, Redis, Kafka, user-, auth-, order-service and api-gateway...\n');
  const stack = await prepareStack({
    logLevel: 'warn', orders: true, kafka: true,
    // The bench measures the limiter's cost, not its refusals.
    gatewayEnv: { RATE_LIMIT_AUTHENTICATED: '1000000000', RATE_LIMIT_ANONYMOUS: '1000000000' },
  });
  const stop = () => { void stack.dispose().finally(() => process.exit(130)); };
  process.once('SIGINT', stop);
  try {
    const [httpPort, healthPort] = await Promise.all([freePort(), freePort()]);
    const started: Record<string, ChildProcess> = {};
    for (const name of ['user-service', 'auth-service', 'order-service'] as const) {
      const env = stack.env[name]!;
      started[name] = spawnService(stack, name, env, { runner, ...(profileDir && name === 'order-service' ? { profileDir } : {}) });
      await waitReady(`http://127.0.0.1:${env.HEALTH_PORT}/readyz`, name, started[name]);
    }
    const gateway = spawnService(stack, 'api-gateway', { ...stack.env['api-gateway'], HTTP_PORT: String(httpPort), HEALTH_PORT: String(healthPort) }, { runner, ...(profileDir ? { profileDir } : {}) });
    await waitReady(`http://127.0.0.1:${healthPort}/readyz`, 'api-gateway', gateway);
    const base = `http://127.0.0.1:${httpPort}`;
    const api = apiClient(base);

    const accounts = [];
    for (let i = 0; i < opts.users; i++) accounts.push(await newAccount(api, 'bench'));
    const tokens = accounts.map((a) => `Bearer ${a.access}`);
    const body = JSON.stringify(orderBody('19.99', 2));
    const probe = await api('POST', '/v1/orders', { token: accounts[0]!.access, body: orderBody('19.99', 2) });
    if (probe.status !== 201) throw new Error(`POST /v1/orders failed: ${probe.status} ${probe.raw}`);

    const kafka = stack.kafka!;
    const consumer = createKafkaConsumer({
      KAFKA_BROKERS: [kafka.bootstrap], KAFKA_SASL_USERNAME: kafka.username, KAFKA_SASL_PASSWORD_FILE: kafka.passwordFile, KAFKA_CA_FILE: kafka.caFile,
    }, { clientId: 'bench-orders-lag', groupId: `bench-orders-lag-${Date.now()}` });
    const lagMs: number[] = [];
    const seen = new Set<string>();
    let measuring = false;
    const stream = await consumer.consume({ topics: [ORDER_EVENTS_TOPIC], mode: 'earliest', maxWaitTime: 100 });
    stream.on('data', (m: KafkaMessage) => {
      const receivedAt = Date.now();
      const event = JSON.parse(m.value) as { eventId: string; occurredAt: string };
      if (seen.has(event.eventId)) return; // consumers de-duplicate by event id
      seen.add(event.eventId);
      if (measuring) lagMs.push(receivedAt - Date.parse(event.occurredAt));
    });

    let next = 0;
    const run = (seconds: number) => autocannon({
      url: base, connections: opts.connections, duration: seconds,
      requests: [{
        method: 'POST', path: '/v1/orders', body,
        setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'content-type': 'application/json', authorization: tokens[next++ % tokens.length]! } }),
      }],
    });

    process.stderr.write(`bench:orders: ${opts.connections} connections, ${opts.users} users, ${opts.duration} s after a ${opts.warmup} s warm-up (autocannon)\n`);
    const warm = opts.warmup > 0 ? await run(opts.warmup) : undefined;
    // The warm-up's events (and the probe's) are drained first so they do not count as lag.
    const warmEvents = 1 + (warm?.['2xx'] ?? 0);
    await drained(() => seen.size >= warmEvents);
    const orderHealthPort = Number(stack.env['order-service']!.HEALTH_PORT);
    const lagBefore = await histogram(orderHealthPort, 'outbox_publish_lag_seconds');
    const seenBefore = seen.size;
    measuring = true;
    const cpu = cpuMeter({ 'api-gateway': gateway, 'order-service': started['order-service']!, 'user-service': started['user-service']!, 'auth-service': started['auth-service']! });
    const result = await run(opts.duration);
    const cpuPerOrder = cpu.perUnit(result['2xx']);
    const created = result['2xx'];
    await drained(() => seen.size - seenBefore >= created);
    measuring = false;
    const lagAfter = await histogram(orderHealthPort, 'outbox_publish_lag_seconds');
    await stream.close().catch(() => undefined);
    await new Promise<void>((resolve) => consumer.close(true, () => resolve()));

    const sorted = [...lagMs].sort((a, b) => a - b);
    const errors = result.errors + result.timeouts + result.non2xx;
    process.stdout.write([
      '',
      `orders/s             ${(created / opts.duration).toFixed(1)}  (${created} orders in ${opts.duration} s, ${opts.connections} connections)`,
      `latency p50 / p99    ${result.latency.p50.toFixed(1)} ms / ${result.latency.p99.toFixed(1)} ms`,
      `errors               ${errors}  (non-2xx ${result.non2xx}, connection errors ${result.errors}, timeouts ${result.timeouts})`,
      `outbox->Kafka lag    p50 ${quantile(sorted, 0.5).toFixed(0)} ms, p99 ${quantile(sorted, 0.99).toFixed(0)} ms  (${sorted.length} events consumed for ${created} orders; consume time - occurredAt)`,
      `                     p99 <= ${(bucketQuantile(lagBefore, lagAfter, 0.99) * 1000).toFixed(0)} ms  (order-service outbox_publish_lag_seconds, row creation -> broker ack, bucket bound)`,
      `CPU per order, ms   ${cpuPerOrder}  (during the measured run; the relay's publishing included)`,
      `machine: ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, Node ${process.version}; every process on one host; services run as ${runner === 'bundle' ? 'esbuild bundles' : 'TypeScript via tsx'}`,
      '',
    ].join('\n'));
    if (errors > 0) process.exitCode = 1;
  } finally {
    process.off('SIGINT', stop);
    await stack.dispose();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:orders failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
