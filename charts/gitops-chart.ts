import type { Construct } from 'constructs';
import { durationSeconds } from '../lib/spec/parse';
import type { GitopsRevision } from '../lib/spec';
import { configRepositoryUrl, GITOPS_OBJECT_NAME } from '../lib/spec/topology';
import { Kustomization, KustomizationSpecDeletionPolicy, KustomizationSpecPostBuildSubstituteFromKind, KustomizationSpecSourceRefKind } from './imports/kustomize.toolkit.fluxcd.io';
import { OciRepository, OciRepositorySpecProvider } from './imports/source.toolkit.fluxcd.io';
import { BINDINGS_CONFIGMAP } from './lib/bindings-variables';
import { PlatformChart } from './lib/platform-chart';
import type { PlatformChartProps } from './lib/platform-chart';

/** Where the reconciler pulls the rendered manifests from, when not the environment's ECR repository. */
export interface GitopsSource {
  /** `oci://host[:port]/repository`. */
  readonly url: string;
  /** Secret (in the Flux namespace) whose `ca.crt` the registry's certificate chains to. */
  readonly caSecretName?: string;
  /** The registry speaks plain HTTP (the local cluster's, beside the node); never ECR. */
  readonly insecure?: boolean;
}

export interface GitopsChartProps extends PlatformChartProps {
  /** @default the environment's ECR repository (gitops.repositoryName), signed in with source-controller's Pod Identity */
  readonly source?: GitopsSource;
  /**
   * Whether a revision is applied only when every object it applies is healthy (Deployments
   * rolled out, Jobs done); a failed wait marks the revision failed.
   * @default true
   */
  readonly waitForHealth?: boolean;
}

/** An ISO duration of the spec as Flux reads durations (Go's `10m`, `90s`). */
export function fluxDuration(iso: string): string {
  const total = durationSeconds(iso);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const text = `${hours ? `${hours}h` : ''}${minutes ? `${minutes}m` : ''}${seconds ? `${seconds}s` : ''}`;
  return text || '0s';
}

/** The artifact tag an environment's revision names: the branch's moving tag, or the commit's own. */
export function revisionTag(revision: GitopsRevision): string {
  return 'branch' in revision ? revision.branch : revision.commit;
}

/**
 * The GitOps source and reconciliation of one environment (docs/gitops.md): an OCIRepository
 * following the environment's revision of the rendered dist/<env>/ (an OCI artifact in its ECR
 * repository) and a Kustomization that applies it with server-side apply, reverts drift every
 * gitops.driftInterval, prunes what a revision removes and waits for health. It is the one chart
 * not inside the artifact: it says which artifact, so CDK (and the drill) apply it.
 */
export class GitopsChart extends PlatformChart {
  readonly source: OciRepository;
  readonly kustomization: Kustomization;

  constructor(scope: Construct, id: string, props: GitopsChartProps) {
    super(scope, id, props);
    const { spec, environment } = props;
    const namespace = spec.clusterAddons.flux.namespace;
    const { gitops } = spec;
    this.source = new OciRepository(this, 'source', {
      metadata: { name: GITOPS_OBJECT_NAME, namespace },
      spec: {
        url: props.source?.url ?? `oci://${configRepositoryUrl(spec, environment)}`,
        ref: { tag: revisionTag(environment.gitops.revision) },
        // ECR through source-controller's Pod Identity: no registry credentials in the cluster.
        provider: props.source ? OciRepositorySpecProvider.GENERIC : OciRepositorySpecProvider.AWS,
        ...(props.source?.caSecretName ? { certSecretRef: { name: props.source.caSecretName } } : {}),
        ...(props.source?.insecure ? { insecure: true } : {}),
        interval: fluxDuration(gitops.sourceInterval),
        timeout: '60s',
      },
    });
    this.kustomization = new Kustomization(this, 'workloads', {
      metadata: { name: GITOPS_OBJECT_NAME, namespace },
      spec: {
        sourceRef: { kind: KustomizationSpecSourceRefKind.OCI_REPOSITORY, name: GITOPS_OBJECT_NAME },
        path: './',
        interval: fluxDuration(gitops.driftInterval),
        retryInterval: fluxDuration(gitops.retryInterval),
        timeout: fluxDuration(gitops.applyTimeout),
        prune: true,
        wait: props.waitForHealth ?? true,
        // Deleting this object (a stack removal, a mistaken kubectl delete) leaves the workloads
        // running; only a revision that drops an object prunes it.
        deletionPolicy: KustomizationSpecDeletionPolicy.ORPHAN,
        // The deploy-time values (endpoints, target group, security group) CDK writes.
        postBuild: { substituteFrom: [{ kind: KustomizationSpecPostBuildSubstituteFromKind.CONFIG_MAP, name: BINDINGS_CONFIGMAP }] },
      },
    });
  }
}
