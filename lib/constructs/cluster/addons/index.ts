import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct } from 'constructs';
import type { AddonContext, AddonResource, ClusterAddon } from './addon';
import { awsLoadBalancerController } from './aws-load-balancer-controller';
import { certManager } from './cert-manager';
import { flux } from './flux';
import { gp3StorageClass } from './gp3-storage-class';
import { keda } from './keda';
import { metricsServer } from './metrics-server';
import { prometheus } from './prometheus';
import { vaultAgentInjector } from './vault-agent-injector';
import { invalidProp } from '../../shared/validation';

export type { AddonContext, ClusterAddon } from './addon';
export { ALB_CONTROLLER_SERVICE_ACCOUNT } from './aws-load-balancer-controller';
export { FLUX_CONTROLLERS_NOT_INSTALLED, FLUX_ECR_PULL_ACTIONS, FLUX_SOURCE_CONTROLLER_SERVICE_ACCOUNT } from './flux';
export { GP3_STORAGE_CLASS } from './gp3-storage-class';
export { awsLoadBalancerController, certManager, flux, gp3StorageClass, keda, metricsServer, prometheus, vaultAgentInjector };

/**
 * Every in-cluster add-on, in install order. The AWS Load Balancer Controller comes first: every
 * Helm chart after it waits for it (its webhooks must answer before other charts create
 * Services, and on delete it must outlive them to remove their load balancers). A new add-on is
 * a module in this folder and a line here.
 */
export const CLUSTER_ADDONS: readonly ClusterAddon[] = [
  awsLoadBalancerController,
  metricsServer,
  certManager,
  keda,
  gp3StorageClass,
  prometheus,
  vaultAgentInjector,
  flux,
];

export type HelmAddonsProps = Omit<AddonContext, 'scope' | 'installed'>;

/**
 * The in-cluster add-ons of CLUSTER_ADDONS, installed through the cluster's kubectl handler
 * (charts, repositories, versions and namespaces from the spec's `clusterAddons`).
 */
export class HelmAddons extends Construct {
  /** Every Helm release installed, in install order: what the workloads' charts wait for. */
  readonly charts: readonly eks.HelmChart[];
  private readonly resources = new Map<ClusterAddon, AddonResource>();

  constructor(scope: Construct, id: string, props: HelmAddonsProps) {
    super(scope, id);
    const context: AddonContext = {
      ...props,
      scope: this,
      installed: (addon) => this.installed(addon),
    };
    const [first, ...rest] = CLUSTER_ADDONS;
    const controller = this.install(first!, context);
    for (const addon of rest) {
      const resource = this.install(addon, context);
      if (resource instanceof eks.HelmChart) resource.node.addDependency(controller);
    }
    this.charts = [...this.resources.values()].filter((resource) => resource instanceof eks.HelmChart);
  }

  get awsLoadBalancerController(): eks.HelmChart { return this.installed(awsLoadBalancerController); }
  get metricsServer(): eks.HelmChart { return this.installed(metricsServer); }
  get certManager(): eks.HelmChart { return this.installed(certManager); }
  get keda(): eks.HelmChart { return this.installed(keda); }
  get gp3StorageClass(): eks.KubernetesManifest { return this.installed(gp3StorageClass); }
  get prometheus(): eks.HelmChart { return this.installed(prometheus); }
  get vaultAgentInjector(): eks.HelmChart { return this.installed(vaultAgentInjector); }
  get flux(): eks.HelmChart { return this.installed(flux); }

  /** The resource `addon` installed. */
  installed<R extends AddonResource>(addon: ClusterAddon<R>): R {
    const resource = this.resources.get(addon as ClusterAddon);
    if (!resource) invalidProp(this, 'installed', `(${addon.id}): not installed yet; CLUSTER_ADDONS must list it before the add-ons that need it`);
    return resource as R;
  }

  private install(addon: ClusterAddon, context: AddonContext): AddonResource {
    const resource = addon.install(context);
    this.resources.set(addon, resource);
    return resource;
  }
}
