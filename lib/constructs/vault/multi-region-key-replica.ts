import { RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { stackKeyPolicy } from './multi-region-key';

export interface MultiRegionKeyReplicaProps {
  readonly primaryKeyArn: string;
  readonly description: string;
  /**
   * Log groups (names) CloudWatch Logs may encrypt with the replica, in this stack's region.
   * @default - none: CloudWatch Logs gets no grant
   */
  readonly logGroupNames?: readonly string[];
}

/** The DR-region replica of a multi-region key (rotation follows the primary), kept on delete. */
export class MultiRegionKeyReplica extends Construct {
  readonly key: kms.CfnReplicaKey;
  readonly keyId: string;
  readonly keyArn: string;

  constructor(scope: Construct, id: string, props: MultiRegionKeyReplicaProps) {
    super(scope, id);
    this.key = new kms.CfnReplicaKey(this, 'Key', {
      primaryKeyArn: props.primaryKeyArn,
      description: props.description,
      pendingWindowInDays: 30,
      keyPolicy: stackKeyPolicy(this, props.logGroupNames),
    });
    this.key.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.keyId = this.key.attrKeyId;
    this.keyArn = this.key.attrArn;
  }
}
