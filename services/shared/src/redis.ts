/**
 * Redis/Valkey over TLS with an ACL user. The offline queue is off: when Redis is down a
 * command fails at once, so a cache read can fall through to PostgreSQL instead of waiting.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisConfig } from './config';

export type { Redis } from 'ioredis';

export interface RedisOptions {
  readonly logger: Logger;
  /** Key prefix (e.g. the service name), so services sharing a cluster never collide. */
  readonly keyPrefix?: string;
  readonly commandTimeoutMs?: number;
  /** Connect on the first command instead of at once (tests). */
  readonly lazyConnect?: boolean;
}

function readPassword(config: RedisConfig): string | undefined {
  return config.REDIS_PASSWORD_FILE ? readFileSync(config.REDIS_PASSWORD_FILE, 'utf8').trim() : undefined;
}

export function createRedis(config: RedisConfig, options: RedisOptions): Redis {
  const { logger } = options;
  const client = new Redis({
    host: config.REDIS_HOST,
    port: config.REDIS_PORT,
    username: config.REDIS_USERNAME,
    password: readPassword(config),
    tls: config.REDIS_TLS
      ? {
        ca: config.REDIS_CA_FILE ? readFileSync(config.REDIS_CA_FILE, 'utf8') : undefined,
        rejectUnauthorized: true,
        // SNI takes host names only (DEP0123); an IP is verified against the certificate's IP SANs.
        ...(isIP(config.REDIS_HOST) ? {} : { servername: config.REDIS_HOST }),
      }
      : undefined,
    keyPrefix: options.keyPrefix,
    enableOfflineQueue: false,
    // Commands issued in the same event-loop turn (concurrent requests) share one write and one
    // read instead of a system call each; every command still gets its own answer.
    enableAutoPipelining: true,
    // Fail a command rather than retry it across reconnects: the caller has a fallback.
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    commandTimeout: options.commandTimeoutMs ?? 1_000,
    lazyConnect: options.lazyConnect ?? false,
    // Reconnect forever with capped exponential backoff; Redis coming back heals the cache path.
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), 5_000),
  });
  let lastState = '';
  client.on('error', (err: Error) => {
    // ioredis repeats the same error on every retry; log state changes, not each attempt.
    if (lastState !== err.message) logger.warn({ err }, 'Redis connection error');
    lastState = err.message;
  });
  client.on('ready', () => {
    if (lastState !== 'ready') logger.info({ host: config.REDIS_HOST, port: config.REDIS_PORT }, 'Redis ready');
    lastState = 'ready';
  });
  // A rotated ACL password is picked up on the next reconnect.
  client.on('reconnecting', () => {
    try {
      client.options.password = readPassword(config);
    } catch (err) {
      logger.warn({ err }, 'cannot re-read REDIS_PASSWORD_FILE');
    }
  });
  return client;
}

/**
 * Resolves once the client is connected and authenticated (commands fail fast before that,
 * the offline queue being off); rejects after `timeoutMs`.
 */
export function waitForRedis(client: Redis, timeoutMs = 2_000): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`Redis not ready after ${timeoutMs} ms (status ${client.status})`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}

/** PING after waiting (briefly) for the connection. */
export async function pingRedis(client: Redis, timeoutMs = 2_000): Promise<void> {
  await waitForRedis(client, timeoutMs);
  const reply = await client.ping();
  if (reply !== 'PONG') throw new Error(`unexpected PING reply ${reply}`);
}
