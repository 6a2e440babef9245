import { CfnOutput } from 'aws-cdk-lib';
import type * as backup from 'aws-cdk-lib/aws-backup';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { DatabaseBackupPlan, backupIntervalHours } from '../constructs/data/database-backup-plan';
import { DataKey } from '../constructs/shared/data-key';
import { LockedBackupVault } from '../constructs/data/locked-backup-vault';
import { PostgresDatabase } from '../constructs/data/postgres-database';
import { resourceNames } from '../spec';
import type { DataRecoveryStack } from './data-recovery-stack';
import type { NetworkStack } from './network-stack';
import { PlatformStack } from './platform-stack';
import type { PlatformStackProps } from './platform-stack';
import { zoneSubnets } from '../constructs/network/zoned-vpc';


export interface DatabaseStackProps extends PlatformStackProps {
  /** The environment's network: the database lives in its restricted zone. */
  readonly network: Pick<NetworkStack, 'vpc' | 'zones'>;
  /** The DR-region stack whose vault receives a copy of every recovery point. */
  readonly dataRecovery: DataRecoveryStack;
}

/**
 * The environment's PostgreSQL (spec §3, §6) and its disaster recovery (spec §7): the database,
 * its KMS key, and the hourly AWS Backup plan with a copy to the DR region.
 */
export class DatabaseStack extends PlatformStack {
  readonly encryptionKey: kms.Key;
  readonly instance: rds.DatabaseInstance;
  readonly replicas: readonly rds.DatabaseInstanceReadReplica[];
  /** The master user's secret (RDS-managed, rotated by RDS). */
  readonly secret: secretsmanager.ISecret;
  readonly backupVault: backup.BackupVault;
  readonly backupPlan: backup.BackupPlan;

  constructor(scope: Construct, id: string, props: DatabaseStackProps) {
    const { network, dataRecovery, ...stackProps } = props;
    super(scope, id, {
      description: `${props.spec.project} ${props.environment.name}: PostgreSQL, read replicas, backups`,
      ...stackProps,
    });
    const { spec, environment } = props;
    const names = resourceNames(spec, environment);
    const prefix = names.prefix;

    this.encryptionKey = new DataKey(this, 'DatabaseKey', {
      alias: `${prefix}-database`,
      description: `${prefix}: PostgreSQL storage, Performance Insights, master secret, logs`,
      forLogs: true,
    }).key;
    const database = new PostgresDatabase(this, 'Postgres', {
      engine: spec.dataTier.postgres,
      sizing: environment.database,
      instanceIdentifier: names.dbInstance,
      replicaIdentifiers: names.dbReplicas,
      availabilityZones: environment.availabilityZones,
      vpc: network.vpc,
      subnets: zoneSubnets('restricted'),
      securityGroup: network.zones.restricted,
      encryptionKey: this.encryptionKey,
    });
    this.instance = database.primary;
    this.replicas = database.replicas;
    this.secret = database.secret;

    const backupKey = new DataKey(this, 'BackupKey', {
      alias: `${prefix}-backup`,
      description: `${prefix}: database recovery points`,
    }).key;
    this.backupVault = new LockedBackupVault(this, 'BackupVault', {
      backupVaultName: names.backupVault,
      encryptionKey: backupKey,
      lock: spec.dataTier.backup.vaultLock,
    }).vault;
    this.backupPlan = new DatabaseBackupPlan(this, 'Backup', {
      intervalHours: backupIntervalHours(spec),
      retention: spec.dataTier.backup,
      planName: `${prefix}-database`,
      database: this.instance,
      vault: this.backupVault,
      drVaultArn: dataRecovery.backupVaultArn,
    }).plan;
    // The copy target must exist before the first job runs: deploy the DR region first.
    this.addStackDependency(dataRecovery, 'the copy rule targets the DR vault');

    new CfnOutput(this, 'WriterEndpoint', { value: this.instance.dbInstanceEndpointAddress });
    this.replicas.forEach((replica, i) => {
      new CfnOutput(this, `ReaderEndpoint${i + 1}`, { value: replica.dbInstanceEndpointAddress });
    });
    new CfnOutput(this, 'MasterSecretArn', { value: this.secret.secretArn });
  }
}
