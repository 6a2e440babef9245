/**
 * Authorize(subject, action, resource, token_id): the revocation denylist, the subject's roles
 * and the role->permission policy. Redis is the fast path for the first two; PostgreSQL is the
 * system of record, so with Redis down every answer is still given, only slower.
 */
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Clock } from './clock';
import { unauthenticated } from './errors';
import { decide } from './rbac';
import type { Decision, Permission, Policy } from './rbac';

/** How long the gateway may cache a decision: short, so logout and role changes bite fast. */
export const DECISION_TTL_SECONDS = 5;
/** Roles per user in Redis; grants and revocations delete the key, the TTL bounds any miss. */
export const ROLES_CACHE_TTL_SECONDS = 60;
/** The policy changes only with migrations; each replica re-reads it this often. */
const POLICY_CACHE_MS = 30_000;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const revokedKey = (jti: string) => `auth:revoked:${jti}`;
export const rolesKey = (userId: string) => `auth:roles:${userId}`;

export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

export interface AuthorizeResult extends Decision {
  readonly roles: readonly string[];
  readonly ttlSeconds: number;
}

export interface CacheObserver {
  cacheResult(cache: string, result: 'hit' | 'miss'): void;
}

export interface AuthorizerDeps {
  readonly pool: Pool;
  readonly redis: Redis;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics?: CacheObserver;
}

export class Authorizer {
  private policy: { value: Policy; loadedAt: number } | undefined;

  constructor(private readonly deps: AuthorizerDeps) {}

  async authorize(subject: string, action: string, resource: string, tokenId: string): Promise<AuthorizeResult> {
    const deny = (reason: string, roles: readonly string[] = []): AuthorizeResult => ({ allowed: false, reason, roles, ttlSeconds: DECISION_TTL_SECONDS });
    if (!isUuid(subject)) return deny('subject must be a user id (uuid)');
    if (tokenId !== '') {
      if (!isUuid(tokenId)) return deny('token_id must be the access token\'s jti (uuid)');
      // Not a policy decision: the credential itself is dead, so the caller answers 401, not 403.
      if (await this.isRevoked(tokenId)) throw unauthenticated('access token has been revoked');
    }
    const roles = await this.rolesOf(subject);
    const decision = decide(await this.currentPolicy(), subject.toLowerCase(), roles, action, resource);
    return { ...decision, roles, ttlSeconds: DECISION_TTL_SECONDS };
  }

  /** Logout: the database row is the record; Redis is written for the fast path. */
  async revokeAccessToken(jti: string, expiresAt: Date): Promise<void> {
    await this.deps.pool.query(
      'INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO UPDATE SET expires_at = GREATEST(revoked_access_tokens.expires_at, EXCLUDED.expires_at)',
      [jti, expiresAt],
    );
    const ttlMs = expiresAt.getTime() - this.deps.clock().getTime();
    if (ttlMs <= 0) return;
    await this.deps.redis.set(revokedKey(jti), '1', 'PX', ttlMs).catch((err: unknown) => {
      // Readers fall back to PostgreSQL only when Redis fails, so a Redis that is up but missed
      // this write would let the token through until it expires; say so loudly.
      this.deps.logger.warn({ err, jti }, 'could not write access-token revocation to Redis; PostgreSQL has it');
    });
  }

  async isRevoked(jti: string): Promise<boolean> {
    try {
      const hit = (await this.deps.redis.exists(revokedKey(jti))) === 1;
      this.deps.metrics?.cacheResult('auth_revoked', hit ? 'hit' : 'miss');
      return hit;
    } catch (err) {
      this.deps.logger.warn({ err }, 'Redis unavailable for the revocation check; asking PostgreSQL');
      const { rows } = await this.deps.pool.query('SELECT 1 FROM revoked_access_tokens WHERE jti = $1 AND expires_at > $2', [jti, this.deps.clock()]);
      return rows.length > 0;
    }
  }

  async rolesOf(userId: string): Promise<string[]> {
    const key = rolesKey(userId);
    let redisUp = true;
    try {
      const cached = await this.deps.redis.get(key);
      if (cached !== null) {
        this.deps.metrics?.cacheResult('auth_roles', 'hit');
        return cached === '' ? [] : cached.split(',');
      }
      this.deps.metrics?.cacheResult('auth_roles', 'miss');
    } catch (err) {
      redisUp = false;
      this.deps.logger.warn({ err }, 'Redis unavailable for roles; asking PostgreSQL');
    }
    const roles = await readRoles(this.deps.pool, userId);
    if (redisUp) {
      await this.deps.redis.set(key, roles.join(','), 'EX', ROLES_CACHE_TTL_SECONDS).catch(() => undefined);
    }
    return roles;
  }

  /** After a grant or revocation: the next Authorize reads the roles from PostgreSQL. */
  async forgetRoles(userId: string): Promise<void> {
    await this.deps.redis.del(rolesKey(userId)).catch((err: unknown) => {
      this.deps.logger.warn({ err, userId }, `could not drop cached roles; they expire within ${ROLES_CACHE_TTL_SECONDS} s`);
    });
  }

  async currentPolicy(): Promise<Policy> {
    if (this.policy && Date.now() - this.policy.loadedAt < POLICY_CACHE_MS) return this.policy.value;
    try {
      this.policy = { value: await loadPolicy(this.deps.pool), loadedAt: Date.now() };
    } catch (err) {
      if (!this.policy) throw err;
      this.deps.logger.warn({ err }, 'could not reload the authorization policy; using the previous copy');
    }
    return this.policy.value;
  }

  /** Deletes revocations of tokens that have expired anyway. */
  async purgeExpired(): Promise<number> {
    const { rowCount } = await this.deps.pool.query('DELETE FROM revoked_access_tokens WHERE expires_at < $1', [this.deps.clock()]);
    return rowCount ?? 0;
  }
}

export async function readRoles(pool: Pool, userId: string): Promise<string[]> {
  const { rows } = await pool.query<{ role: string }>('SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role', [userId]);
  return rows.map((r) => r.role);
}

export async function loadPolicy(pool: Pool): Promise<Policy> {
  const [actions, grants] = await Promise.all([
    pool.query<{ name: string }>('SELECT name FROM actions'),
    pool.query<{ role: string; action_pattern: string; resource_pattern: string }>(
      `SELECT rp.role, p.action_pattern, p.resource_pattern
         FROM role_permissions rp JOIN permissions p ON p.id = rp.permission_id
        ORDER BY rp.role, p.id`,
    ),
  ]);
  const rolePermissions = new Map<string, Permission[]>();
  for (const g of grants.rows) {
    const list = rolePermissions.get(g.role) ?? [];
    list.push({ action: g.action_pattern, resource: g.resource_pattern });
    rolePermissions.set(g.role, list);
  }
  return { actions: new Set(actions.rows.map((a) => a.name)), rolePermissions };
}
