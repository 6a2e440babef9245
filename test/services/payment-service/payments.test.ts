/**
 * payment-service's payment domain against real PostgreSQL, Kafka (the outbox relay), a real
 * order-service (the orders it pays are held there before any charge) and stripe-mock (Stripe's
 * own API mock, driven through the official SDK); then the gRPC service's request validation
 * and access rules over mTLS.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import { PAYMENT_EVENTS_TOPIC, topicOf, validateEvent } from '../../../services/events';
import { PaymentServiceClient } from '../../../services/proto/gen/payment/v1/payment';
import { OrderServiceClient } from '../../../services/proto/gen/order/v1/order';
import { startOrderService } from '../../../services/order-service/src/service';
import type { OrderServiceHandle } from '../../../services/order-service/src/service';
import { Payments } from '../../../services/payment-service/src/payments';
import type { CreateInput, EventWriter } from '../../../services/payment-service/src/payments';
import { StripeProvider } from '../../../services/payment-service/src/provider';
import { orderGate, startPaymentService } from '../../../services/payment-service/src/service';
import type { PaymentServiceConfig, PaymentServiceHandle } from '../../../services/payment-service/src/service';
import {
  OutboxRelay, Status, createClient, createClientCredentials, createKafkaConsumer, createKafkaProducer, createLogger, createPostgres,
  enqueue, runMigrations, unary,
} from '../../../services/shared/src';
import type { ClientCredentials, KafkaConfig, KafkaMessage, Postgres } from '../../../services/shared/src';
import { Metrics } from '../../../services/shared/src';
import { createTestCa, issueServiceCertificate, startKafka, startPostgres, startStripeMock } from '../../harness';
import type { DatabaseAccess, IssuedCertificate, KafkaServer, PostgresServer, StripeMockServer, TestCa } from '../../harness';

const MIGRATIONS = join(__dirname, '..', '..', '..', 'services', 'payment-service', 'migrations');
const silent = createLogger({ service: 'payment-service', level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

let ca: TestCa;
let pg: PostgresServer;
let kafka: KafkaServer;
let db: DatabaseAccess;
let postgres: Postgres;
/** Answers like a real authorisation (requires_capture); stripe-mock's own fixture is a decline. */
let stripe: StripeMockServer;
let declining: StripeMockServer;
let secretKeyFile: string;
let relay: OutboxRelay;
let orderService: OrderServiceHandle;
/** order-service as the gateway calls it (customers create orders) and as payment-service does. */
let ordersAsGateway: OrderServiceClient;
let ordersAsPayments: OrderServiceClient;
const orderClientCreds: ClientCredentials[] = [];

function kafkaConfig(): KafkaConfig {
  return { KAFKA_BROKERS: [kafka.bootstrap], KAFKA_SASL_USERNAME: kafka.username, KAFKA_SASL_PASSWORD_FILE: kafka.passwordFile, KAFKA_CA_FILE: kafka.caFile };
}

