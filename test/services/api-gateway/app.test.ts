// The gateway's HTTP behaviour that needs no backend: problem+json for every client error,
// request ids, rate-limit headers, trusted-proxy handling, and failing closed (503) when
// auth-service cannot be reached.
import { buildTestApp } from './helpers';
import type { TestResponse } from './helpers';

type TestApp = Awaited<ReturnType<typeof buildTestApp>>;

const signup = { email: 'ada@example.com', password: 'correct horse battery', name: 'Ada' };

function expectProblem(res: TestResponse, status: number) {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.body);
  expect(body).toMatchObject({ status, type: expect.any(String), title: expect.any(String), requestId: expect.any(String) });
  return body as { detail?: string; errors?: { field: string; message: string }[]; requestId: string };
}

describe('api-gateway HTTP errors', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ bodyLimitBytes: 1024 });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers an unknown route with 404 problem+json', async () => {
    const res = await t.request('GET', '/v1/nothing-here');
    expect(expectProblem(res, 404).detail).toContain('/v1/nothing-here');
  });

  it('answers a known path with an unsupported method with 404 problem+json', async () => {
    expectProblem(await t.request('DELETE', '/v1/auth/login'), 404);
  });

  it('refuses a body that is not JSON with 400 naming the body', async () => {
    const res = await t.request('POST', '/v1/auth/signup', { headers: { 'content-type': 'application/json' }, body: '{"email": ' });
    expect(expectProblem(res, 400).errors).toEqual([{ field: 'body', message: 'is not valid JSON' }]);
  });

  it('names a missing field', async () => {
    const res = await t.request('POST', '/v1/auth/signup', { body: { email: signup.email, name: 'Ada' } });
    expect(expectProblem(res, 400).errors).toEqual([{ field: 'password', message: 'is required' }]);
  });

  it('names an unknown field instead of dropping it', async () => {
    const res = await t.request('POST', '/v1/auth/signup', { body: { ...signup, admin: true } });
    expect(expectProblem(res, 400).errors).toEqual([{ field: 'admin', message: 'is not allowed' }]);
  });

  it('names a field with a bad value', async () => {
    const res = await t.request('POST', '/v1/auth/signup', { body: { ...signup, email: 'not-an-email' } });
    const body = expectProblem(res, 400);
    expect(body.errors?.[0]?.field).toBe('email');
    expect(body.detail).toMatch(/^email: /);
  });

  it('refuses a body that is a JSON array or string', async () => {
    expectProblem(await t.request('POST', '/v1/auth/signup', { headers: { 'content-type': 'application/json' }, body: '[1,2]' }), 400);
    expectProblem(await t.request('POST', '/v1/auth/signup', { headers: { 'content-type': 'application/json' }, body: '"x"' }), 400);
  });

  it('refuses a body larger than the limit with 413', async () => {
    const res = await t.request('POST', '/v1/auth/signup', { body: { ...signup, name: 'x'.repeat(2000) } });
    expectProblem(res, 413);
  });

  it('refuses an unsupported content type with 415', async () => {
    const res = await t.request('POST', '/v1/auth/login', { headers: { 'content-type': 'application/xml' }, body: '<login/>' });
    expectProblem(res, 415);
  });

  it('refuses an empty JSON body with 400', async () => {
    const res = await t.request('POST', '/v1/auth/login', { headers: { 'content-type': 'application/json' }, body: '' });
    expectProblem(res, 400);
  });

  it('asks for a Bearer token with 401 and WWW-Authenticate', async () => {
    const res = await t.request('GET', '/v1/users/me');
    expectProblem(res, 401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expectProblem(await t.request('GET', '/v1/users/me', { headers: { authorization: 'Basic dXNlcjpwdw==' } }), 401);
  });

  it('fails closed with 503 when auth-service is unreachable, without internals', async () => {
    const verify = await t.request('GET', '/v1/users/me', { headers: { authorization: 'Bearer a.b.c' } });
    expect(expectProblem(verify, 503).detail).toBe('a backend service is unavailable');
    const register = await t.request('POST', '/v1/auth/signup', { body: signup });
    expect(expectProblem(register, 503).detail).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
  });

  it('echoes a well-formed x-request-id and replaces a malformed one', async () => {
    const kept = await t.request('GET', '/nope', { headers: { 'x-request-id': 'abc-123' } });
    expect(kept.headers['x-request-id']).toBe('abc-123');
    expect(JSON.parse(kept.body).requestId).toBe('abc-123');
    const replaced = await t.request('GET', '/nope', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves the OpenAPI document', async () => {
    const res = await t.request('GET', '/openapi.json');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(res.body).openapi).toBe('3.1.0');
  });

  it('records latency by route template, not raw URL', async () => {
    await t.request('GET', '/v1/users/someone-specific');
    const text = await t.metrics.registry.getSingleMetricAsString('http_request_duration_seconds');
    expect(text).toContain('route="/v1/users/{id}"');
    expect(text).not.toContain('someone-specific');
    expect(text).toContain('route="unmatched"');
  });
});

describe('api-gateway anonymous rate limit', () => {
  it('sends RateLimit-* headers and 429 with Retry-After past the limit', async () => {
    const t = await buildTestApp({ anonymousLimit: 2 });
    try {
      const first = await t.request('GET', '/openapi.json');
      expect(first.headers).toMatchObject({ 'ratelimit-limit': '2', 'ratelimit-remaining': '1', 'ratelimit-policy': '2;w=60' });
      expect(Number(first.headers['ratelimit-reset'])).toBeGreaterThan(0);
      expect(first.headers['retry-after']).toBeUndefined();
      expect((await t.request('GET', '/openapi.json')).headers['ratelimit-remaining']).toBe('0');
      const limited = await t.request('GET', '/openapi.json');
      expectProblem(limited, 429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(limited.headers['ratelimit-remaining']).toBe('0');
    } finally {
      await t.close();
    }
  });

  it('keys clients by X-Forwarded-For when the peer is a trusted proxy', async () => {
    const t = await buildTestApp({ anonymousLimit: 2, trustedProxyCidrs: ['127.0.0.0/8'] });
    try {
      const from = (ip: string) => t.request('GET', '/openapi.json', { headers: { 'x-forwarded-for': ip } });
      expect((await from('198.51.100.1')).headers['ratelimit-remaining']).toBe('1');
      expect((await from('198.51.100.2')).headers['ratelimit-remaining']).toBe('1');
      expect((await from('198.51.100.1')).headers['ratelimit-remaining']).toBe('0');
    } finally {
      await t.close();
    }
  });

  it('ignores X-Forwarded-For from an untrusted peer', async () => {
    const t = await buildTestApp({ anonymousLimit: 2 });
    try {
      const from = (ip: string) => t.request('GET', '/openapi.json', { headers: { 'x-forwarded-for': ip } });
      expect((await from('198.51.100.1')).headers['ratelimit-remaining']).toBe('1');
      expect((await from('198.51.100.2')).headers['ratelimit-remaining']).toBe('0');
    } finally {
      await t.close();
    }
  });
});
