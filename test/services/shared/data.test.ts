/** PostgreSQL pool, Redis client and migrations against the harness's real servers over TLS. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Client } from 'pg';
import { createTestCa, startPostgres, startRedis } from '../../harness';
import type { DatabaseAccess, PostgresServer, RedisServer } from '../../harness';
import { createLogger, createPostgres, createRedis, isUniqueViolation, pingRedis, runMigrations } from '../../../services/shared/src';
import type { DatabaseConfig, RedisConfig } from '../../../services/shared/src';

const logger = createLogger({ service: 'test', level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

let pg: PostgresServer;
let redis: RedisServer;
let db: DatabaseAccess;

beforeAll(async () => {
  const ca = await createTestCa();
  [pg, redis] = await Promise.all([startPostgres({ ca }), startRedis({ ca })]);
  db = await pg.createDatabase('shared_runtime');
});

afterAll(async () => {
  await Promise.all([pg?.dispose(), redis?.dispose()]);
});

function dbConfig(overrides: Partial<DatabaseConfig> = {}): DatabaseConfig {
  return {
    DATABASE_HOST: 'localhost', DATABASE_PORT: pg.port, DATABASE_NAME: db.database, DATABASE_USER: db.user,
    DATABASE_PASSWORD_FILE: db.passwordFile, DATABASE_CA_FILE: pg.caFile, ...overrides,
  };
}

describe('PostgreSQL pool', () => {
  test('connects over verified TLS with the password file', async () => {
    const postgres = createPostgres(dbConfig(), { logger, applicationName: 'shared-test' });
    try {
      await postgres.ping();
      const { rows } = await postgres.pool.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      expect(rows[0].ssl).toBe(true);
      expect(postgres.hasReadReplica).toBe(false);
      expect(postgres.readPool).toBe(postgres.pool);
    } finally {
      await postgres.close();
    }
  });

  test('reads the password file for each new connection (rotation without restart)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgpass-'));
    const passwordFile = join(dir, 'password');
    writeFileSync(passwordFile, 'wrong-password\n');
    const postgres = createPostgres(dbConfig({ DATABASE_PASSWORD_FILE: passwordFile }), { logger, applicationName: 'shared-test' });
    try {
      await expect(postgres.ping()).rejects.toThrow(/password authentication failed/);
      writeFileSync(passwordFile, `${db.password}\n`);
      await expect(postgres.ping()).resolves.toBeUndefined();
    } finally {
      await postgres.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('uses a separate reader pool when DATABASE_READ_HOST is set', async () => {
    const postgres = createPostgres(dbConfig({ DATABASE_READ_HOST: '127.0.0.1', DATABASE_READ_PORT: pg.port }), { logger, applicationName: 'shared-test' });
    try {
      expect(postgres.hasReadReplica).toBe(true);
      expect(postgres.readPool).not.toBe(postgres.pool);
      await postgres.ping();
    } finally {
      await postgres.close();
    }
  });

  test('refuses a server whose certificate does not match the host name', async () => {
    // The harness certificate names localhost and 127.0.0.1. `127.1` is the same loopback address
    // in inet_aton's short form, which getaddrinfo resolves without /etc/hosts or DNS, while TLS
    // treats it as a host name that the certificate does not carry.
    const alias = '127.1';
    const socket = createConnection({ host: alias, port: pg.port });
    await once(socket, 'connect'); // reachable: a refusal below is about the name alone
    expect(socket.remoteAddress).toBe('127.0.0.1');
    socket.destroy();

    const postgres = createPostgres(dbConfig({ DATABASE_HOST: alias }), { logger, applicationName: 'shared-test' });
    try {
      await expect(postgres.ping()).rejects.toThrow(/Hostname\/IP does not match certificate's altnames: Host: 127\.1\./);
    } finally {
      await postgres.close();
    }
  });
});

describe('migrations', () => {
  test('apply once; a second run is a no-op; histories are per service', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
    writeFileSync(join(dir, '001_things.sql'), '-- Up Migration\nCREATE TABLE things (id int PRIMARY KEY, label text UNIQUE);\n-- Down Migration\nDROP TABLE things;\n');
    writeFileSync(join(dir, '002_more.sql'), '-- Up Migration\nALTER TABLE things ADD COLUMN note text;\n-- Down Migration\nALTER TABLE things DROP COLUMN note;\n');
    writeFileSync(join(dir, 'README.md'), 'not a migration');
    const postgres = createPostgres(dbConfig(), { logger, applicationName: 'shared-test' });
    try {
      const [a, b] = await Promise.all([
        runMigrations({ pool: postgres.pool, dir, migrationsTable: 'pgmigrations_shared_test', logger }),
        runMigrations({ pool: postgres.pool, dir, migrationsTable: 'pgmigrations_shared_test', logger }),
      ]);
      // Two concurrent runners (two replicas starting): the advisory lock makes one apply everything.
      expect([...a, ...b].sort()).toEqual(['001_things', '002_more']);
      expect(await runMigrations({ pool: postgres.pool, dir, migrationsTable: 'pgmigrations_shared_test', logger })).toEqual([]);
      const { rows } = await postgres.pool.query('SELECT name FROM pgmigrations_shared_test ORDER BY name');
      expect(rows.map((r) => r.name)).toEqual(['001_things', '002_more']);

      await postgres.pool.query("INSERT INTO things (id, label) VALUES (1, 'a')");
      const dup = await postgres.pool.query("INSERT INTO things (id, label) VALUES (2, 'a')").catch((e: unknown) => e);
      expect(isUniqueViolation(dup, 'things_label_key')).toBe(true);
      expect(isUniqueViolation(dup, 'other')).toBe(false);

      await expect(runMigrations({ pool: postgres.pool, dir, migrationsTable: 'bad-name', logger })).rejects.toThrow(/migrationsTable must be/);
    } finally {
      await postgres.close();
      rmSync(dir, { recursive: true, force: true });
    }
    // The role owns only its database: verify through a plain client that the table exists there.
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT to_regclass('public.things') AS t");
      expect(rows[0].t).toBe('things');
    } finally {
      await client.end();
    }
  });
});

describe('Redis client', () => {
  function redisConfig(overrides: Partial<RedisConfig> = {}): RedisConfig {
    return {
      REDIS_HOST: 'localhost', REDIS_PORT: redis.port, REDIS_TLS: true, REDIS_CA_FILE: redis.caFile,
      REDIS_USERNAME: redis.username, REDIS_PASSWORD_FILE: redis.passwordFile, ...overrides,
    };
  }

  test('talks TLS with the ACL user', async () => {
    const client = createRedis(redisConfig(), { logger });
    try {
      await pingRedis(client);
      await client.set('shared:test', 'v', 'EX', 60);
      expect(await client.get('shared:test')).toBe('v');
      expect(await client.acl('WHOAMI')).toBe(redis.username);
    } finally {
      client.disconnect();
    }
  });

  test('fails fast while Redis is down (no offline queue) and recovers when it is back', async () => {
    const client = createRedis(redisConfig(), { logger });
    try {
      await pingRedis(client);
      await redis.stop();
      await expect(client.get('shared:test')).rejects.toThrow();
      await redis.start();
      let ok = false;
      for (let i = 0; i < 100 && !ok; i++) {
        await new Promise((r) => setTimeout(r, 100));
        ok = await pingRedis(client).then(() => true, () => false);
      }
      expect(ok).toBe(true);
    } finally {
      client.disconnect();
    }
  });
});
