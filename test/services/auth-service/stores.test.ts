/**
 * The stores against real PostgreSQL and Redis over TLS: refresh-token rotation and reuse
 * detection, signing-key bootstrap and rotation, authorization with and without Redis, and the
 * password upgrade on login.
 */
import { randomUUID } from 'node:crypto';
import { Accounts, grantRole } from '../../../services/auth-service/src/accounts';
import { runCli } from '../../../services/auth-service/src/cli';
import { Authorizer, revokedKey, rolesKey } from '../../../services/auth-service/src/authorization';
import { KeyEncryptor, SigningKeyStore } from '../../../services/auth-service/src/keys';
import { PasswordHasher } from '../../../services/auth-service/src/password';
import { RefreshRejected, RefreshTokenStore } from '../../../services/auth-service/src/refresh';
import { TokenIssuer, verifyAccessToken } from '../../../services/auth-service/src/tokens';
import { Status } from '../../../services/shared/src';
import type { Backends } from './setup';
import { migratedDatabase, silentLogger, startBackends } from './setup';

const T0 = new Date();
let now = T0;
const clock = () => now;
const advance = (seconds: number) => {
  now = new Date(now.getTime() + seconds * 1000);
};

let backends: Backends;
let ctx: Awaited<ReturnType<typeof migratedDatabase>>;

beforeAll(async () => {
  backends = await startBackends();
  ctx = await migratedDatabase(backends, 'auth_stores');
});

afterAll(async () => {
  await ctx?.close();
  await backends?.dispose();
});

beforeEach(() => {
  now = new Date();
});

async function newCredential(email = `${randomUUID()}@example.com`, hash = 'scrypt$1024$8$1$c2FsdHNhbHQ$aGFzaA'): Promise<string> {
  const id = randomUUID();
  await ctx.postgres.pool.query('INSERT INTO credentials (user_id, email, password_hash) VALUES ($1, $2, $3)', [id, email, hash]);
  await ctx.postgres.pool.query("INSERT INTO user_roles (user_id, role) VALUES ($1, 'customer')", [id]);
  return id;
}

describe('schema', () => {
  it('seeds the customer and admin roles and the action catalogue', async () => {
    const { rows } = await ctx.postgres.pool.query('SELECT name FROM roles ORDER BY name');
    expect(rows.map((r) => r.name)).toEqual(['admin', 'customer']);
    const actions = await ctx.postgres.pool.query("SELECT count(*)::int AS n FROM actions WHERE name IN ('users:read', 'users:update', 'orders:create')");
    expect(actions.rows[0].n).toBe(3);
  });

  it('keeps emails lower-case and unique', async () => {
    await newCredential('dup@example.com');
    await expect(newCredential('dup@example.com')).rejects.toMatchObject({ code: '23505' });
    await expect(newCredential('Upper@Example.com')).rejects.toMatchObject({ code: '23514' });
  });
});

