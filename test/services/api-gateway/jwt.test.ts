// Access-token verification: every way a token must be refused, and the JWKS cache's
// refetch-on-unknown-kid with its cooldown.
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { InvalidTokenError, JwksCache, JwtVerifier, bearerToken } from '../../../services/api-gateway/src/jwt';

const ISSUER = 'https://auth.platform.test';
const AUDIENCE = 'platform-api';
const deadline = () => new Date(Date.now() + 5000);

interface Key { kid: string; privateKey: CryptoKey; jwk: JWK }

async function newKey(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

function sign(key: Key, claims: { sub?: string; jti?: string; iss?: string; aud?: string; exp?: number | string; nbf?: number | string; typ?: string } = {}, kid: string | undefined = key.kid) {
  const jwt = new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', typ: claims.typ ?? 'at+jwt', ...(kid === undefined ? {} : { kid }) })
    .setIssuedAt()
    .setIssuer(claims.iss ?? ISSUER)
    .setAudience(claims.aud ?? AUDIENCE)
    .setExpirationTime(claims.exp ?? '5m');
  if (claims.sub !== '') jwt.setSubject(claims.sub ?? 'user-1');
  if (claims.jti !== '') jwt.setJti(claims.jti ?? 'token-1');
  if (claims.nbf !== undefined) jwt.setNotBefore(claims.nbf);
  return jwt.sign(key.privateKey);
}

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** A key source standing in for auth-service's GetJwks: serves whatever `published` holds. */
function setup(initial: Key[], opts: { cooldownMs?: number; now?: () => number; maxAgeSeconds?: number; cacheMaxTtlMs?: number } = {}) {
  const state = { published: initial, fetches: 0, lookups: [] as string[] };
  const jwks = new JwksCache({
    refetchCooldownMs: opts.cooldownMs ?? 30_000,
    ...(opts.now ? { now: opts.now } : {}),
    fetch: async () => {
      state.fetches += 1;
      return { jwks: { keys: state.published.map((k) => k.jwk) }, maxAgeSeconds: opts.maxAgeSeconds ?? 300 };
    },
  });
  const verifier = new JwtVerifier({
    jwks, issuer: ISSUER, audience: AUDIENCE, clockToleranceSeconds: 5,
    onCacheLookup: (result) => state.lookups.push(result),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.cacheMaxTtlMs !== undefined ? { cacheMaxTtlMs: opts.cacheMaxTtlMs } : {}),
  });
  return { state, jwks, verifier };
}

async function reason(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(InvalidTokenError);
  return (err as InvalidTokenError).reason;
}

