import { RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface RetainedLogGroupProps {
  /** A fixed name: the service writing to it (RDS, ElastiCache, MSK) is told the name, not the ARN. */
  readonly logGroupName: string;
  readonly retentionDays: number;
  readonly encryptionKey: kms.IKey;
}

/** A KMS-encrypted log group with the spec's retention, kept on delete: logs are audit evidence. */
export class RetainedLogGroup extends Construct {
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RetainedLogGroupProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName: props.logGroupName,
      retention: props.retentionDays as logs.RetentionDays,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
