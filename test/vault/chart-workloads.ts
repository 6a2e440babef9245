/**
 * The two workloads of the charts that the Vault end-to-end test runs for real, outside a
 * cluster: the Vault Agent as the injector configures it from a pod's annotations (auto-auth with
 * the pod's `vault`-audience service-account token, one template per `agent-inject-template-*`,
 * rendered once like the init container), and PgBouncer with the chart's pgbouncer.ini,
 * pg_hba.conf and entrypoint (the approach of test/charts/pgbouncer-auth.test.ts), its paths moved
 * into a temp dir. As root (CI) both run as PostgreSQL's account, as PgBouncer refuses root.
 */
import { execFile } from 'node:child_process';
import { chmod, chown, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { VAULT_SECRETS_MOUNT } from '../../lib/spec/topology';
import { pgbouncerDatabases, pgbouncerEntrypoint, pgbouncerIni, pgHba, PGBOUNCER_RELOADED_FILES, PGBOUNCER_STATS_USER } from '../../charts/pgbouncer-chart';
import type { PlatformSpec } from '../../lib/spec';
import { issueServiceCertificate } from '../harness';
import type { PostgresServer, TestCa, VaultServer } from '../harness';
import { freePort, lookupUser, ManagedProcess, registerTempDir, unregisterTempDir, waitReady } from '../../scripts/local-stack/process';

const execFileAsync = promisify(execFile);
const CONFIG_DIR = '/etc/pgbouncer';
const INJECT_TEMPLATE = 'vault.hashicorp.com/agent-inject-template-';

/** PgBouncer refuses root, and PostgreSQL's server runs as this account too. */
export function workloadAccount(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const account = lookupUser('postgres') ?? lookupUser('nobody');
  if (!account) throw new Error('no unprivileged account (postgres or nobody) to run the workloads as');
  return account;
}

async function chownTree(path: string, account: { uid: number; gid: number }): Promise<void> {
  await chown(path, account.uid, account.gid);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    if (entry.isDirectory()) await chownTree(join(path, entry.name), account);
    else await chown(join(path, entry.name), account.uid, account.gid);
  }
}

/** The files a pod's agent renders: `agent-inject-template-<file>` annotations of its template. */
export function agentTemplates(annotations: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(annotations).filter(([k]) => k.startsWith(INJECT_TEMPLATE)).map(([k, v]) => [k.slice(INJECT_TEMPLATE.length), v]));
}

/**
 * Runs `vault agent` once as the pod's init container does: logs in with `jwt` to the
 * annotation's role and auth path, renders every template into `outDir`, exits. Rejects with the
 * agent's output when it fails.
 */
