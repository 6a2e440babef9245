// Security through the gateway, real services (stack.ts with order- and payment-service, no
// Kafka: nothing here needs an event delivered): another user's orders and payments are
// indistinguishable from ids that do not exist, hostile strings are data (stored verbatim or
// refused with 400, never executed), and malformed amounts are refused naming the field.
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { grantRole } from '../../../services/auth-service/src/accounts';
import { apiClient, newAccount, orderBody } from './client';
import type { Account, Api, Res } from './client';
import { startStack } from './stack';
import type { Stack } from './stack';

let stack: Stack;
let api: Api;
let alice: Account;
let bob: Account;

const INJECTIONS = [
  "'; DROP TABLE orders; --",
  "1' OR '1'='1",
  "Robert'); DROP TABLE order_items;--",
  '" OR ""="',
  "x'||pg_sleep(5)||'",
  '$$; DELETE FROM payments; $$',
  '\\\'; TRUNCATE outbox; --',
];

function expectProblem(res: Res, status: number): void {
  expect({ status: res.status, type: res.headers.get('content-type') }).toEqual({ status, type: expect.stringMatching(/^application\/problem\+json/) });
}

/** The answer with the id blanked out: the same text for a foreign id and a random one. */
function shape(res: Res, id: string): unknown {
  return { status: res.status, type: res.body?.type, title: res.body?.title, detail: String(res.body?.detail ?? '').split(id).join('<id>') };
}

async function query<T>(database: 'order-service' | 'payment-service', sql: string): Promise<T[]> {
  const url = new URL(stack.pg.superuserUrl);
  url.pathname = `/${stack.databases[database]!.database}`;
  const client = new Client({ connectionString: url.toString() });
  client.on('error', () => undefined); // a dropped connection fails the query below instead
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

async function tables(database: 'order-service' | 'payment-service'): Promise<string[]> {
  const rows = await query<{ table_name: string }>(database, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1");
  return rows.map((r) => r.table_name);
}

async function pay(account: Account, orderId: string, amount: string, key: string = randomUUID(), currency = 'USD'): Promise<Res> {
  return api('POST', '/v1/payments', {
    token: account.access, headers: { 'idempotency-key': key },
    body: { orderId, amount, currency, paymentMethod: 'pm_card_visa' },
  });
}

beforeAll(async () => {
  stack = await startStack({ logLevel: process.env.TEST_LOG_LEVEL ?? 'silent', payments: true });
  api = apiClient(stack.gatewayUrl);
  [alice, bob] = await Promise.all([newAccount(api, 'alice'), newAccount(api, 'bob')]);
}, 180_000);

afterAll(async () => {
  await stack?.dispose();
});

describe('no enumeration', () => {
  it("another user's order is 404 exactly like an id that does not exist (read and cancel)", async () => {
    const created = await api('POST', '/v1/orders', { token: alice.access, body: orderBody() });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const random = randomUUID();

    const foreign = await api('GET', `/v1/orders/${id}`, { token: bob.access });
    const missing = await api('GET', `/v1/orders/${random}`, { token: bob.access });
    expectProblem(foreign, 404);
    expect(shape(foreign, id)).toEqual(shape(missing, random));

    const foreignCancel = await api('POST', `/v1/orders/${id}:cancel`, { token: bob.access });
    const missingCancel = await api('POST', `/v1/orders/${random}:cancel`, { token: bob.access });
    expectProblem(foreignCancel, 404);
    expect(shape(foreignCancel, id)).toEqual(shape(missingCancel, random));

    // Bob's list does not show it; Alice's does, and her order is still pending.
    const bobs = await api('GET', '/v1/orders', { token: bob.access });
    expect(bobs.status).toBe(200);
    expect(bobs.body.orders.map((o: { id: string }) => o.id)).not.toContain(id);
    const own = await api('GET', `/v1/orders/${id}`, { token: alice.access });
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ id, userId: alice.userId, status: 'pending', total: '39.98', currency: 'USD' });
  });

  it("a customer cannot list another user's orders by naming them (403), an admin can", async () => {
    const res = await api('GET', `/v1/orders?userId=${alice.userId}`, { token: bob.access });
    expectProblem(res, 403);
    const admin = await newAccount(api, 'admin');
    await grantRole(stack.auth.postgres.pool, admin.email, 'admin');
    await stack.auth.authorizer.forgetRoles(admin.userId);
    const listed = await api('GET', `/v1/orders?userId=${alice.userId}`, { token: admin.access });
    expect(listed.status).toBe(200);
    expect(listed.body.orders.length).toBeGreaterThan(0);
    expect(listed.body.orders.every((o: { userId: string }) => o.userId === alice.userId)).toBe(true);
  });

  it("another user's payment is 404 exactly like an id that does not exist; paying their order too", async () => {
    const created = await api('POST', '/v1/orders', { token: alice.access, body: orderBody('5.00', 1) });
    expect(created.status).toBe(201);
    const paid = await pay(alice, created.body.id, '5.00');
    expect(paid.status).toBe(201);
    const paymentId = paid.body.id as string;
    const random = randomUUID();

    const foreign = await api('GET', `/v1/payments/${paymentId}`, { token: bob.access });
    const missing = await api('GET', `/v1/payments/${random}`, { token: bob.access });
    expectProblem(foreign, 404);
    expect(shape(foreign, paymentId)).toEqual(shape(missing, random));
    expect((await api('GET', `/v1/payments/${paymentId}`, { token: alice.access })).status).toBe(200);

    const other = await api('POST', '/v1/orders', { token: alice.access, body: orderBody('6.00', 1) });
    const foreignPay = await pay(bob, other.body.id, '6.00');
    const missingPay = await pay(bob, random, '6.00');
    expectProblem(foreignPay, 404);
    expect(shape(foreignPay, other.body.id)).toEqual(shape(missingPay, random));
  });

  it('refunds are for admins only (403 for the payer)', async () => {
    const created = await api('POST', '/v1/orders', { token: alice.access, body: orderBody('7.00', 1) });
    const paid = await pay(alice, created.body.id, '7.00');
    expect(paid.status).toBe(201);
    expectProblem(await api('POST', `/v1/payments/${paid.body.id}:refund`, { token: alice.access }), 403);
  });
});

