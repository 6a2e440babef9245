// cert-manager's controller as a process of its own (process.ts): the binary and the CRDs of its
// release that scripts/setup/cert-manager.sh puts in .cache/cert-manager, built from the
// cert-manager module's packages with our main (scripts/local-cluster/cert-manager/main.go). It
// runs the controllers of CA and selfSigned issuers and of Certificates, against the API server of
// a kubeconfig or, without one, of the pod it runs in.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  HarnessError, ManagedProcess, REPO_ROOT, cacheDir, disposeOnce, freePort, setUpInTempDir, sleep, startOnFreePorts, tailFile, waitReady,
} from '../local-stack/process';

const READY_TIMEOUT_MS = 120000;
const BINARY = 'cert-manager-controller';
/** The module of our main: its go.mod requires the cert-manager release that is built. */
const MODULE_DIR = join(REPO_ROOT, 'scripts', 'local-cluster', 'cert-manager');

/** The cert-manager release built: read from our main's go.mod, the one place it is written. */
export const CERT_MANAGER_VERSION: string = (() => {
  const goMod = join(MODULE_DIR, 'go.mod');
  const match = /^\s*github\.com\/cert-manager\/cert-manager (v\S+)$/m.exec(readFileSync(goMod, 'utf8'));
  if (!match) throw new HarnessError(`${goMod}: no requirement of github.com/cert-manager/cert-manager`);
  return match[1]!;
})();

export interface CertManagerInstall {
  /** The controller binary. */
  readonly binary: string;
  /** The release's cert-manager.io CustomResourceDefinitions (*.yaml), to apply before it starts. */
  readonly crdFiles: readonly string[];
}

export function findCertManager(root = cacheDir('cert-manager')): CertManagerInstall {
  const binary = join(root, 'bin', BINARY);
  const crdsDir = join(root, 'crds');
  const crdFiles = existsSync(crdsDir) ? readdirSync(crdsDir).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(crdsDir, f)) : [];
  if (!existsSync(binary) || crdFiles.length === 0) {
    throw new HarnessError(`missing: cert-manager ${CERT_MANAGER_VERSION} (no ${binary} or no CRDs in ${crdsDir}); build it with \`npm run setup\` (scripts/setup/cert-manager.sh)`);
  }
  return { binary, crdFiles };
}

export interface CertManagerFlags {
  /** kubeconfig of the API server; omitted: the in-cluster configuration (the pod's service account). */
  readonly kubeconfig?: string;
  /** Namespace of the Secrets that ClusterIssuers refer to: the spec's clusterAddons.certManager.namespace, as the chart's. */
  readonly clusterResourceNamespace: string;
  /** `host:port` serving /livez and /readyz; omitted: none. */
  readonly healthzListenAddress?: string;
  /** klog verbosity: 2 info (the default), 4 debug. */
  readonly logLevel?: number;
}

/** The controller's command line: every setting explicit, the same for a local process and a pod. */
export function certManagerArgs(flags: CertManagerFlags): string[] {
  if (!flags.clusterResourceNamespace) throw new HarnessError('cert-manager: clusterResourceNamespace is required');
  return [
    ...(flags.kubeconfig ? [`--kubeconfig=${flags.kubeconfig}`] : []),
    `--cluster-resource-namespace=${flags.clusterResourceNamespace}`,
    ...(flags.healthzListenAddress ? [`--healthz-listen-address=${flags.healthzListenAddress}`] : []),
    `--v=${flags.logLevel ?? 2}`,
  ];
}

export interface CertManagerOptions extends Omit<CertManagerFlags, 'healthzListenAddress'> {
  /** Folder of the log (kept); omitted: a temp dir, deleted by dispose(). */
  readonly dir?: string;
}

export interface CertManager {
  readonly version: string;
  readonly process: ManagedProcess;
  readonly logFile: string;
  /** `http://127.0.0.1:<port>`: /livez and /readyz. */
  readonly healthzUrl: string;
  /** Polls `check` until it holds; fails at once, with the log's tail, when the controller exits. */
  waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void>;
  /** The last lines of the controller's log, for failure messages. */
  logTail(lines?: number): string;
  dispose(): Promise<void>;
}

/**
 * Starts the controller and resolves once its informers have synced (its /readyz). The
 * cert-manager.io CRDs (findCertManager().crdFiles) must be established first.
 */
export async function startCertManager(opts: CertManagerOptions): Promise<CertManager> {
  const { binary } = findCertManager();
  if (opts.dir) return start(opts.dir, binary, opts, false);
  return setUpInTempDir('cert-manager', (dir) => start(dir, binary, opts, true));
}

async function start(dir: string, binary: string, opts: CertManagerOptions, ownsDir: boolean): Promise<CertManager> {
  const logFile = join(dir, 'cert-manager-controller.log');
  const proc = new ManagedProcess({
    name: 'cert-manager-controller', command: binary, args: [], cwd: dir, logFile, orphanDir: ownsDir ? dir : undefined,
  });
  let healthzUrl = '';
  await startOnFreePorts(proc, async () => {
    const port = await freePort();
    healthzUrl = `http://127.0.0.1:${port}`;
    proc.opts.args = certManagerArgs({ ...opts, healthzListenAddress: `127.0.0.1:${port}` });
  }, async () => {
    proc.start();
    await waitReady(proc, async () => (await fetch(`${healthzUrl}/readyz`, { signal: AbortSignal.timeout(5000) })).ok, {
      timeoutMs: READY_TIMEOUT_MS, intervalMs: 200, what: `${healthzUrl}/readyz`,
    });
  });
  const logTail = (lines = 40) => tailFile(logFile, lines);
  const stop = () => proc.stop('SIGTERM', 10000);
  return {
    version: CERT_MANAGER_VERSION,
    process: proc,
    logFile,
    healthzUrl,
    waitFor: (what, check, timeoutMs) => poll(proc, what, check, timeoutMs, logTail),
    logTail,
    dispose: ownsDir ? disposeOnce(dir, stop) : stop,
  };
}

/** Like waitReady, but a timeout leaves the controller running (the caller may look further). */
async function poll(proc: ManagedProcess, what: string, check: () => Promise<boolean>, timeoutMs: number, logTail: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!proc.running) {
      const exit = proc.exitInfo;
      throw new HarnessError(`cert-manager-controller exited (code ${exit?.code ?? 'none'}, signal ${exit?.signal ?? 'none'}) while waiting for ${what}; its log:\n${logTail()}`);
    }
    if (await check()) return;
    if (Date.now() > deadline) throw new HarnessError(`not within ${timeoutMs} ms: ${what}; the controller's log:\n${logTail()}`);
    await sleep(500);
  }
}
