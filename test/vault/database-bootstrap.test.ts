/**
 * The database bootstrap (vault/database/bootstrap.sql, run with psql as bootstrap.sh does)
 * against a real PostgreSQL: roles, databases and Vault's rotation rights. PgBouncer has no
 * login and no auth_query function: it logs in as the services (charts/pgbouncer-chart.ts).
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { loadPlatformSpec } from '../../lib/spec';
import { staticRoles, VAULT_DATABASE_ADMIN } from '../../lib/vault/database';
import { startPostgres } from '../harness';
import type { PostgresServer } from '../harness';

const execFileAsync = promisify(execFile);
const spec = loadPlatformSpec();
const SQL_FILE = path.join(__dirname, '..', '..', 'vault', 'database', 'bootstrap.sql');
const services = staticRoles(spec);
const [payment, other] = [services.find((s) => s.name === 'payment-service')!, services.find((s) => s.name !== 'payment-service')!];
const passwords = new Map<string, string>();

let pg: PostgresServer;

function url(user: string, password: string, database: string): string {
  return `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${pg.host}:${pg.port}/${database}`
    + `?sslmode=verify-full&sslrootcert=${encodeURIComponent(pg.caFile)}`;
}

async function withClient<T>(connection: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: connection, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const superuser = <T>(fn: (c: Client) => Promise<T>, database = 'postgres') =>
  withClient(pg.superuserUrl.replace(/\/postgres\?/, `/${database}?`), fn);

/** psql -f bootstrap.sql as the superuser, exactly as vault/bootstrap.sh runs it. */
function runBootstrap() {
  return execFileAsync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', pg.superuserUrl, '-f', SQL_FILE], { timeout: 60000 });
}

beforeAll(async () => {
  pg = await startPostgres();
  await runBootstrap();
  // Vault's side: bootstrap.sh sets vault_admin's password, then Vault rotates every static role's.
  const adminPassword = 'admin-Password-1';
  await superuser((c) => c.query(`ALTER ROLE ${VAULT_DATABASE_ADMIN} PASSWORD '${adminPassword}'`));
  await withClient(url(VAULT_DATABASE_ADMIN, adminPassword, 'postgres'), async (c) => {
    for (const role of services) {
      const password = `rotated-${role.username}-1`;
      await c.query(`ALTER ROLE "${role.username}" WITH PASSWORD '${password}'`);
      passwords.set(role.username, password);
    }
  });
}, 120000);

afterAll(async () => {
  await pg?.dispose();
});

describe('vault/database/bootstrap.sql', () => {
  it('is idempotent: a second run succeeds and changes nothing it should keep', async () => {
    await expect(runBootstrap()).resolves.toBeDefined();
    const owners = await superuser((c) => c.query(
      'SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = ANY($1) ORDER BY datname',
      [services.map((s) => s.database)],
    ));
    expect(owners.rows).toEqual(services.map((s) => ({ datname: s.database, owner: s.username })).sort((a, b) => a.datname.localeCompare(b.datname)));
  });

  it('lets Vault rotate the static roles\' passwords, and each service logs in to its own database only', async () => {
    for (const s of services) {
      const password = passwords.get(s.username)!;
      await expect(withClient(url(s.username, password, s.database), (c) => c.query('SELECT current_user'))).resolves.toMatchObject({ rows: [{ current_user: s.username }] });
    }
    await expect(withClient(url(payment.username, passwords.get(payment.username)!, other.database), async () => undefined))
      .rejects.toThrow(/permission denied for database/);
  });

  it("gives Vault's connection user no more than password changes on the managed roles", async () => {
    await expect(withClient(url(VAULT_DATABASE_ADMIN, 'admin-Password-1', 'postgres'), (c) => c.query("ALTER ROLE postgres PASSWORD 'x'")))
      .rejects.toThrow(/permission denied|must be superuser/);
    await expect(withClient(url(VAULT_DATABASE_ADMIN, 'admin-Password-1', payment.database), async () => undefined))
      .rejects.toThrow(/permission denied for database/);
  });

  it('creates exactly the service roles and Vault\'s, none for PgBouncer and no auth_query function', async () => {
    const created = await superuser((c) => c.query("SELECT rolname FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%' AND rolname <> 'postgres' ORDER BY rolname"));
    expect(created.rows.map((r) => r.rolname)).toEqual([...services.map((s) => s.username), VAULT_DATABASE_ADMIN].sort());
    for (const s of services) {
      const schemas = await superuser((c) => c.query("SELECT nspname FROM pg_namespace WHERE nspname = 'pgbouncer'"), s.database);
      expect({ database: s.database, schemas: schemas.rows }).toEqual({ database: s.database, schemas: [] });
    }
  });

  it('keeps password verifiers from the service users, whose migrations still work', async () => {
    await withClient(url(payment.username, passwords.get(payment.username)!, payment.database), async (c) => {
      await expect(c.query('SELECT passwd FROM pg_shadow')).rejects.toThrow(/permission denied/);
      await c.query('CREATE TABLE migration_probe (id int PRIMARY KEY)');
    });
  });
});
