// Faults with real servers, through the gateway: Kafka down while orders keep
// coming (the outbox keeps them; after Kafka returns every event arrives, exactly once after
// de-duplication by event id), Redis down (reads fall through to PostgreSQL, rate limits counted
// locally) and a payment retried concurrently with one Idempotency-Key (charged once).
// PostgreSQL restarted under load is faults-postgres.test.ts (its own stack, no Kafka).
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { ORDER_EVENTS_TOPIC } from '../../../services/events';
import { readTopic } from '../order-service/kafka-read';
import { apiClient, newAccount, orderBody } from './client';
import type { Account, Api, Res } from './client';
import { startStack } from './stack';
import type { Stack } from './stack';

const ORDERS_WHILE_KAFKA_DOWN = 500;
// Parallel requests in flight: enough to overlap, few enough for a 2-core machine.
const CONCURRENCY = 20;

let stack: Stack;
let api: Api;
let alice: Account;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `count` calls of `fn`, `CONCURRENCY` at a time, results in call order. */
async function pool<T>(count: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) {
      const i = next++;
      results[i] = await fn(i);
    }
  }));
  return results;
}

async function metric(port: number, line: RegExp): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text.split('\n').filter((l) => line.test(l)).reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

/** Retries `fn` until `ok` holds; gives up after `attempts` (a safety net, not a timing check). */
async function eventually(fn: () => Promise<Res>, ok: (r: Res) => boolean, attempts = 120): Promise<Res> {
  let last: Res | undefined;
  for (let i = 0; i < attempts; i++) {
    last = await fn();
    if (ok(last)) return last;
    await sleep(500);
  }
  throw new Error(`never succeeded; last answer ${last?.status}: ${last?.raw}`);
}

beforeAll(async () => {
  stack = await startStack({
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent', payments: true, kafka: true,
    outboxPollIntervalMs: 100, maxBackoffMs: 1_000,
    // The load below comes from one user: the per-subject limit is not what these tests are about,
    // nor is latency (500 orders, 20 at a time, on a loaded 2-core machine can exceed 5 s each).
    gatewayEnv: { RATE_LIMIT_AUTHENTICATED: '100000', REQUEST_TIMEOUT_MS: '20000' },
  });
  api = apiClient(stack.gatewayUrl);
  alice = await newAccount(api, 'alice');
}, 240_000);

afterAll(async () => {
  await stack?.dispose();
});

