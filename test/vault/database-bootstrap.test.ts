/**
 * The database bootstrap (vault/database/bootstrap.sql, run with psql as bootstrap.sh does)
 * against a real PostgreSQL of RDS's major, as an RDS-like master user (no superuser: CREATEROLE
 * and CREATEDB only), and once more as a superuser on Debian's older major: roles, databases,
 * Vault's rotation rights, and that each service's user reaches its own database only.
 * PgBouncer has no login and no auth_query function: it logs in as the services.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { loadPlatformSpec } from '../../lib/spec';
import { staticRoles, VAULT_DATABASE_ADMIN } from '../../lib/vault/database';
import { startPostgres } from '../harness';
import { debianPostgresMajor } from '../../scripts/local-stack/postgres';
import type { MasterAccess, PostgresServer } from '../harness';

const execFileAsync = promisify(execFile);
const spec = loadPlatformSpec();
const SQL_FILE = path.join(__dirname, '..', '..', 'vault', 'database', 'bootstrap.sql');
const services = staticRoles(spec);
const ADMIN_PASSWORD = 'admin-Password-1';

function url(pg: PostgresServer, user: string, password: string, database: string): string {
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

/** psql -f bootstrap.sql over TLS, exactly as vault/bootstrap.sh runs it; stderr must stay empty (no WARNING). */
async function runBootstrap(connection: string): Promise<{ stdout: string; stderr: string }> {
  return execFileAsync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', connection, '-f', SQL_FILE], { timeout: 60000 });
}

/**
 * What bootstrap.sh does next: set vault_admin's password (as the runner of the SQL), then Vault
 * (as vault_admin) sets every static role's password. Returns the services' passwords.
 */
async function rotateAsVault(pg: PostgresServer, runner: string, round: number): Promise<Map<string, string>> {
  await withClient(runner, (c) => c.query(`ALTER ROLE ${VAULT_DATABASE_ADMIN} PASSWORD '${ADMIN_PASSWORD}'`));
  const passwords = new Map<string, string>();
  await withClient(url(pg, VAULT_DATABASE_ADMIN, ADMIN_PASSWORD, 'postgres'), async (c) => {
    for (const role of services) {
      const password = `rotated-${role.username}-${round}`;
      await c.query(`ALTER ROLE "${role.username}" WITH PASSWORD '${password}'`);
      passwords.set(role.username, password);
    }
  });
  return passwords;
}

