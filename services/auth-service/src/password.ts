/**
 * Password hashing with scrypt (node:crypto, no native build). The stored string carries its own
 * parameters and salt, `scrypt$N$r$p$salt$hash`, so parameters can be raised later and old hashes
 * upgraded on the next successful login.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { ScryptOptions } from 'node:crypto';

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/**
 * OWASP Password Storage Cheat Sheet lists N=2^15, r=8, p=3 as equivalent to its 2^17/8/1
 * baseline: the same CPU cost with 32 MiB per hash instead of 128 MiB, which matters when the
 * libuv pool runs four hashes at once inside a pod's memory limit.
 */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = Object.freeze({ N: 2 ** 15, r: 8, p: 3 });

const SALT_BYTES = 16;
const HASH_BYTES = 32;
const PREFIX = 'scrypt';

function scryptAsync(password: string, salt: Buffer, keylen: number, params: ScryptParams): Promise<Buffer> {
  // scrypt refuses to run when 128*N*r exceeds maxmem; give it twice what the parameters need.
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

interface ParsedHash {
  readonly params: ScryptParams;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

export class PasswordHashFormatError extends Error {
  constructor(message: string) {
    super(`password_hash: ${message}`);
    this.name = 'PasswordHashFormatError';
  }
}

function parseHash(encoded: string): ParsedHash {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== PREFIX) throw new PasswordHashFormatError('expected scrypt$N$r$p$salt$hash');
  const [N, r, p] = parts.slice(1, 4).map((v) => Number(v));
  if (![N, r, p].every((v) => Number.isSafeInteger(v) && v > 0) || (N & (N - 1)) !== 0) {
    throw new PasswordHashFormatError('N, r and p must be positive integers, N a power of two');
  }
  const salt = Buffer.from(parts[4], 'base64url');
  const hash = Buffer.from(parts[5], 'base64url');
  if (salt.length === 0 || hash.length === 0) throw new PasswordHashFormatError('empty salt or hash');
  return { params: { N, r, p }, salt, hash };
}

export class PasswordHasher {
  /** A hash of a random password, verified when the email is unknown so both paths cost the same. */
  private dummyHash: Promise<string> | undefined;

  constructor(readonly params: ScryptParams = DEFAULT_SCRYPT_PARAMS) {
    if ((params.N & (params.N - 1)) !== 0 || params.N < 2) throw new Error('scrypt N must be a power of two > 1');
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_BYTES);
    const hash = await scryptAsync(password, salt, HASH_BYTES, this.params);
    const { N, r, p } = this.params;
    return `${PREFIX}$${N}$${r}$${p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
  }

  /** Constant-time comparison; a malformed stored hash is an error, not a mismatch. */
  async verify(password: string, encoded: string): Promise<boolean> {
    const parsed = parseHash(encoded);
    const candidate = await scryptAsync(password, parsed.salt, parsed.hash.length, parsed.params);
    return candidate.length === parsed.hash.length && timingSafeEqual(candidate, parsed.hash);
  }

  /** True when the stored hash was made with other parameters than the current ones. */
  needsRehash(encoded: string): boolean {
    const { params, hash } = parseHash(encoded);
    return params.N !== this.params.N || params.r !== this.params.r || params.p !== this.params.p || hash.length !== HASH_BYTES;
  }

  /** Spends the same work as a real verification, for logins with an unknown email. */
  async burn(password: string): Promise<void> {
    this.dummyHash ??= this.hash(randomBytes(24).toString('base64url'));
    await this.verify(password, await this.dummyHash);
  }
}
