/**
 * order-service (spec: "Order management"): order.v1.OrderService over gRPC with mTLS,
 * PostgreSQL as the system of record, every state change's event written to the outbox in the
 * same transaction and relayed to the spec's order-events topic. payment-service holds an order
 * before it charges (HoldForPayment); the payment's outcome arrives twice, handed over directly
 * (ApplyPaymentEvent) and through payment-events on Kafka, and is applied once per event id.
 */
import { z } from 'zod';
import { Counter } from 'prom-client';
import { OrderServiceService } from '../../proto/gen/order/v1/order';
import type { Order } from '../../proto/gen/order/v1/order';
import { MoneyError, ORDER_EVENTS_TOPIC, PAYMENT_EVENTS_TOPIC, checkCurrency, formatAmount, parseAmount, validateEvent } from '../../events';
import type { EventEnvelope, Money } from '../../events';
import {
  EventConsumer, GrpcServer, Metrics, OutboxRelay, ServiceError, Status, commonEnv, createKafkaProducer, createLogger,
  createPostgres, databaseEnv, grpcServerEnv, invalidArgument, kafkaEnv, loadConfig, runMigrations, startHealthServer, Cleanups, gracefulStop, serveGrpc, startupGate, migrationsBeside,
} from '../../shared/src';
import type { CallContext, ConsumeOutcome, KafkaMessage, Logger, ServiceHandlers } from '../../shared/src';
import {
  DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, OrderStore, checkCurrencyField, checkId, checkItems, decodeCursor,
} from './orders';
import type { Actor, OrderRow } from './orders';

export const SERVICE_NAME = 'order-service';
/** api-gateway serves the order API; payment-service reads an order's amount and currency. */
export const DEFAULT_ALLOWED_PEERS = ['api-gateway', 'payment-service'] as const;
export const ADMIN_ROLE = 'admin';
const PAYMENT_SERVICE = 'payment-service';

export const orderServiceEnvSchema = z.object({
  ...commonEnv(SERVICE_NAME),
  ...grpcServerEnv(SERVICE_NAME, DEFAULT_ALLOWED_PEERS),
  ...databaseEnv,
  ...kafkaEnv,
});

export type OrderServiceConfig = z.infer<typeof orderServiceEnvSchema>;

export function loadOrderServiceConfig(env: Readonly<Record<string, string | undefined>> = process.env): OrderServiceConfig {
  return loadConfig(orderServiceEnvSchema, env);
}

export interface OrderServiceOptions {
  readonly logger?: Logger;
  /** Bind address of both ports (tests use 127.0.0.1). */
  readonly host?: string;
  readonly certRefreshIntervalMs?: number;
  readonly migrationsDir?: string;
  /** Outbox relay poll interval (default 1000 ms) and Kafka backoff ceiling (default 5 s). */
  readonly outboxPollIntervalMs?: number;
  readonly maxBackoffMs?: number;
}

export interface OrderServiceHandle {
  readonly grpcPort: number;
  readonly healthPort: number;
  readonly metrics: Metrics;
  stop(): Promise<void>;
}

const defaultMigrationsDir = (): string => migrationsBeside(__dirname);

