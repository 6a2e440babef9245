import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeRestrictDefaultSecurityGroup } from '../../compliance';
import { zoneSubnetGroupName, zoneSubnets } from './zoned-vpc';

export interface StandbyVpcProps {
  readonly cidr: string;
  readonly natGateways: number;
  readonly subnetCidrMask: number;
  readonly availabilityZones: readonly string[];
  readonly flowLogRetentionDays: number;
  readonly flowLogGroupName: string;
  /** A key whose policy lets CloudWatch Logs encrypt the flow log group. */
  readonly flowLogKeyArn: string;
}

/** The AWS APIs a Vault node calls, kept off the NAT: secrets, unseal key, logs, SSM sessions. */
const INTERFACE_ENDPOINTS: Record<string, ec2.InterfaceVpcEndpointAwsService> = {
  Kms: ec2.InterfaceVpcEndpointAwsService.KMS,
  SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  Sts: ec2.InterfaceVpcEndpointAwsService.STS,
  Ssm: ec2.InterfaceVpcEndpointAwsService.SSM,
  SsmMessages: ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
  Ec2Messages: ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES,
};

/**
 * The DR region's minimal network for the Vault standby (the DR region has no network stack):
 * a private subnet per AZ with few NATs (the standby is cold; it needs the HashiCorp repository
 * only when scaled up), a public subnet for the NAT alone, flow logs, and endpoints.
 */
export class StandbyVpc extends Construct {
  readonly vpc: ec2.Vpc;

  constructor(scope: Construct, id: string, props: StandbyVpcProps) {
    super(scope, id);
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      logGroupName: props.flowLogGroupName,
      encryptionKey: kms.Key.fromKeyArn(this, 'FlowLogKey', props.flowLogKeyArn),
      retention: props.flowLogRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.cidr),
      availabilityZones: [...props.availabilityZones],
      natGateways: props.natGateways,
      subnetConfiguration: [
        { name: zoneSubnetGroupName('public'), subnetType: ec2.SubnetType.PUBLIC, cidrMask: props.subnetCidrMask, mapPublicIpOnLaunch: false },
        { name: zoneSubnetGroupName('private'), subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: props.subnetCidrMask },
      ],
      restrictDefaultSecurityGroup: true,
      flowLogs: {
        all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: ec2.FlowLogTrafficType.ALL },
      },
      gatewayEndpoints: {
        DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      },
    });
    acknowledgeRestrictDefaultSecurityGroup(this.vpc);
    // One group for all endpoints, HTTPS from this VPC's (literal) CIDR only.
    const endpoints = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc, description: 'interface endpoints: HTTPS from the standby VPC', allowAllOutbound: false,
    });
    endpoints.addIngressRule(ec2.Peer.ipv4(props.cidr), ec2.Port.tcp(443), 'HTTPS from the standby VPC');
    for (const [name, service] of Object.entries(INTERFACE_ENDPOINTS)) {
      this.vpc.addInterfaceEndpoint(name, {
        service, subnets: zoneSubnets('private'), privateDnsEnabled: true, securityGroups: [endpoints], open: false,
      });
    }
    for (const subnet of this.vpc.publicSubnets) {
      const route = subnet.node.findChild('DefaultRoute');
      for (const rule of ['PCI.DSS.321-VPCNoUnrestrictedRouteToIGW', 'NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW']) {
        Validations.of(route).acknowledge({
          id: rule,
          reason: 'The public subnets hold only the NAT gateway (no instance, no public address is mapped); its route to the internet gateway is what makes it a NAT.',
        });
      }
    }
    const flowLogPolicy = this.vpc.node.findChild('all').node.findChild('IAMRole').node.findChild('DefaultPolicy');
    for (const rule of ['PCI.DSS.321-IAMNoInlinePolicy', 'NIST.800.53.R5-IAMNoInlinePolicy']) {
      Validations.of(flowLogPolicy).acknowledge({
        id: rule,
        reason: 'CDK\'s flow-log delivery role: its policy is scoped to the one flow log group and belongs to that role alone.',
      });
    }
  }
}
