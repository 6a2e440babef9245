/**
 * payment-service (spec: "Payment processing"): payment.v1.PaymentService over gRPC with mTLS,
 * PostgreSQL as the system of record, a payment provider adapter (Stripe), and the
 * payment-events outbox relayed to Kafka. Orders are read from order-service over gRPC mTLS.
 */
import { z } from 'zod';
import { OrderServiceClient } from '../../proto/gen/order/v1/order';
import { PaymentServiceService } from '../../proto/gen/payment/v1/payment';
import type { Payment } from '../../proto/gen/payment/v1/payment';
import { MoneyError, checkCurrency, formatAmount, parseAmount } from '../../events';
import {
  GrpcServer, Metrics, OutboxRelay, ServiceError, Status, commonEnv, createClient, createClientCredentials, createKafkaProducer,
  createLogger, createPostgres, databaseEnv, enqueue, fileVar, grpcServerEnv, grpcTargetVar, hasStatus, invalidArgument, kafkaEnv,
  loadConfig, runMigrations, startHealthServer, unary, Cleanups, startupGate, migrationsBeside,
} from '../../shared/src';
import type { CallContext, Logger, ServiceHandlers } from '../../shared/src';
import { Payments, keyReused, requestFingerprint } from './payments';
import type { PaymentRow } from './payments';
import { DEFAULT_STRIPE_API_BASE, StripeProvider } from './provider';
import type { PaymentProvider } from './provider';

export const SERVICE_NAME = 'payment-service';
/** The gateway serves the payment API. */
export const DEFAULT_ALLOWED_PEERS = ['api-gateway'] as const;
export const ADMIN_ROLE = 'admin';
// choice: order-service answers from its own database; 3 s leaves room in the gateway's deadline.
const ORDER_LOOKUP_TIMEOUT_MS = 3_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Printable ASCII without spaces: keys travel in HTTP headers and logs.
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const PAYMENT_METHOD = /^[A-Za-z0-9_]{1,255}$/;

export const paymentServiceEnvSchema = z.object({
  ...commonEnv(SERVICE_NAME),
  ...grpcServerEnv(SERVICE_NAME, DEFAULT_ALLOWED_PEERS),
  ...databaseEnv,
  ...kafkaEnv,
  ORDER_SERVICE_ADDR: grpcTargetVar(),
  STRIPE_API_BASE: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://api.stripe.com' }).optional().default(DEFAULT_STRIPE_API_BASE),
  ),
  STRIPE_SECRET_KEY_FILE: fileVar(),
});

export type PaymentServiceConfig = z.infer<typeof paymentServiceEnvSchema>;

export function loadPaymentServiceConfig(env: Readonly<Record<string, string | undefined>> = process.env): PaymentServiceConfig {
  return loadConfig(paymentServiceEnvSchema, env);
}

export interface PaymentServiceOptions {
  readonly logger?: Logger;
  /** Bind address of both ports (tests use 127.0.0.1). */
  readonly host?: string;
  readonly certRefreshIntervalMs?: number;
  readonly migrationsDir?: string;
  /** Relay poll interval (tests shorten it). */
  readonly outboxPollIntervalMs?: number;
}

export interface PaymentServiceHandle {
  readonly grpcPort: number;
  readonly healthPort: number;
  readonly metrics: Metrics;
  stop(): Promise<void>;
}

const defaultMigrationsDir = (): string => migrationsBeside(__dirname);

export function toProto(row: PaymentRow): Payment {
  return {
    id: row.id, orderId: row.orderId, userId: row.userId, amount: row.amount, currency: row.currency, status: row.status,
    createdAt: row.createdAt, updatedAt: row.updatedAt, providerReference: row.providerReference ?? '',
    failureReason: row.failureReason ?? '', refundReference: row.refundReference ?? '',
  };
}