function toProto(row: OrderRow): Order {
  return {
    id: row.id, userId: row.userId, total: row.total, currency: row.currency, status: row.status,
    items: row.items.map((i) => ({ productId: i.productId, quantity: i.quantity, unitPrice: i.unitPrice })),
    createdAt: row.createdAt, updatedAt: row.updatedAt,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The caller: the user in x-subject (admin when x-roles has `admin`). Without a subject only
 * payment-service may call, and only to read (`readOnly`): it checks amounts of any order.
 */
function actorOf(ctx: CallContext, readOnly: boolean): Actor {
  if (ctx.subject) {
    if (!UUID.test(ctx.subject)) throw new ServiceError(Status.UNAUTHENTICATED, 'x-subject must be a user id');
    return { userId: ctx.subject.toLowerCase(), admin: ctx.roles.includes(ADMIN_ROLE) };
  }
  if (readOnly && ctx.peer === PAYMENT_SERVICE) return { userId: undefined, admin: true };
  throw new ServiceError(Status.UNAUTHENTICATED, 'x-subject is required: calls are made on behalf of a user');
}

export async function startOrderService(config: OrderServiceConfig, options: OrderServiceOptions = {}): Promise<OrderServiceHandle> {
  const logger = options.logger ?? createLogger({ service: SERVICE_NAME, level: config.LOG_LEVEL });
  const metrics = new Metrics();
  const cleanups = new Cleanups(logger);

  try {
    const health = await startHealthServer({ port: config.HEALTH_PORT, host: options.host, registry: metrics.registry, logger });
    cleanups.push(() => health.close());
    const markStarted = startupGate(health);

    const postgres = createPostgres(config, { logger, applicationName: SERVICE_NAME });
    cleanups.push(() => postgres.close());
    health.addReadinessCheck('postgres', () => postgres.ping());
    await runMigrations({ pool: postgres.pool, dir: options.migrationsDir ?? defaultMigrationsDir(), migrationsTable: 'pgmigrations_order_service', logger });

    const store = new OrderStore(postgres.pool, logger);

    // Not readiness checks: orders are accepted while Kafka is down (the outbox keeps them).
    const relay = new OutboxRelay({
      pool: postgres.pool, registry: metrics.registry, logger: logger.child({ component: 'outbox' }),
      pollIntervalMs: options.outboxPollIntervalMs, maxBackoffMs: options.maxBackoffMs,
      createProducer: () => createKafkaProducer(config, { clientId: `${SERVICE_NAME}-outbox` }),
    });
    relay.start();
    cleanups.push(() => relay.stop());

    const invalidEvents = new Counter({
      name: 'kafka_consumer_invalid_messages_total',
      help: 'Consumed messages that failed their schema and were skipped, by topic.',
      labelNames: ['topic'],
      registers: [metrics.registry],
    });
    const consumerLog = logger.child({ component: 'payment-events-consumer' });
    const handlePaymentEvent = async (message: KafkaMessage): Promise<ConsumeOutcome> => {
      let event: unknown;
      try {
        event = JSON.parse(message.value);
      } catch {
        event = undefined;
      }
      const problems = event === undefined ? ['not JSON'] : validateEvent(message.topic, event);
      if (problems.length > 0) {
        // Never retried: it would block the partition forever. Counted and logged for a person.
        invalidEvents.inc({ topic: message.topic });
        consumerLog.error({ partition: message.partition, offset: String(message.offset), problems }, 'skipping an invalid payment event');
        return 'invalid';
      }
      const envelope = event as EventEnvelope<string, { paymentId: string; amount: Money }>;
      const outcome = await store.applyPaymentEvent(envelope);
      if (outcome !== 'ignored') consumerLog.info({ orderId: envelope.orderId, eventId: envelope.eventId, type: envelope.type, outcome }, 'payment event applied');
      return outcome === 'duplicate' ? 'duplicate' : 'processed';
    };
    const consumer = new EventConsumer(config, {
      clientId: `${SERVICE_NAME}-payment-events`, groupId: SERVICE_NAME, topics: [PAYMENT_EVENTS_TOPIC],
      logger: consumerLog, handle: handlePaymentEvent, maxBackoffMs: options.maxBackoffMs, registry: metrics.registry,
    });
    consumer.start();
    cleanups.push(() => consumer.stop());

    const handlers: ServiceHandlers<typeof OrderServiceService> = {
      async createOrder(req, ctx) {
        const actor = actorOf(ctx, false);
        let owner = actor.userId!;
        if (req.userId) {
          const wanted = checkId(req.userId, 'user_id');
          if (wanted !== actor.userId && !actor.admin) throw new ServiceError(Status.PERMISSION_DENIED, 'user_id: only admins may create orders for another user');
          owner = wanted;
        }
        const currency = checkCurrencyField(req.currency);
        const { items, totalMinor } = checkItems(req.items, currency);
        const order = await store.create(owner, currency, items, totalMinor);
        logger.info({ orderId: order.id, userId: owner, total: order.total, currency }, 'order created');
        return { order: toProto(order) };
      },
      async getOrder(req, ctx) {
        const actor = actorOf(ctx, true);
        return { order: toProto(await store.get(checkId(req.id), actor)) };
      },
      async listOrders(req, ctx) {
        const actor = actorOf(ctx, false);
        if (!Number.isInteger(req.pageSize) || req.pageSize < 0) throw invalidArgument('page_size', 'must not be negative');
        const pageSize = req.pageSize === 0 ? DEFAULT_PAGE_SIZE : Math.min(req.pageSize, MAX_PAGE_SIZE);
        let userId: string | undefined = actor.admin ? undefined : actor.userId;
        if (req.userId) {
          const wanted = checkId(req.userId, 'user_id');
          if (!actor.admin && wanted !== actor.userId) throw new ServiceError(Status.PERMISSION_DENIED, 'user_id: customers list only their own orders');
          userId = wanted;
        }
        const after = req.pageToken ? decodeCursor(req.pageToken) : undefined;
        const page = await store.list(userId, pageSize, after);
        return { orders: page.orders.map(toProto), nextPageToken: page.next };
      },
      async cancelOrder(req, ctx) {
        const actor = actorOf(ctx, false);
        const order = await store.transition(checkId(req.id), 'cancelled', actor);
        logger.info({ orderId: order.id }, 'order cancelled');
        return { order: toProto(order) };
      },
      async fulfillOrder(req, ctx) {
        const actor = actorOf(ctx, false);
        const id = checkId(req.id);
        if (!actor.admin) throw new ServiceError(Status.PERMISSION_DENIED, 'only admins fulfil orders');
        const order = await store.transition(id, 'fulfilled', actor);
        logger.info({ orderId: order.id }, 'order fulfilled');
        return { order: toProto(order) };
      },
      async holdForPayment(req, ctx) {
        if (ctx.peer !== PAYMENT_SERVICE) throw new ServiceError(Status.PERMISSION_DENIED, 'only payment-service holds orders for payments');
        if (!ctx.subject || !UUID.test(ctx.subject)) throw new ServiceError(Status.UNAUTHENTICATED, 'x-subject: the payer is required');
        const orderId = checkId(req.orderId, 'order_id');
        const paymentId = checkId(req.paymentId, 'payment_id');
        let amount: Money;
        try {
          const currency = checkCurrency(req.currency);
          amount = { amount: formatAmount(parseAmount(req.amount, currency), currency), currency };
        } catch (err) {
          if (err instanceof MoneyError) throw invalidArgument('amount', err.problem);
          throw err;
        }
        const order = await store.holdForPayment(orderId, paymentId, amount, { userId: ctx.subject.toLowerCase(), admin: false });
        logger.info({ orderId, paymentId, status: order.status }, 'order held for a payment');
        return { order: toProto(order) };
      },
      async applyPaymentEvent(req, ctx) {
        if (ctx.peer !== PAYMENT_SERVICE) throw new ServiceError(Status.PERMISSION_DENIED, 'only payment-service hands over payment events');
        let event: unknown;
        try {
          event = JSON.parse(req.eventJson);
        } catch {
          throw invalidArgument('event_json', 'is not JSON');
        }
        const problems = validateEvent(PAYMENT_EVENTS_TOPIC, event);
        if (problems.length > 0) throw invalidArgument('event_json', problems.join('; '));
        const envelope = event as EventEnvelope<string, { paymentId: string; amount: Money }>;
        const outcome = await store.applyPaymentEvent(envelope);
        if (outcome !== 'ignored') logger.info({ orderId: envelope.orderId, eventId: envelope.eventId, type: envelope.type, outcome }, 'payment event applied (handed over)');
        return { outcome };
      },
    };

    const grpcServer = new GrpcServer({
      tls: { certFile: config.TLS_CERT_FILE, keyFile: config.TLS_KEY_FILE, caFile: config.TLS_CA_FILE, refreshIntervalMs: options.certRefreshIntervalMs },
      allowedPeers: config.GRPC_ALLOWED_PEERS,
      logger,
      metrics,
    });
    grpcServer.addService(OrderServiceService, handlers);
    const grpcPort = await serveGrpc(grpcServer, { port: config.GRPC_PORT, host: options.host, health, cleanups });
    markStarted();
    logger.info({ grpcPort, healthPort: health.port, topic: ORDER_EVENTS_TOPIC }, 'order-service started');

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
