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
import { FIELD_RULES, textProblem } from '../../shared/src/field-rules';
import { invalidArgument, ServiceError, Status, unauthenticated } from './errors';
import type { PasswordHasher } from './password';
import type { RefreshTokenStore } from './refresh';
import type { TokenIssuer } from './tokens';

export const MIN_PASSWORD_LENGTH = ACCOUNT_LIMITS.passwordMinLength;
export const MAX_PASSWORD_LENGTH = ACCOUNT_LIMITS.passwordMaxLength;
export const MAX_NAME_LENGTH = ACCOUNT_LIMITS.nameMaxLength;
const LOGIN_FAILED = 'invalid email or password';

/**
 * The account's profile lives in user-service: registration creates it (and undoes it on
 * failure), an email change sets the profile's copy of the login email.
 */
export interface UserDirectory {
  createUser(email: string, name: string): Promise<string>;
  deleteUser(id: string): Promise<void>;
  /** Sets the profile's email; errors carry user-service's gRPC code. */
  setEmail(id: string, email: string): Promise<void>;
}

/** How an email change ended (see changeEmail). */
export type EmailChangeOutcome = 'changed' | 'refused' | 'reverted' | 'reverting' | 'busy';

export interface TokenPairResult {
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly refreshToken: string;
  readonly refreshExpiresIn: number;
  readonly tokenType: string;
}

/** The rule the public document gives (FIELD_RULES.email), then lower case: addresses compare case-insensitively. */
export function normaliseEmail(raw: string, field = 'email'): string {
  const problem = textProblem(raw, FIELD_RULES.email);
  if (problem) throw invalidArgument(field, problem);
  return raw.toLowerCase();
}

export function checkNewPassword(password: string): void {
  const length = [...password].length; // code points, as NIST counts characters
  if (length < MIN_PASSWORD_LENGTH) throw invalidArgument('password', `must be at least ${MIN_PASSWORD_LENGTH} characters`);
  if (length > MAX_PASSWORD_LENGTH) throw invalidArgument('password', `must be at most ${MAX_PASSWORD_LENGTH} characters`);
}

