// The whole platform on loopback: a test CA, PostgreSQL (databases `auth` and `users`) and
// Redis from the harness, then user-service, auth-service and api-gateway started through
// their own config loaders and start* functions, wired exactly as in Kubernetes (mTLS, one
// certificate per workload, identity allow-lists). On request (StackOptions) also order-service
// (database `orders`), payment-service (database `payments`, stripe-mock behind the recording
// proxy of provider-ledger.ts) and Kafka with the spec's topics. Used by the integration tests and
// by bench/gateway and bench/orders.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadPlatformSpec } from '../../../lib/spec';
import { STRIPE_AUTHORIZING_FIXTURES } from '../../../scripts/dev';
import { createTestCa, freePort, issueServiceCertificate, startKafka, startPostgres, startRedis, startStripeMock } from '../../harness';
import type { DatabaseAccess, IssuedCertificate, KafkaServer, PostgresServer, RedisServer, StripeMockServer, TestCa } from '../../harness';
import { loadOrderServiceConfig, startOrderService } from '../../../services/order-service/src/service';
import type { OrderServiceHandle } from '../../../services/order-service/src/service';
import { loadPaymentServiceConfig, startPaymentService } from '../../../services/payment-service/src/service';
import type { PaymentServiceHandle } from '../../../services/payment-service/src/service';
import { createLogger } from '../../../services/shared/src/logger';
import { startProviderLedger } from './provider-ledger';
import type { ProviderLedger } from './provider-ledger';
import { ServiceProcess } from './service-process';
import { loadAuthConfig } from '../../../services/auth-service/src/config';
import { startAuthService } from '../../../services/auth-service/src/service';
import type { AuthServiceHandle } from '../../../services/auth-service/src/service';
import { loadUserServiceConfig, startUserService } from '../../../services/user-service/src/service';
import type { UserServiceHandle } from '../../../services/user-service/src/service';
import { loadGatewayConfig } from '../../../services/api-gateway/src/config';
import { startGateway } from '../../../services/api-gateway/src/service';
import type { GatewayHandle } from '../../../services/api-gateway/src/service';

export const JWT_ISSUER = 'https://auth.platform.test';
export const JWT_AUDIENCE = 'platform-api';

export interface StackOptions {
  readonly logLevel?: string;
  /** Extra gateway variables (e.g. small rate limits). */
  readonly gatewayEnv?: Readonly<Record<string, string>>;
  /** Start order-service and its database. */
  readonly orders?: boolean;
  /** Start payment-service, its database and stripe-mock (implies `orders`: it reads orders). */
  readonly payments?: boolean;
  /**
   * Start Kafka with the spec's topics (~8 s). Without it order- and payment-service are given a
   * broker address where nothing listens: their outboxes keep every event until one appears.
   */
  readonly kafka?: boolean;
  /** Outbox relay poll interval of order- and payment-service (default: the services' own). */
  readonly outboxPollIntervalMs?: number;
  /** order-service's backoff ceiling for its outbox relay and consumer while Kafka is down. */
  readonly maxBackoffMs?: number;
  /**
   * Run these as their own processes (service-process.ts; a crash test kills them for real)
   * instead of in this one. Their log goes to a file at LOG_LEVEL info.
   */
  readonly processes?: readonly OptionalWorkload[];
  /** Extra variables per workload (e.g. recovery intervals). */
  readonly serviceEnv?: Readonly<Partial<Record<AnyWorkload, Readonly<Record<string, string>>>>>;
}


export interface Stack {
  readonly ca: TestCa;
  readonly pg: PostgresServer;
  readonly redis: RedisServer;
  readonly kafka: KafkaServer | undefined;
  readonly stripe: StripeMockServer | undefined;
  /** What payment-service asked of the provider (it reaches stripe-mock through it). */
  readonly ledger: ProviderLedger | undefined;
  readonly databases: Readonly<Partial<Record<AnyWorkload, DatabaseAccess>>>;
  readonly certs: Readonly<Record<'api-gateway' | 'auth-service' | 'user-service', IssuedCertificate>>;
  readonly auth: AuthServiceHandle;
  readonly users: UserServiceHandle;
  /** In this process (undefined when not started or run as a process). */
  readonly orders: OrderServiceHandle | undefined;
  readonly payments: PaymentServiceHandle | undefined;
  /** The services run as their own processes (StackOptions.processes). */
  readonly processes: Readonly<Partial<Record<OptionalWorkload, ServiceProcess>>>;
  readonly gateway: GatewayHandle;
  readonly gatewayUrl: string;
  /** Environment of each workload, as a Deployment would set it. */
  readonly env: Readonly<Record<'api-gateway' | 'auth-service' | 'user-service', Readonly<Record<string, string>>>>;
  /** Another gateway replica on the same backends, with extra variables. */
  startGateway(extraEnv?: Readonly<Record<string, string>>): Promise<{ handle: GatewayHandle; url: string }>;
  dispose(): Promise<void>;
}

