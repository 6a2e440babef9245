// Orders and payments end to end through the gateway, every part real (stack.ts with Kafka,
// order-service, payment-service and stripe-mock): create, read, page, cancel; pay with an
// Idempotency-Key (a repeat returns the stored payment, another body with the same key is 409),
// the captured payment marks the order paid (payment.captured over Kafka), admins refund.
import { randomUUID } from 'node:crypto';
import { grantRole } from '../../../services/auth-service/src/accounts';
import { apiClient, newAccount, orderBody } from './client';
import type { Account, Api, Res } from './client';
import { startStack } from './stack';
import type { Stack } from './stack';

let stack: Stack;
let api: Api;
let alice: Account;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pay(orderId: string, amount: string, key: string, token = alice.access): Promise<Res> {
  return api('POST', '/v1/payments', {
    token, headers: { 'idempotency-key': key }, body: { orderId, amount, currency: 'USD', paymentMethod: 'pm_card_visa' },
  });
}

beforeAll(async () => {
  stack = await startStack({ logLevel: process.env.TEST_LOG_LEVEL ?? 'silent', payments: true, kafka: true, outboxPollIntervalMs: 100 });
  api = apiClient(stack.gatewayUrl);
  alice = await newAccount(api, 'alice');
}, 240_000);

afterAll(async () => {
  await stack?.dispose();
});

it('creates an order with a server-side total, reads it back and links it with Location', async () => {
  const res = await api('POST', '/v1/orders', {
    token: alice.access,
    body: { items: [{ productId: 'sku-1', quantity: 3, unitPrice: '0.10' }, { productId: 'sku-2', quantity: 1, unitPrice: '0.20' }], currency: 'USD' },
  });
  expect(res.status).toBe(201);
  // 3 x 0.10 + 0.20 = 0.50 exactly (a float sum would be 0.5000000000000001).
  expect(res.body).toMatchObject({ userId: alice.userId, total: '0.50', currency: 'USD', status: 'pending' });
  expect(typeof res.body.total).toBe('string');
  expect(res.headers.get('location')).toBe(`/v1/orders/${res.body.id}`);
  const read = await api('GET', `/v1/orders/${res.body.id}`, { token: alice.access });
  expect(read.status).toBe(200);
  expect(read.body).toEqual(res.body);
});

it('lists own orders newest first, page by page', async () => {
  const bob = await newAccount(api, 'bob');
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await api('POST', '/v1/orders', { token: bob.access, body: orderBody(`${i + 1}.00`, 1) })).body.id);
  const seen: string[] = [];
  let token: string | undefined;
  do {
    const page: Res = await api('GET', `/v1/orders?pageSize=2${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`, { token: bob.access });
    expect(page.status).toBe(200);
    expect(page.body.orders.length).toBeLessThanOrEqual(2);
    seen.push(...page.body.orders.map((o: { id: string }) => o.id));
    token = page.body.nextPageToken;
  } while (token);
  expect(seen).toEqual([...ids].reverse());
});

it('cancels a pending order once; a cancelled order cannot be cancelled again or paid (409)', async () => {
  const order = await api('POST', '/v1/orders', { token: alice.access, body: orderBody() });
  const cancelled = await api('POST', `/v1/orders/${order.body.id}:cancel`, { token: alice.access });
  expect(cancelled.status).toBe(200);
  expect(cancelled.body.status).toBe('cancelled');
  const again = await api('POST', `/v1/orders/${order.body.id}:cancel`, { token: alice.access });
  expect(again.status).toBe(409);
  expect(again.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect((await pay(order.body.id, '39.98', randomUUID())).status).toBe(409);
});

it('pays an order idempotently, marks it paid, and lets an admin refund it', async () => {
  const order = await api('POST', '/v1/orders', { token: alice.access, body: orderBody('19.99', 2) });
  const key = randomUUID();
  const first = await pay(order.body.id, '39.98', key);
  expect(first.status).toBe(201);
  expect(first.body).toMatchObject({ orderId: order.body.id, userId: alice.userId, amount: '39.98', currency: 'USD', status: 'captured' });
  expect(first.headers.get('location')).toBe(`/v1/payments/${first.body.id}`);

  // The same key and body: the stored payment, same status code (draft-ietf-httpapi-idempotency-key-header).
  const repeat = await pay(order.body.id, '39.98', key);
  expect(repeat.status).toBe(201);
  expect(repeat.body).toEqual(first.body);
  // The same key with another body is a client error, not a second charge.
  const reused = await api('POST', '/v1/payments', {
    token: alice.access, headers: { 'idempotency-key': key }, body: { orderId: order.body.id, amount: '39.98', currency: 'USD', paymentMethod: 'pm_card_mastercard' },
  });
  expect(reused.status).toBe(409);
  expect((await api('GET', `/v1/payments/${first.body.id}`, { token: alice.access })).body).toEqual(first.body);

  // payment.captured reaches order-service over Kafka: the order becomes paid.
  let status = '';
  for (let i = 0; i < 120 && status !== 'paid'; i++) {
    status = (await api('GET', `/v1/orders/${order.body.id}`, { token: alice.access })).body.status;
    if (status !== 'paid') await sleep(500);
  }
  expect(status).toBe('paid');

  const admin = await newAccount(api, 'admin');
  await grantRole(stack.auth.postgres.pool, admin.email, 'admin');
  await stack.auth.authorizer.forgetRoles(admin.userId);
  const refunded = await api('POST', `/v1/payments/${first.body.id}:refund`, { token: admin.access });
  expect(refunded.status).toBe(200);
  expect(refunded.body.status).toBe('refunded');
  expect(refunded.body.refundReference).toEqual(expect.any(String));
  // An admin reads any payment; the payer sees the refund too.
  expect((await api('GET', `/v1/payments/${first.body.id}`, { token: alice.access })).body.status).toBe('refunded');
}, 120_000);
