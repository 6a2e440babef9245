import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { IConstruct } from 'constructs';

export interface KeyPolicyOptions {
  /** The partition of the stack the key lives in (`Stack.of(scope).partition`). */
  readonly partition: string;
  readonly account: string;
  readonly region: string;
  /**
   * Log groups (names) CloudWatch Logs may encrypt with this key, in `region`.
   * @default - none: CloudWatch Logs gets no grant
   */
  readonly logGroupNames?: readonly string[];
}

/**
 * The key policy of a key and of its replica: the account administers it through IAM (so node
 * roles get exactly the grants their IAM policies give), and CloudWatch Logs may use it for the
 * named log groups only.
 */
export function keyPolicyDocument(options: KeyPolicyOptions): Record<string, unknown> {
  const { partition, account, region, logGroupNames = [] } = options;
  const statements: Record<string, unknown>[] = [{
    Sid: 'AccountAdministersThroughIam',
    Effect: 'Allow',
    Principal: { AWS: `arn:${partition}:iam::${account}:root` },
    Action: 'kms:*',
    Resource: '*',
  }];
  if (logGroupNames.length > 0) {
    statements.push({
      Sid: 'CloudWatchLogsForNamedGroups',
      Effect: 'Allow',
      Principal: { Service: `logs.${region}.amazonaws.com` },
      Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      Resource: '*',
      Condition: {
        ArnEquals: {
          'kms:EncryptionContext:aws:logs:arn': logGroupNames.map((name) => `arn:${partition}:logs:${region}:${account}:log-group:${name}`),
        },
      },
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}

/** keyPolicyDocument for a key (or replica) in `scope`'s stack: its partition, account and region. */
export function stackKeyPolicy(scope: IConstruct, logGroupNames?: readonly string[]): Record<string, unknown> {
  const stack = Stack.of(scope);
  return keyPolicyDocument({ partition: stack.partition, account: stack.account, region: stack.region, logGroupNames });
}

export interface MultiRegionKeyProps {
  readonly description: string;
  /**
   * Log groups (names) CloudWatch Logs may encrypt with this key, in this stack's region.
   * @default - none: CloudWatch Logs gets no grant
   */
  readonly logGroupNames?: readonly string[];
}

/**
 * A symmetric multi-region KMS key (primary), rotated yearly and kept when the stack goes: its
 * replica in the DR region shares the key material and id, so what one region encrypts the other
 * decrypts (Vault's auto-unseal, the replicated table and secrets).
 */
export class MultiRegionKey extends Construct {
  readonly key: kms.CfnKey;
  /** The key id (`mrk-...`), the same in every region. */
  readonly keyId: string;
  readonly keyArn: string;

  constructor(scope: Construct, id: string, props: MultiRegionKeyProps) {
    super(scope, id);
    this.key = new kms.CfnKey(this, 'Key', {
      description: props.description,
      multiRegion: true,
      enableKeyRotation: true,
      pendingWindowInDays: 30,
      keyPolicy: stackKeyPolicy(this, props.logGroupNames),
    });
    // Losing the key loses every secret sealed with it.
    this.key.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.keyId = this.key.ref;
    this.keyArn = this.key.attrArn;
  }
}

/** The ARN a multi-region key's replica has in `region` (same key id), in `scope`'s account and partition. */
export function replicaKeyArn(scope: IConstruct, region: string, keyId: string): string {
  return Stack.of(scope).formatArn({ service: 'kms', region, resource: 'key', resourceName: keyId, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
}
