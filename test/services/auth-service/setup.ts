/**
 * Real PostgreSQL and Redis over TLS for the auth-service integration tests (test/harness).
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTestCa, issueServiceCertificate, startPostgres, startRedis } from '../../harness';
import type { DatabaseAccess, IssuedCertificate, PostgresServer, RedisServer, TestCa } from '../../harness';
import { createLogger, createPostgres, createRedis, runMigrations } from '../../../services/shared/src';
import { loadUserServiceConfig, startUserService } from '../../../services/user-service/src/service';
import type { UserServiceHandle } from '../../../services/user-service/src/service';
import type { DatabaseConfig, Logger, Postgres, RedisConfig } from '../../../services/shared/src';
import type { Redis } from 'ioredis';
import { defaultMigrationsDir, MIGRATIONS_TABLE } from '../../../services/auth-service/src/service';

export const silentLogger = createLogger({ service: 'auth-service-test', level: 'silent' });

export interface Backends {
  ca: TestCa;
  pg: PostgresServer;
  redisServer: RedisServer;
  /** Writes a fresh base64 key-encryption key and returns its path. */
  kekFile: string;
  databaseConfig(db: DatabaseAccess): DatabaseConfig;
  redisConfig: RedisConfig;
  dispose(): Promise<void>;
}

export async function startBackends(): Promise<Backends> {
  const ca = await createTestCa();
  const [pg, redisServer] = await Promise.all([startPostgres({ ca }), startRedis({ ca })]);
  const kekFile = join(ca.dir, 'auth-kek');
  await writeFile(kekFile, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
  return {
    ca,
    pg,
    redisServer,
    kekFile,
    databaseConfig: (db) => ({
      DATABASE_HOST: pg.host,
      DATABASE_PORT: pg.port,
      DATABASE_NAME: db.database,
      DATABASE_USER: db.user,
      DATABASE_PASSWORD_FILE: db.passwordFile,
      DATABASE_CA_FILE: pg.caFile,
    }),
    redisConfig: {
      REDIS_HOST: redisServer.host,
      REDIS_PORT: redisServer.port,
      REDIS_TLS: true,
      REDIS_CA_FILE: redisServer.caFile,
      REDIS_USERNAME: redisServer.username,
      REDIS_PASSWORD_FILE: redisServer.passwordFile,
    },
    async dispose() {
      await Promise.all([pg.dispose(), redisServer.dispose()]);
    },
  };
}

/** A migrated `auth` database of its own, with pools the test closes. */
export async function migratedDatabase(backends: Backends, name: string): Promise<{ db: DatabaseAccess; postgres: Postgres; redis: Redis; close(): Promise<void> }> {
  const db = await backends.pg.createDatabase(name);
  const postgres = createPostgres(backends.databaseConfig(db), { logger: silentLogger, applicationName: 'auth-service-test' });
  await runMigrations({ pool: postgres.pool, dir: defaultMigrationsDir(), migrationsTable: MIGRATIONS_TABLE, logger: silentLogger });
  const redis = createRedis(backends.redisConfig, { logger: silentLogger });
  return {
    db,
    postgres,
    redis,
    async close() {
      redis.disconnect();
      await postgres.close();
    },
  };
}

/** The variables of Backends as strings, as a Deployment sets them. */
function backendEnv(backends: Backends, db: DatabaseAccess): Record<string, string> {
  return Object.fromEntries(Object.entries({ ...backends.databaseConfig(db), ...backends.redisConfig }).map(([k, v]) => [k, String(v)]));
}

/**
 * auth-service's environment (services/README.md) on the backends, with `server` as its mTLS
 * certificate; ports are left to the caller (tests bind 0).
 */
export function authServiceEnv(backends: Backends, db: DatabaseAccess, server: IssuedCertificate, options: { issuer: string; audience: string; userServiceAddr: string }): Record<string, string> {
  return {
    TLS_CERT_FILE: server.certFile,
    TLS_KEY_FILE: server.keyFile,
    TLS_CA_FILE: backends.ca.caFile,
    ...backendEnv(backends, db),
    JWT_ISSUER: options.issuer,
    JWT_AUDIENCE: options.audience,
    USER_SERVICE_ADDR: options.userServiceAddr,
    AUTH_KEY_ENCRYPTION_KEY_FILE: backends.kekFile,
    LOG_LEVEL: 'silent',
  };
}

/** The real user-service on its own database of the backends, gRPC (mTLS) on a loopback port. */
export async function startUserServiceOn(backends: Backends, options: { database?: string; logger?: Logger } = {}): Promise<{ handle: UserServiceHandle; db: DatabaseAccess; address: string }> {
  const [db, cert] = await Promise.all([backends.pg.createDatabase(options.database ?? 'users'), issueServiceCertificate(backends.ca, 'user-service')]);
  const config = loadUserServiceConfig({
    ...backendEnv(backends, db),
    TLS_CERT_FILE: cert.certFile,
    TLS_KEY_FILE: cert.keyFile,
    TLS_CA_FILE: backends.ca.caFile,
    LOG_LEVEL: 'silent',
  });
  // Ephemeral ports: several suites run at once.
  const handle = await startUserService({ ...config, GRPC_PORT: 0, HEALTH_PORT: 0 }, { logger: options.logger ?? silentLogger, host: '127.0.0.1' });
  return { handle, db, address: `localhost:${handle.grpcPort}` };
}
