// End to end through the gateway: HTTP -> api-gateway -> gRPC over mTLS -> auth-service and
// user-service -> PostgreSQL/Redis, all real and on loopback (stack.ts).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { SignJWT, generateKeyPair } from 'jose';
import { grantRole } from '../../../services/auth-service/src/accounts';
import { UserServiceClient } from '../../../services/proto/gen/user/v1/user';
import { AuthServiceClient } from '../../../services/proto/gen/auth/v1/auth';
import { createTestCa } from '../../harness';
import { JWT_AUDIENCE, JWT_ISSUER, startStack } from './stack';
import type { Stack } from './stack';

interface Res {
  status: number;
  headers: Headers;
  body: any;
  raw: string;
}

let stack: Stack;

async function api(method: string, path: string, opts: { token?: string; body?: unknown; raw?: string; contentType?: string; base?: string; forwardedFor?: string } = {}): Promise<Res> {
  const headers: Record<string, string> = {};
  if (opts.forwardedFor) headers['x-forwarded-for'] = opts.forwardedFor;
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.raw !== undefined) {
    body = opts.raw;
    headers['content-type'] = opts.contentType ?? 'application/json';
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${opts.base ?? stack.gatewayUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const raw = await res.text();
  let parsed: unknown;
  try {
    parsed = raw ? JSON.parse(raw) : undefined;
  } catch {
    parsed = raw;
  }
  return { status: res.status, headers: res.headers, body: parsed, raw };
}

function expectProblem(res: Res, status: number): void {
  expect({ status: res.status, type: res.headers.get('content-type') }).toEqual({ status, type: expect.stringMatching(/^application\/problem\+json/) });
  expect(res.body).toMatchObject({ status, title: expect.any(String) });
}

let counter = 0;
async function newAccount(prefix: string): Promise<{ email: string; password: string; userId: string; access: string; refresh: string }> {
  const email = `${prefix}-${++counter}-${Date.now()}@example.com`;
  const password = 'correct horse battery staple';
  const signup = await api('POST', '/v1/auth/signup', { body: { email, password, name: prefix } });
  expect(signup.status).toBe(201);
  const login = await api('POST', '/v1/auth/login', { body: { email, password } });
  expect(login.status).toBe(200);
  return { email, password, userId: signup.body.userId, access: login.body.accessToken, refresh: login.body.refreshToken };
}

async function metric(port: number, line: RegExp): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const found = text.split('\n').find((l) => line.test(l));
  return found ? Number(found.split(' ').pop()) : 0;
}

beforeAll(async () => {
  stack = await startStack({ logLevel: process.env.TEST_LOG_LEVEL ?? 'silent' });
}, 180_000);

afterAll(async () => {
  await stack?.dispose();
});

