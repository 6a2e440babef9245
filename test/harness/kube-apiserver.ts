// A real Kubernetes control plane on loopback (built by scripts/setup/kube.sh into
// .cache/kube/bin): etcd (TLS, client certificates), kube-apiserver (TLS, RBAC, service-account
// tokens signed with a key of its own) and, unless turned off, kube-controller-manager running the
// controllers a test asks for (default: the service-account token controller, which fills
// `kubernetes.io/service-account-token` Secrets). No kubelet, scheduler or network: objects are
// stored, validated, authorised and reviewed for real, and no pod ever runs. Each process runs in
// its own temp dir and process group like the other servers (process.ts).
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { createTestCa, issueServiceCertificate } from '../../scripts/local-stack/ca';
import { requestJson } from '../../scripts/local-stack/https';
import type { JsonResponse } from '../../scripts/local-stack/https';
import {
  HarnessError, ManagedProcess, REPO_ROOT, cacheDir, disposeOnce, freePort, setUpInTempDir, startOnFreePorts, waitReady,
} from '../../scripts/local-stack/process';
import type { ServerOptions, TestCa } from '../../scripts/local-stack/types';

const execFileAsync = promisify(execFile);
const READY_TIMEOUT_MS = 120000;
/** The issuer (and default audience) of the service-account tokens, as in a real cluster. */
export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
const BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kubectl'] as const;

/** The Kubernetes version scripts/setup/kube.sh builds: read from the script, the one place it is written. */
export const KUBERNETES_VERSION: string = (() => {
  const match = /^KUBERNETES=(v\S+)$/m.exec(readFileSync(join(REPO_ROOT, 'scripts', 'setup', 'kube.sh'), 'utf8'));
  if (!match) throw new HarnessError('scripts/setup/kube.sh: no KUBERNETES=v<version> line');
  return match[1]!;
})();

export function findKubeBinaries(root = cacheDir('kube', 'bin')): string {
  for (const name of BINARIES) {
    if (!existsSync(join(root, name))) {
      throw new HarnessError(`missing: ${name} ${KUBERNETES_VERSION} (no ${join(root, name)}); build it with \`npm run setup\` (scripts/setup/kube.sh)`);
    }
  }
  return root;
}

export interface KubeApiServerOptions extends ServerOptions {
  /**
   * Controllers of kube-controller-manager to run (its `--controllers`); default the
   * service-account token controller. An empty list starts no controller manager.
   */
  readonly controllers?: readonly string[];
}

export interface KubeApiServer {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** The CA the API server's certificate chains to (also the client CA). */
  readonly caFile: string;
  readonly ca: TestCa;
  /** A kubeconfig of a cluster admin (group system:masters, bearer token), context `harness`. */
  readonly kubeconfig: string;
  readonly adminToken: string;
  /** Folder holding kubectl (and the servers). */
  readonly binDir: string;
  readonly dir: string;
  readonly pid: number | undefined;
  /** Environment for kubectl and scripts calling it: KUBECONFIG, PATH with this kubectl first. */
  env(): NodeJS.ProcessEnv;
  /** One API call as the admin (or with `token`), e.g. `GET /api/v1/namespaces`. */
  request<T = any>(method: string, path: string, opts?: { body?: unknown; token?: string; contentType?: string }): Promise<JsonResponse<T>>;
  /** Runs this kubectl as the admin; resolves with stdout, rejects with stderr. */
  kubectl(args: string[], input?: string): Promise<string>;
  /** A token of `namespace/serviceAccount` from the TokenRequest API, as a projected volume gets one. */
  createToken(namespace: string, serviceAccount: string, opts?: { audiences?: string[]; expirationSeconds?: number }): Promise<string>;
  dispose(): Promise<void>;
}

export async function startKubeApiServer(opts: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const binDir = findKubeBinaries();
  return setUpInTempDir('kube', async (dir) => {
    const started: ManagedProcess[] = [];
    try {
      return await setUp(dir, binDir, opts, started);
    } catch (error) {
      for (const proc of started.reverse()) await proc.stop('SIGKILL');
      throw error;
    }
  });
}

