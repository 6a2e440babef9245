/**
 * Access tokens: ES256 JWTs (RFC 9068 profile, `typ: at+jwt`) with `kid` in the header, signed by
 * whichever key the key ring says signs now.
 */
import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import type { JSONWebKeySet, JWTPayload } from 'jose';
import type { Clock } from './clock';
import type { KeyRing } from './keys';
import { SIGNING_ALG } from './keys';

export const ACCESS_TOKEN_TYPE = 'at+jwt';

export interface TokenSettings {
  readonly issuer: string;
  readonly audience: string;
  readonly accessTokenTtlSeconds: number;
}

export interface IssuedAccessToken {
  readonly token: string;
  readonly jti: string;
  readonly kid: string;
  readonly expiresAt: Date;
  /** exp - iat: what the client is told as `expires_in`. */
  readonly lifetimeSeconds: number;
}

export interface AccessTokenClaims extends JWTPayload {
  sub: string;
  jti: string;
  exp: number;
  roles: string[];
}

export class TokenIssuer {
  constructor(
    private readonly keys: () => Promise<KeyRing>,
    private readonly clock: Clock,
    private readonly settings: TokenSettings,
  ) {}

  async issue(userId: string, roles: readonly string[]): Promise<IssuedAccessToken> {
    const now = this.clock();
    const key = (await this.keys()).signingKey(now);
    if (!key) throw new Error('no signing key is active (bootstrap has not run)');
    const iat = Math.floor(now.getTime() / 1000);
    const exp = iat + this.settings.accessTokenTtlSeconds;
    const jti = randomUUID();
    const token = await new SignJWT({ roles: [...roles] })
      .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: ACCESS_TOKEN_TYPE })
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setSubject(userId)
      .setJti(jti)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .sign(key.privateKey);
    return { token, jti, kid: key.kid, expiresAt: new Date(exp * 1000), lifetimeSeconds: exp - iat };
  }
}

/** Verifies an access token against a JWKS exactly as a gateway would. */
export async function verifyAccessToken(
  token: string,
  jwks: JSONWebKeySet,
  expected: { issuer: string; audience: string; currentDate?: Date },
): Promise<{ claims: AccessTokenClaims; kid: string }> {
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
    issuer: expected.issuer,
    audience: expected.audience,
    algorithms: [SIGNING_ALG],
    typ: ACCESS_TOKEN_TYPE,
    requiredClaims: ['sub', 'jti', 'exp', 'iat'],
    ...(expected.currentDate ? { currentDate: expected.currentDate } : {}),
  });
  return { claims: payload as AccessTokenClaims, kid: protectedHeader.kid! };
}
