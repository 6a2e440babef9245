/**
 * user-service against real PostgreSQL and Redis (TLS) over its gRPC mTLS port, in-process;
 * then the process entry (bad env) and the esbuild bundle as a real process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import { createTestCa, freePort, issueServiceCertificate, startPostgres, startRedis } from '../../harness';
import type { DatabaseAccess, IssuedCertificate, PostgresServer, RedisServer, TestCa } from '../../harness';
import { UserServiceClient } from '../../../services/proto/gen/user/v1/user';
import { Status, createClient, createClientCredentials, createLogger, createRedis, pingRedis, unary } from '../../../services/shared/src';
import type { ClientCredentials, Redis } from '../../../services/shared/src';
import { startUserService } from '../../../services/user-service/src/service';
import type { UserServiceConfig, UserServiceHandle } from '../../../services/user-service/src/service';

const ROOT = resolve(__dirname, '..', '..', '..');
const silent = createLogger({ service: 'user-service', level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

let ca: TestCa;
let pg: PostgresServer;
let redis: RedisServer;
let db: DatabaseAccess;
let serverCert: IssuedCertificate;
let authCreds: ClientCredentials;

beforeAll(async () => {
  ca = await createTestCa();
  [pg, redis] = await Promise.all([startPostgres({ ca }), startRedis({ ca })]);
  db = await pg.createDatabase('users');
  serverCert = await issueServiceCertificate(ca, 'user-service');
  const authCert = await issueServiceCertificate(ca, 'auth-service');
  authCreds = await createClientCredentials({ certFile: authCert.certFile, keyFile: authCert.keyFile, caFile: ca.caFile }, 'user-service');
});

afterAll(async () => {
  authCreds?.certificates.close();
  await Promise.all([pg?.dispose(), redis?.dispose()]);
});

/** The environment a deployment would set, pointing at the harness servers. */
function environment(ports: { grpc: number; health: number }): Record<string, string> {
  return {
    GRPC_PORT: String(ports.grpc), HEALTH_PORT: String(ports.health), LOG_LEVEL: 'warn', SHUTDOWN_GRACE_MS: '5000',
    TLS_CERT_FILE: serverCert.certFile, TLS_KEY_FILE: serverCert.keyFile, TLS_CA_FILE: ca.caFile,
    DATABASE_HOST: 'localhost', DATABASE_PORT: String(pg.port), DATABASE_NAME: db.database, DATABASE_USER: db.user,
    DATABASE_PASSWORD_FILE: db.passwordFile, DATABASE_CA_FILE: pg.caFile,
    REDIS_HOST: 'localhost', REDIS_PORT: String(redis.port), REDIS_TLS: 'true', REDIS_CA_FILE: redis.caFile,
    REDIS_USERNAME: redis.username, REDIS_PASSWORD_FILE: redis.passwordFile,
  };
}

function config(): UserServiceConfig {
  return {
    LOG_LEVEL: 'silent', HEALTH_PORT: 0, ENDPOINT_DRAIN_MS: 0, SHUTDOWN_GRACE_MS: 5000, GRPC_PORT: 0, GRPC_ALLOWED_PEERS: ['api-gateway', 'auth-service'],
    TLS_CERT_FILE: serverCert.certFile, TLS_KEY_FILE: serverCert.keyFile, TLS_CA_FILE: ca.caFile,
    DATABASE_HOST: 'localhost', DATABASE_PORT: pg.port, DATABASE_NAME: db.database, DATABASE_USER: db.user,
    DATABASE_PASSWORD_FILE: db.passwordFile, DATABASE_CA_FILE: pg.caFile, DATABASE_READ_HOST: undefined, DATABASE_READ_PORT: undefined,
    REDIS_HOST: 'localhost', REDIS_PORT: redis.port, REDIS_TLS: true, REDIS_CA_FILE: redis.caFile,
    REDIS_USERNAME: redis.username, REDIS_PASSWORD_FILE: redis.passwordFile,
  };
}

async function cacheCount(handle: UserServiceHandle, result: 'hit' | 'miss'): Promise<number> {
  const metric = await handle.metrics.cacheRequestsTotal.get();
  return metric.values.find((v) => v.labels.cache === 'user' && v.labels.result === result)?.value ?? 0;
}

