// Crashes between a charge and the state change that records it (services/README.md "Orders and
// payments"). order-service and payment-service run as their own processes and are killed for
// real (SIGKILL) at an exact point of a payment: the provider's calls go through the recording
// proxy (provider-ledger.ts), which kills the process when the call it waits for goes by. After a
// restart, recovery must end consistent: the order paid, one payment captured, the provider
// holding the money once and nothing refunded; and while the outcome is unknown the order can
// be neither cancelled nor paid again.
import { randomUUID } from 'node:crypto';
import { apiClient, newAccount, orderBody } from './client';
import type { Account, Api, Res } from './client';
import { queryDb } from './db';
import type { InterceptPoint } from './provider-ledger';
import { startStack } from './stack';
import type { Stack } from './stack';

let stack: Stack;
let api: Api;
let alice: Account;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  stack = await startStack({
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent', payments: true, kafka: true,
    processes: ['order-service', 'payment-service'],
    // Latency is not what this is about: a loaded 2-core machine gets a generous budget.
    gatewayEnv: { REQUEST_TIMEOUT_MS: '20000' },
    // Recovery looks every half second for payments unchanged for a second.
    serviceEnv: { 'payment-service': { PAYMENT_RECOVERY_INTERVAL_MS: '500', PAYMENT_RECOVERY_AFTER_MS: '1000' } },
  });
  api = apiClient(stack.gatewayUrl);
  alice = await newAccount(api, 'alice');
}, 300_000);

afterAll(async () => {
  stack?.ledger?.intercept(undefined);
  await stack?.dispose();
});

/** Polls `fn` until `ok` holds (a safety net for a restart and recovery, not a timing check). */
async function eventually(fn: () => Promise<Res>, ok: (r: Res) => boolean, attempts = 240): Promise<Res> {
  let last: Res | undefined;
  for (let i = 0; i < attempts; i++) {
    last = await fn();
    if (ok(last)) return last;
    await sleep(500);
  }
  throw new Error(`never reached; last answer ${last?.status}: ${last?.raw}`);
}

/** Kills `service` once, when the provider call matching `path` reaches `point`. */
function killAt(service: 'order-service' | 'payment-service', point: InterceptPoint, path: RegExp, drop: boolean): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    stack.ledger!.intercept(async (at, call) => {
      if (done || at !== point || call.method !== 'POST' || !path.test(call.path)) return 'pass';
      done = true;
      await stack.processes[service]!.kill();
      resolve();
      return drop ? 'drop' : 'pass';
    });
  });
}

async function newOrder(price: string): Promise<{ id: string; total: string }> {
  const res = await api('POST', '/v1/orders', { token: alice.access, body: orderBody(price, 1) });
  expect(res.status).toBe(201);
  return res.body;
}

function pay(order: { id: string; total: string }, key: string): Promise<Res> {
  return api('POST', '/v1/payments', {
    token: alice.access, headers: { 'idempotency-key': key },
    body: { orderId: order.id, amount: order.total, currency: 'USD', paymentMethod: 'pm_card_visa' },
  });
}

const orderOf = (id: string) => api('GET', `/v1/orders/${id}`, { token: alice.access });

async function paymentsOf(orderId: string) {
  return queryDb<{ id: string; status: string }>(stack, 'payment-service', 'SELECT id, status FROM payments WHERE order_id = $1', [orderId]);
}

/** The end every crash must reach: paid once, captured once at the provider, nothing refunded. */
async function expectPaidOnce(orderId: string, key: string): Promise<void> {
  const order = await eventually(() => orderOf(orderId), (r) => r.body?.status === 'paid');
  expect(order.body.status).toBe('paid');
  const payments = await paymentsOf(orderId);
  expect(payments.map((p) => p.status)).toEqual(['captured']);
  const record = stack.ledger!.recordOf(orderId);
  expect(record).toMatchObject({ moneyTaken: 1, refunded: [] });
  expect(record.intents).toHaveLength(1);
  expect(record.captured).toEqual(record.intents);
  // The client's retry with the same key is answered with that payment, no new charge (503 while
  // the gateway reconnects to the restarted service: a client retries those).
  const retry = await eventually(() => pay({ id: orderId, total: order.body.total }, key), (r) => r.status !== 503);
  expect(retry.status).toBe(201);
  expect(retry.body).toMatchObject({ id: payments[0]!.id, status: 'captured' });
  expect(stack.ledger!.recordOf(orderId)).toEqual(record);
}

it('payment-service killed after the provider captured, before it recorded the capture: the restart recovers it to paid, captured once', async () => {
  const order = await newOrder('21.00');
  const key = randomUUID();
  const crashed = killAt('payment-service', 'after-answer', /^\/v1\/payment_intents\/[^/]+\/capture$/, true);
  const res = await pay(order, key);
  await crashed;
  // The client cannot know the outcome: a 5xx, never a 201.
  expect(res.status).toBeGreaterThanOrEqual(500);
  stack.ledger!.intercept(undefined);

  // The window a crash leaves: the provider took the money, the payment says authorized, the
  // order is held. Nobody can cancel it or pay it again meanwhile.
  expect(stack.ledger!.recordOf(order.id).moneyTaken).toBe(1);
  expect((await paymentsOf(order.id)).map((p) => p.status)).toEqual(['authorized']);
  expect((await orderOf(order.id)).body.status).toBe('paying');
  const cancel = await api('POST', `/v1/orders/${order.id}:cancel`, { token: alice.access });
  expect(cancel.status).toBe(409);

  await stack.processes['payment-service']!.start();
  await expectPaidOnce(order.id, key);
}, 600_000);

it('payment-service killed after holding the order, before the provider was asked: recovery charges once and the order ends paid', async () => {
  const order = await newOrder('22.00');
  const key = randomUUID();
  const crashed = killAt('payment-service', 'before-forward', /^\/v1\/payment_intents$/, true);
  const res = await pay(order, key);
  await crashed;
  expect(res.status).toBeGreaterThanOrEqual(500);
  stack.ledger!.intercept(undefined);
  expect(stack.ledger!.recordOf(order.id).intents).toEqual([]);
  expect((await orderOf(order.id)).body.status).toBe('paying');
  expect((await api('POST', `/v1/orders/${order.id}:cancel`, { token: alice.access })).status).toBe(409);

  await stack.processes['payment-service']!.start();
  await expectPaidOnce(order.id, key);
}, 600_000);

it('order-service killed while the payment charges, Kafka down too: the payment completes, the order catches up once both are back', async () => {
  const order = await newOrder('23.00');
  const key = randomUUID();
  await stack.kafka!.stop();
  try {
    // The capture goes through; order-service is gone before the outcome can be handed over.
    const crashed = killAt('order-service', 'before-forward', /^\/v1\/payment_intents\/[^/]+\/capture$/, false);
    const res = await pay(order, key);
    await crashed;
    stack.ledger!.intercept(undefined);
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('captured');
    expect(stack.ledger!.recordOf(order.id).moneyTaken).toBe(1);

    // order-service back, Kafka still down: the order is still held by the captured payment, so a
    // cancel is refused rather than leaving the money taken for a cancelled order.
    await stack.processes['order-service']!.start();
    const held = await eventually(() => orderOf(order.id), (r) => r.status === 200);
    expect(held.body.status).toBe('paying');
    expect((await api('POST', `/v1/orders/${order.id}:cancel`, { token: alice.access })).status).toBe(409);
  } finally {
    await stack.kafka!.start();
  }
  // payment.captured waits in payment-service's outbox and reaches order-service through Kafka.
  await expectPaidOnce(order.id, key);
}, 600_000);
