// Request validation of the order and payment routes, in the gateway alone: a valid token (signed
// by a key the test publishes), no backend reachable. Validation runs before authorization and
// the backend call, so every answer here is the gateway's own 400 naming the field.
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { fastifyPath } from '../../../services/api-gateway/src/routes';
import { buildTestApp } from './helpers';

describe('fastifyPath', () => {
  it('ends a parameter at a literal colon (AIP-136 custom methods) and escapes the colon', () => {
    expect(fastifyPath('/v1/orders/{id}:cancel')).toBe('/v1/orders/:id(^[^:/]+)::cancel');
    // Every parameter ends at a colon: GET /v1/orders/<id>:cancel is not GET /v1/orders/{id}.
    expect(fastifyPath('/v1/orders/{id}')).toBe('/v1/orders/:id(^[^:/]+)');
    expect(fastifyPath('/v1/admin/signing-keys:rotate')).toBe('/v1/admin/signing-keys::rotate');
  });
});

const ORDER = '3f1c2a9e-6b7d-4e8f-9a0b-1c2d3e4f5a6b';

describe('order and payment routes: validation', () => {
  let t: Awaited<ReturnType<typeof buildTestApp>>;
  let auth: Record<string, string>;

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    t = await buildTestApp({ jwksFetch: async () => ({ jwks: { keys: [jwk] }, maxAgeSeconds: 300 }) });
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })
      .setIssuedAt().setIssuer('https://issuer.test').setAudience('platform-api').setExpirationTime('5m')
      .setSubject('user-1').setJti('token-1').sign(privateKey);
    auth = { authorization: `Bearer ${token}` };
  });
  afterAll(() => t.close());

  const problemOf = (body: string) => JSON.parse(body) as { status: number; detail: string; errors: { field: string; message: string }[] };
  const order = (over: Record<string, unknown> = {}, item: Record<string, unknown> = {}) => ({
    items: [{ productId: 'sku-1', quantity: 2, unitPrice: '19.99', ...item }], currency: 'USD', ...over,
  });
  const payment = (over: Record<string, unknown> = {}) => ({ orderId: ORDER, amount: '39.98', currency: 'USD', paymentMethod: 'pm_card_visa', ...over });

  it.each([
    ['negative', '-1.00'], ['zero', '0'], ['zero with decimals', '0.00'], ['non-numeric', 'abc'], ['excess precision', '1.999'],
    ['exponent', '1e3'], ['a JSON number', 19.99], ['too many integer digits', '12345678901'], ['empty', ''],
  ])('POST /v1/orders refuses a %s unit price, naming the field', async (_name, unitPrice) => {
    const res = await t.request('POST', '/v1/orders', { headers: auth, body: order({}, { unitPrice }) });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(problemOf(res.body).errors[0]!.field).toBe('items.0.unitPrice');
  });

  it.each([
    ['quantity', { quantity: 0 }, 'items.0.quantity'],
    ['quantity as a string of letters', { quantity: 'two' }, 'items.0.quantity'],
    ['productId empty', { productId: '' }, 'items.0.productId'],
    ['productId with a control character', { productId: 'a\u0000b' }, 'items.0.productId'],
  ])('POST /v1/orders refuses a bad %s', async (_name, item, field) => {
    const res = await t.request('POST', '/v1/orders', { headers: auth, body: order({}, item) });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res.body).errors[0]!.field).toBe(field);
  });

  it('POST /v1/orders refuses an unknown currency and an empty item list', async () => {
    const bad = await t.request('POST', '/v1/orders', { headers: auth, body: order({ currency: "USD'; DROP TABLE orders;--" }) });
    expect(bad.statusCode).toBe(400);
    expect(problemOf(bad.body).errors[0]!.field).toBe('currency');
    const empty = await t.request('POST', '/v1/orders', { headers: auth, body: order({ items: [] }) });
    expect(empty.statusCode).toBe(400);
    expect(problemOf(empty.body).errors[0]!.field).toBe('items');
  });

  it('POST /v1/payments without an Idempotency-Key is 400 naming the header', async () => {
    const res = await t.request('POST', '/v1/payments', { headers: auth, body: payment() });
    expect(res.statusCode).toBe(400);
    const p = problemOf(res.body);
    expect(p.errors).toEqual([{ field: 'Idempotency-Key header', message: 'is required' }]);
    expect(p.detail).toContain('Idempotency-Key');
  });

  it('POST /v1/payments refuses an Idempotency-Key with spaces or over 255 characters', async () => {
    for (const key of ['has space', 'k'.repeat(256)]) {
      const res = await t.request('POST', '/v1/payments', { headers: { ...auth, 'idempotency-key': key }, body: payment() });
      expect(res.statusCode).toBe(400);
      expect(problemOf(res.body).errors[0]!.field).toBe('Idempotency-Key header');
    }
  });

  it.each([['-5.00'], ['0'], ['ten'], ['1.001'], [5]])('POST /v1/payments refuses amount %p, naming the field', async (amount) => {
    const res = await t.request('POST', '/v1/payments', { headers: { ...auth, 'idempotency-key': 'k-1' }, body: payment({ amount }) });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res.body).errors[0]!.field).toBe('amount');
  });

  it('explains a malformed amount in words, not with the regular expression', async () => {
    const res = await t.request('POST', '/v1/payments', { headers: { ...auth, 'idempotency-key': 'k-1' }, body: payment({ amount: '1.001' }) });
    expect(problemOf(res.body).errors[0]).toEqual({ field: 'amount', message: 'must be a decimal string greater than zero with at most 10 integer digits and 2 decimals, e.g. "19.99"' });
    expect(res.body).not.toContain('(?:');
  });

  it('a currency without minor units (JPY) refuses decimals in prices and amounts, naming the field', async () => {
    const res = await t.request('POST', '/v1/orders', { headers: auth, body: order({ currency: 'JPY' }, { unitPrice: '300.5' }) });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res.body).errors).toEqual([{ field: 'items.0.unitPrice', message: 'must be a whole number greater than zero with at most 5 digits in this currency' }]);
    const paid = await t.request('POST', '/v1/payments', { headers: { ...auth, 'idempotency-key': 'k-1' }, body: payment({ currency: 'JPY', amount: '1.5' }) });
    expect(paid.statusCode).toBe(400);
    expect(problemOf(paid.body).errors).toEqual([{ field: 'amount', message: 'must be a whole number greater than zero with at most 10 digits in this currency' }]);
    // Whole yen pass validation (and reach auth-service, unreachable here).
    expect((await t.request('POST', '/v1/orders', { headers: auth, body: order({ currency: 'JPY' }, { unitPrice: '300' }) })).statusCode).toBe(503);
  });

  it('order and payment ids must be UUIDs (400, not a backend lookup)', async () => {
    for (const path of ["/v1/orders/1' OR '1'='1", '/v1/payments/42']) {
      const res = await t.request('GET', encodeURI(path), { headers: auth });
      expect(res.statusCode).toBe(400);
      expect(problemOf(res.body).errors[0]!.field).toBe('id');
    }
    const cancel = await t.request('POST', '/v1/orders/not-a-uuid:cancel', { headers: auth });
    expect(cancel.statusCode).toBe(400);
  });

  it('a well-formed request passes validation; with auth-service unreachable it fails closed (503 problem+json)', async () => {
    const res = await t.request('POST', '/v1/orders', { headers: auth, body: order() });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toContain('application/problem+json');
  });

  it('GET /v1/orders refuses a page size over 100 and unknown query fields', async () => {
    expect((await t.request('GET', '/v1/orders?pageSize=101', { headers: auth })).statusCode).toBe(400);
    const res = await t.request('GET', '/v1/orders?sort=1', { headers: auth });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res.body).errors[0]!.field).toBe('sort');
  });
});
