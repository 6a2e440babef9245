/**
 * PostgreSQL (through PgBouncer) over TLS with full verification. The password is read from
 * its mounted file for every new connection, so a rotated secret is used without a restart.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { readFile } from 'node:fs/promises';
import { Pool } from 'pg';
import type { PoolConfig } from 'pg';
import type { Logger } from 'pino';
import type { DatabaseConfig } from './config';

export interface Postgres {
  /** The writer endpoint. */
  readonly pool: Pool;
  /** The reader endpoint when DATABASE_READ_HOST is set, else the writer pool. */
  readonly readPool: Pool;
  readonly hasReadReplica: boolean;
  /** Round trip on every pool (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface PostgresOptions {
  readonly logger: Logger;
  /** Shown in pg_stat_activity. */
  readonly applicationName: string;
  /** Connections per pool per replica; PgBouncer multiplexes them onto the server. */
  readonly max?: number;
}

function poolConfig(config: DatabaseConfig, host: string, port: number, options: PostgresOptions): PoolConfig {
  return {
    host,
    port,
    database: config.DATABASE_NAME,
    user: config.DATABASE_USER,
    // pg calls this for each new connection: the current secret, never a stale copy.
    password: async () => (await readFile(config.DATABASE_PASSWORD_FILE, 'utf8')).trim(),
    // SNI takes host names only (DEP0123); an IP is verified against the certificate's IP SANs.
    ssl: { ca: readFileSync(config.DATABASE_CA_FILE, 'utf8'), rejectUnauthorized: true, ...(isIP(host) ? {} : { servername: host }) },
    application_name: options.applicationName,
    max: options.max ?? 10,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
    // No statement_timeout here: pg would send it as a startup parameter, which PgBouncer refuses.
    // The limit is the role's default (the database bootstrap, dataTier.postgres.serviceStatementTimeoutSeconds).
  };
}

export function createPostgres(config: DatabaseConfig, options: PostgresOptions): Postgres {
  const { logger } = options;
  const pool = new Pool(poolConfig(config, config.DATABASE_HOST, config.DATABASE_PORT, options));
  const hasReadReplica = Boolean(config.DATABASE_READ_HOST);
  const readPool = hasReadReplica
    ? new Pool(poolConfig(config, config.DATABASE_READ_HOST!, config.DATABASE_READ_PORT ?? config.DATABASE_PORT, options))
    : pool;
  // An idle client losing its connection emits on the pool; without a listener it would crash the process.
  pool.on('error', (err) => logger.warn({ err, pool: 'writer' }, 'idle PostgreSQL connection failed'));
  // A checked-out client losing its connection emits 'error' on the client (pg-pool listens only
  // while it is idle); its queries fail anyway, so log instead of crashing the process.
  for (const p of new Set([pool, readPool])) {
    p.on('connect', (client) => client.on('error', (err) => logger.warn({ err }, 'PostgreSQL connection lost')));
  }
  if (readPool !== pool) readPool.on('error', (err) => logger.warn({ err, pool: 'reader' }, 'idle PostgreSQL connection failed'));
  let closed = false;
  return {
    pool,
    readPool,
    hasReadReplica,
    async ping() {
      await pool.query('SELECT 1');
      if (readPool !== pool) await readPool.query('SELECT 1');
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([pool.end(), readPool !== pool ? readPool.end() : undefined]);
    },
  };
}

/** SQLSTATE of a unique violation. */
export const UNIQUE_VIOLATION = '23505';

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: unknown; constraint?: unknown };
  return e?.code === UNIQUE_VIOLATION && (constraint === undefined || e.constraint === constraint);
}