beforeAll(async () => {
  ca = await createTestCa();
  [pg, kafka, stripe, declining] = await Promise.all([
    startPostgres({ ca }),
    startKafka({ ca, topics: [topicOf('payment-service')] }),
    startStripeMock({ fixtures: { payment_intent: { status: 'requires_capture', last_payment_error: null } } }),
    startStripeMock(),
  ]);
  db = await pg.createDatabase('payments');
  const ordersDb = await pg.createDatabase('orders');
  const orderCert = await issueServiceCertificate(ca, 'order-service');
  orderService = await startOrderService({
    LOG_LEVEL: 'silent', HEALTH_PORT: 0, ENDPOINT_DRAIN_MS: 0, SHUTDOWN_GRACE_MS: 5000, GRPC_PORT: 0, GRPC_ALLOWED_PEERS: ['api-gateway', 'payment-service'],
    TLS_CERT_FILE: orderCert.certFile, TLS_KEY_FILE: orderCert.keyFile, TLS_CA_FILE: ca.caFile,
    DATABASE_HOST: 'localhost', DATABASE_PORT: pg.port, DATABASE_NAME: ordersDb.database, DATABASE_USER: ordersDb.user,
    DATABASE_PASSWORD_FILE: ordersDb.passwordFile, DATABASE_CA_FILE: pg.caFile, ...kafkaConfig(),
  }, { logger: silent, host: '127.0.0.1', outboxPollIntervalMs: 100 });
  for (const [cn, set] of [['api-gateway', (c: OrderServiceClient) => (ordersAsGateway = c)], ['payment-service', (c: OrderServiceClient) => (ordersAsPayments = c)]] as const) {
    const cert = await issueServiceCertificate(ca, cn);
    const creds = await createClientCredentials({ certFile: cert.certFile, keyFile: cert.keyFile, caFile: ca.caFile }, 'order-service');
    orderClientCreds.push(creds);
    set(createClient(OrderServiceClient, `localhost:${orderService.grpcPort}`, creds.credentials));
  }
  secretKeyFile = join(pg.dir, 'stripe-secret-key');
  writeFileSync(secretKeyFile, 'sk_test_4eC39HqLyjWDarjtT1zdp7dc\n', { mode: 0o600 });
  postgres = createPostgres({
    DATABASE_HOST: 'localhost', DATABASE_PORT: pg.port, DATABASE_NAME: db.database, DATABASE_USER: db.user,
    DATABASE_PASSWORD_FILE: db.passwordFile, DATABASE_CA_FILE: pg.caFile,
  }, { logger: silent, applicationName: 'payment-service-test', max: 20 });
  await runMigrations({ pool: postgres.pool, dir: MIGRATIONS, migrationsTable: 'pgmigrations_payment_service', logger: silent });
  relay = new OutboxRelay({
    pool: postgres.pool, createProducer: () => createKafkaProducer(kafkaConfig(), { clientId: 'payment-service-outbox' }),
    logger: silent, registry: new Metrics().registry, pollIntervalMs: 100,
  });
  relay.start();
}, 120_000);

afterAll(async () => {
  await relay?.stop();
  ordersAsGateway?.close();
  ordersAsPayments?.close();
  for (const c of orderClientCreds) c.certificates.close();
  await orderService?.stop();
  await postgres?.close();
  await Promise.all([pg?.dispose(), kafka?.dispose(), stripe?.dispose(), declining?.dispose()]);
});

const writeEvent: EventWriter = (client, event) => enqueue(client, event);

function payments(server: { url: string } = stripe): Payments {
  return new Payments({
    pool: postgres.pool, provider: new StripeProvider({ apiBase: server.url, secretKeyFile, maxNetworkRetries: 0, timeoutMs: 3000 }),
    writeEvent, orders: orderGate(ordersAsPayments, silent), logger: silent,
  });
}

/** Authorises through stripe-mock but sends captures to `captureBase` (nothing listens there in the tests). */
function paymentsCapturingVia(captureBase: string): Payments {
  const good = new StripeProvider({ apiBase: stripe.url, secretKeyFile, maxNetworkRetries: 0, timeoutMs: 3000 });
  const bad = new StripeProvider({ apiBase: captureBase, secretKeyFile, maxNetworkRetries: 0, timeoutMs: 3000 });
  return new Payments({
    pool: postgres.pool,
    provider: { name: good.name, authorize: (r) => good.authorize(r), capture: (...a) => bad.capture(...a), refund: (...a) => good.refund(...a) },
    writeEvent, orders: orderGate(ordersAsPayments, silent), logger: silent,
  });
}

/** A pending order of `userId` at order-service totalling `amount`. */
async function newOrder(userId: string, amount: string, currency = 'USD'): Promise<string> {
  const { order } = await unary(ordersAsGateway, 'createOrder', { userId: '', items: [{ productId: 'sku-1', quantity: 1, unitPrice: amount }], currency }, { subject: userId });
  return order!.id;
}

async function orderStatus(orderId: string, userId: string): Promise<string> {
  return (await unary(ordersAsGateway, 'getOrder', { id: orderId }, { subject: userId })).order!.status;
}