describe('RefreshTokenStore', () => {
  const store = () => new RefreshTokenStore(ctx.postgres.pool, clock, 3600);

  it('rotates: each refresh spends the presented token and returns a new one of the same family', async () => {
    const userId = await newCredential();
    const first = await store().issue(userId);
    const { userId: owner, next } = await store().rotate(first.token);
    expect(owner).toBe(userId);
    expect(next.familyId).toBe(first.familyId);
    expect(next.token).not.toBe(first.token);
    const third = await store().rotate(next.token);
    expect(third.next.familyId).toBe(first.familyId);
  });

  it('stores only hashes', async () => {
    const userId = await newCredential();
    const { token } = await store().issue(userId);
    const { rows } = await ctx.postgres.pool.query('SELECT token_hash FROM refresh_tokens WHERE user_id = $1', [userId]);
    expect(rows).toHaveLength(1);
    expect(Buffer.from(rows[0].token_hash).toString('base64url')).not.toBe(token);
    expect(Buffer.from(rows[0].token_hash)).toHaveLength(32);
  });

  it('detects reuse of a spent token and revokes the whole family, including the newest token', async () => {
    const userId = await newCredential();
    const first = await store().issue(userId);
    const { next } = await store().rotate(first.token);
    // An attacker (or the victim) presents the spent token: reuse.
    await expect(store().rotate(first.token)).rejects.toMatchObject({ verdict: 'reused', code: 16 });
    // The legitimate successor is now dead too.
    await expect(store().rotate(next.token)).rejects.toMatchObject({ verdict: 'revoked' });
    const { rows } = await ctx.postgres.pool.query('SELECT count(*)::int AS n FROM refresh_tokens WHERE family_id = $1 AND revoked_at IS NULL', [first.familyId]);
    expect(rows[0].n).toBe(0);
  });

  it('leaves other families of the same user alone on reuse', async () => {
    const userId = await newCredential();
    const laptop = await store().issue(userId);
    const phone = await store().issue(userId);
    await store().rotate(laptop.token);
    await expect(store().rotate(laptop.token)).rejects.toBeInstanceOf(RefreshRejected);
    await expect(store().rotate(phone.token)).resolves.toMatchObject({ userId });
  });

  it('rejects expired, unknown and malformed tokens with the same message', async () => {
    const userId = await newCredential();
    const { token } = await store().issue(userId);
    advance(3601);
    const rejection = (p: Promise<unknown>) => p.then(() => { throw new Error('accepted'); }, (e: RefreshRejected) => e);
    const expired = await rejection(store().rotate(token));
    const unknown = await rejection(store().rotate('A'.repeat(43)));
    const malformed = await rejection(store().rotate('not a token'));
    expect([expired.verdict, unknown.verdict, malformed.verdict]).toEqual(['expired', 'unknown', 'unknown']);
    expect(new Set([expired.message, unknown.message, malformed.message]).size).toBe(1);
  });

  it('logout revokes the family of any of its tokens', async () => {
    const userId = await newCredential();
    const first = await store().issue(userId);
    const { next } = await store().rotate(first.token);
    await expect(store().revokeFamily(first.token)).resolves.toBe(true);
    await expect(store().rotate(next.token)).rejects.toMatchObject({ verdict: 'revoked' });
    await expect(store().revokeFamily('B'.repeat(43))).resolves.toBe(false);
  });
});

describe('SigningKeyStore', () => {
  const SETTINGS = { issuer: 'https://auth.test', audience: 'platform-api', accessTokenTtlSeconds: 600 };
  let keys: SigningKeyStore;
  let keyDb: Awaited<ReturnType<typeof migratedDatabase>>;

  beforeAll(async () => {
    // A database of its own: key rows are global state.
    keyDb = await migratedDatabase(backends, 'auth_keys');
    const encryptor = KeyEncryptor.fromFile(backends.kekFile);
    const make = () => new SigningKeyStore(keyDb.postgres.pool, encryptor, clock, { jwksMaxAgeSeconds: 300, accessTokenTtlSeconds: 600, cacheMs: 0 });
    keys = make();
    // Replicas starting together: the advisory lock lets exactly one create the first key.
    await Promise.all([make().bootstrap(), make().bootstrap(), make().bootstrap()]);
    const { rows } = await keyDb.postgres.pool.query('SELECT kid, state, private_key_enc FROM signing_keys');
    expect(rows).toHaveLength(1);
    expect(rows[0].state).toBe('active');
    // Encrypted at rest: no PKCS#8 header in the stored bytes.
    expect(Buffer.from(rows[0].private_key_enc).includes(Buffer.from([0x30, 0x81]))).toBe(false);
  });
  afterAll(async () => {
    await keyDb?.close();
  });

  it('publishes the next key before it signs, switches at activation and keeps the old key until its tokens expired', async () => {
    const issuer = new TokenIssuer(() => keys.current(), clock, SETTINGS);
    const before = await issuer.issue('u1', []);
    const rotation = await keys.rotate();
    expect(rotation.activatesAt.getTime()).toBe(now.getTime() + 300_000);
    // Idempotent while pending.
    await expect(keys.rotate()).resolves.toEqual(rotation);

    const published = (await keys.current()).jwks(now).keys.map((k) => k.kid);
    expect(published).toEqual([before.kid, rotation.kid]);
    // Not signing yet: every gateway may still hold a JWKS without the new key.
    expect((await issuer.issue('u1', [])).kid).toBe(before.kid);

    advance(300);
    const after = await issuer.issue('u1', []);
    expect(after.kid).toBe(rotation.kid);
    const jwks = (await keys.current()).jwks(now);
    await expect(verifyAccessToken(before.token, jwks, { ...SETTINGS, currentDate: now })).resolves.toMatchObject({ kid: before.kid });
    await expect(verifyAccessToken(after.token, jwks, { ...SETTINGS, currentDate: now })).resolves.toMatchObject({ kid: rotation.kid });

    // The state column follows: the new key is active, the old one retired.
    const states = await keyDb.postgres.pool.query('SELECT kid, state FROM signing_keys ORDER BY activates_at');
    expect(states.rows.map((r) => r.state)).toEqual(['retired', 'active']);

    // Old key leaves the JWKS once its last token (600 s + 60 s skew) has expired.
    advance(600 + 60 + 1);
    expect((await keys.current()).jwks(now).keys.map((k) => k.kid)).toEqual([rotation.kid]);
  });
});