function checkUuid(raw: string, field: string): string {
  if (raw === '') throw invalidArgument(field, 'is required');
  if (!UUID.test(raw)) throw invalidArgument(field, 'must be a UUID');
  return raw.toLowerCase();
}

/** The end user of the call (x-subject, set by the gateway); payments are always on someone's behalf. */
function subjectOf(ctx: CallContext): string {
  if (!ctx.subject || !UUID.test(ctx.subject)) throw new ServiceError(Status.UNAUTHENTICATED, 'x-subject: the call carries no user');
  return ctx.subject.toLowerCase();
}

function money<T>(field: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof MoneyError) throw invalidArgument(field, err.problem);
    throw err;
  }
}

function paymentNotFound(id: string): ServiceError {
  return new ServiceError(Status.NOT_FOUND, `payment ${id} not found`);
}

export async function startPaymentService(config: PaymentServiceConfig, options: PaymentServiceOptions = {}): Promise<PaymentServiceHandle> {
  const logger = options.logger ?? createLogger({ service: SERVICE_NAME, level: config.LOG_LEVEL });
  const metrics = new Metrics();
  const cleanups = new Cleanups(logger);

  try {
    const health = await startHealthServer({ port: config.HEALTH_PORT, host: options.host, registry: metrics.registry, logger });
    cleanups.push(() => health.close());
    const markStarted = startupGate(health);

    // Requests waiting on the same key or order each hold a connection: more than the default.
    const postgres = createPostgres(config, { logger, applicationName: SERVICE_NAME, max: 20 });
    cleanups.push(() => postgres.close());
    health.addReadinessCheck('postgres', () => postgres.ping());
    await runMigrations({ pool: postgres.pool, dir: options.migrationsDir ?? defaultMigrationsDir(), migrationsTable: 'pgmigrations_payment_service', logger });

    // Not a readiness check: with Kafka down payments still commit; their events wait in the outbox.
    const relay = new OutboxRelay({
      pool: postgres.pool,
      createProducer: () => createKafkaProducer(config, { clientId: `${SERVICE_NAME}-outbox` }),
      logger,
      registry: metrics.registry,
      pollIntervalMs: options.outboxPollIntervalMs,
    });
    relay.start();
    cleanups.push(() => relay.stop());

    const provider: PaymentProvider = new StripeProvider({ apiBase: config.STRIPE_API_BASE, secretKeyFile: config.STRIPE_SECRET_KEY_FILE });
    const payments = new Payments({ pool: postgres.pool, provider, writeEvent: (client, event) => enqueue(client, event), logger });

    const tls = { certFile: config.TLS_CERT_FILE, keyFile: config.TLS_KEY_FILE, caFile: config.TLS_CA_FILE, refreshIntervalMs: options.certRefreshIntervalMs };
    const orderCreds = await createClientCredentials(tls, 'order-service');
    cleanups.push(() => orderCreds.certificates.close());
    const orders = createClient(OrderServiceClient, config.ORDER_SERVICE_ADDR, orderCreds.credentials);
    cleanups.push(() => orders.close());

    /** The caller's order, or NOT_FOUND (absent and foreign orders look the same). */
    async function orderOf(orderId: string, userId: string) {
      try {
        const { order } = await unary(orders, 'getOrder', { id: orderId }, { timeoutMs: ORDER_LOOKUP_TIMEOUT_MS, subject: userId });
        if (order && order.userId === userId) return order;
      } catch (err) {
        if (!hasStatus(err, Status.NOT_FOUND) && !hasStatus(err, Status.PERMISSION_DENIED)) {
          logger.warn({ err, orderId }, 'order-service lookup failed');
          throw new ServiceError(Status.UNAVAILABLE, 'order-service is unavailable; retry with the same Idempotency-Key');
        }
      }
      throw new ServiceError(Status.NOT_FOUND, `order_id: order ${orderId} not found`);
    }

    const handlers: ServiceHandlers<typeof PaymentServiceService> = {
      async createPayment(req, ctx) {
        const userId = subjectOf(ctx);
        if (req.userId !== '' && req.userId.toLowerCase() !== userId) throw new ServiceError(Status.PERMISSION_DENIED, 'user_id: must be the caller');
        const orderId = checkUuid(req.orderId, 'order_id');
        const currency = money('currency', () => checkCurrency(req.currency));
        const amount = money('amount', () => formatAmount(parseAmount(req.amount, currency), currency));
        if (!IDEMPOTENCY_KEY.test(req.idempotencyKey)) {
          throw invalidArgument('idempotency_key', req.idempotencyKey === '' ? 'is required' : 'must be 1..255 printable ASCII characters without spaces');
        }
        if (!PAYMENT_METHOD.test(req.paymentMethod)) {
          throw invalidArgument('payment_method', req.paymentMethod === '' ? 'is required' : 'must be a payment method token (letters, digits, _)');
        }
        const input = { userId, orderId, amount, currency, paymentMethod: req.paymentMethod, idempotencyKey: req.idempotencyKey };

        // A finished payment for this key is the stored result: no order lookup (the order has
        // moved on to paid by now), no provider call.
        const existing = await payments.findByKey(userId, req.idempotencyKey);
        if (existing && existing.status !== 'pending' && existing.status !== 'authorized') {
          if (existing.requestFingerprint !== requestFingerprint(input)) throw keyReused();
          return { payment: toProto(existing) };
        }

        const order = await orderOf(orderId, userId);
        if (order.currency !== currency) throw invalidArgument('currency', `must be the order's currency (${order.currency})`);
        if (order.total !== amount) throw invalidArgument('amount', `must equal the order's total (${order.total} ${order.currency})`);
        // An unfinished payment of this key may continue on an order it has just paid.
        if (order.status !== 'pending' && !existing) {
          throw new ServiceError(Status.FAILED_PRECONDITION, `order_id: order ${orderId} is ${order.status}; only pending orders can be paid`);
        }
        const payment = await payments.create(input);
        return { payment: toProto(payment) };
      },
      async getPayment(req, ctx) {
        const id = checkUuid(req.id, 'id');
        const userId = subjectOf(ctx);
        const payment = await payments.get(id);
        if (!payment || (payment.userId !== userId && !ctx.roles.includes(ADMIN_ROLE))) throw paymentNotFound(id);
        return { payment: toProto(payment) };
      },
      async refundPayment(req, ctx) {
        const id = checkUuid(req.id, 'id');
        subjectOf(ctx);
        if (!ctx.roles.includes(ADMIN_ROLE)) throw new ServiceError(Status.PERMISSION_DENIED, 'refunds need the admin role');
        const payment = await payments.refund(id);
        if (!payment) throw paymentNotFound(id);
        return { payment: toProto(payment) };
      },
    };

    const grpcServer = new GrpcServer({ tls, allowedPeers: config.GRPC_ALLOWED_PEERS, logger, metrics });
    grpcServer.addService(PaymentServiceService, handlers);
    cleanups.push(() => grpcServer.forceShutdown());
    const grpcPort = await grpcServer.listen(config.GRPC_PORT, options.host);
    health.addReadinessCheck('grpc', async () => {
      if (grpcServer.isDraining) throw new Error('draining');
    });
    markStarted();
    logger.info({ grpcPort, healthPort: health.port, stripeApiBase: config.STRIPE_API_BASE }, 'payment-service started');

    let stopping: Promise<void> | undefined;
    return {
      grpcPort,
      healthPort: health.port,
      metrics,
      stop() {
        stopping ??= (async () => {
          health.setDraining();
          await grpcServer.drain(config.SHUTDOWN_GRACE_MS);
          await cleanups.run();
        })();
        return stopping;
      },
    };
  } catch (err) {
    await cleanups.run();
    throw err;
  }
}