export async function renderAsAgent(opts: {
  vault: VaultServer; annotations: Record<string, string>; jwt: string; outDir: string; workDir: string;
  account?: { uid: number; gid: number };
}): Promise<void> {
  const { vault, annotations, workDir, account } = opts;
  await mkdir(workDir, { recursive: true });
  const tokenFile = join(workDir, 'sa-token');
  const caFile = join(workDir, 'vault-ca.crt');
  await writeFile(tokenFile, opts.jwt, { mode: 0o600 });
  await copyFile(vault.caFile, caFile);
  const config = {
    exit_after_auth: true,
    pid_file: join(workDir, 'agent.pid'),
    vault: { address: vault.address, ca_cert: caFile },
    auto_auth: {
      method: [{
        type: 'kubernetes',
        mount_path: annotations['vault.hashicorp.com/auth-path'],
        config: { role: annotations['vault.hashicorp.com/role'], token_path: tokenFile },
      }],
      sink: [{ type: 'file', config: { path: join(workDir, 'vault-token') } }],
    },
    template_config: { exit_on_retry_failure: true },
    template: Object.entries(agentTemplates(annotations)).map(([file, contents]) => ({ destination: join(opts.outDir, file), contents })),
  };
  const configFile = join(workDir, 'agent.json');
  await writeFile(configFile, JSON.stringify(config, null, 2));
  if (account) await chownTree(workDir, account);
  // Nothing of the test's Vault environment (the root token) reaches the agent; its home is its folder.
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VAULT_'))), HOME: workDir };
  try {
    await execFileAsync(join(vault.binDir, 'vault'), ['agent', `-config=${configFile}`], {
      env, uid: account?.uid, gid: account?.gid, timeout: 120000, maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`vault agent (role ${annotations['vault.hashicorp.com/role']}) failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: error });
  }
}

export interface ChartPgBouncer {
  readonly port: number;
  readonly dir: string;
  /** Where the agent renders userlist.txt and rds-ca.pem (the chart's /vault/secrets). */
  readonly secretsDir: string;
  readonly logFile: string;
  readonly process: ManagedProcess;
  /** A login through PgBouncer over verified TLS; the client is closed by the caller. */
  connect(user: string, password: string | undefined, database: string): Promise<Client>;
  dispose(): Promise<void>;
}

/**
 * The chart's PgBouncer in front of `pg` (as `localhost`, a name on the harness server's
 * certificate, so verify-full checks it). `render` fills the secrets folder (the agent's
 * in-memory volume) before PgBouncer starts, as the injector's init container does.
 */
export async function startChartPgBouncer(opts: {
  spec: PlatformSpec; ca: TestCa; pg: PostgresServer; render: (secretsDir: string) => Promise<void>; pollSeconds: number;
}): Promise<ChartPgBouncer> {
  const { spec, ca, pg } = opts;
  const dir = await mkdtemp(join(tmpdir(), 'platform-test-pgbouncer-'));
  registerTempDir(dir);
  await chmod(dir, 0o755);
  const moved = (path: string) => join(dir, path);
  const port = await freePort();
  const local = {
    ...spec,
    dataTier: { ...spec.dataTier, pgbouncer: { ...spec.dataTier.pgbouncer, port }, postgres: { ...spec.dataTier.postgres, port: pg.port } },
  } as PlatformSpec;
  const relocate = (text: string) => text.split(CONFIG_DIR).join(moved(CONFIG_DIR)).split(VAULT_SECRETS_MOUNT).join(moved(VAULT_SECRETS_MOUNT));
  await mkdir(moved(`${CONFIG_DIR}/databases`), { recursive: true });
  await mkdir(moved(`${CONFIG_DIR}/tls`), { recursive: true });
  await mkdir(moved(VAULT_SECRETS_MOUNT), { recursive: true });
  await writeFile(moved(`${CONFIG_DIR}/pgbouncer.ini`), relocate(pgbouncerIni(local, spec.environments.production)).replace('listen_addr = 0.0.0.0', 'listen_addr = 127.0.0.1'));
  await writeFile(moved(`${CONFIG_DIR}/pg_hba.conf`), pgHba());
  await writeFile(moved(`${CONFIG_DIR}/databases/databases.ini`), pgbouncerDatabases(local, 'localhost'));
  // cert-manager's Secret in the pod: the serving certificate and the services' CA.
  const cert = await issueServiceCertificate(ca, 'pgbouncer');
  await copyFile(cert.certFile, moved(`${CONFIG_DIR}/tls/tls.crt`));
  await copyFile(cert.keyFile, moved(`${CONFIG_DIR}/tls/tls.key`));
  await copyFile(ca.caFile, moved(`${CONFIG_DIR}/tls/ca.crt`));
  const account = workloadAccount();
  if (account) await chownTree(dir, account);
  const secretsDir = moved(VAULT_SECRETS_MOUNT);
  await opts.render(secretsDir);

  const logFile = join(dir, 'pgbouncer.log');
  const proc = new ManagedProcess({
    name: 'PgBouncer',
    command: '/bin/sh',
    args: ['-c', relocate(pgbouncerEntrypoint({ config: `${CONFIG_DIR}/pgbouncer.ini`, watch: PGBOUNCER_RELOADED_FILES, pollSeconds: opts.pollSeconds }))],
    cwd: dir,
    env: { PATH: `/usr/sbin:/usr/bin:/bin` },
    logFile,
    orphanDir: dir,
    uid: account?.uid,
    gid: account?.gid,
  });
  const caPem = await readFile(ca.caFile, 'utf8');
  const connect = async (user: string, password: string | undefined, database: string) => {
    const client = new Client({ host: '127.0.0.1', port, user, password, database, connectionTimeoutMillis: 5000, ssl: { ca: caPem, rejectUnauthorized: true } });
    // An error after connect (PgBouncer closing) must not crash the test process.
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };
  proc.start();
  try {
    await waitReady(proc, async () => {
      const client = await connect(PGBOUNCER_STATS_USER, undefined, 'pgbouncer');
      await client.end();
      return true;
    }, { timeoutMs: 30000, intervalMs: 100, what: `PgBouncer on 127.0.0.1:${port}` });
  } catch (error) {
    await proc.stop('SIGKILL');
    throw error;
  }
  return {
    port, dir, secretsDir, logFile, process: proc, connect,
    async dispose() {
      await proc.stop();
      await rm(dir, { recursive: true, force: true });
      unregisterTempDir(dir);
    },
  };
}