describe('Authorizer', () => {
  const authorizer = () => new Authorizer({ pool: ctx.postgres.pool, redis: ctx.redis, clock, logger: silentLogger });

  it('decides from the roles in PostgreSQL and caches them in Redis', async () => {
    const me = await newCredential();
    const other = randomUUID();
    await ctx.redis.del(rolesKey(me));
    await expect(authorizer().authorize(me, 'users:read', `users/${me}`, '')).resolves.toMatchObject({ allowed: true, roles: ['customer'], ttlSeconds: 5 });
    expect(await ctx.redis.get(rolesKey(me))).toBe('customer');
    await expect(authorizer().authorize(me, 'users:read', `users/${other}`, '')).resolves.toMatchObject({ allowed: false });
    await expect(authorizer().authorize(me, 'users:nuke', `users/${me}`, '')).resolves.toMatchObject({ allowed: false, reason: 'unknown action "users:nuke"' });
    await expect(authorizer().authorize('not-a-uuid', 'users:read', 'users/x', '')).resolves.toMatchObject({ allowed: false });
  });

  it('lets a customer pay and read payments in their own namespace only, and never refund (seeded policy)', async () => {
    const me = await newCredential();
    const other = randomUUID();
    const a = authorizer();
    await expect(a.authorize(me, 'payments:create', `users/${me}/payments`, '')).resolves.toMatchObject({ allowed: true });
    await expect(a.authorize(me, 'payments:read', `users/${me}/payments/p-1`, '')).resolves.toMatchObject({ allowed: true });
    await expect(a.authorize(me, 'payments:create', `users/${other}/payments`, '')).resolves.toMatchObject({ allowed: false });
    await expect(a.authorize(me, 'payments:read', `users/${other}/payments/p-1`, '')).resolves.toMatchObject({ allowed: false });
    await expect(a.authorize(me, 'payments:refund', 'payments/p-1', '')).resolves.toMatchObject({ allowed: false });
  });

  it('sees a granted role after the cache is dropped', async () => {
    const email = `${randomUUID()}@example.com`;
    const me = await newCredential(email);
    const a = authorizer();
    await expect(a.authorize(me, 'users:list', 'users', '')).resolves.toMatchObject({ allowed: false });
    await grantRole(ctx.postgres.pool, email.toUpperCase(), 'admin');
    await a.forgetRoles(me);
    await expect(a.authorize(me, 'users:list', 'users', '')).resolves.toMatchObject({ allowed: true, roles: ['admin', 'customer'] });
    await expect(grantRole(ctx.postgres.pool, email, 'wizard')).rejects.toThrow(/^role: unknown role/);
    await expect(grantRole(ctx.postgres.pool, 'nobody@example.com', 'admin')).rejects.toThrow(/no account/);
  });

  it('denies a revoked token id until it expires, with the Redis key living exactly that long', async () => {
    const me = await newCredential();
    const jti = randomUUID();
    const a = authorizer();
    await a.revokeAccessToken(jti, new Date(now.getTime() + 120_000));
    const ttl = await ctx.redis.pttl(revokedKey(jti));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(120_000);
    await expect(a.authorize(me, 'users:read', `users/${me}`, jti)).rejects.toMatchObject({ code: Status.UNAUTHENTICATED, message: 'access token has been revoked' });
    await expect(a.authorize(me, 'users:read', `users/${me}`, randomUUID())).resolves.toMatchObject({ allowed: true });
  });

  it('still answers from PostgreSQL when Redis is down', async () => {
    const me = await newCredential();
    const jti = randomUUID();
    await authorizer().revokeAccessToken(jti, new Date(now.getTime() + 120_000));
    await backends.redisServer.stop();
    try {
      const a = authorizer();
      await expect(a.authorize(me, 'users:read', `users/${me}`, jti)).rejects.toMatchObject({ code: Status.UNAUTHENTICATED, message: 'access token has been revoked' });
      await expect(a.authorize(me, 'users:read', `users/${me}`, '')).resolves.toMatchObject({ allowed: true, roles: ['customer'] });
      // A logout while Redis is down is still recorded.
      const later = randomUUID();
      await a.revokeAccessToken(later, new Date(now.getTime() + 60_000));
      await expect(a.authorize(me, 'users:read', `users/${me}`, later)).rejects.toMatchObject({ code: Status.UNAUTHENTICATED });
    } finally {
      await backends.redisServer.start();
    }
  });
});

