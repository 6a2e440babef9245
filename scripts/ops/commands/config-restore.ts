/**
 * `ops config-restore <env> [--execute]`: the configuration DR drill (disasterRecovery.configuration,
 * docs/gitops.md). Brings a cluster that has the Flux add-on and the bindings (what `cdk deploy`
 * of the Cluster stack gives a new cluster) to the environment's recorded revision: points Flux at
 * it, waits for the artifact, for every object applied (and healthy), and times each step against
 * the spec's RTO. Dry run by default: prints the steps and the objects it would apply.
 */
import { App } from 'cdk8s';
import { durationSeconds } from '../../../lib/spec';
import type { ChartEnvironment, PlatformSpec } from '../../../lib/spec';
import { configRepositoryUrl, GITOPS_OBJECT_NAME } from '../../../lib/spec/topology';
import { GitopsChart, revisionTag } from '../../../charts/gitops-chart';
import type { GitopsSource } from '../../../charts/gitops-chart';
import { BINDINGS_CONFIGMAP } from '../../../charts/lib/bindings-variables';
import { EXECUTE_FLAG, OpsError, soleEnvironmentArg } from '../command';
import type { OpsArgs, OpsCommand } from '../command';
import { condition, KUBE_OPTIONS, kubeFromArgs } from '../kube';
import type { Kube, KubeObject } from '../kube';
import { OfflinePlanBuilder } from '../offline-plan';

const SOURCE_URL_FLAG = 'source-url';
const SOURCE_CA_FLAG = 'source-ca-secret';
const SKIP_HEALTH_FLAG = 'skip-health';
/** The CRDs the Flux add-on installs and the drill's objects need. */
const FLUX_CRDS = ['ocirepositories.source.toolkit.fluxcd.io', 'kustomizations.kustomize.toolkit.fluxcd.io'];
const FIELD_MANAGER = 'platform-ops';
const POLL_MS = 2000;

export type RestoreStepName = 'reconciler' | 'source' | 'apply' | 'verify';

export interface RestoreStep {
  readonly step: RestoreStepName;
  readonly action: string;
  /** Seconds the step took; null in a dry run. */
  readonly seconds: number | null;
  readonly detail: string | null;
}

export interface ConfigRestoreResult {
  readonly environment: string;
  readonly mode: 'plan' | 'executed';
  /** The OCI tag the environment's revision names (spec environments.<env>.gitops.revision). */
  readonly revision: string;
  readonly source: string;
  /** disasterRecovery.configuration.rto in seconds. */
  readonly budgetSeconds: number;
  readonly healthChecked: boolean;
  /** The objects the drill applies (kind namespace/name). */
  readonly objects: readonly string[];
  readonly steps: readonly RestoreStep[];
  readonly appliedRevision: string | null;
  /** Objects Flux applied and the drill found in the cluster. */
  readonly objectsApplied: number | null;
  readonly totalSeconds: number | null;
  readonly withinBudget: boolean | null;
}

export interface RestoreOptions {
  /** An AWS environment of the spec, or the local one (scripts/local-cluster/gitops.ts). */
  readonly environment: ChartEnvironment;
  /** @default the environment's ECR repository */
  readonly source?: GitopsSource;
  /** False only for an API server without nodes (--skip-health). */
  readonly waitForHealth: boolean;
}

function restoreOptions(spec: PlatformSpec, args: OpsArgs): RestoreOptions {
  const environment = soleEnvironmentArg(spec, args);
  const url = args.values[SOURCE_URL_FLAG];
  const ca = args.values[SOURCE_CA_FLAG];
  if (typeof ca === 'string' && typeof url !== 'string') throw new OpsError(`--${SOURCE_CA_FLAG} needs --${SOURCE_URL_FLAG} (the environment's ECR needs no CA)`);
  if (typeof url === 'string' && !/^oci:\/\/[^/\s]+\/\S+$/.test(url)) throw new OpsError(`--${SOURCE_URL_FLAG} ${url}: must be oci://<registry>/<repository>`);
  return {
    environment,
    source: typeof url === 'string' ? { url, ...(typeof ca === 'string' ? { caSecretName: ca } : {}) } : undefined,
    waitForHealth: args.values[SKIP_HEALTH_FLAG] !== true,
  };
}

