/**
 * Flux adopting a cluster that CDK deployed (docs/gitops.md): the workloads were applied by CDK's
 * kubectl handler (aws-cdk-lib's KubernetesManifest: `kubectl create --save-config` on the first
 * deploy, `kubectl apply --prune -l aws.cdk.eks/prune-<chart>` on later ones, one manifest per
 * chart, each object labelled with its chart's prune label), then the GitopsChart hands them to
 * Flux. Flux must take them over in place: same objects (UIDs), its field manager the only owner of
 * their fields afterwards, nothing deleted.
 *
 * As in reconcile.test.ts: a real kube-apiserver without kubelet (so `waitForHealth: false`), the
 * add-on namespaces and the bindings ConfigMap created first, as CDK provides them.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { revisionTag } from '../../charts/gitops-chart';
import { loadPlatformSpec } from '../../lib/spec';
import { GITOPS_OBJECT_NAME, configRepositoryName } from '../../lib/spec/topology';
import { readyCondition } from '../harness';
import type { Flux, KubeApiServer } from '../harness';
import {
  allManifests, applyGitopsChart, expectReady, inventoryKeys, objectKey, readManifests,
  removeRendered, renderEnvironment, rewriteManifests, substituteBindings,
  startGitopsCluster,
} from './cluster';
import type { ClusterReader, GitopsCluster, Manifest } from './cluster';

const spec = loadPlatformSpec();
const environment = spec.environments.staging;
const tag = revisionTag(environment.gitops.revision);
const repository = configRepositoryName(spec);
const name = GITOPS_OBJECT_NAME;
const APPLY_MS = 180000;
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const PRUNE_LABEL_PREFIX = 'aws.cdk.eks/prune-';
/** The field manager kustomize-controller applies with. */
const FLUX_MANAGER = 'kustomize-controller';

let kube: KubeApiServer;
let flux: Flux;
let reader: ClusterReader;
const rendered: string[] = [];

/**
 * Applies one environment's charts as CDK's kubectl handler does: one manifest per chart, the
 * namespaces chart first and the others after it, concurrently (CloudFormation runs independent
 * custom resources in parallel).
 */
async function deployWithCdk(dir: string, verb: 'create' | 'apply'): Promise<void> {
  const charts = [...readManifests(dir)];
  const deploy = async ([file, objects]: [string, Manifest[]]) => {
    // The construct's address is a 42-character hex; the chart's name stands in for it.
    const pruneLabel = `${PRUNE_LABEL_PREFIX}c8${createHash('sha1').update(file).digest('hex')}`;
    const labelled = objects.map((o) => substituteBindings({ ...o, metadata: { ...o.metadata, labels: { [pruneLabel]: '', ...o.metadata.labels } } }));
    // The handler writes the objects as a stream of JSON documents.
    const manifest = join(dir, '..', `cdk-${file}.json`);
    writeFileSync(manifest, labelled.map((o) => JSON.stringify(o)).join(''));
    // CDK's update also passes `--prune -l <pruneLabel>`: it deletes only labelled objects the chart
    // no longer has (none here) and leaves the applied objects' fields as they are, while its
    // per-namespace listing costs ~40 s of kubectl's client-side throttling here: left out.
    await kube.kubectl(verb === 'create' ? ['create', '-f', manifest, '--save-config'] : ['apply', '-f', manifest]);
  };
  await deploy(charts.find(([file]) => file === 'namespaces.k8s.yaml')!);
  await Promise.all(charts.filter(([file]) => file !== 'namespaces.k8s.yaml').map(deploy));
}

let cluster: GitopsCluster | undefined;

beforeAll(async () => {
  cluster = await startGitopsCluster(spec);
  ({ kube, flux, reader } = cluster);
}, 300000);

afterAll(async () => {
  await cluster?.dispose();
  for (const dir of rendered) removeRendered(dir);
});

