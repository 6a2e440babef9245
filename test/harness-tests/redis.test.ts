import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../harness';
import { findRedisServer } from '../../scripts/local-stack/redis';

let redis: RedisServer;
const clients: Redis[] = [];

function client(overrides: { username?: string; password?: string } = {}): Redis {
  const c = new Redis({
    host: redis.host,
    port: redis.port,
    username: overrides.username ?? redis.username,
    password: overrides.password ?? redis.password,
    tls: { ca: readFileSync(redis.caFile) },
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    disconnectTimeout: 100, // half-closed sockets of refused connections must not keep jest waiting
  });
  c.on('error', () => undefined); // asserted through connectFailure()
  clients.push(c);
  return c;
}

/** ioredis rejects connect() with "Connection is closed."; the cause comes as an 'error' event. */
async function connectFailure(c: Redis): Promise<string> {
  const errors: string[] = [];
  c.on('error', (e: Error) => errors.push(e.message));
  try {
    await c.connect();
  } catch (e) {
    errors.push((e as Error).message);
    return errors.join('; ');
  }
  throw new Error('connected, but a failure was expected');
}

beforeAll(async () => {
  redis = await startRedis();
});

afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});

afterAll(async () => {
  await redis?.dispose();
});

describe('startRedis', () => {
  test('the ACL user reads and writes over TLS', async () => {
    expect(redis.username).not.toBe('default');
    expect(readFileSync(redis.passwordFile, 'utf8')).toBe(redis.password);
    const c = client();
    await c.connect();
    await c.set('greeting', 'hello');
    expect(await c.get('greeting')).toBe('hello');
    expect(await c.acl('WHOAMI')).toBe(redis.username);
  });

  test('a wrong password is refused', async () => {
    expect(await connectFailure(client({ password: 'wrong' }))).toMatch(/WRONGPASS/);
  });

  test('the default user is disabled', async () => {
    expect(await connectFailure(client({ username: 'default' }))).toMatch(/WRONGPASS/);
  });

  test('the port speaks TLS only', async () => {
    const plain = new Redis({ host: redis.host, port: redis.port, username: redis.username, password: redis.password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000, disconnectTimeout: 100 });
    plain.on('error', () => undefined);
    clients.push(plain);
    expect(await connectFailure(plain)).not.toBe('');
  });

  test('stop refuses connections; start keeps port and data', async () => {
    const port = redis.port;
    const c = client();
    await c.connect();
    await c.set('survives', 'yes');
    c.disconnect();
    await redis.stop();
    expect(await connectFailure(client())).toMatch(/ECONNREFUSED/);
    await redis.start();
    expect(redis.port).toBe(port);
    const after = client();
    await after.connect();
    expect(await after.get('survives')).toBe('yes');
  });

  test('a missing installation fails with one line naming it and the setup command', () => {
    expect(() => findRedisServer('/nonexistent')).toThrow(/^missing: redis-server .*npm run setup/);
  });
});
