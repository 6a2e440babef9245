/**
 * auth-service: wires the domain (accounts, tokens, keys, authorization) onto the shared
 * runtime. `startAuthService` is used by main.ts and by the integration tests.
 */
import type { Redis } from 'ioredis';
import { AuthServiceService } from '../../proto/gen/auth/v1/auth';
import {
  createLogger,
  createPostgres,
  createRedis,
  GrpcServer,
  Metrics,
  runMigrations,
  startHealthServer, Cleanups, gracefulStop, serveGrpc, startupGate, migrationsBeside,
} from '../../shared/src';
import type { HealthServer, Logger, Postgres } from '../../shared/src';
import { Accounts } from './accounts';
import type { UserDirectory } from './accounts';
import { Authorizer } from './authorization';
import type { Clock } from './clock';
import { systemClock } from './clock';
import type { AuthConfig } from './config';
import { SERVICE_NAME } from './config';
import { authHandlers } from './handlers';
import { KeyEncryptor, SigningKeyStore } from './keys';
import { PasswordHasher } from './password';
import type { ScryptParams } from './password';
import { RefreshTokenStore } from './refresh';
import { TokenIssuer } from './tokens';
import { connectUserService } from './users';

export const MIGRATIONS_TABLE = 'pgmigrations_auth_service';
const PURGE_INTERVAL_MS = 10 * 60_000;

export interface AuthServiceDeps {
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  /** Tests step time forward through a key rotation. */
  readonly clock?: Clock;
  readonly scryptParams?: ScryptParams;
  /** How long each replica caches the signing keys (default 5 s). */
  readonly keyCacheMs?: number;
  /** Where the SQL migrations are; found next to the bundle or the sources by default. */
  readonly migrationsDir?: string;
  /** Host to bind the gRPC and health ports to (tests: 127.0.0.1). */
  readonly host?: string;
}

export interface AuthServiceHandle {
  readonly grpcPort: number;
  readonly healthPort: number;
  readonly keys: SigningKeyStore;
  readonly postgres: Postgres;
  readonly redis: Redis;
  readonly authorizer: Authorizer;
  stop(): Promise<void>;
}

export const defaultMigrationsDir = (): string => migrationsBeside(__dirname);

export async function startAuthService(config: AuthConfig, deps: AuthServiceDeps = {}): Promise<AuthServiceHandle> {
  const logger = deps.logger ?? createLogger({ service: SERVICE_NAME, level: config.LOG_LEVEL });
  const metrics = deps.metrics ?? new Metrics();
  const clock = deps.clock ?? systemClock;
  const cleanups = new Cleanups(logger);

  try {
    // Read and checked before anything connects: a bad key file must stop the start.
    const encryptor = KeyEncryptor.fromFile(config.AUTH_KEY_ENCRYPTION_KEY_FILE);
    const health: HealthServer = await startHealthServer({ port: config.HEALTH_PORT, host: deps.host, registry: metrics.registry, logger });
    cleanups.push(() => health.close());
    // /readyz answers from here on: without this it would say ready before gRPC listens.
    const markStarted = startupGate(health);

    const postgres = createPostgres(config, { logger, applicationName: SERVICE_NAME });
    cleanups.push(() => postgres.close());
    await runMigrations({ pool: postgres.pool, dir: deps.migrationsDir ?? defaultMigrationsDir(), migrationsTable: MIGRATIONS_TABLE, logger });

    // No key prefix: the key names (auth:revoked:<jti>, auth:roles:<id>) are part of the contract.
    const redis = createRedis(config, { logger });
    cleanups.push(async () => {
      await redis.quit().catch(() => redis.disconnect());
    });

    const keys = new SigningKeyStore(postgres.pool, encryptor, clock, {
      jwksMaxAgeSeconds: config.JWKS_MAX_AGE_SECONDS,
      accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      cacheMs: deps.keyCacheMs,
      warn: (message, err) => logger.warn({ err }, message),
    });
    await keys.bootstrap();
    await keys.current();

    const tls = { certFile: config.TLS_CERT_FILE, keyFile: config.TLS_KEY_FILE, caFile: config.TLS_CA_FILE };
    const users: UserDirectory & { close(): void } = await connectUserService(config.USER_SERVICE_ADDR, tls);
    cleanups.push(() => users.close());

    const authorizer = new Authorizer({ pool: postgres.pool, redis, clock, logger, metrics });
    const refreshTokens = new RefreshTokenStore(postgres.pool, clock, config.REFRESH_TOKEN_TTL_SECONDS);
    const accounts = new Accounts({
      pool: postgres.pool,
      clock,
      logger,
      hasher: new PasswordHasher(deps.scryptParams),
      tokens: new TokenIssuer(() => keys.current(), clock, { issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS }),
      refreshTokens,
      authorizer,
      users,
      refreshTokenTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
      accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    });

    const server = new GrpcServer({ tls, allowedPeers: config.GRPC_ALLOWED_PEERS, logger, metrics });
    server.addService(AuthServiceService, authHandlers({ accounts, authorizer, keys, clock, jwksMaxAgeSeconds: config.JWKS_MAX_AGE_SECONDS }));
    const grpcPort = await serveGrpc(server, { port: config.GRPC_PORT, host: deps.host, health, cleanups });

    // Redis is not a readiness dependency: every path falls back to PostgreSQL without it.
    health.addReadinessCheck('postgres', () => postgres.ping());
    health.addReadinessCheck('signing-key', async () => {
      if (!(await keys.current()).signingKey(clock())) throw new Error('no active signing key');
    });

    const purge = setInterval(() => {
      void Promise.all([refreshTokens.purgeExpired(), authorizer.purgeExpired()]).then(
        ([refresh, revoked]) => logger.debug({ refresh, revoked }, 'purged expired tokens'),
        (err: unknown) => logger.warn({ err }, 'purging expired tokens failed'),
      );
    }, PURGE_INTERVAL_MS);
    purge.unref();
    cleanups.push(() => clearInterval(purge));
    let recovering: Promise<unknown> | undefined;
    const emailRecovery = setInterval(() => {
      recovering ??= accounts.finishEmailChanges(config.EMAIL_CHANGE_RECOVERY_AFTER_MS)
        .catch((err: unknown) => logger.warn({ err }, 'email change recovery pass failed'))
        .finally(() => {
          recovering = undefined;
        });
    }, config.EMAIL_CHANGE_RECOVERY_INTERVAL_MS);
    emailRecovery.unref();
    cleanups.push(async () => {
      clearInterval(emailRecovery);
      await recovering;
    });
    markStarted();

    return {
      grpcPort,
      healthPort: health.port,
      keys,
      postgres,
      redis,
      authorizer,
      stop: gracefulStop({ health, server, graceMs: config.SHUTDOWN_GRACE_MS, cleanups }),
    };
  } catch (err) {
    await cleanups.run();
    throw err;
  }
}
