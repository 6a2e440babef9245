// The local environment's workloads applied as production applies them (docs/gitops.md): Flux's
// source-controller and kustomize-controller beside the control plane, the local charts as
// rendered (dist/local's layout) pushed as the OCI artifact to the registry beside the node, the
// bindings ConfigMap with the local values, and then the configuration drill itself (the code of
// `npm run ops -- config-restore <env> --execute`, health checks on): it applies the GitOps chart
// and waits until the Kustomization has applied the revision and every workload is healthy.
//
// What differs from EKS: the controllers are processes with the admin's kubeconfig (EKS runs the
// add-on's Deployments with their own RBAC), the registry is the plain-HTTP one beside the node
// (EKS: the environment's ECR through source-controller's Pod Identity), and the CRDs are the
// controllers' own release's from charts/crds (EKS: the add-on chart's).
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { renderEnvironmentCharts } from '../../charts/main';
import { revisionTag } from '../../charts/gitops-chart';
import { bindingsConfigMap } from '../../charts/lib/bindings-variables';
import type { ChartEnvironment, PlatformSpec } from '../../lib/spec';
import { configRepositoryName } from '../../lib/spec/topology';
import { pushManifests } from '../gitops/artifact';
import type { PushedArtifact } from '../gitops/artifact';
import { fluxCrdFiles, startFluxControllers } from '../gitops/flux-controllers';
import type { FluxControllers } from '../gitops/flux-controllers';
import { HarnessError, REPO_ROOT, cacheDir, sleep } from '../local-stack/process';
import { executeRestore } from '../ops/commands/config-restore';
import type { ConfigRestoreResult } from '../ops/commands/config-restore';
import { kubeFromArgs } from '../ops/kube';
import type { LocalCluster } from './index';

const execFileAsync = promisify(execFile);

export interface LocalGitops {
  /** The drill's result: each step's seconds, the total against the configuration RTO, the objects applied. */
  readonly restore: ConfigRestoreResult;
  /** The artifact pushed to the registry beside the node. */
  readonly artifact: PushedArtifact;
  /** The rendered charts the artifact holds, one <chart>.k8s.yaml each, as dist/local. */
  readonly manifestsDir: string;
  /** Flux's namespace (clusterAddons.flux.namespace): the GitOps objects and the bindings. */
  readonly namespace: string;
  readonly controllers: FluxControllers;
  /** Stops the controllers (before the cluster they watch). */
  dispose(): Promise<void>;
}

export interface LocalGitopsOptions {
  readonly cluster: LocalCluster;
  readonly spec: PlatformSpec;
  readonly environment: ChartEnvironment;
  /** The bindings ConfigMap's data: the deploy-time values, here the local ones. */
  readonly bindings: Readonly<Record<string, string>>;
  readonly log: (line: string) => void;
}

/** The commit the charts were rendered at and its time: the artifact's revision and created annotations. */
async function headCommit(): Promise<{ revision: string; created: string }> {
  const { stdout } = await execFileAsync('git', ['-C', REPO_ROOT, 'log', '-1', '--format=%H %cI']);
  const [revision, created] = stdout.trim().split(' ');
  if (!revision || !created) throw new HarnessError(`git log in ${REPO_ROOT}: no commit (${stdout.trim()})`);
  return { revision, created };
}

/**
 * Installs Flux on the cluster as the Cluster stack would (CRDs, namespace, bindings, the two
 * controllers), publishes the local charts and runs the drill. The namespaces, service accounts
 * and token reviewer the platform applied before (for vault/bootstrap.sh) are taken over by Flux
 * in place, as in an adoption.
 */
export async function applyWithFlux(opts: LocalGitopsOptions): Promise<LocalGitops> {
  const { cluster, spec, environment, log } = opts;
  const namespace = spec.clusterAddons.flux.namespace;
  if (!cluster.registryAddress) throw new HarnessError('Flux on the local cluster: the cluster was started without a registry beside the node');
  const dir = join(cluster.dir, 'flux');
  await mkdir(dir, { recursive: true });

  log('flux: CRDs, namespace, bindings, source-controller and kustomize-controller');
  const crds = fluxCrdFiles().flatMap((f) => ['-f', f]);
  await cluster.kubectl(['apply', '--server-side', '--field-manager=local-cluster', ...crds], undefined, 120000);
  await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=120s', ...crds], undefined, 130000);
  await cluster.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, bindingsConfigMap(namespace, opts.bindings)]);
  const controllers = await startFluxControllers({ kubeconfig: cluster.kubeconfig, namespace, dir });
  try {
    log('flux: publishing the local charts to the registry beside the node');
    const manifestsDir = join(dir, 'artifact');
    renderEnvironmentCharts(spec, environment, manifestsDir);
    const repository = `${cluster.registryAddress}/${configRepositoryName(spec)}`;
    const artifact = await pushManifests({
      repository, tags: [revisionTag(environment.gitops.revision)], manifestsDir, ...(await headCommit()), plainHttp: true,
    });

    log('flux: the configuration drill (config-restore --execute, health checks on)');
    const kube = kubeFromArgs({ positionals: [], values: { kubeconfig: cluster.kubeconfig } }, { ...process.env, KUBECTL: cacheDir('kube', 'bin', 'kubectl') });
    const drill = executeRestore(kube, spec, {
      environment, source: { url: `oci://${repository}`, insecure: true }, waitForHealth: true,
    }, (line) => log(`drill: ${line}`));
    // The drill waits up to the RTO; a controller that has died would make that wait in vain.
    let settled = false;
    const watch = (async () => {
      while (!settled) {
        controllers.assertRunning('the configuration drill');
        await sleep(1000);
      }
    })();
    let restore: ConfigRestoreResult;
    try {
      restore = await Promise.race([drill, watch.then(() => drill)]);
    } finally {
      settled = true;
    }
    log(`flux: ${restore.withinBudget ? 'restored' : 'restored, OVER BUDGET'} in ${restore.totalSeconds} s of ${restore.budgetSeconds} s (${restore.steps.map((s) => `${s.step} ${s.seconds} s`).join(', ')})`);
    return { restore, artifact, manifestsDir, namespace, controllers, dispose: () => controllers.stop() };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await controllers.stop();
    throw new HarnessError(`Flux on the local cluster: ${message}\n${controllers.logTails()}`);
  }
}
