/**
 * order-service against real PostgreSQL and Kafka (SASL_SSL, SCRAM-SHA-512) over its gRPC mTLS
 * port, in-process: the API and its rules, the events on order-events, the outbox across a
 * Kafka outage, and payment.captured applied once per event id.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import { createTestCa, issueServiceCertificate, startKafka, startPostgres } from '../../harness';
import type { DatabaseAccess, IssuedCertificate, KafkaServer, PostgresServer, TestCa } from '../../harness';
import { OrderServiceClient } from '../../../services/proto/gen/order/v1/order';
import { ORDER_EVENTS_TOPIC, PAYMENT_EVENTS_TOPIC, newEvent, topicOf, validateEvent } from '../../../services/events';
import { Status, createClient, createClientCredentials, createKafkaProducer, createLogger, unary as unaryCall } from '../../../services/shared/src';
import type { ClientCredentials } from '../../../services/shared/src';
import { startOrderService } from '../../../services/order-service/src/service';
import type { OrderServiceConfig, OrderServiceHandle } from '../../../services/order-service/src/service';
import { kafkaConfig, readTopic } from './kafka-read';

const silent = createLogger({ service: 'order-service', level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

let ca: TestCa;
let pg: PostgresServer;
let kafka: KafkaServer;
let db: DatabaseAccess;
let serverCert: IssuedCertificate;
let gatewayCreds: ClientCredentials;
let handle: OrderServiceHandle;
let client: OrderServiceClient;

const alice = randomUUID();
const bob = randomUUID();
const admin = randomUUID();
const as = (subject: string, roles: string[] = ['customer']) => ({ subject, roles });

/**
 * The calls of these tests check outcomes, not latency: the production 5 s deadline is a budget a
 * loaded two-core CI machine can miss on a first call (TLS, first queries), so they get 30 s.
 */
const unary: typeof unaryCall = (c, method, request, options = {}) => unaryCall(c, method, request, { timeoutMs: 30_000, ...options });

beforeAll(async () => {
  ca = await createTestCa();
  [pg, kafka] = await Promise.all([
    startPostgres({ ca }),
    startKafka({ ca, topics: [topicOf('order-service'), topicOf('payment-service')] }),
  ]);
  db = await pg.createDatabase('orders');
  serverCert = await issueServiceCertificate(ca, 'order-service');
  const gatewayCert = await issueServiceCertificate(ca, 'api-gateway');
  gatewayCreds = await createClientCredentials({ certFile: gatewayCert.certFile, keyFile: gatewayCert.keyFile, caFile: ca.caFile }, 'order-service');
  handle = await startOrderService(config(), { logger: silent, host: '127.0.0.1', outboxPollIntervalMs: 200, maxBackoffMs: 1000 });
  client = createClient(OrderServiceClient, `localhost:${handle.grpcPort}`, gatewayCreds.credentials);
});

afterAll(async () => {
  client?.close();
  await handle?.stop();
  gatewayCreds?.certificates.close();
  await Promise.all([pg?.dispose(), kafka?.dispose()]);
});

function config(): OrderServiceConfig {
  return {
    LOG_LEVEL: 'silent', HEALTH_PORT: 0, ENDPOINT_DRAIN_MS: 0, SHUTDOWN_GRACE_MS: 5000, GRPC_PORT: 0, GRPC_ALLOWED_PEERS: ['api-gateway', 'payment-service'],
    TLS_CERT_FILE: serverCert.certFile, TLS_KEY_FILE: serverCert.keyFile, TLS_CA_FILE: ca.caFile,
    DATABASE_HOST: 'localhost', DATABASE_PORT: pg.port, DATABASE_NAME: db.database, DATABASE_USER: db.user,
    DATABASE_PASSWORD_FILE: db.passwordFile, DATABASE_CA_FILE: pg.caFile,
    ...kafkaConfig(kafka),
  };
}

function errorOf(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  return promise.then(() => {
    throw new Error('expected the call to fail');
  }, (err: grpc.ServiceError) => err);
}

const item = (productId: string, quantity: number, unitPrice: string) => ({ productId, quantity, unitPrice });

