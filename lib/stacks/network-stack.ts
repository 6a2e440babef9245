import { CfnOutput } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import { Bastion } from '../constructs/network/bastion';
import { DmzVpn } from '../constructs/network/dmz-vpn';
import { SecurityZones } from '../constructs/network/security-zones';
import type { SecurityZoneGroups } from '../constructs/network/security-zones';
import { ZonedVpc } from '../constructs/network/zoned-vpc';
import { PlatformStack } from './platform-stack';
import type { PlatformStackProps } from './platform-stack';

export type { SecurityZoneGroups } from '../constructs/network/security-zones';

/**
 * The network of one environment: the VPC with the spec's four security zones, the zone
 * security groups, the Client VPN into the DMZ and the SSM bastion.
 */
export class NetworkStack extends PlatformStack {
  readonly vpc: ec2.Vpc;
  readonly zones: SecurityZoneGroups;
  readonly vpn: ec2.ClientVpnEndpoint;
  readonly bastion: ec2.Instance;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, { description: `${props.spec.project} ${props.environment.name}: VPC, security zones, VPN, bastion`, ...props });

    const { spec, environment } = props;
    const network = environment.network;
    this.vpc = new ZonedVpc(this, 'Network', {
      securityZones: spec.securityZones,
      network,
      availabilityZones: environment.availabilityZones,
      logsKey: this.logsKey,
    }).vpc;
    this.zones = new SecurityZones(this, 'Zones', { vpc: this.vpc, spec });
    this.vpn = new DmzVpn(this, 'Vpn', {
      vpc: this.vpc,
      environmentName: environment.name,
      vpn: network.vpn,
      logRetentionDays: network.flowLogRetentionDays,
      securityGroup: this.zones.vpn,
      logsKey: this.logsKey,
    }).endpoint;
    this.bastion = new Bastion(this, 'Bastion', {
      vpc: this.vpc,
      environmentName: environment.name,
      availabilityZone: environment.availabilityZones[0]!,
      instanceType: network.bastionInstanceType,
      securityGroup: this.zones.bastion,
    }).instance;

    new CfnOutput(this, 'VpcId', { value: this.vpc.vpcId });
    new CfnOutput(this, 'ClientVpnEndpointId', { value: this.vpn.endpointId });
    new CfnOutput(this, 'BastionSessionCommand', {
      description: 'Open a shell on the bastion (no SSH: SSM Session Manager)',
      value: `aws ssm start-session --region ${props.environment.region} --target ${this.bastion.instanceId}`,
    });
  }
}
