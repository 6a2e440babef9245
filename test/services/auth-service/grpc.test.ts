/**
 * auth-service end to end over gRPC with mTLS, against real PostgreSQL and Redis: the calls the
 * gateway makes (Login, Refresh, Logout, Authorize, GetJwks, RotateSigningKey) and the identity
 * allow-list. Accounts are seeded straight into the auth database here; Register through
 * user-service is in register.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, decodeJwt } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { AuthServiceClient } from '../../../services/proto/gen/auth/v1/auth';
import { createClient, createClientCredentials, Status, unary } from '../../../services/shared/src';
import type { ClientCredentials } from '../../../services/shared/src';
import { grantRole } from '../../../services/auth-service/src/accounts';
import { loadAuthConfig } from '../../../services/auth-service/src/config';
import type { AuthConfig } from '../../../services/auth-service/src/config';
import { PasswordHasher } from '../../../services/auth-service/src/password';
import { startAuthService } from '../../../services/auth-service/src/service';
import type { AuthServiceHandle } from '../../../services/auth-service/src/service';
import { verifyAccessToken } from '../../../services/auth-service/src/tokens';
import { issueServiceCertificate } from '../../harness';
import type { Backends } from './setup';
import { silentLogger, startBackends } from './setup';

const FAST_SCRYPT = { N: 2 ** 12, r: 8, p: 1 };
const ISSUER = 'https://auth.platform.test';
const AUDIENCE = 'platform-api';

let now = new Date();
const clock = () => now;

let backends: Backends;
let config: AuthConfig;
let service: AuthServiceHandle;
let gatewayCreds: ClientCredentials;
let client: AuthServiceClient;

beforeAll(async () => {
  backends = await startBackends();
  const db = await backends.pg.createDatabase('auth');
  const [server, gateway] = await Promise.all([
    issueServiceCertificate(backends.ca, 'auth-service'),
    issueServiceCertificate(backends.ca, 'api-gateway'),
  ]);
  const env = {
    TLS_CERT_FILE: server.certFile,
    TLS_KEY_FILE: server.keyFile,
    TLS_CA_FILE: backends.ca.caFile,
    ...Object.fromEntries(Object.entries({ ...backends.databaseConfig(db), ...backends.redisConfig }).map(([k, v]) => [k, String(v)])),
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    // Nothing listens here: user-service is not needed by these calls.
    USER_SERVICE_ADDR: 'localhost:1',
    AUTH_KEY_ENCRYPTION_KEY_FILE: backends.kekFile,
    LOG_LEVEL: 'silent',
  };
  config = { ...loadAuthConfig(env), GRPC_PORT: 0, HEALTH_PORT: 0 };
  service = await startAuthService(config, { logger: silentLogger, clock, scryptParams: FAST_SCRYPT, keyCacheMs: 0, host: '127.0.0.1' });
  gatewayCreds = await createClientCredentials({ certFile: gateway.certFile, keyFile: gateway.keyFile, caFile: backends.ca.caFile }, 'auth-service');
  client = createClient(AuthServiceClient, `localhost:${service.grpcPort}`, gatewayCreds.credentials);
});

afterAll(async () => {
  client?.close();
  gatewayCreds?.certificates.close();
  await service?.stop();
  await backends?.dispose();
});

async function seedAccount(password = 'correct horse battery staple'): Promise<{ id: string; email: string; password: string }> {
  const id = randomUUID();
  const email = `${id.slice(0, 8)}@example.com`;
  const hash = await new PasswordHasher(FAST_SCRYPT).hash(password);
  await service.postgres.pool.query('INSERT INTO credentials (user_id, email, password_hash) VALUES ($1, $2, $3)', [id, email, hash]);
  await service.postgres.pool.query("INSERT INTO user_roles (user_id, role) VALUES ($1, 'customer')", [id]);
  return { id, email, password };
}

async function jwks(): Promise<{ set: JSONWebKeySet; maxAge: number }> {
  const res = await unary(client, 'getJwks', {});
  return { set: JSON.parse(res.jwksJson) as JSONWebKeySet, maxAge: res.maxAgeSeconds };
}

const verify = async (token: string) => verifyAccessToken(token, (await jwks()).set, { issuer: ISSUER, audience: AUDIENCE, currentDate: now });

describe('Login, Refresh, Logout, Authorize over mTLS', () => {
  it('logs in with a token pair whose access token verifies against GetJwks', async () => {
    const account = await seedAccount();
    const { tokens } = await unary(client, 'login', { email: account.email.toUpperCase(), password: account.password });
    expect(tokens).toMatchObject({ tokenType: 'Bearer', expiresIn: 600, refreshExpiresIn: 30 * 86_400 });
    const { claims } = await verify(tokens!.accessToken);
    expect(claims).toMatchObject({ sub: account.id, roles: ['customer'], iss: ISSUER, aud: AUDIENCE });
    const { set, maxAge } = await jwks();
    expect(maxAge).toBe(300);
    expect(set.keys.every((k) => k.d === undefined)).toBe(true);
  });

  it('gives one generic UNAUTHENTICATED for a wrong password and for an unknown email', async () => {
    const account = await seedAccount();
    const wrong = await unary(client, 'login', { email: account.email, password: 'not the password' }).catch((e) => e);
    const unknown = await unary(client, 'login', { email: 'nobody@example.com', password: 'not the password' }).catch((e) => e);
    expect(wrong).toMatchObject({ code: Status.UNAUTHENTICATED, details: 'invalid email or password' });
    expect(unknown).toMatchObject({ code: Status.UNAUTHENTICATED, details: 'invalid email or password' });
    await expect(unary(client, 'login', { email: '', password: 'x' })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, details: 'email: is required' });
  });

  it('rotates refresh tokens and revokes the family when a spent one comes back', async () => {
    const account = await seedAccount();
    const { tokens: first } = await unary(client, 'login', { email: account.email, password: account.password });
    const { tokens: second } = await unary(client, 'refresh', { refreshToken: first!.refreshToken });
    expect(second!.refreshToken).not.toBe(first!.refreshToken);
    expect((await verify(second!.accessToken)).claims.sub).toBe(account.id);
    await expect(unary(client, 'refresh', { refreshToken: first!.refreshToken })).rejects.toMatchObject({ code: Status.UNAUTHENTICATED });
    await expect(unary(client, 'refresh', { refreshToken: second!.refreshToken })).rejects.toMatchObject({ code: Status.UNAUTHENTICATED });
  });

  it('after Logout the access token is denied by Authorize and the refresh token is dead', async () => {
    const account = await seedAccount();
    const { tokens } = await unary(client, 'login', { email: account.email, password: account.password });
    const { jti, exp } = decodeJwt(tokens!.accessToken);
    const ask = () => unary(client, 'authorize', { subject: account.id, action: 'users:read', resource: `users/${account.id}`, tokenId: jti! });
    await expect(ask()).resolves.toMatchObject({ allowed: true, roles: ['customer'], ttlSeconds: 5 });
    await unary(client, 'logout', { refreshToken: tokens!.refreshToken, accessTokenId: jti!, accessTokenExpiresAt: exp! });
    await expect(ask()).rejects.toMatchObject({ code: Status.UNAUTHENTICATED, details: 'access token has been revoked' });
    await expect(unary(client, 'refresh', { refreshToken: tokens!.refreshToken })).rejects.toMatchObject({ code: Status.UNAUTHENTICATED });
    await expect(unary(client, 'logout', { refreshToken: '', accessTokenId: '', accessTokenExpiresAt: 0 })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
    await expect(unary(client, 'logout', { refreshToken: '', accessTokenId: 'abc', accessTokenExpiresAt: exp! })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, details: expect.stringMatching(/^access_token_id:/) });
  });

  it('answers Authorize for customers and admins, and denies unknown actions without an error', async () => {
    const customer = await seedAccount();
    const admin = await seedAccount();
    await grantRole(service.postgres.pool, admin.email, 'admin');
    await service.authorizer.forgetRoles(admin.id);
    const ask = (subject: string, action: string, resource: string) => unary(client, 'authorize', { subject, action, resource, tokenId: '' });
    await expect(ask(customer.id, 'users:update', `users/${customer.id}`)).resolves.toMatchObject({ allowed: true });
    await expect(ask(customer.id, 'users:update', `users/${admin.id}`)).resolves.toMatchObject({ allowed: false });
    await expect(ask(admin.id, 'users:update', `users/${customer.id}`)).resolves.toMatchObject({ allowed: true, roles: ['admin', 'customer'] });
    await expect(ask(admin.id, 'teleport:now', `users/${customer.id}`)).resolves.toMatchObject({ allowed: false, reason: 'unknown action "teleport:now"' });
  });
});

describe('signing-key rotation without downtime', () => {
  it('publishes the new key first, keeps verifying old tokens, and signs with the new kid after activation', async () => {
    const admin = await seedAccount();
    await grantRole(service.postgres.pool, admin.email, 'admin');
    await service.authorizer.forgetRoles(admin.id);
    const customer = await seedAccount();
    const { tokens: before } = await unary(client, 'login', { email: customer.email, password: customer.password });
    const oldKid = decodeProtectedHeader(before!.accessToken).kid;

    // Only an admin (x-subject, checked here too) may rotate.
    await expect(unary(client, 'rotateSigningKey', {}, { subject: customer.id })).rejects.toMatchObject({ code: Status.PERMISSION_DENIED });
    await expect(unary(client, 'rotateSigningKey', {})).rejects.toMatchObject({ code: Status.PERMISSION_DENIED });
    const rotation = await unary(client, 'rotateSigningKey', {}, { subject: admin.id });
    expect(new Date(rotation.activatesAt).getTime()).toBe(now.getTime() + 300_000);

    // Published at once, but not yet signing.
    expect((await jwks()).set.keys.map((k) => k.kid)).toEqual([oldKid, rotation.nextKid]);
    const { tokens: pending } = await unary(client, 'login', { email: customer.email, password: customer.password });
    expect(decodeProtectedHeader(pending!.accessToken).kid).toBe(oldKid);

    // Every JWKS cache has expired by now: the new key signs.
    now = new Date(now.getTime() + 300_000);
    const { tokens: after } = await unary(client, 'login', { email: customer.email, password: customer.password });
    expect(decodeProtectedHeader(after!.accessToken).kid).toBe(rotation.nextKid);
    // A token signed by the old key still verifies against the new JWKS.
    await expect(verify(before!.accessToken)).resolves.toMatchObject({ kid: oldKid });
    await expect(verify(after!.accessToken)).resolves.toMatchObject({ kid: rotation.nextKid });
  });
});

describe('identity allow-list', () => {
  it('refuses a caller whose certificate is not api-gateway', async () => {
    const other = await issueServiceCertificate(backends.ca, 'order-service');
    const creds = await createClientCredentials({ certFile: other.certFile, keyFile: other.keyFile, caFile: backends.ca.caFile }, 'auth-service');
    const intruder = createClient(AuthServiceClient, `localhost:${service.grpcPort}`, creds.credentials);
    try {
      await expect(unary(intruder, 'getJwks', {})).rejects.toMatchObject({ code: Status.PERMISSION_DENIED });
    } finally {
      intruder.close();
      creds.certificates.close();
    }
  });
});

describe('Register without user-service', () => {
  it('validates fields first, then reports UNAVAILABLE and stores nothing when user-service is down', async () => {
    await expect(unary(client, 'register', { email: 'bad', password: 'long enough password', name: 'A' })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, details: 'email: must be an e-mail address (printable ASCII, one @, a dot in the domain)' });
    await expect(unary(client, 'register', { email: 'a@example.com', password: 'short', name: 'A' })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, details: 'password: must be at least 12 characters' });
    await expect(unary(client, 'register', { email: 'a@example.com', password: 'long enough password', name: ' ' })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, details: 'name: must not contain control characters nor start or end with whitespace' });
    await expect(unary(client, 'register', { email: 'down@example.com', password: 'long enough password', name: 'Down' })).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    const { rows } = await service.postgres.pool.query("SELECT 1 FROM credentials WHERE email = 'down@example.com'");
    expect(rows).toHaveLength(0);
  });
});

describe('health port', () => {
  it('is ready with PostgreSQL and a signing key, and serves metrics', async () => {
    const ready = await fetch(`http://127.0.0.1:${service.healthPort}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${service.healthPort}/metrics`)).text();
    expect(metrics).toMatch(/grpc_server_handling_seconds_count\{[^}]*grpc_method="Login"/);
  });
});
