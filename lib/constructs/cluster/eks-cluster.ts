import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge } from '../../compliance';
import { iamRoleArn } from '../shared/environment-arns';
import type { EnvironmentSpec } from '../../spec';

export interface EksClusterProps {
  /** Physical name; fixed so the control-plane log group can exist before the cluster. */
  readonly clusterName: string;
  readonly spec: EnvironmentSpec['cluster'];
  readonly vpc: ec2.IVpc;
  /** The subnets of the control-plane ENIs, the kubectl handler and the nodes. */
  readonly subnets: ec2.SubnetSelection;
  /** The zone security group every node (and so every pod without its own) carries. */
  readonly nodeSecurityGroup: ec2.ISecurityGroup;
  /** Who may reach the private API endpoint on 443 (the VPN endpoint, the bastion). */
  readonly apiClients: readonly ec2.ISecurityGroup[];
  readonly kubectlLayer: lambda.ILayerVersion;
  /** Encrypts the control-plane log group. */
  readonly logsKey: IKey;
}

/**
 * The EKS control plane and its one managed node group, sized from the spec.
 *
 * Private endpoint only, secrets envelope-encrypted with a customer-managed key, all
 * control-plane logs kept for the spec's retention, access entries (no aws-auth ConfigMap).
 */
export class EksCluster extends Construct {
  readonly cluster: eks.Cluster;
  readonly nodegroup: eks.Nodegroup;
  readonly secretsKey: kms.Key;
  readonly controlPlaneLogGroup: logs.LogGroup;
  readonly controlPlaneSecurityGroup: ec2.SecurityGroup;
  readonly launchTemplate: ec2.LaunchTemplate;

