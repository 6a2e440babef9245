/**
 * payment-service's payment domain against real PostgreSQL, Kafka (the outbox relay) and
 * stripe-mock (Stripe's own API mock, driven through the official SDK); then the gRPC service's
 * request validation and access rules over mTLS. order-service is not in this repository yet:
 * the domain tests hand in orders as order-service would describe them.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import { PAYMENT_EVENTS_TOPIC, topicOf, validateEvent } from '../../../services/events';
import { PaymentServiceClient } from '../../../services/proto/gen/payment/v1/payment';
import { Payments } from '../../../services/payment-service/src/payments';
import type { CreateInput, EventWriter } from '../../../services/payment-service/src/payments';
import { StripeProvider } from '../../../services/payment-service/src/provider';
import { startPaymentService } from '../../../services/payment-service/src/service';
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
  await postgres?.close();
  await Promise.all([pg?.dispose(), kafka?.dispose(), stripe?.dispose(), declining?.dispose()]);
});

const writeEvent: EventWriter = (client, event) => enqueue(client, event);

function payments(server: { url: string } = stripe): Payments {
  return new Payments({ pool: postgres.pool, provider: new StripeProvider({ apiBase: server.url, secretKeyFile, maxNetworkRetries: 0, timeoutMs: 3000 }), writeEvent, logger: silent });
}

function input(overrides: Partial<CreateInput> = {}): CreateInput {
  return { userId: randomUUID(), orderId: randomUUID(), amount: '19.99', currency: 'USD', paymentMethod: 'pm_card_visa', idempotencyKey: randomUUID(), ...overrides };
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
    const req = input();
    const payment = await payments().create(req);
    expect(payment).toMatchObject({ orderId: req.orderId, userId: req.userId, amount: '19.99', currency: 'USD', status: 'captured', provider: 'stripe' });
    expect(payment.providerReference).toMatch(/^pi_/);
    const events = await query<{ event_type: string; message_key: string; event: unknown }>('SELECT event_type, message_key, event FROM outbox WHERE message_key = $1 ORDER BY id', [req.orderId]);
    expect(events.map((e) => e.event_type)).toEqual(['payment.authorized', 'payment.captured']);
    for (const e of events) expect(validateEvent(PAYMENT_EVENTS_TOPIC, e.event)).toEqual([]);
    expect(events[1]!.event).toMatchObject({ orderId: req.orderId, payload: { paymentId: payment.id, amount: { amount: '19.99', currency: 'USD' }, providerReference: payment.providerReference } });
  });

  test('a repeated key returns the stored payment without calling the provider again', async () => {
    const req = input({ amount: '5.00' });
    const first = await payments().create(req);
    const before = calls(stripe, AUTHORIZE) + calls(stripe, CAPTURE);
    const again = await payments().create(req);
    expect(again).toEqual(first);
    expect(calls(stripe, AUTHORIZE) + calls(stripe, CAPTURE)).toBe(before);
  });

  test('the same key with a different body is ALREADY_EXISTS', async () => {
    const req = input();
    await payments().create(req);
    const err = await errorOf(payments().create({ ...req, amount: '20.00' }));
    expect(err.code).toBe(Status.ALREADY_EXISTS);
    expect(err.message).toContain('idempotency_key');
    expect(await query('SELECT 1 FROM payments WHERE idempotency_key = $1', [req.idempotencyKey])).toHaveLength(1);
  });

  test('10 concurrent requests with one key charge once', async () => {
    const req = input({ amount: '42.00' });
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
    const orderId = randomUUID();
    const userId = randomUUID();
    await payments().create(input({ orderId, userId }));
    const err = await errorOf(payments().create(input({ orderId, userId })));
    expect(err.code).toBe(Status.FAILED_PRECONDITION);
    expect(err.message).toContain('order_id');

    const racing = randomUUID();
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => payments().create(input({ orderId: racing, userId }))));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const rows = await query<{ status: string }>('SELECT status FROM payments WHERE order_id = $1', [racing]);
    expect(rows).toEqual([{ status: 'captured' }]);
  });

  test('a refusal by the provider fails the payment with the reason and a payment.failed event', async () => {
    const req = input();
    const payment = await payments(declining).create(req);
    expect(payment.status).toBe('failed');
    expect(payment.failureReason).toContain('requires_payment_method');
    const events = await query<{ event: { type: string; payload: { failureReason: string } } }>('SELECT event FROM outbox WHERE message_key = $1', [req.orderId]);
    expect(events.map((e) => e.event.type)).toEqual(['payment.failed']);
    expect(validateEvent(PAYMENT_EVENTS_TOPIC, events[0]!.event)).toEqual([]);
    // A failed payment does not block the order: another key can pay it.
    expect((await payments().create(input({ orderId: req.orderId, userId: req.userId }))).status).toBe('captured');
  });

  test('with the provider unreachable the payment stays pending; a retry with the same key completes it', async () => {
    const req = input();
    const err = await errorOf(payments({ url: 'http://127.0.0.1:9' }).create(req));
    expect(err.code).toBe(Status.UNAVAILABLE);
    expect(err.message).toContain('retry with the same Idempotency-Key');
    expect(await query('SELECT status FROM payments WHERE idempotency_key = $1', [req.idempotencyKey])).toEqual([{ status: 'pending' }]);
    expect((await payments().create(req)).status).toBe('captured');
  });

  test('refund: a captured payment is refunded once; other states are refused', async () => {
    const paid = await payments().create(input());
    const refunded = await payments().refund(paid.id);
    expect(refunded).toMatchObject({ id: paid.id, status: 'refunded' });
    expect(refunded!.refundReference).toMatch(/^re_/);
    const again = await payments().refund(paid.id);
    expect(again).toEqual(refunded);
    const events = await query<{ event_type: string }>('SELECT event_type FROM outbox WHERE message_key = $1 ORDER BY id', [paid.orderId]);
    expect(events.map((e) => e.event_type)).toEqual(['payment.authorized', 'payment.captured', 'payment.refunded']);

    const failed = await payments(declining).create(input());
    expect((await errorOf(payments().refund(failed.id))).code).toBe(Status.FAILED_PRECONDITION);
    expect(await payments().refund(randomUUID())).toBeUndefined();
  });

  test('zero-decimal currencies keep their canonical amount', async () => {
    const payment = await payments().create(input({ amount: '300', currency: 'JPY' }));
    expect(payment).toMatchObject({ amount: '300', currency: 'JPY', status: 'captured' });
  });

  test('the events reach the payment-events topic keyed by order id and valid against the schema', async () => {
    const req = input({ amount: '7.50' });
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

  beforeAll(async () => {
    serverCert = await issueServiceCertificate(ca, 'payment-service');
    const gatewayCert = await issueServiceCertificate(ca, 'api-gateway');
    gatewayCreds = await createClientCredentials({ certFile: gatewayCert.certFile, keyFile: gatewayCert.keyFile, caFile: ca.caFile }, 'payment-service');
    const config: PaymentServiceConfig = {
      LOG_LEVEL: 'silent', HEALTH_PORT: 0, SHUTDOWN_GRACE_MS: 5000, GRPC_PORT: 0, GRPC_ALLOWED_PEERS: ['api-gateway'],
      TLS_CERT_FILE: serverCert.certFile, TLS_KEY_FILE: serverCert.keyFile, TLS_CA_FILE: ca.caFile,
      DATABASE_HOST: 'localhost', DATABASE_PORT: pg.port, DATABASE_NAME: db.database, DATABASE_USER: db.user,
      DATABASE_PASSWORD_FILE: db.passwordFile, DATABASE_CA_FILE: pg.caFile, ...kafkaConfig(),
      // Nothing listens there: order-service is not part of this test (see the file comment).
      ORDER_SERVICE_ADDR: 'localhost:9', STRIPE_API_BASE: stripe.url, STRIPE_SECRET_KEY_FILE: secretKeyFile,
    };
    handle = await startPaymentService(config, { logger: silent, host: '127.0.0.1', outboxPollIntervalMs: 100 });
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
    const before = calls(stripe, AUTHORIZE);
    const err = await errorOf(unary(client, 'createPayment', valid, { subject }));
    expect(err.code).toBe(Status.UNAVAILABLE);
    expect(calls(stripe, AUTHORIZE)).toBe(before);
  });

  test('a repeated key of a finished payment is answered from the database', async () => {
    const req = input({ userId: subject });
    const stored = await payments().create(req);
    const { payment } = await unary(client, 'createPayment', { ...req, userId: '' }, { subject });
    expect(payment).toMatchObject({ id: stored.id, status: 'captured', amount: req.amount, providerReference: stored.providerReference });
    const err = await errorOf(unary(client, 'createPayment', { ...req, userId: '', amount: '1.00' }, { subject }));
    expect(err.code).toBe(Status.ALREADY_EXISTS);
  });

  test('GetPayment: own payment, admins any; another user\'s is NOT_FOUND; refunds need admin', async () => {
    const stored = await payments().create(input({ userId: subject }));
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
