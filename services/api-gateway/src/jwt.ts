/**
 * Access-token verification done by the gateway itself: ES256 only (`alg` pinned, so
 * `alg: none` and HS256-with-the-public-key tricks fail), `iss`/`aud`/`exp`/`nbf` checked with
 * a small clock tolerance, keys from auth-service's GetJwks (over gRPC, not HTTP) cached for the
 * `max_age` auth-service gives. An unknown `kid` (a rotation we have not seen yet) triggers one
 * refetch, at most once per cooldown, so forged `kid`s cannot turn the gateway into an
 * amplifier against auth-service.
 *
 * A signature check costs more CPU than the rest of a proxied request, and a client sends the
 * same token until it expires: tokens that verified are remembered by their SHA-256 until their
 * `exp` (bounded), and only while the key set they verified against is still the current one,
 * so a key withdrawn from the JWKS stops being accepted at the next key-set refresh. A token not
 * seen before (a tampered one included: its hash differs) is always fully verified. Revocation
 * is not the signature's business: Authorize decides it per request (authorize.ts).
 */
import { createHash } from 'node:crypto';
import { createLocalJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import type { JSONWebKeySet, JWTPayload, JWTVerifyGetKey } from 'jose';
import { TtlLru } from './lru';

export interface JwksDocument {
  readonly jwks: JSONWebKeySet;
  readonly maxAgeSeconds: number;
}

/** Where the key set comes from (auth-service GetJwks in production). */
export type JwksFetcher = (deadline: Date) => Promise<JwksDocument>;

export interface JwksCacheOptions {
  readonly fetch: JwksFetcher;
  /** Minimum time between two refetches caused by unknown `kid`s. */
  readonly refetchCooldownMs: number;
  /** Floor for `max_age` so a 0 from the server does not mean a fetch per request. */
  readonly minMaxAgeSeconds?: number;
  readonly now?: () => number;
  readonly onFetch?: (outcome: 'ok' | 'error', reason: 'expired' | 'unknown-kid') => void;
  readonly onStale?: (error: unknown) => void;
}

interface CachedSet {
  readonly doc: JwksDocument;
  readonly json: string;
  readonly keySet: JWTVerifyGetKey;
  readonly fetchedAt: number;
  readonly expiresAt: number;
}

export class JwksCache {
  private current: CachedSet | undefined;
  private inflight: Promise<CachedSet> | undefined;
  private lastUnknownKidFetch = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;

  constructor(private readonly options: JwksCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The cached set, fetched when absent or past `max_age`. A stale set is kept if a refetch fails. */
  async get(deadline: Date): Promise<CachedSet> {
    const current = this.current;
    if (current && this.now() < current.expiresAt) return current;
    try {
      return await this.fetch(deadline, 'expired');
    } catch (error) {
      // Public keys do not become wrong when auth-service is briefly unreachable; serving the
      // last known set keeps verification working (Authorize still fails closed on its own).
      if (current) {
        this.options.onStale?.(error);
        return current;
      }
      throw error;
    }
  }

  /** Refetches because a token named a `kid` we do not know; false if within the cooldown. */
  async refetchForUnknownKid(deadline: Date): Promise<boolean> {
    if (this.now() - this.lastUnknownKidFetch < this.options.refetchCooldownMs) return false;
    this.lastUnknownKidFetch = this.now();
    await this.fetch(deadline, 'unknown-kid');
    return true;
  }

  /** The `{"keys":[...]}` document and the seconds a client may cache it, for /.well-known/jwks.json. */
  async document(deadline: Date): Promise<{ json: string; maxAgeSeconds: number }> {
    const set = await this.get(deadline);
    const remaining = Math.max(0, Math.floor((set.expiresAt - this.now()) / 1000));
    return { json: set.json, maxAgeSeconds: remaining };
  }

  private fetch(deadline: Date, reason: 'expired' | 'unknown-kid'): Promise<CachedSet> {
    // Single flight: concurrent requests share one GetJwks call.
    this.inflight ??= this.options.fetch(deadline).then((doc) => {
      if (!doc.jwks || !Array.isArray(doc.jwks.keys)) throw new Error('GetJwks returned no "keys" array');
      const maxAge = Math.max(doc.maxAgeSeconds, this.options.minMaxAgeSeconds ?? 1);
      const fetchedAt = this.now();
      const set: CachedSet = {
        doc, json: JSON.stringify(doc.jwks), keySet: createLocalJWKSet(doc.jwks),
        fetchedAt, expiresAt: fetchedAt + maxAge * 1000,
      };
      this.current = set;
      this.options.onFetch?.('ok', reason);
      return set;
    }, (error: unknown) => {
      this.options.onFetch?.('error', reason);
      throw error;
    }).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }
}

export interface VerifiedToken {
  readonly subject: string;
  readonly tokenId: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
  readonly payload: JWTPayload;
}

/** A token that must be refused with 401; `reason` goes into `WWW-Authenticate` and the problem detail. */
export class InvalidTokenError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'InvalidTokenError';
  }
}

