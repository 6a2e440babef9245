/**
 * Flux reconciling the staging environment for real (docs/gitops.md): the rendered dist/staging/
 * pushed as an OCI artifact to a registry on loopback, the environment's GitopsChart (its
 * OCIRepository and Kustomization as the spec gives them) pointed at that registry, and Flux's own
 * source-controller and kustomize-controller applying it to a real kube-apiserver.
 *
 * - No kubelet or scheduler runs: Deployments never become available, so the Kustomization does
 *   not wait for health (`waitForHealth: false`); everything else is the spec's.
 * - What CDK provides before Flux runs is created first: the add-on namespaces (the Helm add-ons
 *   create them; the rendered manifests put objects in them) and the bindings ConfigMap in the Flux
 *   namespace, from which the Kustomization substitutes the `${...}` placeholders.
 *
 * The tests run in order on one cluster: converge, drift, rollout, then a refused revision.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GITOPS_OBJECT_NAME, configRepositoryName } from '../../lib/spec/topology';
import { loadPlatformSpec } from '../../lib/spec';
import { revisionTag } from '../../charts/gitops-chart';
import { describeStatus, findFluxBinaries, readyCondition } from '../harness';
import type { Flux, FluxObject, KubeApiServer } from '../harness';
import {
  allManifests, applyGitopsChart, differences, expectReady, inventoryKeys, liveImages, objectKey,
  readManifests, removeRendered, renderedImages, renderEnvironment, rewriteManifests, substituteBindings,
  startGitopsCluster,
} from './cluster';
import type { ClusterReader, GitopsCluster, Manifest } from './cluster';

const spec = loadPlatformSpec();
const environment = spec.environments.staging;
// staging follows a branch: every publish moves that tag, as CI's push of main does.
const tag = revisionTag(environment.gitops.revision);
const repository = configRepositoryName(spec);
const name = GITOPS_OBJECT_NAME;
// Budget for one apply of the whole platform on a loaded 2-core machine (it takes seconds).
const APPLY_MS = 180000;

const commit = (label: string) => createHash('sha1').update(label).digest('hex');
const revisionOf = (digest: string) => `${tag}@${digest}`;

let kube: KubeApiServer;
let flux: Flux;
let reader: ClusterReader;
const rendered: string[] = [];
const published: Array<{ dir: string; digest: string; manifests: Manifest[] }> = [];

async function publish(imageTag: string, edit?: (dir: string) => void, created = '2026-01-01T00:00:00Z') {
  const dir = renderEnvironment(spec, environment, imageTag);
  rendered.push(dir);
  edit?.(dir);
  const pushed = await flux.publish(dir, { tags: [commit(imageTag), tag], revision: commit(imageTag), repository, created });
  const entry = { dir, digest: pushed.digest, manifests: allManifests(dir) };
  published.push(entry);
  return entry;
}

/** Source-controller sees the moved tag at once (not a sourceInterval later); the Kustomization follows its source. */
async function pullAndWait(predicate: (k: FluxObject) => boolean, what: string): Promise<FluxObject> {
  await flux.reconcile('OCIRepository', name);
  return flux.waitFor('Kustomization', name, predicate, APPLY_MS, what);
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

describe('Flux reconciles staging to the published revision', () => {
  test('converge: an empty cluster reaches the revision, every rendered object applied, bindings substituted', async () => {
    const first = await publish('rev1');
    await applyGitopsChart(kube, flux, spec, environment, repository);
    const k = await flux.waitFor('Kustomization', name,
      (o) => o.status?.lastAppliedRevision === revisionOf(first.digest) && readyCondition(o)?.status === 'True', APPLY_MS,
      `Ready with revision ${revisionOf(first.digest)}`);
    expectReady(flux, k);
    const source = await flux.get('OCIRepository', name);
    expect(source.status?.artifact?.revision).toBe(revisionOf(first.digest));

    // The inventory is exactly the rendered objects: no more, no fewer.
    const wanted = first.manifests.map(objectKey).sort();
    expect(new Set(wanted).size).toBe(wanted.length);
    expect(inventoryKeys(k)).toEqual(wanted);

    // Each exists, with every field the manifest sets (placeholders filled from the bindings).
    const live = await reader.getAll(first.manifests);
    expect(wanted.filter((key) => !live.has(key))).toEqual([]);
    const mismatches = first.manifests.flatMap((m) => differences(substituteBindings(m), live.get(objectKey(m))).map((d) => `${objectKey(m)} ${d}`));
    expect(mismatches).toEqual([]);
    // Whether or not this revision carries placeholders, none reaches the cluster unfilled.
    const placeholders = first.manifests.filter((m) => JSON.stringify(m).includes('${'));
    expect([...live.entries()].filter(([, o]) => JSON.stringify(o).includes('${')).map(([key]) => key)).toEqual([]);
    // Every object carries the Kustomization's ownership labels.
    for (const obj of live.values()) {
      expect(obj.metadata.labels).toMatchObject({ 'kustomize.toolkit.fluxcd.io/name': name, 'kustomize.toolkit.fluxcd.io/namespace': flux.namespace });
    }
    console.log(`converge: ${wanted.length} objects applied; ${placeholders.length} carried binding placeholders`);
  });

  test('drift: hand edits (a deleted NetworkPolicy, a changed image, changed ConfigMap data) are reverted and reported', async () => {
    const manifests = published[0]!.manifests;
    const policy = manifests.find((m) => m.kind === 'NetworkPolicy' && m.metadata.name === 'default-deny')!;
    const deployment = manifests.find((m) => m.kind === 'Deployment')!;
    const configMap = manifests.find((m) => m.kind === 'ConfigMap' && m.data)!;
    const dataKey = Object.keys(configMap.data as object)[0]!;
    const policyUid = (await reader.get(policy)).metadata.uid;

    await reader.delete(policy);
    expect(await reader.get(policy)).toBeUndefined();
    await reader.patch(deployment, [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'registry.example/hand-edit:1' }]);
    await reader.patch(configMap, [{ op: 'replace', path: `/data/${dataKey.replace('/', '~1')}`, value: 'edited by hand\n' }]);

    const k = await flux.reconcile('Kustomization', name, APPLY_MS);
    expectReady(flux, k);

    const restored = await reader.get(policy);
    expect(restored).toBeDefined();
    expect(restored.metadata.uid).not.toBe(policyUid);
    expect(differences(policy.spec, restored.spec)).toEqual([]);
    expect((await reader.get(deployment)).spec.template.spec.containers[0].image).toBe(deployment.spec.template.spec.containers[0].image);
    expect((await reader.get(configMap)).data[dataKey]).toBe(substituteBindings(configMap.data[dataKey]));

    // The controller reports exactly what it changed, as a Kubernetes Event of the Kustomization
    // (reason: the Ready condition's while it applies), tagged with the revision it applied.
    const expected = [
      `${policy.kind}/${policy.metadata.namespace}/${policy.metadata.name} created`,
      `${deployment.kind}/${deployment.metadata.namespace}/${deployment.metadata.name} configured`,
      `${configMap.kind}/${configMap.metadata.namespace}/${configMap.metadata.name} configured`,
    ].sort();
    const events = await flux.events('Kustomization', name);
    const report = events.find((e) => e.message.split('\n').sort().join('\n') === expected.join('\n'));
    if (!report) throw new Error(`no Event listing exactly the reverted objects; Events:\n${events.map((e) => `${e.type} ${e.reason}: ${e.message}`).join('\n---\n')}`);
    expect(report).toMatchObject({ type: 'Normal', reason: 'Progressing' });
    expect(report.metadata.annotations?.['kustomize.toolkit.fluxcd.io/revision']).toBe(revisionOf(published[0]!.digest));
  });

  test('rollout: a new revision under the followed tag is applied: new images, new revision, dropped object pruned', async () => {
    const before = published[0]!;
    const dropped = before.manifests.find((m) => m.kind === 'HorizontalPodAutoscaler')!;
    const droppedFile = [...readManifests(before.dir)].find(([, objects]) => objects.some((o) => objectKey(o) === objectKey(dropped)))![0];
    expect(await reader.get(dropped)).toBeDefined();

    // The next commit: new images everywhere, and one service no longer autoscaled.
    const next = await publish('rev2', (dir) => rewriteManifests(dir, droppedFile, (objects) => objects.filter((o) => objectKey(o) !== objectKey(dropped))), '2026-01-02T00:00:00Z');
    expect(next.digest).not.toBe(before.digest);

    const k = await pullAndWait((o) => o.status?.lastAppliedRevision === revisionOf(next.digest) && readyCondition(o)?.status === 'True',
      `Ready with revision ${revisionOf(next.digest)}`);
    expectReady(flux, k);
    expect(inventoryKeys(k)).toEqual(next.manifests.map(objectKey).sort());
    expect(inventoryKeys(k)).not.toContain(objectKey(dropped));
    expect(await reader.get(dropped)).toBeUndefined();

    const images = await liveImages(reader, next.manifests);
    expect(images).toEqual(renderedImages(next.manifests));
    expect([...images.values()].flat().some((image) => image.endsWith(':rev2'))).toBe(true);
    expect([...images.values()].flat().filter((image) => image.endsWith(':rev1'))).toEqual([]);

    const events = await flux.events('Kustomization', name);
    expect(events.map((e) => e.message).join('\n')).toContain(`${dropped.kind}/${dropped.metadata.namespace}/${dropped.metadata.name} deleted`);
  });

  test('a revision with an invalid object is refused as a whole: Ready=False naming it, previous revision kept, objects untouched', async () => {
    const current = published[1]!;
    const before = await reader.getAll(current.manifests);
    const snapshot = new Map([...before].map(([key, o]) => [key, `${o.metadata.uid}@${o.metadata.resourceVersion}`]));

    // New images everywhere (so the revision would change every Deployment), and one Deployment
    // whose replicas is not an integer.
    let broken: Manifest | undefined;
    const bad = await publish('rev3', (dir) => {
      const [file] = [...readManifests(dir)].find(([, objects]) => objects.some((o) => o.kind === 'Deployment'))!;
      rewriteManifests(dir, file, (objects) => objects.map((o) => {
        if (o.kind !== 'Deployment' || broken) return o;
        broken = o;
        return { ...o, spec: { ...o.spec, replicas: 'three' } };
      }));
    }, '2026-01-03T00:00:00Z');

    const k = await pullAndWait((o) => o.status?.lastAttemptedRevision === revisionOf(bad.digest) && readyCondition(o)?.status === 'False',
      `Ready=False after attempting ${revisionOf(bad.digest)}`);
    const ready = readyCondition(k)!;
    // The server-side dry-run of the whole stage fails before anything of it is applied.
    expect(ready.reason).toBe('ReconciliationFailed');
    expect(ready.message).toContain(`Deployment/${broken!.metadata.namespace}/${broken!.metadata.name} dry-run failed`);
    expect(ready.message).toContain('.spec.replicas');
    expect(k.status?.lastAppliedRevision).toBe(revisionOf(current.digest));

    const after = await reader.getAll(current.manifests);
    const changed = [...snapshot].filter(([key, value]) => {
      const o = after.get(key);
      return !o || `${o.metadata.uid}@${o.metadata.resourceVersion}` !== value;
    }).map(([key]) => key);
    if (changed.length > 0) throw new Error(`objects changed by a refused revision: ${changed.join(', ')}\n${describeStatus(k)}`);
    expect(await liveImages(reader, current.manifests)).toEqual(renderedImages(current.manifests));
  });

  test('harness: a wait that times out says what it last saw, with the controllers\' logs', async () => {
    const error = await flux.waitFor('Kustomization', name, () => false, 500, 'an impossible state').catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/an impossible state not reached within 500 ms/);
    expect((error as Error).message).toContain(`lastAppliedRevision=${revisionOf(published[1]!.digest)}`);
    expect((error as Error).message).toMatch(/Ready=False/);
    expect((error as Error).message).toContain('--- kustomize-controller');
  });

  test('harness: dispose stops the registry and both controllers and deletes their folder', async () => {
    const pids = Object.values(flux.pids);
    expect(pids).toHaveLength(3);
    expect(pids.every((pid) => typeof pid === 'number')).toBe(true);
    await flux.dispose();
    expect(Object.values(flux.pids).filter((pid) => pid !== undefined)).toEqual([]);
    for (const pid of pids) expect(() => process.kill(-pid!, 0)).toThrow(/ESRCH/);
    expect(existsSync(flux.dir)).toBe(false);
  });
});

test('harness: missing Flux binaries name the one to build and `npm run setup`', () => {
  const empty = mkdtempSync(join(tmpdir(), 'platform-no-flux-'));
  try {
    expect(() => findFluxBinaries(empty)).toThrow(/missing: source-controller .*npm run setup.*scripts\/setup\/flux\.sh/);
  } finally {
    rmSync(empty, { recursive: true });
  }
});
