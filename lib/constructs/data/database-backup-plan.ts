import { Duration, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import type * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { durationSeconds } from '../../spec';
import type { PlatformSpec } from '../../spec';
import { invalidProp } from '../shared/validation';

export interface DatabaseBackupPlanProps {
  /** Hours between recovery points: the database RPO (whole hours, 1-24; `backupIntervalHours`). */
  readonly intervalHours: number;
  /** Days the recovery points and their DR copies are kept (`dataTier.backup` of the spec). */
  readonly retention: Pick<PlatformSpec['dataTier']['backup'], 'recoveryPointRetentionDays' | 'drCopyRetentionDays'>;
  readonly planName: string;
  readonly database: rds.IDatabaseInstance;
  /** The in-region vault the hourly recovery points land in. */
  readonly vault: backup.IBackupVault;
  /** The DR-region vault every recovery point is copied to (deterministic ARN: it lives in another region). */
  readonly drVaultArn: string;
}

/** Hours between recovery points: the database RPO of the spec (validated to whole hours, 1-24). */
export function backupIntervalHours(spec: PlatformSpec): number {
  return durationSeconds(spec.disasterRecovery.database!.rpo) / 3600;
}

/**
 * The database's RPO as an AWS Backup plan: a snapshot every RPO hours, kept in the locked
 * in-region vault, and copied to the locked vault in the DR region.
 */
export class DatabaseBackupPlan extends Construct {
  readonly plan: backup.BackupPlan;
  readonly rule: backup.BackupPlanRule;

  constructor(scope: Construct, id: string, props: DatabaseBackupPlanProps) {
    super(scope, id);
    const { retention } = props;
    const hours = props.intervalHours;
    if (!Number.isInteger(hours) || hours < 1 || hours > 24) {
      invalidProp(this, 'intervalHours', `= ${hours}: must be whole hours from 1 to 24 (an hourly cron schedule)`);
    }

    this.rule = new backup.BackupPlanRule({
      ruleName: 'RpoSnapshots',
      backupVault: props.vault,
      scheduleExpression: events.Schedule.cron({ minute: '0', hour: hours === 1 ? '*' : `*/${hours}` }),
      // A job must start within one interval, or the next one would already be due.
      startWindow: Duration.hours(1),
      completionWindow: Duration.hours(hours + 1),
      deleteAfter: Duration.days(retention.recoveryPointRetentionDays),
      copyActions: [{
        destinationBackupVault: backup.BackupVault.fromBackupVaultArn(this, 'DrVault', props.drVaultArn),
        deleteAfter: Duration.days(retention.drCopyRetentionDays),
      }],
    });
    this.plan = new backup.BackupPlan(this, 'Plan', {
      backupPlanName: props.planName,
      backupVault: props.vault,
      backupPlanRules: [this.rule],
    });
    const selection = this.plan.addSelection('Database', {
      resources: [backup.BackupResource.fromRdsDatabaseInstance(props.database)],
    });
    Validations.of(selection).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
      reason: 'The AWS-managed AWS Backup service policy is the documented role policy for backup jobs and cross-region copies; AWS keeps it current as services add backup APIs.',
    });
  }
}