describe('accounts', () => {
  it('signs up, logs in, refreshes and logs out', async () => {
    const email = `ada-${Date.now()}@example.com`;
    const signup = await api('POST', '/v1/auth/signup', { body: { email, password: 'correct horse battery', name: 'Ada' } });
    expect(signup.status).toBe(201);
    expect(signup.body.userId).toEqual(expect.any(String));
    expectProblem(await api('POST', '/v1/auth/signup', { body: { email, password: 'another password!', name: 'Ada 2' } }), 409);

    expectProblem(await api('POST', '/v1/auth/login', { body: { email, password: 'wrong password' } }), 401);
    const login = await api('POST', '/v1/auth/login', { body: { email, password: 'correct horse battery' } });
    expect(login.status).toBe(200);
    expect(login.headers.get('cache-control')).toBe('no-store');
    expect(login.body).toEqual({
      accessToken: expect.any(String), tokenType: 'Bearer', expiresIn: expect.any(Number),
      refreshToken: expect.any(String), refreshExpiresIn: expect.any(Number),
    });

    const refreshed = await api('POST', '/v1/auth/refresh', { body: { refreshToken: login.body.refreshToken } });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refreshToken).not.toBe(login.body.refreshToken);
    // The presented refresh token was spent.
    expectProblem(await api('POST', '/v1/auth/refresh', { body: { refreshToken: login.body.refreshToken } }), 401);

    const access = refreshed.body.accessToken as string;
    expect((await api('GET', '/v1/users/me', { token: access })).status).toBe(200);
    const logout = await api('POST', '/v1/auth/logout', { token: access, body: { refreshToken: refreshed.body.refreshToken } });
    expect(logout.status).toBe(204);
    expectProblem(await api('POST', '/v1/auth/refresh', { body: { refreshToken: refreshed.body.refreshToken } }), 401);
    // The access token presented at logout is revoked too (auth-service denies its jti).
    expectProblem(await api('GET', '/v1/users/me', { token: access }), 401);
    // Logging out with it again is no exception: a revoked token is refused on every route.
    const again = await api('POST', '/v1/auth/logout', { token: access, body: { refreshToken: refreshed.body.refreshToken } });
    expectProblem(again, 401);
    expect(again.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  });

  it('serves the JWKS from auth-service', async () => {
    const res = await api('GET', '/.well-known/jwks.json');
    expect(res.status).toBe(200);
    expect(res.body.keys.length).toBeGreaterThan(0);
    expect(res.body.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', kid: expect.any(String) });
    expect(res.body.keys[0]).not.toHaveProperty('d');
    expect(res.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
  });
});

describe('profiles', () => {
  it('gets and updates the own profile', async () => {
    const me = await newAccount('grace');
    const own = await api('GET', '/v1/users/me', { token: me.access });
    expect(own.status).toBe(200);
    expect(own.body).toEqual({ id: me.userId, email: me.email, name: 'grace', createdAt: expect.any(String) });
    const patched = await api('PATCH', `/v1/users/${me.userId}`, { token: me.access, body: { name: 'Grace Hopper' } });
    expect(patched.status).toBe(200);
    expect(patched.body.name).toBe('Grace Hopper');
    expect((await api('GET', `/v1/users/${me.userId}`, { token: me.access })).body.name).toBe('Grace Hopper');
    const viaMe = await api('PATCH', '/v1/users/me', { token: me.access, body: { name: 'Rear Admiral Hopper' } });
    expect([viaMe.status, viaMe.body.id, viaMe.body.name]).toEqual([200, me.userId, 'Rear Admiral Hopper']);
  });

  it('compares ids in any case the document admits: the own id in upper case is the own profile', async () => {
    const me = await newAccount('upper');
    const upper = me.userId.toUpperCase();
    const own = await api('GET', `/v1/users/${upper}`, { token: me.access });
    expect([own.status, own.body.id]).toEqual([200, me.userId]);
    const patched = await api('PATCH', `/v1/users/${upper}`, { token: me.access, body: { name: 'Upper Case' } });
    expect([patched.status, patched.body.name]).toEqual([200, 'Upper Case']);
  });

  it("refuses another user's profile (403) unless admin", async () => {
    const alice = await newAccount('alice');
    const bob = await newAccount('bob');
    expectProblem(await api('GET', `/v1/users/${alice.userId}`, { token: bob.access }), 403);
    expectProblem(await api('PATCH', `/v1/users/${alice.userId}`, { token: bob.access, body: { name: 'pwned' } }), 403);
    expectProblem(await api('GET', '/v1/users', { token: bob.access }), 403);
    expectProblem(await api('POST', '/v1/admin/signing-keys:rotate', { token: bob.access }), 403);

    const admin = await newAccount('admin');
    await grantRole(stack.auth.postgres.pool, admin.email, 'admin');
    await stack.auth.authorizer.forgetRoles(admin.userId);
    const read = await api('GET', `/v1/users/${alice.userId}`, { token: admin.access });
    expect(read.status).toBe(200);
    expect(read.body.email).toBe(alice.email);
    const list = await api('GET', '/v1/users?pageSize=100', { token: admin.access });
    expect(list.status).toBe(200);
    expect(list.body.users.map((u: { id: string }) => u.id)).toEqual(expect.arrayContaining([alice.userId, bob.userId]));
    const rotate = await api('POST', '/v1/admin/signing-keys:rotate', { token: admin.access });
    expect(rotate.status).toBe(200);
    expect(rotate.body).toEqual({ nextKid: expect.any(String), activatesAt: expect.any(String) });
  });

  it('serves the second read from the cache (user-service and gateway metrics)', async () => {
    const me = await newAccount('cache');
    const userHits = () => metric(stack.users.healthPort, /^cache_requests_total\{cache="user",result="hit"\}/);
    const authzHits = () => metric(stack.gateway.healthPort, /^cache_requests_total\{cache="authz",result="hit"\}/);
    // The first read fills the cache (sign-up does not).
    expect((await api('GET', `/v1/users/${me.userId}`, { token: me.access })).status).toBe(200);
    const [userBefore, authzBefore] = [await userHits(), await authzHits()];
    expect((await api('GET', `/v1/users/${me.userId}`, { token: me.access })).status).toBe(200);
    expect(await userHits()).toBe(userBefore + 1);
    expect(await authzHits()).toBe(authzBefore + 1);
    const gatewayMetrics = await (await fetch(`http://127.0.0.1:${stack.gateway.healthPort}/metrics`)).text();
    expect(gatewayMetrics).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/v1\/users\/\{id\}",status_code="200"\} \d+/);
  });
});

describe('rate limiting', () => {
  it('answers 429 with RateLimit-* and Retry-After past the limit', async () => {
    // Loopback plays the ALB here, so each test client can have its own address.
    const gw = await stack.startGateway({ RATE_LIMIT_AUTHENTICATED: '3', RATE_LIMIT_ANONYMOUS: '2', TRUSTED_PROXY_CIDRS: '127.0.0.0/8' });
    const me = await newAccount('limited');
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      const res = await api('GET', '/v1/users/me', { token: me.access, base: gw.url });
      statuses.push(res.status);
      expect(res.headers.get('ratelimit-remaining')).toBe(String(2 - i));
      expect(res.headers.get('ratelimit-limit')).toBe('3');
    }
    expect(statuses).toEqual([200, 200, 200]);
    const limited = await api('GET', '/v1/users/me', { token: me.access, base: gw.url });
    expectProblem(limited, 429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('ratelimit-policy')).toMatch(/^3;w=\d+$/);
    // Anonymous routes count per client IP (the counter in Redis is shared by every replica).
    const client = (ip: string) => api('GET', '/openapi.json', { base: gw.url, forwardedFor: ip });
    expect((await client('198.51.100.7')).status).toBe(200);
    expect((await client('198.51.100.7')).status).toBe(200);
    const anonymous = await client('198.51.100.7');
    expectProblem(anonymous, 429);
    expect(anonymous.headers.get('retry-after')).toEqual(expect.any(String));
    expect((await client('198.51.100.8')).status).toBe(200);
  });

  it('keeps enforcing limits with Redis stopped, and stays ready', async () => {
    const gw = await stack.startGateway({ RATE_LIMIT_AUTHENTICATED: '3' });
    const me = await newAccount('redis-down');
    expect((await api('GET', '/v1/users/me', { token: me.access, base: gw.url })).status).toBe(200);
    await stack.redis.stop();
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await api('GET', '/v1/users/me', { token: me.access, base: gw.url })).status);
      // The local limiter counts from zero in its own window: 3 allowed, the 4th refused.
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(await metric(gw.handle.healthPort, /^rate_limit_fallback_active /)).toBe(1);
      expect(await metric(gw.handle.healthPort, /^rate_limit_decisions_total\{policy="authenticated",result="limited",backend="local"\}/)).toBe(1);
      expect((await fetch(`http://127.0.0.1:${gw.handle.healthPort}/readyz`)).status).toBe(200);
    } finally {
      await stack.redis.start();
    }
  });
});

