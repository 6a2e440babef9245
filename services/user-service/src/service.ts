/**
 * user-service (spec: "User management, profiles"): user.v1.UserService over gRPC with mTLS,
 * PostgreSQL as the system of record, Redis cache-aside on GetUser.
 */
import { z } from 'zod';
import { UserServiceService } from '../../proto/gen/user/v1/user';
import type { User } from '../../proto/gen/user/v1/user';
import {
  GrpcServer, Metrics, ServiceError, Status, commonEnv, createLogger, createPostgres, createRedis, databaseEnv,
  databaseReadEnv, grpcServerEnv, invalidArgument, loadConfig, pingRedis, redisEnv, runMigrations, startHealthServer, Cleanups, gracefulStop, serveGrpc, startupGate, migrationsBeside,
} from '../../shared/src';
import type { Logger, ServiceHandlers } from '../../shared/src';
import { UserCache } from './cache';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, UserStore, checkId, decodeCursor, normaliseEmail, normaliseName } from './users';
import type { UserRow } from './users';

export const SERVICE_NAME = 'user-service';
/** api-gateway serves the user API; auth-service creates users at registration. */
export const DEFAULT_ALLOWED_PEERS = ['api-gateway', 'auth-service'] as const;
// choice: five minutes bounds staleness should an invalidation ever be lost.
export const USER_CACHE_TTL_SECONDS = 300;

export const userServiceEnvSchema = z.object({
  ...commonEnv(SERVICE_NAME),
  ...grpcServerEnv(SERVICE_NAME, DEFAULT_ALLOWED_PEERS),
  ...databaseEnv,
  ...databaseReadEnv,
  ...redisEnv,
});

export type UserServiceConfig = z.infer<typeof userServiceEnvSchema>;

export function loadUserServiceConfig(env: Readonly<Record<string, string | undefined>> = process.env): UserServiceConfig {
  return loadConfig(userServiceEnvSchema, env);
}

export interface UserServiceOptions {
  readonly logger?: Logger;
  /** Bind address of both ports (tests use 127.0.0.1). */
  readonly host?: string;
  readonly certRefreshIntervalMs?: number;
  readonly migrationsDir?: string;
}

export interface UserServiceHandle {
  readonly grpcPort: number;
  readonly healthPort: number;
  readonly metrics: Metrics;
  stop(): Promise<void>;
}

const defaultMigrationsDir = (): string => migrationsBeside(__dirname);

function toProto(row: UserRow): User {
  return { id: row.id, email: row.email, name: row.name, createdAt: row.createdAt };
}

function notFound(id: string): ServiceError {
  return new ServiceError(Status.NOT_FOUND, `user ${id} not found`);
}

export async function startUserService(config: UserServiceConfig, options: UserServiceOptions = {}): Promise<UserServiceHandle> {
  const logger = options.logger ?? createLogger({ service: SERVICE_NAME, level: config.LOG_LEVEL });
  const metrics = new Metrics();
  const cleanups = new Cleanups(logger);

  try {
    const health = await startHealthServer({ port: config.HEALTH_PORT, host: options.host, registry: metrics.registry, logger });
    cleanups.push(() => health.close());
    // Not ready until every part is up (migrations can take a while).
    const markStarted = startupGate(health);

    const postgres = createPostgres(config, { logger, applicationName: SERVICE_NAME });
    cleanups.push(() => postgres.close());
    health.addReadinessCheck('postgres', () => postgres.ping());
    await runMigrations({ pool: postgres.pool, dir: options.migrationsDir ?? defaultMigrationsDir(), migrationsTable: 'pgmigrations_user_service', logger });

    const redis = createRedis(config, { logger });
    cleanups.push(() => redis.disconnect());
    // Not a readiness check: with Redis down, reads fall through to PostgreSQL.
    void pingRedis(redis).catch(() => undefined);

    const store = new UserStore(postgres.pool, postgres.readPool);
    const cache = new UserCache(redis, metrics, logger, USER_CACHE_TTL_SECONDS);

    const handlers: ServiceHandlers<typeof UserServiceService> = {
      async createUser(req) {
        const email = normaliseEmail(req.email);
        const name = normaliseName(req.name);
        const user = await store.create(email, name);
        logger.info({ userId: user.id }, 'user created');
        return { user: toProto(user) };
      },
      async getUser(req) {
        const id = checkId(req.id);
        const cached = await cache.get(id);
        if (cached) return { user: toProto(cached) };
        const user = await store.get(id);
        if (!user) throw notFound(id);
        await cache.set(user);
        return { user: toProto(user) };
      },
      async updateUser(req, ctx) {
        const id = checkId(req.id);
        if (req.email === undefined && req.name === undefined) throw invalidArgument('email, name', 'give at least one field to update');
        // One owner of the login email: it changes only through auth-service's ChangeEmail, which
        // keeps the credential and this copy in step.
        if (req.email !== undefined && ctx.peer !== 'auth-service') {
          throw new ServiceError(Status.PERMISSION_DENIED, 'email: the login email changes through auth-service (ChangeEmail), with the current password');
        }
        const changes = {
          email: req.email === undefined ? undefined : normaliseEmail(req.email),
          name: req.name === undefined ? undefined : normaliseName(req.name),
        };
        const user = await store.update(id, changes);
        if (!user) throw notFound(id);
        await cache.invalidate(id);
        return { user: toProto(user) };
      },
      async listUsers(req) {
        if (!Number.isInteger(req.pageSize) || req.pageSize < 0) throw invalidArgument('page_size', 'must not be negative');
        // AIP-158: 0 means the default, too large is coerced down rather than rejected.
        const pageSize = req.pageSize === 0 ? DEFAULT_PAGE_SIZE : Math.min(req.pageSize, MAX_PAGE_SIZE);
        const after = req.pageToken ? decodeCursor(req.pageToken) : undefined;
        const page = await store.list(pageSize, after);
        return { users: page.users.map(toProto), nextPageToken: page.next };
      },
      async deleteUser(req) {
        const id = checkId(req.id);
        if (!(await store.delete(id))) throw notFound(id);
        await cache.invalidate(id);
        logger.info({ userId: id }, 'user deleted');
        return {};
      },
    };

    const grpcServer = new GrpcServer({
      tls: { certFile: config.TLS_CERT_FILE, keyFile: config.TLS_KEY_FILE, caFile: config.TLS_CA_FILE, refreshIntervalMs: options.certRefreshIntervalMs },
      allowedPeers: config.GRPC_ALLOWED_PEERS,
      logger,
      metrics,
    });
    grpcServer.addService(UserServiceService, handlers);
    const grpcPort = await serveGrpc(grpcServer, { port: config.GRPC_PORT, host: options.host, health, cleanups });
    markStarted();
    logger.info({ grpcPort, healthPort: health.port, readReplica: postgres.hasReadReplica }, 'user-service started');

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