/** The rule the public document gives (FIELD_RULES.name): refused, never trimmed, so both paths that set a name agree. */
export function normaliseName(raw: string): string {
  const problem = textProblem(raw, FIELD_RULES.name);
  if (problem) throw invalidArgument('name', problem);
  return raw;
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
      // A revoked token is a dead credential here as on every other route (Authorize says the same).
      if (await this.deps.authorizer.isRevoked(accessTokenId.toLowerCase())) throw unauthenticated('access token has been revoked');
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

  /**
   * Changes the login email of `userId` after checking `currentPassword`. The profile in
   * user-service changes first, then the credential, under the email_changes row that says how to
   * finish: a refusal by user-service (the address is taken) changes nothing; an unknown outcome
   * (user-service unreachable) sets the profile back; whatever a crash interrupts, recovery
   * (finishEmailChanges) completes or reverts. Both agree at the end, or neither changed.
   */
  async changeEmail(userId: string, rawNewEmail: string, currentPassword: string): Promise<string> {
    if (!isUuid(userId)) throw unauthenticated('x-subject must be a user id');
    const newEmail = normaliseEmail(rawNewEmail, 'new_email');
    if (currentPassword === '') throw invalidArgument('current_password', 'is required');
    const { pool, logger } = this.deps;
    const { rows } = await pool.query<{ email: string; password_hash: string }>('SELECT email, password_hash FROM credentials WHERE user_id = $1', [userId]);
    const credential = rows[0];
    if (!credential) throw unauthenticated('no account for this token');
    if (currentPassword.length > MAX_PASSWORD_LENGTH * 4 || !(await this.deps.hasher.verify(currentPassword, credential.password_hash))) {
      throw new ServiceError(Status.PERMISSION_DENIED, 'current_password: is not the account\'s password');
    }
    if (newEmail === credential.email) return newEmail;
    const taken = await pool.query('SELECT 1 FROM credentials WHERE email = $1', [newEmail]);
    if (taken.rows.length > 0) throw emailTaken();
    try {
      await pool.query("INSERT INTO email_changes (user_id, old_email, new_email, state) VALUES ($1, $2, $3, 'applying')", [userId, credential.email, newEmail]);
    } catch (err) {
      if (isUniqueViolation(err, 'email_changes_pkey')) throw new ServiceError(Status.FAILED_PRECONDITION, 'email: a change of this account\'s email is still being completed; try again shortly');
      if (isUniqueViolation(err)) throw emailTaken();
      throw err;
    }
    const outcome = await this.finishEmailChange(userId, false);
    logger.info({ userId, outcome: outcome.outcome }, 'email change');
    switch (outcome.outcome) {
      case 'changed':
        return newEmail;
      case 'refused':
        throw outcome.error ?? emailTaken();
      default:
        throw new ServiceError(Status.UNAVAILABLE, 'user-service is unavailable; the email has not been changed, try again');
    }
  }

  /**
   * Drives the email change of `userId` one step further under its row lock: 'applying' sets the
   * profile's email, then the credential's; 'reverting' sets the profile's back. `skipLocked`:
   * recovery leaves a change that a request is driving right now.
   */
  async finishEmailChange(userId: string, skipLocked: boolean): Promise<{ outcome: EmailChangeOutcome; error?: ServiceError }> {
    const { users, logger } = this.deps;
    return withTransaction(this.deps.pool, async (client) => {
      const { rows } = await client.query<{ old_email: string; new_email: string; state: 'applying' | 'reverting' }>(
        `SELECT old_email, new_email, state FROM email_changes WHERE user_id = $1 FOR UPDATE${skipLocked ? ' SKIP LOCKED' : ''}`, [userId],
      );
      const change = rows[0];
      if (!change) return { outcome: 'busy' as const };
      const revert = async (): Promise<{ outcome: EmailChangeOutcome }> => {
        await client.query("UPDATE email_changes SET state = 'reverting', updated_at = now() WHERE user_id = $1", [userId]);
        try {
          await users.setEmail(userId, change.old_email);
        } catch (err) {
          logger.warn({ err, userId }, 'could not set the profile\'s email back yet; recovery retries');
          return { outcome: 'reverting' };
        }
        await client.query('DELETE FROM email_changes WHERE user_id = $1', [userId]);
        return { outcome: 'reverted' };
      };
      if (change.state === 'reverting') return revert();
      try {
        await users.setEmail(userId, change.new_email);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code === Status.ALREADY_EXISTS || code === Status.INVALID_ARGUMENT || code === Status.NOT_FOUND || code === Status.PERMISSION_DENIED) {
          // user-service said no: its profile kept the old address.
          await client.query('DELETE FROM email_changes WHERE user_id = $1', [userId]);
          return { outcome: 'refused' as const, error: code === Status.ALREADY_EXISTS ? emailTaken() : new ServiceError(Status.FAILED_PRECONDITION, `new_email: ${(err as Error).message}`) };
        }
        // Unknown whether the profile changed: make sure it did not.
        logger.warn({ err, userId }, 'user-service did not confirm the email change; reverting it');
        return revert();
      }
      await client.query('SAVEPOINT credential');
      try {
        await client.query('UPDATE credentials SET email = $2, updated_at = now() WHERE user_id = $1', [userId, change.new_email]);
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        await client.query('ROLLBACK TO SAVEPOINT credential');
        return revert();
      }
      await client.query('DELETE FROM email_changes WHERE user_id = $1', [userId]);
      return { outcome: 'changed' as const };
    });
  }

  /** Recovery: finishes the email changes a crash or an outage left, oldest first. */
  async finishEmailChanges(olderThanMs: number): Promise<number> {
    const { rows } = await this.deps.pool.query<{ user_id: string }>(
      'SELECT user_id FROM email_changes WHERE updated_at < now() - make_interval(secs => $1::double precision / 1000) ORDER BY updated_at LIMIT 50',
      [olderThanMs],
    );
    let finished = 0;
    for (const { user_id: userId } of rows) {
      const { outcome } = await this.finishEmailChange(userId, true);
      if (outcome !== 'busy' && outcome !== 'reverting') finished++;
      this.deps.logger.info({ userId, outcome }, 'email change recovered');
    }
    return finished;
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

function emailTaken(): ServiceError {
  return new ServiceError(Status.ALREADY_EXISTS, 'new_email: an account with this email already exists');
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