/** The objects the drill applies: the environment's GitOps chart, as CDK applies it. */
export function gitopsObjects(spec: PlatformSpec, options: RestoreOptions): KubeObject[] {
  const chart = new GitopsChart(new App(), 'gitops', {
    spec, environment: options.environment, source: options.source, waitForHealth: options.waitForHealth,
  });
  return chart.toJson() as KubeObject[];
}

function describe(object: KubeObject): string {
  return `${object.kind} ${object.metadata.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata.name}`;
}

function plannedSteps(spec: PlatformSpec, options: RestoreOptions, source: string, tag: string): RestoreStep[] {
  const namespace = spec.clusterAddons.flux.namespace;
  return [
    { step: 'reconciler', action: `check the Flux add-on (CRDs ${FLUX_CRDS.join(', ')}), namespace ${namespace} and the bindings ConfigMap ${namespace}/${BINDINGS_CONFIGMAP}`, seconds: null, detail: null },
    { step: 'source', action: `apply OCIRepository and Kustomization ${namespace}/${GITOPS_OBJECT_NAME}; wait until ${source}:${tag} is fetched`, seconds: null, detail: null },
    { step: 'apply', action: `wait until Flux has applied that artifact${options.waitForHealth ? ' and every object is healthy' : ' (health not checked)'}`, seconds: null, detail: null },
    { step: 'verify', action: 'check every object of the Kustomization\'s inventory exists', seconds: null, detail: null },
  ];
}

/** Polls `read` until `done` says so or the deadline passes; the error names `what` and the last state. */
async function waitUntil<T>(what: string, deadline: number, read: () => Promise<T>, done: (value: T) => boolean, state: (value: T) => string): Promise<T> {
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() >= deadline) throw new OpsError(`${what}: not done within the RTO budget; last state: ${state(value)}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

const conditionText = (object: KubeObject | undefined) => (object?.status?.conditions ?? [])
  .map((c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''}`).join('; ') || 'no status yet';

async function checkReconciler(kube: Kube, spec: PlatformSpec): Promise<string> {
  const namespace = spec.clusterAddons.flux.namespace;
  for (const name of FLUX_CRDS) {
    const crd = await kube.get('customresourcedefinition', name);
    if (condition(crd, 'Established')?.status !== 'True') {
      throw new OpsError(`the Flux add-on is not installed (CRD ${name} ${crd ? 'not established' : 'missing'}): deploy the environment's Cluster stack first (it installs Flux and writes the bindings)`);
    }
  }
  if (!await kube.get('namespace', namespace)) throw new OpsError(`namespace ${namespace} missing: deploy the environment's Cluster stack first`);
  const bindings = await kube.get('configmap', BINDINGS_CONFIGMAP, namespace);
  if (!bindings) throw new OpsError(`ConfigMap ${namespace}/${BINDINGS_CONFIGMAP} missing: the deploy-time values come from the Cluster stack's deploy`);
  return `Flux CRDs established, ${Object.keys(bindings.data ?? {}).length} bindings`;
}

/**
 * Every object of the Kustomization's inventory, looked up in the cluster: one `kubectl get` per
 * namespace (the cluster-scoped objects together), the namespaces at once, since a process per
 * object made this step take seconds per ten objects. Resolves with the count; rejects naming
 * each object missing.
 */
export async function verifyInventory(kube: Kube, kustomization: KubeObject): Promise<number> {
  const entries = kustomization.status?.inventory?.entries ?? [];
  if (entries.length === 0) throw new OpsError('the Kustomization lists no applied object');
  const wanted = entries.map(({ id, v }) => {
    // id: <namespace>_<name>_<group>_<kind>; names hold no underscore, the group may be empty.
    const [namespace = '', name = '', group = '', kind = ''] = id.split('_');
    return {
      namespace, ref: `${group ? `${kind}.${v}.${group}` : kind}/${name}`, key: `${group}/${kind}/${name}`,
      label: `${kind} ${namespace ? `${namespace}/` : ''}${name}`,
    };
  });
  const found = new Set<string>();
  await Promise.all([...new Set(wanted.map((w) => w.namespace))].map(async (namespace) => {
    const refs = wanted.filter((w) => w.namespace === namespace).map((w) => w.ref);
    const out = await kube.kubectl(['get', ...refs, ...(namespace ? ['-n', namespace] : []), '-o', 'json', '--ignore-not-found']);
    // Several names print a List of those found; a single one prints the object itself.
    const parsed = out.trim() ? JSON.parse(out) as KubeObject & { items?: KubeObject[] } : undefined;
    const objects = parsed === undefined ? [] : Array.isArray(parsed.items) ? parsed.items : [parsed];
    for (const o of objects) {
      const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
      found.add(`${namespace}:${group}/${o.kind}/${o.metadata.name}`);
    }
  }));
  const missing = wanted.filter((w) => !found.has(`${w.namespace}:${w.key}`)).map((w) => w.label);
  if (missing.length > 0) throw new OpsError(`applied but missing from the cluster: ${missing.join(', ')}`);
  return entries.length;
}

