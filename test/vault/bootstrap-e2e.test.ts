/**
 * vault/bootstrap.sh end to end, as an operator runs it on day one (docs/vault.md "Bootstrap"),
 * against real servers on loopback: Vault (the version the nodes run, TLS, file storage),
 * PostgreSQL of RDS's major with an RDS-like master user (no superuser), and a Kubernetes API
 * server with etcd and the service-account token controller, into which the charts' namespaces,
 * service accounts and Vault token reviewer are applied. Then every Vault client logs in with its
 * own service-account token (Vault asks the API server's TokenReview with the reviewer's token)
 * and reads exactly its paths; the charts' PgBouncer gets its auth_file from a real Vault Agent
 * and survives a rotation of the static roles; the PKI signs every Certificate the charts
 * request the way cert-manager asks; a second run changes nothing; the Redis and Kafka credentials
 * AWS issues reach every service that uses them, and a rotation of them reaches each again.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { execFile } from 'node:child_process';
import { webcrypto, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { SERVICES_ISSUER, TOKEN_REVIEWER, tokenReviewerNamespace } from '../../lib/spec/topology';
import { durationSeconds, loadPlatformSpec } from '../../lib/spec';
import {
  CERT_MANAGER_ROLE, KUBERNETES_AUTH_PATH, KUBERNETES_TOKEN_AUDIENCE, KV_MOUNT, RDS_CA, renderBootstrapParameters, VAULT_CA_SECRET, vaultClients,
} from '../../lib/vault/config-as-code';
import type { VaultClient } from '../../lib/vault/config-as-code';
import { staticRoles, VAULT_DATABASE_ADMIN } from '../../lib/vault/database';
import { pkiMountConfig, pkiPath } from '../../lib/vault/pki';
import { renderEnvironment } from '../charts/helpers';
import { createTestCa, startKubeApiServer, startPostgres, startVault } from '../harness';
import type { KubeApiServer, MasterAccess, PostgresServer, TestCa, VaultServer } from '../harness';
import { registerTempDir, unregisterTempDir, waitReady } from '../../scripts/local-stack/process';
import { agentTemplates, renderAsAgent, startChartPgBouncer, workloadAccount } from './chart-workloads';
import type { ChartPgBouncer } from './chart-workloads';

const execFileAsync = promisify(execFile);
const spec = loadPlatformSpec();
const ROOT = join(__dirname, '..', '..');
const BOOTSTRAP = join(ROOT, 'vault', 'bootstrap.sh');
const params = renderBootstrapParameters(spec);
const clients = vaultClients(spec);
const roles = staticRoles(spec);
const charts = renderEnvironment('production');
const objects = Object.values(charts).flat();
const STRIPE_KEY = 'sk_test_4eC39HqLyjWDarjtT1zdp7dcE2eTest';
// The SecretStrings of the ElastiCache AUTH token and the MSK SCRAM secret, as Secrets Manager holds them.
const REDIS_TOKEN = 'redis-auth-token-0f6c2d9a41b7e35c8d2a';
const KAFKA_PASSWORD = 'scram-password-7b1e94c03d5f2a68';
const kafkaSecret = (password: string, username = spec.dataTier.kafka.scramUsername) => `${JSON.stringify({ username, password })}\n`;
const credential = (name: 'redis' | 'kafka') => params.platformCredentials.find((c) => c.name === name)!;

let ca: TestCa;
let pg: PostgresServer;
let vault: VaultServer;
let kube: KubeApiServer;
let master: MasterAccess;
let work: string;
let firstRun: { stdout: string; stderr: string };

/** The environment bootstrap.sh documents, pointed at the servers of this test. */
function bootstrapEnv(): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(VAULT_|PG|KUBECONFIG$|K8S_|DATABASE_)/.test(k)));
  return {
    ...base,
    PATH: [vault.binDir, kube.binDir, process.env.PATH ?? ''].join(delimiter),
    VAULT_ADDR: vault.address, VAULT_CACERT: vault.caFile, VAULT_TOKEN: vault.rootToken,
    KUBECONFIG: kube.kubeconfig, K8S_HOST: kube.url, K8S_CA_FILE: kube.caFile,
    DATABASE_HOST: '127.0.0.1', DATABASE_PORT: String(pg.port), PGUSER: master.user, PGPASSWORD: master.password, RDS_CA_FILE: ca.caFile,
    VAULT_AUDIT_FILE: join(work, 'audit.log'),
    PAYMENT_SERVICE_STRIPE_SECRET_KEY_FILE: join(work, 'stripe-secret-key.txt'),
    REDIS_AUTH_TOKEN_FILE: join(work, 'redis-auth-token.txt'),
    KAFKA_SCRAM_SECRET_FILE: join(work, 'kafka-scram-secret.json'),
  };
}

