import { RemovalPolicy, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { acknowledge, acknowledgeRestrictDefaultSecurityGroup } from '../../compliance';
import { Construct } from 'constructs';
import type { EnvironmentSpec, PlatformSpec, ZoneName } from '../../spec';

export interface ZonedVpcProps {
  /** The zones' subnet sizes (`securityZones` of the spec). */
  readonly securityZones: PlatformSpec['securityZones'];
  /** CIDR, NAT gateways and flow log retention (`environments.<env>.network`). */
  readonly network: Pick<EnvironmentSpec['network'], 'vpcCidr' | 'natGateways' | 'flowLogRetentionDays'>;
  /** One subnet per zone in each. */
  readonly availabilityZones: readonly string[];
  /** Encrypts the flow log group. */
  readonly logsKey: kms.IKey;
}

/**
 * The subnet group of a security zone: each VPC here (ZonedVpc, the Vault standby's) names a
 * zone's subnet group after the zone itself, and every selection of a zone's subnets uses this.
 */
export const zoneSubnetGroupName = (zone: ZoneName): string => zone;
/** The subnets of one security zone, for a construct's `subnets`/`vpcSubnets`. */
export const zoneSubnets = (zone: ZoneName): ec2.SubnetSelection => ({ subnetGroupName: zoneSubnetGroupName(zone) });

/** How each security zone of the spec maps onto a subnet type. */
const ZONE_SUBNET_TYPES: Record<ZoneName, ec2.SubnetType> = {
  public: ec2.SubnetType.PUBLIC,
  dmz: ec2.SubnetType.PRIVATE_WITH_EGRESS,
  private: ec2.SubnetType.PRIVATE_WITH_EGRESS,
  // The restricted zone holds data stores: no route to the internet at all.
  restricted: ec2.SubnetType.PRIVATE_ISOLATED,
};

/**
 * Interface endpoints the cluster and the bastion need so that their AWS API calls stay off
 * the NAT: image pulls (ECR), pod credentials (STS, EKS Auth), logs, SSM sessions, and the
 * controllers' EC2/ELB/EKS calls.
 */
const INTERFACE_ENDPOINTS: Record<string, ec2.InterfaceVpcEndpointAwsService> = {
  EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
  EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
  Sts: ec2.InterfaceVpcEndpointAwsService.STS,
  Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  Ssm: ec2.InterfaceVpcEndpointAwsService.SSM,
  SsmMessages: ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
  Ec2Messages: ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES,
  Ec2: ec2.InterfaceVpcEndpointAwsService.EC2,
  ElasticLoadBalancing: ec2.InterfaceVpcEndpointAwsService.ELASTIC_LOAD_BALANCING,
  Eks: ec2.InterfaceVpcEndpointAwsService.EKS,
  EksAuth: ec2.InterfaceVpcEndpointAwsService.EKS_AUTH,
};

/** Zones in allocation order: largest blocks first so every subnet lands on its own boundary. */
function allocationOrder(securityZones: PlatformSpec['securityZones']): ZoneName[] {
  return (Object.keys(ZONE_SUBNET_TYPES) as ZoneName[])
    .sort((a, b) => securityZones[a].subnetCidrMask - securityZones[b].subnetCidrMask);
}

/**
 * The VPC of one environment: one subnet per security zone per AZ, flow logs, and the
 * endpoints that keep cluster traffic to AWS APIs inside the VPC.
 */
export class ZonedVpc extends Construct {
  readonly vpc: ec2.Vpc;
  readonly flowLogGroup: logs.LogGroup;
  /** Shared by the interface endpoints: HTTPS from inside the VPC only. */
  readonly endpointSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: ZonedVpcProps) {
    super(scope, id);
    const { securityZones, network } = props;

    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: network.flowLogRetentionDays as logs.RetentionDays,
      encryptionKey: props.logsKey,
      // Flow logs are audit evidence: keep them when the stack goes.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(network.vpcCidr),
      availabilityZones: [...props.availabilityZones],
      natGateways: network.natGateways,
      natGatewaySubnets: zoneSubnets('public'),
      subnetConfiguration: allocationOrder(securityZones).map((zone) => ({
        name: zoneSubnetGroupName(zone),
        subnetType: ZONE_SUBNET_TYPES[zone],
        cidrMask: securityZones[zone].subnetCidrMask,
        // Nothing gets a public address by default, not even in the public zone (NAT/ALB bring their own).
        ...(zone === 'public' ? { mapPublicIpOnLaunch: false } : {}),
      })),
      restrictDefaultSecurityGroup: true,
      flowLogs: {
        all: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
          trafficType: ec2.FlowLogTrafficType.ALL,
        },
      },
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      },
    });

    // The tags the EKS cluster would add itself (load balancer subnet discovery): set here so
    // the network template is the same with or without a cluster on top.
    for (const subnet of this.vpc.publicSubnets) Tags.of(subnet).add('kubernetes.io/role/elb', '1');
    for (const subnet of this.vpc.privateSubnets) Tags.of(subnet).add('kubernetes.io/role/internal-elb', '1');

    for (const subnet of this.vpc.publicSubnets) {
      for (const pack of ['PCI.DSS.321', 'NIST.800.53.R5']) {
        acknowledge(subnet, `${pack}-VPCNoUnrestrictedRouteToIGW`,
          'The public zone is the internet-facing tier by definition (spec: Public | Internet): it holds only the NAT gateways and the load balancer; nothing in it gets a public IP at launch.');
      }
    }

    // One group for all endpoints, its source written out from the spec (not a token), so the
    // rule is readable in the template and checkable by cdk-nag.
    this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'Interface VPC endpoints: HTTPS from inside the VPC',
      allowAllOutbound: false,
    });
    this.endpointSecurityGroup.addIngressRule(ec2.Peer.ipv4(network.vpcCidr), ec2.Port.HTTPS, 'AWS API calls from the VPC');
    for (const [name, service] of Object.entries(INTERFACE_ENDPOINTS)) {
      this.vpc.addInterfaceEndpoint(name, {
        service,
        subnets: zoneSubnets('private'),
        privateDnsEnabled: true,
        securityGroups: [this.endpointSecurityGroup],
        // The group above already admits the VPC, with the CIDR written out.
        open: false,
      });
    }
    acknowledgeRestrictDefaultSecurityGroup(this.vpc);

    acknowledge(this.vpc.node.findChild('all'), 'PCI.DSS.321-IAMNoInlinePolicy',
      'CDK writes the flow log role\'s grant (logs:CreateLogStream/PutLogEvents on this one log group) as an inline policy of that role alone; a managed policy would add no control.');
    acknowledge(this.vpc.node.findChild('all'), 'NIST.800.53.R5-IAMNoInlinePolicy',
      'CDK writes the flow log role\'s grant (logs:CreateLogStream/PutLogEvents on this one log group) as an inline policy of that role alone; a managed policy would add no control.');
  }
}
