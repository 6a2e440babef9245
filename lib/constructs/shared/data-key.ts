import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface DataKeyProps {
  /** `alias/<alias>`; also the key's description. */
  readonly alias: string;
  readonly description: string;
  /**
   * CloudWatch Logs encrypts log groups with this key (the logs service needs the key policy grant).
   * @default false - no grant to CloudWatch Logs
   */
  readonly forLogs?: boolean;
}

/**
 * A customer-managed KMS key for one data store: rotated yearly, and kept when the stack or the
 * key's construct goes, because losing it loses every snapshot and backup encrypted with it.
 */
export class DataKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: DataKeyProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      alias: props.alias,
      description: props.description,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    if (props.forLogs) allowLogsToEncrypt(this.key);
  }
}

/**
 * Lets CloudWatch Logs encrypt with `key` the log groups of the key's account and region whose
 * names match `logGroupNames` (a pattern; every group by default).
 */
export function allowLogsToEncrypt(key: kms.Key, logGroupNames = '*'): void {
  const stack = Stack.of(key);
  key.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: {
      ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:${logGroupNames}` },
    },
  }));
}
