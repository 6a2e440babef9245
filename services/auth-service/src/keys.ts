/**
 * ES256 signing keys: generation, encryption at rest, rotation without downtime and the JWKS.
 *
 * Which key signs is a function of time, not of a flag some replica must flip: the signing key
 * is the newest key whose `activates_at` has passed. A rotation inserts a key that activates
 * one JWKS max-age later (every verifier's cached JWKS has it by then) and gives the previous
 * key a `retires_at` one access-token lifetime after that (its last token has expired). The
 * JWKS publishes every key not yet retired, so it always holds the next, current and previous key.
 */
import { createCipheriv, createDecipheriv, createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { calculateJwkThumbprint } from 'jose';
import type { JWK } from 'jose';
import type { Pool, PoolClient } from 'pg';
import type { Clock } from './clock';
import { withTransaction } from './db';

export const SIGNING_ALG = 'ES256';
/** Verifiers may run slightly ahead or behind; a key is kept published this much longer. */
export const CLOCK_SKEW_SECONDS = 60;
// pg_advisory_xact_lock key (any fixed bigint): serialises bootstrap and rotation across replicas.
const KEYS_LOCK_ID = 0x61757468_6b657973n; // "authkeys"

export interface PublicJwk {
  readonly kty: string;
  readonly crv: string;
  readonly x: string;
  readonly y: string;
  readonly kid: string;
  readonly alg: string;
  readonly use: string;
}

export interface SigningKey {
  readonly kid: string;
  readonly publicJwk: PublicJwk;
  readonly privateKey: KeyObject;
  readonly createdAt: Date;
  readonly activatesAt: Date;
  readonly retiresAt: Date | null;
}

export type KeyState = 'next' | 'active' | 'retired';

/** A snapshot of the keys; every answer is computed from the timestamps and `now`. */
export class KeyRing {
  constructor(readonly keys: readonly SigningKey[]) {}

  /** The newest key whose activation has passed and which is not retired. */
  signingKey(now: Date): SigningKey | undefined {
    let best: SigningKey | undefined;
    for (const k of this.keys) {
      if (k.activatesAt > now || (k.retiresAt !== null && k.retiresAt <= now)) continue;
      if (!best || k.activatesAt > best.activatesAt) best = k;
    }
    return best;
  }

  published(now: Date): SigningKey[] {
    return this.keys.filter((k) => k.retiresAt === null || k.retiresAt > now);
  }

  stateOf(key: SigningKey, now: Date): KeyState {
    if (key.activatesAt > now) return 'next';
    return this.signingKey(now)?.kid === key.kid ? 'active' : 'retired';
  }

  jwks(now: Date): { keys: PublicJwk[] } {
    return { keys: this.published(now).sort((a, b) => a.activatesAt.getTime() - b.activatesAt.getTime()).map((k) => k.publicJwk) };
  }
}

/** AES-256-GCM under the key-encryption key; the kid is associated data, so rows cannot be swapped. */
export class KeyEncryptor {
  constructor(private readonly kek: Buffer) {
    if (kek.length !== 32) throw new Error('AUTH_KEY_ENCRYPTION_KEY_FILE: must hold 32 bytes, base64-encoded');
  }

  static fromFile(path: string): KeyEncryptor {
    let text: string;
    try {
      text = readFileSync(path, 'utf8').trim();
    } catch (err) {
      throw new Error(`AUTH_KEY_ENCRYPTION_KEY_FILE: cannot read ${path}: ${(err as Error).message}`, { cause: err });
    }
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new Error('AUTH_KEY_ENCRYPTION_KEY_FILE: must hold 32 bytes, base64-encoded');
    return new KeyEncryptor(Buffer.from(text, 'base64'));
  }

  encrypt(plaintext: Buffer, kid: string): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.kek, iv);
    cipher.setAAD(Buffer.from(kid, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), ct]);
  }

  decrypt(blob: Buffer, kid: string): Buffer {
    const decipher = createDecipheriv('aes-256-gcm', this.kek, blob.subarray(0, 12));
    decipher.setAAD(Buffer.from(kid, 'utf8'));
    decipher.setAuthTag(blob.subarray(12, 28));
    return Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()]);
  }
}

export interface GeneratedKey {
  readonly kid: string;
  readonly publicJwk: PublicJwk;
  readonly privateKey: KeyObject;
}

/** A fresh P-256 key; its kid is the RFC 7638 thumbprint, so it names the key itself. */
export async function generateSigningKey(): Promise<GeneratedKey> {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  const publicJwk: PublicJwk = { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, y: jwk.y!, kid, alg: SIGNING_ALG, use: 'sig' };
  return { kid, publicJwk, privateKey };
}

export interface KeyStoreOptions {
  /** How long verifiers may cache the JWKS; a new key waits this long before it signs. */
  readonly jwksMaxAgeSeconds: number;
  readonly accessTokenTtlSeconds: number;
  /** How long a replica trusts its in-memory copy of the keys before reading them again. */
  readonly cacheMs?: number;
  /** Told about background failures that do not stop the service (state-column sync). */
  readonly warn?: (message: string, err: unknown) => void;
}

interface KeyRow {
  kid: string;
  public_jwk: PublicJwk;
  private_key_enc: Buffer;
  state: KeyState;
  created_at: Date;
  activates_at: Date;
  retires_at: Date | null;
}

export interface Rotation {
  readonly kid: string;
  readonly activatesAt: Date;
}

