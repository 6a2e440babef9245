/**
 * The users table: validation, SQL and keyset pagination. Reads take the reader pool (a
 * replica endpoint when configured); writes and the rows they return come from the writer.
 */
import type { Pool } from 'pg';
import { ServiceError, Status, invalidArgument, isUniqueViolation } from '../../shared/src';
import { ACCOUNT_LIMITS } from '../../shared/src/account-limits';
import { FIELD_RULES, decodePageToken, encodePageToken, textProblem } from '../../shared/src/field-rules';

export interface UserRow {
  readonly id: string;
  readonly email: string;
  readonly name: string;
  readonly createdAt: Date;
}

export const NAME_MAX_LENGTH = ACCOUNT_LIMITS.nameMaxLength;
// RFC 5321's path limit; longer addresses cannot be delivered anyway.
export const EMAIL_MAX_LENGTH = ACCOUNT_LIMITS.emailMaxLength;
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The rule the public document gives (FIELD_RULES.email), then lower case. */
export function normaliseEmail(raw: string, field = 'email'): string {
  const problem = textProblem(raw, FIELD_RULES.email);
  if (problem) throw invalidArgument(field, problem);
  return raw.toLowerCase();
}

/** The rule the public document gives (FIELD_RULES.name): refused, never trimmed. */
export function normaliseName(raw: string, field = 'name'): string {
  const problem = textProblem(raw, FIELD_RULES.name);
  if (problem) throw invalidArgument(field, problem);
  return raw;
}

export function checkId(raw: string, field = 'id'): string {
  if (raw.length === 0) throw invalidArgument(field, 'is required');
  if (!UUID.test(raw)) throw invalidArgument(field, 'must be a UUID');
  return raw.toLowerCase();
}

interface Cursor {
  readonly createdAt: Date;
  readonly id: string;
}

/** The next page starts after this user; the token is FIELD_RULES.pageToken's form. */
export function encodeCursor(row: UserRow): string {
  return encodePageToken(row.createdAt, row.id);
}

/** Any token of the documented form is a position the listing can continue from. */
export function decodeCursor(token: string): Cursor {
  const position = decodePageToken(token);
  if (!position) throw invalidArgument('page_token', 'is not a token returned by ListUsers');
  return position;
}

const COLUMNS = 'id, email, name, created_at';

function toRow(r: { id: string; email: string; name: string; created_at: Date }): UserRow {
  return { id: r.id, email: r.email, name: r.name, createdAt: r.created_at };
}

function alreadyExists(email: string): ServiceError {
  return new ServiceError(Status.ALREADY_EXISTS, `email: a user with e-mail ${email} already exists`);
}

export class UserStore {
  constructor(private readonly writer: Pool, private readonly reader: Pool) {}

  async create(email: string, name: string): Promise<UserRow> {
    try {
      const { rows } = await this.writer.query(`INSERT INTO users (email, name) VALUES ($1, $2) RETURNING ${COLUMNS}`, [email, name]);
      return toRow(rows[0]);
    } catch (err) {
      // The unique index decides, so two concurrent registrations cannot both pass a pre-check.
      if (isUniqueViolation(err, 'users_email_key')) throw alreadyExists(email);
      throw err;
    }
  }

  async get(id: string): Promise<UserRow | undefined> {
    const { rows } = await this.reader.query(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  /** Returns the row as written (from the writer: read-your-writes), or undefined if absent. */
  async update(id: string, changes: { email?: string | undefined; name?: string | undefined }): Promise<UserRow | undefined> {
    try {
      const { rows } = await this.writer.query(
        `UPDATE users SET email = COALESCE($2, email), name = COALESCE($3, name), updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, changes.email ?? null, changes.name ?? null],
      );
      return rows[0] ? toRow(rows[0]) : undefined;
    } catch (err) {
      if (isUniqueViolation(err, 'users_email_key')) throw alreadyExists(changes.email ?? '');
      throw err;
    }
  }

  async delete(id: string): Promise<boolean> {
    const { rowCount } = await this.writer.query('DELETE FROM users WHERE id = $1', [id]);
    return (rowCount ?? 0) > 0;
  }

  /** One page in (created_at, id) order, plus the cursor of the next page if there is one. */
  async list(pageSize: number, after: Cursor | undefined): Promise<{ users: UserRow[]; next: string }> {
    const params: unknown[] = [pageSize + 1];
    let where = '';
    if (after) {
      params.push(after.createdAt, after.id);
      where = 'WHERE (created_at, id) > ($2, $3)';
    }
    const { rows } = await this.reader.query(`SELECT ${COLUMNS} FROM users ${where} ORDER BY created_at, id LIMIT $1`, params);
    const users = rows.slice(0, pageSize).map(toRow);
    const next = rows.length > pageSize ? encodeCursor(users[users.length - 1]!) : '';
    return { users, next };
  }
}