describe('JWT rejection', () => {
  async function realKey() {
    const ring = await stack.auth.keys.current();
    const key = ring.signingKey(new Date());
    if (!key) throw new Error('auth-service has no active signing key');
    return key;
  }
  const claims = (over: Record<string, unknown> = {}) => ({ sub: randomUUID(), jti: randomUUID(), ...over });
  const signWith = (key: Parameters<SignJWT['sign']>[0], kid: string, over: Record<string, unknown> = {}, aud = JWT_AUDIENCE, exp: number | string = '5m') =>
    new SignJWT(claims(over)).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid }).setIssuer(JWT_ISSUER).setAudience(aud)
      .setIssuedAt().setExpirationTime(exp).sign(key);

  async function expect401(token: string): Promise<void> {
    const res = await api('GET', '/v1/users/me', { token });
    expectProblem(res, 401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  }

  it('accepts a token signed by the real key (control)', async () => {
    const me = await newAccount('control');
    const key = await realKey();
    const token = await signWith(key.privateKey, key.kid, { sub: me.userId });
    expect((await api('GET', '/v1/users/me', { token })).status).toBe(200);
  });

  it('rejects alg none', async () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    await expect401(`${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ ...claims(), iss: JWT_ISSUER, aud: JWT_AUDIENCE, exp: now + 300 })}.`);
  });

  it('rejects an expired token', async () => {
    const key = await realKey();
    await expect401(await signWith(key.privateKey, key.kid, {}, JWT_AUDIENCE, Math.floor(Date.now() / 1000) - 3600));
  });

  it('rejects a foreign key, with a known or an unknown kid', async () => {
    const key = await realKey();
    const { privateKey } = await generateKeyPair('ES256');
    await expect401(await signWith(privateKey, key.kid));
    await expect401(await signWith(privateKey, 'not-a-kid-of-ours'));
  });

  it('rejects a wrong audience', async () => {
    const key = await realKey();
    await expect401(await signWith(key.privateKey, key.kid, {}, 'another-api'));
  });
});