test('adoption: objects CDK applied with kubectl are taken over in place, Flux the only field owner, nothing deleted', async () => {
  // Two CDK deploys: the first creates, the second (a new image) applies.
  const first = renderEnvironment(spec, environment, 'cdk1');
  const second = renderEnvironment(spec, environment, 'cdk2');
  rendered.push(first, second);
  await deployWithCdk(first, 'create');
  await deployWithCdk(second, 'apply');
  const manifests = allManifests(second);
  const before = await reader.getAll(manifests);
  expect(manifests.map(objectKey).filter((key) => !before.has(key))).toEqual([]);
  const managersBefore = new Set([...before.values()].flatMap((o) => managers(o)));
  expect(managersBefore).toEqual(new Set(['kubectl-create', 'kubectl-client-side-apply']));

  // The same commit's manifests, now published for Flux.
  const pushed = await flux.publish(second, { tags: [commitOf('cdk2'), tag], revision: commitOf('cdk2'), repository });
  await applyGitopsChart(kube, flux, spec, environment, repository);
  const k = await flux.waitFor('Kustomization', name,
    (o) => o.status?.lastAppliedRevision === `${tag}@${pushed.digest}` && readyCondition(o)?.status === 'True', APPLY_MS, 'Ready on the adopted revision');
  expectReady(flux, k);
  expect(inventoryKeys(k)).toEqual(manifests.map(objectKey).sort());

  const after = await reader.getAll(manifests);
  const problems = manifests.flatMap((m) => {
    const key = objectKey(m);
    const was = before.get(key);
    const now = after.get(key);
    if (!now) return [`${key}: deleted`];
    return [
      ...(now.metadata.uid === was.metadata.uid ? [] : [`${key}: recreated (uid ${was.metadata.uid} -> ${now.metadata.uid})`]),
      ...(equalSets(managers(now), [FLUX_MANAGER]) ? [] : [`${key}: field managers ${managers(now).join(', ')}`]),
      ...(now.metadata.annotations?.[LAST_APPLIED] === undefined ? [] : [`${key}: still has ${LAST_APPLIED}`]),
    ];
  });
  if (problems.length > 0) throw new Error(`adoption:\n${problems.join('\n')}\n${flux.logTails()}`);
  // Every field entry is an Apply of Flux (kubectl's Update entries merged into it).
  for (const obj of after.values()) {
    expect(fieldEntries(obj).map((e) => `${e.manager}:${e.operation}`)).toEqual([`${FLUX_MANAGER}:Apply`]);
  }
  // CDK's prune labels went with kubectl's ownership: a later `kubectl apply --prune -l` of CDK selects nothing.
  const stillLabelled = [...after].filter(([, o]) => Object.keys(o.metadata.labels ?? {}).some((l) => l.startsWith(PRUNE_LABEL_PREFIX))).map(([key]) => key);
  expect(stillLabelled).toEqual([]);

  // Owning the fields means a revision that drops one removes it (a co-owner would keep it alive).
  const configMap = manifests.find((m) => m.kind === 'ConfigMap' && m.data && Object.keys(m.data).length > 1)!;
  const droppedKey = Object.keys(configMap.data as object)[0]!;
  const file = [...readManifests(second)].find(([, objects]) => objects.some((o) => objectKey(o) === objectKey(configMap)))![0];
  const next = renderEnvironment(spec, environment, 'cdk2');
  rendered.push(next);
  rewriteManifests(next, file, (objects) => objects.map((o): Manifest => objectKey(o) === objectKey(configMap)
    ? { ...o, data: Object.fromEntries(Object.entries(o.data as object).filter(([key]) => key !== droppedKey)) } : o));
  const pushedNext = await flux.publish(next, { tags: [commitOf('cdk3'), tag], revision: commitOf('cdk3'), repository, created: '2026-01-02T00:00:00Z' });
  await flux.reconcile('OCIRepository', name);
  await flux.waitFor('Kustomization', name, (o) => o.status?.lastAppliedRevision === `${tag}@${pushedNext.digest}` && readyCondition(o)?.status === 'True',
    APPLY_MS, 'Ready on the revision that drops a ConfigMap key');
  const live = await reader.get(configMap);
  expect(Object.keys(live.data)).not.toContain(droppedKey);
  expect(live.metadata.uid).toBe(before.get(objectKey(configMap)).metadata.uid);
});

const commitOf = (label: string) => createHash('sha1').update(label).digest('hex');

/** The managedFields entries of the object itself (status subresource entries left out). */
function fieldEntries(obj: any): Array<{ manager: string; operation: string }> {
  return (obj.metadata.managedFields ?? []).filter((e: { subresource?: string }) => !e.subresource);
}

function managers(obj: any): string[] {
  return [...new Set(fieldEntries(obj).map((e) => e.manager))].sort();
}

function equalSets(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