async function createOrder(owner: string, items = [item('sku-1', 3, '0.10')], currency = 'USD') {
  const res = await unary(client, 'createOrder', { userId: '', items, currency }, as(owner));
  return res.order!;
}

type Envelope = { eventId: string; type: string; orderId: string; payload: Record<string, unknown> };

describe('orders over gRPC', () => {
  test('create computes the total exactly; get returns it to its owner', async () => {
    const order = await createOrder(alice, [item('sku-1', 3, '0.10'), item('sku-2', 1, '19.99'), item('sku-3', 7, '0.7')]);
    // 0.30 + 19.99 + 4.90: floating point would give 25.189999...
    expect(order).toMatchObject({ userId: alice, total: '25.19', currency: 'USD', status: 'pending' });
    expect(order.items).toEqual([item('sku-1', 3, '0.10'), item('sku-2', 1, '19.99'), item('sku-3', 7, '0.70')]);
    expect((await unary(client, 'getOrder', { id: order.id }, as(alice))).order).toEqual(order);
    const yen = await createOrder(alice, [item('sku-jp', 3, '100')], 'JPY');
    expect(yen.total).toBe('300');
    expect((await createOrder(alice, [item('a', 3, '0.1')])).total).toBe('0.30');
  });

  test('another user\'s order is NOT_FOUND, like a missing one; admins see it', async () => {
    const order = await createOrder(alice);
    for (const call of [
      unary(client, 'getOrder', { id: order.id }, as(bob)),
      unary(client, 'cancelOrder', { id: order.id }, as(bob)),
      unary(client, 'getOrder', { id: randomUUID() }, as(alice)),
    ]) {
      const err = await errorOf(call);
      expect(err.code).toBe(Status.NOT_FOUND);
    }
    expect((await unary(client, 'getOrder', { id: order.id }, as(admin, ['admin']))).order?.id).toBe(order.id);
    expect((await errorOf(unary(client, 'getOrder', { id: order.id }, { subject: undefined, roles: [] }))).code).toBe(Status.UNAUTHENTICATED);
    const denied = await errorOf(unary(client, 'createOrder', { userId: alice, items: [item('x', 1, '1')], currency: 'USD' }, as(bob)));
    expect(denied.code).toBe(Status.PERMISSION_DENIED);
  });

  test('list pages through own orders newest first; admins list everyone\'s', async () => {
    const carol = randomUUID();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await createOrder(carol, [item(`p${i}`, 1, `${i + 1}.00`)])).id);
    const seen: string[] = [];
    let token = '';
    do {
      const page = await unary(client, 'listOrders', { userId: '', pageSize: 3, pageToken: token }, as(carol));
      expect(page.orders.length).toBeLessThanOrEqual(3);
      for (const o of page.orders) {
        expect(o.userId).toBe(carol);
        seen.push(o.id);
      }
      token = page.nextPageToken;
    } while (token);
    expect(seen).toEqual([...ids].reverse());
    const all = await unary(client, 'listOrders', { userId: '', pageSize: 100, pageToken: '' }, as(admin, ['admin']));
    expect(new Set(all.orders.map((o) => o.userId)).size).toBeGreaterThan(1);
    expect((await errorOf(unary(client, 'listOrders', { userId: alice, pageSize: 1, pageToken: '' }, as(carol)))).code).toBe(Status.PERMISSION_DENIED);
  });

  test('cancel: pending -> cancelled; illegal transitions are FAILED_PRECONDITION', async () => {
    const order = await createOrder(alice);
    const cancelled = (await unary(client, 'cancelOrder', { id: order.id }, as(alice))).order!;
    expect(cancelled.status).toBe('cancelled');
    const again = await errorOf(unary(client, 'cancelOrder', { id: order.id }, as(alice)));
    expect({ code: again.code, details: again.details }).toEqual({ code: Status.FAILED_PRECONDITION, details: `order ${order.id} is cancelled; it cannot become cancelled` });
    const fulfil = await errorOf(unary(client, 'fulfillOrder', { id: order.id }, as(admin, ['admin'])));
    expect(fulfil.code).toBe(Status.FAILED_PRECONDITION);
    const pending = await createOrder(alice);
    expect((await errorOf(unary(client, 'fulfillOrder', { id: pending.id }, as(admin, ['admin'])))).code).toBe(Status.FAILED_PRECONDITION);
    expect((await errorOf(unary(client, 'fulfillOrder', { id: pending.id }, as(alice)))).code).toBe(Status.PERMISSION_DENIED);
  });

  test('bad input is INVALID_ARGUMENT naming the field', async () => {
    const cases: [Parameters<typeof createOrder>[1], string, string][] = [
      [[], 'USD', 'items: must contain at least one item'],
      [[item('', 1, '1.00')], 'USD', 'items[0].product_id: is required'],
      [[item('a', 1, '1.00'), item('b', 0, '1.00')], 'USD', 'items[1].quantity: must be a whole number of at least 1'],
      [[item('a', -2, '1.00')], 'USD', 'items[0].quantity: must be a whole number of at least 1'],
      [[item('a', 1001, '1.00')], 'USD', 'items[0].quantity: must be at most 1000'],
      [[item('a\u0085b', 1, '1.00')], 'USD', 'items[0].product_id: must not contain control characters nor start or end with whitespace'],
      [[item(' sku', 1, '1.00')], 'USD', 'items[0].product_id: must not contain control characters nor start or end with whitespace'],
      [[item('é'.repeat(101), 1, '1.00')], 'USD', 'items[0].product_id: must be at most 100 characters'],
      [[item('a', 1, '100000.00')], 'USD', 'items[0].unit_price: must have at most 5 integer digits'],
      [[item('a', 1, '01.00')], 'USD', 'items[0].unit_price: must not have leading zeros'],
      [[item('a', 1, '-1.00')], 'USD', 'items[0].unit_price: must not be negative'],
      [[item('a', 1, '0')], 'USD', 'items[0].unit_price: must be greater than zero'],
      [[item('a', 1, '1e3')], 'USD', 'items[0].unit_price: must be a decimal number such as 19.99'],
      [[item('a', 1, 'abc')], 'USD', 'items[0].unit_price: must be a decimal number such as 19.99'],
      [[item('a', 1, '1.001')], 'USD', 'items[0].unit_price: must have at most 2 decimal places in USD'],
      [[item('a', 1, '1.5')], 'JPY', 'items[0].unit_price: must be a whole number in JPY'],
      [[item('a', 1, '')], 'USD', 'items[0].unit_price: is required'],
      [[item('a', 1, '1.00')], 'usd', 'currency: must be an upper-case ISO 4217 code such as USD'],
      [[item('a', 1, '1.00')], 'XXX', 'currency: is not an accepted currency (one of AUD, CAD, CHF, DKK, EUR, GBP, JPY, NOK, SEK, USD)'],
      [[item('a', 1, '1.00')], '', 'currency: is required'],
    ];
    for (const [items, currency, details] of cases) {
      const err = await errorOf(createOrder(alice, items, currency));
      expect({ code: err.code, details: err.details }).toEqual({ code: Status.INVALID_ARGUMENT, details });
    }
    const id = await errorOf(unary(client, 'getOrder', { id: 'nope' }, as(alice)));
    expect(id.details).toBe('id: must be a UUID');
    const token = await errorOf(unary(client, 'listOrders', { userId: '', pageSize: 1, pageToken: 'garbage' }, as(alice)));
    expect(token.details).toBe('page_token: is not a token returned by ListOrders');
    // Lengths are code points, as the public document counts them: 100 emoji are 200 UTF-16 units.
    const emoji = await createOrder(alice, [item('😀'.repeat(100), 1, '1.00')]);
    expect(emoji.items[0]?.productId).toBe('😀'.repeat(100));
    // SQL in a text field is data.
    const sql = await createOrder(alice, [item("x'); DROP TABLE orders; --", 1, '1.00')]);
    expect((await unary(client, 'getOrder', { id: sql.id }, as(alice))).order?.items[0]?.productId).toBe("x'); DROP TABLE orders; --");
  });
});