describe('Accounts.login', () => {
  it('upgrades a hash made with older parameters on a successful login', async () => {
    const old = new PasswordHasher({ N: 2 ** 10, r: 8, p: 1 });
    const current = new PasswordHasher({ N: 2 ** 11, r: 8, p: 1 });
    const email = `${randomUUID()}@example.com`;
    const userId = await newCredential(email, await old.hash('a long enough password'));
    const keyDb = ctx.postgres.pool;
    const keys = new SigningKeyStore(keyDb, KeyEncryptor.fromFile(backends.kekFile), clock, { jwksMaxAgeSeconds: 300, accessTokenTtlSeconds: 600 });
    await keys.bootstrap();
    const authorizer = new Authorizer({ pool: keyDb, redis: ctx.redis, clock, logger: silentLogger });
    const accounts = new Accounts({
      pool: keyDb, clock, logger: silentLogger, hasher: current,
      tokens: new TokenIssuer(() => keys.current(), clock, { issuer: 'i', audience: 'a', accessTokenTtlSeconds: 600 }),
      refreshTokens: new RefreshTokenStore(keyDb, clock, 3600), authorizer,
      users: {
        createUser: () => Promise.reject(new Error('not used')), deleteUser: () => Promise.reject(new Error('not used')),
        setEmail: () => Promise.reject(new Error('not used')),
      },
      refreshTokenTtlSeconds: 3600, accessTokenTtlSeconds: 600,
    });
    await expect(accounts.login(email, 'wrong password here')).rejects.toMatchObject({ code: 16, message: 'invalid email or password' });
    await expect(accounts.login('nobody@example.com', 'a long enough password')).rejects.toMatchObject({ code: 16, message: 'invalid email or password' });
    const tokens = await accounts.login(email.toUpperCase(), 'a long enough password');
    expect(tokens).toMatchObject({ tokenType: 'Bearer', expiresIn: 600, refreshExpiresIn: 3600 });
    const { rows } = await keyDb.query('SELECT password_hash FROM credentials WHERE user_id = $1', [userId]);
    expect(rows[0].password_hash.startsWith('scrypt$2048$8$1$')).toBe(true);
    await expect(accounts.login(email, 'a long enough password')).resolves.toBeDefined();
  });
});

describe('cli grant-role', () => {
  // The database of the stores above, reached through the CLI's own DATABASE_* configuration.
  const env = () => Object.fromEntries(Object.entries(backends.databaseConfig(ctx.db)).map(([k, v]) => [k, String(v)]));

  it('makes an account admin and prints one line', async () => {
    const email = `${randomUUID()}@example.com`;
    const id = await newCredential(email);
    const out: string[] = [];
    await expect(runCli(['grant-role', '--email', email, '--role', 'admin'], { env: env(), out: (l) => out.push(l) })).resolves.toBe(0);
    expect(out).toEqual([expect.stringMatching(new RegExp(`^granted admin to ${email} \\(${id}\\)`))]);
    const { rows } = await ctx.postgres.pool.query('SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role', [id]);
    expect(rows.map((r) => r.role)).toEqual(['admin', 'customer']);
  });

  it('explains bad usage and unknown accounts', async () => {
    const out: string[] = [];
    const io = { env: env(), out: (l: string) => out.push(l) };
    await expect(runCli([], io)).resolves.toBe(2);
    await expect(runCli(['grant-role', '--role', 'admin'], io)).resolves.toBe(2);
    await expect(runCli(['grant-role', '--email', 'x@example.com', '--bogus'], io)).resolves.toBe(2);
    await expect(runCli(['grant-role', '--email', 'ghost@example.com', '--role', 'admin'], io)).resolves.toBe(1);
    expect(out.join('\n')).toMatch(/--email is required/);
    expect(out.at(-1)).toMatch(/no account with email ghost@example.com/);
  });
});