describe('SQL injection strings are data', () => {
  it('stores hostile product ids verbatim and reads them back; the tables are intact', async () => {
    const before = { orders: await tables('order-service'), payments: await tables('payment-service') };
    expect(before.orders).toEqual(expect.arrayContaining(['orders', 'order_items']));
    for (const productId of INJECTIONS) {
      const res = await api('POST', '/v1/orders', { token: alice.access, body: orderBody('1.00', 1, productId) });
      expect(res.status).toBe(201);
      const read = await api('GET', `/v1/orders/${res.body.id}`, { token: alice.access });
      expect(read.body.items[0].productId).toBe(productId);
    }
    const stored = await query<{ product_id: string }>('order-service', 'SELECT product_id FROM order_items');
    expect(stored.map((r) => r.product_id)).toEqual(expect.arrayContaining(INJECTIONS));
    expect(await tables('order-service')).toEqual(before.orders);
    expect(await tables('payment-service')).toEqual(before.payments);
  });

  it('refuses hostile currencies, pagination tokens and user ids with 400 (never 500)', async () => {
    for (const currency of INJECTIONS) {
      const res = await api('POST', '/v1/orders', { token: alice.access, body: orderBody('1.00', 1, 'sku', currency) });
      expectProblem(res, 400);
      expect(res.body.errors[0].field).toBe('currency');
    }
    for (const token of INJECTIONS) {
      const res = await api('GET', `/v1/orders?pageToken=${encodeURIComponent(token)}`, { token: alice.access });
      expectProblem(res, 400);
      expect(res.body.errors[0].field).toBe('pageToken');
    }
    for (const userId of INJECTIONS) {
      const res = await api('GET', `/v1/orders?userId=${encodeURIComponent(userId)}`, { token: alice.access });
      expectProblem(res, 400);
      expect(res.body.errors[0].field).toBe('userId');
    }
  });

  it('stores a hostile name verbatim and accepts a hostile idempotency key as an opaque key', async () => {
    const mallory = await newAccount(api, 'mallory', INJECTIONS[0]);
    const me = await api('GET', '/v1/users/me', { token: mallory.access });
    expect(me.body.name).toBe(INJECTIONS[0]);

    const order = await api('POST', '/v1/orders', { token: alice.access, body: orderBody('3.00', 1) });
    // Header values carry no spaces here (the key's grammar): the quote-and-comment form instead.
    const key = "x';DROP/**/TABLE/**/payments;--";
    const first = await pay(alice, order.body.id, '3.00', key);
    expect(first.status).toBe(201);
    const again = await pay(alice, order.body.id, '3.00', key);
    expect(again.body.id).toBe(first.body.id);
    const spaced = await pay(alice, order.body.id, '3.00', "'; DROP TABLE payments; --");
    expectProblem(spaced, 400);
    expect(spaced.body.errors[0].field).toBe('Idempotency-Key header');
    expect(await tables('payment-service')).toEqual(expect.arrayContaining(['payments']));
    const rows = await query<{ n: string }>('payment-service', 'SELECT count(*) AS n FROM payments');
    expect(Number(rows[0]!.n)).toBeGreaterThan(0);
  });
});

describe('amounts', () => {
  it.each([
    ['negative', '-1.00'], ['zero', '0'], ['zero with decimals', '0.00'], ['non-numeric', 'ten'],
    ['with excess precision', '1.001'], ['sent as a JSON number', 1.5], ['with an exponent', '1e2'],
  ])('refuses a unit price that is %s with 400 naming the field', async (_name, unitPrice) => {
    const res = await api('POST', '/v1/orders', { token: alice.access, body: { items: [{ productId: 'sku', quantity: 1, unitPrice }], currency: 'USD' } });
    expectProblem(res, 400);
    expect(res.body.errors[0].field).toBe('items.0.unitPrice');
  });

  it('refuses decimals in a currency without minor units (JPY), naming the field as the document does', async () => {
    const res = await api('POST', '/v1/orders', { token: alice.access, body: orderBody('300.5', 1, 'sku', 'JPY') });
    expectProblem(res, 400);
    expect(res.body.errors[0].field).toBe('items.0.unitPrice');
  });

  it.each([
    ['negative', '-5.00'], ['zero', '0.00'], ['non-numeric', 'abc'], ['with excess precision', '5.001'], ['sent as a JSON number', 5],
  ])('refuses a payment amount that is %s with 400 naming the field', async (_name, amount) => {
    const order = await api('POST', '/v1/orders', { token: alice.access, body: orderBody('5.00', 1) });
    const res = await api('POST', '/v1/payments', {
      token: alice.access, headers: { 'idempotency-key': randomUUID() },
      body: { orderId: order.body.id, amount, currency: 'USD', paymentMethod: 'pm_card_visa' },
    });
    expectProblem(res, 400);
    expect(res.body.errors[0].field).toBe('amount');
  });

  it("refuses a payment amount that differs from the order's total with 409 naming the field (well-formed, but not this order's)", async () => {
    const order = await api('POST', '/v1/orders', { token: alice.access, body: orderBody('5.00', 1) });
    const res = await pay(alice, order.body.id, '4.99');
    expectProblem(res, 409);
    expect(res.body.detail).toMatch(/^amount:/);
  });
});