describe('payment holds (payment-service only)', () => {
  let paymentCreds: ClientCredentials;
  let asPayments: OrderServiceClient;

  beforeAll(async () => {
    const cert = await issueServiceCertificate(ca, 'payment-service');
    paymentCreds = await createClientCredentials({ certFile: cert.certFile, keyFile: cert.keyFile, caFile: ca.caFile }, 'order-service');
    asPayments = createClient(OrderServiceClient, `localhost:${handle.grpcPort}`, paymentCreds.credentials);
  });

  afterAll(() => {
    asPayments?.close();
    paymentCreds?.certificates.close();
  });

  const hold = (c: OrderServiceClient, orderId: string, paymentId: string, amount = '0.30', owner = alice) =>
    unary(c, 'holdForPayment', { orderId, paymentId, amount, currency: 'USD' }, as(owner));

  test('a held order cannot be cancelled nor held by another payment; payment.failed releases it, once', async () => {
    const order = await createOrder(alice);
    const payment = randomUUID();
    expect((await hold(asPayments, order.id, payment)).order?.status).toBe('paying');
    // Repeating the hold for the same payment (a retry, recovery) answers the order.
    expect((await hold(asPayments, order.id, payment)).order?.status).toBe('paying');
    const cancel = await errorOf(unary(client, 'cancelOrder', { id: order.id }, as(alice)));
    expect({ code: cancel.code, details: cancel.details }).toEqual({ code: Status.FAILED_PRECONDITION, details: `order ${order.id} is being paid; it cannot become cancelled unless that payment fails` });
    const other = await errorOf(hold(asPayments, order.id, randomUUID()));
    expect(other.code).toBe(Status.FAILED_PRECONDITION);
    expect(other.details).toContain('another payment of this order is in progress');

    const failed = newEvent('payment.failed', order.id, { paymentId: payment, userId: alice, amount: { amount: '0.30', currency: 'USD' }, provider: 'stripe', failureReason: 'card_declined' });
    const apply = () => unary(asPayments, 'applyPaymentEvent', { eventJson: JSON.stringify(failed) });
    expect((await apply()).outcome).toBe('released');
    expect((await apply()).outcome).toBe('duplicate');
    expect((await unary(client, 'getOrder', { id: order.id }, as(alice))).order?.status).toBe('pending');
    expect((await unary(client, 'cancelOrder', { id: order.id }, as(alice))).order?.status).toBe('cancelled');
    // A cancelled order is not held.
    expect((await errorOf(hold(asPayments, order.id, randomUUID()))).details).toContain('it is cancelled');
  });

  test('payment.captured of the holding payment marks it paid; a capture of another payment changes nothing', async () => {
    const order = await createOrder(alice);
    const payment = randomUUID();
    await hold(asPayments, order.id, payment);
    const base = { userId: alice, amount: { amount: '0.30', currency: 'USD' }, provider: 'stripe', providerReference: 'pi_1' };
    const stray = newEvent('payment.captured', order.id, { ...base, paymentId: randomUUID() });
    expect((await unary(asPayments, 'applyPaymentEvent', { eventJson: JSON.stringify(stray) })).outcome).toBe('ignored');
    expect((await unary(client, 'getOrder', { id: order.id }, as(alice))).order?.status).toBe('paying');
    const captured = newEvent('payment.captured', order.id, { ...base, paymentId: payment });
    expect((await unary(asPayments, 'applyPaymentEvent', { eventJson: JSON.stringify(captured) })).outcome).toBe('paid');
    expect((await unary(client, 'getOrder', { id: order.id }, as(alice))).order?.status).toBe('paid');
  });

  test('only payment-service may hold orders or hand over events; the payer must own the order and pay its total', async () => {
    const order = await createOrder(alice);
    expect((await errorOf(hold(client, order.id, randomUUID()))).code).toBe(Status.PERMISSION_DENIED);
    expect((await errorOf(unary(client, 'applyPaymentEvent', { eventJson: '{}' }))).code).toBe(Status.PERMISSION_DENIED);
    expect((await errorOf(hold(asPayments, order.id, randomUUID(), '0.30', bob))).code).toBe(Status.NOT_FOUND);
    expect((await errorOf(hold(asPayments, order.id, randomUUID(), '0.31'))).code).toBe(Status.FAILED_PRECONDITION);
    expect((await errorOf(unary(asPayments, 'applyPaymentEvent', { eventJson: '{"type":"payment.captured"}' }))).code).toBe(Status.INVALID_ARGUMENT);
    expect((await unary(client, 'getOrder', { id: order.id }, as(alice))).order?.status).toBe('pending');
  });
});