function redisEnv(redis: RedisServer): Record<string, string> {
  return {
    REDIS_HOST: redis.host, REDIS_PORT: String(redis.port), REDIS_TLS: 'true', REDIS_CA_FILE: redis.caFile,
    REDIS_USERNAME: redis.username, REDIS_PASSWORD_FILE: redis.passwordFile,
  };
}

function kafkaEnv(kafka: KafkaServer): Record<string, string> {
  return {
    KAFKA_BROKERS: kafka.bootstrap, KAFKA_SASL_USERNAME: kafka.username,
    KAFKA_SASL_PASSWORD_FILE: kafka.passwordFile, KAFKA_CA_FILE: kafka.caFile,
  };
}

/** A broker address where nothing listens (a released loopback port) and a password file for it. */
async function unreachableKafkaEnv(dir: string): Promise<Record<string, string>> {
  const passwordFile = join(dir, 'kafka-password-unused');
  await writeFile(passwordFile, 'unused\n', { mode: 0o600 });
  return { KAFKA_BROKERS: `127.0.0.1:${await freePort()}`, KAFKA_SASL_USERNAME: 'platform-services', KAFKA_SASL_PASSWORD_FILE: passwordFile };
}

function tlsEnv(cert: IssuedCertificate, ca: TestCa): Record<string, string> {
  return { TLS_CERT_FILE: cert.certFile, TLS_KEY_FILE: cert.keyFile, TLS_CA_FILE: ca.caFile };
}

export type Workload = 'api-gateway' | 'auth-service' | 'user-service';
/** Started only when StackOptions asks for them. */
export type OptionalWorkload = 'order-service' | 'payment-service';
export type AnyWorkload = Workload | OptionalWorkload;

/** The servers and each workload's environment, before any service starts. */
export interface PreparedStack {
  readonly ca: TestCa;
  readonly pg: PostgresServer;
  readonly redis: RedisServer;
  readonly kafka: KafkaServer | undefined;
  readonly stripe: StripeMockServer | undefined;
  readonly ledger: ProviderLedger | undefined;
  /** Each service's database (superuser access via `pg.superuserUrl`). */
  readonly databases: Readonly<Partial<Record<AnyWorkload, DatabaseAccess>>>;
  readonly certs: Readonly<Record<Workload, IssuedCertificate>> & Readonly<Partial<Record<OptionalWorkload, IssuedCertificate>>>;
  /** Environment of each workload, as a Deployment would set it (the gateway's without ports). */
  readonly env: Readonly<Record<Workload, Readonly<Record<string, string>>>> & Readonly<Partial<Record<OptionalWorkload, Readonly<Record<string, string>>>>>;
  /** Runs `fn` at dispose (last registered, first run). */
  onDispose(fn: () => Promise<unknown>): void;
  dispose(): Promise<void>;
}

