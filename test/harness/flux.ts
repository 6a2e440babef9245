// Flux's GitOps reconciler on loopback against a harness kube-apiserver (built by
// scripts/setup/flux.sh into .cache/flux/bin): an OCI registry (CNCF distribution, TLS from the
// cluster's test CA) standing in for ECR, source-controller (OCIRepository: pulls the artifact,
// serves it from its storage over HTTP) and kustomize-controller (Kustomization: builds and applies
// it with server-side apply). The controllers run outside the cluster with the admin kubeconfig, as
// processes of their own (scripts/gitops/flux-controllers.ts), in one temp dir with their logs.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pushManifests } from '../../scripts/gitops/artifact';
import type { PushedArtifact } from '../../scripts/gitops/artifact';
import { findFluxBinaries, startFluxControllers } from '../../scripts/gitops/flux-controllers';
import {
  HarnessError, ManagedProcess, REPO_ROOT, disposeOnce, freePort, randomSecret, setUpInTempDir, sleep, startOnFreePorts, waitReady,
} from '../../scripts/local-stack/process';
import { requestJson } from '../../scripts/local-stack/https';
import type { KubeApiServer } from './kube-apiserver';

// Budgets for a loaded 2-core machine: a Go controller starts in about a second there, and a
// Kustomization of the whole platform applies in a few seconds.
const READY_TIMEOUT_MS = 120000;
const DEFAULT_WAIT_MS = 180000;

/** The Flux objects the harness reconciles and waits for, by kind. */
const FLUX_RESOURCES = {
  OCIRepository: 'apis/source.toolkit.fluxcd.io/v1/namespaces/{ns}/ocirepositories',
  Kustomization: 'apis/kustomize.toolkit.fluxcd.io/v1/namespaces/{ns}/kustomizations',
} as const;
export type FluxKind = keyof typeof FLUX_RESOURCES;

/** The annotation `flux reconcile` sets: a controller handles it at once and echoes it in status. */
export const RECONCILE_REQUEST_ANNOTATION = 'reconcile.fluxcd.io/requestedAt';

export interface FluxOptions {
  readonly kube: KubeApiServer;
  /** Where the controllers run and look for their objects (their RUNTIME_NAMESPACE); created. @default flux-system */
  readonly namespace?: string;
  /** Folder of CustomResourceDefinitions applied first (every *.yaml): the controllers need their kinds at start. @default charts/crds */
  readonly crdsDir?: string;
  /** Secret created in `namespace` with the registry's CA (`ca.crt`), for an OCIRepository's certSecretRef. @default registry-ca */
  readonly caSecretName?: string;
}

export interface FluxObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; annotations?: Record<string, string>; generation?: number; [key: string]: unknown };
  spec: Record<string, any>;
  status?: {
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }>;
    lastHandledReconcileAt?: string;
    lastAppliedRevision?: string;
    lastAttemptedRevision?: string;
    observedGeneration?: number;
    artifact?: { revision?: string; digest?: string; url?: string };
    inventory?: { entries?: Array<{ id: string; v: string }> };
    [key: string]: unknown;
  };
}

export interface KubeEvent {
  type: string;
  reason: string;
  message: string;
  count?: number;
  involvedObject: { kind: string; name: string; namespace?: string };
  metadata: { name: string; annotations?: Record<string, string>; creationTimestamp?: string };
  lastTimestamp?: string;
}

export interface Flux {
  /** The controllers' namespace (their objects, the CA Secret). */
  readonly namespace: string;
  /** `127.0.0.1:<port>`: the registry, TLS with the kube CA. */
  readonly registry: string;
  /** `oci://127.0.0.1:<port>/<repository>`, an OCIRepository's url. */
  repositoryUrl(repository: string): string;
  readonly caSecretName: string;
  readonly caFile: string;
  readonly dir: string;
  /** Pids of the running processes (undefined once stopped). */
  readonly pids: { registry?: number; sourceController?: number; kustomizeController?: number };
  readonly logFiles: { registry: string; sourceController: string; kustomizeController: string };
  /** Pushes `manifestsDir`'s *.yaml as a Flux artifact to `<registry>/<repository>` under `tags`. */
  publish(manifestsDir: string, opts: { tags: readonly string[]; revision: string; repository: string; created?: string }): Promise<PushedArtifact>;
  get(kind: FluxKind, name: string): Promise<FluxObject>;
  /**
   * Asks the controller to reconcile now, as `flux reconcile` does (the requestedAt annotation),
   * and resolves with the object once its status says that request was handled.
   */
  reconcile(kind: FluxKind, name: string, timeoutMs?: number): Promise<FluxObject>;
  /** Polls the object until `predicate` holds; on timeout throws with its last conditions and the controllers' log tails. */
  waitFor(kind: FluxKind, name: string, predicate: (obj: FluxObject) => boolean, timeoutMs?: number, what?: string): Promise<FluxObject>;
  /** The Kubernetes Events the controllers recorded about one of their objects, oldest first. */
  events(kind: FluxKind, name: string): Promise<KubeEvent[]>;
  /** The last lines of each controller's log, for failure messages. */
  logTails(lines?: number): string;
  dispose(): Promise<void>;
}