describe('JwtVerifier', () => {
  let key: Key;
  beforeAll(async () => {
    key = await newKey('k1');
  });

  it('accepts a valid ES256 token and returns subject, jti and exp', async () => {
    const { verifier } = setup([key]);
    const v = await verifier.verify(await sign(key, { sub: 'u-42', jti: 'j-1' }), deadline());
    expect(v).toMatchObject({ subject: 'u-42', tokenId: 'j-1' });
    expect(v.expiresAt).toBeGreaterThan(Date.now() / 1000);
  });

  it('refuses alg "none"', async () => {
    const { verifier } = setup([key]);
    const now = Math.floor(Date.now() / 1000);
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'u', jti: 'j', iss: ISSUER, aud: AUDIENCE, exp: now + 300 })}.`;
    expect(await reason(verifier.verify(token, deadline()))).toMatch(/algorithm not allowed|malformed/);
  });

  it('refuses HS256 (alg pinned to ES256)', async () => {
    const { verifier } = setup([key]);
    const secret = new TextEncoder().encode('a-shared-secret-of-at-least-32-bytes!!');
    const token = await new SignJWT({ sub: 'u', jti: 'j' }).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' })
      .setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').sign(secret);
    expect(await reason(verifier.verify(token, deadline()))).toBe('token algorithm not allowed (ES256 required)');
  });

  it('refuses an expired token (beyond the clock tolerance)', async () => {
    const { verifier } = setup([key]);
    const token = await sign(key, { exp: Math.floor(Date.now() / 1000) - 60 });
    expect(await reason(verifier.verify(token, deadline()))).toBe('token expired');
  });

  it('refuses a token whose nbf is in the future', async () => {
    const { verifier } = setup([key]);
    const token = await sign(key, { nbf: Math.floor(Date.now() / 1000) + 600 });
    expect(await reason(verifier.verify(token, deadline()))).toMatch(/"nbf"/);
  });

  it('refuses a wrong audience and a wrong issuer', async () => {
    const { verifier } = setup([key]);
    expect(await reason(verifier.verify(await sign(key, { aud: 'someone-else' }), deadline()))).toMatch(/"aud"/);
    expect(await reason(verifier.verify(await sign(key, { iss: 'https://evil.test' }), deadline()))).toMatch(/"iss"/);
  });

  it('refuses a JWT that is not an access token (typ)', async () => {
    const { verifier } = setup([key]);
    expect(await reason(verifier.verify(await sign(key, { typ: 'JWT' }), deadline()))).toMatch(/"typ"/);
  });

  it('refuses a token without sub or jti', async () => {
    const { verifier } = setup([key]);
    expect(await reason(verifier.verify(await sign(key, { sub: '' }), deadline()))).toMatch(/"sub"/);
    expect(await reason(verifier.verify(await sign(key, { jti: '' }), deadline()))).toMatch(/"jti"/);
  });

  it('refuses a token signed by a foreign key that reuses a known kid', async () => {
    const { verifier } = setup([key]);
    const foreign = await newKey('k1');
    expect(await reason(verifier.verify(await sign(foreign), deadline()))).toBe('token signature invalid');
  });

  it('refuses a foreign key with an unknown kid after exactly one refetch', async () => {
    const { verifier, state } = setup([key]);
    const foreign = await newKey('evil');
    expect(await reason(verifier.verify(await sign(foreign), deadline()))).toBe('token signed by an unknown key');
    expect(state.fetches).toBe(2);
  });

  it('refuses garbage', async () => {
    const { verifier } = setup([key]);
    expect(await reason(verifier.verify('not.a.jwt', deadline()))).toBe('token malformed');
  });

  it('picks up a rotated key on an unknown kid, then not again within the cooldown', async () => {
    const { verifier, state } = setup([key]);
    await verifier.verify(await sign(key), deadline());
    expect(state.fetches).toBe(1);
    const next = await newKey('k2');
    state.published = [key, next];
    await expect(verifier.verify(await sign(next, { sub: 'rotated' }), deadline())).resolves.toMatchObject({ subject: 'rotated' });
    expect(state.fetches).toBe(2);
    // Unknown kids within the cooldown do not reach auth-service.
    const stranger = await newKey('k3');
    state.published = [key, next, stranger];
    expect(await reason(verifier.verify(await sign(stranger), deadline()))).toBe('token signed by an unknown key');
    expect(await reason(verifier.verify(await sign(stranger), deadline()))).toBe('token signed by an unknown key');
    expect(state.fetches).toBe(2);
  });

  it('refetches an unknown kid again once the cooldown has passed', async () => {
    let now = 1_000_000;
    const { verifier, state } = setup([key], { cooldownMs: 10_000, now: () => now });
    const later = await newKey('k9');
    await reason(verifier.verify(await sign(later), deadline()));
    expect(state.fetches).toBe(2);
    state.published = [key, later];
    now += 10_001;
    await expect(verifier.verify(await sign(later), deadline())).resolves.toMatchObject({ subject: 'user-1' });
    expect(state.fetches).toBe(3);
  });
});

describe('JwtVerifier verified-token cache', () => {
  let key: Key;
  beforeAll(async () => {
    key = await newKey('k1');
  });

  it('serves a token it verified from the cache, and verifies a different token in full', async () => {
    const { verifier, state } = setup([key]);
    const token = await sign(key, { sub: 'user-1', jti: 'a' });
    expect((await verifier.verify(token, deadline())).subject).toBe('user-1');
    expect((await verifier.verify(token, deadline())).subject).toBe('user-1');
    const other = await sign(key, { sub: 'user-2', jti: 'b' });
    const verified = await verifier.verify(other, deadline());
    expect({ subject: verified.subject, tokenId: verified.tokenId }).toEqual({ subject: 'user-2', tokenId: 'b' });
    expect(state.lookups).toEqual(['miss', 'hit', 'miss']);
  });

  it('refuses a tampered copy of a cached token', async () => {
    const { verifier } = setup([key]);
    const token = await sign(key, { sub: 'user-1' });
    await verifier.verify(token, deadline());
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${header}.${b64({ ...claims, sub: 'admin' })}.${signature}`;
    expect(await reason(verifier.verify(forged, deadline()))).toBe('token signature invalid');
    // A changed signature alone is no cache hit either.
    const flipped = `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BA' : 'AA'}`;
    expect(await reason(verifier.verify(flipped, deadline()))).toMatch(/token (signature invalid|malformed)/);
  });

  it('stops serving a cached token at its exp: past the clock tolerance it is refused', async () => {
    let now = Date.now();
    const { verifier, state } = setup([key], { now: () => now });
    const exp = Math.floor(now / 1000) + 60;
    const token = await sign(key, { exp });
    await verifier.verify(token, deadline());
    now = exp * 1000 - 1;
    await verifier.verify(token, deadline());
    expect(state.lookups).toEqual(['miss', 'hit']);
    // At exp the entry is gone; within the tolerance the full check still accepts it...
    now = exp * 1000 + 1000;
    await verifier.verify(token, deadline());
    expect(state.lookups).toEqual(['miss', 'hit', 'miss']);
    // ...and past it the full check refuses it: the cache never extended the token's life.
    now = exp * 1000 + 6000;
    expect(await reason(verifier.verify(token, deadline()))).toBe('token expired');
  });

  it('remembers a token no longer than cacheMaxTtlMs', async () => {
    let now = Date.now();
    const { verifier, state } = setup([key], { now: () => now, cacheMaxTtlMs: 1000 });
    const token = await sign(key, { exp: '1h' });
    await verifier.verify(token, deadline());
    now += 999;
    await verifier.verify(token, deadline());
    now += 1;
    await verifier.verify(token, deadline());
    expect(state.lookups).toEqual(['miss', 'hit', 'miss']);
  });

  it('verifies again once the key set is refreshed: a withdrawn key is no longer accepted', async () => {
    let now = Date.now();
    const { verifier, state } = setup([key], { now: () => now, maxAgeSeconds: 60 });
    const token = await sign(key, { exp: '1h' });
    await verifier.verify(token, deadline());
    const replacement = await newKey('k2');
    state.published = [replacement];
    now += 61_000;
    expect(await reason(verifier.verify(token, deadline()))).toBe('token signed by an unknown key');
    expect(state.lookups).toEqual(['miss', 'miss']);
  });
});

