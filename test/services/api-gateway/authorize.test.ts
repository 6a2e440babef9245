// The decision cache in front of auth-service's Authorize.
import { DecisionCache } from '../../../services/api-gateway/src/authorize';
import type { AuthorizeQuery, Decision } from '../../../services/api-gateway/src/authorize';

const call = { deadline: new Date(Date.now() + 5000), requestId: 'r1' };
const q = (over: Partial<AuthorizeQuery> = {}): AuthorizeQuery => ({ subject: 'u1', action: 'users:read', resource: 'users/u1', tokenId: 't1', ...over });

function setup(decision: Partial<Decision> = {}, maxEntries = 10) {
  let now = 0;
  const calls: AuthorizeQuery[] = [];
  const lookups: string[] = [];
  const cache = new DecisionCache({
    maxEntries, maxTtlSeconds: 30, now: () => now, onLookup: (r) => lookups.push(r),
    call: async (query) => {
      calls.push(query);
      return { allowed: true, reason: 'ok', roles: ['customer'], ttlSeconds: 10, ...decision };
    },
  });
  return { cache, calls, lookups, advance: (ms: number) => { now += ms; } };
}

describe('DecisionCache', () => {
  it('serves a repeated question from cache until the TTL auth-service gave', async () => {
    const { cache, calls, lookups, advance } = setup();
    await cache.decide(q(), call);
    advance(9_999);
    await cache.decide(q(), call);
    expect(calls).toHaveLength(1);
    advance(1);
    await cache.decide(q(), call);
    expect(calls).toHaveLength(2);
    expect(lookups).toEqual(['miss', 'hit', 'miss']);
  });

  it('keys on subject, action, resource and token id', async () => {
    const { cache, calls } = setup();
    for (const over of [{}, { subject: 'u2' }, { action: 'users:update' }, { resource: 'users/u2' }, { tokenId: 't2' }]) await cache.decide(q(over), call);
    expect(calls).toHaveLength(5);
    // '|' inside a part cannot make two questions collide.
    await cache.decide(q({ subject: 'a|b', action: 'c' }), call);
    await cache.decide(q({ subject: 'a', action: 'b|c' }), call);
    expect(calls).toHaveLength(7);
  });

  it('caps the TTL and does not cache a zero TTL', async () => {
    const long = setup({ ttlSeconds: 3600 });
    await long.cache.decide(q(), call);
    long.advance(30_000);
    await long.cache.decide(q(), call);
    expect(long.calls).toHaveLength(2);
    const none = setup({ ttlSeconds: 0 });
    await none.cache.decide(q(), call);
    await none.cache.decide(q(), call);
    expect(none.calls).toHaveLength(2);
  });

  it('caches denials too and forgets a logged-out token', async () => {
    const { cache, calls } = setup({ allowed: false, reason: 'no' });
    expect((await cache.decide(q(), call)).allowed).toBe(false);
    await cache.decide(q({ tokenId: 't2' }), call);
    cache.forgetToken('t1');
    await cache.decide(q(), call);
    await cache.decide(q({ tokenId: 't2' }), call);
    expect(calls.map((c) => c.tokenId)).toEqual(['t1', 't2', 't1']);
  });

  it('evicts the least recently used entry beyond its size', async () => {
    const { cache, calls } = setup({}, 2);
    await cache.decide(q({ resource: 'users/a' }), call);
    await cache.decide(q({ resource: 'users/b' }), call);
    await cache.decide(q({ resource: 'users/a' }), call); // a is now the most recent
    await cache.decide(q({ resource: 'users/c' }), call); // evicts b
    expect(cache.size).toBe(2);
    await cache.decide(q({ resource: 'users/a' }), call);
    await cache.decide(q({ resource: 'users/b' }), call);
    expect(calls.map((c) => c.resource)).toEqual(['users/a', 'users/b', 'users/c', 'users/b']);
  });

  it('propagates auth-service failures (the route answers 503: fail closed)', async () => {
    const cache = new DecisionCache({ maxEntries: 10, maxTtlSeconds: 30, call: async () => { throw new Error('unavailable'); } });
    await expect(cache.decide(q(), call)).rejects.toThrow('unavailable');
  });
});