export interface JwtVerifierOptions {
  readonly jwks: JwksCache;
  readonly issuer: string;
  readonly audience: string;
  readonly clockToleranceSeconds: number;
  /** Verified tokens remembered (0 turns the cache off). */
  readonly cacheMaxEntries?: number;
  /** Upper bound on how long a verified token is remembered, whatever its `exp`. */
  readonly cacheMaxTtlMs?: number;
  readonly onCacheLookup?: (result: 'hit' | 'miss') => void;
  /** The clock of both the cache and the claim checks (tests move it). */
  readonly now?: () => number;
}

// choice: 10,000 tokens (~3 MB) cover the active users of one replica; five minutes bound the
// work a key-set refresh is not noticed for, the JWKS max_age does the rest.
export const VERIFIED_TOKEN_CACHE_MAX_ENTRIES = 10_000;
export const VERIFIED_TOKEN_CACHE_MAX_TTL_MS = 5 * 60_000;

interface CachedToken {
  readonly token: VerifiedToken;
  /** The key set the token verified against; a refreshed set means verifying again. */
  readonly keySet: JWTVerifyGetKey;
}

export const ALLOWED_ALGORITHMS = ['ES256'] as const;
/** RFC 9068 access tokens carry `typ: at+jwt`; other JWTs signed by the same key (if ever) are refused. */
export const ACCESS_TOKEN_TYP = 'at+jwt';

export class JwtVerifier {
  private readonly cache: TtlLru<CachedToken> | undefined;
  private readonly now: () => number;
  private readonly maxTtlMs: number;

  constructor(private readonly options: JwtVerifierOptions) {
    this.now = options.now ?? Date.now;
    const maxEntries = options.cacheMaxEntries ?? VERIFIED_TOKEN_CACHE_MAX_ENTRIES;
    this.cache = maxEntries > 0 ? new TtlLru(maxEntries, this.now) : undefined;
    this.maxTtlMs = options.cacheMaxTtlMs ?? VERIFIED_TOKEN_CACHE_MAX_TTL_MS;
  }

  /**
   * Verifies `token`. Throws InvalidTokenError for anything the client got wrong; errors of the
   * key source (auth-service unreachable with nothing cached) propagate unchanged.
   */
  async verify(token: string, deadline: Date): Promise<VerifiedToken> {
    const set = await this.options.jwks.get(deadline);
    const key = this.cache ? createHash('sha256').update(token).digest('base64') : '';
    const cached = this.cache?.get(key);
    if (cached && cached.keySet === set.keySet) {
      this.options.onCacheLookup?.('hit');
      return cached.token;
    }
    if (this.cache) this.options.onCacheLookup?.('miss');
    try {
      return this.remember(key, await this.verifyWith(token, set.keySet), set.keySet);
    } catch (error) {
      if (!(error instanceof joseErrors.JWKSNoMatchingKey)) throw toInvalid(error);
      if (!(await this.options.jwks.refetchForUnknownKid(deadline))) throw toInvalid(error);
      const fresh = await this.options.jwks.get(deadline);
      try {
        return this.remember(key, await this.verifyWith(token, fresh.keySet), fresh.keySet);
      } catch (retryError) {
        throw toInvalid(retryError);
      }
    }
  }

  /** Remembers a verified token until its `exp` (without the clock tolerance), at most maxTtlMs. */
  private remember(key: string, token: VerifiedToken, keySet: JWTVerifyGetKey): VerifiedToken {
    this.cache?.set(key, { token, keySet }, Math.min(token.expiresAt * 1000 - this.now(), this.maxTtlMs));
    return token;
  }

  private async verifyWith(token: string, keySet: JWTVerifyGetKey): Promise<VerifiedToken> {
    const { payload } = await jwtVerify(token, keySet, {
      currentDate: new Date(this.now()),
      algorithms: [...ALLOWED_ALGORITHMS],
      issuer: this.options.issuer,
      audience: this.options.audience,
      clockTolerance: this.options.clockToleranceSeconds,
      requiredClaims: ['exp', 'sub', 'jti'],
      typ: ACCESS_TOKEN_TYP,
    });
    // requiredClaims guarantees presence; the types below guarantee shape.
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new InvalidTokenError('"sub" claim must be a non-empty string');
    if (typeof payload.jti !== 'string' || payload.jti === '') throw new InvalidTokenError('"jti" claim must be a non-empty string');
    return { subject: payload.sub, tokenId: payload.jti, expiresAt: payload.exp as number, payload };
  }
}

function toInvalid(error: unknown): Error {
  if (error instanceof InvalidTokenError) return error;
  if (error instanceof joseErrors.JWTExpired) return new InvalidTokenError('token expired');
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    // jose's messages name the claim, e.g. `unexpected "aud" claim value`.
    return new InvalidTokenError(error.message);
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return new InvalidTokenError('token algorithm not allowed (ES256 required)');
  if (error instanceof joseErrors.JWKSNoMatchingKey) return new InvalidTokenError('token signed by an unknown key');
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return new InvalidTokenError('token signature invalid');
  if (error instanceof joseErrors.JOSEError) return new InvalidTokenError('token malformed');
  return error instanceof Error ? error : new Error(String(error));
}

/** `Authorization: Bearer <token>` -> token, or undefined when absent/other scheme. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ ]+([A-Za-z0-9\-_.~+/]+=*)\s*$/i.exec(header);
  return match?.[1];
}
