// The OpenAPI document is exact where the services validate: for names (sign-up and profile
// change), product ids, user ids in paths and page tokens, values on both sides of each rule are
// checked against services/api-gateway/openapi.json (JSON Schema 2020-12, as any client's
// validator reads it) and sent through the gateway to the real services. A value the document
// admits is accepted (no 400), one it refuses is a 400: never "valid per the document" and
// refused by a service.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { grantRole } from '../../../services/auth-service/src/accounts';
import { apiClient, newAccount, orderBody } from './client';
import type { Account, Api, Res } from './client';
import { startStack } from './stack';
import type { Stack } from './stack';

interface Operation {
  parameters?: { name: string; in: string; schema: object }[];
  requestBody?: { content: { 'application/json': { schema: object } } };
}
const doc = JSON.parse(readFileSync(join(__dirname, '../../../services/api-gateway/openapi.json'), 'utf8')) as { paths: Record<string, Record<string, Operation>> };
const ajv = new Ajv2020({ strict: false });

function bodyAdmits(path: string, method: string, body: unknown): boolean {
  return ajv.validate(doc.paths[path]![method]!.requestBody!.content['application/json'].schema, body);
}

function parameterAdmits(path: string, method: string, name: string, value: string): boolean {
  const parameter = doc.paths[path]![method]!.parameters!.find((p) => p.name === name)!;
  return ajv.validate(parameter.schema, value);
}

let stack: Stack;
let api: Api;
let me: Account;
/** May read any profile: a user id reaches user-service instead of stopping at authorization. */
let admin: Account;

beforeAll(async () => {
  stack = await startStack({ logLevel: process.env.TEST_LOG_LEVEL ?? 'silent', orders: true, gatewayEnv: { RATE_LIMIT_ANONYMOUS: '100000' } });
  api = apiClient(stack.gatewayUrl);
  me = await newAccount(api, 'exact');
  admin = await newAccount(api, 'exact-admin');
  await grantRole(stack.auth.postgres.pool, admin.email, 'admin');
  await stack.auth.authorizer.forgetRoles(admin.userId);
}, 180_000);

afterAll(async () => {
  await stack?.dispose();
});

/** One line per value where the document and the services disagree. */
async function disagreements(values: readonly string[], admits: (v: string) => boolean, send: (v: string) => Promise<Res>): Promise<string[]> {
  const out: string[] = [];
  for (const value of values) {
    const admitted = admits(value);
    const res = await send(value);
    if (res.status >= 500) out.push(`${JSON.stringify(value)}: ${res.status} ${res.raw}`);
    else if (admitted === (res.status === 400)) {
      out.push(`${JSON.stringify(value)}: the document ${admitted ? 'admits' : 'refuses'} it, the gateway answered ${res.status} ${res.raw}`);
    }
  }
  return out;
}

const NAMES = [
  'Ada', 'Ada Lovelace', 'José', 'Ada\u0085', 'Ada\u0007', 'Ada\u007f', ' Ada', 'Ada ', 'A\u00a0', '\u3000',
  // Lengths in code points: 200 emoji are 400 UTF-16 units.
  '\u{1F600}'.repeat(200), '\u{1F600}'.repeat(201), 'n'.repeat(200), 'n'.repeat(201),
];

it('names: the document carries the rule sign-up and profile changes check, and both paths agree', async () => {
  const signup = await disagreements(NAMES, (name) => bodyAdmits('/v1/auth/signup', 'post', { email: 'a@example.com', password: 'correct horse battery', name }),
    (name) => api('POST', '/v1/auth/signup', { body: { email: `n-${randomUUID()}@example.com`, password: 'correct horse battery', name } }));
  const patch = await disagreements(NAMES, (name) => bodyAdmits('/v1/users/me', 'patch', { name }),
    (name) => api('PATCH', '/v1/users/me', { token: me.access, body: { name } }));
  expect({ signup, patch }).toEqual({ signup: [], patch: [] });
  // The rule is there: a C1 control character is refused by the document itself.
  expect(bodyAdmits('/v1/users/me', 'patch', { name: 'Ada\u0085' })).toBe(false);
});

it('product ids: the same length (code points) and characters in the document and in order-service', async () => {
  const ids = ['sku-1', 'a\u0085b', 'a\u0000b', ' sku', 'sku ', '\u{1F600}'.repeat(60), '\u{1F600}'.repeat(100), '\u{1F600}'.repeat(101), 'x'.repeat(100), 'x'.repeat(101), 'ÄÖÜ-42'];
  const found = await disagreements(ids, (productId) => bodyAdmits('/v1/orders', 'post', orderBody('1.00', 1, productId)),
    (productId) => api('POST', '/v1/orders', { token: me.access, body: orderBody('1.00', 1, productId) }));
  expect(found).toEqual([]);
});

it('user ids in paths: what the document admits, user-service accepts', async () => {
  const ids = [me.userId, me.userId.toUpperCase(), randomUUID(), 'abc_def', 'user-1', `${me.userId}x`, '0'.repeat(36)];
  const asOwner = await disagreements(ids, (id) => parameterAdmits('/v1/users/{id}', 'get', 'id', id),
    (id) => api('GET', `/v1/users/${encodeURIComponent(id)}`, { token: me.access }));
  const asAdmin = await disagreements(ids, (id) => parameterAdmits('/v1/users/{id}', 'get', 'id', id),
    (id) => api('GET', `/v1/users/${encodeURIComponent(id)}`, { token: admin.access }));
  expect({ asOwner, asAdmin }).toEqual({ asOwner: [], asAdmin: [] });
});

it('page tokens: any token of the documented form continues a listing; others are 400', async () => {
  for (let i = 0; i < 3; i++) expect((await api('POST', '/v1/orders', { token: me.access, body: orderBody() })).status).toBe(201);
  const first = await api('GET', '/v1/orders?pageSize=1', { token: me.access });
  const issued = first.body.nextPageToken as string;
  expect(issued).toEqual(expect.any(String));
  const tokens = [issued, `0.${randomUUID()}`, `${Date.now()}.${randomUUID().toUpperCase()}`, 'garbage', randomUUID(), `-1.${randomUUID()}`, `${'9'.repeat(16)}.${randomUUID()}`, ''];
  const orders = await disagreements(tokens.filter((t) => t !== ''), (token) => parameterAdmits('/v1/orders', 'get', 'pageToken', token),
    (token) => api('GET', `/v1/orders?pageToken=${encodeURIComponent(token)}`, { token: me.access }));
  // Validation comes before authorization: a customer learns the form even where listing users is for admins.
  const users = await disagreements(tokens.filter((t) => t !== ''), (token) => parameterAdmits('/v1/users', 'get', 'pageToken', token),
    (token) => api('GET', `/v1/users?pageToken=${encodeURIComponent(token)}`, { token: me.access }));
  expect({ orders, users }).toEqual({ orders: [], users: [] });
  // The issued token continues where the first page ended.
  const second = await api('GET', `/v1/orders?pageSize=1&pageToken=${encodeURIComponent(issued)}`, { token: me.access });
  expect(second.status).toBe(200);
  expect(second.body.orders[0].id).not.toBe(first.body.orders[0].id);
});
