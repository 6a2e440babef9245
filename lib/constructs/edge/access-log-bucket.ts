import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../../compliance';

export interface AccessLogBucketProps {
  /** Days a log object lives before the lifecycle rule expires it. */
  readonly expirationDays: number;
  /**
   * Where this bucket's own S3 server access logs go; omit for the bucket that receives them.
   * @default - none: this is the server-access-log bucket itself (acknowledged, not logged again)
   */
  readonly serverAccessLogsBucket?: s3.IBucket;
  /**
   * Legacy CloudFront standard logging writes with ACLs, so that bucket needs them enabled.
   * @default false - ACLs disabled (bucket owner enforced)
   */
  readonly allowLogDeliveryAcls?: boolean;
}

/**
 * A private, versioned, SSL-only bucket for access logs, kept on stack deletion.
 * S3-managed keys (SSE-S3): ELB access-log delivery supports no other encryption, and
 * CloudFront's standard logs would need a key policy for a service outside the account.
 */
export class AccessLogBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: AccessLogBucketProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: props.allowLogDeliveryAcls ? s3.ObjectOwnership.BUCKET_OWNER_PREFERRED : s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.serverAccessLogsBucket,
      serverAccessLogsPrefix: props.serverAccessLogsBucket ? `${id.toLowerCase()}/` : undefined,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{
        expiration: Duration.days(props.expirationDays),
        // A deleted or overwritten log stays recoverable for as long as a current one would.
        noncurrentVersionExpiration: Duration.days(props.expirationDays),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      }],
    });
    const acknowledgeAll = (ids: string[], reason: string) => {
      for (const ruleId of ids) acknowledge(this.bucket, ruleId, reason);
    };
    acknowledgeAll(
      ['NIST.800.53.R5-S3DefaultEncryptionKMS', 'PCI.DSS.321-S3DefaultEncryptionKMS'],
      'Access logs: ELB log delivery supports only SSE-S3, so the edge log buckets use S3-managed keys.',
    );
    acknowledgeAll(
      ['NIST.800.53.R5-S3BucketReplicationEnabled', 'PCI.DSS.321-S3BucketReplicationEnabled'],
      'Access logs are operational evidence with a lifecycle expiry; versioning and RETAIN protect them, cross-region replication is not required.',
    );
    if (!props.serverAccessLogsBucket) {
      acknowledgeAll(
        ['AwsSolutions-S1', 'NIST.800.53.R5-S3BucketLoggingEnabled', 'PCI.DSS.321-S3BucketLoggingEnabled', 'checkov:CKV_AWS_18'],
        'This bucket receives the server access logs of the other log buckets; logging it to itself would loop.',
      );
    }
  }
}