async function runBootstrap(env: NodeJS.ProcessEnv = bootstrapEnv()): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileAsync('bash', [BOOTSTRAP], { env, timeout: 600000, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`vault/bootstrap.sh failed: ${e.message}\n--- stdout\n${e.stdout ?? ''}\n--- stderr\n${e.stderr ?? ''}`, { cause: error });
  }
}

/** What the charts put into the cluster before bootstrap runs: namespaces, service accounts, the token reviewer. */
function clusterObjects(): any[] {
  // The injector's and cert-manager's namespaces come with their Helm releases in the cluster stack.
  const helmNamespaces = [tokenReviewerNamespace(spec), spec.clusterAddons.certManager.namespace]
    .map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
  const accounts = objects.filter((o) => o.kind === 'Namespace' || o.kind === 'ServiceAccount');
  return [...helmNamespaces, ...accounts, ...charts['vault-auth']!.filter((o) => o.kind !== 'ServiceAccount')];
}

/** A pod's token: TokenRequest for its service account with the audience of its projected volume. */
function podToken(client: VaultClient): Promise<string> {
  // cert-manager asks for its own audience (vault://<issuer>) besides the issuer's `audiences`.
  const audiences = client.name === CERT_MANAGER_ROLE ? [`vault://${SERVICES_ISSUER}`, KUBERNETES_TOKEN_AUDIENCE] : [KUBERNETES_TOKEN_AUDIENCE];
  return kube.createToken(client.namespace, client.serviceAccount, { audiences, expirationSeconds: 600 });
}

async function login(role: string, jwt: string, mount = KUBERNETES_AUTH_PATH) {
  return vault.request('POST', `${mount}/login`, { body: { role, jwt }, token: '' });
}

async function clientToken(client: VaultClient): Promise<string> {
  const res = await login(client.name, await podToken(client));
  if (res.status !== 200) throw new Error(`login of ${client.name}: ${res.status} ${res.text}`);
  return res.body.auth.client_token;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'platform-test-vault-e2e-'));
  registerTempDir(work);
  // The agents run as the workloads' account and must reach their folders inside.
  await chmod(work, 0o755);
  await writeFile(join(work, 'stripe-secret-key.txt'), `${STRIPE_KEY}\n`, { mode: 0o600 });
  await writeFile(join(work, 'redis-auth-token.txt'), REDIS_TOKEN, { mode: 0o600 });
  await writeFile(join(work, 'kafka-scram-secret.json'), kafkaSecret(KAFKA_PASSWORD), { mode: 0o600 });
  ca = await createTestCa({ dir: join(work, 'ca') });
  [pg, vault, kube] = await Promise.all([startPostgres({ ca }), startVault({ ca }), startKubeApiServer({ ca })]);
  master = await pg.createMaster();
  await kube.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: clusterObjects() }));
  firstRun = await runBootstrap();
}, 900000);

afterAll(async () => {
  await Promise.all([pg?.dispose(), vault?.dispose(), kube?.dispose()]);
  await ca?.dispose();
  if (work) {
    await rm(work, { recursive: true, force: true });
    unregisterTempDir(work);
  }
});

