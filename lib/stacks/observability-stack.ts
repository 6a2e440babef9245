import { CfnOutput } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { acknowledgeDeployTimeFunction } from '../compliance';
import { RetainedLogGroup } from '../constructs/shared/retained-log-group';
import { AlarmTopics } from '../observability/alarm-topics';
import { awsAlarmGroups } from '../observability/aws-alarms';
import type { AwsAlarmTargets } from '../observability/aws-alarms';
import { PlatformMonitoring } from '../observability/platform-monitoring';
import type { ClusterStack } from './cluster-stack';
import type { EdgeStack } from './edge-stack';
import type { NetworkStack } from './network-stack';
import { PlatformStack } from './platform-stack';
import type { PlatformStackProps } from './platform-stack';
import type { VaultStack } from './vault-stack';
import { zoneSubnets } from '../constructs/network/zoned-vpc';

/** The construct id of the one function every AwsCustomResource of a stack shares. */
const AWS_CUSTOM_RESOURCE_SINGLETON = 'AWS679f53fac002430cb0da5b7982bd2287';

/**
 * What the alarms watch that has no name of its own in the spec (the data stores, Vault's group
 * and table, the Flink job and warehouse are addressed by the names lib/spec gives them, so their
 * stacks need not export anything): passed as construct props by the stage.
 */
export interface ObservabilityStackProps extends PlatformStackProps {
  readonly network: Pick<NetworkStack, 'vpc'>;
  readonly edge: Pick<EdgeStack, 'loadBalancer' | 'apiGatewayTargetGroup' | 'distribution'>;
  readonly vault: Pick<VaultStack, 'cluster'>;
  readonly cluster: Pick<ClusterStack, 'cluster' | 'nodegroup'>;
}

/**
 * The environment's alarms, notification topics and dashboard (docs/observability.md): every
 * threshold from lib/spec `observability`, every alarm with a runbook under docs/runbooks/.
 * Alertmanager (the cluster's Prometheus add-on) publishes to the same topics.
 */
export class ObservabilityStack extends PlatformStack {
  readonly topics: AlarmTopics;
  readonly monitoring: PlatformMonitoring;

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    const { network, edge, vault, cluster, ...stackProps } = props;
    super(scope, id, {
      description: `${props.spec.project} ${props.environment.name}: alarms, notification topics, dashboard`,
      ...stackProps,
    });
    const { spec, environment } = props;
    const prefix = `${spec.project}-${environment.name}`;

    this.topics = new AlarmTopics(this, 'Topics', { namePrefix: prefix, notifications: spec.observability.notifications[environment.name]! });

    const targets: AwsAlarmTargets = {
      loadBalancerFullName: edge.loadBalancer.loadBalancerFullName,
      apiGatewayTargetGroupFullName: edge.apiGatewayTargetGroup.targetGroupFullName,
      distributionId: edge.distribution.distributionId,
      natGatewayIds: natGatewayIds(network.vpc),
      vaultLoadBalancerFullName: vault.cluster.loadBalancer.loadBalancerFullName,
      vaultTargetGroupFullName: vault.cluster.targetGroup.targetGroupFullName,
      nodeGroupAutoScalingGroupName: this.nodeGroupAutoScalingGroup(prefix, network.vpc, cluster),
    };
    this.monitoring = new PlatformMonitoring(this, 'Monitoring', {
      namePrefix: prefix,
      groups: awsAlarmGroups(spec, environment, targets),
      topics: this.topics.topics,
      dashboardNote: [
        `**${prefix}**: AWS-side signals; thresholds from lib/spec \`observability\`, runbooks in docs/runbooks/.`,
        'The services\' golden signals per route and RPC (rate, errors, p99 latency, saturation) are in the cluster\'s Prometheus',
        '(recording rules `route:*` and `rpc:*`, alerts routed by Alertmanager to the same SNS topics): docs/observability.md.',
      ].join(' '),
    });

    for (const [severity, topic] of Object.entries(this.topics.topics)) {
      new CfnOutput(this, `${severity === 'critical' ? 'Critical' : 'Warning'}TopicArn`, { value: topic.topicArn });
    }
    new CfnOutput(this, 'DashboardName', { value: prefix });
  }

  /**
   * EKS creates the managed node group's Auto Scaling group and names it itself; no
   * CloudFormation attribute carries the name, so a deploy-time call reads it
   * (eks:DescribeNodegroup). The function runs in the private subnets (the VPC's EKS endpoint).
   */
  private nodeGroupAutoScalingGroup(prefix: string, vpc: ec2.IVpc, cluster: ObservabilityStackProps['cluster']): string {
    const functionName = `${prefix}-nodegroup-asg`;
    const clusterName = cluster.cluster.clusterName;
    const nodegroupName = cluster.nodegroup.nodegroupName;
    const describe: cr.AwsSdkCall = {
      service: 'EKS',
      action: 'DescribeNodegroup',
      parameters: { clusterName, nodegroupName },
      physicalResourceId: cr.PhysicalResourceId.of(`${prefix}/nodegroup-asg`),
      outputPaths: ['nodegroup.resources.autoScalingGroups.0.name'],
    };
    const read = new cr.AwsCustomResource(this, 'NodeGroupAutoScalingGroup', {
      onCreate: describe,
      onUpdate: describe,
      policy: cr.AwsCustomResourcePolicy.fromStatements([new iam.PolicyStatement({
        actions: ['eks:DescribeNodegroup'],
        resources: [cluster.nodegroup.nodegroupArn],
      })]),
      installLatestAwsSdk: false,
      vpc,
      vpcSubnets: zoneSubnets('private'),
      functionName,
      logGroup: new RetainedLogGroup(this, 'NodeGroupAutoScalingGroupLogs', {
        logGroupName: `/aws/lambda/${functionName}`,
        retentionDays: this.envSpec.cluster.controlPlaneLogRetentionDays,
        encryptionKey: this.logsKey,
      }).logGroup,
    });
    const singleton = this.node.tryFindChild(AWS_CUSTOM_RESOURCE_SINGLETON);
    if (!singleton) throw new Error(`AwsCustomResource no longer creates ${AWS_CUSTOM_RESOURCE_SINGLETON}: update ObservabilityStack's acknowledgements`);
    acknowledgeDeployTimeFunction(singleton);
    acknowledgeDeployTimeFunction(read);
    return read.getResponseField('nodegroup.resources.autoScalingGroups.0.name');
  }
}

/** The NAT gateways of the VPC's public subnets (one per AZ in production, one in staging). */
function natGatewayIds(vpc: ec2.IVpc): string[] {
  return vpc.publicSubnets.flatMap((subnet) => {
    const nat = subnet.node.tryFindChild('NATGateway');
    return nat ? [(nat as ec2.CfnNatGateway).attrNatGatewayId] : [];
  });
}
