import { Duration, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge } from '../../compliance';
import type { VaultSpec } from '../../spec';

export interface VaultClusterProps {
  readonly vpc: ec2.IVpc;
  /** Where nodes and the internal load balancer live (the private zone). */
  readonly subnets: ec2.SubnetSelection;
  /** Ports, instance type and disk of the nodes (`vault` of the spec). */
  readonly vault: Pick<VaultSpec, 'apiPort' | 'clusterPort' | 'instanceType' | 'diskSizeGiB'>;
  readonly role: iam.IRole;
  readonly userData: ec2.UserData;
  readonly autoScalingGroupName: string;
  readonly loadBalancerName: string;
  /** Node count: min/max (desired follows min; omitted so a deploy never resets a failover's scaling). */
  readonly minCapacity: number;
  readonly maxCapacity: number;
  /**
   * Security groups whose members may call the API (8200): private workloads, bastion.
   * @default - none
   */
  readonly clients?: ReadonlyArray<{ readonly name: string; readonly group: ec2.ISecurityGroup }>;
  /**
   * Address blocks whose hosts may call the API (8200) where no group can be named: the primary
   * region's clients reaching the DR-region standby over an inter-region peering.
   * @default - none
   */
  readonly cidrClients?: ReadonlyArray<{ readonly name: string; readonly cidr: string }>;
  /**
   * CIDR peers on 8200 and 8201 (Enterprise DR replication between regions).
   * @default - none: no replication peer
   */
  readonly replicationPeers?: readonly string[];
}

/**
 * A Vault cluster on EC2: one Auto Scaling group over the given AZs (nodes are stateless: storage
 * and the HA lock are in DynamoDB, so a lost AZ's node is simply relaunched in another), an AL2023
 * launch template (IMDSv2, encrypted gp3, no public address), a dedicated security group, and an
 * internal NLB passing TLS through to the nodes (Vault terminates TLS; standbys forward to the active).
 */
export class VaultCluster extends Construct {
  readonly securityGroup: ec2.SecurityGroup;
  readonly loadBalancerSecurityGroup: ec2.SecurityGroup;
  readonly launchTemplate: ec2.LaunchTemplate;
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  /** The nodes behind the load balancer's API listener (its health is what the alarms watch). */
  readonly targetGroup: elbv2.NetworkTargetGroup;

