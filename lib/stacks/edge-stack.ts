import { CfnOutput, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import type { Construct } from 'constructs';
import { AccessLogBucket } from '../constructs/edge/access-log-bucket';
import { ApiDistribution } from '../constructs/edge/api-distribution';
import { ApiLoadBalancer } from '../constructs/edge/api-load-balancer';
import { ManagedRulesWebAcl } from '../constructs/edge/managed-rules-web-acl';
import { OriginVerifySecret } from '../constructs/edge/origin-verify-secret';
import { CLOUDFRONT_REGION } from '../spec';
import { edgeService } from '../spec/topology';
import type { NetworkStack } from './network-stack';
import { allowLogsToEncrypt } from '../constructs/shared/data-key';
import { acmCertificateArn, cloudFrontCertificateArn } from '../constructs/shared/environment-arns';
import { PlatformStack } from './platform-stack';
import { invalidProp } from '../constructs/shared/validation';
import type { PlatformStackProps } from './platform-stack';
import { zoneSubnetGroupName } from '../constructs/network/zoned-vpc';

export interface EdgeStackProps extends PlatformStackProps {
  /** The environment's network: the ALB lives in its `public` subnets with `zones.loadBalancer`. */
  readonly network: Pick<NetworkStack, 'vpc' | 'zones'>;
}

/**
 * The edge of one environment (spec "System Overview" and "Network Topology", DESIGN.md §4):
 * Client -> CloudFront (WAF) -> ALB (WAF) -> api-gateway pods. The ALB accepts only CloudFront:
 * its origin-facing prefix list at the network layer, a secret origin header at layer 7.
 */
export class EdgeStack extends PlatformStack {
  readonly distribution: cloudfront.Distribution;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** For the charts' TargetGroupBinding of the api-gateway Service. */
  readonly apiGatewayTargetGroup: elbv2.ApplicationTargetGroup;

  constructor(scope: Construct, id: string, props: EdgeStackProps) {
    const { network, ...stackProps } = props;
    super(scope, id, {
      description: `${props.spec.project} ${props.environment.name}: CloudFront, WAF, ALB in front of the ${edgeService(props.spec).name}`,
      ...stackProps,
    });
    const { spec, environment } = props;
    const edge = environment.edge;
    // The CLOUDFRONT-scope web ACL below must be created in us-east-1. The spec puts every
    // environment there, so one stack per environment holds the whole edge; a move elsewhere
    // must split the ACL into a us-east-1 stack rather than fail at deploy time.
    if (this.region !== CLOUDFRONT_REGION) {
      invalidProp(this, `environments.${environment.name}.region`,
        `= "${this.region}": the edge stack creates its CLOUDFRONT-scope WAF web ACL `
        + `in its own region, and CloudFront accepts only web ACLs from ${CLOUDFRONT_REGION}. Move the CloudFront web ACL `
        + `to a ${CLOUDFRONT_REGION} stack (lib/stacks/edge-stack.ts) before deploying this environment elsewhere.`,
      );
    }
    // Checked by the spec schema for every environment region; repeated here for a clear message.
    const prefixListId = spec.edge.cloudFrontOriginFacingPrefixLists[this.region];
    if (!prefixListId) invalidProp(this, 'edge.cloudFrontOriginFacingPrefixLists', `has no entry for ${this.region}`);
    // The service the edge fronts (spec "System Overview": Load Balancer -> API Gateway).
    const service = edgeService(spec);

    const name = `${spec.project}-${environment.name}`;
    // Not a DataKey: that nests its key one construct deeper, which would give this key a new
    // logical id (a replacement: the secret versions and logs it encrypts become unreadable).
    const key = new kms.Key(this, 'EdgeKey', {
      description: `${name} edge: WAF log groups and the origin-verify secret`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch Logs encrypts the WAF log groups with the key, and only those.
    allowLogsToEncrypt(key, 'aws-waf-logs-*');

    const serverAccessLogs = new AccessLogBucket(this, 'ServerAccessLogs', { expirationDays: edge.accessLogExpirationDays });
    const accessLogs = new AccessLogBucket(this, 'AccessLogs', {
      expirationDays: edge.accessLogExpirationDays,
      serverAccessLogsBucket: serverAccessLogs.bucket,
      allowLogDeliveryAcls: true,
    });

    const originSecret = new OriginVerifySecret(this, 'OriginVerify', {
      encryptionKey: key, versionIds: edge.originVerifySecretVersionIds,
    });
    const headerName = spec.edge.originVerifyHeaderName;

    const webAcl = (scope: 'CLOUDFRONT' | 'REGIONAL', suffix: string) => new ManagedRulesWebAcl(this, `${suffix}Waf`, {
      scope,
      name: `${name}-${suffix.toLowerCase()}`,
      rateLimitPer5Minutes: edge.wafRateLimitPer5Minutes,
      logRetentionDays: edge.wafLogRetentionDays,
      logEncryptionKey: key,
    });
    const cloudFrontAcl = webAcl('CLOUDFRONT', 'CloudFront');
    const albAcl = webAcl('REGIONAL', 'Alb');

    const api = new ApiLoadBalancer(this, 'Api', {
      vpc: network.vpc,
      // The internet-facing ALB: the public zone (spec §5).
      subnetGroupName: zoneSubnetGroupName('public'),
      securityGroup: network.zones.loadBalancer,
      cloudFrontPrefixListId: prefixListId,
      certificateArn: acmCertificateArn(this, edge.loadBalancerCertificateId),
      originVerifyHeader: { name: headerName, acceptedValues: originSecret.acceptedValues },
      service,
      accessLogBucket: accessLogs.bucket,
    });
    this.loadBalancer = api.loadBalancer;
    this.apiGatewayTargetGroup = api.targetGroup;
    new wafv2.CfnWebACLAssociation(this, 'AlbWafAssociation', {
      resourceArn: this.loadBalancer.loadBalancerArn,
      webAclArn: albAcl.webAcl.attrArn,
    });

    this.distribution = new ApiDistribution(this, 'Cdn', {
      domainName: edge.domainName,
      certificateArn: cloudFrontCertificateArn(this, edge.cloudFrontCertificateId),
      originDomainName: edge.originDomainName,
      originVerifyHeader: { name: headerName, value: originSecret.sentValue },
      webAclArn: cloudFrontAcl.webAcl.attrArn,
      staticPaths: spec.edge.staticPaths,
      logBucket: accessLogs.bucket,
    }).distribution;
    // During a rotation the ALB must accept the new value before CloudFront starts sending it.
    this.distribution.node.addDependency(api.originVerifyRule);

    new CfnOutput(this, 'DistributionDomainName', {
      description: `Alias ${edge.domainName} to this name`,
      value: this.distribution.distributionDomainName,
    });
    new CfnOutput(this, 'LoadBalancerDnsName', {
      description: `Alias ${edge.originDomainName} (CloudFront's origin) to this name`,
      value: this.loadBalancer.loadBalancerDnsName,
    });
    new CfnOutput(this, 'ApiGatewayTargetGroupArn', {
      description: `For the ${service.name} TargetGroupBinding`,
      value: this.apiGatewayTargetGroup.targetGroupArn,
    });
    new CfnOutput(this, 'OriginVerifySecretArn', {
      description: 'Rotate per docs/edge.md',
      value: originSecret.secret.secretArn,
    });
  }
}