function errorOf(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  return promise.then(() => {
    throw new Error('expected the call to fail');
  }, (err: grpc.ServiceError) => err);
}

describe('user-service over gRPC', () => {
  let handle: UserServiceHandle;
  let client: UserServiceClient;
  let inspector: Redis;

  beforeAll(async () => {
    handle = await startUserService(config(), { logger: silent, host: '127.0.0.1' });
    client = createClient(UserServiceClient, `localhost:${handle.grpcPort}`, authCreds.credentials);
    inspector = createRedis({ ...config() }, { logger: silent });
    await pingRedis(inspector);
  });

  afterAll(async () => {
    client?.close();
    inspector?.disconnect();
    await handle?.stop();
  });

  test('create, get, update, delete', async () => {
    const created = await unary(client, 'createUser', { email: 'Ada.Lovelace@Example.COM', name: 'Ada Lovelace' });
    expect(created.user).toMatchObject({ email: 'ada.lovelace@example.com', name: 'Ada Lovelace' });
    const id = created.user!.id;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.user!.createdAt).toBeInstanceOf(Date);

    expect((await unary(client, 'getUser', { id })).user).toEqual(created.user);

    const updated = await unary(client, 'updateUser', { id, name: 'Augusta Ada King' });
    expect(updated.user).toMatchObject({ id, email: 'ada.lovelace@example.com', name: 'Augusta Ada King' });
    expect((await unary(client, 'getUser', { id })).user?.name).toBe('Augusta Ada King');
    const emailChanged = await unary(client, 'updateUser', { id, email: 'ADA@example.com' });
    expect(emailChanged.user?.email).toBe('ada@example.com');

    await unary(client, 'deleteUser', { id });
    expect((await errorOf(unary(client, 'getUser', { id }))).code).toBe(Status.NOT_FOUND);
    expect((await errorOf(unary(client, 'deleteUser', { id }))).code).toBe(Status.NOT_FOUND);
    expect((await errorOf(unary(client, 'updateUser', { id, name: 'x' }))).code).toBe(Status.NOT_FOUND);
  });

  test('bad input is INVALID_ARGUMENT naming the field; a duplicate e-mail is ALREADY_EXISTS', async () => {
    const cases: [Promise<unknown>, string][] = [
      [unary(client, 'createUser', { email: 'not-an-email', name: 'X' }), 'email: must be an e-mail address (printable ASCII, one @, a dot in the domain)'],
      [unary(client, 'createUser', { email: '', name: 'X' }), 'email: is required'],
      [unary(client, 'createUser', { email: 'x@example.com', name: '   ' }), 'name: must not contain control characters nor start or end with whitespace'],
      // C1 controls too, on every path that sets a name (the same rule as auth-service's and the document's).
      [unary(client, 'updateUser', { id: '00000000-0000-4000-8000-000000000000', name: 'Ada\u0085' }), 'name: must not contain control characters nor start or end with whitespace'],
      [unary(client, 'createUser', { email: 'x@example.com', name: 'n'.repeat(201) }), 'name: must be at most 200 characters'],
      [unary(client, 'getUser', { id: 'nope' }), 'id: must be a UUID'],
      [unary(client, 'updateUser', { id: '00000000-0000-4000-8000-000000000000' }), 'email, name: give at least one field to update'],
      [unary(client, 'listUsers', { pageSize: -1, pageToken: '' }), 'page_size: must not be negative'],
      [unary(client, 'listUsers', { pageSize: 1, pageToken: 'garbage' }), 'page_token: is not a token returned by ListUsers'],
    ];
    for (const [call, details] of cases) {
      const err = await errorOf(call);
      expect({ code: err.code, details: err.details }).toEqual({ code: Status.INVALID_ARGUMENT, details });
    }

    await unary(client, 'createUser', { email: 'grace@example.com', name: 'Grace Hopper' });
    const dup = await errorOf(unary(client, 'createUser', { email: 'GRACE@example.com', name: 'Another Grace' }));
    expect(dup.code).toBe(Status.ALREADY_EXISTS);
    expect(dup.details).toContain('email');
    const other = await unary(client, 'createUser', { email: 'other@example.com', name: 'Other' });
    expect((await errorOf(unary(client, 'updateUser', { id: other.user!.id, email: 'grace@example.com' }))).code).toBe(Status.ALREADY_EXISTS);
  });

  test('the email is auth-service\'s to set (ChangeEmail): the gateway may change names only', async () => {
    const { user } = await unary(client, 'createUser', { email: 'owner@example.com', name: 'Owner' });
    const gatewayCert = await issueServiceCertificate(ca, 'api-gateway');
    const gatewayCreds = await createClientCredentials({ certFile: gatewayCert.certFile, keyFile: gatewayCert.keyFile, caFile: ca.caFile }, 'user-service');
    const asGateway = createClient(UserServiceClient, `localhost:${handle.grpcPort}`, gatewayCreds.credentials);
    try {
      const err = await errorOf(unary(asGateway, 'updateUser', { id: user!.id, email: 'thief@example.com' }));
      expect({ code: err.code, details: err.details }).toEqual({
        code: Status.PERMISSION_DENIED, details: 'email: the login email changes through auth-service (ChangeEmail), with the current password',
      });
      expect((await unary(asGateway, 'updateUser', { id: user!.id, name: 'Renamed Owner' })).user).toMatchObject({ email: 'owner@example.com', name: 'Renamed Owner' });
    } finally {
      asGateway.close();
      gatewayCreds.certificates.close();
    }
  });

  test('ListUsers pages through every row exactly once', async () => {
    for (let i = 0; i < 23; i++) await unary(client, 'createUser', { email: `page${i}@example.com`, name: `Page ${i}` });
    const all = new Set<string>();
    const seen: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const page = await unary(client, 'listUsers', { pageSize: 7, pageToken: token });
      expect(page.users.length).toBeLessThanOrEqual(7);
      for (const u of page.users) seen.push(u.id);
      token = page.nextPageToken;
      pages++;
    } while (token !== '' && pages < 100);
    for (const id of seen) all.add(id);
    expect(seen.length).toBe(all.size);
    const { rows } = await handleQuery('SELECT id FROM users');
    expect(all).toEqual(new Set(rows.map((r: { id: string }) => r.id)));
    expect(pages).toBe(Math.ceil(rows.length / 7) + (rows.length % 7 === 0 ? 1 : 0));
  });

  test('GetUser is cache-aside: the second read is a hit, an update invalidates', async () => {
    const { user } = await unary(client, 'createUser', { email: 'cache@example.com', name: 'Cached' });
    const id = user!.id;
    const [hits0, misses0] = [await cacheCount(handle, 'hit'), await cacheCount(handle, 'miss')];
    await unary(client, 'getUser', { id });
    expect(await cacheCount(handle, 'miss')).toBe(misses0 + 1);
    expect(await inspector.exists(`user:v1:${id}`)).toBe(1);
    expect(await inspector.ttl(`user:v1:${id}`)).toBeGreaterThan(0);
    await unary(client, 'getUser', { id });
    expect(await cacheCount(handle, 'hit')).toBe(hits0 + 1);

    await unary(client, 'updateUser', { id, name: 'Renamed' });
    expect(await inspector.exists(`user:v1:${id}`)).toBe(0);
    expect((await unary(client, 'getUser', { id })).user?.name).toBe('Renamed');
    expect(await cacheCount(handle, 'miss')).toBe(misses0 + 2);

    await unary(client, 'deleteUser', { id });
    expect(await inspector.exists(`user:v1:${id}`)).toBe(0);

    const metrics = await (await fetch(`http://127.0.0.1:${handle.healthPort}/metrics`)).text();
    expect(metrics).toMatch(/cache_requests_total\{cache="user",result="hit"\} [1-9]/);
    expect(metrics).toMatch(/grpc_server_handling_seconds_bucket\{le="0.2",grpc_service="user.v1.UserService",grpc_method="GetUser",grpc_code="OK"\} [1-9]/);
  });

  test('with Redis stopped, GetUser is served from PostgreSQL', async () => {
    const { user } = await unary(client, 'createUser', { email: 'noredis@example.com', name: 'No Redis' });
    await redis.stop();
    try {
      const misses = await cacheCount(handle, 'miss');
      expect((await unary(client, 'getUser', { id: user!.id })).user).toEqual(user);
      expect(await cacheCount(handle, 'miss')).toBe(misses + 1);
      expect((await unary(client, 'updateUser', { id: user!.id, name: 'Still works' })).user?.name).toBe('Still works');
      // Redis is not a readiness dependency.
      expect((await fetch(`http://127.0.0.1:${handle.healthPort}/readyz`)).status).toBe(200);
    } finally {
      await redis.start();
    }
  });

  test('health port answers /livez and /readyz', async () => {
    expect((await fetch(`http://127.0.0.1:${handle.healthPort}/livez`)).status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${handle.healthPort}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { started: 'ok', postgres: 'ok', grpc: 'ok' } });
  });

  async function handleQuery(sql: string) {
    const { Client } = await import('pg');
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      return await c.query(sql);
    } finally {
      await c.end();
    }
  }
});

