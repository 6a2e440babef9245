// Shared by the GitOps tests: the rendered manifests of an environment, the objects they name,
// what CDK provides before Flux runs, and reading those objects back from the cluster.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'cdk8s';
import { parseAllDocuments, stringify } from 'yaml';
import { GitopsChart } from '../../charts/gitops-chart';
import { BINDINGS_CONFIGMAP, bindingsVariables } from '../../charts/lib/bindings-variables';
import { renderCharts } from '../../charts/main';
import { addOnNamespaces } from '../../charts/namespaces-chart';
import { EXAMPLE_BINDINGS } from '../../charts/schemas/example-bindings';
import type { EnvironmentSpec, PlatformSpec } from '../../lib/spec';
import type { Flux, FluxObject, KubeApiServer } from '../harness';
import { describeStatus, readyCondition, startFlux, startKubeApiServer } from '../harness';

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: any };
  [key: string]: any;
}

/** The deploy-time values CDK writes into the bindings ConfigMap (the example ones AWS would give). */
export const BINDING_VALUES: Readonly<Record<string, string>> = bindingsVariables(EXAMPLE_BINDINGS);

/** Renders every environment's charts into a new temp dir; returns `<dir>/<environment>`. */
export function renderEnvironment(spec: PlatformSpec, environment: EnvironmentSpec, imageTag: string): string {
  const root = mkdtempSync(join(tmpdir(), 'platform-gitops-render-'));
  renderCharts(spec, root, { imageTag });
  return join(root, environment.name);
}

export function removeRendered(dir: string | undefined): void {
  if (dir) rmSync(join(dir, '..'), { recursive: true, force: true });
}

/** The objects of every *.yaml of a rendered folder, per file. */
export function readManifests(dir: string): Map<string, Manifest[]> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
  return new Map(files.map((file) => [file, parseAllDocuments(readFileSync(join(dir, file), 'utf8'))
    .map((doc) => doc.toJS() as Manifest).filter((m) => m && m.kind)]));
}

/** Rewrites one rendered file with `edit`'s objects: a revision that differs from the charts' output. */
export function rewriteManifests(dir: string, file: string, edit: (objects: Manifest[]) => Manifest[]): void {
  const objects = readManifests(dir).get(file);
  if (!objects) throw new Error(`${dir}: no ${file}`);
  writeFileSync(join(dir, file), edit(objects).map((o) => stringify(o)).join('---\n'));
}

export const allManifests = (dir: string): Manifest[] => [...readManifests(dir).values()].flat();

/** `group/Kind/namespace/name` (core group empty, cluster-scoped namespace empty): one object. */
export function objectKey(m: Pick<Manifest, 'apiVersion' | 'kind' | 'metadata'>): string {
  const group = m.apiVersion.includes('/') ? m.apiVersion.split('/')[0] : '';
  return `${group}/${m.kind}/${m.metadata.namespace ?? ''}/${m.metadata.name}`;
}

/** A Kustomization's inventory as object keys: entries are `<namespace>_<name>_<group>_<kind>`. */
export function inventoryKeys(kustomization: FluxObject): string[] {
  return (kustomization.status?.inventory?.entries ?? []).map(({ id }) => {
    const [namespace, name, group, kind] = id.split('_');
    return `${group}/${kind}/${namespace}/${name}`;
  }).sort();
}

/** Replaces `${NAME}` as Flux's post-build substitution does with the bindings ConfigMap. */
export function substituteBindings<T>(value: T): T {
  return JSON.parse(JSON.stringify(value).replace(/\$\{([A-Z0-9_]+)\}/g, (whole, name: string) => BINDING_VALUES[name] ?? whole)) as T;
}

/**
 * What the cluster holds before Flux runs, from CDK: the add-on namespaces (the Helm add-ons
 * create them, and the rendered manifests put objects in them) and the bindings ConfigMap in
 * the Flux namespace (the deploy-time values the Kustomization substitutes).
 */
export async function provideCdkPrerequisites(kube: KubeApiServer, spec: PlatformSpec): Promise<void> {
  for (const name of addOnNamespaces(spec)) {
    const res = await kube.request('POST', '/api/v1/namespaces', { body: { metadata: { name } } });
    if (res.status !== 201 && res.status !== 409) throw new Error(`create namespace ${name}: ${res.status} ${res.text}`);
  }
  const namespace = spec.clusterAddons.flux.namespace;
  const res = await kube.request('POST', `/api/v1/namespaces/${namespace}/configmaps`, {
    body: { metadata: { name: BINDINGS_CONFIGMAP, namespace }, data: BINDING_VALUES },
  });
  if (res.status !== 201) throw new Error(`create ConfigMap ${namespace}/${BINDINGS_CONFIGMAP}: ${res.status} ${res.text}`);
}

/**
 * Applies the environment's GitopsChart pointed at the harness registry, the way CDK applies it
 * (kubectl apply). `waitForHealth: false`: no kubelet runs, so no Deployment ever becomes available.
 */
export async function applyGitopsChart(kube: KubeApiServer, flux: Flux, spec: PlatformSpec, environment: EnvironmentSpec, repository: string): Promise<GitopsChart> {
  const app = new App();
  const chart = new GitopsChart(app, 'gitops', {
    spec, environment, waitForHealth: false, source: { url: flux.repositoryUrl(repository), caSecretName: flux.caSecretName },
  });
  await kube.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: chart.toJson() }));
  return chart;
}

/** Fails with the Kustomization's status and the controllers' logs unless it is Ready. */
export function expectReady(flux: Flux, obj: FluxObject): void {
  if (readyCondition(obj)?.status !== 'True') throw new Error(`not Ready:\n${describeStatus(obj)}\n${flux.logTails()}`);
}