it(`Kafka down: all ${ORDERS_WHILE_KAFKA_DOWN} orders are accepted; after it restarts each event arrives exactly once after de-duplication`, async () => {
  const kafka = stack.kafka!;
  await kafka.stop();
  const created = await pool(ORDERS_WHILE_KAFKA_DOWN, () => api('POST', '/v1/orders', { token: alice.access, body: orderBody('1.25', 2) }));
  const statuses = created.map((r) => r.status);
  expect(statuses.filter((s) => s !== 201)).toEqual([]);
  const ids = new Set(created.map((r) => r.body.id as string));
  expect(ids.size).toBe(ORDERS_WHILE_KAFKA_DOWN);
  // Nothing can have been published: the events wait in the outbox.
  expect(await metric(stack.orders!.healthPort, /^outbox_pending\{/)).toBeGreaterThan(0);

  await kafka.start();
  const messages = await readTopic(kafka, ORDER_EVENTS_TOPIC, (ms) => new Set(ms.map((m) => (m.value as { eventId: string }).eventId)).size >= ORDERS_WHILE_KAFKA_DOWN, { settleMs: 3_000, giveUpMs: 180_000 });
  const byEventId = new Map<string, { type: string; orderId: string }>();
  for (const m of messages) byEventId.set((m.value as { eventId: string }).eventId, m.value as { type: string; orderId: string });
  const events = [...byEventId.values()];
  expect(events.length).toBe(ORDERS_WHILE_KAFKA_DOWN);
  expect(events.every((e) => e.type === 'order.created')).toBe(true);
  const orderIds = events.map((e) => e.orderId);
  expect(new Set(orderIds).size).toBe(ORDERS_WHILE_KAFKA_DOWN);
  expect([...orderIds].sort()).toEqual([...ids].sort());
  // Keyed by order id: an order's events stay in one partition.
  expect(messages.every((m) => m.key === (m.value as { orderId: string }).orderId)).toBe(true);
}, 420_000);

it('Redis down: reads fall through to PostgreSQL and rate limits are counted locally', async () => {
  const limited = await stack.startGateway({ RATE_LIMIT_AUTHENTICATED: '5' });
  const limitedApi = apiClient(limited.url);
  const bob = await newAccount(api, 'bob');
  const order = await api('POST', '/v1/orders', { token: bob.access, body: orderBody() });
  expect(order.status).toBe(201);

  await stack.redis.stop();
  try {
    const me = await api('GET', '/v1/users/me', { token: bob.access });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(bob.userId);
    const got = await api('GET', `/v1/orders/${order.body.id}`, { token: bob.access });
    expect(got.status).toBe(200);
    expect((await api('POST', '/v1/orders', { token: bob.access, body: orderBody() })).status).toBe(201);

    // The small-limit replica still limits: 5 allowed, then 429, counted in process memory.
    const answers: number[] = [];
    for (let i = 0; i < 7; i++) answers.push((await limitedApi('GET', `/v1/orders/${order.body.id}`, { token: bob.access })).status);
    expect(answers.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(answers.slice(5)).toEqual([429, 429]);
    expect(await metric(limited.handle.healthPort, /^rate_limit_fallback_active /)).toBe(1);
    expect(await metric(limited.handle.healthPort, /^rate_limit_decisions_total\{.*result="limited".*backend="local"/)).toBeGreaterThan(0);
  } finally {
    await stack.redis.start();
  }
}, 120_000);

it('a payment retried 10 times in parallel with one Idempotency-Key charges once', async () => {
  const order = await api('POST', '/v1/orders', { token: alice.access, body: orderBody('12.50', 2) });
  expect(order.status).toBe(201);
  const key = randomUUID();
  // A charge is one PaymentIntent created (confirm and capture are calls on /v1/payment_intents/<id>/...).
  const charges = () => stack.stripe!.requests().filter((r) => r === 'POST /v1/payment_intents').length;
  const chargesBefore = charges();
  const attempts = await Promise.all(Array.from({ length: 10 }, () => api('POST', '/v1/payments', {
    token: alice.access, headers: { 'idempotency-key': key },
    body: { orderId: order.body.id, amount: '25.00', currency: 'USD', paymentMethod: 'pm_card_visa' },
  })));
  // A retry that overlaps the first may be told to retry (409 in progress); none may charge again.
  const ok = attempts.filter((r) => r.status === 201);
  expect(attempts.filter((r) => r.status !== 201 && r.status !== 409).map((r) => `${r.status} ${r.raw}`)).toEqual([]);
  expect(ok.length).toBeGreaterThan(0);
  expect(new Set(ok.map((r) => r.body.id)).size).toBe(1);
  // After the race, the key answers with the one payment.
  const settled = await eventually(() => api('POST', '/v1/payments', {
    token: alice.access, headers: { 'idempotency-key': key },
    body: { orderId: order.body.id, amount: '25.00', currency: 'USD', paymentMethod: 'pm_card_visa' },
  }), (r) => r.status === 201);
  expect(settled.body.id).toBe(ok[0]!.body.id);
  expect(settled.body.status).toBe('captured');

  expect(charges() - chargesBefore).toBe(1);

  const url = new URL(stack.pg.superuserUrl);
  url.pathname = `/${stack.databases['payment-service']!.database}`;
  const client = new Client({ connectionString: url.toString() });
  client.on('error', () => undefined); // a dropped connection fails the query below instead
  await client.connect();
  try {
    const rows = await client.query('SELECT count(*)::int AS n FROM payments WHERE order_id = $1', [order.body.id]);
    expect(rows.rows[0].n).toBe(1);
  } finally {
    await client.end();
  }
}, 120_000);