describe('vault/bootstrap.sh against real Vault, PostgreSQL and Kubernetes API servers', () => {
  it('runs to the end as the RDS-like master, on the production versions, with no error output', async () => {
    expect(pg.version).toBe(spec.dataTier.postgres.engineVersion);
    expect((await vault.request('GET', 'sys/seal-status')).body.version).toBe(spec.vault.version);
    expect(firstRun.stderr).toBe('');
    for (const line of [
      `wrote auth/kubernetes/config (token reviewer ${tokenReviewerNamespace(spec)}/${TOKEN_REVIEWER.secret})`,
      'generated kv/services/auth-service/signing',
      'wrote kv/services/payment-service/stripe from PAYMENT_SERVICE_STRIPE_SECRET_KEY_FILE',
      ...credential('redis').paths.map((p) => `wrote kv/${p} from REDIS_AUTH_TOKEN_FILE`),
      ...credential('kafka').paths.map((p) => `wrote kv/${p} from KAFKA_SCRAM_SECRET_FILE`),
      `wrote kv/${RDS_CA.path}`,
      'configured database/config/postgres (root rotated)',
      `generated the ${pkiPath(spec).mount} root CA`,
      ...params.vaultCa.namespaces.map((ns) => `applied secret ${ns}/${VAULT_CA_SECRET.name}`),
    ]) {
      expect(firstRun.stdout.split('\n')).toContain(line);
    }
    // The audit device writes where it was told.
    expect(readFileSync(join(work, 'audit.log'), 'utf8')).toContain('"path":"database/config/postgres"');
  });

  it('configures Kubernetes auth with the reviewer token the token controller issued, never a pod\'s', async () => {
    const config = (await vault.request('GET', `${KUBERNETES_AUTH_PATH}/config`)).body.data;
    expect(config).toMatchObject({ kubernetes_host: kube.url, token_reviewer_jwt_set: true, disable_local_ca_jwt: true });
    expect(config.kubernetes_ca_cert.trim()).toBe(readFileSync(kube.caFile, 'utf8').trim());
  });

  it.each(clients.map((c) => [c.name, c]))('%s logs in with its own service-account token and reads exactly its paths', async (_name, client: VaultClient) => {
    const res = await login(client.name, await podToken(client));
    expect({ status: res.status, errors: res.body?.errors }).toEqual({ status: 200, errors: undefined });
    expect([...res.body.auth.token_policies].sort()).toEqual(['default', client.name].sort());
    expect(res.body.auth.metadata).toMatchObject({ service_account_name: client.serviceAccount, service_account_namespace: client.namespace });
    const token = res.body.auth.client_token as string;

    const own = client.rules.filter((r) => r.capabilities.includes('read')).map((r) => r.path);
    for (const path of own) {
      const read = await vault.request('GET', path, { token });
      expect({ path, status: read.status }).toEqual({ path, status: 200 });
      // What the agent renders into redis-password / kafka-password: the credential AWS issued.
      const kind = /^kv\/data\/services\/[^/]+\/(redis|kafka)$/.exec(path)?.[1];
      if (kind) expect({ path, password: read.body.data.data.password }).toEqual({ path, password: kind === 'redis' ? REDIS_TOKEN : KAFKA_PASSWORD });
    }
    const foreign = [...new Set(clients.flatMap((c) => c.rules.map((r) => r.path)))].filter((p) => !client.rules.some((r) => r.path === p));
    expect(foreign.length).toBeGreaterThan(0);
    for (const path of [...foreign, 'sys/policies/acl', `${KV_MOUNT}/metadata/services`, `${KUBERNETES_AUTH_PATH}/config`]) {
      const read = await vault.request('GET', path, { token });
      expect({ path, status: read.status }).toEqual({ path, status: 403 });
    }
  });

  it("refuses a role to another service account's token, and a token without the vault audience", async () => {
    const [first, second] = [clients[0]!, clients[1]!];
    const res = await login(first.name, await podToken(second));
    expect(res.status).toBe(403);
    const wrongAudience = await kube.createToken(first.namespace, first.serviceAccount);
    expect((await login(first.name, wrongAudience)).status).toBe(403);
  });

  it('needs the reviewer: with the pods\' own tokens calling TokenReview (no token_reviewer_jwt) every login is refused', async () => {
    // The configuration bootstrap used to write, on a second mount.
    const mount = 'kubernetes-without-reviewer';
    await vault.request('POST', `sys/auth/${mount}`, { body: { type: 'kubernetes' } });
    try {
      await vault.request('POST', `auth/${mount}/config`, {
        body: { kubernetes_host: kube.url, kubernetes_ca_cert: readFileSync(kube.caFile, 'utf8'), disable_local_ca_jwt: true },
      });
      const client = clients[0]!;
      await vault.request('POST', `auth/${mount}/role/${client.name}`, {
        body: { bound_service_account_names: [client.serviceAccount], bound_service_account_namespaces: [client.namespace], audience: KUBERNETES_TOKEN_AUDIENCE, token_policies: [client.name] },
      });
      const res = await login(client.name, await podToken(client), `auth/${mount}`);
      expect(res.status).toBe(403);
      // Vault's own reason: the API server forbade the TokenReview to the pod's account.
      expect(readFileSync(vault.logFile, 'utf8') + JSON.stringify(res.body)).toMatch(/permission denied/);
    } finally {
      await vault.request('DELETE', `sys/auth/${mount}`);
    }
  });

  it('puts the Vault CA into every namespace whose pods talk to Vault', async () => {
    for (const namespace of params.vaultCa.namespaces) {
      const secret = (await kube.request('GET', `/api/v1/namespaces/${namespace}/secrets/${VAULT_CA_SECRET.name}`)).body;
      expect({ namespace, ca: Buffer.from(secret.data[VAULT_CA_SECRET.key], 'base64').toString() }).toEqual({ namespace, ca: readFileSync(vault.caFile, 'utf8') });
    }
  });

  describe("PgBouncer's auth_file from a real Vault Agent, across a rotation of the static roles", () => {
    let pgbouncer: ChartPgBouncer;
    const pool = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'pgbouncer');
    const annotations: Record<string, string> = pool.spec.template.metadata.annotations;
    const pgbouncerClient = clients.find((c) => c.name === annotations['vault.hashicorp.com/role'])!;
    const account = workloadAccount();
    let render = 0;
    const renderUserlist = async (secretsDir: string) => {
      await renderAsAgent({ vault, annotations, jwt: await podToken(pgbouncerClient), outDir: secretsDir, workDir: join(work, `agent-${++render}`), account });
    };
    /** Each service's password as its own pod's agent would read it (its own Vault login). */
    const servicePasswords = async () => new Map(await Promise.all(roles.map(async (role) => {
      const token = await clientToken(clients.find((c) => c.name === role.name)!);
      return [role.username, (await vault.request('GET', `database/static-creds/${role.name}`, { token })).body.data.password as string] as const;
    })));
    const through = async (user: string, password: string, database: string) => {
      const client = await pgbouncer.connect(user, password, database);
      try {
        return (await client.query('SELECT current_user, current_database()')).rows[0];
      } finally {
        await client.end();
      }
    };

    beforeAll(async () => {
      pgbouncer = await startChartPgBouncer({ spec, ca, pg, render: renderUserlist, pollSeconds: 1 });
    }, 120000);
    afterAll(async () => {
      await pgbouncer?.dispose();
    });

    it('renders exactly the chart\'s files, from the bootstrap\'s secrets', async () => {
      expect(Object.keys(agentTemplates(annotations)).sort()).toEqual(['rds-ca.pem', 'userlist.txt']);
      expect(await readFile(join(pgbouncer.secretsDir, 'rds-ca.pem'), 'utf8')).toBe(readFileSync(ca.caFile, 'utf8'));
      const userlist = await readFile(join(pgbouncer.secretsDir, 'userlist.txt'), 'utf8');
      const passwords = await servicePasswords();
      for (const role of roles) expect(userlist).toContain(`"${role.username}" "${passwords.get(role.username)!.replace(/"/g, '""')}"`);
    });

    it('lets each service into its own database through PgBouncer, and into no other', async () => {
      const passwords = await servicePasswords();
      for (const role of roles) {
        await expect(through(role.username, passwords.get(role.username)!, role.database)).resolves.toEqual({ current_user: role.username, current_database: role.database });
        const other = roles.find((r) => r !== role)!;
        await expect(through(role.username, passwords.get(role.username)!, other.database)).rejects.toThrow(/permission denied for database/);
      }
    });

    it('keeps working after Vault rotates every static role and the agent re-renders', async () => {
      const before = await servicePasswords();
      const rotatedAt = new Map<string, string>();
      for (const role of roles) {
        rotatedAt.set(role.name, (await vault.request('GET', `database/static-roles/${role.name}`)).body.data.last_vault_rotation);
        // What Vault's rotation schedule does every rotation_period.
        expect((await vault.request('POST', `database/rotate-role/${role.name}`)).status).toBe(204);
      }
      const after = await servicePasswords();
      for (const role of roles) {
        expect(after.get(role.username)).not.toBe(before.get(role.username));
        expect((await vault.request('GET', `database/static-roles/${role.name}`)).body.data.last_vault_rotation).not.toBe(rotatedAt.get(role.name));
      }
      // PgBouncer's pooled server logins would hide whether it can log in with the new passwords.
      const admin = new Client({ connectionString: pg.superuserUrl });
      await admin.connect();
      try {
        await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ANY($1)', [roles.map((r) => r.username)]);
      } finally {
        await admin.end();
      }
      await renderUserlist(pgbouncer.secretsDir);
      for (const role of roles) {
        await waitReady(pgbouncer.process, async () => {
          await through(role.username, after.get(role.username)!, role.database);
          return true;
        }, { timeoutMs: 60000, intervalMs: 250, what: `${role.username} with its rotated password through PgBouncer` });
        await expect(through(role.username, before.get(role.username)!, role.database)).rejects.toThrow(/SASL authentication failed/);
      }
      expect(await readFile(pgbouncer.logFile, 'utf8')).toMatch(/got SIGHUP, re-reading config/);
      expect(pgbouncer.process.running).toBe(true);
    });
  });

  describe("PKI: what cert-manager's Vault issuer requests for the charts' Certificates", () => {
    const certificates = objects.filter((o) => o.kind === 'Certificate' && !o.spec.isCA);
    const { mount, signPath } = pkiPath(spec);
    const urls = pkiMountConfig(spec);
    let token: string;
    let root: x509.X509Certificate;

    beforeAll(async () => {
      token = await clientToken(clients.find((c) => c.name === CERT_MANAGER_ROLE)!);
      root = new x509.X509Certificate((await vault.request('GET', `${mount}/cert/ca`, { token: '' })).body.data.certificate);
    });

    /** A CSR as cert-manager makes it: the Certificate's private key spec, CN and DNS names. */
    async function csrFor(commonName: string, dnsNames: string[]): Promise<string> {
      const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
      const csr = await x509.Pkcs10CertificateRequestGenerator.create({
        name: `CN=${commonName}`,
        keys: keys as never,
        signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
        extensions: [new x509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: 'dns' as const, value })))],
      });
      return csr.toString('pem');
    }

    /** cert-manager's request body (its Vault client's Sign): the duration as a Go duration. */
    function signRequest(csr: string, commonName: string, dnsNames: string[], seconds: number) {
      const h = Math.floor(seconds / 3600);
      const m = Math.floor((seconds % 3600) / 60);
      return { common_name: commonName, alt_names: dnsNames.join(','), ip_sans: '', uri_sans: '', ttl: `${h}h${m}m${seconds % 60}s`, csr, exclude_cn_from_sans: 'true' };
    }

    it('made the root CA with the URLs written first (its CRL distribution point is the mount\'s)', () => {
      const crl = root.getExtension(x509.CRLDistributionPointsExtension);
      expect(crl?.distributionPoints.flatMap((p) => p.distributionPoint?.fullName?.map((n) => n.uniformResourceIdentifier) ?? [])).toEqual([urls.crlDistributionPoints]);
    });

    it.each(certificates.map((c) => [`${c.metadata.namespace}/${c.metadata.name}`, c]))('signs %s: names, usages, lifetime, chain', async (_id, certificate: any) => {
      const { commonName, dnsNames, duration, usages } = certificate.spec;
      const seconds = Number(/^(\d+)h$/.exec(duration)?.[1] ?? NaN) * 3600;
      expect(seconds).toBeGreaterThan(0);
      const res = await vault.request('POST', signPath, { token, body: signRequest(await csrFor(commonName, dnsNames), commonName, dnsNames, seconds) });
      expect({ status: res.status, errors: res.body?.errors }).toEqual({ status: 200, errors: undefined });
      const cert = new X509Certificate(res.body.data.certificate);
      expect(cert.verify(new X509Certificate(root.toString('pem')).publicKey)).toBe(true);
      expect(cert.subject).toBe(`CN=${commonName}`);
      expect(cert.subjectAltName!.split(', ').sort()).toEqual(dnsNames.map((n: string) => `DNS:${n}`).sort());
      const eku = new Set(cert.keyUsage ?? []);
      if (usages.includes('server auth')) expect(eku.has('1.3.6.1.5.5.7.3.1')).toBe(true);
      if (usages.includes('client auth')) expect(eku.has('1.3.6.1.5.5.7.3.2')).toBe(true);
      expect(new Date(cert.validTo).getTime() - Date.now()).toBeLessThanOrEqual(seconds * 1000 + 60000);
      expect(cert.infoAccess).toContain(`CA Issuers - URI:${urls.issuingCertificates}`);
      expect(res.body.data.issuing_ca.trim()).toBe(root.toString('pem').trim());
      expect(seconds).toBeLessThanOrEqual(durationSeconds(spec.workloads.certificates.duration));
    });

    it('refuses a name the charts do not request', async () => {
      const res = await vault.request('POST', signPath, { token, body: signRequest(await csrFor('evil.example.com', ['evil.example.com']), 'evil.example.com', ['evil.example.com'], 3600) });
      expect(res.status).toBe(400);
      expect(res.body.errors.join(' ')).toMatch(/not allowed/);
    });
  });

  it('changes nothing when run a second time (Vault, PostgreSQL and Kubernetes state compared)', async () => {
    const before = await snapshot();
    const second = await runBootstrap();
    const after = await snapshot();
    expect(after).toEqual(before);
    expect(second.stderr).toBe('');
    const lines = second.stdout.split('\n');
    expect(lines).toEqual(expect.arrayContaining(['kept database/config/postgres', 'kept kv/services/auth-service/signing', 'kept kv/services/payment-service/stripe',
      ...params.platformCredentials.flatMap((c) => c.paths.map((p) => `kept kv/${p}`))]));
    expect(lines.filter((l) => /^(generated|configured) /.test(l) || / from (REDIS|KAFKA)_/.test(l))).toEqual([]);
  });

  describe('the credentials AWS issues (ElastiCache AUTH token, MSK SCRAM secret)', () => {
    const password = async (path: string) => (await vault.request('GET', `${KV_MOUNT}/data/${path}`)).body?.data?.data?.password as string | undefined;

    it('refuses a SCRAM secret of another user, or no JSON, and writes nothing', async () => {
      const before = await Promise.all(credential('kafka').paths.map(password));
      for (const body of [kafkaSecret('other-password', 'someone-else'), 'just-a-password\n', kafkaSecret('')]) {
        const file = join(work, 'bad-scram-secret.json');
        await writeFile(file, body, { mode: 0o600 });
        const run = execFileAsync('bash', [BOOTSTRAP], { env: { ...bootstrapEnv(), KAFKA_SCRAM_SECRET_FILE: file }, timeout: 600000 });
        await expect(run).rejects.toMatchObject({
          code: 1, stderr: expect.stringContaining(`does not hold a SCRAM secret {"username": "${spec.dataTier.kafka.scramUsername}", "password": ...}; nothing written`),
        });
      }
      expect(await Promise.all(credential('kafka').paths.map(password))).toEqual(before);
    });

    it('names the missing entries and the command that fetches them when run without the files, after applying the rest', async () => {
      const [gone] = credential('redis').paths;
      expect((await vault.request('DELETE', `${KV_MOUNT}/metadata/${gone}`)).status).toBe(204);
      const withoutFiles = Object.fromEntries(Object.entries(bootstrapEnv()).filter(([k]) => !['REDIS_AUTH_TOKEN_FILE', 'KAFKA_SCRAM_SECRET_FILE'].includes(k)));
      const failed = await execFileAsync('bash', [BOOTSTRAP], { env: withoutFiles, timeout: 600000 }).then(() => undefined, (e: { code: number; stdout: string; stderr: string }) => e);
      expect(failed?.code).toBe(1);
      // Everything else was applied (the CA Secrets come last but one), and the present entries kept.
      expect(failed!.stdout).toContain(`applied secret ${params.vaultCa.namespaces.at(-1)}/${VAULT_CA_SECRET.name}`);
      for (const path of params.platformCredentials.flatMap((c) => c.paths).filter((p) => p !== gone)) expect(failed!.stdout).toContain(`kept kv/${path}`);
      expect(failed!.stderr).toContain(`bootstrap: kv/${gone} is absent: it takes the ElastiCache AUTH token`);
      expect(failed!.stderr).toContain(`REDIS_AUTH_TOKEN_FILE=<(aws secretsmanager get-secret-value --query SecretString --output text --secret-id "$(aws cloudformation describe-stacks --stack-name ${spec.project}-<env>-cache`);
      expect(failed!.stderr).toContain("OutputKey=='AuthSecretArn'");
      expect(await password(gone!)).toBeUndefined();
      // With the file it is back.
      expect((await runBootstrap()).stdout.split('\n')).toContain(`wrote kv/${gone} from REDIS_AUTH_TOKEN_FILE`);
      expect(await password(gone!)).toBe(REDIS_TOKEN);
    });

    it('brings every service along after a rotation, and a service reads the new token', async () => {
      const rotated = 'redis-auth-token-rotated-5e8a7c1f20d4';
      await writeFile(join(work, 'redis-auth-token.txt'), `${rotated}\n`, { mode: 0o600 });
      const run = await runBootstrap();
      const lines = run.stdout.split('\n');
      expect(lines).toEqual(expect.arrayContaining([
        ...credential('redis').paths.map((p) => `wrote kv/${p} from REDIS_AUTH_TOKEN_FILE`),
        ...credential('kafka').paths.map((p) => `kept kv/${p}`),
      ]));
      expect(await Promise.all(credential('redis').paths.map(password))).toEqual(credential('redis').paths.map(() => rotated));
      const gateway = clients.find((c) => c.name === 'api-gateway')!;
      const read = await vault.request('GET', `${KV_MOUNT}/data/services/api-gateway/redis`, { token: await clientToken(gateway) });
      expect(read.body.data.data.password).toBe(rotated);
    });
  });
});