export async function prepareStack(options: StackOptions = {}): Promise<PreparedStack> {
  const logLevel = options.logLevel ?? 'silent';
  const withPayments = options.payments === true;
  const withOrders = withPayments || options.orders === true;
  const spec = loadPlatformSpec();
  const ca = await createTestCa();
  const [pg, redis, kafka, stripe] = await Promise.all([
    startPostgres({ ca }), startRedis({ ca }),
    options.kafka ? startKafka({ ca, topics: spec.dataTier.kafka.topics.map((t) => ({ name: t.name, partitions: t.partitions })) }) : undefined,
    withPayments ? startStripeMock({ fixtures: STRIPE_AUTHORIZING_FIXTURES }) : undefined,
  ]);
  const cleanups: (() => Promise<unknown>)[] = [() => pg.dispose(), () => redis.dispose()];
  if (kafka) cleanups.push(() => kafka.dispose());
  if (stripe) cleanups.push(() => stripe.dispose());
  const ledger = stripe ? await startProviderLedger(stripe.url).catch(async (err: unknown) => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
    throw err;
  }) : undefined;
  if (ledger) cleanups.push(() => ledger.close());
  const dispose = async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
  };
  try {
    const certs = {
      'api-gateway': await issueServiceCertificate(ca, 'api-gateway'),
      'auth-service': await issueServiceCertificate(ca, 'auth-service'),
      'user-service': await issueServiceCertificate(ca, 'user-service'),
      ...(withOrders ? { 'order-service': await issueServiceCertificate(ca, 'order-service') } : {}),
      ...(withPayments ? { 'payment-service': await issueServiceCertificate(ca, 'payment-service') } : {}),
    };
    const dbName = (w: AnyWorkload) => spec.services.find((s) => s.name === w)!.database!.name;
    const [authDb, usersDb, ordersDb, paymentsDb] = await Promise.all([
      pg.createDatabase(dbName('auth-service')), pg.createDatabase(dbName('user-service')),
      withOrders ? pg.createDatabase(dbName('order-service')) : undefined,
      withPayments ? pg.createDatabase(dbName('payment-service')) : undefined,
    ]);
    const db = (access: DatabaseAccess) => ({
      DATABASE_HOST: pg.host, DATABASE_PORT: String(pg.port), DATABASE_NAME: access.database,
      DATABASE_USER: access.user, DATABASE_PASSWORD_FILE: access.passwordFile, DATABASE_CA_FILE: pg.caFile,
    });
    const kekFile = join(ca.dir, 'auth-kek');
    await writeFile(kekFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });

    const [userGrpc, userHealth, authGrpc, authHealth, orderGrpc, orderHealth, paymentGrpc, paymentHealth] = await Promise.all(
      Array.from({ length: 8 }, () => freePort()),
    );
    const extra = (w: AnyWorkload) => options.serviceEnv?.[w] ?? {};
    const userEnv = {
      LOG_LEVEL: logLevel, GRPC_PORT: String(userGrpc), HEALTH_PORT: String(userHealth),
      ...tlsEnv(certs['user-service'], ca), ...db(usersDb), ...redisEnv(redis), ...extra('user-service'),
    };
    const authEnv = {
      LOG_LEVEL: logLevel, GRPC_PORT: String(authGrpc), HEALTH_PORT: String(authHealth),
      ...tlsEnv(certs['auth-service'], ca), ...db(authDb), ...redisEnv(redis),
      JWT_ISSUER, JWT_AUDIENCE, USER_SERVICE_ADDR: `127.0.0.1:${userGrpc}`, AUTH_KEY_ENCRYPTION_KEY_FILE: kekFile,
      ...extra('auth-service'),
    };
    // A service not started here still has an address (nothing listens): its routes answer 503.
    const gatewayEnv = {
      LOG_LEVEL: logLevel, HTTP_HOST: '127.0.0.1',
      ...tlsEnv(certs['api-gateway'], ca), ...redisEnv(redis),
      JWT_ISSUER, JWT_AUDIENCE, AUTH_SERVICE_ADDR: `127.0.0.1:${authGrpc}`, USER_SERVICE_ADDR: `127.0.0.1:${userGrpc}`,
      ORDER_SERVICE_ADDR: `127.0.0.1:${orderGrpc}`, PAYMENT_SERVICE_ADDR: `127.0.0.1:${paymentGrpc}`,
      ...options.gatewayEnv,
    };
    const broker = kafka ? kafkaEnv(kafka) : await unreachableKafkaEnv(ca.dir);
    const orderEnv = withOrders && ordersDb ? {
      LOG_LEVEL: logLevel, GRPC_PORT: String(orderGrpc), HEALTH_PORT: String(orderHealth),
      ...tlsEnv(certs['order-service']!, ca), ...db(ordersDb), ...broker, ...extra('order-service'),
    } : undefined;
    let paymentEnv: Record<string, string> | undefined;
    if (withPayments && paymentsDb && stripe) {
      const stripeKeyFile = join(ca.dir, 'stripe-secret-key');
      // stripe-mock accepts any test-mode key of Stripe's shape (this is the one in Stripe's docs).
      await writeFile(stripeKeyFile, 'sk_test_4eC39HqLyjWDarjtT1zdp7dc\n', { mode: 0o600 });
      paymentEnv = {
        LOG_LEVEL: logLevel, GRPC_PORT: String(paymentGrpc), HEALTH_PORT: String(paymentHealth),
        ...tlsEnv(certs['payment-service']!, ca), ...db(paymentsDb), ...broker,
        ORDER_SERVICE_ADDR: `127.0.0.1:${orderGrpc}`, STRIPE_API_BASE: ledger!.url, STRIPE_SECRET_KEY_FILE: stripeKeyFile,
        ...extra('payment-service'),
      };
    }
    return {
      ca, pg, redis, kafka, stripe, ledger, certs,
      databases: {
        'auth-service': authDb, 'user-service': usersDb,
        ...(ordersDb ? { 'order-service': ordersDb } : {}), ...(paymentsDb ? { 'payment-service': paymentsDb } : {}),
      },
      env: {
        'api-gateway': gatewayEnv, 'auth-service': authEnv, 'user-service': userEnv,
        ...(orderEnv ? { 'order-service': orderEnv } : {}), ...(paymentEnv ? { 'payment-service': paymentEnv } : {}),
      },
      onDispose: (fn) => cleanups.push(fn),
      dispose,
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const logLevel = options.logLevel ?? 'silent';
  const prepared = await prepareStack(options);
  const { ca, pg, redis, kafka, stripe, ledger, certs, databases } = prepared;
  const userEnv = prepared.env['user-service'];
  const authEnv = prepared.env['auth-service'];
  const gatewayBaseEnv = prepared.env['api-gateway'];
  const cleanups = { push: prepared.onDispose };
  const dispose = () => prepared.dispose();
  try {
    const users = await startUserService(loadUserServiceConfig(userEnv), {
      host: '127.0.0.1', logger: createLogger({ service: 'user-service', level: logLevel }),
    });
    cleanups.push(() => users.stop());
    const auth = await startAuthService(loadAuthConfig(authEnv), {
      host: '127.0.0.1', logger: createLogger({ service: 'auth-service', level: logLevel }),
    });
    cleanups.push(() => auth.stop());
    const serviceOptions = {
      host: '127.0.0.1',
      ...(options.outboxPollIntervalMs ? { outboxPollIntervalMs: options.outboxPollIntervalMs } : {}),
    };
    const processes: Partial<Record<OptionalWorkload, ServiceProcess>> = {};
    const asProcess = async (w: OptionalWorkload, env: Readonly<Record<string, string>>) => {
      const proc = new ServiceProcess(w, { ...env, LOG_LEVEL: 'info' });
      cleanups.push(() => proc.kill());
      await proc.start();
      processes[w] = proc;
    };
    const orderEnv = prepared.env['order-service'];
    let orders: OrderServiceHandle | undefined;
    if (orderEnv && options.processes?.includes('order-service')) await asProcess('order-service', orderEnv);
    else if (orderEnv) {
      orders = await startOrderService(loadOrderServiceConfig(orderEnv), {
        ...serviceOptions, ...(options.maxBackoffMs ? { maxBackoffMs: options.maxBackoffMs } : {}),
        logger: createLogger({ service: 'order-service', level: logLevel }),
      });
      cleanups.push(() => orders!.stop());
    }
    const paymentEnv = prepared.env['payment-service'];
    let payments: PaymentServiceHandle | undefined;
    if (paymentEnv && options.processes?.includes('payment-service')) await asProcess('payment-service', paymentEnv);
    else if (paymentEnv) {
      payments = await startPaymentService(loadPaymentServiceConfig(paymentEnv), {
        ...serviceOptions, logger: createLogger({ service: 'payment-service', level: logLevel }),
      });
      cleanups.push(() => payments!.stop());
    }

    const startOneGateway = async (extraEnv: Readonly<Record<string, string>> = {}) => {
      const [httpPort, healthPort] = await Promise.all([freePort(), freePort()]);
      const env = { ...gatewayBaseEnv, HTTP_PORT: String(httpPort), HEALTH_PORT: String(healthPort), ...extraEnv };
      const handle = await startGateway(loadGatewayConfig(env), { logger: createLogger({ service: 'api-gateway', level: logLevel }) });
      cleanups.push(() => handle.stop());
      return { handle, url: `http://127.0.0.1:${handle.httpPort}`, env };
    };
    const main = await startOneGateway();

    return {
      ca, pg, redis, kafka, stripe, ledger, databases, certs, auth, users, orders, payments, processes,
      gateway: main.handle,
      gatewayUrl: main.url,
      env: { 'api-gateway': main.env, 'auth-service': authEnv, 'user-service': userEnv },
      async startGateway(extraEnv) {
        const { handle, url } = await startOneGateway(extraEnv);
        return { handle, url };
      },
      dispose,
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}
