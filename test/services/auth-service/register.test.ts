/**
 * Register end to end: auth-service and the real user-service over gRPC with mTLS, each on its
 * own database of a real PostgreSQL (non-superuser roles), with real Redis. Register creates the
 * profile in user-service and the credential in auth-service, and removes the profile again when
 * the credential cannot be stored (the compensation), here provoked by taking the auth role's
 * INSERT right on `credentials` away.
 */
import { Writable } from 'node:stream';
import { decodeJwt } from 'jose';
import { Client } from 'pg';
import { AuthServiceClient } from '../../../services/proto/gen/auth/v1/auth';
import { UserServiceClient } from '../../../services/proto/gen/user/v1/user';
import type { User } from '../../../services/proto/gen/user/v1/user';
import { createClient, createClientCredentials, createLogger, Status, unary } from '../../../services/shared/src';
import type { ClientCredentials } from '../../../services/shared/src';
import { loadAuthConfig } from '../../../services/auth-service/src/config';
import { startAuthService } from '../../../services/auth-service/src/service';
import type { AuthServiceHandle } from '../../../services/auth-service/src/service';
import type { UserServiceHandle } from '../../../services/user-service/src/service';
import { freePort, issueServiceCertificate } from '../../harness';
import type { DatabaseAccess } from '../../harness';
import type { Backends } from './setup';
import { authServiceEnv, migratedDatabase, silentLogger, startBackends, startUserServiceOn } from './setup';

const FAST_SCRYPT = { N: 2 ** 12, r: 8, p: 1 };
const PASSWORD = 'correct horse battery staple';

let backends: Backends;
let authDb: DatabaseAccess;
let userService: UserServiceHandle;
let auth: AuthServiceHandle;
let gatewayCreds: ClientCredentials;
let authClient: AuthServiceClient;
let userClient: UserServiceClient;
/** user-service's log lines: the only place the id of a compensated (deleted) profile shows up. */
const userServiceLog: { msg?: string; userId?: string }[] = [];

beforeAll(async () => {
  backends = await startBackends();
  const logSink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) userServiceLog.push(JSON.parse(line) as { msg?: string; userId?: string });
      cb();
    },
  });
  const users = await startUserServiceOn(backends, { logger: createLogger({ service: 'user-service', level: 'info', destination: logSink }) });
  userService = users.handle;
  authDb = await backends.pg.createDatabase('auth');
  const [authCert, gatewayCert] = await Promise.all([
    issueServiceCertificate(backends.ca, 'auth-service'),
    issueServiceCertificate(backends.ca, 'api-gateway'),
  ]);
  const config = loadAuthConfig(authServiceEnv(backends, authDb, authCert, {
    issuer: 'https://auth.platform.test', audience: 'platform-api', userServiceAddr: users.address,
  }));
  auth = await startAuthService({ ...config, GRPC_PORT: 0, HEALTH_PORT: 0 }, { logger: silentLogger, scryptParams: FAST_SCRYPT, host: '127.0.0.1' });
  // The test plays the gateway: the one peer both services admit.
  gatewayCreds = await createClientCredentials({ certFile: gatewayCert.certFile, keyFile: gatewayCert.keyFile, caFile: backends.ca.caFile });
  authClient = createClient(AuthServiceClient, `localhost:${auth.grpcPort}`, gatewayCreds.credentials);
  userClient = createClient(UserServiceClient, users.address, gatewayCreds.credentials);
});

afterAll(async () => {
  authClient?.close();
  userClient?.close();
  gatewayCreds?.certificates.close();
  await auth?.stop();
  await userService?.stop();
  await backends?.dispose();
});

let counter = 0;
/** A fresh address per test: the suite shares one pair of databases. */
const newEmail = () => `register-${process.pid}-${++counter}@example.com`;

const register = (email: string, password = PASSWORD, name = 'Ada Lovelace') => unary(authClient, 'register', { email, password, name });

