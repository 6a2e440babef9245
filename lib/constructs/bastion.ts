import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { EnvironmentSpec } from '../spec';

export interface BastionProps {
  readonly vpc: ec2.IVpc;
  readonly environment: EnvironmentSpec;
  readonly securityGroup: ec2.ISecurityGroup;
}

/**
 * The restricted zone's one operator path: an SSM Session Manager host with no inbound rule,
 * no SSH key and no public address. Sessions are authorised and logged by IAM/SSM.
 */
export class Bastion extends Construct {
  readonly host: ec2.BastionHostLinux;

  constructor(scope: Construct, id: string, props: BastionProps) {
    super(scope, id);
    const { vpc, environment, securityGroup } = props;
    this.host = new ec2.BastionHostLinux(this, 'Host', {
      vpc,
      subnetSelection: { subnetGroupName: 'private' },
      availabilityZone: environment.availabilityZones[0],
      securityGroup,
      instanceType: new ec2.InstanceType(environment.network.bastionInstanceType),
      requireImdsv2: true,
      blockDevices: [{
        deviceName: '/dev/xvda',
        volume: ec2.BlockDeviceVolume.ebs(20, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }),
      }],
    });
  }
}
