import { existsSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STRIPE_MOCK_VERSION, startStripeMock } from '../harness';
import type { StripeMockServer } from '../harness';
import { findStripeMock } from '../../scripts/local-stack/stripe-mock';

const auth = { authorization: `Basic ${Buffer.from('sk_test_harness:').toString('base64')}` };

function post(server: StripeMockServer, path: string, form: Record<string, string>): Promise<Response> {
  return fetch(`${server.url}${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
}

describe('startStripeMock', () => {
  let server: StripeMockServer;
  beforeAll(async () => {
    server = await startStripeMock();
  });
  afterAll(() => server?.dispose());

  test('serves Stripe\'s API on loopback: validates requests and answers from its fixtures', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const created = await post(server, '/v1/payment_intents', { amount: '1999', currency: 'usd' });
    expect(created.status).toBe(200);
    const intent = (await created.json()) as { object: string; id: string; amount: number; currency: string };
    // Valid parameters are reflected into the fixture; ids are fresh per response.
    expect(intent).toMatchObject({ object: 'payment_intent', amount: 1999, currency: 'usd' });
    expect(intent.id).toMatch(/^pi_/);

    const invalid = await post(server, '/v1/payment_intents', { amount: 'lots', currency: 'usd' });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
    expect((await fetch(`${server.url}/v1/balance`)).status).toBe(401);
    expect(server.requests().filter((r) => r === 'POST /v1/payment_intents')).toHaveLength(2);
  });

  test('stop() ends the process; dispose() removes its folder', async () => {
    const other = await startStripeMock();
    expect(other.pid).toBeGreaterThan(0);
    await other.stop();
    expect(other.pid).toBeUndefined();
    await expect(fetch(`${other.url}/v1/balance`)).rejects.toThrow();
    await other.dispose();
    expect(existsSync(other.dir)).toBe(false);
  });

  test('fixture overrides change what stripe-mock answers', async () => {
    const custom = await startStripeMock({ fixtures: { payment_intent: { status: 'requires_capture' } } });
    try {
      const res = await post(custom, '/v1/payment_intents', { amount: '500', currency: 'eur' });
      expect(((await res.json()) as { status: string }).status).toBe('requires_capture');
    } finally {
      await custom.dispose();
    }
    await expect(startStripeMock({ fixtures: { no_such_thing: {} } })).rejects.toThrow('fixtures.no_such_thing: stripe-mock has no such resource');
  });

  test('a missing binary is one line naming npm run setup', () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-stripe-mock-'));
    try {
      expect(() => findStripeMock(empty)).toThrow(`missing: stripe-mock ${STRIPE_MOCK_VERSION} (no ${join(empty, 'stripe-mock')}); install it with \`npm run setup\` (scripts/setup/go-tools.sh)`);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    expect(STRIPE_MOCK_VERSION).toBe('v0.203.0');
  });
});
