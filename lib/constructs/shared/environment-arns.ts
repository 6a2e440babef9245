import { ArnFormat, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { CLOUDFRONT_REGION } from '../../spec';

/**
 * ARNs of what the spec names by id or name (certificates, the admin role), derived in the
 * environment's account (the stack's, so `-c <env>:account=...` moves them too), in the stack's
 * partition, never a literal `aws`.
 */
export function acmCertificateArn(scope: IConstruct, certificateId: string, region?: string): string {
  return Stack.of(scope).formatArn({
    service: 'acm', resource: 'certificate', resourceName: certificateId, arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    ...(region ? { region } : {}),
  });
}

/** A viewer certificate of CloudFront, which reads ACM in us-east-1 only. */
export function cloudFrontCertificateArn(scope: IConstruct, certificateId: string): string {
  return acmCertificateArn(scope, certificateId, CLOUDFRONT_REGION);
}

export function iamRoleArn(scope: IConstruct, roleName: string): string {
  return Stack.of(scope).formatArn({
    service: 'iam', region: '', resource: 'role', resourceName: roleName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}
