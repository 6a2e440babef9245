// The whole user path on loopback: a test CA, PostgreSQL (databases `auth` and `users`) and
// Redis from the harness, then user-service, auth-service and api-gateway started through
// their own config loaders and start* functions, wired exactly as in Kubernetes (mTLS, one
// certificate per workload, identity allow-lists). Used by the integration tests and by
// bench/gateway.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createTestCa, issueServiceCertificate, startPostgres, startRedis } from '../../harness';
import type { IssuedCertificate, PostgresServer, RedisServer, TestCa } from '../../harness';
import { createLogger } from '../../../services/shared/src/logger';
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

/** A loopback port free right now (bound, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface StackOptions {
  readonly logLevel?: string;
  /** Extra gateway variables (e.g. small rate limits). */
  readonly gatewayEnv?: Readonly<Record<string, string>>;
}

export interface Stack {
  readonly ca: TestCa;
  readonly pg: PostgresServer;
  readonly redis: RedisServer;
  readonly certs: Readonly<Record<'api-gateway' | 'auth-service' | 'user-service', IssuedCertificate>>;
  readonly auth: AuthServiceHandle;
  readonly users: UserServiceHandle;
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

function tlsEnv(cert: IssuedCertificate, ca: TestCa): Record<string, string> {
  return { TLS_CERT_FILE: cert.certFile, TLS_KEY_FILE: cert.keyFile, TLS_CA_FILE: ca.caFile };
}

export type Workload = 'api-gateway' | 'auth-service' | 'user-service';

/** The servers and each workload's environment, before any service starts. */
export interface PreparedStack {
  readonly ca: TestCa;
  readonly pg: PostgresServer;
  readonly redis: RedisServer;
  readonly certs: Readonly<Record<Workload, IssuedCertificate>>;
  /** Environment of each workload, as a Deployment would set it (the gateway's without ports). */
  readonly env: Readonly<Record<Workload, Readonly<Record<string, string>>>>;
  /** Runs `fn` at dispose (last registered, first run). */
  onDispose(fn: () => Promise<unknown>): void;
  dispose(): Promise<void>;
}

export async function prepareStack(options: StackOptions = {}): Promise<PreparedStack> {
  const logLevel = options.logLevel ?? 'silent';
  const ca = await createTestCa();
  const [pg, redis] = await Promise.all([startPostgres({ ca }), startRedis({ ca })]);
  const cleanups: (() => Promise<unknown>)[] = [() => pg.dispose(), () => redis.dispose()];
  const dispose = async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
  };
  try {
    const certs = {
      'api-gateway': await issueServiceCertificate(ca, 'api-gateway'),
      'auth-service': await issueServiceCertificate(ca, 'auth-service'),
      'user-service': await issueServiceCertificate(ca, 'user-service'),
    };
    const [authDb, usersDb] = await Promise.all([pg.createDatabase('auth'), pg.createDatabase('users')]);
    const db = (access: typeof authDb) => ({
      DATABASE_HOST: pg.host, DATABASE_PORT: String(pg.port), DATABASE_NAME: access.database,
      DATABASE_USER: access.user, DATABASE_PASSWORD_FILE: access.passwordFile, DATABASE_CA_FILE: pg.caFile,
    });
    const kekFile = join(ca.dir, 'auth-kek');
    await writeFile(kekFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });

    const [userGrpc, userHealth, authGrpc, authHealth] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const userEnv = {
      LOG_LEVEL: logLevel, GRPC_PORT: String(userGrpc), HEALTH_PORT: String(userHealth),
      ...tlsEnv(certs['user-service'], ca), ...db(usersDb), ...redisEnv(redis),
    };
    const authEnv = {
      LOG_LEVEL: logLevel, GRPC_PORT: String(authGrpc), HEALTH_PORT: String(authHealth),
      ...tlsEnv(certs['auth-service'], ca), ...db(authDb), ...redisEnv(redis),
      JWT_ISSUER, JWT_AUDIENCE, USER_SERVICE_ADDR: `127.0.0.1:${userGrpc}`, AUTH_KEY_ENCRYPTION_KEY_FILE: kekFile,
    };
    const gatewayEnv = {
      LOG_LEVEL: logLevel, HTTP_HOST: '127.0.0.1',
      ...tlsEnv(certs['api-gateway'], ca), ...redisEnv(redis),
      JWT_ISSUER, JWT_AUDIENCE, AUTH_SERVICE_ADDR: `127.0.0.1:${authGrpc}`, USER_SERVICE_ADDR: `127.0.0.1:${userGrpc}`,
      ...options.gatewayEnv,
    };
    return {
      ca, pg, redis, certs,
      env: { 'api-gateway': gatewayEnv, 'auth-service': authEnv, 'user-service': userEnv },
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
  const { ca, pg, redis, certs } = prepared;
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

    const startOneGateway = async (extraEnv: Readonly<Record<string, string>> = {}) => {
      const [httpPort, healthPort] = await Promise.all([freePort(), freePort()]);
      const env = { ...gatewayBaseEnv, HTTP_PORT: String(httpPort), HEALTH_PORT: String(healthPort), ...extraEnv };
      const handle = await startGateway(loadGatewayConfig(env), { logger: createLogger({ service: 'api-gateway', level: logLevel }) });
      cleanups.push(() => handle.stop());
      return { handle, url: `http://127.0.0.1:${handle.httpPort}`, env };
    };
    const main = await startOneGateway();

    return {
      ca, pg, redis, certs, auth, users,
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
