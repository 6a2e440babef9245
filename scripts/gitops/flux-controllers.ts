/**
 * Flux's source-controller and kustomize-controller (gitops.fluxControllers, built by
 * scripts/setup/flux.sh into .cache/flux/bin) as processes of their own beside an API server,
 * with a kubeconfig, where EKS runs the add-on's Deployments: what they do to the cluster's
 * objects is the same. source-controller serves the artifacts it fetched from its storage on
 * loopback, where kustomize-controller downloads them. Used by the local cluster
 * (scripts/local-cluster/gitops.ts) and the tests' Flux on a bare API server (test/harness/flux.ts).
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { HarnessError, ManagedProcess, REPO_ROOT, cacheDir, freePort, installed, startOnFreePorts, tailFile, waitReady } from '../local-stack/process';

// A Go controller starts in about a second on a loaded 2-core machine.
const READY_TIMEOUT_MS = 120000;
const BINARIES = ['source-controller', 'kustomize-controller', 'registry', 'oras'] as const;
/** The API groups of the two controllers: each watches every kind of its group from the start. */
const FLUX_CRD_GROUPS = ['source.toolkit.fluxcd.io', 'kustomize.toolkit.fluxcd.io'];

/** The folder of the Flux binaries; throws naming the first missing one and how to build it. */
export function findFluxBinaries(root = cacheDir('flux', 'bin')): string {
  for (const name of BINARIES) installed(join(root, name), { script: 'flux.sh', what: name });
  return root;
}

/** The CustomResourceDefinitions of the controllers' own release vendored in charts/crds (docs/gitops.md): to be Established before they start. */
export function fluxCrdFiles(dir = join(REPO_ROOT, 'charts', 'crds')): string[] {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.yaml') && FLUX_CRD_GROUPS.some((g) => f.startsWith(`${g}_`))).sort() : [];
  if (files.length === 0) throw new HarnessError(`${dir}: no Flux CustomResourceDefinitions (${FLUX_CRD_GROUPS.join(', ')})`);
  return files.map((f) => join(dir, f));
}

export interface FluxControllersOptions {
  /** The API server and identity the controllers act with. */
  readonly kubeconfig: string;
  /** Where they look for their objects and record events (RUNTIME_NAMESPACE). */
  readonly namespace: string;
  /** Folder of their logs and source-controller's storage (kept; the caller's to remove). */
  readonly dir: string;
  /** Removed by the watchdog if this process dies while they run (ManagedProcess.orphanDir). */
  readonly orphanDir?: string;
  readonly binDir?: string;
  /** Called with each process once started, so a caller can kill what started when a later step fails. */
  readonly onStarted?: (proc: ManagedProcess) => void;
}

export interface FluxControllers {
  readonly sourceController: ManagedProcess;
  readonly kustomizeController: ManagedProcess;
  readonly logFiles: { readonly sourceController: string; readonly kustomizeController: string };
  /** Throws, with the log tails, when a controller has exited: a wait for its work would be in vain. */
  assertRunning(what: string): void;
  /** The last lines of each controller's log, for failure messages. */
  logTails(lines?: number): string;
  /** SIGTERM to both, kustomize-controller first (it downloads from source-controller). */
  stop(): Promise<void>;
}

/**
 * Starts source-controller, then kustomize-controller, each resolved once its /readyz answers
 * (controller-runtime's manager runs: informers started). Their CRDs (fluxCrdFiles) must be
 * Established and `namespace` must exist.
 */
export async function startFluxControllers(opts: FluxControllersOptions): Promise<FluxControllers> {
  const binDir = opts.binDir ?? findFluxBinaries();
  const started: ManagedProcess[] = [];
  const env = { ...process.env, KUBECONFIG: opts.kubeconfig, RUNTIME_NAMESPACE: opts.namespace };
  const controller = async (name: 'source-controller' | 'kustomize-controller', extraArgs: () => Promise<string[]>) => {
    const proc = new ManagedProcess({
      name, command: join(binDir, name), args: [], cwd: opts.dir, env, logFile: join(opts.dir, `${name}.log`), orphanDir: opts.orphanDir,
    });
    let healthPort = 0;
    await startOnFreePorts(proc, async () => {
      healthPort = await freePort();
      proc.opts.args = [
        `--health-addr=127.0.0.1:${healthPort}`, `--metrics-addr=127.0.0.1:${await freePort()}`,
        '--log-encoding=json', ...(await extraArgs()),
      ];
    }, async () => {
      proc.start();
      started.push(proc);
      opts.onStarted?.(proc);
      await waitReady(proc, async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`, { signal: AbortSignal.timeout(5000) })).ok, {
        timeoutMs: READY_TIMEOUT_MS, intervalMs: 200, what: `http://127.0.0.1:${healthPort}/readyz`,
      });
    });
    return proc;
  };
  try {
    const storage = join(opts.dir, 'storage');
    await mkdir(storage, { recursive: true });
    const sourceController = await controller('source-controller', async () => {
      // The artifact server: kustomize-controller downloads from the advertised address.
      const storagePort = await freePort();
      return [`--storage-path=${storage}`, `--storage-addr=127.0.0.1:${storagePort}`, `--storage-adv-addr=127.0.0.1:${storagePort}`];
    });
    const kustomizeController = await controller('kustomize-controller', async () => []);
    const logFiles = { sourceController: sourceController.opts.logFile, kustomizeController: kustomizeController.opts.logFile };
    const logTails = (lines = 25) => [
      `--- source-controller (${logFiles.sourceController}):\n${tailFile(logFiles.sourceController, lines)}`,
      `--- kustomize-controller (${logFiles.kustomizeController}):\n${tailFile(logFiles.kustomizeController, lines)}`,
    ].join('\n');
    return {
      sourceController,
      kustomizeController,
      logFiles,
      assertRunning(what) {
        for (const proc of [sourceController, kustomizeController]) {
          if (!proc.running) throw new HarnessError(`${proc.opts.name} exited (code ${proc.exitInfo?.code ?? 'none'}) while waiting for ${what}:\n${logTails()}`);
        }
      },
      logTails,
      async stop() {
        for (const proc of [kustomizeController, sourceController]) await proc.stop('SIGTERM', 15000);
      },
    };
  } catch (error) {
    for (const proc of started.reverse()) await proc.stop('SIGKILL');
    throw error;
  }
}
