/**
 * Registration, login, refresh and logout: the flows behind the RPCs, independent of gRPC.
 */
import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import type { Authorizer } from './authorization';
import { isUuid, readRoles } from './authorization';
import type { Clock } from './clock';
import { isUniqueViolation, withTransaction } from './db';
import { ACCOUNT_LIMITS } from '../../shared/src/account-limits';
import { invalidArgument, ServiceError, Status, unauthenticated } from './errors';
import type { PasswordHasher } from './password';
import type { RefreshTokenStore } from './refresh';
import type { TokenIssuer } from './tokens';

export const MIN_PASSWORD_LENGTH = ACCOUNT_LIMITS.passwordMinLength;
export const MAX_PASSWORD_LENGTH = ACCOUNT_LIMITS.passwordMaxLength;
export const MAX_NAME_LENGTH = ACCOUNT_LIMITS.nameMaxLength;
const MAX_EMAIL_LENGTH = ACCOUNT_LIMITS.emailMaxLength;
const EMAIL_RE = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
// Control characters have no place in a display name and break logs.
const CONTROL_RE = /\p{Cc}/u;
const LOGIN_FAILED = 'invalid email or password';

/** The account's profile lives in user-service; registration creates it and undoes it on failure. */
export interface UserDirectory {
  createUser(email: string, name: string): Promise<string>;
  deleteUser(id: string): Promise<void>;
}

export interface TokenPairResult {
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly refreshToken: string;
  readonly refreshExpiresIn: number;
  readonly tokenType: string;
}

export function normaliseEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (email === '') throw invalidArgument('email', 'is required');
  if (email.length > MAX_EMAIL_LENGTH || !EMAIL_RE.test(email)) throw invalidArgument('email', 'must be a valid e-mail address');
  return email;
}

export function checkNewPassword(password: string): void {
  const length = [...password].length; // code points, as NIST counts characters
  if (length < MIN_PASSWORD_LENGTH) throw invalidArgument('password', `must be at least ${MIN_PASSWORD_LENGTH} characters`);
  if (length > MAX_PASSWORD_LENGTH) throw invalidArgument('password', `must be at most ${MAX_PASSWORD_LENGTH} characters`);
}

export function normaliseName(raw: string): string {
  const name = raw.trim();
  if (name === '') throw invalidArgument('name', 'is required');
  if ([...name].length > MAX_NAME_LENGTH) throw invalidArgument('name', `must be at most ${MAX_NAME_LENGTH} characters`);
  if (CONTROL_RE.test(name)) throw invalidArgument('name', 'must not contain control characters');
  return name;
}

export interface AccountsDeps {
  readonly pool: Pool;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly hasher: PasswordHasher;
  readonly tokens: TokenIssuer;
  readonly refreshTokens: RefreshTokenStore;
  readonly authorizer: Authorizer;
  readonly users: UserDirectory;
  readonly refreshTokenTtlSeconds: number;
  /** Longest an access token lives; bounds how long a revocation is kept. */
  readonly accessTokenTtlSeconds: number;
}

export class Accounts {
  constructor(private readonly deps: AccountsDeps) {}

  async register(rawEmail: string, password: string, rawName: string): Promise<string> {
    const email = normaliseEmail(rawEmail);
    checkNewPassword(password);
    const name = normaliseName(rawName);
    const { pool, users, logger } = this.deps;
    // Cheap early answer for the common duplicate; the unique index below is the real guard.
    const existing = await pool.query('SELECT 1 FROM credentials WHERE email = $1', [email]);
    if (existing.rows.length > 0) throw alreadyRegistered();
    const passwordHash = await this.deps.hasher.hash(password);

    let userId: string;
    try {
      userId = await users.createUser(email, name);
    } catch (err) {
      if ((err as { code?: unknown }).code === Status.ALREADY_EXISTS) throw alreadyRegistered();
      throw err;
    }
    try {
      await withTransaction(pool, async (client) => {
        await client.query('INSERT INTO credentials (user_id, email, password_hash) VALUES ($1, $2, $3)', [userId, email, passwordHash]);
        await client.query("INSERT INTO user_roles (user_id, role) VALUES ($1, 'customer')", [userId]);
      });
    } catch (err) {
      // Compensation: without a credential the profile is unreachable, so remove it.
      await users.deleteUser(userId).catch((deleteErr: unknown) => {
        logger.error({ err: deleteErr, userId }, 'compensation failed: profile left in user-service without a credential');
      });
      if (isUniqueViolation(err)) throw alreadyRegistered();
      throw err;
    }
    logger.info({ userId }, 'account registered');
    return userId;
  }