export class SigningKeyStore {
  private ring: KeyRing | undefined;
  private states = new Map<string, KeyState>();
  private loadedAt = 0;
  private loading: Promise<KeyRing> | undefined;
  private readonly cacheMs: number;

  constructor(
    private readonly pool: Pool,
    private readonly encryptor: KeyEncryptor,
    private readonly clock: Clock,
    private readonly options: KeyStoreOptions,
  ) {
    this.cacheMs = options.cacheMs ?? 5_000;
  }

  /** First start: creates an active key when none can sign. Safe when replicas start together. */
  async bootstrap(): Promise<void> {
    await withTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [KEYS_LOCK_ID.toString()]);
      const now = this.clock();
      const ring = new KeyRing(await this.readKeys(client));
      if (ring.signingKey(now)) return;
      // A row may still say 'active' after every key expired (long outage); free the unique slot.
      await client.query("UPDATE signing_keys SET state = 'retired' WHERE state = 'active'");
      await this.insertKey(client, await generateSigningKey(), now, now, 'active');
    });
    this.invalidate();
  }

  /**
   * Starts a rotation. Idempotent while one is pending: a second call returns the key already
   * waiting to activate instead of pushing activation further away.
   */
  async rotate(): Promise<Rotation> {
    const result = await withTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [KEYS_LOCK_ID.toString()]);
      const now = this.clock();
      const ring = new KeyRing(await this.readKeys(client));
      const pending = ring.keys.find((k) => k.activatesAt > now);
      if (pending) return { kid: pending.kid, activatesAt: pending.activatesAt };
      const activatesAt = new Date(now.getTime() + this.options.jwksMaxAgeSeconds * 1000);
      const retiresAt = new Date(activatesAt.getTime() + (this.options.accessTokenTtlSeconds + CLOCK_SKEW_SECONDS) * 1000);
      // Every key still able to sign stops at activation and stays published until its last token expired.
      await client.query(
        'UPDATE signing_keys SET retires_at = $1 WHERE retires_at IS NULL OR retires_at > $1',
        [retiresAt],
      );
      const key = await generateSigningKey();
      await this.insertKey(client, key, now, activatesAt, 'next');
      return { kid: key.kid, activatesAt };
    });
    this.invalidate();
    return result;
  }

  /** The keys, from a cache at most `cacheMs` old; a failed reload keeps serving the last copy. */
  async current(): Promise<KeyRing> {
    const fresh = this.ring && Date.now() - this.loadedAt < this.cacheMs;
    if (fresh) return this.ring!;
    this.loading ??= this.reload().finally(() => {
      this.loading = undefined;
    });
    try {
      return await this.loading;
    } catch (err) {
      if (this.ring) return this.ring;
      throw err;
    }
  }

  invalidate(): void {
    this.loadedAt = 0;
  }

  private async reload(): Promise<KeyRing> {
    const client = await this.pool.connect();
    try {
      const ring = new KeyRing(await this.readKeys(client));
      this.ring = ring;
      this.loadedAt = Date.now();
      // The state column is informational; failing to update it must not fail signing.
      await this.syncStates(ring).catch((err) => this.options.warn?.('signing key state sync failed', err));
      return ring;
    } finally {
      client.release();
    }
  }

  /** Brings the informational `state` column in line with the timestamps, when it lags. */
  private async syncStates(ring: KeyRing): Promise<void> {
    const now = this.clock();
    const stale = ring.keys.filter((k) => this.states.get(k.kid) !== ring.stateOf(k, now));
    if (stale.length === 0) return;
    await withTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [KEYS_LOCK_ID.toString()]);
      // Retire first: at most one row may be 'active' at any moment (partial unique index).
      for (const state of ['retired', 'next', 'active'] as const) {
        const kids = ring.keys.filter((k) => ring.stateOf(k, now) === state).map((k) => k.kid);
        if (kids.length > 0) await client.query('UPDATE signing_keys SET state = $1 WHERE kid = ANY($2) AND state <> $1', [state, kids]);
      }
    });
    for (const k of ring.keys) this.states.set(k.kid, ring.stateOf(k, now));
  }

  private async readKeys(client: PoolClient): Promise<SigningKey[]> {
    const { rows } = await client.query<KeyRow>(
      `SELECT kid, public_jwk, private_key_enc, state, created_at, activates_at, retires_at
         FROM signing_keys WHERE retires_at IS NULL OR retires_at > $1 ORDER BY activates_at`,
      [this.clock()],
    );
    return rows.map((row) => {
      this.states.set(row.kid, row.state);
      const der = this.encryptor.decrypt(row.private_key_enc, row.kid);
      return {
        kid: row.kid,
        publicJwk: row.public_jwk,
        privateKey: createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }),
        createdAt: row.created_at,
        activatesAt: row.activates_at,
        retiresAt: row.retires_at,
      };
    });
  }

  private async insertKey(client: PoolClient, key: GeneratedKey, now: Date, activatesAt: Date, state: KeyState): Promise<void> {
    const der = key.privateKey.export({ format: 'der', type: 'pkcs8' });
    await client.query(
      `INSERT INTO signing_keys (kid, alg, public_jwk, private_key_enc, state, created_at, activates_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [key.kid, SIGNING_ALG, JSON.stringify(key.publicJwk), this.encryptor.encrypt(der, key.kid), state, now, activatesAt],
    );
  }
}