describe("as RDS's master user (NOSUPERUSER CREATEROLE CREATEDB) on RDS's major", () => {
  let pg: PostgresServer;
  let master: MasterAccess;
  let first: { stdout: string; stderr: string };
  let passwords: Map<string, string>;
  const superuser = <T>(fn: (c: Client) => Promise<T>, database = 'postgres') =>
    withClient(pg.superuserUrl.replace(/\/postgres\?/, `/${database}?`), fn);

  beforeAll(async () => {
    pg = await startPostgres();
    master = await pg.createMaster();
    first = await runBootstrap(master.url);
    passwords = await rotateAsVault(pg, master.url, 1);
  }, 120000);

  afterAll(async () => {
    await pg?.dispose();
  });

  it('runs on the production engine version with no error and no warning (nothing silently skipped)', () => {
    expect(pg.version).toBe(spec.dataTier.postgres.engineVersion);
    expect(first.stderr).toBe('');
  });

  it('is idempotent: a second run succeeds silently and keeps owners, roles and grants', async () => {
    const state = () => superuser(async (c) => ({
      databases: (await c.query(
        'SELECT datname, pg_get_userbyid(datdba) AS owner, datacl::text[] AS acl FROM pg_database WHERE datname = ANY($1) ORDER BY datname',
        [services.map((s) => s.database)],
      )).rows,
      roles: (await c.query("SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%' ORDER BY rolname")).rows,
      members: (await c.query(`SELECT pg_get_userbyid(roleid) AS role, pg_get_userbyid(member) AS member, admin_option, inherit_option, set_option
        FROM pg_auth_members WHERE pg_get_userbyid(roleid) NOT LIKE 'pg\\_%' ORDER BY 1, 2`)).rows,
    }));
    const before = await state();
    expect(before.databases.map((d) => [d.datname, d.owner])).toEqual(services.map((s) => [s.database, s.username]).sort((a, b) => a[0]!.localeCompare(b[0]!)));
    await expect(runBootstrap(master.url)).resolves.toEqual({ stdout: '', stderr: '' });
    expect(await state()).toEqual(before);
  });

  it('revokes PUBLIC: each database grants CONNECT to its owner alone', async () => {
    const acl = await superuser((c) => c.query('SELECT datname, datacl::text[] AS acl FROM pg_database WHERE datname = ANY($1)', [services.map((s) => s.database)]));
    for (const row of acl.rows) {
      const owner = services.find((s) => s.database === row.datname)!.username;
      // aclitem text: "grantee=privileges/grantor"; an empty grantee is PUBLIC.
      expect({ database: row.datname, acl: row.acl }).toEqual({ database: row.datname, acl: [`${owner}=CTc/${owner}`] });
    }
  });

  it.each(services.flatMap((s) => services.map((t) => [s.username, t.database, s === t] as const)))(
    '%s -> database %s: allowed only when it is its own (%s), a real login over verified TLS',
    async (user, database, own) => {
      const attempt = withClient(url(pg, user, passwords.get(user)!, database), (c) => c.query('SELECT current_user, current_database()'));
      if (own) await expect(attempt).resolves.toMatchObject({ rows: [{ current_user: user, current_database: database }] });
      else await expect(attempt).rejects.toThrow(`permission denied for database "${database}"`);
    },
  );

  it("gives Vault's connection user no more than password changes on the managed roles", async () => {
    const vault = (database: string) => url(pg, VAULT_DATABASE_ADMIN, ADMIN_PASSWORD, database);
    await expect(withClient(vault('postgres'), (c) => c.query(`ALTER ROLE ${master.user} PASSWORD 'x'`))).rejects.toThrow(/permission denied/);
    await expect(withClient(vault('postgres'), (c) => c.query("ALTER ROLE postgres PASSWORD 'x'"))).rejects.toThrow(/permission denied/);
    await expect(withClient(vault('postgres'), (c) => c.query(`ALTER ROLE ${services[0]!.username} CREATEDB`))).rejects.toThrow(/permission denied/);
    await expect(withClient(vault('postgres'), (c) => c.query(`SET ROLE ${services[0]!.username}`))).rejects.toThrow(/permission denied/);
    for (const s of services) {
      await expect(withClient(vault(s.database), async () => undefined)).rejects.toThrow(`permission denied for database "${s.database}"`);
    }
    const attributes = await superuser((c) => c.query('SELECT rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = $1', [VAULT_DATABASE_ADMIN]));
    expect(attributes.rows[0]).toEqual({ rolsuper: false, rolinherit: false, rolcreaterole: true, rolcreatedb: false, rolreplication: false, rolbypassrls: false });
  });

  it('creates exactly the service roles and Vault\'s, none for PgBouncer and no auth_query function', async () => {
    const created = await superuser((c) => c.query("SELECT rolname FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%' AND rolname NOT IN ('postgres', $1) ORDER BY rolname", [master.user]));
    expect(created.rows.map((r) => r.rolname)).toEqual([...services.map((s) => s.username), VAULT_DATABASE_ADMIN].sort());
    for (const s of services) {
      const schemas = await superuser((c) => c.query("SELECT nspname FROM pg_namespace WHERE nspname = 'pgbouncer'"), s.database);
      expect({ database: s.database, schemas: schemas.rows }).toEqual({ database: s.database, schemas: [] });
    }
  });

  it("gives each service's sessions the spec's statement timeout as its role's default (no startup parameter through PgBouncer)", async () => {
    const want = `${spec.dataTier.postgres.serviceStatementTimeoutSeconds}s`;
    const payment = services.find((s) => s.name === 'payment-service')!;
    await withClient(url(pg, payment.username, passwords.get(payment.username)!, payment.database), async (c) => {
      expect((await c.query('SHOW statement_timeout')).rows[0].statement_timeout).toBe(want);
    });
    for (const s of services) {
      const config = await superuser((c) => c.query('SELECT rolconfig FROM pg_roles WHERE rolname = $1', [s.username]));
      expect({ role: s.username, config: config.rows[0].rolconfig }).toEqual({ role: s.username, config: [`statement_timeout=${want}`] });
    }
  });

  it('keeps password verifiers from the service users, whose migrations still work', async () => {
    const payment = services.find((s) => s.name === 'payment-service')!;
    await withClient(url(pg, payment.username, passwords.get(payment.username)!, payment.database), async (c) => {
      await expect(c.query('SELECT passwd FROM pg_shadow')).rejects.toThrow(/permission denied/);
      await c.query('CREATE TABLE migration_probe (id int PRIMARY KEY)');
    });
  });

  it('refuses a vault_admin that a superuser once gave SUPERUSER, naming the role and the fix', async () => {
    await superuser((c) => c.query(`ALTER ROLE ${VAULT_DATABASE_ADMIN} REPLICATION`));
    try {
      await expect(runBootstrap(master.url)).rejects.toThrow(/role vault_admin has SUPERUSER, REPLICATION or BYPASSRLS.*ALTER ROLE vault_admin NOSUPERUSER/);
    } finally {
      await superuser((c) => c.query(`ALTER ROLE ${VAULT_DATABASE_ADMIN} NOREPLICATION`));
    }
  });
});

describe("as a superuser on Debian's PostgreSQL (the older major the harness ran before)", () => {
  let pg: PostgresServer;
  const major = debianPostgresMajor();

  beforeAll(async () => {
    if (major === undefined) throw new Error("no Debian PostgreSQL: run npm run setup (scripts/setup/servers.sh)");
    pg = await startPostgres({ major });
  }, 120000);

  afterAll(async () => {
    await pg?.dispose();
  });

  it('applies the same: every cross-database login refused, own database reachable, twice', async () => {
    expect(pg.version.split('.')[0]).toBe(String(major));
    await expect(runBootstrap(pg.superuserUrl)).resolves.toEqual({ stdout: '', stderr: '' });
    await expect(runBootstrap(pg.superuserUrl)).resolves.toEqual({ stdout: '', stderr: '' });
    const passwords = await rotateAsVault(pg, pg.superuserUrl, 1);
    for (const s of services) {
      for (const t of services) {
        const attempt = withClient(url(pg, s.username, passwords.get(s.username)!, t.database), (c) => c.query('SELECT 1'));
        if (s === t) await expect(attempt).resolves.toBeDefined();
        else await expect(attempt).rejects.toThrow(`permission denied for database "${t.database}"`);
      }
    }
  });
});
