import { CfnOutput } from 'aws-cdk-lib';
import { configRepositoryName, vaultAddress } from '../spec/topology';
import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { KubectlV35Layer } from '@aws-cdk/lambda-layer-kubectl-v35';
import type { Construct } from 'constructs';
import { ManagedAddons } from '../constructs/cluster/managed-addons';
import { EksCluster } from '../constructs/cluster/eks-cluster';
import { HelmAddons } from '../constructs/cluster/addons';
import type { EnvironmentSpec } from '../spec';
import type { NetworkStack } from './network-stack';
import { iamRoleArn } from '../constructs/shared/environment-arns';
import { PlatformStack } from './platform-stack';
import type { PlatformStackProps } from './platform-stack';
import { zoneSubnets } from '../constructs/network/zoned-vpc';
import { invalidProp } from '../constructs/shared/validation';

export interface ClusterStackProps extends PlatformStackProps {
  /** The environment's network: the cluster lives in its `private` subnets. */
  readonly network: Pick<NetworkStack, 'vpc' | 'zones'>;
  /**
   * kubectl + helm for the cluster's kubectl handler. Defaults to the layer matching
   * `environment.cluster.kubernetesVersion`; tests pass one by ARN to skip the ~36 MB asset.
   * @default - the KUBECTL_LAYERS entry of the cluster's Kubernetes version
   */
  readonly kubectlLayer?: lambda.ILayerVersion;
}


/**
 * kubectl layers we ship, by Kubernetes minor version. A new version needs its
 * `@aws-cdk/lambda-layer-kubectl-vNN` package and a line here.
 */
const KUBECTL_LAYERS: Readonly<Record<string, (scope: Construct, id: string) => lambda.ILayerVersion>> = {
  '1.35': (scope, id) => new KubectlV35Layer(scope, id),
};

/**
 * The environment's EKS cluster: control plane, managed node group, EKS add-ons and the
 * in-cluster add-ons (one module each in lib/constructs/cluster/addons). Later layers add workloads with `cluster.addCdk8sChart(...)`.
 */
export class ClusterStack extends PlatformStack {
  readonly cluster: eks.Cluster;
  readonly nodegroup: eks.Nodegroup;
  readonly managedAddons: ManagedAddons;
  /** The in-cluster add-ons (lib/constructs/cluster/addons), the Vault Agent injector among them. */
  readonly helmAddons: HelmAddons;

  constructor(scope: Construct, id: string, props: ClusterStackProps) {
    // Stack props only: the network stack and the layer are ours to use, not Stack's.
    const { network, kubectlLayer, ...stackProps } = props;
    super(scope, id, {
      description: `${props.spec.project} ${props.environment.name}: EKS cluster, node group and add-ons`,
      ...stackProps,
    });
    const { spec, environment } = props;
    // The nodes and the control plane's network interfaces: the private zone (spec §5).
    const subnets = zoneSubnets('private');

    const eksCluster = new EksCluster(this, 'Eks', {
      clusterName: `${spec.project}-${environment.name}`,
      spec: environment.cluster,
      vpc: network.vpc,
      subnets,
      nodeSecurityGroup: network.zones.workloads,
      // spec.operatorAccess: kubectl over the VPN or from the bastion.
      apiClients: [
        ...(spec.operatorAccess.vpn.includes('cluster-api') ? [network.zones.vpn] : []),
        ...(spec.operatorAccess.bastion.includes('cluster-api') ? [network.zones.bastion] : []),
      ],
      kubectlLayer: kubectlLayer ?? defaultKubectlLayer(this, environment),
      logsKey: this.logsKey,
    });
    this.cluster = eksCluster.cluster;
    this.nodegroup = eksCluster.nodegroup;

    this.managedAddons = new ManagedAddons(this, 'Addons', { cluster: this.cluster, nodegroup: this.nodegroup });
    this.helmAddons = new HelmAddons(this, 'HelmAddons', {
      cluster: this.cluster,
      charts: spec.clusterAddons,
      clusterReady: [this.nodegroup, this.managedAddons.coreDns, this.managedAddons.podIdentityAgent],
      storageReady: [this.managedAddons.ebsCsiDriver],
      observability: { spec, environment },
      vaultAddress: vaultAddress(spec),
      gitops: { fluxControllers: spec.gitops.fluxControllers, configRepositoryName: configRepositoryName(spec) },
    });

    new CfnOutput(this, 'ClusterName', { value: this.cluster.clusterName });
    new CfnOutput(this, 'ClusterArn', { value: this.cluster.clusterArn });
    new CfnOutput(this, 'UpdateKubeconfigCommand', {
      description: 'Write a kubeconfig entry as the admin role (the endpoint is private: connect the VPN first)',
      value: `aws eks update-kubeconfig --name ${this.cluster.clusterName} --region ${environment.region}`
        + ` --role-arn ${iamRoleArn(this, environment.cluster.adminRoleName)}`,
    });
  }
}

function defaultKubectlLayer(scope: Construct, environment: EnvironmentSpec): lambda.ILayerVersion {
  const version = environment.cluster.kubernetesVersion;
  const layer = KUBECTL_LAYERS[version];
  if (!layer) {
    invalidProp(scope, `environments.${environment.name}.cluster.kubernetesVersion`,
      `= "${version}": no kubectl layer for this version `
      + `(have: ${Object.keys(KUBECTL_LAYERS).join(', ')}). Install @aws-cdk/lambda-layer-kubectl-v${version.split('.')[1]} `
      + 'and register it in KUBECTL_LAYERS (lib/stacks/cluster-stack.ts).',
    );
  }
  return layer(scope, 'KubectlLayer');
}
