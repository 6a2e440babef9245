// One owner of the login email (services/README.md "Changing the login email"), through the
// gateway against the real auth-service, user-service, PostgreSQL and Redis: a change needs the
// current password, moves the credential and the profile together, frees the old address, and
// is refused for an address any account holds; a failure half-way leaves both as they were.
import { randomUUID } from 'node:crypto';
import { UserServiceClient } from '../../../services/proto/gen/user/v1/user';
import { createClient, createClientCredentials, unary } from '../../../services/shared/src';
import { loadUserServiceConfig, startUserService } from '../../../services/user-service/src/service';
import type { UserServiceHandle } from '../../../services/user-service/src/service';
import { createLogger } from '../../../services/shared/src/logger';
import { apiClient, newAccount } from './client';
import type { Account, Api, Res } from './client';
import { queryDb } from './db';
import { startStack } from './stack';
import type { Stack } from './stack';

let stack: Stack;
let api: Api;
/** user-service started again by the test that stops it; the rest of the file uses it. */
let restartedUsers: UserServiceHandle | undefined;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  stack = await startStack({
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    // Latency is not what this is about (every step hashes a password with scrypt).
    gatewayEnv: { REQUEST_TIMEOUT_MS: '20000' },
    // Recovery of half-done changes looks every 300 ms for changes unchanged for 500 ms.
    serviceEnv: { 'auth-service': { EMAIL_CHANGE_RECOVERY_INTERVAL_MS: '300', EMAIL_CHANGE_RECOVERY_AFTER_MS: '500' } },
  });
  api = apiClient(stack.gatewayUrl);
}, 180_000);

afterAll(async () => {
  await restartedUsers?.stop();
  await stack?.dispose();
});

