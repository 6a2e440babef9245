/**
 * The configuration commands against real servers (docs/gitops.md): `config-publish` pushes a
 * commit's rendering to an OCI registry, and `config-restore` — the configuration DR drill —
 * brings an empty kube-apiserver to the published revision through Flux's own controllers.
 *
 * - The registry is CNCF distribution on loopback with TLS (test/harness/flux.ts), standing in for
 *   ECR: `--repository`/`--ca-file` and `--source-url`/`--source-ca-secret` point the commands at
 *   it, as they would at a DR-region replica.
 * - No kubelet runs: the drill skips the health wait (`--skip-health`); every other step is real.
 * - config-publish runs as the CLI in a throwaway git repository (its commit and cleanliness are
 *   what the command reads), rendering this tree's charts.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { durationSeconds, loadPlatformSpec } from '../../lib/spec';
import { configRepositoryName, GITOPS_OBJECT_NAME } from '../../lib/spec/topology';
import { revisionTag } from '../../charts/gitops-chart';
import { BINDINGS_CONFIGMAP } from '../../charts/lib/bindings-variables';
import { runOps } from '../../scripts/ops/main';
import { verifyInventory } from '../../scripts/ops/commands/config-restore';
import type { ConfigRestoreResult } from '../../scripts/ops/commands/config-restore';
import { kubeFromArgs } from '../../scripts/ops/kube';
import type { KubeObject } from '../../scripts/ops/kube';
import type { ConfigPublishResult } from '../../scripts/ops/commands/config-publish';
import { startFlux, startKubeApiServer } from '../harness';
import type { Flux, KubeApiServer } from '../harness';
import { allManifests, provideCdkPrerequisites, removeRendered, renderEnvironment } from '../gitops/cluster';

const ROOT = join(__dirname, '..', '..');
const spec = loadPlatformSpec();
const environment = spec.environments.staging;
const tag = revisionTag(environment.gitops.revision);
const repository = configRepositoryName(spec);
const RTO_SECONDS = durationSeconds(spec.disasterRecovery.configuration!.rto);

let kube: KubeApiServer;
let flux: Flux;
let gitDir: string;
let published: ConfigPublishResult;

beforeAll(async () => {
  kube = await startKubeApiServer({ controllers: [] });
  flux = await startFlux({ kube });
  gitDir = mkdtempSync(join(tmpdir(), 'platform-publish-git-'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: gitDir, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  writeFileSync(join(gitDir, 'README'), 'a commit to publish\n');
  git('add', 'README');
  git('-c', 'user.name=ops test', '-c', 'user.email=ops@example.com', 'commit', '-q', '-m', 'one commit', '--date', '2026-01-02T03:04:05Z');
}, 300000);
afterAll(async () => {
  await flux?.dispose();
  await kube?.dispose();
  if (gitDir) rmSync(gitDir, { recursive: true, force: true });
});

async function ops(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const previous = process.env.KUBECTL;
  process.env.KUBECTL = join(kube.binDir, 'kubectl');
  try {
    const code = await runOps(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    if (previous === undefined) delete process.env.KUBECTL;
    else process.env.KUBECTL = previous;
  }
}

/** The ops CLI as CI runs it, in the throwaway repository. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'scripts', 'ops', 'main.ts'), ...args], {
      cwd: gitDir, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const restoreArgs = () => ['config-restore', 'staging', '--kubeconfig', kube.kubeconfig,
  '--source-url', flux.repositoryUrl(repository), '--source-ca-secret', flux.caSecretName, '--skip-health'];

describe('config-publish', () => {
  it('plans by default: the commit and the followed branch as tags, nothing pushed', async () => {
    const r = await cli(['config-publish', 'staging', '--branch', 'main', '--repository', `${flux.registry}/${repository}`, '--json']);
    expect(r.stderr).toBe('');
    const plan = JSON.parse(r.stdout) as ConfigPublishResult;
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: gitDir, encoding: 'utf8' }).trim();
    expect(plan).toMatchObject({ mode: 'plan', commit: head, imageTag: head, tags: [head, tag], digest: null });
    expect(plan.files).toContain('api-gateway.k8s.yaml');
  }, 120000);

  it('pushes the rendering under both tags, and one commit gives one digest', async () => {
    const args = ['config-publish', 'staging', '--execute', '--branch', 'main', '--repository', `${flux.registry}/${repository}`, '--ca-file', flux.caFile, '--json'];
    const first = await cli(args);
    expect(first.code).toBe(0);
    published = JSON.parse(first.stdout) as ConfigPublishResult;
    expect(published.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const again = JSON.parse((await cli(args)).stdout) as ConfigPublishResult;
    expect(again.digest).toBe(published.digest);
  }, 180000);

  it('gives a pinned environment only the commit tag, whatever branch is checked out', async () => {
    const r = await cli(['config-publish', 'production', '--branch', 'main', '--repository', `${flux.registry}/${repository}`, '--json']);
    expect((JSON.parse(r.stdout) as ConfigPublishResult).tags).toEqual([published.commit]);
  }, 120000);

  it('refuses a working tree with uncommitted changes', async () => {
    writeFileSync(join(gitDir, 'README'), 'edited\n');
    try {
      const r = await cli(['config-publish', 'staging', '--repository', `${flux.registry}/${repository}`]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('uncommitted changes');
    } finally {
      execFileSync('git', ['checkout', '--', 'README'], { cwd: gitDir });
    }
  }, 120000);
});

describe('config-restore (the configuration DR drill)', () => {
  it('plans by default without touching the cluster', async () => {
    const r = await ops(restoreArgs());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`PLAN (dry run, nothing changed; re-run with --execute to act): restore staging's configuration to ${flux.repositoryUrl(repository)}:${tag} (budget ${RTO_SECONDS} s`);
    const found = await kube.request('GET', `/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/${spec.clusterAddons.flux.namespace}/kustomizations/${GITOPS_OBJECT_NAME}`);
    expect(found.status).toBe(404);
  });

  it('refuses a cluster the Cluster stack has not prepared (no bindings), naming what is missing', async () => {
    const r = await ops([...restoreArgs(), '--execute']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`ConfigMap ${spec.clusterAddons.flux.namespace}/${BINDINGS_CONFIGMAP} missing`);
  });

  it('brings the empty cluster to the published revision and prints each step\'s time against the RTO', async () => {
    await provideCdkPrerequisites(kube, spec);
    const r = await ops([...restoreArgs(), '--execute', '--json']);
    if (r.code !== 0) throw new Error(`config-restore exited ${r.code}: ${r.stderr}\n${flux.logTails()}`);
    const result = JSON.parse(r.stdout) as ConfigRestoreResult;
    expect(result).toMatchObject({ mode: 'executed', appliedRevision: `${tag}@${published.digest}`, budgetSeconds: RTO_SECONDS, withinBudget: true, healthChecked: false });
    expect(result.steps.map((s) => s.step)).toEqual(['reconciler', 'source', 'apply', 'verify']);
    for (const step of result.steps) expect(step.seconds).toBeGreaterThanOrEqual(0);
    expect(result.totalSeconds).toBeLessThanOrEqual(RTO_SECONDS);
    // Every object of the published rendering, found in the cluster by the drill.
    const dir = renderEnvironment(spec, environment, published.imageTag);
    try {
      expect(result.objectsApplied).toBe(allManifests(dir).length);
    } finally {
      removeRendered(dir);
    }
    // The human form: one line per step with its seconds, and the total against the budget.
    const text = await ops([...restoreArgs(), '--execute']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^RESTORED: staging at ${tag}@sha256:[0-9a-f]{64}, \\d+ objects, [\\d.]+ s of ${RTO_SECONDS} s`, 'm'));
    for (const step of ['reconciler', 'source', 'apply', 'verify']) expect(text.stdout).toMatch(new RegExp(`^  ${step}\\s+[\\d.]+ s `, 'm'));
  }, 600000);

  it('verifies the inventory against the cluster: every object found, each missing one named', async () => {
    const cluster = kubeFromArgs({ positionals: [], values: { kubeconfig: kube.kubeconfig } }, { ...process.env, KUBECTL: join(kube.binDir, 'kubectl') });
    const applied = await cluster.get('kustomization.kustomize.toolkit.fluxcd.io', GITOPS_OBJECT_NAME, spec.clusterAddons.flux.namespace);
    const entries = applied?.status?.inventory?.entries ?? [];
    expect(entries.length).toBeGreaterThan(10);
    await expect(verifyInventory(cluster, applied!)).resolves.toBe(entries.length);

    // One namespace's sole object (kubectl prints it alone, not in a List), and objects that do
    // not exist: in a namespace with others present, in a namespace that does not exist, and
    // cluster-scoped.
    const fluxNamespace = spec.clusterAddons.flux.namespace;
    const first = entries.find(({ id }) => !id.startsWith('_') && !id.startsWith(`${fluxNamespace}_`))!;
    const [namespace] = first.id.split('_');
    const sole = { id: `${fluxNamespace}_${BINDINGS_CONFIGMAP}__ConfigMap`, v: 'v1' };
    const absent = [
      { id: `${namespace}_no-such-map__ConfigMap`, v: 'v1' },
      { id: 'no-such-namespace_no-such-deployment_apps_Deployment', v: 'v1' },
      { id: '_no-such-role_rbac.authorization.k8s.io_ClusterRole', v: 'v1' },
    ];
    const withSole = { ...applied!, status: { inventory: { entries: [...entries, sole] } } } as KubeObject;
    await expect(verifyInventory(cluster, withSole)).resolves.toBe(entries.length + 1);
    const withAbsent = { ...applied!, status: { inventory: { entries: [first, ...absent, sole] } } } as KubeObject;
    await expect(verifyInventory(cluster, withAbsent)).rejects.toThrow(
      `applied but missing from the cluster: ConfigMap ${namespace}/no-such-map, Deployment no-such-namespace/no-such-deployment, ClusterRole no-such-role`);
  });
});