describe('JwksCache', () => {
  it('shares one fetch between concurrent requests and caches for max_age', async () => {
    let now = 0;
    let fetches = 0;
    const cache = new JwksCache({
      refetchCooldownMs: 1000, now: () => now,
      fetch: async () => {
        fetches += 1;
        return { jwks: { keys: [] }, maxAgeSeconds: 60 };
      },
    });
    await Promise.all([cache.get(deadline()), cache.get(deadline()), cache.get(deadline())]);
    expect(fetches).toBe(1);
    now = 59_000;
    await cache.get(deadline());
    expect(fetches).toBe(1);
    expect((await cache.document(deadline())).maxAgeSeconds).toBe(1);
    now = 60_000;
    await cache.get(deadline());
    expect(fetches).toBe(2);
  });

  it('keeps the stale set when a refetch fails, and fails when it never had one', async () => {
    let now = 0;
    let up = true;
    const stale: unknown[] = [];
    const cache = new JwksCache({
      refetchCooldownMs: 1000, now: () => now, onStale: (e) => stale.push(e),
      fetch: async () => {
        if (!up) throw new Error('auth-service unavailable');
        return { jwks: { keys: [{ kty: 'EC', kid: 'a' }] }, maxAgeSeconds: 10 };
      },
    });
    up = false;
    await expect(cache.get(deadline())).rejects.toThrow('auth-service unavailable');
    up = true;
    await cache.get(deadline());
    up = false;
    now = 20_000;
    expect(JSON.parse((await cache.document(deadline())).json).keys[0].kid).toBe('a');
    expect(stale).toHaveLength(1);
  });
});

describe('bearerToken', () => {
  it('extracts the token of a Bearer header only', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('Basic dXNlcg==')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