describe('read replica endpoint', () => {
  test('reads use DATABASE_READ_HOST; writes and their results use the writer', async () => {
    // The harness has one server: the reader pool reaches it under another address.
    const handle = await startUserService({ ...config(), DATABASE_READ_HOST: '127.0.0.1', DATABASE_READ_PORT: pg.port }, { logger: silent, host: '127.0.0.1' });
    const client = createClient(UserServiceClient, `localhost:${handle.grpcPort}`, authCreds.credentials);
    try {
      const { user } = await unary(client, 'createUser', { email: 'replica@example.com', name: 'Replica' });
      expect((await unary(client, 'getUser', { id: user!.id })).user).toEqual(user);
      expect((await unary(client, 'listUsers', { pageSize: 1, pageToken: '' })).users).toHaveLength(1);
      expect((await unary(client, 'updateUser', { id: user!.id, name: 'Replica 2' })).user?.name).toBe('Replica 2');
    } finally {
      client.close();
      await handle.stop();
    }
  });
});

describe('process', () => {
  test('a bad environment stops the process with one line naming the variable', () => {
    const env: Record<string, string> = { ...environment({ grpc: 8002, health: 9002 }), PATH: process.env.PATH ?? '' };
    delete env.DATABASE_HOST;
    const result = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsx'), ['services/user-service/src/main.ts'], { cwd: ROOT, env, encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('invalid configuration: DATABASE_HOST is required\n');
  });

  test('npm run build:services bundles user-service; the bundle serves /livez and stops on SIGTERM', async () => {
    const build = spawnSync('npm', ['run', '--silent', 'build:services'], { cwd: ROOT, encoding: 'utf8' });
    expect(build.status).toBe(0);
    expect(build.stdout).toContain('user-service: build/services/user-service/main.js');
    const bundle = join(ROOT, 'build', 'services', 'user-service', 'main.js');

    const healthPort = await freePort();
    const grpcPort = await freePort();
    const child = spawn(process.execPath, [bundle], {
      // A foreign working directory: the bundle must find migrations and protos beside itself.
      cwd: '/tmp',
      env: { ...environment({ grpc: grpcPort, health: healthPort }), PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    try {
      let ready = false;
      for (let i = 0; i < 150 && !ready && child.exitCode === null; i++) {
        await new Promise((r) => setTimeout(r, 100));
        ready = await fetch(`http://127.0.0.1:${healthPort}/readyz`).then((r) => r.status === 200, () => false);
      }
      if (!ready) throw new Error(`bundle did not become ready:\n${output}`);
      expect((await fetch(`http://127.0.0.1:${healthPort}/livez`)).status).toBe(200);
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  test('every service\'s bundle (built above) loads and stops on a missing variable with one line', () => {
    const services = readdirSync(join(ROOT, 'services')).filter((name) => existsSync(join(ROOT, 'services', name, 'src', 'main.ts'))).sort();
    expect(services).toEqual(expect.arrayContaining(['api-gateway', 'auth-service', 'order-service', 'payment-service', 'user-service']));
    for (const name of services) {
      // A bundle that cannot load (a dependency reading files beside itself) crashes before config.
      const result = spawnSync(process.execPath, [join(ROOT, 'build', 'services', name, 'main.js')], { cwd: '/tmp', env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' });
      expect([name, result.status, result.stderr]).toEqual([name, 1, expect.stringMatching(/^invalid configuration: [A-Z_]+ is required\n$/)]);
    }
  });
});