describe('events', () => {
  test('each state change lands on order-events in order, keyed by order id, valid against the schema', async () => {
    const order = await createOrder(bob);
    await unary(client, 'cancelOrder', { id: order.id }, as(bob));
    const messages = await readTopic(kafka, ORDER_EVENTS_TOPIC, (m) => m.filter((x) => x.key === order.id).length >= 2);
    const mine = messages.filter((m) => m.key === order.id);
    expect(mine.map((m) => (m.value as Envelope).type)).toEqual(['order.created', 'order.cancelled']);
    for (const m of messages) expect(validateEvent(ORDER_EVENTS_TOPIC, m.value)).toEqual([]);
    expect((mine[0]!.value as Envelope).payload).toMatchObject({ userId: bob, total: { amount: '0.30', currency: 'USD' }, status: 'pending' });
  });

  test('the outbox survives Kafka being down: every order accepted, every event delivered after', async () => {
    await kafka.stop();
    const ids: string[] = [];
    try {
      for (let i = 0; i < 20; i++) ids.push((await createOrder(bob, [item(`down-${i}`, 1, '2.50')])).id);
    } finally {
      await kafka.start();
    }
    const wanted = new Set(ids);
    const messages = await readTopic(kafka, ORDER_EVENTS_TOPIC, (m) => new Set(m.filter((x) => wanted.has(x.key)).map((x) => x.key)).size === ids.length);
    const created = messages.filter((m) => wanted.has(m.key) && (m.value as Envelope).type === 'order.created');
    expect(new Set(created.map((m) => m.key))).toEqual(wanted);
    for (const m of created) expect(validateEvent(ORDER_EVENTS_TOPIC, m.value)).toEqual([]);
  });

  test('payment.captured delivered twice marks the order paid once and enqueues one order.paid', async () => {
    const order = await createOrder(alice, [item('pay-me', 2, '5.25')]);
    const captured = newEvent('payment.captured', order.id, { paymentId: 'pay_123', amount: { amount: '10.50', currency: 'USD' } });
    expect(validateEvent(PAYMENT_EVENTS_TOPIC, captured)).toEqual([]);
    const producer = createKafkaProducer(kafkaConfig(kafka), { clientId: 'fake-payment-service' });
    try {
      for (let i = 0; i < 2; i++) {
        await producer.send({ messages: [{ topic: PAYMENT_EVENTS_TOPIC, key: order.id, value: JSON.stringify(captured) }] });
      }
    } finally {
      await producer.close();
    }
    const messages = await readTopic(kafka, ORDER_EVENTS_TOPIC, (m) => m.some((x) => x.key === order.id && (x.value as Envelope).type === 'order.paid'), { settleMs: 3000 });
    const paid = messages.filter((m) => m.key === order.id && (m.value as Envelope).type === 'order.paid');
    expect(paid).toHaveLength(1);
    expect((paid[0]!.value as Envelope).payload).toMatchObject({ paymentId: 'pay_123', paymentEventId: captured.eventId, total: { amount: '10.50', currency: 'USD' } });
    expect((await unary(client, 'getOrder', { id: order.id }, as(alice))).order?.status).toBe('paid');
    // paid -> fulfilled by an admin; a paid order can no longer be cancelled.
    expect((await errorOf(unary(client, 'cancelOrder', { id: order.id }, as(alice)))).code).toBe(Status.FAILED_PRECONDITION);
    expect((await unary(client, 'fulfillOrder', { id: order.id }, as(admin, ['admin']))).order?.status).toBe('fulfilled');
  });
});