describe('mTLS between services', () => {
  const call = (client: UserServiceClient) => new Promise<grpc.ServiceError | null>((resolve) => {
    client.getUser({ id: 'nobody' }, new grpc.Metadata(), { deadline: new Date(Date.now() + 5000) }, (err) => resolve(err));
  });
  const authCall = (client: AuthServiceClient) => new Promise<grpc.ServiceError | null>((resolve) => {
    client.getJwks({}, new grpc.Metadata(), { deadline: new Date(Date.now() + 5000) }, (err) => resolve(err));
  });

  it('lets the gateway identity through (control)', async () => {
    const gw = stack.certs['api-gateway'];
    const creds = grpc.credentials.createSsl(readFileSync(stack.ca.caFile), Buffer.from(gw.keyPem), Buffer.from(gw.certPem));
    const client = new UserServiceClient(`127.0.0.1:${stack.users.grpcPort}`, creds);
    try {
      const err = await call(client);
      // Reached the handler: not found (or invalid id), not a transport failure.
      expect(err?.code).not.toBe(grpc.status.UNAVAILABLE);
      expect(err?.code).not.toBe(grpc.status.PERMISSION_DENIED);
    } finally {
      client.close();
    }
  });

  it('refuses a client without a certificate', async () => {
    const creds = grpc.credentials.createSsl(readFileSync(stack.ca.caFile));
    const users = new UserServiceClient(`127.0.0.1:${stack.users.grpcPort}`, creds);
    const auth = new AuthServiceClient(`127.0.0.1:${stack.auth.grpcPort}`, creds);
    try {
      expect((await call(users))?.code).toBe(grpc.status.UNAVAILABLE);
      expect((await authCall(auth))?.code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      users.close();
      auth.close();
    }
  });

  it('refuses a client whose certificate comes from another CA', async () => {
    const other = await createTestCa({ commonName: 'intruder CA' });
    const cert = await other.issue({ commonName: 'api-gateway', dnsNames: ['localhost'] });
    const creds = grpc.credentials.createSsl(readFileSync(stack.ca.caFile), Buffer.from(cert.keyPem), Buffer.from(cert.certPem));
    const users = new UserServiceClient(`127.0.0.1:${stack.users.grpcPort}`, creds);
    const auth = new AuthServiceClient(`127.0.0.1:${stack.auth.grpcPort}`, creds);
    try {
      expect((await call(users))?.code).toBe(grpc.status.UNAVAILABLE);
      expect((await authCall(auth))?.code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      users.close();
      auth.close();
    }
  });

  it('refuses a certificate of the right CA whose identity is not allowed', async () => {
    const cert = await stack.ca.issue({ commonName: 'order-service', dnsNames: ['localhost'] });
    const creds = grpc.credentials.createSsl(readFileSync(stack.ca.caFile), Buffer.from(cert.keyPem), Buffer.from(cert.certPem));
    const auth = new AuthServiceClient(`127.0.0.1:${stack.auth.grpcPort}`, creds);
    try {
      expect((await authCall(auth))?.code).toBe(grpc.status.PERMISSION_DENIED);
    } finally {
      auth.close();
    }
  });
});

describe('bad input', () => {
  let token: string;
  let userId: string;
  beforeAll(async () => {
    const me = await newAccount('fuzz');
    token = me.access;
    userId = me.userId;
  });

  const cases: [string, () => Promise<Res>, number][] = [
    ['invalid JSON', () => api('POST', '/v1/auth/signup', { raw: '{"email":' }), 400],
    ['JSON array', () => api('POST', '/v1/auth/login', { raw: '[]' }), 400],
    ['wrong type', () => api('POST', '/v1/auth/login', { body: { email: 42, password: 'x' } }), 400],
    ['unknown field', () => api('POST', '/v1/auth/refresh', { body: { refreshToken: 'x', extra: 1 } }), 400],
    ['empty JSON body', () => api('POST', '/v1/auth/login', { raw: '' }), 400],
    ['text/plain body', () => api('POST', '/v1/auth/login', { raw: 'hello', contentType: 'text/plain' }), 415],
    ['JSON in another charset', () => api('POST', '/v1/auth/login', { raw: '{"email":"a@b.c","password":"x"}', contentType: 'application/json; charset=iso-8859-1' }), 415],
    ['XML body', () => api('POST', '/v1/auth/login', { raw: '<a/>', contentType: 'application/xml' }), 415],
    ['oversized payload', () => api('POST', '/v1/auth/signup', { body: { email: 'a@b.c', password: 'p'.repeat(20_000), name: 'x' } }), 413],
    ['oversized PATCH', () => api('PATCH', `/v1/users/${userId}`, { token, body: { name: 'n'.repeat(40_000) } }), 413],
    ['empty PATCH', () => api('PATCH', `/v1/users/${userId}`, { token, body: {} }), 400],
    ['bad email in PATCH', () => api('PATCH', `/v1/users/${userId}`, { token, body: { email: 'nope' } }), 400],
    ['bad id in path', () => api('GET', '/v1/users/a%20b', { token }), 400],
    ['bad pageSize', () => api('GET', '/v1/users?pageSize=0', { token }), 400],
    ['unknown route', () => api('GET', '/v1/nothing', {}), 404],
    ['unknown user', () => api('GET', '/v1/users/00000000-0000-4000-8000-000000000000', { token }), 403],
  ];

  it.each(cases)('%s -> problem+json, never 500', async (_name, run, status) => {
    const res = await run();
    expectProblem(res, status);
    expect(res.raw).not.toMatch(/at .*\.ts:\d+|stack/i);
  });
});