/** Every profile in user-service, following ListUsers' pages. */
async function allUsers(): Promise<User[]> {
  const users: User[] = [];
  let pageToken = '';
  do {
    const page = await unary(userClient, 'listUsers', { pageSize: 100, pageToken });
    users.push(...page.users);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return users;
}

const usersWithEmail = async (email: string) => (await allUsers()).filter((u) => u.email === email.toLowerCase());

async function credentialCount(email: string): Promise<number> {
  const { rows } = await auth.postgres.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM credentials WHERE email = $1', [email.toLowerCase()]);
  return rows[0]!.n;
}

describe('Register through the real user-service', () => {
  it('creates the profile in user-service and a credential that logs in', async () => {
    const email = newEmail();
    const { userId } = await register(email.toUpperCase(), PASSWORD, 'Ada Lovelace');

    const { user } = await unary(userClient, 'getUser', { id: userId });
    expect(user).toMatchObject({ id: userId, email, name: 'Ada Lovelace' });
    expect(user!.createdAt).toBeInstanceOf(Date);

    const { tokens } = await unary(authClient, 'login', { email, password: PASSWORD });
    expect(decodeJwt(tokens!.accessToken)).toMatchObject({ sub: userId, roles: ['customer'] });
  });

  it('refuses a second account for the same email (any case) and keeps exactly one user', async () => {
    const email = newEmail();
    const { userId } = await register(email);
    await expect(register(email.toUpperCase(), 'another long password')).rejects.toMatchObject({
      code: Status.ALREADY_EXISTS, details: 'email: an account with this email already exists',
    });
    expect((await usersWithEmail(email)).map((u) => u.id)).toEqual([userId]);
    expect(await credentialCount(email)).toBe(1);
  });

  it('lets exactly one of two concurrent registrations of one email win', async () => {
    // Both pass auth-service's early duplicate check; user-service's unique email decides.
    const email = newEmail();
    const results = await Promise.allSettled([register(email), register(email)]);
    const won = results.filter((r): r is PromiseFulfilledResult<{ userId: string }> => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toMatchObject({ code: Status.ALREADY_EXISTS });
    expect((await usersWithEmail(email)).map((u) => u.id)).toEqual([won[0]!.value.userId]);
    expect(await credentialCount(email)).toBe(1);
  });

  it.each([
    ['email', { email: 'not-an-email' }, /^email: must be an e-mail address \(printable ASCII, one @, a dot in the domain\)$/],
    ['email', { email: '' }, /^email: is required$/],
    // The document's rule, not a silent trim: what is stored is what was sent.
    ['email', { email: ' ada@example.com' }, /^email: must be an e-mail address/],
    ['password', { password: 'too short' }, /^password: must be at least \d+ characters$/],
    ['name', { name: '   ' }, /^name: must not contain control characters nor start or end with whitespace$/],
    ['name', { name: 'Ada\u0007' }, /^name: must not contain control characters nor start or end with whitespace$/],
    ['name', { name: 'Ada\u0085' }, /^name: must not contain control characters nor start or end with whitespace$/],
    ['name', { name: ' Ada' }, /^name: must not contain control characters nor start or end with whitespace$/],
  ])('rejects a bad %s with INVALID_ARGUMENT naming it, creating nothing', async (_field, bad, details) => {
    const before = (await allUsers()).length;
    const request = { email: newEmail(), password: PASSWORD, name: 'Ada Lovelace', ...bad };
    await expect(unary(authClient, 'register', request)).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, details: expect.stringMatching(details) });
    expect((await allUsers()).length).toBe(before);
  });
});

describe('compensation', () => {
  /** As the auth database's own (non-superuser) role: the owner can take its own rights away. */
  async function asAuthOwner(sql: string): Promise<void> {
    const client = new Client({ connectionString: authDb.url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }

  it('deletes the new profile from user-service when the credential cannot be stored', async () => {
    const email = newEmail();
    const logged = userServiceLog.length;
    await asAuthOwner('REVOKE INSERT ON credentials FROM CURRENT_USER');
    let failure: unknown;
    try {
      failure = await register(email).then(() => undefined, (err: unknown) => err);
    } finally {
      await asAuthOwner('GRANT INSERT ON credentials TO CURRENT_USER');
    }
    // The caller learns that it failed, not why (no SQL in the answer).
    expect(failure).toMatchObject({ code: Status.INTERNAL, details: expect.stringMatching(/^internal error \(request id .+\)$/) });

    // CreateUser did succeed before the insert failed...
    const created = userServiceLog.slice(logged).filter((l) => l.msg === 'user created').map((l) => l.userId);
    expect(created).toHaveLength(1);
    const userId = created[0]!;
    // ...and the profile is gone again.
    await expect(unary(userClient, 'getUser', { id: userId })).rejects.toMatchObject({ code: Status.NOT_FOUND });
    expect(userServiceLog.slice(logged).filter((l) => l.msg === 'user deleted').map((l) => l.userId)).toEqual([userId]);
    expect(await usersWithEmail(email)).toEqual([]);
    expect(await credentialCount(email)).toBe(0);

    // Nothing is left behind that would block the same person from registering now.
    const { userId: retried } = await register(email);
    expect(retried).not.toBe(userId);
    await expect(unary(userClient, 'getUser', { id: retried })).resolves.toMatchObject({ user: { email } });
  });
});

describe('readiness while starting', () => {
  it('answers /readyz 503 until the service has started, then 200', async () => {
    // Migrated in advance, then signing_keys locked: the start stops at the key bootstrap,
    // after the health port is up and before gRPC listens.
    const migrated = await migratedDatabase(backends, 'auth_start');
    const locker = await migrated.postgres.pool.connect();
    const cert = await issueServiceCertificate(backends.ca, 'auth-service');
    const healthPort = await freePort();
    const config = loadAuthConfig(authServiceEnv(backends, migrated.db, cert, {
      issuer: 'https://auth.platform.test', audience: 'platform-api', userServiceAddr: `localhost:${userService.grpcPort}`,
    }));
    let starting: Promise<AuthServiceHandle> | undefined;
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE signing_keys IN ACCESS EXCLUSIVE MODE');
      starting = startAuthService({ ...config, GRPC_PORT: 0, HEALTH_PORT: healthPort }, { logger: silentLogger, scryptParams: FAST_SCRYPT, host: '127.0.0.1' });
      const readyz = () => fetch(`http://127.0.0.1:${healthPort}/readyz`);
      let res: Response | undefined;
      while (!res) res = await readyz().catch(() => new Promise<undefined>((r) => setTimeout(() => r(undefined), 50)));
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ status: 'not ready', checks: { started: expect.stringContaining('starting') } });

      await locker.query('COMMIT');
      const handle = await starting;
      starting = undefined;
      try {
        expect((await readyz()).status).toBe(200);
      } finally {
        await handle.stop();
      }
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      locker.release();
      await starting?.then((h) => h.stop(), () => undefined);
      await migrated.close();
    }
  });
});
