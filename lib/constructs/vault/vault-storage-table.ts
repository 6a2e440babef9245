import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface VaultStorageTableProps {
  readonly tableName: string;
  /** Multi-region key: this region's key encrypts the table, its replica the replica. */
  readonly encryptionKeyArn: string;
  /**
   * A replica per region (DR), each with the key to encrypt it.
   * @default - none: a single-region table
   */
  readonly replicas?: ReadonlyArray<{ readonly region: string; readonly encryptionKeyArn: string }>;
}

/**
 * Vault's DynamoDB storage backend (hash key `Path`, range key `Key`, the schema Vault expects),
 * optionally a global table replicating continuously to the DR region. Point-in-time recovery,
 * CMK encryption and deletion protection on every replica; kept on delete.
 */
export class VaultStorageTable extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: VaultStorageTableProps) {
    super(scope, id);
    const replicas = props.replicas ?? [];
    this.table = new dynamodb.TableV2(this, 'Table', {
      tableName: props.tableName,
      partitionKey: { name: 'Path', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'Key', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      encryption: dynamodb.TableEncryptionV2.customerManagedKey(
        kms.Key.fromKeyArn(this, 'Key', props.encryptionKeyArn),
        replicas.length > 0 ? Object.fromEntries(replicas.map((r) => [r.region, r.encryptionKeyArn])) : undefined,
      ),
      replicas: replicas.map((r) => ({ region: r.region })),
    });
  }
}
