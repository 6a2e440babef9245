import { ArnFormat, CfnOutput } from 'aws-cdk-lib';
import type * as backup from 'aws-cdk-lib/aws-backup';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { DataKey } from '../constructs/shared/data-key';
import { LockedBackupVault } from '../constructs/data/locked-backup-vault';
import { resourceNames } from '../spec';
import type { EnvironmentSpec, PlatformSpec } from '../spec';
import { PlatformStack } from './platform-stack';
import type { PlatformStackProps } from './platform-stack';

/** The DR vault's name: fixed, so the primary region can address it without a cross-region reference. */
export function drBackupVaultName(spec: PlatformSpec, environment: EnvironmentSpec): string {
  return resourceNames(spec, environment).drBackupVault;
}

/**
 * The environment's footprint in the DR region (`spec.drRegion`): the locked backup vault that
 * receives a copy of every database recovery point, under its own KMS key.
 */
export class DataRecoveryStack extends PlatformStack {
  readonly encryptionKey: kms.Key;
  readonly backupVault: backup.BackupVault;
  /**
   * The vault's ARN as a plain string (not a token): the database stack in the primary region
   * uses it in its copy rule, which a CloudFormation reference across regions could not do.
   */
  readonly backupVaultArn: string;

  constructor(scope: Construct, id: string, props: Omit<PlatformStackProps, 'inDrRegion'>) {
    super(scope, id, {
      description: `${props.spec.project} ${props.environment.name}: DR-region backup vault (${props.spec.drRegion.name})`,
      ...props,
      inDrRegion: true,
    });
    const { spec, environment } = props;
    const name = drBackupVaultName(spec, environment);
    this.encryptionKey = new DataKey(this, 'BackupKey', {
      alias: `${spec.project}-${environment.name}-backup-dr`,
      description: `${name}: database recovery points copied to ${spec.drRegion.name}`,
    }).key;
    this.backupVault = new LockedBackupVault(this, 'BackupVault', {
      backupVaultName: name,
      encryptionKey: this.encryptionKey,
      lock: spec.dataTier.backup.vaultLock,
    }).vault;
    this.backupVaultArn = this.formatArn({
      service: 'backup', region: spec.drRegion.name, resource: 'backup-vault', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    new CfnOutput(this, 'BackupVaultArn', { value: this.backupVault.backupVaultArn });
  }
}
