/**
 * payment-service (spec: "Payment processing"): payment.v1.PaymentService over gRPC with mTLS,
 * PostgreSQL as the system of record, a payment provider adapter (Stripe), and the
 * payment-events outbox relayed to Kafka. Orders are read, held for a payment and told its
 * outcome through order-service over gRPC mTLS; recovery finishes payments nobody retried.
 */
import { z } from 'zod';
import { OrderServiceClient } from '../../proto/gen/order/v1/order';
import { PaymentServiceService } from '../../proto/gen/payment/v1/payment';
import type { Payment } from '../../proto/gen/payment/v1/payment';
import { MoneyError, checkCurrency, formatAmount, parseAmount } from '../../events';
import {
  GrpcServer, Metrics, OutboxRelay, ServiceError, Status, commonEnv, createClient, createClientCredentials, createKafkaProducer,
  createLogger, createPostgres, databaseEnv, enqueue, fileVar, grpcServerEnv, grpcTargetVar, hasStatus, invalidArgument, kafkaEnv,
  loadConfig, positiveIntVar, runMigrations, startHealthServer, unary, Cleanups, gracefulStop, serveGrpc, startupGate, migrationsBeside,
} from '../../shared/src';
import type { CallContext, Logger, ServiceHandlers } from '../../shared/src';
import type { EventEnvelope, PaymentEventType } from '../../events';
import { FIELD_RULES, textProblem } from '../../shared/src/field-rules';
import { Payments, keyReused, requestFingerprint } from './payments';
import type { OrderGate, PaymentRow } from './payments';
import { DEFAULT_STRIPE_API_BASE, StripeProvider } from './provider';
import type { PaymentProvider } from './provider';

export const SERVICE_NAME = 'payment-service';
/** The gateway serves the payment API. */
export const DEFAULT_ALLOWED_PEERS = ['api-gateway'] as const;
export const ADMIN_ROLE = 'admin';
// choice: order-service answers from its own database; 3 s leaves room in the gateway's deadline.
const ORDER_LOOKUP_TIMEOUT_MS = 3_000;
// Stripe keeps idempotency keys at least 24 hours; an hour of margin.
const PROVIDER_IDEMPOTENCY_WINDOW_MS = 23 * 3600_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
  // How often recovery looks for payments left pending or authorized, and how long one must have
  // been unchanged (longer than any request takes) before recovery finishes it.
  PAYMENT_RECOVERY_INTERVAL_MS: positiveIntVar(30_000),
  PAYMENT_RECOVERY_AFTER_MS: positiveIntVar(60_000),
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

