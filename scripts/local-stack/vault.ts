// A real Vault server (built by scripts/setup/vault.sh into .cache/vault/bin) on loopback: TLS
// with a certificate from the test CA, file storage in its temp dir, initialised with one unseal
// key share and unsealed, so a test gets a root token and a CLI environment as an operator does
// after `vault operator init` (docs/vault.md "Bootstrap").
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { createTestCa, issueServiceCertificate } from './ca';
import { requestJson } from './https';
import type { JsonResponse } from './https';
import {
  HarnessError, ManagedProcess, cacheDir, disposeOnce, freePort, installed, setUpInTempDir, setupScriptVersion, startOnFreePorts, waitReady,
} from './process';
import type { ServerOptions, TestCa } from './types';

const READY_TIMEOUT_MS = 60000;

/** The version scripts/setup/vault.sh builds: read from the script, the one place it is written. */
export const VAULT_VERSION = setupScriptVersion('vault.sh', 'VAULT');

export function findVault(root = cacheDir('vault', 'bin')): string {
  return installed(join(root, 'vault'), { script: 'vault.sh', what: `Vault ${VAULT_VERSION}` });
}

export interface VaultServerOptions extends ServerOptions {
  /** More top-level HCL for the server's configuration file. */
  readonly extraConfig?: string;
  /** More DNS names for the server certificate: the names clients reach Vault by besides `vault` and localhost. */
  readonly dnsNames?: readonly string[];
}

export interface VaultServer {
  /** `https://127.0.0.1:<port>`, or the `listen` address (VAULT_ADDR). */
  readonly address: string;
  readonly port: number;
  /** The CA Vault's server certificate chains to (VAULT_CACERT). */
  readonly caFile: string;
  readonly ca: TestCa;
  /** The initial root token. */
  readonly rootToken: string;
  /** Folder holding the vault binary (for PATH). */
  readonly binDir: string;
  readonly dir: string;
  readonly logFile: string;
  readonly pid: number | undefined;
  /** Environment for the vault CLI and scripts calling it: VAULT_ADDR, VAULT_CACERT, VAULT_TOKEN, PATH with vault first. */
  env(token?: string): NodeJS.ProcessEnv;
  /** One API call, `/v1/<path>`; the token defaults to the root token. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped JSON of the servers' APIs, which the tests walk freely
  request<T = any>(method: string, path: string, opts?: { body?: unknown; token?: string }): Promise<JsonResponse<T>>;
  /** Stops Vault (data kept), starts it again and unseals it. */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

export async function startVault(opts: VaultServerOptions = {}): Promise<VaultServer> {
  const binary = findVault();
  return setUpInTempDir('vault', (dir) => setUp(dir, binary, opts));
}

async function setUp(dir: string, binary: string, opts: VaultServerOptions): Promise<VaultServer> {
  const ca = opts.ca ?? (await createTestCa({ dir: join(dir, 'ca') }));
  const caPem = readFileSync(ca.caFile);
  const host = opts.listen?.host ?? '127.0.0.1';
  const cert = opts.dnsNames?.length || opts.listen
    ? await ca.issue({ commonName: 'vault', dnsNames: ['vault', 'localhost', ...(opts.dnsNames ?? [])], ipAddresses: [...new Set(['127.0.0.1', host])] })
    : await issueServiceCertificate(ca, 'vault');
  const logFile = join(dir, 'vault.log');
  const configFile = join(dir, 'vault.hcl');
  await mkdir(join(dir, 'data'), { mode: 0o700 });
  await writeFile(logFile, '');

  let port = 0;
  const writeConfig = async (clusterPort: number) => {
    await writeFile(configFile, [
      '# written by scripts/local-stack/vault.ts',
      'ui = false',
      // No swap here to keep secrets out of, and mlock needs a capability the tests lack.
      'disable_mlock = true',
      `api_addr = "https://${host}:${port}"`,
      `cluster_addr = "https://127.0.0.1:${clusterPort}"`,
      'listener "tcp" {',
      `  address = "${host}:${port}"`,
      `  cluster_address = "127.0.0.1:${clusterPort}"`,
      `  tls_cert_file = "${cert.certFile}"`,
      `  tls_key_file = "${cert.keyFile}"`,
      '  tls_min_version = "tls12"',
      '}',
      `storage "file" {\n  path = "${join(dir, 'data')}"\n}`,
      opts.extraConfig ?? '',
      '',
    ].join('\n'));
  };

  const proc = new ManagedProcess({
    name: 'Vault',
    command: binary,
    args: ['server', `-config=${configFile}`],
    cwd: dir,
    // Nothing of the caller's VAULT_* reaches the server.
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VAULT_'))),
    logFile,
    orphanDir: dir,
  });

  const address = () => `https://${host}:${port}`;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped JSON of the servers' APIs, which the tests walk freely
  const call = <T = any>(method: string, path: string, body?: unknown, token?: string) =>
    requestJson<T>(`${address()}/v1/${path}`, { method, body, ca: caPem, headers: token ? { 'x-vault-token': token } : {} });

  // Any answer of sys/health means the listener serves TLS (501: not initialised, 503: sealed).
  const startListening = async () => {
    proc.start();
    await waitReady(proc, async () => (await call('GET', 'sys/health')).status > 0, {
      timeoutMs: READY_TIMEOUT_MS, intervalMs: 100, what: `TLS on ${host}:${port}`,
    });
  };

  await startOnFreePorts(proc, async () => {
    port = opts.listen?.port ?? (await freePort());
    await writeConfig(await freePort());
  }, startListening);

  const init = await call<{ keys_base64: string[]; root_token: string }>('PUT', 'sys/init', { secret_shares: 1, secret_threshold: 1 });
  if (init.status !== 200) throw new HarnessError(`Vault sys/init answered ${init.status}: ${init.text}`);
  const unsealKey = init.body.keys_base64[0]!;
  const rootToken = init.body.root_token;

  const unseal = async () => {
    const res = await call('PUT', 'sys/unseal', { key: unsealKey });
    if (res.status !== 200) throw new HarnessError(`Vault sys/unseal answered ${res.status}: ${res.text}`);
    // 200 from sys/health: initialised, unsealed and active (the standby-less single node).
    await waitReady(proc, async () => (await call('GET', 'sys/health')).status === 200, {
      timeoutMs: READY_TIMEOUT_MS, intervalMs: 100, what: 'active and unsealed (sys/health 200)',
    });
  };
  await unseal();

  const binDir = join(binary, '..');
  return {
    address: address(),
    port,
    caFile: ca.caFile,
    ca,
    rootToken,
    binDir,
    dir,
    logFile,
    get pid() {
      return proc.runningPid;
    },
    env(token = rootToken) {
      return {
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VAULT_'))),
        PATH: [binDir, process.env.PATH ?? ''].join(delimiter),
        VAULT_ADDR: address(),
        VAULT_CACERT: ca.caFile,
        VAULT_TOKEN: token,
      };
    },
    request: (method, path, o = {}) => call(method, path, o.body, o.token ?? rootToken),
    async restart() {
      await proc.stop('SIGTERM');
      await startListening();
      await unseal();
    },
    dispose: disposeOnce(dir, () => proc.stop('SIGTERM', 10000)),
  };
}
