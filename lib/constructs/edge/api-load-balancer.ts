import { Duration, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { ServiceSpec } from '../../spec';

export interface ApiLoadBalancerProps {
  readonly vpc: ec2.IVpc;
  /** The VPC subnet group of the public zone. */
  readonly subnetGroupName: string;
  /** The public zone's load-balancer group; its egress to the DMZ is the network stack's. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** The only source admitted on 443/80: CloudFront's origin-facing managed prefix list. */
  readonly cloudFrontPrefixListId: string;
  readonly certificateArn: string;
  /** The header CloudFront adds and the values accepted (dynamic references, never the secret itself). */
  readonly originVerifyHeader: { readonly name: string; readonly acceptedValues: readonly string[] };
  /** The service behind the load balancer: the api-gateway. */
  readonly service: ServiceSpec;
  readonly accessLogBucket: s3.IBucket;
}

/**
 * The internet-facing ALB in front of the api-gateway, reachable only from CloudFront:
 * CloudFront's prefix list at the network layer, the origin-verify header at layer 7.
 * Targets are the gateway's pod IPs, registered by a TargetGroupBinding in the cluster.
 */
export class ApiLoadBalancer extends Construct {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly httpsListener: elbv2.ApplicationListener;
  /** Forwards requests carrying the origin-verify header; everything else gets the 403 default. */
  readonly originVerifyRule: elbv2.ApplicationListenerRule;

  constructor(scope: Construct, id: string, props: ApiLoadBalancerProps) {
    super(scope, id);
    const { vpc, service } = props;

    // Separate rule resources in this stack (not inline in the network stack's group), so the
    // edge owns its ingress. The prefix list is CloudFront's only: no 0.0.0.0/0 anywhere.
    const cloudFront = ec2.Peer.prefixList(props.cloudFrontPrefixListId);
    for (const [name, port] of [['Https', 443], ['Http', 80]] as const) {
      new ec2.CfnSecurityGroupIngress(this, `FromCloudFront${name}`, {
        groupId: props.securityGroup.securityGroupId,
        ipProtocol: 'tcp', fromPort: port, toPort: port,
        sourcePrefixListId: cloudFront.toIngressRuleConfig().sourcePrefixListId,
        description: `CloudFront origin-facing servers on ${port}`,
      });
    }

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc,
      internetFacing: true,
      vpcSubnets: { subnetGroupName: props.subnetGroupName },
      securityGroup: props.securityGroup,
      deletionProtection: true,
      dropInvalidHeaderFields: true,
      desyncMitigationMode: elbv2.DesyncMitigationMode.STRICTEST,
      http2Enabled: true,
    });
    this.loadBalancer.logAccessLogs(props.accessLogBucket, 'alb');

    // HTTPS to the pods: the gateway serves HTTPS on its port (spec: Client -> Gateway HTTPS),
    // so traffic stays encrypted inside the VPC too. The ALB does not verify target
    // certificates, so the gateway's cert-manager certificate suffices. Health checks use the
    // plaintext health port, which has no TLS by design (DESIGN.md §5).
    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'ApiGateway', {
      vpc,
      targetType: elbv2.TargetType.IP,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      port: service.port,
      deregistrationDelay: Duration.seconds(30),
      healthCheck: {
        protocol: elbv2.Protocol.HTTP,
        port: String(service.healthPort),
        path: service.readinessPath,
        healthyHttpCodes: '200',
      },
    });

    // open: false everywhere: the listener must not add its own 0.0.0.0/0 ingress.
    this.httpsListener = this.loadBalancer.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [elbv2.ListenerCertificate.fromArn(props.certificateArn)],
      // TLS 1.3 and 1.2 with restricted (forward-secret AES-GCM) ciphers and post-quantum key exchange.
      sslPolicy: elbv2.SslPolicy.TLS13_12_RES_PQ,
      open: false,
      defaultAction: elbv2.ListenerAction.fixedResponse(403, { contentType: 'text/plain', messageBody: 'Forbidden' }),
    });
    this.originVerifyRule = new elbv2.ApplicationListenerRule(this, 'FromCloudFront', {
      listener: this.httpsListener,
      priority: 1,
      conditions: [elbv2.ListenerCondition.httpHeader(props.originVerifyHeader.name, [...props.originVerifyHeader.acceptedValues])],
      action: elbv2.ListenerAction.forward([this.targetGroup]),
    });

    const httpListener = this.loadBalancer.addListener('Http', {
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      open: false,
      defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
    });
    for (const ruleId of ['PCI.DSS.321-ELBv2ACMCertificateRequired', 'NIST.800.53.R5-ELBv2ACMCertificateRequired']) {
      Validations.of(httpListener).acknowledge({
        id: ruleId,
        reason: 'Port 80 only answers with a permanent redirect to HTTPS and serves no content; no certificate applies.',
      });
    }
  }
}
