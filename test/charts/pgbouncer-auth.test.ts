/**
 * The PgBouncer chart's authentication against a real PgBouncer (Debian's `pgbouncer`) in front
 * of the harness's PostgreSQL: the chart's pgbouncer.ini, pg_hba.conf, entrypoint and auth_file
 * template (rendered here as the Vault Agent would, with static credentials), paths moved into a
 * temp dir. A service logs in with SCRAM through PgBouncer, which logs in to PostgreSQL as that
 * service with the password from the auth_file; Vault's rotation (new password in PostgreSQL and
 * a re-rendered auth_file) is picked up by the entrypoint's reload without a restart.
 */
import { existsSync } from 'node:fs';
import { chown, mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { VAULT_SECRETS_MOUNT } from '../../lib/spec/topology';
import {
  pgbouncerDatabases, pgbouncerEntrypoint, pgbouncerIni, pgHba, PGBOUNCER_RELOADED_FILES, PGBOUNCER_STATS_USER, userlistTemplate,
} from '../../charts/pgbouncer-chart';
import { loadPlatformSpec } from '../../lib/spec';
import type { PlatformSpec } from '../../lib/spec';
import { staticRoles } from '../../lib/vault/database';
import { createTestCa, issueServiceCertificate, startPostgres } from '../harness';
import type { PostgresServer, TestCa } from '../harness';
import { freePort, lookupUser, ManagedProcess, registerTempDir, unregisterTempDir, waitReady } from '../../scripts/local-stack/process';

const PGBOUNCER = '/usr/sbin/pgbouncer';
const CONFIG_DIR = '/etc/pgbouncer';
/** The test's own poll interval: the chart's would make the test wait for nothing. */
const POLL_SECONDS = 1;

const spec = loadPlatformSpec();
const role = staticRoles(spec)[0]!;
const passwords = new Map(staticRoles(spec).map((r) => [`database/static-creds/${r.name}`, `first-${r.username}-Pw1`]));
const credsPath = `database/static-creds/${role.name}`;

/**
 * The Vault Agent's rendering of userlistTemplate, for exactly the constructs it uses; anything
 * else left in the output fails the test (the template changed: extend this, knowingly).
 */
function renderUserlist(template: string): string {
  const out = template.replace(/\{\{ with secret "([^"]+)" \}\}(.*?)\{\{ end \}\}/g, (_all, path: string, body: string) => {
    const password = passwords.get(path);
    if (password === undefined) throw new Error(`template reads ${path}, which the test has no password for`);
    return body.replace('{{ .Data.password | replaceAll `"` `""` }}', password.replace(/"/g, '""'));
  });
  if (out.includes('{{')) throw new Error(`template construct the test cannot render: ${out}`);
  return out;
}

let ca: TestCa;
let pg: PostgresServer;
let dir: string;
let port: number;
let pgbouncer: ManagedProcess;
const moved = (path: string) => join(dir, path);

/** Writes as consul-template does: a temp file renamed over the old one (never a partial file). */
async function writeAtomically(path: string, content: string) {
  const temp = `${path}.tmp`;
  await writeFile(temp, content, { mode: 0o600 });
  const account = serverAccount();
  if (account) await chown(temp, account.uid, account.gid);
  await rename(temp, path);
}

/** PgBouncer refuses to run as root: as root (CI) it runs as PostgreSQL's account, like the harness's servers. */
function serverAccount() {
  if (process.getuid?.() !== 0) return undefined;
  const account = lookupUser('postgres') ?? lookupUser('nobody');
  if (!account) throw new Error('no unprivileged account (postgres or nobody) to run PgBouncer as');
  return account;
}

async function chownTree(path: string, account: { uid: number; gid: number }) {
  await chown(path, account.uid, account.gid);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    if (entry.isDirectory()) await chownTree(join(path, entry.name), account);
    else await chown(join(path, entry.name), account.uid, account.gid);
  }
}

async function connect(user: string, password: string | undefined, database: string): Promise<Client> {
  const client = new Client({
    host: '127.0.0.1', port, user, password, database, connectionTimeoutMillis: 5000,
    ssl: { ca: await readFile(ca.caFile, 'utf8'), rejectUnauthorized: true },
  });
  // An error after connect (PgBouncer closing) must not crash the test process.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

async function asService(password: string): Promise<{ user: string; pid: number }> {
  const client = await connect(role.username, password, role.database);
  try {
    const result = await client.query('SELECT current_user AS user, pg_backend_pid() AS pid');
    return result.rows[0];
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  if (!existsSync(PGBOUNCER)) throw new Error(`${PGBOUNCER} is missing: run npm run setup (scripts/setup/servers.sh installs Debian's pgbouncer)`);
  ca = await createTestCa();
  pg = await startPostgres({ ca });
  await pg.createDatabase(role.database, { user: role.username, password: passwords.get(credsPath)! });

  dir = await mkdtemp(join(tmpdir(), 'platform-test-pgbouncer-'));
  registerTempDir(dir);
  port = await freePort();
  // The spec as deployed, but with this machine's ports.
  const local = {
    ...spec,
    dataTier: { ...spec.dataTier, pgbouncer: { ...spec.dataTier.pgbouncer, port }, postgres: { ...spec.dataTier.postgres, port: pg.port } },
  } as PlatformSpec;
  const relocate = (text: string) => text.split(CONFIG_DIR).join(moved(CONFIG_DIR)).split(VAULT_SECRETS_MOUNT).join(moved(VAULT_SECRETS_MOUNT));
  const ini = relocate(pgbouncerIni(local, spec.environments.production)).replace('listen_addr = 0.0.0.0', 'listen_addr = 127.0.0.1');
  expect(ini).not.toContain('auth_query');

  await mkdir(moved(`${CONFIG_DIR}/databases`), { recursive: true });
  await mkdir(moved(`${CONFIG_DIR}/tls`), { recursive: true });
  await mkdir(moved(VAULT_SECRETS_MOUNT), { recursive: true });
  await writeFile(moved(`${CONFIG_DIR}/pgbouncer.ini`), ini);
  await writeFile(moved(`${CONFIG_DIR}/pg_hba.conf`), pgHba());
  // "localhost": a name on the harness server's certificate, so verify-full checks it.
  await writeFile(moved(`${CONFIG_DIR}/databases/databases.ini`), pgbouncerDatabases(local, 'localhost'));
  const cert = await issueServiceCertificate(ca, 'pgbouncer');
  await copyFile(cert.certFile, moved(`${CONFIG_DIR}/tls/tls.crt`));
  await copyFile(cert.keyFile, moved(`${CONFIG_DIR}/tls/tls.key`));
  await copyFile(ca.caFile, moved(`${CONFIG_DIR}/tls/ca.crt`));
  await copyFile(ca.caFile, moved(`${VAULT_SECRETS_MOUNT}/rds-ca.pem`));
  await writeFile(moved(`${VAULT_SECRETS_MOUNT}/userlist.txt`), renderUserlist(userlistTemplate(spec)), { mode: 0o600 });
  const account = serverAccount();
  if (account) await chownTree(dir, account);

  pgbouncer = new ManagedProcess({
    name: 'PgBouncer',
    command: '/bin/sh',
    args: ['-c', relocate(pgbouncerEntrypoint({ config: `${CONFIG_DIR}/pgbouncer.ini`, watch: PGBOUNCER_RELOADED_FILES, pollSeconds: POLL_SECONDS }))],
    cwd: dir,
    env: { PATH: `/usr/sbin:/usr/bin:/bin` },
    logFile: join(dir, 'pgbouncer.log'),
    orphanDir: dir,
    uid: account?.uid,
    gid: account?.gid,
  });
  pgbouncer.start();
  await waitReady(pgbouncer, async () => {
    const client = await connect(PGBOUNCER_STATS_USER, undefined, 'pgbouncer');
    await client.end();
    return true;
  }, { timeoutMs: 30000, intervalMs: 100, what: `PgBouncer on 127.0.0.1:${port}` });
}, 120000);

afterAll(async () => {
  await pgbouncer?.stop();
  await pg?.dispose();
  if (dir) {
    await rm(dir, { recursive: true, force: true });
    unregisterTempDir(dir);
  }
});

describe('PgBouncer with the chart\'s auth_file (real pgbouncer and PostgreSQL)', () => {
  it('lets a service in with SCRAM over TLS and logs in to PostgreSQL as that service', async () => {
    await expect(asService(passwords.get(credsPath)!)).resolves.toMatchObject({ user: role.username });
  });

  it('refuses a wrong password (SCRAM: PgBouncer asked for SASL), and the stats user anywhere but the admin console', async () => {
    await expect(asService('not-the-password')).rejects.toThrow(/^SASL authentication failed$/);
    await expect(connect(PGBOUNCER_STATS_USER, undefined, role.database)).rejects.toThrow(/^login rejected$/);
  });

  it('lets the exporter read stats on loopback without a password', async () => {
    const client = await connect(PGBOUNCER_STATS_USER, undefined, 'pgbouncer');
    try {
      const stats = await client.query('SHOW STATS');
      expect(stats.rows.map((r) => r.database)).toContain(role.database);
    } finally {
      await client.end();
    }
  });

  it('takes a rotated password (quote included) after the re-rendered auth_file, with no restart', async () => {
    const before = await asService(passwords.get(credsPath)!);
    const oldPassword = passwords.get(credsPath)!;
    const newPassword = 'second-"rotated"-Pw2';
    // Vault's rotation: the new password in PostgreSQL, then the agent re-renders the auth_file.
    const admin = new Client({ connectionString: pg.superuserUrl });
    await admin.connect();
    try {
      await admin.query(`ALTER ROLE ${role.username} PASSWORD '${newPassword.replace(/'/g, "''")}'`);
      // PgBouncer's pooled server connections would hide whether it can log in with the new one.
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role.username]);
    } finally {
      await admin.end();
    }
    passwords.set(credsPath, newPassword);
    await writeAtomically(moved(`${VAULT_SECRETS_MOUNT}/userlist.txt`), renderUserlist(userlistTemplate(spec)));

    let after: { user: string; pid: number } | undefined;
    await waitReady(pgbouncer, async () => {
      after = await asService(newPassword);
      return true;
    }, { timeoutMs: 60000, intervalMs: 250, what: 'a login with the rotated password through PgBouncer' });
    expect(after!.user).toBe(role.username);
    // A new server login, made with the new password.
    expect(after!.pid).not.toBe(before.pid);
    await expect(asService(oldPassword)).rejects.toThrow(/^SASL authentication failed$/);
    expect(await readFile(join(dir, 'pgbouncer.log'), 'utf8')).toMatch(/got SIGHUP, re-reading config/);
    // Still the same PgBouncer process: reloaded, not restarted.
    expect(pgbouncer.running).toBe(true);
  });
});
