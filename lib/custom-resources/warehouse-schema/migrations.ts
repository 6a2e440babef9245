/**
 * The warehouse's SQL migrations (analytics/warehouse/migrations/NNN_description.sql) as plain
 * data: read and validated at synth by the construct (bad names, gaps and duplicates fail the
 * synth, naming the file), carried in the custom resource's properties, and validated again by
 * the handler. No AWS or database dependency, so the construct, the Lambda and the tests share it.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

/** One migration file, split into the statements that run in its one transaction. */
export interface Migration {
  /** Zero-padded, e.g. `001`; the order of application. */
  readonly version: string;
  /** The description part of the file name, e.g. `create_order_facts`. */
  readonly name: string;
  /** sha256 (hex) of the file's bytes: an applied migration must never change. */
  readonly checksum: string;
  readonly statements: readonly string[];
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

/** `NNN_description.sql`: three digits, a lower-case description. */
export const MIGRATION_FILE = /^(\d{3})_([a-z0-9][a-z0-9_]*)\.sql$/;

/**
 * A Data API batch holds at most 40 statements (BatchExecuteStatement `Sqls`, max 40) and runs
 * them as one transaction; the runner adds the bookkeeping INSERT to each migration's batch.
 */
export const MAX_STATEMENTS_PER_MIGRATION = 39;

/** Transaction control inside a migration would break its one-transaction guarantee. */
const TRANSACTION_CONTROL = /^(begin|start\s+transaction|commit|end|rollback|abort)\b/i;

export function migrationFileName(m: Pick<Migration, 'version' | 'name'>): string {
  return `${m.version}_${m.name}.sql`;
}

/**
 * Splits SQL text into statements at `;` outside string literals ('...', E'...'), quoted
 * identifiers ("..."), dollar-quoted bodies ($$...$$, $tag$...$tag$), `--` line comments and
 * (nested) `/* *\/` block comments. Statements are trimmed, keep their comments, and lose the
 * `;`; a piece holding only comments and blanks is dropped. `source` names the file in errors.
 */
export function splitStatements(sql: string, source: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let hasCode = false;
  let i = 0;
  const lineAt = (offset: number) => sql.slice(0, offset).split('\n').length;
  const unterminated = (what: string, offset: number): never => {
    throw new MigrationError(`${source}: unterminated ${what} starting on line ${lineAt(offset)}`);
  };

  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end + 1;
    } else if (c === '/' && next === '*') {
      // PostgreSQL nests block comments; count the depth.
      const open = i;
      let depth = 1;
      i += 2;
      while (depth > 0) {
        if (i >= sql.length) unterminated('/* comment', open);
        if (sql[i] === '/' && sql[i + 1] === '*') { depth += 1; i += 2; } else if (sql[i] === '*' && sql[i + 1] === '/') { depth -= 1; i += 2; } else i += 1;
      }
    } else if (c === "'") {
      // E'...' takes backslash escapes; '' is a quote in both forms.
      const escapes = i > 0 && /[eE]/.test(sql[i - 1]) && (i < 2 || !/[A-Za-z0-9_]/.test(sql[i - 2]));
      const open = i;
      i += 1;
      for (;;) {
        if (i >= sql.length) unterminated('string literal', open);
        if (escapes && sql[i] === '\\') { i += 2; continue; }
        if (sql[i] === "'") {
          if (sql[i + 1] === "'") { i += 2; continue; }
          i += 1;
          break;
        }
        i += 1;
      }
      hasCode = true;
    } else if (c === '"') {
      const open = i;
      i += 1;
      for (;;) {
        if (i >= sql.length) unterminated('quoted identifier', open);
        if (sql[i] === '"') {
          if (sql[i + 1] === '"') { i += 2; continue; }
          i += 1;
          break;
        }
        i += 1;
      }
      hasCode = true;
    } else if (c === '$' && (i === 0 || !/[A-Za-z0-9_$]/.test(sql[i - 1]))) {
      // $tag$ ... $tag$ (the tag may be empty); $1 and the like are not openers.
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        if (close === -1) unterminated(`dollar-quoted body ${tag[0]}`, i);
        i = close + tag[0].length;
      } else i += 1;
      hasCode = true;
    } else if (c === ';') {
      if (hasCode) statements.push(sql.slice(start, i).trim());
      start = i + 1;
      hasCode = false;
      i += 1;
    } else {
      if (!/\s/.test(c)) hasCode = true;
      i += 1;
    }
  }
  if (hasCode) statements.push(sql.slice(start).trim());
  return statements;
}

/** The statement without its leading comments and blanks (to recognise what it is). */
function leadingCode(statement: string): string {
  return statement.replace(/^(\s+|--[^\n]*(\n|$)|\/\*[\s\S]*?\*\/)*/, '');
}