/** The Ready condition of a Flux object, if any. */
export function readyCondition(obj: FluxObject | undefined): { status: string; reason?: string; message?: string } | undefined {
  return obj?.status?.conditions?.find((c) => c.type === 'Ready');
}

/** One line per condition: what a timeout or a failed expectation should show. */
export function describeStatus(obj: FluxObject | undefined): string {
  if (!obj) return '(object not found)';
  const conditions = (obj.status?.conditions ?? []).map((c) => `  ${c.type}=${c.status} ${c.reason ?? ''}: ${c.message ?? ''}`);
  const revisions = ['lastAppliedRevision', 'lastAttemptedRevision', 'lastHandledReconcileAt']
    .filter((k) => obj.status?.[k] !== undefined).map((k) => `  ${k}=${String(obj.status?.[k])}`);
  const artifact = obj.status?.artifact?.revision ? [`  artifact=${obj.status.artifact.revision}`] : [];
  return [`${obj.kind}/${obj.metadata.namespace}/${obj.metadata.name} generation ${obj.metadata.generation ?? '?'} observed ${obj.status?.observedGeneration ?? '?'}`,
    ...conditions, ...revisions, ...artifact].join('\n') || '(no status)';
}

export async function startFlux(opts: FluxOptions): Promise<Flux> {
  const binDir = findFluxBinaries();
  return setUpInTempDir('flux', async (dir) => {
    const started: ManagedProcess[] = [];
    try {
      return await setUp(dir, binDir, opts, started);
    } catch (error) {
      for (const proc of started.reverse()) await proc.stop('SIGKILL');
      throw error;
    }
  });
}

