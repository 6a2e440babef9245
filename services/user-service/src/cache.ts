/**
 * Cache-aside for single users (the spec's read path): Redis first, PostgreSQL on a miss.
 * Redis is an optimisation here, never a dependency: any Redis failure is logged and the
 * caller falls through to the database.
 */
import type { Logger, Metrics, Redis } from '../../shared/src';
import type { UserRow } from './users';

export const CACHE_NAME = 'user';
export const cacheKey = (id: string) => `user:v1:${id}`;

export class UserCache {
  constructor(
    private readonly redis: Redis,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly ttlSeconds: number,
  ) {}

  async get(id: string): Promise<UserRow | undefined> {
    let raw: string | null = null;
    try {
      raw = await this.redis.get(cacheKey(id));
    } catch (err) {
      this.logger.warn({ err, id }, 'user cache read failed; reading PostgreSQL');
    }
    if (raw === null) {
      this.metrics.cacheResult(CACHE_NAME, 'miss');
      return undefined;
    }
    try {
      const v = JSON.parse(raw) as { id: string; email: string; name: string; createdAt: string };
      this.metrics.cacheResult(CACHE_NAME, 'hit');
      return { id: v.id, email: v.email, name: v.name, createdAt: new Date(v.createdAt) };
    } catch (err) {
      this.logger.warn({ err, id }, 'unreadable user cache entry; reading PostgreSQL');
      this.metrics.cacheResult(CACHE_NAME, 'miss');
      return undefined;
    }
  }

  async set(user: UserRow): Promise<void> {
    const value = JSON.stringify({ id: user.id, email: user.email, name: user.name, createdAt: user.createdAt.toISOString() });
    try {
      await this.redis.set(cacheKey(user.id), value, 'EX', this.ttlSeconds);
    } catch (err) {
      this.logger.warn({ err, id: user.id }, 'user cache write failed');
    }
  }

  /** Called after the write committed, so a reader cannot re-cache the old row from before it. */
  async invalidate(id: string): Promise<void> {
    try {
      await this.redis.del(cacheKey(id));
    } catch (err) {
      // The TTL bounds how long the stale entry can be served.
      this.logger.error({ err, id }, 'user cache invalidation failed; entry expires with its TTL');
    }
  }
}
