/**
 * Rate limiting: a fixed window per key, counted atomically in Redis by one Lua script
 * (INCR, and PEXPIRE when the window starts), shared by every gateway replica. Fixed window is
 * chosen for its one-key, one-round-trip cost and because its state maps directly onto the
 * RateLimit-Limit/Remaining/Reset headers; its known weakness (up to 2x the limit across a
 * window boundary) is acceptable for abuse protection.
 *
 * When Redis is unreachable (not connected, an error, or slower than `redisTimeoutMs`) the
 * same windows are counted in process memory instead, so limits keep holding (per replica)
 * rather than being dropped; the switch is logged and exported as a metric, and the limiter
 * goes back to Redis as soon as the client is connected again.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface RateLimitPolicy {
  /** Name used in keys, metrics and `RateLimit-Policy`, e.g. `anonymous`, `user`. */
  readonly name: string;
  readonly limit: number;
  readonly windowSeconds: number;
}

export type LimiterBackend = 'redis' | 'local';

export interface RateLimitDecision {
  readonly allowed: boolean;
  readonly policy: RateLimitPolicy;
  readonly remaining: number;
  /** Whole seconds until the window resets (>= 1 while a window is open). */
  readonly resetSeconds: number;
  readonly backend: LimiterBackend;
}

/** Keys as arguments, state as return value: {count, pttl}. Atomic because Lua scripts are. */
export const FIXED_WINDOW_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;
const SCRIPT_SHA = createHash('sha1').update(FIXED_WINDOW_SCRIPT).digest('hex');

export interface RateLimiterOptions {
  readonly redis: Redis | undefined;
  /** Prefix of every key, e.g. `gateway:rl:`. */
  readonly keyPrefix: string;
  /** A Redis answer slower than this counts as Redis being unavailable. */
  readonly redisTimeoutMs: number;
  /** Bound on the in-process table, so a flood of distinct keys cannot exhaust memory. */
  readonly maxLocalKeys?: number;
  readonly now?: () => number;
  readonly onDecision?: (decision: RateLimitDecision) => void;
  readonly onBackendChange?: (backend: LimiterBackend, error?: unknown) => void;
}

export class RateLimiter {
  private readonly local = new Map<string, { count: number; resetAt: number }>();
  private backend: LimiterBackend = 'redis';
  private readonly now: () => number;

  constructor(private readonly options: RateLimiterOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The backend used by the latest decision. */
  get activeBackend(): LimiterBackend {
    return this.backend;
  }

  async consume(policy: RateLimitPolicy, subject: string): Promise<RateLimitDecision> {
    const key = `${this.options.keyPrefix}${policy.name}:${subject}`;
    const windowMs = policy.windowSeconds * 1000;
    let counted: { count: number; ttlMs: number; backend: LimiterBackend };
    const redis = this.options.redis;
    if (redis && redis.status === 'ready') {
      try {
        const { count, ttlMs } = await this.redisHit(redis, key, windowMs);
        counted = { count, ttlMs, backend: 'redis' };
        this.switchTo('redis');
      } catch (error) {
        this.switchTo('local', error);
        counted = { ...this.localHit(key, windowMs), backend: 'local' };
      }
    } else {
      this.switchTo('local', new Error(redis ? `redis client is ${redis.status}` : 'no redis client configured'));
      counted = { ...this.localHit(key, windowMs), backend: 'local' };
    }
    const decision: RateLimitDecision = {
      allowed: counted.count <= policy.limit,
      policy,
      remaining: Math.max(0, policy.limit - counted.count),
      resetSeconds: Math.max(1, Math.ceil(counted.ttlMs / 1000)),
      backend: counted.backend,
    };
    this.options.onDecision?.(decision);
    return decision;
  }

  private switchTo(backend: LimiterBackend, error?: unknown): void {
    if (this.backend === backend) return;
    this.backend = backend;
    if (backend === 'redis') this.local.clear();
    this.options.onBackendChange?.(backend, error);
  }

  private async redisHit(redis: Redis, key: string, windowMs: number): Promise<{ count: number; ttlMs: number }> {
    const run = async (): Promise<unknown> => {
      try {
        return await redis.evalsha(SCRIPT_SHA, 1, key, windowMs);
      } catch (error) {
        // First use on this server (or after SCRIPT FLUSH / failover): load it with EVAL.
        if (error instanceof Error && error.message.startsWith('NOSCRIPT')) return redis.eval(FIXED_WINDOW_SCRIPT, 1, key, windowMs);
        throw error;
      }
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`redis did not answer within ${this.options.redisTimeoutMs} ms`)), this.options.redisTimeoutMs);
    });
    try {
      const result = await Promise.race([run(), timeout]);
      if (!Array.isArray(result) || result.length !== 2) throw new Error('unexpected rate-limit script result');
      return { count: Number(result[0]), ttlMs: Number(result[1]) };
    } finally {
      clearTimeout(timer);
    }
  }

  private localHit(key: string, windowMs: number): { count: number; ttlMs: number } {
    const now = this.now();
    let entry = this.local.get(key);
    if (!entry || entry.resetAt <= now) {
      if (!entry) this.evictIfFull(now);
      entry = { count: 0, resetAt: now + windowMs };
      this.local.set(key, entry);
    }
    entry.count += 1;
    return { count: entry.count, ttlMs: entry.resetAt - now };
  }

  private evictIfFull(now: number): void {
    const max = this.options.maxLocalKeys ?? 100_000;
    if (this.local.size < max) return;
    for (const [key, entry] of this.local) if (entry.resetAt <= now) this.local.delete(key);
    // Still full of live windows: drop the oldest (Map order = creation order).
    while (this.local.size >= max) this.local.delete(this.local.keys().next().value as string);
  }
}

/** The standard headers (IETF draft "RateLimit header fields", RateLimit-Limit/-Remaining/-Reset/-Policy). */
export function rateLimitHeaders(decision: RateLimitDecision): Record<string, string> {
  const headers: Record<string, string> = {
    'RateLimit-Limit': String(decision.policy.limit),
    'RateLimit-Remaining': String(decision.remaining),
    'RateLimit-Reset': String(decision.resetSeconds),
    'RateLimit-Policy': `${decision.policy.limit};w=${decision.policy.windowSeconds}`,
  };
  if (!decision.allowed) headers['Retry-After'] = String(decision.resetSeconds);
  return headers;
}
