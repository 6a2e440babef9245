import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { PlatformSpec } from '../../spec';

export interface LockedBackupVaultProps {
  /** A fixed name: the DR vault is addressed by name from the other region. */
  readonly backupVaultName: string;
  readonly encryptionKey: kms.IKey;
  readonly lock: PlatformSpec['dataTier']['backup']['vaultLock'];
}

/**
 * An AWS Backup vault under Vault Lock (compliance mode once `changeableForDays` have passed):
 * nobody, root included, can delete a recovery point before its retention ends.
 */
export class LockedBackupVault extends Construct {
  readonly vault: backup.BackupVault;

  constructor(scope: Construct, id: string, props: LockedBackupVaultProps) {
    super(scope, id);
    const { lock } = props;
    this.vault = new backup.BackupVault(this, 'Vault', {
      backupVaultName: props.backupVaultName,
      encryptionKey: props.encryptionKey,
      lockConfiguration: {
        minRetention: Duration.days(lock.minRetentionDays),
        maxRetention: Duration.days(lock.maxRetentionDays),
        changeableFor: Duration.days(lock.changeableForDays),
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