/** What the plan and the run share: the tag, the result's head, the steps and the objects applied. */
function restoreBase(spec: PlatformSpec, options: RestoreOptions) {
  const { environment } = options;
  const objects = gitopsObjects(spec, options);
  const tag = revisionTag(environment.gitops.revision);
  const source = options.source?.url ?? `oci://${configRepositoryUrl(spec, environment)}`;
  const budgetSeconds = durationSeconds(spec.disasterRecovery.configuration!.rto);
  return {
    tag,
    objects,
    base: {
      environment: environment.name, revision: tag, source, budgetSeconds, healthChecked: options.waitForHealth,
      objects: objects.map(describe),
    },
    planned: plannedSteps(spec, options, source, tag),
  };
}

/** The drill's dry run: the steps and the objects it would apply, nothing touched. */
export function planRestore(spec: PlatformSpec, options: RestoreOptions): ConfigRestoreResult {
  const { base, planned } = restoreBase(spec, options);
  return { ...base, mode: 'plan', steps: planned, appliedRevision: null, objectsApplied: null, totalSeconds: null, withinBudget: null };
}

/**
 * The drill itself (`config-restore <env> --execute`): points Flux at the environment's revision
 * and times each step until every object is applied (and healthy), within the RTO or failing.
 */
export async function executeRestore(kube: Kube, spec: PlatformSpec, options: RestoreOptions, log: (line: string) => void): Promise<ConfigRestoreResult> {
  const { tag, objects, base, planned } = restoreBase(spec, options);
  const { budgetSeconds } = base;
  const namespace = spec.clusterAddons.flux.namespace;
  const started = Date.now();
  const deadline = started + budgetSeconds * 1000;
  const steps: RestoreStep[] = [];
  const timed = async <T>(index: number, body: () => Promise<{ value: T; detail: string }>): Promise<T> => {
    const stepStarted = Date.now();
    log(`${planned[index]!.step}: ${planned[index]!.action}`);
    const { value, detail } = await body();
    const seconds = Math.round((Date.now() - stepStarted) / 100) / 10;
    steps.push({ ...planned[index]!, seconds, detail });
    log(`${planned[index]!.step}: done in ${seconds} s (${detail})`);
    return value;
  };

  await timed(0, async () => ({ value: undefined, detail: await checkReconciler(kube, spec) }));
  const artifactRevision = await timed(1, async () => {
    await kube.kubectl(['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '--force-conflicts', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
    const repository = await waitUntil(`OCIRepository ${namespace}/${GITOPS_OBJECT_NAME}`, deadline,
      () => kube.get('ocirepository.source.toolkit.fluxcd.io', GITOPS_OBJECT_NAME, namespace),
      (r) => condition(r, 'Ready')?.status === 'True' && String(r?.status?.artifact?.revision ?? '').startsWith(`${tag}@`)
        && r?.status?.observedGeneration === r?.metadata?.generation,
      conditionText);
    const revision = String(repository?.status?.artifact?.revision);
    return { value: revision, detail: `artifact ${revision}` };
  });
  const kustomization = await timed(2, async () => {
    // A Kustomization that existed before (a re-run) reconciles now instead of at its interval.
    await kube.kubectl(['annotate', '-n', namespace, 'kustomization.kustomize.toolkit.fluxcd.io', GITOPS_OBJECT_NAME,
      `reconcile.fluxcd.io/requestedAt=${new Date().toISOString()}`, '--overwrite']);
    const applied = await waitUntil(`Kustomization ${namespace}/${GITOPS_OBJECT_NAME}`, deadline,
      () => kube.get('kustomization.kustomize.toolkit.fluxcd.io', GITOPS_OBJECT_NAME, namespace),
      (k) => condition(k, 'Ready')?.status === 'True' && k?.status?.lastAppliedRevision === artifactRevision,
      conditionText);
    return { value: applied!, detail: `applied ${applied?.status?.lastAppliedRevision}${options.waitForHealth ? ', healthy' : ''}` };
  });
  const objectsApplied = await timed(3, async () => {
    const count = await verifyInventory(kube, kustomization);
    return { value: count, detail: `${count} objects present` };
  });
  const totalSeconds = Math.round((Date.now() - started) / 100) / 10;
  return {
    ...base, mode: 'executed', steps, appliedRevision: artifactRevision, objectsApplied, totalSeconds,
    withinBudget: totalSeconds <= budgetSeconds,
  };
}

export const configRestoreCommand: OpsCommand<ConfigRestoreResult> = {
  name: 'config-restore',
  summary: 'configuration DR drill: bring a cluster to the recorded revision and time it against the RTO (dry run unless --execute)',
  usage: `config-restore <env> [--${EXECUTE_FLAG}] [--kubeconfig <file>] [--context <name>] [--${SOURCE_URL_FLAG} oci://... [--${SOURCE_CA_FLAG} <secret>]] [--${SKIP_HEALTH_FLAG}]`,
  options: {
    [EXECUTE_FLAG]: { type: 'boolean' }, ...KUBE_OPTIONS,
    [SOURCE_URL_FLAG]: { type: 'string' }, [SOURCE_CA_FLAG]: { type: 'string' }, [SKIP_HEALTH_FLAG]: { type: 'boolean' },
  },
  async run(args, { spec, log }) {
    const options = restoreOptions(spec, args);
    if (args.values[EXECUTE_FLAG] !== true) return planRestore(spec, options);
    return executeRestore(kubeFromArgs(args), spec, options, log);
  },
  offline(args, context) {
    const { spec } = context;
    const options = restoreOptions(spec, args);
    const { environment } = options;
    const plan = new OfflinePlanBuilder(context, 'config-restore', environment.name);
    const tag = revisionTag(environment.gitops.revision);
    const source = options.source?.url ?? `oci://${configRepositoryUrl(spec, environment)}`;
    plan.unknown('cluster', 'the cluster the kubeconfig points at, and whether the Flux add-on and the bindings are in it; online: kubectl get crd / configmap');
    plan.unknown('artifactDigest', `the digest ${source}:${tag} resolves to; online: the OCIRepository's status.artifact.revision`);
    for (const step of plannedSteps(spec, options, source, tag)) {
      plan.step({ region: environment.region, call: `kubernetes:${step.step}`, target: step.step === 'source' ? `${spec.clusterAddons.flux.namespace}/${GITOPS_OBJECT_NAME}` : '<unknown:cluster>', kind: step.step === 'source' ? 'change' : 'read', purpose: step.action });
    }
    plan.note(`budget: disasterRecovery.configuration.rto = ${spec.disasterRecovery.configuration!.rto}`);
    return plan.build(`bring ${environment.name}'s cluster to revision ${tag} with Flux`);
  },
  render(r) {
    const head = r.mode === 'plan'
      ? `PLAN (dry run, nothing changed; re-run with --${EXECUTE_FLAG} to act): restore ${r.environment}'s configuration to ${r.source}:${r.revision} (budget ${r.budgetSeconds} s, the configuration RTO)`
      : `${r.withinBudget ? 'RESTORED' : 'RESTORED, OVER BUDGET'}: ${r.environment} at ${r.appliedRevision}, ${r.objectsApplied} objects, ${r.totalSeconds} s of ${r.budgetSeconds} s (configuration RTO)`;
    return [
      head,
      'steps:',
      ...r.steps.map((s) => `  ${s.step.padEnd(10)} ${s.seconds === null ? '' : `${String(s.seconds).padStart(7)} s  `}${s.action}${s.detail ? ` -> ${s.detail}` : ''}`),
      'objects applied by the drill:',
      ...r.objects.map((o) => `  ${o}`),
      ...(r.healthChecked ? [] : ['health: not checked (--skip-health)']),
    ].join('\n');
  },
  exitCode: (r) => (r.withinBudget === false ? 1 : 0),
};