async function setUp(dir: string, binDir: string, opts: KubeApiServerOptions, started: ManagedProcess[]): Promise<KubeApiServer> {
  const ca = opts.ca ?? (await createTestCa({ dir: join(dir, 'ca') }));
  const caPem = readFileSync(ca.caFile);
  // Server and client certificates in one (the CA's issue() makes both): etcd's serving one, and
  // the API server's serving one, also its client certificate towards etcd.
  const etcdCert = await issueServiceCertificate(ca, 'etcd');
  const apiCert = await ca.issue({
    commonName: 'kube-apiserver',
    dnsNames: ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  // The service-account signing key pair (ES256).
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const saKey = join(dir, 'sa.key');
  const saPub = join(dir, 'sa.pub');
  await writeFile(saKey, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
  await writeFile(saPub, keys.publicKey.export({ type: 'spki', format: 'pem' }) as string);
  const adminToken = randomBytes(24).toString('base64url');
  const tokens = join(dir, 'tokens.csv');
  await writeFile(tokens, `${adminToken},harness-admin,harness-admin,"system:masters"\n`, { mode: 0o600 });

  // --- etcd ------------------------------------------------------------------------------------
  // Ports free a moment ago may be taken by the time a server binds them: startOnFreePorts
  // picks new ones and starts again when the log says so.
  let etcdPort = 0;
  const etcdArgs: string[] = [];
  const etcdLog = join(dir, 'etcd.log');
  const etcd = new ManagedProcess({ name: 'etcd', command: join(binDir, 'etcd'), args: etcdArgs, cwd: dir, logFile: etcdLog, orphanDir: dir });
  started.push(etcd);
  await startOnFreePorts(etcd, async () => {
    // A try that failed may have begun a data dir with the old ports as its member's.
    await rm(join(dir, 'etcd'), { recursive: true, force: true });
    etcdPort = await freePort();
    let peerPort: number;
    do peerPort = await freePort(); while (peerPort === etcdPort);
    etcdArgs.splice(0, etcdArgs.length,
      '--name=harness', `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=https://127.0.0.1:${etcdPort}`, `--advertise-client-urls=https://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`, `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=harness=http://127.0.0.1:${peerPort}`,
      `--cert-file=${etcdCert.certFile}`, `--key-file=${etcdCert.keyFile}`, `--trusted-ca-file=${ca.caFile}`, '--client-cert-auth',
      // Durability is not under test; speed is.
      '--unsafe-no-fsync', '--log-level=warn');
  }, async () => {
    etcd.start();
    await waitReady(etcd, async () => {
      const res = await requestJson(`https://127.0.0.1:${etcdPort}/health`, {
        ca: caPem, cert: readFileSync(etcdCert.certFile), key: readFileSync(etcdCert.keyFile),
      });
      return res.status === 200 && res.body?.health === 'true';
    }, { timeoutMs: READY_TIMEOUT_MS, intervalMs: 100, what: `etcd /health on 127.0.0.1:${etcdPort}` });
  });

  // --- kube-apiserver --------------------------------------------------------------------------
  let url = '';
  const apiArgs: string[] = [];
  const apiLog = join(dir, 'kube-apiserver.log');
  await mkdir(join(dir, 'apiserver-certs'));
  const apiserver = new ManagedProcess({ name: 'kube-apiserver', command: join(binDir, 'kube-apiserver'), args: apiArgs, cwd: dir, logFile: apiLog, orphanDir: dir });
  started.push(apiserver);
  const call = <T = any>(method: string, path: string, body?: unknown, token = adminToken, contentType?: string) =>
    requestJson<T>(`${url}${path}`, { method, body, ca: caPem, headers: { authorization: `Bearer ${token}` }, contentType });
  await startOnFreePorts(apiserver, async () => {
    const port = await freePort();
    url = `https://127.0.0.1:${port}`;
    apiArgs.splice(0, apiArgs.length,
      `--etcd-servers=https://127.0.0.1:${etcdPort}`,
      `--etcd-cafile=${ca.caFile}`, `--etcd-certfile=${apiCert.certFile}`, `--etcd-keyfile=${apiCert.keyFile}`,
      '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${port}`,
      `--tls-cert-file=${apiCert.certFile}`, `--tls-private-key-file=${apiCert.keyFile}`,
      `--cert-dir=${join(dir, 'apiserver-certs')}`,
      `--client-ca-file=${ca.caFile}`, `--token-auth-file=${tokens}`,
      `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
      `--service-account-key-file=${saPub}`, `--service-account-signing-key-file=${saKey}`,
      '--authorization-mode=RBAC',
      '--service-cluster-ip-range=10.96.0.0/16',
      // No Endpoints for the `kubernetes` Service: 127.0.0.1 is not a valid endpoint, and nothing dials it.
      '--endpoint-reconciler-type=none',
      '--enable-priority-and-fairness=false', '--profiling=false');
  }, async () => {
    apiserver.start();
    // /readyz covers etcd, the RBAC bootstrap roles (system:auth-delegator among them) and the
    // system namespaces.
    await waitReady(apiserver, async () => (await call('GET', '/readyz')).status === 200, {
      timeoutMs: READY_TIMEOUT_MS, intervalMs: 200, what: `${url}/readyz`,
    });
  });

  const kubeconfig = join(dir, 'admin.kubeconfig');
  await writeFile(kubeconfig, JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'harness', cluster: { server: url, 'certificate-authority': ca.caFile } }],
    users: [{ name: 'harness-admin', user: { token: adminToken } }],
    contexts: [{ name: 'harness', context: { cluster: 'harness', user: 'harness-admin' } }],
    'current-context': 'harness',
  }, null, 2), { mode: 0o600 });

  // --- kube-controller-manager -----------------------------------------------------------------
  const controllers = opts.controllers ?? ['serviceaccount-token-controller'];
  if (controllers.length > 0) {
    const manager = new ManagedProcess({
      name: 'kube-controller-manager',
      command: join(binDir, 'kube-controller-manager'),
      args: [
        `--kubeconfig=${kubeconfig}`, `--controllers=${controllers.join(',')}`,
        `--service-account-private-key-file=${saKey}`, `--root-ca-file=${ca.caFile}`,
        '--leader-elect=false', '--use-service-account-credentials=false',
        // It serves nothing the tests need (metrics, health): no listening port at all.
        '--secure-port=0',
      ],
      cwd: dir,
      logFile: join(dir, 'kube-controller-manager.log'),
      orphanDir: dir,
    });
    manager.start();
    started.push(manager);
    if (controllers.includes('serviceaccount-token-controller')) {
      // Ready when it has filled a token Secret of a probe account (then both are deleted).
      const ns = 'kube-system';
      const probe = `harness-probe-${randomBytes(4).toString('hex')}`;
      await expectStatus(call('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: probe } }), 201, 'create the probe ServiceAccount');
      await expectStatus(call('POST', `/api/v1/namespaces/${ns}/secrets`, {
        metadata: { name: probe, annotations: { 'kubernetes.io/service-account.name': probe } },
        type: 'kubernetes.io/service-account-token',
      }), 201, 'create the probe token Secret');
      await waitReady(manager, async () => Boolean((await call('GET', `/api/v1/namespaces/${ns}/secrets/${probe}`)).body?.data?.token), {
        timeoutMs: READY_TIMEOUT_MS, intervalMs: 200, what: 'the token controller filling a service-account-token Secret',
      });
      await call('DELETE', `/api/v1/namespaces/${ns}/secrets/${probe}`);
      await call('DELETE', `/api/v1/namespaces/${ns}/serviceaccounts/${probe}`);
    }
  }

  const env = (): NodeJS.ProcessEnv => ({
    ...process.env,
    PATH: [binDir, process.env.PATH ?? ''].join(delimiter),
    KUBECONFIG: kubeconfig,
  });
  return {
    url,
    caFile: ca.caFile,
    ca,
    kubeconfig,
    adminToken,
    binDir,
    dir,
    get pid() {
      return apiserver.runningPid;
    },
    env,
    request: (method, path, o = {}) => call(method, path, o.body, o.token ?? adminToken, o.contentType),
    async kubectl(args, input) {
      const child = execFileAsync(join(binDir, 'kubectl'), args, { env: env(), maxBuffer: 16 * 1024 * 1024, timeout: 60000 });
      if (input !== undefined) {
        child.child.stdin?.end(input);
      }
      try {
        return (await child).stdout;
      } catch (error) {
        const e = error as { stderr?: string; message: string };
        throw new HarnessError(`kubectl ${args.join(' ')}: ${e.stderr || e.message}`);
      }
    },
    async createToken(namespace, serviceAccount, o = {}) {
      const res = await call<{ status: { token: string } }>('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`, {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences: o.audiences ?? [SERVICE_ACCOUNT_ISSUER], expirationSeconds: o.expirationSeconds ?? 3600 },
      });
      if (res.status !== 201) throw new HarnessError(`TokenRequest for ${namespace}/${serviceAccount} answered ${res.status}: ${res.text}`);
      return res.body.status.token;
    },
    dispose: disposeOnce(dir, async () => {
      // Controllers first, etcd last: nothing writes to a store that is going away.
      for (const proc of [...started].reverse()) await proc.stop('SIGTERM', 10000);
    }),
  };
}

async function expectStatus(response: Promise<JsonResponse>, status: number, what: string): Promise<void> {
  const res = await response;
  if (res.status !== status) throw new HarnessError(`kube-apiserver: ${what}: ${res.status} ${res.text}`);
}