/** order-service's HoldForPayment and ApplyPaymentEvent for Payments, on behalf of the payer. */
export function orderGate(orders: OrderServiceClient, logger: Logger): OrderGate {
  return {
    async hold(payment) {
      try {
        await unary(orders, 'holdForPayment', {
          orderId: payment.orderId, paymentId: payment.id, amount: payment.amount, currency: payment.currency,
        }, { timeoutMs: ORDER_LOOKUP_TIMEOUT_MS, subject: payment.userId });
        return {};
      } catch (err) {
        const details = (err as { details?: string }).details ?? '';
        if (hasStatus(err, Status.NOT_FOUND)) return { refused: new ServiceError(Status.NOT_FOUND, `order_id: order ${payment.orderId} not found`) };
        if (hasStatus(err, Status.FAILED_PRECONDITION) || hasStatus(err, Status.INVALID_ARGUMENT)) {
          return { refused: new ServiceError(Status.FAILED_PRECONDITION, details.startsWith('order_id:') ? details : `order_id: ${details}`) };
        }
        logger.warn({ err, orderId: payment.orderId, paymentId: payment.id }, 'order-service did not hold the order');
        throw new ServiceError(Status.UNAVAILABLE, `order-service is unavailable; payment ${payment.id} has not been charged: retry with the same Idempotency-Key`);
      }
    },
    async handOver(event: EventEnvelope<PaymentEventType>) {
      try {
        await unary(orders, 'applyPaymentEvent', { eventJson: JSON.stringify(event) }, { timeoutMs: ORDER_LOOKUP_TIMEOUT_MS });
      } catch (err) {
        // Kafka delivers the event anyway; the order catches up when order-service consumes it.
        logger.warn({ err, orderId: event.orderId, eventId: event.eventId, type: event.type }, 'could not hand the payment event to order-service; it follows through Kafka');
      }
    },
  };
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

    const tls = { certFile: config.TLS_CERT_FILE, keyFile: config.TLS_KEY_FILE, caFile: config.TLS_CA_FILE, refreshIntervalMs: options.certRefreshIntervalMs };
    const orderCreds = await createClientCredentials(tls, 'order-service');
    cleanups.push(() => orderCreds.certificates.close());
    const orders = createClient(OrderServiceClient, config.ORDER_SERVICE_ADDR, orderCreds.credentials);
    cleanups.push(() => orders.close());

    const provider: PaymentProvider = new StripeProvider({ apiBase: config.STRIPE_API_BASE, secretKeyFile: config.STRIPE_SECRET_KEY_FILE });
    const payments = new Payments({
      pool: postgres.pool, provider, writeEvent: (client, event) => enqueue(client, event), orders: orderGate(orders, logger), logger,
    });
    // Recovery: one pass at a time, on every replica (the row locks make them take turns).
    let recovering: Promise<unknown> | undefined;
    const recovery = setInterval(() => {
      recovering ??= payments.recoverUnfinished({
        olderThanMs: config.PAYMENT_RECOVERY_AFTER_MS, idempotencyWindowMs: PROVIDER_IDEMPOTENCY_WINDOW_MS,
      }).catch((err: unknown) => logger.warn({ err }, 'payment recovery pass failed')).finally(() => {
        recovering = undefined;
      });
    }, config.PAYMENT_RECOVERY_INTERVAL_MS);
    recovery.unref();
    cleanups.push(async () => {
      clearInterval(recovery);
      await recovering;
    });

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
        const keyProblem = textProblem(req.idempotencyKey, FIELD_RULES.idempotencyKey);
        if (keyProblem) throw invalidArgument('idempotency_key', keyProblem);
        const methodProblem = textProblem(req.paymentMethod, FIELD_RULES.paymentMethod);
        if (methodProblem) throw invalidArgument('payment_method', methodProblem);
        const input = { userId, orderId, amount, currency, paymentMethod: req.paymentMethod, idempotencyKey: req.idempotencyKey };

        // A finished payment for this key is the stored result: no order lookup (the order has
        // moved on to paid by now), no provider call.
        const existing = await payments.findByKey(userId, req.idempotencyKey);
        if (existing && existing.status !== 'pending' && existing.status !== 'authorized') {
          if (existing.requestFingerprint !== requestFingerprint(input)) throw keyReused();
          return { payment: toProto(existing) };
        }

        const order = await orderOf(orderId, userId);
        // Well-formed, but not what this order asks for: a conflict with the order, not bad syntax.
        if (order.currency !== currency) throw new ServiceError(Status.FAILED_PRECONDITION, `currency: must be the order's currency (${order.currency})`);
        if (order.total !== amount) throw new ServiceError(Status.FAILED_PRECONDITION, `amount: must equal the order's total (${order.total} ${order.currency})`);
        // An unfinished payment of this key may continue on an order it holds or has just paid.
        if (order.status !== 'pending' && !existing) {
          const why = order.status === 'paying' ? 'is being paid by another payment; retry when it has finished' : `is ${order.status}; only pending orders can be paid`;
          throw new ServiceError(Status.FAILED_PRECONDITION, `order_id: order ${orderId} ${why}`);
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
    const grpcPort = await serveGrpc(grpcServer, { port: config.GRPC_PORT, host: options.host, health, cleanups });
    markStarted();
    logger.info({ grpcPort, healthPort: health.port, stripeApiBase: config.STRIPE_API_BASE }, 'payment-service started');

    return {
      grpcPort,
      healthPort: health.port,
      metrics,
      stop: gracefulStop({ health, server: grpcServer, graceMs: config.SHUTDOWN_GRACE_MS, cleanups }),
    };
  } catch (err) {
    await cleanups.run();
    throw err;
  }
}
