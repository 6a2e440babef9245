/**
 * The warehouse schema's core, independent of how SQL reaches the database: applies the pending
 * migrations (each with its bookkeeping row in one transaction) and keeps the Flink job's
 * least-privilege writer user in place. The Lambda drives it through the Redshift Data API
 * (data-api.ts); the tests drive it through a real PostgreSQL. Every statement here is valid on
 * both engines; the one difference, the pre-hashed password form, is chosen by `engine`.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type { Migration } from './migrations';
import { migrationFileName } from './migrations';

/** A value of a result row, as both executors return them. */
export type SqlValue = string | number | boolean | null;

/** A statement failed; `statementIndex` (0-based) says which one of a transaction's. */
export class SqlExecutionError extends Error {
  constructor(message: string, readonly statementIndex?: number) {
    super(message);
    this.name = 'SqlExecutionError';
  }
}

export interface SqlExecutor {
  /** Which pre-hashed password form the database takes. */
  readonly engine: 'redshift' | 'postgresql';
  /** Runs one query; rows keyed by column name. */
  query(sql: string): Promise<Record<string, SqlValue>[]>;
  /**
   * Runs the statements in order as one transaction: all or nothing. On failure throws a
   * SqlExecutionError with the failing statement's index.
   */
  transaction(statements: readonly string[]): Promise<void>;
}

export class WarehouseSchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WarehouseSchemaError';
  }
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

function identifier(value: string, field: string): string {
  if (!IDENTIFIER.test(value)) throw new WarehouseSchemaError(`${field} must be a lower-case SQL identifier, got ${JSON.stringify(value)}`);
  // Quoted anyway: a valid name may still be a reserved word.
  return `"${value}"`;
}

export function quoteLiteral(value: string): string {
  if (value.includes('\\')) throw new WarehouseSchemaError('a literal with a backslash reads differently on Redshift and PostgreSQL; refused');
  return `'${value.replace(/'/g, "''")}'`;
}

