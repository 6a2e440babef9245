import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acmCertificateArn } from '../shared/environment-arns';
import type { EnvironmentSpec } from '../../spec';
import { zoneSubnets } from './zoned-vpc';

export interface DmzVpnProps {
  readonly vpc: ec2.IVpc;
  /** The environment's name, in the endpoint's description and login banner. */
  readonly environmentName: string;
  /** Client CIDR and the ACM certificate ids (`environments.<env>.network.vpn`). */
  readonly vpn: EnvironmentSpec['network']['vpn'];
  /** Days the connection logs are kept. */
  readonly logRetentionDays: number;
  readonly securityGroup: ec2.ISecurityGroup;
  /** Encrypts the connection log group. */
  readonly logsKey: kms.IKey;
}

/**
 * AWS Client VPN into the DMZ: mutual-TLS client certificates, split tunnel, connection logs.
 * The endpoint is associated with the DMZ subnets; its security group only reaches the DMZ.
 */
export class DmzVpn extends Construct {
  readonly endpoint: ec2.ClientVpnEndpoint;

  constructor(scope: Construct, id: string, props: DmzVpnProps) {
    super(scope, id);
    const { vpc, vpn, securityGroup, environmentName } = props;

    const logGroup = new logs.LogGroup(this, 'ConnectionLogs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      encryptionKey: props.logsKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.endpoint = new ec2.ClientVpnEndpoint(this, 'Endpoint', {
      vpc,
      description: `${environmentName} DMZ access`,
      cidr: vpn.clientCidr,
      serverCertificateArn: acmCertificateArn(this, vpn.serverCertificateId),
      clientCertificateArn: acmCertificateArn(this, vpn.clientRootCertificateId),
      vpcSubnets: zoneSubnets('dmz'),
      securityGroups: [securityGroup],
      // Only VPC-bound traffic enters the tunnel; the rest of a laptop's traffic does not.
      splitTunnel: true,
      logging: true,
      logGroup,
      sessionTimeout: ec2.ClientVpnSessionTimeout.EIGHT_HOURS,
      // Routing is authorised to the VPC below; the security group narrows it to the DMZ.
      authorizeAllUsersToVpcCidr: false,
      clientLoginBanner: `${environmentName}: authorised platform operators only`,
    });
    this.endpoint.addAuthorizationRule('Vpc', {
      cidr: vpc.vpcCidrBlock,
      description: 'VPN clients may route to the VPC; security groups admit them to the DMZ only',
    });
  }
}