  constructor(scope: Construct, id: string, props: EksClusterProps) {
    super(scope, id);
    const { spec, vpc } = props;

    this.secretsKey = new kms.Key(this, 'SecretsKey', {
      description: `Envelope encryption of Kubernetes secrets in EKS cluster ${props.clusterName}`,
      enableKeyRotation: true,
      // Deleting the key would make every secret in etcd (and its backups) unreadable.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // EKS writes to this group by name; creating it first lets us own retention and keep it
    // (RETAIN) after the cluster is gone, for audit.
    this.controlPlaneLogGroup = new logs.LogGroup(this, 'ControlPlaneLogs', {
      logGroupName: `/aws/eks/${props.clusterName}/cluster`,
      retention: spec.controlPlaneLogRetentionDays as logs.RetentionDays,
      encryptionKey: props.logsKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const role = new iam.Role(this, 'ClusterRole', {
      assumedBy: new iam.ServicePrincipal('eks.amazonaws.com'),
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonEKSClusterPolicy'),
        // Security groups for pods (vpc-cni ENABLE_POD_ENI): the control plane manages trunk/branch ENIs.
        iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonEKSVPCResourceController'),
      ],
    });

    // Our own control-plane security group, so API access is granted to the VPN and the
    // bastion only, not to everything that carries the EKS-managed cluster security group.
    this.controlPlaneSecurityGroup = new ec2.SecurityGroup(this, 'ControlPlaneSecurityGroup', {
      vpc,
      description: `EKS ${props.clusterName} control plane: API (443) from the VPN and the bastion`,
      allowAllOutbound: false,
    });
    // Both directions: the clients' groups allow no egress beyond what their zones need, so each
    // gets its egress rule to the API here (the VPN's otherwise stops at the DMZ).
    for (const client of props.apiClients) {
      this.controlPlaneSecurityGroup.connections.allowFrom(client, ec2.Port.HTTPS, 'Kubernetes API from an admin entry point');
    }

    const privateSubnets = vpc.selectSubnets(props.subnets).subnets;
    this.cluster = new eks.Cluster(this, 'Cluster', {
      clusterName: props.clusterName,
      version: eks.KubernetesVersion.of(spec.kubernetesVersion),
      vpc,
      vpcSubnets: [props.subnets],
      role,
      securityGroup: this.controlPlaneSecurityGroup,
      endpointAccess: eks.EndpointAccess.PRIVATE,
      // The spec's fixed-size node group, not EKS Auto Mode (the aws-eks-v2 default).
      defaultCapacityType: eks.DefaultCapacityType.NODEGROUP,
      defaultCapacity: 0,
      // vpc-cni, kube-proxy and coredns come as EKS managed add-ons (ManagedAddons) instead of
      // the unmanaged copies EKS would bootstrap, so their versions and settings live here.
      bootstrapSelfManagedAddons: false,
      // Admins come from the spec's role; the deploying CloudFormation role needs no standing access.
      bootstrapClusterCreatorAdminPermissions: false,
      secretsEncryptionKey: this.secretsKey,
      clusterLogging: [
        eks.ClusterLoggingTypes.API,
        eks.ClusterLoggingTypes.AUDIT,
        eks.ClusterLoggingTypes.AUTHENTICATOR,
        eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
        eks.ClusterLoggingTypes.SCHEDULER,
      ],
      kubectlProviderOptions: {
        kubectlLayer: props.kubectlLayer,
        // The endpoint is private: the kubectl/helm handler runs inside the VPC.
        privateSubnets,
      },
      // We write our own outputs (the built-in one needs a masters role).
      outputConfigCommand: false,
    });
    // Only the control plane waits for the log group (not every resource under the cluster).
    const cfnCluster = this.cluster.node.defaultChild as eks.CfnCluster;
    cfnCluster.node.addDependency(this.controlPlaneLogGroup);
    Validations.of(cfnCluster).acknowledge({
      id: 'CloudFormation-Validate::W9009',
      reason: 'aws-eks-v2 renders EncryptionConfig.Resources = ["secrets"]; the schema marks the property deprecated, '
        + 'but the EKS API documents "secrets" as its one value and dropping it is not proven to keep envelope encryption.',
    });

    // Access entries (authentication mode API): the spec's admin role is cluster admin.
    this.cluster.grantClusterAdmin('AdminRoleAccess', iamRoleArn(this, spec.adminRoleName));

    this.launchTemplate = new ec2.LaunchTemplate(this, 'NodeLaunchTemplate', {
      // The workloads zone group plus the EKS cluster security group: a launch template's
      // groups replace the ones EKS would attach, and nodes need the cluster group to talk to
      // the control plane.
      securityGroup: props.nodeSecurityGroup,
      requireImdsv2: true,
      // 2 hops so pods that still read IMDS (through the node's network namespace) get an answer.
      httpPutResponseHopLimit: 2,
      blockDevices: [{
        deviceName: '/dev/xvda', // AL2023 EKS AMI root device
        volume: ec2.BlockDeviceVolume.ebs(spec.nodeGroup.diskSizeGiB, {
          volumeType: ec2.EbsDeviceVolumeType.GP3,
          encrypted: true,
          deleteOnTermination: true,
        }),
      }],
    });
    this.launchTemplate.addSecurityGroup(this.cluster.clusterSecurityGroup);

    this.nodegroup = this.cluster.addNodegroupCapacity('Nodes', {
      instanceTypes: [new ec2.InstanceType(spec.nodeGroup.instanceType)],
      amiType: eks.NodegroupAmiType.AL2023_X86_64_STANDARD,
      // The spec gives a fixed node count: no autoscaling range.
      minSize: spec.nodeGroup.nodes,
      desiredSize: spec.nodeGroup.nodes,
      maxSize: spec.nodeGroup.nodes,
      subnets: props.subnets,
      launchTemplateSpec: {
        id: this.launchTemplate.launchTemplateId!,
        version: this.launchTemplate.latestVersionNumber,
      },
    });

    this.acknowledgeManagedPolicies(role);
    this.acknowledgeKubectlProvider();
  }

  /** EKS itself requires these AWS-managed policies on its roles; AWS keeps them current. */
  private acknowledgeManagedPolicies(clusterRole: iam.Role) {
    const managed = (name: string) => `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${name}]`;
    for (const name of ['AmazonEKSClusterPolicy', 'AmazonEKSVPCResourceController']) {
      acknowledge(clusterRole, managed(name),
        `${name} is the policy AWS documents for the EKS cluster service role; EKS needs exactly it and AWS updates it with the service.`);
    }
    const nodeRole = this.nodegroup.role;
    for (const name of ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryReadOnly']) {
      acknowledge(nodeRole, managed(name),
        `${name} is one of the three policies AWS documents for EKS managed node roles (kubelet, VPC CNI, image pulls); a copy would drift from the service.`);
    }
  }

  /**
   * The kubectl/helm handler is aws-cdk-lib's CloudFormation custom-resource provider: its
   * runtime, roles and invocation model are the library's, and it runs only during deploys.
   */
  private acknowledgeKubectlProvider() {
    const provider = this.cluster.node.findChild('KubectlProvider');
    const findings: Record<string, string> = {
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
        'The provider functions write their own logs; AWSLambdaBasicExecutionRole is the standard minimal policy for that.',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]':
        'The handler runs in the private subnets to reach the private API endpoint; this is the AWS policy for a VPC-attached function\'s ENIs.',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly]':
        'aws-cdk-lib lets the handler pull Helm charts from ECR (OCI); the read-only AWS policy is what it attaches.',
      'AwsSolutions-IAM4[Policy::{"Fn::If":["EksClusterKubectlProviderHandlerHasEcrPublicC426D1A5",{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly"]]},{"Ref":"AWS::NoValue"}]}]':
        'Read-only pulls of public ECR Helm charts, attached by aws-cdk-lib only in partitions that have ECR Public.',
      'AwsSolutions-IAM5[Resource::<EksClusterKubectlProviderHandlerDA75FB7A.Arn>:*]':
        'The provider framework invokes any version of its own handler function; the wildcard is the version suffix of that one ARN.',
      'AwsSolutions-L1':
        'aws-cdk-lib pins the runtime of its kubectl handler (it must match the kubectl layer); upgrading aws-cdk-lib moves it.',
      'PCI.DSS.321-IAMNoInlinePolicy':
        'aws-cdk-lib writes the provider functions\' grants as inline policies of their own roles, each used by that one function only.',
      'NIST.800.53.R5-IAMNoInlinePolicy':
        'aws-cdk-lib writes the provider functions\' grants as inline policies of their own roles, each used by that one function only.',
      'NIST.800.53.R5-LambdaConcurrency':
        'Invoked only by CloudFormation during a deploy of this stack, a handful of calls at a time; a reservation would only idle capacity.',
      'NIST.800.53.R5-LambdaDLQ':
        'Invoked synchronously by the custom-resource framework, which reports failures to CloudFormation and rolls back; there is no async event to dead-letter.',
      'checkov:CKV_AWS_115':
        'Invoked only by CloudFormation during a deploy of this stack, a handful of calls at a time; a reservation would only idle capacity.',
      'checkov:CKV_AWS_116':
        'Invoked synchronously by the custom-resource framework, which reports failures to CloudFormation and rolls back; there is no async event to dead-letter.',
      'checkov:CKV_AWS_173':
        'The provider\'s environment holds only the cluster name, role ARN and flags, no secret; Lambda encrypts it at rest with its service key.',
      'cfn-lint:W3005':
        'aws-cdk-lib renders an explicit DependsOn on the provider role beside the GetAtt; redundant but harmless, and not ours to edit.',
    };
    for (const [id, reason] of Object.entries(findings)) acknowledge(provider, id, reason);
  }
}
