// Orders and payments cannot disagree (services/README.md "Orders and payments"): a cancel and a
// payment of the same pending order, sent at the same moment through the gateway (with a retry of
// the payment under the same Idempotency-Key), many orders at once, against the real services,
// PostgreSQL, Kafka and stripe-mock. Whatever the interleaving, each order ends either paid with
// exactly one captured payment and the provider holding the money once, or cancelled with no
// payment captured and nothing taken at the provider.
import { randomUUID } from 'node:crypto';
import { apiClient, newAccount, orderBody } from './client';
import type { Account, Api, Res } from './client';
import { queryDb } from './db';
import { startStack } from './stack';
import type { Stack } from './stack';

const ORDERS = 48;
// Orders raced at once: each race is three requests, so this keeps ~24 requests in flight.
const PARALLEL = 8;

let stack: Stack;
let api: Api;
let alice: Account;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pool<T>(count: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) {
      const i = next++;
      results[i] = await fn(i);
    }
  }));
  return results;
}

beforeAll(async () => {
  stack = await startStack({
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent', payments: true, kafka: true, outboxPollIntervalMs: 100,
    // Limits and latency are not what this is about (24 requests in flight on a loaded 2-core machine).
    gatewayEnv: { RATE_LIMIT_AUTHENTICATED: '100000', REQUEST_TIMEOUT_MS: '20000' },
  });
  api = apiClient(stack.gatewayUrl);
  alice = await newAccount(api, 'alice');
}, 240_000);

afterAll(async () => {
  await stack?.dispose();
});

interface Race {
  readonly orderId: string;
  readonly total: string;
  readonly cancel: Res;
  readonly pay: Res;
  readonly retry: Res;
}

const captured = (r: Res) => r.status === 201 && r.body?.status === 'captured';

/** Milliseconds a payment takes through the gateway here, alone: the scale of the races' skews. */
async function paymentLatency(): Promise<number> {
  const created = await api('POST', '/v1/orders', { token: alice.access, body: orderBody('1.00', 1) });
  const started = Date.now();
  const paid = await api('POST', '/v1/payments', {
    token: alice.access, headers: { 'idempotency-key': randomUUID() },
    body: { orderId: created.body.id, amount: '1.00', currency: 'USD', paymentMethod: 'pm_card_visa' },
  });
  if (paid.status !== 201) throw new Error(`warm-up payment: ${paid.status} ${paid.raw}`);
  return Date.now() - started;
}

it(`${ORDERS} orders, each cancelled and paid (and the payment retried) at the same moment: paid once or cancelled with nothing taken`, async () => {
  // Which request leaves first, and by how much, varies with the order: the cancel leaves up to
  // four payment latencies after the payment (the races run eight at a time, so a payment is
  // slower than alone), or the payment up to two thirds of a latency after the cancel. Cancels
  // meet payments before their hold, while they charge, and after they are captured.
  const step = Math.max(5, (await paymentLatency()) * 4 / 11);
  const races = await pool(ORDERS, PARALLEL, async (i): Promise<Race> => {
    const price = `${(i % 50) + 1}.25`;
    const created = await api('POST', '/v1/orders', { token: alice.access, body: orderBody(price, 1) });
    if (created.status !== 201) throw new Error(`order ${i}: ${created.status} ${created.raw}`);
    const orderId = created.body.id as string;
    const key = randomUUID();
    const pay = () => api('POST', '/v1/payments', {
      token: alice.access, headers: { 'idempotency-key': key },
      body: { orderId, amount: created.body.total, currency: 'USD', paymentMethod: 'pm_card_visa' },
    });
    const skew = (i % 12) * step;
    const [cancel, payRes, retry] = await Promise.all([
      sleep(i % 2 === 0 ? skew : 0).then(() => api('POST', `/v1/orders/${orderId}:cancel`, { token: alice.access })),
      sleep(i % 2 === 0 ? 0 : skew / 6).then(pay),
      sleep(skew / 2).then(pay),
    ]);
    return { orderId, total: created.body.total, cancel, pay: payRes, retry };
  });

  const violations: string[] = [];
  const outcome = { paid: 0, cancelled: 0 };
  for (const race of races) {
    const where = `order ${race.orderId} (cancel ${race.cancel.status}, pay ${race.pay.status} ${race.pay.body?.status ?? race.pay.body?.detail}, retry ${race.retry.status})`;
    for (const r of [race.cancel, race.pay, race.retry]) {
      if (r.status >= 500) violations.push(`${where}: a ${r.status}: ${r.raw}`);
    }
    // The order settles: paying ends when the payment's outcome reaches order-service.
    let order: Res | undefined;
    for (let attempt = 0; attempt < 120; attempt++) {
      order = await api('GET', `/v1/orders/${race.orderId}`, { token: alice.access });
      const s = order.body?.status;
      if (s === 'cancelled' || s === 'paid' || (s === 'pending' && !captured(race.pay) && !captured(race.retry))) break;
      await sleep(250);
    }
    const status = order?.body?.status as string;
    const payments = await queryDb<{ id: string; status: string }>(stack, 'payment-service', 'SELECT id, status FROM payments WHERE order_id = $1', [race.orderId]);
    const successful = payments.filter((p) => p.status === 'captured' || p.status === 'authorized');
    const record = stack.ledger!.recordOf(race.orderId);
    if (status === 'cancelled') {
      outcome.cancelled++;
      if (record.moneyTaken !== 0) violations.push(`${where}: cancelled, but the provider captured ${record.captured.join(', ')}`);
      if (successful.length !== 0) violations.push(`${where}: cancelled, but payment ${successful.map((p) => `${p.id} is ${p.status}`).join(', ')}`);
      if (race.cancel.status !== 200) violations.push(`${where}: cancelled, but the cancel was answered ${race.cancel.status}`);
      if (captured(race.pay) || captured(race.retry)) violations.push(`${where}: cancelled, but the customer was told the payment was captured`);
    } else if (status === 'paid') {
      outcome.paid++;
      if (record.moneyTaken !== 1 || record.intents.length !== 1) violations.push(`${where}: paid, provider record ${JSON.stringify(record)}`);
      if (successful.length !== 1 || successful[0]!.status !== 'captured') violations.push(`${where}: paid, payments ${JSON.stringify(payments)}`);
      if (race.cancel.status !== 409) violations.push(`${where}: paid, but the cancel was answered ${race.cancel.status}`);
      const ok = [race.pay, race.retry].filter((r) => r.status === 201);
      if (ok.length === 0 || ok.some((r) => r.body.id !== successful[0]?.id || r.body.status !== 'captured')) {
        violations.push(`${where}: paid, but the payment answers were ${[race.pay, race.retry].map((r) => `${r.status} ${r.raw}`).join(' / ')}`);
      }
    } else {
      violations.push(`${where}: ended ${status} (payments ${JSON.stringify(payments)}, provider ${JSON.stringify(record)})`);
    }
  }
  expect(violations).toEqual([]);
  expect(outcome.paid + outcome.cancelled).toBe(ORDERS);
  // Both ends of the race were reached (the skews span it), so both branches above were checked.
  expect(Math.min(outcome.paid, outcome.cancelled)).toBeGreaterThan(0);
}, 600_000);
