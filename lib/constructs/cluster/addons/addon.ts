import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import type { Construct, IDependable } from 'constructs';
import type { EnvironmentSpec, HelmChartSpec, PlatformSpec } from '../../../spec';

/** What an add-on may use while it installs itself. */
export interface AddonContext {
  /**
   * Owns what an add-on creates beside its chart (Pod Identity roles, Alertmanager's publisher).
   * Its construct path is part of their logical ids: add-ons never create them elsewhere.
   */
  readonly scope: Construct;
  readonly cluster: eks.Cluster;
  /** Charts, repositories, pinned versions and namespaces: `clusterAddons` of the spec. */
  readonly charts: PlatformSpec['clusterAddons'];
  /** What must be running before any chart installs: nodes, CoreDNS, the Pod Identity agent. */
  readonly clusterReady: readonly IDependable[];
  /** The EBS CSI driver, which provisions the volumes of the gp3 StorageClass. */
  readonly storageReady: readonly IDependable[];
  /**
   * Rules and Alertmanager routing for Prometheus (lib/observability).
   * @default - none: Prometheus only scrapes and feeds KEDA, no rules, no Alertmanager
   */
  readonly observability?: { readonly spec: PlatformSpec; readonly environment: EnvironmentSpec };
  /** The EC2 Vault cluster's address, for the Vault Agent injector. */
  readonly vaultAddress: string;
  /** For Flux: its controllers' release (gitops.fluxControllers) and the ECR repository it pulls from. */
  readonly gitops: { readonly fluxControllers: string; readonly configRepositoryName: string };
  /** The resource an add-on earlier in the registry installed (it must come earlier). */
  installed<R extends AddonResource>(addon: ClusterAddon<R>): R;
}

export type AddonResource = eks.HelmChart | eks.KubernetesManifest;

/**
 * One in-cluster add-on: its chart (or manifest), values and IAM in one module. `id` is the
 * construct id of the chart under the cluster, part of its logical id: never rename it.
 */
export interface ClusterAddon<R extends AddonResource = AddonResource> {
  readonly id: string;
  install(context: AddonContext): R;
}

/**
 * A chart of the spec installed through the cluster's kubectl/helm handler, under the release
 * name of the chart itself (readable and stable, not the construct-path default).
 */
export function installChart(
  cluster: eks.Cluster,
  id: string,
  chart: HelmChartSpec,
  values?: Record<string, unknown>,
  options: Pick<eks.HelmChartOptions, 'wait'> = {},
): eks.HelmChart {
  return cluster.addHelmChart(id, {
    chart: chart.chart,
    repository: chart.repository,
    version: chart.version,
    namespace: chart.namespace,
    release: chart.chart,
    createNamespace: true,
    values,
    ...options,
  });
}
