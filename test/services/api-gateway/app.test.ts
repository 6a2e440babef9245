// The gateway's HTTP behaviour that needs no backend: problem+json for every client error,
// request ids, rate-limit headers, trusted-proxy handling, and failing closed (503) when
// auth-service cannot be reached; bodies that are slow, short or not UTF-8 JSON, 405 with Allow,
// and Node's own client errors (431) as problem+json.
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
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

  it('answers a known path with another method with 405 problem+json and Allow', async () => {
    const login = await t.request('DELETE', '/v1/auth/login');
    expect(expectProblem(login, 405).detail).toContain('DELETE');
    expect(login.headers.allow).toBe('POST');
    // A path matching a template: every method the documented paths it matches have.
    const me = await t.request('PUT', '/v1/users/me');
    expectProblem(me, 405);
    expect(me.headers.allow).toBe('GET, PATCH');
    const cancel = await t.request('GET', '/v1/orders/3f1c2a9e-6b7d-4e8f-9a0b-1c2d3e4f5a6b:cancel');
    expectProblem(cancel, 405);
    expect(cancel.headers.allow).toBe('POST');
    // A method no route has, with no Content-Type (QUERY may carry a body): still 405.
    const query = await t.request('QUERY', '/v1/users/me');
    expectProblem(query, 405);
    expect(query.headers.allow).toBe('GET, PATCH');
    // HEAD is not an undocumented twin of GET.
    const head = await fetch(`${t.base}/openapi.json`, { method: 'HEAD' });
    expect([head.status, head.headers.get('allow')]).toEqual([405, 'GET']);
    // A path nobody documents is still 404.
    expectProblem(await t.request('DELETE', '/v1/orders/x:refund'), 404);
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

describe('api-gateway bodies: UTF-8 JSON, within their time budget', () => {
  let t: TestApp;
  const lines: { level: number; msg: string; err?: unknown }[] = [];
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        cb();
      },
    });
    t = await buildTestApp({ bodyTimeoutMs: 300, logger: pino({ level: 'debug' }, sink) });
  });
  afterAll(async () => {
    await t.close();
  });

  /** Sends raw bytes and returns the raw answer (the connection is closed by the server or after 5 s). */
  function raw(bytes: Buffer | string): Promise<string> {
    return new Promise((resolve, reject) => {
      const url = new URL(t.base);
      const socket = connect(Number(url.port), url.hostname);
      let answer = '';
      socket.on('data', (d) => (answer += d.toString('utf8')));
      socket.on('end', () => resolve(answer));
      socket.on('error', reject);
      socket.setTimeout(5_000, () => {
        socket.destroy();
        resolve(answer);
      });
      socket.write(bytes);
    });
  }
  const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
  const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { status: number; errors?: { field: string }[] };

  it('a body shorter than its Content-Length is 408 problem+json, no error log, not counted as a server failure', async () => {
    const before = lines.length;
    const answer = await raw('POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{}');
    expect(statusOf(answer)).toBe(408);
    expect(answer).toMatch(/content-type: application\/problem\+json/i);
    expect(answer).toMatch(/connection: close/i);
    expect(bodyOf(answer)).toMatchObject({ status: 408, errors: [{ field: 'body' }] });
    // A client's fault: nothing at error level, no stack.
    expect(lines.slice(before).filter((l) => l.level >= 50)).toEqual([]);
    const metrics = await t.metrics.registry.getSingleMetricAsString('http_request_duration_seconds');
    expect(metrics).toMatch(/http_request_duration_seconds_count\{method="POST",route="\/v1\/auth\/login",status_code="408"\} 1/);
    expect(metrics).not.toMatch(/status_code="5\d\d"/);
  });

  it('a charset other than UTF-8 is 415; utf-8 in any case is accepted', async () => {
    const body = Buffer.from('{"email":"jos\u00e9@example.com","password":"x"}', 'latin1');
    const latin1 = await t.request('POST', '/v1/auth/login', { headers: { 'content-type': 'application/json; charset=latin1' }, body: body.toString('latin1') });
    expect(expectProblem(latin1, 415).detail).toContain('latin1');
    const utf8 = await t.request('POST', '/v1/auth/login', { headers: { 'content-type': 'application/json; charset="UTF-8"' }, body: { email: 'a@example.com', password: 'x' } });
    // Past the body, onward to auth-service (unreachable here): the body was accepted.
    expect(utf8.statusCode).toBe(503);
  });

  it('bytes that are not UTF-8 and lone surrogates are 400 naming the body, never stored as U+FFFD', async () => {
    const invalid = Buffer.concat([Buffer.from('{"email":"jos'), Buffer.from([0xe9]), Buffer.from('@example.com","password":"x"}')]);
    const bad = await raw(Buffer.concat([Buffer.from(`POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${invalid.length}\r\n\r\n`), invalid]));
    expect(statusOf(bad)).toBe(400);
    expect(bodyOf(bad).errors).toEqual([{ field: 'body', message: 'is not valid UTF-8' }]);
    const lone = await t.request('POST', '/v1/auth/login', { headers: { 'content-type': 'application/json' }, body: '{"email":"a\\ud800@example.com","password":"x"}' });
    expect(expectProblem(lone, 400).errors).toEqual([{ field: 'body', message: 'holds a lone surrogate (not a Unicode character) at email' }]);
    // A proper surrogate pair (an emoji) is a character like any other.
    const pair = await t.request('POST', '/v1/auth/login', { headers: { 'content-type': 'application/json' }, body: '{"email":"a@example.com","password":"\\ud83d\\ude00"}' });
    expect(pair.statusCode).toBe(503);
  });

  it('headers over the limit are 431 problem+json, a malformed request 400 problem+json', async () => {
    const big = await raw(`GET /openapi.json HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(statusOf(big)).toBe(431);
    expect(big).toMatch(/content-type: application\/problem\+json/i);
    expect(bodyOf(big)).toMatchObject({ status: 431, title: 'Request Header Fields Too Large' });
    const garbage = await raw('NOT HTTP AT ALL\r\n\r\n');
    expect(statusOf(garbage)).toBe(400);
    expect(bodyOf(garbage)).toMatchObject({ status: 400 });
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