/** Everything bootstrap writes, read back: Vault's configuration and secrets' versions, the database's roles and grants, the cluster's Secrets. */
async function snapshot(): Promise<Record<string, unknown>> {
  const get = async (path: string) => {
    const res = await vault.request('GET', path);
    return res.status === 200 ? res.body.data : { status: res.status };
  };
  const list = async (path: string) => ((await vault.request('LIST', path)).body?.data?.keys ?? []) as string[];
  const vaultState: Record<string, unknown> = {
    mounts: await get('sys/mounts'),
    auth: await get('sys/auth'),
    audit: await get('sys/audit'),
    policies: Object.fromEntries(await Promise.all((await list('sys/policies/acl')).map(async (p) => [p, (await get(`sys/policies/acl/${p}`) as any).policy]))),
    kubernetesConfig: await get(`${KUBERNETES_AUTH_PATH}/config`),
    kubernetesRoles: Object.fromEntries(await Promise.all((await list(`${KUBERNETES_AUTH_PATH}/role`)).map(async (r) => [r, await get(`${KUBERNETES_AUTH_PATH}/role/${r}`)]))),
    database: await get(`database/config/${params.database.connection}`),
    staticRoles: Object.fromEntries(await Promise.all(roles.map(async (r) => [r.name, await get(`database/static-roles/${r.name}`)]))),
    staticCreds: Object.fromEntries(await Promise.all(roles.map(async (r) => [r.name, ((await get(`database/static-creds/${r.name}`)) as any).password]))),
    kv: Object.fromEntries(await Promise.all([...params.generatedKeys.map((k) => k.path), ...params.operatorSecrets.map((s) => s.path),
      ...params.platformCredentials.flatMap((c) => c.paths), RDS_CA.path]
      .map(async (p) => [p, await get(`${KV_MOUNT}/metadata/${p}`)]))),
    pkiIssuers: await Promise.all((await list(`${pkiPath(spec).mount}/issuers`)).map((i) => get(`${pkiPath(spec).mount}/issuer/${i}`))),
    pkiRole: await get(`${pkiPath(spec).mount}/roles/${pkiPath(spec).role}`),
    pkiUrls: await get(`${pkiPath(spec).mount}/config/urls`),
  };
  const admin = new Client({ connectionString: pg.superuserUrl });
  await admin.connect();
  let database: Record<string, unknown>;
  try {
    database = {
      roles: (await admin.query("SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolpassword FROM pg_authid WHERE rolname NOT LIKE 'pg\\_%' ORDER BY rolname")).rows,
      members: (await admin.query('SELECT roleid::regrole::text AS role, member::regrole::text AS member, admin_option, inherit_option, set_option FROM pg_auth_members ORDER BY 1, 2')).rows,
      databases: (await admin.query('SELECT datname, datdba::regrole::text AS owner, datacl::text[] AS acl FROM pg_database ORDER BY datname')).rows,
    };
  } finally {
    await admin.end();
  }
  const secrets = Object.fromEntries(await Promise.all(params.vaultCa.namespaces.map(async (ns) => {
    const s = (await kube.request('GET', `/api/v1/namespaces/${ns}/secrets/${VAULT_CA_SECRET.name}`)).body;
    return [ns, { resourceVersion: s.metadata.resourceVersion, data: s.data }];
  })));
  const reviewer = (await kube.request('GET', `/api/v1/namespaces/${tokenReviewerNamespace(spec)}/secrets/${TOKEN_REVIEWER.secret}`)).body.metadata.resourceVersion;
  return { vault: vaultState, database, kubernetes: { secrets, reviewer }, adminUser: VAULT_DATABASE_ADMIN };
}