/** Reads objects by key through API discovery (one GET each), undefined for a 404. */
export class ClusterReader {
  private readonly resources = new Map<string, Promise<Map<string, { name: string; namespaced: boolean }>>>();

  constructor(private readonly kube: KubeApiServer) {}

  async path(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<string> {
    let found = this.resources.get(apiVersion);
    if (!found) {
      found = this.kube.request('GET', apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`).then((res) => {
        if (res.status !== 200) throw new Error(`discovery of ${apiVersion}: ${res.status} ${res.text}`);
        return new Map((res.body.resources as Array<{ name: string; kind: string; namespaced: boolean }>)
          .filter((r) => !r.name.includes('/')).map((r) => [r.kind, { name: r.name, namespaced: r.namespaced }]));
      });
      this.resources.set(apiVersion, found);
    }
    const resource = (await found).get(kind);
    if (!resource) throw new Error(`${apiVersion} serves no kind ${kind}`);
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    return resource.namespaced ? `${base}/namespaces/${namespace}/${resource.name}/${name}` : `${base}/${resource.name}/${name}`;
  }

  async get(m: Pick<Manifest, 'apiVersion' | 'kind' | 'metadata'>): Promise<any> {
    const res = await this.kube.request('GET', await this.path(m.apiVersion, m.kind, m.metadata.namespace, m.metadata.name));
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`GET ${objectKey(m)}: ${res.status} ${res.text}`);
    return res.body;
  }

  /** Every object of `manifests` as the cluster holds it, by objectKey (absent ones left out). */
  async getAll(manifests: readonly Manifest[]): Promise<Map<string, any>> {
    const live = new Map<string, any>();
    for (const m of manifests) {
      const obj = await this.get(m);
      if (obj) live.set(objectKey(m), obj);
    }
    return live;
  }

  async delete(m: Pick<Manifest, 'apiVersion' | 'kind' | 'metadata'>): Promise<void> {
    const res = await this.kube.request('DELETE', await this.path(m.apiVersion, m.kind, m.metadata.namespace, m.metadata.name));
    if (res.status !== 200 && res.status !== 202) throw new Error(`DELETE ${objectKey(m)}: ${res.status} ${res.text}`);
  }

  /** A JSON patch (RFC 6902), as a hand edit (`kubectl edit`, `kubectl patch --type=json`) sends it, under its field manager. */
  async patch(m: Pick<Manifest, 'apiVersion' | 'kind' | 'metadata'>, operations: unknown[], manager = 'kubectl-edit'): Promise<any> {
    const path = await this.path(m.apiVersion, m.kind, m.metadata.namespace, m.metadata.name);
    const res = await this.kube.request('PATCH', `${path}?fieldManager=${manager}`, { body: operations, contentType: 'application/json-patch+json' });
    if (res.status !== 200) throw new Error(`PATCH ${objectKey(m)}: ${res.status} ${res.text}`);
    return res.body;
  }
}

/**
 * The paths where `live` differs from what `desired` sets (every field the manifest gives must
 * be there with that value; the API server's defaults and status come on top).
 */
export function differences(desired: unknown, live: unknown, path = ''): string[] {
  if (desired === null || typeof desired !== 'object') {
    return desired === live ? [] : [`${path}: want ${JSON.stringify(desired)}, got ${JSON.stringify(live)}`];
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return [`${path}: want ${desired.length} items, got ${JSON.stringify(live)?.slice(0, 200)}`];
    return desired.flatMap((d, i) => differences(d, live[i], `${path}[${i}]`));
  }
  if (live === null || typeof live !== 'object') return [`${path}: missing`];
  return Object.entries(desired).flatMap(([k, v]) => differences(v, (live as Record<string, unknown>)[k], `${path}.${k}`));
}

/** The containers' images of every Deployment among `manifests`, as the cluster holds them. */
export async function liveImages(reader: ClusterReader, manifests: readonly Manifest[]): Promise<Map<string, string[]>> {
  const images = new Map<string, string[]>();
  for (const m of manifests.filter((x) => x.kind === 'Deployment')) {
    const live = await reader.get(m);
    images.set(objectKey(m), (live?.spec?.template?.spec?.containers ?? []).map((c: { image: string }) => c.image));
  }
  return images;
}

/** The containers' images of every Deployment among `manifests`, as rendered. */
export function renderedImages(manifests: readonly Manifest[]): Map<string, string[]> {
  return new Map(manifests.filter((m) => m.kind === 'Deployment')
    .map((m) => [objectKey(m), (m.spec.template.spec.containers as Array<{ image: string }>).map((c) => c.image)]));
}

export interface GitopsCluster {
  readonly kube: KubeApiServer;
  readonly flux: Flux;
  readonly reader: ClusterReader;
  dispose(): Promise<void>;
}

/** A kube-apiserver with Flux in the spec's namespace and what CDK provides before Flux runs. */
export async function startGitopsCluster(spec: PlatformSpec): Promise<GitopsCluster> {
  const kube = await startKubeApiServer({ controllers: [] });
  try {
    const flux = await startFlux({ kube, namespace: spec.clusterAddons.flux.namespace });
    const cluster = {
      kube, flux, reader: new ClusterReader(kube),
      async dispose() {
        await flux.dispose();
        await kube.dispose();
      },
    };
    await provideCdkPrerequisites(kube, spec).catch(async (error) => {
      await cluster.dispose();
      throw error;
    });
    return cluster;
  } catch (error) {
    await kube.dispose();
    throw error;
  }
}
