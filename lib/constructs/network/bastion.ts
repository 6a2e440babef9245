import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge } from '../../compliance';
import { zoneSubnets } from './zoned-vpc';

export interface BastionProps {
  readonly vpc: ec2.IVpc;
  /** The environment's name, in the role's description. */
  readonly environmentName: string;
  /** The private-zone AZ the host runs in. */
  readonly availabilityZone: string;
  /** EC2 instance type, e.g. t3.micro (`environments.<env>.network.bastionInstanceType`). */
  readonly instanceType: string;
  readonly securityGroup: ec2.ISecurityGroup;
}

/**
 * The restricted zone's one operator path: an SSM Session Manager host with no inbound rule,
 * no SSH key and no public address. Sessions are authorised and logged by IAM/SSM.
 */
export class Bastion extends Construct {
  readonly instance: ec2.Instance;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: BastionProps) {
    super(scope, id);
    const { vpc, securityGroup } = props;

    // Exactly what the SSM agent needs for Session Manager, as a customer-managed policy
    // (AmazonSSMManagedInstanceCore would also grant parameter and patch access).
    const sessionManager = new iam.ManagedPolicy(this, 'SessionManagerPolicy', {
      description: 'SSM agent of the bastion: register and carry Session Manager sessions',
      statements: [
        new iam.PolicyStatement({
          actions: [
            'ssm:UpdateInstanceInformation',
            'ssmmessages:CreateControlChannel', 'ssmmessages:CreateDataChannel',
            'ssmmessages:OpenControlChannel', 'ssmmessages:OpenDataChannel',
            'ec2messages:AcknowledgeMessage', 'ec2messages:DeleteMessage', 'ec2messages:FailMessage',
            'ec2messages:GetEndpoint', 'ec2messages:GetMessages', 'ec2messages:SendReply',
          ],
          resources: ['*'],
        }),
      ],
    });
    for (const id of ['AwsSolutions-IAM5[Resource::*]', 'checkov:CKV_AWS_111']) {
      acknowledge(sessionManager, id,
        'The ssm:UpdateInstanceInformation, ssmmessages:* and ec2messages:* actions listed support no resource-level permissions (IAM service authorization reference); the action list is the minimum Session Manager needs.');
    }

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `${props.environmentName} bastion: SSM Session Manager only`,
      managedPolicies: [sessionManager],
    });

    this.instance = new ec2.Instance(this, 'Host', {
      vpc,
      vpcSubnets: { ...zoneSubnets('private'), availabilityZones: [props.availabilityZone] },
      securityGroup,
      role: this.role,
      instanceType: new ec2.InstanceType(props.instanceType),
      machineImage: ec2.MachineImage.latestAmazonLinux2023(),
      requireImdsv2: true,
      detailedMonitoring: true,
      disableApiTermination: true,
      blockDevices: [{
        deviceName: '/dev/xvda',
        volume: ec2.BlockDeviceVolume.ebs(20, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }),
      }],
    });
  }
}
