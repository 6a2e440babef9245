// The Redis rate limiter against a real Redis (TLS, ACL user) from the harness: limits,
// headers, window reset, sharing between replicas, the in-process fallback while Redis is
// stopped, and the switch back when it returns.
import pino from 'pino';
import { startRedis } from '../../harness';
import type { RedisServer } from '../../harness';
import { createRedis } from '../../../services/shared/src/redis';
import type { Redis } from '../../../services/shared/src/redis';
import { RateLimiter, rateLimitHeaders } from '../../../services/api-gateway/src/rate-limit';
import type { LimiterBackend, RateLimitPolicy } from '../../../services/api-gateway/src/rate-limit';

const logger = pino({ level: 'silent' });

function waitFor(client: Redis, status: string): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (client.status === status) resolve();
      else setTimeout(check, 20);
    };
    check();
  });
}

describe('RateLimiter with Redis', () => {
  let server: RedisServer;
  let redis: Redis;
  let prefix = 0;

  beforeAll(async () => {
    server = await startRedis();
    redis = createRedis({
      REDIS_HOST: server.host, REDIS_PORT: server.port, REDIS_TLS: true, REDIS_CA_FILE: server.caFile,
      REDIS_USERNAME: server.username, REDIS_PASSWORD_FILE: server.passwordFile,
    }, { logger, keyPrefix: 'api-gateway:' });
    await waitFor(redis, 'ready');
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.dispose();
  });

  // Each test counts under its own prefix so windows never carry over between tests.
  const limiter = (opts: { onBackendChange?: (b: LimiterBackend) => void } = {}) =>
    new RateLimiter({ redis, keyPrefix: `rl-${++prefix}:`, redisTimeoutMs: 1000, ...opts });

  it('allows `limit` requests per window, then refuses with headers', async () => {
    const rl = limiter();
    const policy: RateLimitPolicy = { name: 'user', limit: 3, windowSeconds: 60 };
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await rl.consume(policy, 'sub:alice'));
    expect(decisions.map((d) => [d.allowed, d.remaining, d.backend])).toEqual([
      [true, 2, 'redis'], [true, 1, 'redis'], [true, 0, 'redis'], [false, 0, 'redis'],
    ]);
    const headers = rateLimitHeaders(decisions[3]!);
    expect(headers).toMatchObject({ 'RateLimit-Limit': '3', 'RateLimit-Remaining': '0', 'RateLimit-Policy': '3;w=60' });
    expect(Number(headers['RateLimit-Reset'])).toBeGreaterThanOrEqual(1);
    expect(Number(headers['RateLimit-Reset'])).toBeLessThanOrEqual(60);
    expect(headers['Retry-After']).toBe(headers['RateLimit-Reset']);
    expect(rateLimitHeaders(decisions[0]!)['Retry-After']).toBeUndefined();
  });

  it('keeps subjects apart and shares counts between replicas', async () => {
    const a = limiter();
    const keyPrefix = `rl-${prefix}:`;
    const b = new RateLimiter({ redis, keyPrefix, redisTimeoutMs: 1000 });
    const policy: RateLimitPolicy = { name: 'user', limit: 2, windowSeconds: 60 };
    expect((await a.consume(policy, 'sub:bob')).remaining).toBe(1);
    expect((await b.consume(policy, 'sub:bob')).remaining).toBe(0);
    expect((await a.consume(policy, 'sub:bob')).allowed).toBe(false);
    expect((await b.consume(policy, 'sub:carol')).remaining).toBe(1);
    expect(await redis.exists(`${keyPrefix}user:sub:bob`)).toBe(1);
  });

  it('opens a new window after the reset', async () => {
    const rl = limiter();
    const policy: RateLimitPolicy = { name: 'short', limit: 1, windowSeconds: 1 };
    expect((await rl.consume(policy, 'ip:192.0.2.1')).allowed).toBe(true);
    const refused = await rl.consume(policy, 'ip:192.0.2.1');
    expect(refused.allowed).toBe(false);
    await new Promise((r) => setTimeout(r, refused.resetSeconds * 1000 + 100));
    expect(await rl.consume(policy, 'ip:192.0.2.1')).toMatchObject({ allowed: true, remaining: 0, backend: 'redis' });
  });

  it('keeps limiting in process memory while Redis is stopped, and goes back to Redis after', async () => {
    const switches: LimiterBackend[] = [];
    const rl = limiter({ onBackendChange: (b) => switches.push(b) });
    const policy: RateLimitPolicy = { name: 'user', limit: 2, windowSeconds: 60 };
    expect((await rl.consume(policy, 'sub:dave')).backend).toBe('redis');

    await server.stop();
    await waitFor(redis, 'reconnecting');
    const during = [];
    for (let i = 0; i < 3; i++) during.push(await rl.consume(policy, 'sub:dave'));
    // The local limiter starts its own window: limits hold, per replica.
    expect(during.map((d) => [d.allowed, d.backend])).toEqual([[true, 'local'], [true, 'local'], [false, 'local']]);
    expect(rl.activeBackend).toBe('local');
    expect(switches).toEqual(['local']);

    await server.start();
    await waitFor(redis, 'ready');
    const after = await rl.consume(policy, 'sub:dave');
    expect(after.backend).toBe('redis');
    expect(switches).toEqual(['local', 'redis']);
  });
});

describe('RateLimiter without Redis', () => {
  it('counts fixed windows locally with the same semantics', async () => {
    let now = 0;
    const rl = new RateLimiter({ redis: undefined, keyPrefix: 'rl:', redisTimeoutMs: 100, now: () => now });
    const policy: RateLimitPolicy = { name: 'anonymous', limit: 2, windowSeconds: 10 };
    expect(await rl.consume(policy, 'ip:a')).toMatchObject({ allowed: true, remaining: 1, resetSeconds: 10, backend: 'local' });
    now = 4_500;
    expect(await rl.consume(policy, 'ip:a')).toMatchObject({ allowed: true, remaining: 0, resetSeconds: 6 });
    expect(await rl.consume(policy, 'ip:a')).toMatchObject({ allowed: false, remaining: 0 });
    expect((await rl.consume(policy, 'ip:b')).allowed).toBe(true);
    now = 10_000;
    expect(await rl.consume(policy, 'ip:a')).toMatchObject({ allowed: true, remaining: 1, resetSeconds: 10 });
  });

  it('bounds the local table', async () => {
    const rl = new RateLimiter({ redis: undefined, keyPrefix: 'rl:', redisTimeoutMs: 100, maxLocalKeys: 3 });
    const policy: RateLimitPolicy = { name: 'anonymous', limit: 1, windowSeconds: 60 };
    for (const ip of ['a', 'b', 'c', 'd']) await rl.consume(policy, ip);
    // 'a' was evicted to make room, so it starts a fresh window; 'd' is still counted.
    expect((await rl.consume(policy, 'a')).allowed).toBe(true);
    expect((await rl.consume(policy, 'd')).allowed).toBe(false);
  });
});
