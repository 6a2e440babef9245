// PostgreSQL restarted under load, through the gateway: while it is down every
// order request fails fast with 503 problem+json (never 500/502, never a hung 504), and once it is
// back requests succeed again without restarting any service. Its own stack (no Kafka, no
// payments): a database outage must not take the other fault tests' stack down with it.
import { apiClient, newAccount, orderBody } from './client';
import type { Account, Api, Res } from './client';
import { startStack } from './stack';
import type { Stack } from './stack';

// Parallel requests in flight during the outage.
const CONCURRENCY = 20;

let stack: Stack;
let api: Api;
let alice: Account;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function isProblem(res: Res, status: number): boolean {
  return res.status === status && /^application\/problem\+json/.test(res.headers.get('content-type') ?? '');
}

async function pool<T>(count: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) {
      const i = next++;
      results[i] = await fn(i);
    }
  }));
  return results;
}

/** Retries `fn` until `ok` holds; gives up after `attempts` (a safety net, not a timing check). */
async function eventually(fn: () => Promise<Res>, ok: (r: Res) => boolean, attempts = 120): Promise<Res> {
  let last: Res | undefined;
  for (let i = 0; i < attempts; i++) {
    last = await fn();
    if (ok(last)) return last;
    await sleep(500);
  }
  throw new Error(`never succeeded; last answer ${last?.status}: ${last?.raw}`);
}

beforeAll(async () => {
  stack = await startStack({ logLevel: process.env.TEST_LOG_LEVEL ?? 'silent', orders: true });
  api = apiClient(stack.gatewayUrl);
  alice = await newAccount(api, 'alice');
}, 180_000);

afterAll(async () => {
  await stack?.dispose();
});

it('PostgreSQL restarted under load: 503 problem+json while it is down, then success without restarting a service', async () => {
  const order = await api('POST', '/v1/orders', { token: alice.access, body: orderBody() });
  expect(order.status).toBe(201);
  const read = () => api('GET', `/v1/orders/${order.body.id}`, { token: alice.access });
  const write = () => api('POST', '/v1/orders', { token: alice.access, body: orderBody() });

  await stack.pg.stop();
  let during: Res[];
  try {
    during = await pool(40, (i) => (i % 2 === 0 ? read() : write()));
  } finally {
    await stack.pg.start();
  }
  const recovered = await eventually(write, (r) => r.status === 201);
  expect(recovered.body.status).toBe('pending');
  expect((await eventually(read, (r) => r.status === 200)).body.id).toBe(order.body.id);
  // Every answer while it was down was a clean 503 problem: no 500, no 502, no hung request ending in 504.
  expect(during.filter((r) => !isProblem(r, 503)).map((r) => `${r.status} ${r.raw}`)).toEqual([]);
}, 180_000);

