/** The edge (DESIGN.md §4): CloudFront (WAF) -> ALB (WAF) -> api-gateway. */
import { z } from 'zod';
import { acmCertificateId, awsRegion, logRetentionDays, positiveInt } from './common';

/** CloudFront takes viewer certificates and CLOUDFRONT-scope web ACLs from us-east-1 only. */
export const CLOUDFRONT_REGION = 'us-east-1';

export const dnsName = z.string().regex(
  /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
  'must be a lower-case DNS name such as api.example.com',
);

/** The edge of one environment (environments.<name>.edge). */
export const environmentEdge = z.strictObject({
  /** The name clients use: CloudFront's alternate domain name. */
  domainName: dnsName,
  /** The ALB's own name: CloudFront connects to it over TLS, so the ALB certificate must cover it. */
  originDomainName: dnsName,
  /** CloudFront's viewer certificate: its ACM id in the environment's account, in us-east-1 (CloudFront reads ACM there only). */
  cloudFrontCertificateId: acmCertificateId,
  /** The ALB's HTTPS listener certificate: its ACM id in the environment's account and region. */
  loadBalancerCertificateId: acmCertificateId,
  /** WAF rate-based rule: requests per client IP per 5-minute window (WAF allows 10..2e9). */
  wafRateLimitPer5Minutes: z.number().int().min(10, 'must be >= 10 (WAF minimum)').max(2_000_000_000, 'must be <= 2000000000 (WAF maximum)'),
  wafLogRetentionDays: logRetentionDays,
  /** Days ALB and CloudFront access logs stay in S3 before the lifecycle rule expires them. */
  accessLogExpirationDays: positiveInt,
  /**
   * Origin-verify secret versions in use (docs/edge.md, rotation): CloudFront sends the first,
   * the ALB accepts all. Empty: the secret's current version. A new id changes the template,
   * which is what makes CloudFormation resolve the secret again.
   */
  originVerifySecretVersionIds: z.array(z.string().regex(
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a Secrets Manager version id (a lower-case UUID)',
  )).max(2, 'must list at most 2 versions (the new one and the one being retired)'),
});

const cachePathPattern = z.string()
  .regex(/^\/[A-Za-z0-9_\-.*$/~"'@:+&?]*$/, 'must be a CloudFront path pattern starting with / such as /static/*')
  .refine((p) => p !== '/*', { message: 'must not be /* (that is the default behaviour: the API, never cached)' });

/** Edge settings shared by every environment (edge). */
export const edge = z.strictObject({
  /** Paths CloudFront caches (static assets); everything else is the API and is never cached. */
  staticPaths: z.strictObject({
    pathPatterns: z.array(cachePathPattern).min(1).max(20, 'must be <= 20 (CloudFront allows 25 cache behaviours)'),
    defaultTtlSeconds: z.number().int().min(0),
    maxTtlSeconds: z.number().int().min(1),
  }),
  /** The header CloudFront adds and the ALB requires, carrying the origin secret. */
  originVerifyHeaderName: z.string().regex(/^x-[a-z0-9-]+$/, 'must be a lower-case custom header name such as x-origin-verify'),
  /**
   * com.amazonaws.global.cloudfront.origin-facing managed prefix list id per region (the id
   * differs by region and a lookup would break offline synth).
   */
  cloudFrontOriginFacingPrefixLists: z.record(awsRegion, z.string().regex(/^pl-[0-9a-f]{8,17}$/, 'must be a managed prefix list id such as pl-3b927c52')),
});
