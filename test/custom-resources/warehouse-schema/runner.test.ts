/**
 * The warehouse schema runner (lib/custom-resources/warehouse-schema/runner.ts) against a real PostgreSQL from the
 * test harness, through a pg-backed executor that runs a transaction as the Data API runs a batch
 * on Redshift (all or nothing). The runner connects as the superuser, as the Data API does with
 * the workgroup's admin secret; the writer logs in over TLS with the password it was given.
 * The cases build on each other, in order.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { parseMigration, readMigrations } from '../../../lib/custom-resources/warehouse-schema/migrations';
import type { Migration } from '../../../lib/custom-resources/warehouse-schema/migrations';
import {
  applyMigrations, ensureWriterUser, hashedPassword, reconcileWarehouse, WarehouseSchemaError,
} from '../../../lib/custom-resources/warehouse-schema/runner';
import { startPostgres } from '../../harness';
import type { PostgresServer } from '../../../scripts/local-stack/types';
import { PgExecutor } from './pg-executor';

const SCHEMA = 'analytics';
const WRITER = 'analytics_writer';
const fixtures = readMigrations(path.join(__dirname, 'fixtures', 'valid'));
const migration = (file: string, sql: string): Migration => parseMigration(file, Buffer.from(sql));
const m003 = migration('003_create_user_facts.sql', 'CREATE TABLE analytics.user_facts (user_id VARCHAR(64) NOT NULL, signed_up_at TIMESTAMP);\n');

let pg: PostgresServer;
let database: string;
let admin: Client;
let executor: PgExecutor;

/** The superuser's URL, on the test database instead of `postgres`. */
function adminUrl(): string {
  const url = new URL(pg.superuserUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** A TLS (verify-full) login as the writer; resolves to the connected client. */
async function loginAsWriter(password: string): Promise<Client> {
  const client = new Client({
    host: pg.host, port: pg.port, database, user: WRITER, password,
    ssl: { ca: readFileSync(pg.caFile, 'utf8'), rejectUnauthorized: true },
    connectionTimeoutMillis: 5000,
  });
  await client.connect();
  return client;
}

async function tableExists(name: string): Promise<boolean> {
  const r = await admin.query('SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2', [SCHEMA, name]);
  return r.rowCount === 1;
}

async function recorded(): Promise<{ version: string; name: string; checksum: string; applied_at: Date }[]> {
  return (await admin.query(`SELECT version, name, checksum, applied_at FROM ${SCHEMA}.schema_migrations ORDER BY version`)).rows;
}

beforeAll(async () => {
  pg = await startPostgres();
  ({ database } = await pg.createDatabase('warehouse'));
  admin = new Client({ connectionString: adminUrl() });
  await admin.connect();
  // The harness revokes CONNECT from PUBLIC; Redshift has no CONNECT privilege (any user may
  // connect to any database), so the test gives PostgreSQL the same rule.
  await admin.query(`GRANT CONNECT ON DATABASE ${database} TO PUBLIC`);
  executor = new PgExecutor(admin);
});
afterAll(async () => {
  await admin?.end();
  await pg?.dispose();
});

describe('applyMigrations against a real PostgreSQL', () => {
  it('creates the bookkeeping table and applies every migration, in order, recording each', async () => {
    const at = new Date('2026-11-20T10:11:12.345Z');
    const lines: string[] = [];
    const result = await applyMigrations(executor, fixtures, { schema: SCHEMA, now: () => at, log: (l) => lines.push(l) });
    expect(result).toEqual({ applied: ['001', '002'], unchanged: [] });
    expect(lines).toEqual(['applied migration 001_create_order_facts.sql', 'applied migration 002_create_payment_facts.sql']);
    for (const table of ['order_facts', 'payment_facts', 'revenue;by_minute']) expect(await tableExists(table)).toBe(true);
    expect(await recorded()).toEqual(fixtures.map((m) => ({
      version: m.version, name: m.name, checksum: m.checksum, applied_at: new Date('2026-11-20T10:11:12.000Z'),
    })));
    const comment = await admin.query(`SELECT obj_description('${SCHEMA}.order_facts'::regclass) AS c`);
    expect(comment.rows[0].c).toBe("orders; one row each, it's upserted");
  });

  it('changes nothing on a second run', async () => {
    const before = await recorded();
    const ran = executor.executed.length;
    const result = await applyMigrations(executor, fixtures, { schema: SCHEMA });
    expect(result).toEqual({ applied: [], unchanged: ['001', '002'] });
    expect(await recorded()).toEqual(before);
    // Only the bookkeeping DDL (IF NOT EXISTS) and the SELECT ran: no migration statement.
    expect(executor.executed.slice(ran)).toEqual([
      `CREATE SCHEMA IF NOT EXISTS "${SCHEMA}"`,
      expect.stringMatching(/^CREATE TABLE IF NOT EXISTS "analytics".schema_migrations/),
      `SELECT version, name, checksum FROM "${SCHEMA}".schema_migrations ORDER BY version`,
    ]);
  });

  it('applies a new migration alone', async () => {
    const result = await applyMigrations(executor, [...fixtures, m003], { schema: SCHEMA });
    expect(result).toEqual({ applied: ['003'], unchanged: ['001', '002'] });
    expect(await tableExists('user_facts')).toBe(true);
    expect((await recorded()).map((r) => r.version)).toEqual(['001', '002', '003']);
  });

  it('fails on an edited applied migration, naming the file, and applies nothing', async () => {
    const edited = migration('002_create_payment_facts.sql', 'CREATE TABLE analytics.payment_facts_v2 (id INT);\n');
    const m004 = migration('004_create_x.sql', 'CREATE TABLE analytics.x (id INT);\n');
    await expect(applyMigrations(executor, [fixtures[0], edited, m003, m004], { schema: SCHEMA })).rejects.toThrow(
      `migration 002_create_payment_facts.sql was applied with checksum ${fixtures[1].checksum} but the file now has ${edited.checksum}: applied migrations are immutable, edit a new migration instead`);
    expect(await tableExists('x')).toBe(false);
  });

  it('fails when a recorded migration is missing from the folder, naming it', async () => {
    await expect(applyMigrations(executor, fixtures, { schema: SCHEMA })).rejects.toThrow(
      'migration 003_create_user_facts.sql is recorded in analytics.schema_migrations but is missing from the migrations folder');
  });

  it('rolls a failing migration back whole: no half-created table, no bookkeeping row', async () => {
    const failing = migration('004_half.sql', [
      'CREATE TABLE analytics.half_created (id INT);',
      'INSERT INTO analytics.half_created VALUES (1);',
      'INSERT INTO analytics.no_such_table VALUES (1);',
    ].join('\n'));
    const run = applyMigrations(executor, [...fixtures, m003, failing], { schema: SCHEMA });
    await expect(run).rejects.toThrow(WarehouseSchemaError);
    await expect(applyMigrations(executor, [...fixtures, m003, failing], { schema: SCHEMA })).rejects.toThrow(
      /^migration 004_half.sql failed at statement 3 \(INSERT INTO analytics.no_such_table VALUES \(1\)\): relation "analytics.no_such_table" does not exist; none of it was applied \(one transaction\)$/);
    expect(await tableExists('half_created')).toBe(false);
    expect((await recorded()).map((r) => r.version)).toEqual(['001', '002', '003']);
  });
});

describe('the writer user against a real PostgreSQL', () => {
  const firstPassword = 'Writer-Pass-1-x7Qm';
  const secondPassword = "Rotated'Pass-2-kP9z";
  let writer: Client | undefined;
  afterEach(async () => {
    await writer?.end();
    writer = undefined;
  });

  it('is created with the password as a SCRAM verifier: the clear text never reaches SQL', async () => {
    const ran = executor.executed.length;
    expect(await ensureWriterUser(executor, { schema: SCHEMA, username: WRITER, password: firstPassword })).toBe('created');
    const sql = executor.executed.slice(ran);
    expect(sql.some((s) => s.startsWith(`CREATE USER "${WRITER}" PASSWORD 'SCRAM-SHA-256$4096:`))).toBe(true);
    expect(sql.join('\n')).not.toContain(firstPassword);
    const stored = await admin.query('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [WRITER]);
    expect(stored.rows[0].rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
    writer = await loginAsWriter(firstPassword);
    expect((await writer.query('SELECT current_user AS u')).rows[0].u).toBe(WRITER);
  });

  it('may insert, update, delete and select in the schema', async () => {
    writer = await loginAsWriter(firstPassword);
    await writer.query(`INSERT INTO ${SCHEMA}.order_facts VALUES ('o1', 'u1', 'created', 1250, 'EUR', '2026-11-20 10:00:00')`);
    await writer.query(`UPDATE ${SCHEMA}.order_facts SET status = 'paid' WHERE order_id = 'o1'`);
    expect((await writer.query(`SELECT status FROM ${SCHEMA}.order_facts`)).rows).toEqual([{ status: 'paid' }]);
    await writer.query(`DELETE FROM ${SCHEMA}.order_facts WHERE order_id = 'o1'`);
    await writer.query(`INSERT INTO ${SCHEMA}.user_facts VALUES ('u1', NULL)`);
  });

  it('may not create tables, in the schema or in public, nor touch the bookkeeping', async () => {
    writer = await loginAsWriter(firstPassword);
    await expect(writer.query(`CREATE TABLE ${SCHEMA}.intruder (id INT)`)).rejects.toThrow('permission denied for schema analytics');
    await expect(writer.query('CREATE TABLE public.intruder (id INT)')).rejects.toThrow('permission denied for schema public');
    await expect(writer.query(`INSERT INTO ${SCHEMA}.schema_migrations VALUES ('999', 'x', 'x', NULL)`)).rejects.toThrow('permission denied for table schema_migrations');
    await expect(writer.query(`DROP TABLE ${SCHEMA}.order_facts`)).rejects.toThrow('must be owner of table order_facts');
  });

  it('gets the new password when the secret rotates: the old one stops working', async () => {
    expect(await ensureWriterUser(executor, { schema: SCHEMA, username: WRITER, password: secondPassword })).toBe('updated');
    await expect(loginAsWriter(firstPassword)).rejects.toThrow(`password authentication failed for user "${WRITER}"`);
    writer = await loginAsWriter(secondPassword);
    expect((await writer.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('is granted the tables of a later migration on the same deploy (reconcileWarehouse)', async () => {
    const m004 = migration('004_create_refund_facts.sql', 'CREATE TABLE analytics.refund_facts (refund_id VARCHAR(64) NOT NULL, amount_minor BIGINT);\n');
    const lines: string[] = [];
    const result = await reconcileWarehouse(executor, {
      schema: SCHEMA, migrations: [...fixtures, m003, m004], writer: { username: WRITER, password: secondPassword }, log: (l) => lines.push(l),
    });
    expect(result).toEqual({ applied: ['004'], unchanged: ['001', '002', '003'], writer: 'updated' });
    expect(lines).toEqual(['applied migration 004_create_refund_facts.sql', `writer user ${WRITER} updated, grants on schema ${SCHEMA} in place`]);
    writer = await loginAsWriter(secondPassword);
    await writer.query(`INSERT INTO ${SCHEMA}.refund_facts VALUES ('r1', 100)`);
    expect((await writer.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.refund_facts`)).rows).toEqual([{ n: 1 }]);
  });

  it('rejects a bad user name or schema before any SQL, naming the field', async () => {
    const ran = executor.executed.length;
    await expect(ensureWriterUser(executor, { schema: SCHEMA, username: 'Bad-Name', password: 'x' })).rejects.toThrow('writer username must be a lower-case SQL identifier, got "Bad-Name"');
    await expect(applyMigrations(executor, fixtures, { schema: 'a;b' })).rejects.toThrow('schema must be a lower-case SQL identifier');
    expect(executor.executed.length).toBe(ran);
  });
});

describe('hashedPassword', () => {
  it('gives Redshift the documented MD5 form: md5 + md5(password + user name)', () => {
    // The example of the CREATE USER page: password "ez", user "user1".
    expect(hashedPassword('redshift', 'user1', 'ez')).toBe('md5153c434b4b77c89e6b94f12c5393af5b');
  });

  it('gives PostgreSQL a salted SCRAM-SHA-256 verifier (a new salt each time)', () => {
    const a = hashedPassword('postgresql', 'u', 'p');
    expect(a).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$/);
    expect(hashedPassword('postgresql', 'u', 'p')).not.toBe(a);
    const salt = Buffer.alloc(16, 1);
    expect(hashedPassword('postgresql', 'u', 'p', salt)).toBe(hashedPassword('postgresql', 'u', 'p', salt));
  });
});

describe('the real migrations folder (analytics/warehouse/migrations) on PostgreSQL', () => {
  const realDir = path.join(__dirname, '..', '..', '..', 'analytics', 'warehouse', 'migrations');
  // Users are global to the server: a name of its own keeps this case independent of the ones above.
  const writerName = 'real_folder_writer';
  const password = 'Real-Folder-Pass-3-hT4w';
  let realAdmin: Client | undefined;
  let writer: Client | undefined;
  afterAll(async () => {
    await writer?.end();
    await realAdmin?.end();
  });

  it('applies every migration on a fresh database, changes nothing on a re-run, and the writer can write', async () => {
    const real = readMigrations(realDir);
    const { database: realDb } = await pg.createDatabase('warehouse_real');
    const url = new URL(pg.superuserUrl);
    url.pathname = `/${realDb}`;
    realAdmin = new Client({ connectionString: url.toString() });
    await realAdmin.connect();
    await realAdmin.query(`GRANT CONNECT ON DATABASE ${realDb} TO PUBLIC`);
    const realExecutor = new PgExecutor(realAdmin);

    const first = await reconcileWarehouse(realExecutor, { schema: SCHEMA, migrations: real, writer: { username: writerName, password } });
    expect(first).toEqual({ applied: real.map((m) => m.version), unchanged: [], writer: 'created' });
    const second = await reconcileWarehouse(realExecutor, { schema: SCHEMA, migrations: real, writer: { username: writerName, password } });
    expect(second).toEqual({ applied: [], unchanged: real.map((m) => m.version), writer: 'updated' });

    const tables = await realAdmin.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations' ORDER BY 1`, [SCHEMA]);
    expect(tables.rows.length).toBeGreaterThan(0);
    writer = new Client({
      host: pg.host, port: pg.port, database: realDb, user: writerName, password,
      ssl: { ca: readFileSync(pg.caFile, 'utf8'), rejectUnauthorized: true },
    });
    await writer.connect();
    // The writer may delete from (and so upsert into) every table the migrations made, and may not create one.
    for (const { table_name: table } of tables.rows as { table_name: string }[]) {
      await writer.query(`DELETE FROM ${SCHEMA}."${table}" WHERE 1 = 0`);
      await writer.query(`SELECT * FROM ${SCHEMA}."${table}" LIMIT 1`);
    }
    await expect(writer.query(`CREATE TABLE ${SCHEMA}.intruder (id INT)`)).rejects.toThrow('permission denied for schema analytics');
  });
});