  constructor(scope: Construct, id: string, props: VaultClusterProps) {
    super(scope, id);
    const { vpc, vault } = props;
    const api = ec2.Port.tcp(vault.apiPort);
    const cluster = ec2.Port.tcp(vault.clusterPort);

    // Egress is HTTPS and the cluster port only: the AWS APIs the nodes call (DynamoDB, KMS,
    // Secrets Manager, CloudWatch Logs; through endpoints where the VPC has them, else the NAT),
    // HashiCorp's RPM repository (NAT), and request forwarding to the active node. DNS, NTP and
    // instance metadata are link-local services that security groups do not filter.
    this.securityGroup = new ec2.SecurityGroup(this, 'NodeSecurityGroup', {
      vpc, description: 'Vault nodes: API from clients and the NLB, cluster port among nodes', allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs and the HashiCorp package repository over HTTPS');
    this.loadBalancerSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc, description: 'Vault internal NLB: API from clients only', allowAllOutbound: false,
    });
    for (const client of props.clients ?? []) {
      this.loadBalancerSecurityGroup.connections.allowFrom(client.group, api, `${client.name} to Vault API`);
      this.securityGroup.connections.allowFrom(client.group, api, `${client.name} to Vault API (node address)`);
    }
    this.securityGroup.connections.allowFrom(this.loadBalancerSecurityGroup, api, 'NLB to Vault API and health checks');
    this.securityGroup.connections.allowInternally(cluster, 'request forwarding among Vault nodes');
    for (const client of props.cidrClients ?? []) {
      this.loadBalancerSecurityGroup.addIngressRule(ec2.Peer.ipv4(client.cidr), api, `${client.name} to Vault API`);
      this.securityGroup.addIngressRule(ec2.Peer.ipv4(client.cidr), api, `${client.name} to Vault API (node address)`);
    }
    for (const peer of props.replicationPeers ?? []) {
      for (const [port, what] of [[api, 'API'], [cluster, 'cluster port']] as const) {
        this.securityGroup.addIngressRule(ec2.Peer.ipv4(peer), port, `DR replication peer cluster: ${what}`);
        this.securityGroup.addEgressRule(ec2.Peer.ipv4(peer), port, `DR replication peer cluster: ${what}`);
      }
    }

    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: ec2.MachineImage.latestAmazonLinux2023(),
      instanceType: new ec2.InstanceType(vault.instanceType),
      role: props.role,
      userData: props.userData,
      securityGroup: this.securityGroup,
      requireImdsv2: true,
      httpPutResponseHopLimit: 1,
      associatePublicIpAddress: false,
      detailedMonitoring: true,
      blockDevices: [{
        deviceName: '/dev/xvda',
        volume: ec2.BlockDeviceVolume.ebs(vault.diskSizeGiB, {
          encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3, deleteOnTermination: true,
        }),
      }],
    });

    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'Nodes', {
      vpc,
      vpcSubnets: props.subnets,
      launchTemplate: this.launchTemplate,
      autoScalingGroupName: props.autoScalingGroupName,
      minCapacity: props.minCapacity,
      maxCapacity: props.maxCapacity,
      healthChecks: autoscaling.HealthChecks.withAdditionalChecks({
        additionalTypes: [autoscaling.AdditionalHealthCheckType.ELB],
        gracePeriod: Duration.minutes(10),
      }),
      // One node at a time, each signalling nothing: the NLB health check gates traffic.
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({ maxBatchSize: 1, minInstancesInService: props.minCapacity > 0 ? props.minCapacity - 1 : 0 }),
      groupMetrics: [autoscaling.GroupMetrics.all()],
    });
    Validations.of(this.autoScalingGroup).acknowledge({
      id: 'AwsSolutions-AS3',
      reason: 'Scaling is deliberate (fixed size; the standby moves only by ops vault-failover, which reports each step); activity history and CloudTrail record every event, alerting belongs to the observability stack.',
    });

    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'LoadBalancer', {
      vpc,
      vpcSubnets: props.subnets,
      internetFacing: false,
      loadBalancerName: props.loadBalancerName,
      securityGroups: [this.loadBalancerSecurityGroup],
      crossZoneEnabled: true,
      deletionProtection: true,
    });
    for (const rule of ['AwsSolutions-ELB2', 'PCI.DSS.321-ELBLoggingEnabled', 'NIST.800.53.R5-ELBLoggingEnabled', 'checkov:CKV_AWS_91']) {
      acknowledge(this.loadBalancer, rule,
        'A TCP (TLS pass-through) NLB listener writes no access logs; every Vault request is recorded by the file audit device shipped to CloudWatch.');
    }
    const listener = this.loadBalancer.addListener('Api', { port: vault.apiPort, protocol: elbv2.Protocol.TCP });
    for (const rule of ['PCI.DSS.321-ELBv2ACMCertificateRequired', 'NIST.800.53.R5-ELBv2ACMCertificateRequired']) {
      Validations.of(listener).acknowledge({
        id: rule,
        reason: 'TLS is end to end: Vault terminates it with our CA\'s certificate (Secrets Manager), so the NLB passes TCP through and never holds a key.',
      });
    }
    this.targetGroup = listener.addTargets('Nodes', {
      port: vault.apiPort,
      protocol: elbv2.Protocol.TCP,
      targets: [this.autoScalingGroup],
      healthCheck: {
        protocol: elbv2.Protocol.HTTPS,
        // Standbys answer 429 with standbyok unset; with it every unsealed node is healthy and forwards to the active.
        path: '/v1/sys/health?standbyok=true',
        interval: Duration.seconds(10),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
      },
      deregistrationDelay: Duration.seconds(30),
    });
  }
}