  async login(rawEmail: string, password: string): Promise<TokenPairResult> {
    if (rawEmail.trim() === '') throw invalidArgument('email', 'is required');
    if (password === '') throw invalidArgument('password', 'is required');
    // Longer than any password we accept: refuse before hashing megabytes.
    if (password.length > MAX_PASSWORD_LENGTH * 4) throw unauthenticated(LOGIN_FAILED);
    const email = rawEmail.trim().toLowerCase();
    const { rows } = await this.deps.pool.query<{ user_id: string; password_hash: string }>(
      'SELECT user_id, password_hash FROM credentials WHERE email = $1',
      [email],
    );
    const credential = rows[0];
    if (!credential) {
      // Same work factor as a real check, so timing does not tell which emails exist.
      await this.deps.hasher.burn(password);
      throw unauthenticated(LOGIN_FAILED);
    }
    if (!(await this.deps.hasher.verify(password, credential.password_hash))) throw unauthenticated(LOGIN_FAILED);
    if (this.deps.hasher.needsRehash(credential.password_hash)) await this.rehash(credential.user_id, credential.password_hash, password);
    return this.issuePair(credential.user_id, await this.deps.refreshTokens.issue(credential.user_id));
  }

  async refresh(refreshToken: string): Promise<TokenPairResult> {
    if (refreshToken === '') throw invalidArgument('refresh_token', 'is required');
    const { userId, next } = await this.deps.refreshTokens.rotate(refreshToken);
    return this.issuePair(userId, next);
  }

  async logout(refreshToken: string, accessTokenId: string, accessTokenExpiresAt: number): Promise<void> {
    if (refreshToken === '' && accessTokenId === '') throw invalidArgument('refresh_token', 'refresh_token or access_token_id is required');
    if (accessTokenId !== '') {
      if (!isUuid(accessTokenId)) throw invalidArgument('access_token_id', 'must be the access token\'s jti (uuid)');
      if (!Number.isSafeInteger(accessTokenExpiresAt) || accessTokenExpiresAt <= 0) {
        throw invalidArgument('access_token_expires_at', 'must be the access token\'s exp (seconds since the epoch)');
      }
      // No token of ours lives longer than the access TTL: cap what a caller can make us store.
      const latest = this.deps.clock().getTime() + (this.deps.accessTokenTtlSeconds + 60) * 1000;
      const expiresAt = new Date(Math.min(accessTokenExpiresAt * 1000, latest));
      await this.deps.authorizer.revokeAccessToken(accessTokenId.toLowerCase(), expiresAt);
    }
    if (refreshToken !== '') await this.deps.refreshTokens.revokeFamily(refreshToken);
  }

  private async issuePair(userId: string, refresh: { token: string; expiresAt: Date }): Promise<TokenPairResult> {
    const roles = await readRoles(this.deps.pool, userId);
    const access = await this.deps.tokens.issue(userId, roles);
    // Floor: a client told a second too little refreshes early, never too late.
    const refreshLeft = Math.floor((refresh.expiresAt.getTime() - this.deps.clock().getTime()) / 1000);
    return {
      accessToken: access.token,
      expiresIn: access.lifetimeSeconds,
      refreshToken: refresh.token,
      refreshExpiresIn: Math.min(refreshLeft, this.deps.refreshTokenTtlSeconds),
      tokenType: 'Bearer',
    };
  }

  /** Parameters changed since this hash was made: store a new one (only if nobody changed it meanwhile). */
  private async rehash(userId: string, oldHash: string, password: string): Promise<void> {
    try {
      const newHash = await this.deps.hasher.hash(password);
      await this.deps.pool.query(
        'UPDATE credentials SET password_hash = $3, updated_at = now() WHERE user_id = $1 AND password_hash = $2',
        [userId, oldHash, newHash],
      );
    } catch (err) {
      // The login itself succeeded; the upgrade is retried at the next one.
      this.deps.logger.warn({ err, userId }, 'password rehash failed');
    }
  }
}

function alreadyRegistered(): ServiceError {
  return new ServiceError(Status.ALREADY_EXISTS, 'email: an account with this email already exists');
}

/** Grants `role` to the account with `email` (admin bootstrap CLI and tests). */
export async function grantRole(db: Pool | PoolClient, email: string, role: string): Promise<string> {
  const normalised = normaliseEmail(email);
  const { rows: roles } = await db.query('SELECT 1 FROM roles WHERE name = $1', [role]);
  if (roles.length === 0) throw invalidArgument('role', `unknown role ${JSON.stringify(role)}`);
  const { rows } = await db.query<{ user_id: string }>('SELECT user_id FROM credentials WHERE email = $1', [normalised]);
  const userId = rows[0]?.user_id;
  if (!userId) throw new ServiceError(Status.NOT_FOUND, `email: no account with email ${normalised}`);
  await db.query('INSERT INTO user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING', [userId, role]);
  return userId;
}