/** The bookkeeping table's statements (CREATE ... IF NOT EXISTS: idempotent). */
export function bookkeepingStatements(schema: string): string[] {
  const s = identifier(schema, 'schema');
  return [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (version VARCHAR(20) PRIMARY KEY, name VARCHAR(200), checksum VARCHAR(64), applied_at TIMESTAMP)`,
  ];
}

/** `YYYY-MM-DD HH:MM:SS` in UTC: a literal both engines read as TIMESTAMP (GETDATE() is Redshift-only, now() leader-only there). */
function timestampLiteral(at: Date): string {
  return `CAST('${at.toISOString().slice(0, 19).replace('T', ' ')}' AS TIMESTAMP)`;
}

export interface ApplyOptions {
  readonly schema: string;
  readonly now?: () => Date;
  readonly log?: (line: string) => void;
}

export interface ApplyResult {
  /** Versions applied by this run, in order. */
  readonly applied: string[];
  /** Versions that were already recorded. */
  readonly unchanged: string[];
}

/**
 * Brings the schema up to `migrations`: creates the bookkeeping table, checks the recorded
 * migrations against the files (an edited or a vanished migration fails, naming it), then applies
 * every pending one in version order, each with its bookkeeping INSERT in one transaction.
 */
export async function applyMigrations(executor: SqlExecutor, migrations: readonly Migration[], options: ApplyOptions): Promise<ApplyResult> {
  const log = options.log ?? (() => undefined);
  const now = options.now ?? (() => new Date());
  const s = identifier(options.schema, 'schema');
  await executor.transaction(bookkeepingStatements(options.schema));

  const rows = await executor.query(`SELECT version, name, checksum FROM ${s}.schema_migrations ORDER BY version`);
  const byVersion = new Map(migrations.map((m) => [m.version, m]));
  const recorded = new Set<string>();
  for (const row of rows) {
    const version = String(row.version);
    recorded.add(version);
    const file = byVersion.get(version);
    if (!file) {
      throw new WarehouseSchemaError(`migration ${version}_${String(row.name)}.sql is recorded in ${options.schema}.schema_migrations but is missing from the migrations folder: applied migrations are never deleted`);
    }
    if (String(row.checksum) !== file.checksum) {
      throw new WarehouseSchemaError(`migration ${migrationFileName(file)} was applied with checksum ${String(row.checksum)} but the file now has ${file.checksum}: applied migrations are immutable, edit a new migration instead`);
    }
  }

  const sorted = [...migrations].sort((a, b) => a.version.localeCompare(b.version));
  const pending = sorted.filter((m) => !recorded.has(m.version));
  const latest = [...recorded].sort().at(-1);
  const early = pending.find((m) => latest !== undefined && m.version < latest);
  if (early) throw new WarehouseSchemaError(`migration ${migrationFileName(early)} is pending but ${latest} is already applied: migrations apply in version order`);

  const applied: string[] = [];
  for (const m of pending) {
    const insert = `INSERT INTO ${s}.schema_migrations (version, name, checksum, applied_at) VALUES (${quoteLiteral(m.version)}, ${quoteLiteral(m.name)}, ${quoteLiteral(m.checksum)}, ${timestampLiteral(now())})`;
    try {
      await executor.transaction([...m.statements, insert]);
    } catch (error) {
      const index = error instanceof SqlExecutionError ? error.statementIndex : undefined;
      const where = index === undefined ? '' : index < m.statements.length
        ? ` at statement ${index + 1} (${m.statements[index].replace(/\s+/g, ' ').slice(0, 120)})`
        : ' at its bookkeeping INSERT';
      throw new WarehouseSchemaError(`migration ${migrationFileName(m)} failed${where}: ${(error as Error).message}; none of it was applied (one transaction)`);
    }
    log(`applied migration ${migrationFileName(m)}`);
    applied.push(m.version);
  }
  return { applied, unchanged: sorted.filter((m) => recorded.has(m.version)).map((m) => m.version) };
}

/**
 * The password as the engine stores it, so the clear text never appears in SQL (query history,
 * the Data API's statement description):
 *  - Redshift: `md5` + md5(password + username), the MD5 form CREATE USER documents
 *    (https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_USER.html).
 *  - PostgreSQL: a SCRAM-SHA-256 verifier (RFC 7677, as PostgreSQL writes it), stored as given.
 *    The password is used as UTF-8 without SASLprep, which is the identity for ASCII passwords.
 */
export function hashedPassword(engine: SqlExecutor['engine'], username: string, password: string, salt = randomBytes(16)): string {
  if (engine === 'redshift') return `md5${createHash('md5').update(password + username).digest('hex')}`;
  const iterations = 4096;
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

export interface WriterUser {
  readonly schema: string;
  readonly username: string;
  readonly password: string;
}

/**
 * Creates the writer user, or sets its password (a rotated secret takes effect on the next
 * deploy), and grants it USAGE on the schema and SELECT/INSERT/UPDATE/DELETE on every table in
 * it (run after the migrations, so new tables are covered). No CREATE: the job cannot change the
 * schema, nor the bookkeeping table. `public`'s default CREATE for everyone (Redshift) is revoked,
 * so the writer cannot create tables anywhere. The password never appears in SQL or in errors.
 */
export async function ensureWriterUser(executor: SqlExecutor, writer: WriterUser): Promise<'created' | 'updated'> {
  const s = identifier(writer.schema, 'schema');
  const u = identifier(writer.username, 'writer username');
  if (!writer.password) throw new WarehouseSchemaError('the writer password is empty');
  // pg_user lists users on both engines (Redshift: "To view a list of users, query the PG_USER
  // catalog table", docs r_Users-creatingaltering-and-deleting-users).
  const existing = await executor.query(`SELECT usename FROM pg_user WHERE usename = ${quoteLiteral(writer.username)}`);
  const verb = existing.length > 0 ? 'ALTER' : 'CREATE';
  const hash = hashedPassword(executor.engine, writer.username, writer.password);
  try {
    await executor.transaction([
      `${verb} USER ${u} PASSWORD '${hash}'`,
      'REVOKE CREATE ON SCHEMA public FROM PUBLIC',
      `GRANT USAGE ON SCHEMA ${s} TO ${u}`,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${u}`,
      // The bookkeeping is the deploy's, not the job's.
      `REVOKE ALL ON ${s}.schema_migrations FROM ${u}`,
    ]);
  } catch (error) {
    // The message of a failed CREATE/ALTER USER is the database's, which does not echo the statement.
    const index = error instanceof SqlExecutionError ? error.statementIndex : undefined;
    throw new WarehouseSchemaError(`${verb} USER ${writer.username} and its grants failed${index === undefined ? '' : ` at statement ${index + 1}`}: ${(error as Error).message}`);
  }
  return verb === 'CREATE' ? 'created' : 'updated';
}

export interface ReconcileInput {
  readonly schema: string;
  readonly migrations: readonly Migration[];
  readonly writer: { readonly username: string; readonly password: string };
  readonly now?: () => Date;
  readonly log?: (line: string) => void;
}

export interface ReconcileResult extends ApplyResult {
  readonly writer: 'created' | 'updated';
}

/** What the custom resource does on Create and Update: migrations first, then the writer's grants. */
export async function reconcileWarehouse(executor: SqlExecutor, input: ReconcileInput): Promise<ReconcileResult> {
  const result = await applyMigrations(executor, input.migrations, { schema: input.schema, now: input.now, log: input.log });
  const writer = await ensureWriterUser(executor, { schema: input.schema, ...input.writer });
  input.log?.(`writer user ${input.writer.username} ${writer}, grants on schema ${input.schema} in place`);
  return { ...result, writer };
}
