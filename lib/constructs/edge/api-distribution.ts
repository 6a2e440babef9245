import { Duration, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface ApiDistributionProps {
  /** The name clients use (CloudFront alternate domain name). */
  readonly domainName: string;
  /** Viewer certificate in us-east-1 covering domainName. */
  readonly certificateArn: string;
  /**
   * The ALB's DNS alias. CloudFront verifies the origin certificate against this name, so it
   * must be a name the ALB certificate covers, not the *.elb.amazonaws.com name.
   */
  readonly originDomainName: string;
  /** Added to every origin request; the ALB forwards only requests that carry it. */
  readonly originVerifyHeader: { readonly name: string; readonly value: string };
  /** ARN of a CLOUDFRONT-scope WAFv2 web ACL. */
  readonly webAclArn: string;
  readonly staticPaths: { readonly pathPatterns: readonly string[]; readonly defaultTtlSeconds: number; readonly maxTtlSeconds: number };
  readonly logBucket: s3.IBucket;
}

/**
 * The CDN in front of the API: HTTPS only from viewer to origin, the API never cached,
 * static paths cached.
 */
export class ApiDistribution extends Construct {
  readonly distribution: cloudfront.Distribution;

  constructor(scope: Construct, id: string, props: ApiDistributionProps) {
    super(scope, id);
    const origin = new origins.HttpOrigin(props.originDomainName, {
      protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
      originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
      customHeaders: { [props.originVerifyHeader.name]: props.originVerifyHeader.value },
    });

    const staticCache = new cloudfront.CachePolicy(this, 'StaticCache', {
      comment: 'Static assets: no headers, cookies or query strings in the key',
      minTtl: Duration.seconds(0),
      defaultTtl: Duration.seconds(props.staticPaths.defaultTtlSeconds),
      maxTtl: Duration.seconds(props.staticPaths.maxTtlSeconds),
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    const staticBehavior: cloudfront.BehaviorOptions = {
      origin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
      cachePolicy: staticCache,
      compress: true,
    };

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `API edge for ${props.domainName}`,
      domainNames: [props.domainName],
      certificate: acm.Certificate.fromCertificateArn(this, 'ViewerCertificate', props.certificateArn),
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
      sslSupportMethod: cloudfront.SSLMethod.SNI,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      webAclId: props.webAclArn,
      enableLogging: true,
      logBucket: props.logBucket,
      logFilePrefix: 'cloudfront/',
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
        // The API is never cached. With caching disabled CloudFront forwards Authorization
        // through the AllViewer* origin request policies (an origin request policy may not
        // name it explicitly); Host is replaced by the origin name so TLS to the ALB verifies.
        cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        compress: true,
      },
      additionalBehaviors: Object.fromEntries(props.staticPaths.pathPatterns.map((p) => [p, staticBehavior])),
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR1',
      reason: 'A public API with no country restriction in the spec; abusive sources are handled by the WAF rate rule and IP reputation list.',
    });
  }
}