const fresh = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}@example.com`;

function change(account: Account, email: string, currentPassword = account.password): Promise<Res> {
  return api('PUT', '/v1/users/me/email', { token: account.access, body: { email, currentPassword } });
}

const login = (email: string, password: string) => api('POST', '/v1/auth/login', { body: { email, password } });
/** The profile, once the gateway reaches user-service (after a restart its channel reconnects with backoff). */
async function profileOf(account: Account): Promise<{ email: string }> {
  let res: Res | undefined;
  for (let i = 0; i < 120; i++) {
    res = await api('GET', '/v1/users/me', { token: account.access });
    if (res.status !== 503) break;
    await sleep(250);
  }
  expect(res!.status).toBe(200);
  return res!.body as { email: string };
}
const credentialOf = async (account: Account) => (await queryDb<{ email: string }>(stack, 'auth-service', 'SELECT email FROM credentials WHERE user_id = $1', [account.userId]))[0]!.email;

/** Both halves of the account say `email`: the credential (login) and the profile. */
async function expectEmail(account: Account, email: string): Promise<void> {
  expect(await credentialOf(account)).toBe(email);
  expect((await profileOf(account)).email).toBe(email);
  expect((await login(email, account.password)).status).toBe(200);
}

async function noChangePending(): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const rows = await queryDb(stack, 'auth-service', 'SELECT 1 FROM email_changes');
    if (rows.length === 0) return;
    await sleep(250);
  }
  throw new Error('an email change never finished');
}

it('changes the login email with the current password: the new address logs in, the old does not, both halves agree', async () => {
  const ada = await newAccount(api, 'ada');
  const next = fresh('ada-new');
  const res = await change(ada, next.toUpperCase());
  expect(res.status).toBe(204);
  await expectEmail(ada, next);
  expect((await login(ada.email, ada.password)).status).toBe(401);
  // The old address is free again, for anyone.
  const signup = await api('POST', '/v1/auth/signup', { body: { email: ada.email, password: 'another long password', name: 'Someone Else' } });
  expect(signup.status).toBe(201);
});

it('refuses without the current password (403), and a body with an email on PATCH (the profile has no say)', async () => {
  const bob = await newAccount(api, 'bob');
  const wrong = await change(bob, fresh('bob-new'), 'not the password at all');
  expect(wrong.status).toBe(403);
  expect(wrong.body.detail).toContain('current_password');
  const patched = await api('PATCH', '/v1/users/me', { token: bob.access, body: { name: 'Bob', email: fresh('bob-patch') } });
  expect(patched.status).toBe(400);
  expect(patched.body.errors).toEqual([{ field: 'email', message: 'is not allowed' }]);
  await expectEmail(bob, bob.email);
});

it('refuses an address in use: held by another account (its sign-up), or taken by another user\'s change', async () => {
  const carol = await newAccount(api, 'carol');
  const dave = await newAccount(api, 'dave');
  const taken = await change(carol, dave.email);
  expect(taken.status).toBe(409);
  await expectEmail(carol, carol.email);

  const wanted = fresh('wanted');
  expect((await change(dave, wanted)).status).toBe(204);
  expect((await change(carol, wanted)).status).toBe(409);
  const signup = await api('POST', '/v1/auth/signup', { body: { email: wanted, password: 'correct horse battery staple', name: 'Late' } });
  expect(signup.status).toBe(409);
  await expectEmail(carol, carol.email);
  await expectEmail(dave, wanted);
});

it('two users changing to one address at the same moment: exactly one gets it, the other keeps its own', async () => {
  const [erin, frank] = await Promise.all([newAccount(api, 'erin'), newAccount(api, 'frank')]);
  const contested = fresh('contested');
  const [a, b] = await Promise.all([change(erin, contested), change(frank, contested)]);
  expect([a.status, b.status].sort()).toEqual([204, 409]);
  const [winner, loser] = a.status === 204 ? [erin, frank] : [frank, erin];
  await expectEmail(winner, contested);
  await expectEmail(loser, loser.email);
});

it('user-service refusing half-way (the address held by a profile without a credential): 409, both unchanged', async () => {
  const gina = await newAccount(api, 'gina');
  const orphan = fresh('orphan');
  // A profile nobody can log in with holds the address (as auth-service would create it).
  const creds = await createClientCredentials({ ...stack.certs['auth-service'], caFile: stack.ca.caFile }, 'user-service');
  const users = createClient(UserServiceClient, `127.0.0.1:${stack.env['user-service'].GRPC_PORT}`, creds.credentials);
  try {
    await unary(users, 'createUser', { email: orphan, name: 'Orphan' });
  } finally {
    users.close();
    creds.certificates.close();
  }
  const res = await change(gina, orphan);
  expect(res.status).toBe(409);
  await expectEmail(gina, gina.email);
  expect((await login(orphan, gina.password)).status).toBe(401);
});

it('user-service down half-way: 503, and both halves keep the old address (recovery sets the profile back), the new one stays free', async () => {
  const hank = await newAccount(api, 'hank');
  const next = fresh('hank-new');
  await stack.users.stop();
  try {
    const res = await change(hank, next);
    expect(res.status).toBe(503);
    // The credential never moved: the old address logs in, the new one does not.
    expect(await credentialOf(hank)).toBe(hank.email);
    expect((await login(hank.email, hank.password)).status).toBe(200);
    expect((await login(next, hank.password)).status).toBe(401);
  } finally {
    restartedUsers = await startUserService(loadUserServiceConfig(stack.env['user-service']), {
      host: '127.0.0.1', logger: createLogger({ service: 'user-service', level: 'silent' }),
    });
  }
  await noChangePending();
  await expectEmail(hank, hank.email);
  const signup = await api('POST', '/v1/auth/signup', { body: { email: next, password: 'correct horse battery staple', name: 'Next' } });
  expect(signup.status).toBe(201);
  // And a change works again.
  const again = fresh('hank-again');
  expect((await change(hank, again)).status).toBe(204);
  await expectEmail(hank, again);
}, 120_000);

it('a change a crash left half done (profile changed, credential not) is completed by recovery', async () => {
  const ivy = await newAccount(api, 'ivy');
  const next = fresh('ivy-new');
  // What auth-service leaves when it dies between its two steps: the change recorded, the
  // profile already moved, the credential not yet.
  await queryDb(stack, 'auth-service', "INSERT INTO email_changes (user_id, old_email, new_email, state) VALUES ($1, $2, $3, 'applying')", [ivy.userId, ivy.email, next]);
  const creds = await createClientCredentials({ ...stack.certs['auth-service'], caFile: stack.ca.caFile }, 'user-service');
  const users = createClient(UserServiceClient, `127.0.0.1:${stack.env['user-service'].GRPC_PORT}`, creds.credentials);
  try {
    await unary(users, 'updateUser', { id: ivy.userId, email: next });
  } finally {
    users.close();
    creds.certificates.close();
  }
  await noChangePending();
  await expectEmail(ivy, next);
  expect((await login(ivy.email, ivy.password)).status).toBe(401);
});
