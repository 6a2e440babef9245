/**
 * Rotating refresh tokens. A token is 32 random bytes (base64url) shown once and stored only as
 * its SHA-256. Each refresh spends the presented token and issues the next one in the same
 * family; presenting a spent token means it was copied, so the whole family is revoked
 * (OAuth 2.0 Security BCP, refresh token rotation with reuse detection).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { Clock } from './clock';
import { withTransaction } from './db';
import { ServiceError, Status } from './errors';

const TOKEN_BYTES = 32;
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

export interface RefreshTokenRow {
  readonly id: string;
  readonly family_id: string;
  readonly user_id: string;
  readonly expires_at: Date;
  readonly used_at: Date | null;
  readonly revoked_at: Date | null;
}

export type RefreshVerdict = 'rotate' | 'reused' | 'revoked' | 'expired' | 'unknown';

/** What presenting this token means; revocation wins over reuse, reuse over expiry. */
export function classifyRefresh(row: RefreshTokenRow | undefined, now: Date): RefreshVerdict {
  if (!row) return 'unknown';
  if (row.revoked_at) return 'revoked';
  if (row.used_at) return 'reused';
  if (row.expires_at <= now) return 'expired';
  return 'rotate';
}

export function hashRefreshToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export interface IssuedRefreshToken {
  readonly token: string;
  readonly familyId: string;
  readonly expiresAt: Date;
}

export class RefreshTokenStore {
  constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly ttlSeconds: number,
  ) {}

  /** Starts a new family (a login), or continues `familyId` (a refresh). */
  async issue(userId: string, familyId: string = randomUUID(), db: Pool | PoolClient = this.pool): Promise<IssuedRefreshToken> {
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const now = this.clock();
    const expiresAt = new Date(now.getTime() + this.ttlSeconds * 1000);
    await db.query(
      `INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [randomUUID(), familyId, userId, hashRefreshToken(token), now, expiresAt],
    );
    return { token, familyId, expiresAt };
  }

  /**
   * Spends `token` and returns the next one. Every failure is the same UNAUTHENTICATED to the
   * caller; `verdict` tells logs and tests why.
   */
  async rotate(token: string): Promise<{ userId: string; next: IssuedRefreshToken }> {
    if (!TOKEN_RE.test(token)) throw new RefreshRejected('unknown');
    const outcome = await withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<RefreshTokenRow>(
        `SELECT id, family_id, user_id, expires_at, used_at, revoked_at
           FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`,
        [hashRefreshToken(token)],
      );
      const row = rows[0];
      const now = this.clock();
      const verdict = classifyRefresh(row, now);
      if (verdict === 'reused') {
        await client.query('UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL', [row!.family_id, now]);
      }
      if (verdict !== 'rotate') return { verdict } as const;
      await client.query('UPDATE refresh_tokens SET used_at = $2 WHERE id = $1', [row!.id, now]);
      const next = await this.issue(row!.user_id, row!.family_id, client);
      return { verdict, userId: row!.user_id, next } as const;
    });
    if (outcome.verdict !== 'rotate') throw new RefreshRejected(outcome.verdict);
    return { userId: outcome.userId, next: outcome.next };
  }

  /** Logout: revokes the family of `token`, whatever state the token is in. Unknown tokens are ignored. */
  async revokeFamily(token: string): Promise<boolean> {
    if (!TOKEN_RE.test(token)) return false;
    const { rowCount } = await this.pool.query(
      `UPDATE refresh_tokens SET revoked_at = $2
        WHERE revoked_at IS NULL
          AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)`,
      [hashRefreshToken(token), this.clock()],
    );
    return (rowCount ?? 0) > 0;
  }

  /** Drops rows expired for more than a day (kept that long for reuse forensics). */
  async purgeExpired(): Promise<number> {
    const cutoff = new Date(this.clock().getTime() - 86_400_000);
    const { rowCount } = await this.pool.query('DELETE FROM refresh_tokens WHERE expires_at < $1', [cutoff]);
    return rowCount ?? 0;
  }
}

/** One message for every failure, so a caller learns nothing about other families. */
export class RefreshRejected extends ServiceError {
  constructor(readonly verdict: Exclude<RefreshVerdict, 'rotate'>) {
    super(Status.UNAUTHENTICATED, 'refresh token is invalid or expired');
    this.name = 'RefreshRejected';
  }
}