/** A payment request for a new order of a new user (unless `overrides` name them). */
async function input(overrides: Partial<CreateInput> = {}): Promise<CreateInput> {
  const userId = overrides.userId ?? randomUUID();
  const amount = overrides.amount ?? '19.99';
  const currency = overrides.currency ?? 'USD';
  const orderId = overrides.orderId ?? await newOrder(userId, amount, currency);
  return { userId, orderId, amount, currency, paymentMethod: 'pm_card_visa', idempotencyKey: randomUUID(), ...overrides };
}

function errorOf(promise: Promise<unknown>): Promise<{ code: number; message: string; details?: string }> {
  return promise.then(() => {
    throw new Error('expected a failure');
  }, (err: { code: number; message: string; details?: string }) => err);
}

async function query<T extends object>(sql: string, params: unknown[] = []): Promise<T[]> {
  return (await postgres.pool.query(sql, params)).rows as T[];
}

/** Requests stripe-mock served for a PaymentIntent endpoint, from its own log. */
function calls(server: StripeMockServer, pattern: RegExp): number {
  return server.requests().filter((r) => pattern.test(r)).length;
}
const AUTHORIZE = /^POST \/v1\/payment_intents$/;
const CAPTURE = /^POST \/v1\/payment_intents\/[^/]+\/capture$/;