/** One file's contents as a migration; `file` is its base name. */
export function parseMigration(file: string, contents: Buffer): Migration {
  const match = MIGRATION_FILE.exec(file);
  if (!match) {
    throw new MigrationError(`${file}: a migration file must be named NNN_description.sql (three digits, lower-case letters, digits and _), e.g. 001_create_order_facts.sql`);
  }
  const statements = splitStatements(contents.toString('utf8'), file);
  if (statements.length === 0) throw new MigrationError(`${file}: holds no SQL statement`);
  if (statements.length > MAX_STATEMENTS_PER_MIGRATION) {
    throw new MigrationError(`${file}: holds ${statements.length} statements; at most ${MAX_STATEMENTS_PER_MIGRATION} fit one Data API batch (one transaction): split it into two migrations`);
  }
  statements.forEach((statement, i) => {
    if (TRANSACTION_CONTROL.test(leadingCode(statement))) {
      throw new MigrationError(`${file}: statement ${i + 1} is transaction control (${leadingCode(statement).split(/\s/)[0]}); each migration already runs as one transaction`);
    }
  });
  return {
    version: match[1],
    name: match[2],
    checksum: createHash('sha256').update(contents).digest('hex'),
    statements,
  };
}

/**
 * Checks a list of migrations: versions unique and contiguous from 001, in order. Errors name
 * the offending file.
 */
export function checkSequence(migrations: readonly Migration[]): void {
  const seen = new Map<string, Migration>();
  for (const m of migrations) {
    const other = seen.get(m.version);
    if (other) throw new MigrationError(`${migrationFileName(m)}: version ${m.version} is also used by ${migrationFileName(other)}`);
    seen.set(m.version, m);
  }
  [...migrations].sort((a, b) => a.version.localeCompare(b.version)).forEach((m, i) => {
    const expected = String(i + 1).padStart(3, '0');
    if (m.version !== expected) {
      throw new MigrationError(`${migrationFileName(m)}: expected version ${expected} here (versions run from 001 without gaps)`);
    }
  });
}

/**
 * Reads a migrations folder: every `*.sql` file must be a valid migration (other files, such as
 * a README, are ignored). Returns the migrations in version order.
 */
export function readMigrations(dir: string): Migration[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (error) {
    throw new MigrationError(`migrations folder ${dir} cannot be read: ${(error as Error).message}`);
  }
  const files = entries.filter((f) => f.toLowerCase().endsWith('.sql') && statSync(path.join(dir, f)).isFile()).sort();
  if (files.length === 0) throw new MigrationError(`migrations folder ${dir} holds no .sql file`);
  const migrations = files.map((f) => parseMigration(f, readFileSync(path.join(dir, f))));
  checkSequence(migrations);
  return migrations.sort((a, b) => a.version.localeCompare(b.version));
}

/** The custom resource's `Migrations` property (reviewers read the SQL in the template diff). */
export interface MigrationProperty {
  readonly Version: string;
  readonly Name: string;
  readonly Checksum: string;
  readonly Statements: readonly string[];
}

export function toMigrationProperty(m: Migration): MigrationProperty {
  return { Version: m.version, Name: m.name, Checksum: m.checksum, Statements: [...m.statements] };
}

/** Validates the `Migrations` property in the handler; errors name the field. */
export function parseMigrationProperties(value: unknown): Migration[] {
  if (!Array.isArray(value)) throw new MigrationError(`Migrations must be a list, got ${JSON.stringify(value)}`);
  const migrations = value.map((raw: unknown, i): Migration => {
    const field = `Migrations[${i}]`;
    if (raw === null || typeof raw !== 'object') throw new MigrationError(`${field} must be an object`);
    const item = raw as Partial<Record<keyof MigrationProperty, unknown>>;
    if (typeof item.Version !== 'string' || !/^\d{3}$/.test(item.Version)) throw new MigrationError(`${field}.Version must be three digits, got ${JSON.stringify(item.Version)}`);
    if (typeof item.Name !== 'string' || !/^[a-z0-9][a-z0-9_]*$/.test(item.Name)) throw new MigrationError(`${field}.Name must be a lower-case description, got ${JSON.stringify(item.Name)}`);
    if (typeof item.Checksum !== 'string' || !/^[0-9a-f]{64}$/.test(item.Checksum)) throw new MigrationError(`${field}.Checksum must be a sha256 in hex, got ${JSON.stringify(item.Checksum)}`);
    const statements = item.Statements;
    if (!Array.isArray(statements) || statements.length === 0 || statements.length > MAX_STATEMENTS_PER_MIGRATION
      || statements.some((s) => typeof s !== 'string' || s.trim() === '')) {
      throw new MigrationError(`${field}.Statements must be 1 to ${MAX_STATEMENTS_PER_MIGRATION} non-empty strings`);
    }
    return { version: item.Version, name: item.Name, checksum: item.Checksum, statements: statements as string[] };
  });
  checkSequence(migrations);
  return migrations.sort((a, b) => a.version.localeCompare(b.version));
}
