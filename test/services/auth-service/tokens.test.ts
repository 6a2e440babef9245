import { randomBytes } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import { generateSigningKey, KeyEncryptor, KeyRing } from '../../../services/auth-service/src/keys';
import type { SigningKey } from '../../../services/auth-service/src/keys';
import { TokenIssuer, verifyAccessToken } from '../../../services/auth-service/src/tokens';

const SETTINGS = { issuer: 'https://auth.test', audience: 'platform-api', accessTokenTtlSeconds: 600 };
const T0 = new Date('2026-11-01T12:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

async function key(activatesAt: Date, retiresAt: Date | null = null): Promise<SigningKey> {
  const k = await generateSigningKey();
  return { ...k, createdAt: activatesAt, activatesAt, retiresAt };
}

describe('KeyRing', () => {
  it('signs with the newest activated key and publishes every key not yet retired', async () => {
    const old = await key(at(-3600), at(900));
    const current = await key(at(-10), null);
    const next = await key(at(300), null);
    const ring = new KeyRing([old, current, next]);
    expect(ring.signingKey(T0)?.kid).toBe(current.kid);
    expect(ring.jwks(T0).keys.map((k) => k.kid)).toEqual([old.kid, current.kid, next.kid]);
    expect(ring.stateOf(old, T0)).toBe('retired');
    expect(ring.stateOf(current, T0)).toBe('active');
    expect(ring.stateOf(next, T0)).toBe('next');
    // At activation the next key takes over; the old one drops out once retired.
    expect(ring.signingKey(at(300))?.kid).toBe(next.kid);
    expect(ring.jwks(at(901)).keys.map((k) => k.kid)).toEqual([current.kid, next.kid]);
  });

  it('publishes only public parameters', async () => {
    const ring = new KeyRing([await key(at(-1))]);
    const [jwk] = ring.jwks(T0).keys;
    expect(Object.keys(jwk).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
  });

  it('has no signing key before the first activation', async () => {
    expect(new KeyRing([await key(at(10))]).signingKey(T0)).toBeUndefined();
  });
});

describe('KeyEncryptor', () => {
  const enc = new KeyEncryptor(randomBytes(32));

  it('round-trips and binds the ciphertext to its kid', () => {
    const secret = randomBytes(100);
    const blob = enc.encrypt(secret, 'kid-a');
    expect(enc.decrypt(blob, 'kid-a')).toEqual(secret);
    expect(() => enc.decrypt(blob, 'kid-b')).toThrow();
    expect(() => new KeyEncryptor(randomBytes(32)).decrypt(blob, 'kid-a')).toThrow();
  });

  it('refuses a key of the wrong size, naming the variable', () => {
    expect(() => new KeyEncryptor(randomBytes(16))).toThrow(/AUTH_KEY_ENCRYPTION_KEY_FILE/);
  });
});

describe('TokenIssuer', () => {
  it('issues ES256 tokens with kid, iss, aud, sub, roles, jti, iat/nbf/exp that verify against the JWKS', async () => {
    const k = await key(at(-60));
    const ring = new KeyRing([k]);
    const issuer = new TokenIssuer(async () => ring, () => T0, SETTINGS);
    const issued = await issuer.issue('3f1c0f5e-1111-4aaa-8bbb-000000000001', ['customer']);
    expect(decodeProtectedHeader(issued.token)).toEqual({ alg: 'ES256', kid: k.kid, typ: 'at+jwt' });
    const { claims, kid } = await verifyAccessToken(issued.token, ring.jwks(T0), { ...SETTINGS, currentDate: at(1) });
    expect(kid).toBe(k.kid);
    const iat = T0.getTime() / 1000;
    expect(claims).toMatchObject({ iss: SETTINGS.issuer, aud: SETTINGS.audience, sub: '3f1c0f5e-1111-4aaa-8bbb-000000000001', roles: ['customer'], jti: issued.jti, iat, nbf: iat, exp: iat + 600 });
    expect(issued.expiresAt).toEqual(at(600));
  });

  it('produces tokens that fail verification when expired, for another audience, or against another key set', async () => {
    const ring = new KeyRing([await key(at(-60))]);
    const { token } = await new TokenIssuer(async () => ring, () => T0, SETTINGS).issue('u', []);
    await expect(verifyAccessToken(token, ring.jwks(T0), { ...SETTINGS, currentDate: at(601) })).rejects.toThrow(/exp/);
    await expect(verifyAccessToken(token, ring.jwks(T0), { ...SETTINGS, audience: 'other', currentDate: T0 })).rejects.toThrow(/aud/);
    const otherRing = new KeyRing([await key(at(-60))]);
    await expect(verifyAccessToken(token, otherRing.jwks(T0), { ...SETTINGS, currentDate: T0 })).rejects.toThrow();
  });

  it('switches kid at the next key\'s activation while old tokens keep verifying', async () => {
    const current = await key(at(-60), at(300 + 660));
    const next = await key(at(300));
    const ring = new KeyRing([current, next]);
    let now = T0;
    const issuer = new TokenIssuer(async () => ring, () => now, SETTINGS);
    const before = await issuer.issue('u', []);
    now = at(300);
    const after = await issuer.issue('u', []);
    expect(before.kid).toBe(current.kid);
    expect(after.kid).toBe(next.kid);
    const jwks = ring.jwks(at(301));
    await expect(verifyAccessToken(before.token, jwks, { ...SETTINGS, currentDate: at(301) })).resolves.toBeDefined();
    await expect(verifyAccessToken(after.token, jwks, { ...SETTINGS, currentDate: at(301) })).resolves.toBeDefined();
  });

  it('fails loudly when no key can sign', async () => {
    const ring = new KeyRing([await key(at(60))]);
    await expect(new TokenIssuer(async () => ring, () => T0, SETTINGS).issue('u', [])).rejects.toThrow(/no signing key/);
  });
});
