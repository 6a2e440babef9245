import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge } from '../../compliance';
import { PodIdentityRole } from '../shared/pod-identity-role';

export interface ManagedAddonsProps {
  readonly cluster: eks.Cluster;
  /** The node group; networking add-ons go before it, the ones that run Deployments after it. */
  readonly nodegroup: eks.Nodegroup;
}

/** Namespace and service account the aws-ebs-csi-driver add-on creates for its controller. */
export const EBS_CSI_CONTROLLER_SERVICE_ACCOUNT = { namespace: 'kube-system', name: 'ebs-csi-controller-sa' } as const;

/**
 * The EKS managed add-ons: vpc-cni, kube-proxy, eks-pod-identity-agent, coredns and the EBS
 * CSI driver.
 *
 * No add-on version is pinned: EKS installs the default version for the cluster's Kubernetes
 * version, and an upgrade of `kubernetesVersion` in the spec moves them along.
 */
export class ManagedAddons extends Construct {
  readonly vpcCni: eks.Addon;
  readonly kubeProxy: eks.Addon;
  readonly podIdentityAgent: eks.IAddon;
  readonly coreDns: eks.Addon;
  readonly ebsCsiDriver: eks.Addon;
  readonly ebsCsiDriverRole: PodIdentityRole;

  constructor(scope: Construct, id: string, props: ManagedAddonsProps) {
    super(scope, id);
    const { cluster, nodegroup } = props;

    this.vpcCni = this.addon('VpcCni', cluster, 'vpc-cni', {
      // The charts' NetworkPolicies (default deny, zones) are only enforced with this on.
      enableNetworkPolicy: 'true',
      env: {
        // Security groups for pods: the bindings chart's SecurityGroupPolicy gives the DMZ
        // services' pods the DMZ group. The VPC resource controller (the cluster role carries
        // AmazonEKSVPCResourceController) attaches the branch ENI that holds it only on nodes
        // whose CNI runs with this; without it the policy is accepted and ignored.
        ENABLE_POD_ENI: 'true',
      },
      init: {
        // Required with pod security groups so kubelet liveness/readiness probes reach the pods.
        env: { DISABLE_TCP_EARLY_DEMUX: 'true' },
      },
    });
    this.kubeProxy = this.addon('KubeProxy', cluster, 'kube-proxy');
    // The cluster's own accessor, so anything else asking for the agent gets this one.
    this.podIdentityAgent = cluster.eksPodIdentityAgent!;

    // DaemonSets: they must be on a node as it boots, or the managed node group's nodes never
    // become Ready (no CNI) and the node group creation fails.
    nodegroup.node.addDependency(this.vpcCni, this.kubeProxy, this.podIdentityAgent);

    // Deployments: they stay unhealthy (and CloudFormation waits) until there are nodes.
    this.coreDns = this.addon('CoreDns', cluster, 'coredns');
    this.coreDns.node.addDependency(nodegroup);

    this.ebsCsiDriverRole = new PodIdentityRole(this, 'EbsCsiDriverIdentity', {
      cluster,
      namespace: EBS_CSI_CONTROLLER_SERVICE_ACCOUNT.namespace,
      serviceAccount: EBS_CSI_CONTROLLER_SERVICE_ACCOUNT.name,
      description: 'EBS CSI driver controller: create, attach and delete EBS volumes',
      // AWS's policy for the driver, scoped by the ebs.csi.aws.com tags the driver sets.
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonEBSCSIDriverPolicy')],
    });
    acknowledge(this.ebsCsiDriverRole.role, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy]',
      'The policy AWS documents and maintains for the EBS CSI driver; its writes are conditioned on the driver\'s own ebs.csi.aws.com tags.');
    this.ebsCsiDriver = this.addon('EbsCsiDriver', cluster, 'aws-ebs-csi-driver');
    // The controller's first credentials request must find the association in place.
    this.ebsCsiDriver.node.addDependency(nodegroup, this.ebsCsiDriverRole, this.podIdentityAgent);
  }

  private addon(id: string, cluster: eks.ICluster, addonName: string, configurationValues?: Record<string, unknown>) {
    const addon = new eks.Addon(this, id, { cluster, addonName, configurationValues });
    // Our settings win over whatever was changed in the cluster by hand.
    (addon.node.defaultChild as eks.CfnAddon).resolveConflicts = 'OVERWRITE';
    return addon;
  }
}