async function setUp(dir: string, binDir: string, opts: FluxOptions, started: ManagedProcess[]): Promise<Flux> {
  const { kube } = opts;
  const namespace = opts.namespace ?? 'flux-system';
  const caSecretName = opts.caSecretName ?? 'registry-ca';
  const crdsDir = opts.crdsDir ?? join(REPO_ROOT, 'charts', 'crds');
  const caPem = readFileSync(kube.caFile);

  // --- CRDs and namespace: the controllers watch every kind of their API groups from the start --
  const crdFiles = existsSync(crdsDir) ? readdirSync(crdsDir).filter((f) => f.endsWith('.yaml')).sort() : [];
  if (crdFiles.length === 0) throw new HarnessError(`${crdsDir}: no CustomResourceDefinitions (*.yaml)`);
  await kube.kubectl(['apply', '--server-side', '--field-manager=flux-harness', ...crdFiles.flatMap((f) => ['-f', join(crdsDir, f)])]);
  await kube.kubectl(['wait', '--for=condition=Established', '--timeout=120s', ...crdFiles.flatMap((f) => ['-f', join(crdsDir, f)])]);
  await expectCreated(kube.request('POST', '/api/v1/namespaces', { body: { metadata: { name: namespace } } }), `namespace ${namespace}`);
  await expectCreated(kube.request('POST', `/api/v1/namespaces/${namespace}/secrets`, {
    body: { metadata: { name: caSecretName }, stringData: { 'ca.crt': caPem.toString('utf8') } },
  }), `Secret ${namespace}/${caSecretName}`);

  // --- registry ----------------------------------------------------------------------------------
  const cert = await kube.ca.issue({ commonName: 'registry', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const registryConfig = join(dir, 'registry.yml');
  const registryLog = join(dir, 'registry.log');
  let registryPort = 0;
  const registry = new ManagedProcess({
    name: 'registry', command: join(binDir, 'registry'), args: ['serve', registryConfig], cwd: dir, logFile: registryLog, orphanDir: dir,
  });
  await startOnFreePorts(registry, async () => {
    registryPort = await freePort();
    // JSON is YAML: no quoting questions for the paths.
    await writeFile(registryConfig, JSON.stringify({
      version: 0.1,
      log: { level: 'warn', accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: join(dir, 'registry') } },
      http: { addr: `127.0.0.1:${registryPort}`, secret: randomSecret(), tls: { certificate: cert.certFile, key: cert.keyFile } },
    }));
  }, async () => {
    registry.start();
    started.push(registry);
    await waitReady(registry, async () => (await requestJson(`https://127.0.0.1:${registryPort}/v2/`, { ca: caPem, timeoutMs: 5000 })).status === 200, {
      timeoutMs: READY_TIMEOUT_MS, intervalMs: 100, what: `https://127.0.0.1:${registryPort}/v2/`,
    });
  });

  // --- controllers ------------------------------------------------------------------------------
  const controllers = await startFluxControllers({
    kubeconfig: kube.kubeconfig, namespace, dir, orphanDir: dir, binDir, onStarted: (proc) => started.push(proc),
  });
  const { sourceController, kustomizeController } = controllers;

  const logFiles = { registry: registryLog, ...controllers.logFiles };
  const { logTails } = controllers;
  const path = (kind: FluxKind, name?: string) => {
    const collection = `/${FLUX_RESOURCES[kind].replace('{ns}', namespace)}`;
    return name === undefined ? collection : `${collection}/${name}`;
  };

  const get = async (kind: FluxKind, name: string): Promise<FluxObject> => {
    const res = await kube.request<FluxObject>('GET', path(kind, name));
    if (res.status !== 200) throw new HarnessError(`GET ${kind} ${namespace}/${name}: ${res.status} ${res.text.slice(0, 500)}`);
    return res.body;
  };

  const waitFor: Flux['waitFor'] = async (kind, name, predicate, timeoutMs = DEFAULT_WAIT_MS, what) => {
    const deadline = Date.now() + timeoutMs;
    let last: FluxObject | undefined;
    let lastError: unknown;
    for (;;) {
      controllers.assertRunning(`${kind}/${name}${what ? ` (${what})` : ''}`);
      try {
        last = await get(kind, name);
        if (predicate(last)) return last;
      } catch (error) {
        lastError = error;
      }
      if (Date.now() > deadline) {
        const detail = lastError instanceof Error && !last ? `\nlast error: ${lastError.message}` : '';
        throw new HarnessError(`${kind} ${namespace}/${name}: ${what ?? 'condition'} not reached within ${timeoutMs} ms; last seen:\n${describeStatus(last)}${detail}\n${logTails()}`);
      }
      await sleep(250);
    }
  };

  const flux: Flux = {
    namespace,
    registry: `127.0.0.1:${registryPort}`,
    repositoryUrl: (repository) => `oci://127.0.0.1:${registryPort}/${repository}`,
    caSecretName,
    caFile: kube.caFile,
    dir,
    get pids() {
      return { registry: registry.runningPid, sourceController: sourceController.runningPid, kustomizeController: kustomizeController.runningPid };
    },
    logFiles,
    publish: (manifestsDir, o) => pushManifests({
      repository: `127.0.0.1:${registryPort}/${o.repository}`,
      tags: o.tags,
      manifestsDir,
      revision: o.revision,
      created: o.created ?? '2026-01-01T00:00:00Z',
      caFile: kube.caFile,
      oras: join(binDir, 'oras'),
    }),
    get,
    async reconcile(kind, name, timeoutMs = DEFAULT_WAIT_MS) {
      // RFC 3339 with nanoseconds, as the flux CLI writes it; unique per request.
      const requestedAt = new Date().toISOString();
      const res = await kube.request('PATCH', path(kind, name), {
        body: { metadata: { annotations: { [RECONCILE_REQUEST_ANNOTATION]: requestedAt } } },
        contentType: 'application/merge-patch+json',
      });
      if (res.status !== 200) throw new HarnessError(`annotate ${kind} ${namespace}/${name} for a reconcile: ${res.status} ${res.text.slice(0, 500)}`);
      return waitFor(kind, name, (o) => o.status?.lastHandledReconcileAt === requestedAt, timeoutMs, `the reconcile requested at ${requestedAt} handled`);
    },
    waitFor,
    async events(kind, name) {
      const selector = encodeURIComponent(`involvedObject.kind=${kind},involvedObject.name=${name}`);
      const res = await kube.request<{ items: KubeEvent[] }>('GET', `/api/v1/namespaces/${namespace}/events?fieldSelector=${selector}`);
      if (res.status !== 200) throw new HarnessError(`list the Events of ${kind}/${name}: ${res.status} ${res.text.slice(0, 500)}`);
      return res.body.items.sort((a, b) => (a.lastTimestamp ?? '').localeCompare(b.lastTimestamp ?? ''));
    },
    logTails,
    dispose: disposeOnce(dir, async () => {
      // Controllers before the registry they pull from; the cluster is the caller's to dispose of.
      for (const proc of [...started].reverse()) await proc.stop('SIGTERM', 15000);
    }),
  };
  return flux;
}

async function expectCreated(response: Promise<{ status: number; text: string }>, what: string): Promise<void> {
  const res = await response;
  if (res.status !== 201) throw new HarnessError(`create ${what}: ${res.status} ${res.text.slice(0, 500)}`);
}