describe('Payments with Stripe (stripe-mock)', () => {
  test('a payment is authorised, then captured, with the provider reference; events are in the outbox', async () => {
    const req = await input();
    const payment = await payments().create(req);
    expect(payment).toMatchObject({ orderId: req.orderId, userId: req.userId, amount: '19.99', currency: 'USD', status: 'captured', provider: 'stripe' });
    expect(payment.providerReference).toMatch(/^pi_/);
    const events = await query<{ event_type: string; message_key: string; event: unknown }>('SELECT event_type, message_key, event FROM outbox WHERE message_key = $1 ORDER BY id', [req.orderId]);
    expect(events.map((e) => e.event_type)).toEqual(['payment.authorized', 'payment.captured']);
    for (const e of events) expect(validateEvent(PAYMENT_EVENTS_TOPIC, e.event)).toEqual([]);
    expect(events[1]!.event).toMatchObject({ orderId: req.orderId, payload: { paymentId: payment.id, amount: { amount: '19.99', currency: 'USD' }, providerReference: payment.providerReference } });
  });

  test('a repeated key returns the stored payment without calling the provider again', async () => {
    const req = await input({ amount: '5.00' });
    const first = await payments().create(req);
    const before = calls(stripe, AUTHORIZE) + calls(stripe, CAPTURE);
    const again = await payments().create(req);
    expect(again).toEqual(first);
    expect(calls(stripe, AUTHORIZE) + calls(stripe, CAPTURE)).toBe(before);
  });

  test('the same key with a different body is ALREADY_EXISTS', async () => {
    const req = await input();
    await payments().create(req);
    const err = await errorOf(payments().create({ ...req, amount: '20.00' }));
    expect(err.code).toBe(Status.ALREADY_EXISTS);
    expect(err.message).toContain('idempotency_key');
    expect(await query('SELECT 1 FROM payments WHERE idempotency_key = $1', [req.idempotencyKey])).toHaveLength(1);
  });

  test('10 concurrent requests with one key charge once', async () => {
    const req = await input({ amount: '42.00' });
    const [authBefore, captureBefore] = [calls(stripe, AUTHORIZE), calls(stripe, CAPTURE)];
    const results = await Promise.all(Array.from({ length: 10 }, () => payments().create(req)));
    expect(new Set(results.map((p) => p.id)).size).toBe(1);
    expect(results.every((p) => p.status === 'captured')).toBe(true);
    const rows = await query<{ provider_reference: string }>('SELECT provider_reference FROM payments WHERE order_id = $1', [req.orderId]);
    expect(rows).toHaveLength(1);
    // stripe-mock's own request log: one authorisation and one capture reached the provider.
    expect(calls(stripe, AUTHORIZE) - authBefore).toBe(1);
    expect(calls(stripe, CAPTURE) - captureBefore).toBe(1);
    const events = await query<{ event_type: string }>('SELECT event_type FROM outbox WHERE message_key = $1 ORDER BY id', [req.orderId]);
    expect(events.map((e) => e.event_type)).toEqual(['payment.authorized', 'payment.captured']);
  });

  test('a second payment for a paid order is refused, also under concurrency', async () => {
    const userId = randomUUID();
    const orderId = await newOrder(userId, '19.99');
    await payments().create(await input({ orderId, userId }));
    const err = await errorOf(payments().create(await input({ orderId, userId })));
    expect(err.code).toBe(Status.FAILED_PRECONDITION);
    expect(err.message).toContain('order_id');

    const racing = await newOrder(userId, '19.99');
    const requests = await Promise.all(Array.from({ length: 5 }, () => input({ orderId: racing, userId })));
    const outcomes = await Promise.allSettled(requests.map((r) => payments().create(r)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const rows = await query<{ status: string }>('SELECT status FROM payments WHERE order_id = $1', [racing]);
    expect(rows).toEqual([{ status: 'captured' }]);
  });

  test('a refusal by the provider fails the payment with the reason and a payment.failed event', async () => {
    const req = await input();
    const payment = await payments(declining).create(req);
    expect(payment.status).toBe('failed');
    expect(payment.failureReason).toContain('requires_payment_method');
    const events = await query<{ event: { type: string; payload: { failureReason: string } } }>('SELECT event FROM outbox WHERE message_key = $1', [req.orderId]);
    expect(events.map((e) => e.event.type)).toEqual(['payment.failed']);
    expect(validateEvent(PAYMENT_EVENTS_TOPIC, events[0]!.event)).toEqual([]);
    // A failed payment releases its hold on the order (handed to order-service): another key can pay it.
    expect(await orderStatus(req.orderId, req.userId)).toBe('pending');
    expect((await payments().create(await input({ orderId: req.orderId, userId: req.userId }))).status).toBe('captured');
  });

  test('the order is held before any charge: a cancelled order is refused with nothing charged, a paid one ends paid', async () => {
    const userId = randomUUID();
    const orderId = await newOrder(userId, '11.00');
    await unary(ordersAsGateway, 'cancelOrder', { id: orderId }, { subject: userId });
    const before = calls(stripe, AUTHORIZE);
    const req = await input({ orderId, userId, amount: '11.00' });
    const err = await errorOf(payments().create(req));
    expect(err.code).toBe(Status.FAILED_PRECONDITION);
    expect(err.message).toMatch(/^order_id: .* cannot be paid: it is cancelled$/);
    expect(calls(stripe, AUTHORIZE)).toBe(before);
    expect(await query('SELECT 1 FROM payments WHERE order_id = $1', [orderId])).toEqual([]);

    const paid = await payments().create(await input({ amount: '12.00', userId }));
    expect(await orderStatus(paid.orderId, userId)).toBe('paid');
    const cancel = await errorOf(unary(ordersAsGateway, 'cancelOrder', { id: paid.orderId }, { subject: userId }));
    expect(cancel.code).toBe(Status.FAILED_PRECONDITION);
  });

  test('recovery finishes a payment left authorized (its capture never answered) with the same capture key', async () => {
    const req = await input({ amount: '13.00' });
    // The capture cannot reach the provider: the authorisation is recorded, the order stays held.
    const err = await errorOf(paymentsCapturingVia('http://127.0.0.1:9').create(req));
    expect(err.code).toBe(Status.UNAVAILABLE);
    const [row] = await query<{ id: string; status: string }>('SELECT id, status FROM payments WHERE idempotency_key = $1', [req.idempotencyKey]);
    expect(row!.status).toBe('authorized');
    expect(await orderStatus(req.orderId, req.userId)).toBe('paying');

    const captures = () => calls(stripe, CAPTURE);
    const before = captures();
    expect(await payments().recoverUnfinished({ olderThanMs: 0, idempotencyWindowMs: 3600_000 })).toBeGreaterThanOrEqual(1);
    expect((await payments().get(row!.id))!.status).toBe('captured');
    expect(captures() - before).toBe(1);
    expect(await orderStatus(req.orderId, req.userId)).toBe('paid');
    // Nothing left to recover for it.
    await payments().recoverUnfinished({ olderThanMs: 0, idempotencyWindowMs: 3600_000 });
    expect(captures() - before).toBe(1);
  });

  test('with the provider unreachable the payment stays pending; a retry with the same key completes it', async () => {
    const req = await input();
    const err = await errorOf(payments({ url: 'http://127.0.0.1:9' }).create(req));
    expect(err.code).toBe(Status.UNAVAILABLE);
    expect(err.message).toContain('retry with the same Idempotency-Key');
    expect(await query('SELECT status FROM payments WHERE idempotency_key = $1', [req.idempotencyKey])).toEqual([{ status: 'pending' }]);
    expect((await payments().create(req)).status).toBe('captured');
  });

  test('refund: a captured payment is refunded once; other states are refused', async () => {
    const paid = await payments().create(await input());
    const refunded = await payments().refund(paid.id);
    expect(refunded).toMatchObject({ id: paid.id, status: 'refunded' });
    expect(refunded!.refundReference).toMatch(/^re_/);
    const again = await payments().refund(paid.id);
    expect(again).toEqual(refunded);
    const events = await query<{ event_type: string }>('SELECT event_type FROM outbox WHERE message_key = $1 ORDER BY id', [paid.orderId]);
    expect(events.map((e) => e.event_type)).toEqual(['payment.authorized', 'payment.captured', 'payment.refunded']);

    const failed = await payments(declining).create(await input());
    expect((await errorOf(payments().refund(failed.id))).code).toBe(Status.FAILED_PRECONDITION);
    expect(await payments().refund(randomUUID())).toBeUndefined();
  });

  test('zero-decimal currencies keep their canonical amount', async () => {
    const payment = await payments().create(await input({ amount: '300', currency: 'JPY' }));
    expect(payment).toMatchObject({ amount: '300', currency: 'JPY', status: 'captured' });
  });

  test('the events reach the payment-events topic keyed by order id and valid against the schema', async () => {
    const req = await input({ amount: '7.50' });
    const payment = await payments().create(req);
    const messages = await readTopic(PAYMENT_EVENTS_TOPIC, (m) => m.filter((x) => x.key === req.orderId).length >= 2);
    const mine = messages.filter((m) => m.key === req.orderId);
    expect(mine.map((m) => (m.value as { type: string }).type)).toEqual(['payment.authorized', 'payment.captured']);
    for (const m of messages) expect(validateEvent(PAYMENT_EVENTS_TOPIC, m.value)).toEqual([]);
    expect((mine[1]!.value as { payload: { paymentId: string } }).payload.paymentId).toBe(payment.id);
    expect(new Set(mine.map((m) => m.partition)).size).toBe(1);
  });
});

async function readTopic(topic: string, until: (m: { key: string; value: unknown; partition: number }[]) => boolean) {
  const consumer = createKafkaConsumer(kafkaConfig(), { clientId: 'payment-test-reader', groupId: `payment-test-${randomUUID()}` });
  const messages: { key: string; value: unknown; partition: number }[] = [];
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', maxWaitTime: 200 });
  try {
    await new Promise<void>((resolve, reject) => {
      const giveUp = setTimeout(() => reject(new Error(`gave up reading ${topic}: ${messages.length} messages`)), 60_000);
      stream.on('data', (m: KafkaMessage) => {
        messages.push({ key: m.key, value: JSON.parse(m.value) as unknown, partition: m.partition });
        if (until(messages)) {
          clearTimeout(giveUp);
          resolve();
        }
      });
      stream.on('error', reject);
    });
    return messages;
  } finally {
    await stream.close().catch(() => undefined);
    await new Promise<void>((resolve) => consumer.close(true, () => resolve()));
  }
}

describe('payment.v1.PaymentService over gRPC', () => {
  let handle: PaymentServiceHandle;
  let client: PaymentServiceClient;
  let gatewayCreds: ClientCredentials;
  let serverCert: IssuedCertificate;

  const serviceConfig = (orderServiceAddr: string): PaymentServiceConfig => ({
    LOG_LEVEL: 'silent', HEALTH_PORT: 0, ENDPOINT_DRAIN_MS: 0, SHUTDOWN_GRACE_MS: 5000, GRPC_PORT: 0, GRPC_ALLOWED_PEERS: ['api-gateway'],
    TLS_CERT_FILE: serverCert.certFile, TLS_KEY_FILE: serverCert.keyFile, TLS_CA_FILE: ca.caFile,
    DATABASE_HOST: 'localhost', DATABASE_PORT: pg.port, DATABASE_NAME: db.database, DATABASE_USER: db.user,
    DATABASE_PASSWORD_FILE: db.passwordFile, DATABASE_CA_FILE: pg.caFile, ...kafkaConfig(),
    ORDER_SERVICE_ADDR: orderServiceAddr, STRIPE_API_BASE: stripe.url, STRIPE_SECRET_KEY_FILE: secretKeyFile,
    PAYMENT_RECOVERY_INTERVAL_MS: 30_000, PAYMENT_RECOVERY_AFTER_MS: 60_000,
  });

  beforeAll(async () => {
    serverCert = await issueServiceCertificate(ca, 'payment-service');
    const gatewayCert = await issueServiceCertificate(ca, 'api-gateway');
    gatewayCreds = await createClientCredentials({ certFile: gatewayCert.certFile, keyFile: gatewayCert.keyFile, caFile: ca.caFile }, 'payment-service');
    handle = await startPaymentService(serviceConfig(`localhost:${orderService.grpcPort}`), { logger: silent, host: '127.0.0.1', outboxPollIntervalMs: 100 });
    client = createClient(PaymentServiceClient, `localhost:${handle.grpcPort}`, gatewayCreds.credentials);
  });

  afterAll(async () => {
    client?.close();
    gatewayCreds?.certificates.close();
    await handle?.stop();
  });

  const subject = randomUUID();
  const valid = { orderId: randomUUID() as string, userId: '', amount: '19.99', currency: 'USD', idempotencyKey: 'key-1', paymentMethod: 'pm_card_visa' };

  test('bad input is INVALID_ARGUMENT naming the field', async () => {
    const cases: [Partial<typeof valid>, string][] = [
      [{ amount: '-5.00' }, 'amount: must not be negative'],
      [{ amount: '0' }, 'amount: must be greater than zero'],
      [{ amount: '0.00' }, 'amount: must be greater than zero'],
      [{ amount: 'ten' }, 'amount: must be a decimal number such as 19.99'],
      [{ amount: '1e3' }, 'amount: must be a decimal number such as 19.99'],
      [{ amount: '19.999' }, 'amount: must have at most 2 decimal places in USD'],
      [{ amount: '1.5', currency: 'JPY' }, 'amount: must be a whole number in JPY'],
      [{ amount: '' }, 'amount: is required'],
      [{ currency: 'usd' }, 'currency: must be an upper-case ISO 4217 code such as USD'],
      [{ currency: 'XXX' }, 'currency: is not an accepted currency (one of AUD, CAD, CHF, DKK, EUR, GBP, JPY, NOK, SEK, USD)'],
      [{ orderId: 'nope' }, 'order_id: must be a UUID'],
      [{ idempotencyKey: '' }, 'idempotency_key: is required'],
      [{ idempotencyKey: 'has space' }, 'idempotency_key: must be 1..255 printable ASCII characters without spaces'],
      [{ paymentMethod: '' }, 'payment_method: is required'],
      [{ amount: '007.50' }, 'amount: must not have leading zeros'],
    ];
    for (const [change, details] of cases) {
      const err = await errorOf(unary(client, 'createPayment', { ...valid, ...change }, { subject })) as grpc.ServiceError;
      expect({ code: err.code, details: err.details }).toEqual({ code: Status.INVALID_ARGUMENT, details });
    }
  });

  test('calls without a user are UNAUTHENTICATED; another user_id is PERMISSION_DENIED', async () => {
    expect((await errorOf(unary(client, 'createPayment', valid))).code).toBe(Status.UNAUTHENTICATED);
    expect((await errorOf(unary(client, 'createPayment', { ...valid, userId: randomUUID() }, { subject }))).code).toBe(Status.PERMISSION_DENIED);
  });

  test('with order-service unreachable a new payment is UNAVAILABLE and nothing is charged', async () => {
    // Nothing listens on port 9.
    const isolated = await startPaymentService(serviceConfig('localhost:9'), { logger: silent, host: '127.0.0.1', outboxPollIntervalMs: 100 });
    const isolatedClient = createClient(PaymentServiceClient, `localhost:${isolated.grpcPort}`, gatewayCreds.credentials);
    try {
      const before = calls(stripe, AUTHORIZE);
      const err = await errorOf(unary(isolatedClient, 'createPayment', valid, { subject }));
      expect(err.code).toBe(Status.UNAVAILABLE);
      expect(calls(stripe, AUTHORIZE)).toBe(before);
    } finally {
      isolatedClient.close();
      await isolated.stop();
    }
  });

  test('an amount or currency other than the order\'s is FAILED_PRECONDITION naming the field (well-formed, but not this order\'s)', async () => {
    const orderId = await newOrder(subject, '19.99');
    const amount = await errorOf(unary(client, 'createPayment', { ...valid, orderId, amount: '19.98', idempotencyKey: randomUUID() }, { subject })) as grpc.ServiceError;
    expect({ code: amount.code, details: amount.details }).toEqual({ code: Status.FAILED_PRECONDITION, details: "amount: must equal the order's total (19.99 USD)" });
    const currency = await errorOf(unary(client, 'createPayment', { ...valid, orderId, currency: 'EUR', idempotencyKey: randomUUID() }, { subject })) as grpc.ServiceError;
    expect({ code: currency.code, details: currency.details }).toEqual({ code: Status.FAILED_PRECONDITION, details: "currency: must be the order's currency (USD)" });
    const { payment } = await unary(client, 'createPayment', { ...valid, orderId, idempotencyKey: randomUUID() }, { subject });
    expect(payment?.status).toBe('captured');
  });

  test('a repeated key of a finished payment is answered from the database', async () => {
    const req = await input({ userId: subject });
    const stored = await payments().create(req);
    const { payment } = await unary(client, 'createPayment', { ...req, userId: '' }, { subject });
    expect(payment).toMatchObject({ id: stored.id, status: 'captured', amount: req.amount, providerReference: stored.providerReference });
    const err = await errorOf(unary(client, 'createPayment', { ...req, userId: '', amount: '1.00' }, { subject }));
    expect(err.code).toBe(Status.ALREADY_EXISTS);
  });

  test('GetPayment: own payment, admins any; another user\'s is NOT_FOUND; refunds need admin', async () => {
    const stored = await payments().create(await input({ userId: subject }));
    expect((await unary(client, 'getPayment', { id: stored.id }, { subject })).payment?.id).toBe(stored.id);
    const other = await errorOf(unary(client, 'getPayment', { id: stored.id }, { subject: randomUUID() }));
    const absent = await errorOf(unary(client, 'getPayment', { id: randomUUID() }, { subject }));
    expect([other.code, absent.code]).toEqual([Status.NOT_FOUND, Status.NOT_FOUND]);
    expect((await unary(client, 'getPayment', { id: stored.id }, { subject: randomUUID(), roles: ['admin'] })).payment?.id).toBe(stored.id);

    expect((await errorOf(unary(client, 'refundPayment', { id: stored.id }, { subject }))).code).toBe(Status.PERMISSION_DENIED);
    const { payment } = await unary(client, 'refundPayment', { id: stored.id }, { subject: randomUUID(), roles: ['admin'] });
    expect(payment).toMatchObject({ id: stored.id, status: 'refunded' });
    expect(payment?.refundReference).toMatch(/^re_/);
  });

  test('health port: ready, and the gRPC histogram is exported', async () => {
    const ready = await fetch(`http://127.0.0.1:${handle.healthPort}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${handle.healthPort}/metrics`)).text();
    expect(metrics).toContain('grpc_server_handling_seconds_bucket{le="0.2",grpc_service="payment.v1.PaymentService",grpc_method="GetPayment",grpc_code="OK"}');
  });
});
