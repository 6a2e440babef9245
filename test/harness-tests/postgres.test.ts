import { existsSync, readFileSync } from 'node:fs';
import { Client } from 'pg';
import { startPostgres, type DatabaseAccess, type PostgresServer } from '../harness';
import { findPostgresBin } from '../../scripts/local-stack/postgres';
import { loadPlatformSpec } from '../../lib/spec';

let pg: PostgresServer;
let db: DatabaseAccess;

async function connect(url: string): Promise<Client> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  return client;
}

beforeAll(async () => {
  pg = await startPostgres();
  db = await pg.createDatabase('orders');
});

afterAll(async () => {
  await pg?.dispose();
});

describe('startPostgres', () => {
  test('the service role connects over TLS with verify-full and owns its database', async () => {
    expect(pg.host).toBe('127.0.0.1');
    expect(db.url).toContain('sslmode=verify-full');
    expect(readFileSync(db.passwordFile, 'utf8')).toBe(db.password);
    const client = await connect(db.url);
    try {
      const { rows } = await client.query(
        `SELECT current_user AS user, current_database() AS db, s.ssl, r.rolsuper, r.rolcreatedb, r.rolcreaterole
           FROM pg_stat_ssl s, pg_roles r WHERE s.pid = pg_backend_pid() AND r.rolname = current_user`,
      );
      expect(rows[0]).toEqual({ user: db.user, db: 'orders', ssl: true, rolsuper: false, rolcreatedb: false, rolcreaterole: false });
      await client.query('CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)');
      await client.query(`INSERT INTO items VALUES (1, 'kept across restarts')`);
    } finally {
      await client.end();
    }
  });

  test('the client verifies the server against the CA: another CA is refused', async () => {
    const client = new Client({
      host: pg.host, port: pg.port, database: db.database, user: db.user, password: db.password,
      ssl: { ca: '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n', rejectUnauthorized: true },
    });
    await expect(client.connect()).rejects.toThrow();
  });

  test('a connection without TLS is refused', async () => {
    const client = new Client({ host: pg.host, port: pg.port, database: db.database, user: db.user, password: db.password, ssl: false });
    await expect(client.connect()).rejects.toThrow(/no pg_hba.conf entry.*no encryption/);
  });

  test('a wrong password is refused', async () => {
    const client = new Client({ host: pg.host, port: pg.port, database: db.database, user: db.user, password: 'wrong', ssl: { ca: readFileSync(pg.caFile) } });
    await expect(client.connect()).rejects.toThrow(/password authentication failed/);
  });

  test('a service role cannot connect to another database', async () => {
    const other = await pg.createDatabase('payments', { user: 'payments_svc', password: 'a password with spaces and \'quotes\'' });
    expect(other.user).toBe('payments_svc');
    const own = await connect(other.url);
    await own.end();
    await expect(connect(db.url.replace('/orders?', '/payments?'))).rejects.toThrow(/permission denied/);
  });

  test('createDatabase rejects bad names naming the field', async () => {
    await expect(pg.createDatabase('Bad-Name')).rejects.toThrow(/name/);
    await expect(pg.createDatabase('ok', { user: 'x; DROP', password: 'p' })).rejects.toThrow(/owner.user/);
    await expect(pg.createDatabase('ok2', { user: 'postgres', password: 'p' })).rejects.toThrow(/superuser/);
  });

  test('stop refuses connections; start keeps port and data; restart too', async () => {
    const port = pg.port;
    await pg.stop();
    await expect(connect(db.url)).rejects.toThrow(/ECONNREFUSED/);
    await pg.start();
    expect(pg.port).toBe(port);
    let client = await connect(db.url);
    expect((await client.query('SELECT name FROM items WHERE id = 1')).rows).toEqual([{ name: 'kept across restarts' }]);
    await client.end();

    // A connection open across restart() is dropped, as in a failover; a new one works.
    client = await connect(db.url);
    const dropped = new Promise<Error>((resolve) => client.on('error', resolve));
    await pg.restart();
    expect((await dropped).message).toMatch(/terminat|Connection terminated|shutdown/i);
    client = await connect(db.url);
    expect((await client.query('SELECT count(*)::int AS n FROM items')).rows).toEqual([{ n: 1 }]);
    await client.end();
  });

  test('superuserUrl is for set-up: it works', async () => {
    const client = await connect(pg.superuserUrl);
    expect((await client.query('SELECT rolsuper FROM pg_roles WHERE rolname = current_user')).rows).toEqual([{ rolsuper: true }]);
    await client.end();
  });

  test('a missing installation fails with one line naming it and the setup command', () => {
    expect(() => findPostgresBin(17, { embedded: '/nonexistent/native', debian: '/nonexistent/postgresql' })).toThrow(/^missing: PostgreSQL 17 server .*npm run setup/);
  });

  test("runs RDS's engine version by default (lib/spec dataTier.postgres.engineVersion)", () => {
    expect(pg.version).toBe(loadPlatformSpec().dataTier.postgres.engineVersion);
  });

  test('createMaster gives an RDS-like master: CREATEROLE and CREATEDB, no superuser, no pg_shadow', async () => {
    const master = await pg.createMaster();
    const client = await connect(master.url);
    try {
      const { rows } = await client.query('SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication FROM pg_roles WHERE rolname = current_user');
      expect(rows[0]).toEqual({ rolsuper: false, rolcreaterole: true, rolcreatedb: true, rolreplication: false });
      await expect(client.query('SELECT passwd FROM pg_shadow')).rejects.toThrow(/permission denied/);
    } finally {
      await client.end();
    }
  });
});

describe('dispose', () => {
  test('stops the server and deletes its folder', async () => {
    const other = await startPostgres();
    const { dir } = other;
    expect(existsSync(dir)).toBe(true);
    await other.dispose();
    expect(existsSync(dir)).toBe(false);
    await expect(connect(other.superuserUrl)).rejects.toThrow();
  });
});
