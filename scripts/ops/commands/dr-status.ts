/**
 * `ops dr-status <env>`: is the database recoverable within the spec's RPO
 * (spec.disasterRecovery.database.rpo), and are the replicas and Kafka healthy?
 *
 * The recovery point is the newest of: the writer's newest available automated snapshot, its
 * newest completed AWS Backup recovery point (vault of lib/spec/names.ts), and — while
 * automated backups are on — its LatestRestorableTime (point-in-time recovery replays the
 * transaction logs AWS ships every ~5 minutes, which is what meets a 1-hour RPO between the
 * daily snapshots). BackupRetentionPeriod 0 means automated backups are off: AWS then keeps
 * neither automated snapshots nor a restore window, so only AWS Backup counts.
 *
 * Exit code 1 when the RPO is breached (or there is no recovery point at all); the full
 * report is printed either way. Other findings (a replica not available, Kafka not ACTIVE)
 * are listed as warnings and do not change the exit code.
 */
import { durationSeconds } from '../../../lib/spec';
import { environmentArg, OpsError } from '../command';
import type { OpsCommand } from '../command';
import {
  automatedSnapshots, backupRecoveryPoints, dataTier, findKafkaCluster, formatAge, listReplicas, requireWriter,
  sourceIdentifier,
} from '../data-tier';

export interface RecoveryPoint {
  readonly source: 'rds-automated-snapshot' | 'aws-backup' | 'rds-point-in-time';
  readonly id: string;
  readonly time: string;
  readonly ageSeconds: number;
}

export interface DrStatusResult {
  readonly environment: string;
  readonly checkedAt: string;
  readonly database: {
    readonly writer: string;
    readonly status: string;
    readonly backupRetentionDays: number;
    readonly rpo: string;
    readonly rpoSeconds: number;
    /** The newest recovery point of any source, or null when there is none. */
    readonly recoveryPoint: RecoveryPoint | null;
    readonly newestSnapshot: RecoveryPoint | null;
    readonly newestBackupRecoveryPoint: RecoveryPoint | null;
    /** False when the environment's backup vault does not exist. */
    readonly backupVaultFound: boolean;
    readonly rpoBreached: boolean;
  };
  readonly replicas: readonly {
    readonly id: string;
    readonly status: string;
    readonly source: string | null;
    readonly healthy: boolean;
    /** Replication status of the replica as RDS reports it (StatusInfos), when reported. */
    readonly replication: string | null;
  }[];
  readonly kafka: { readonly cluster: string; readonly state: string; readonly brokerNodes: number | null } | null;
  readonly warnings: readonly string[];
}

export const drStatusCommand: OpsCommand<DrStatusResult> = {
  name: 'dr-status',
  summary: 'recovery point age against the spec RPO, replica and Kafka state; exit 1 when the RPO is breached',
  usage: 'dr-status <env>',
  async run(args, { spec }) {
    const environment = environmentArg(spec, args);
    if (args.positionals.length > 1) throw new OpsError(`unexpected argument "${args.positionals[1]}"`);
    const tier = dataTier(spec, environment);
    const { names } = tier;
    const rpo = spec.disasterRecovery.database.rpo;
    const rpoSeconds = durationSeconds(rpo);
    const now = new Date();
    const point = (source: RecoveryPoint['source'], id: string, time: Date): RecoveryPoint => ({
      source, id, time: time.toISOString(), ageSeconds: Math.max(0, Math.round((now.getTime() - time.getTime()) / 1000)),
    });
    const newest = (points: RecoveryPoint[]) => points.reduce<RecoveryPoint | null>(
      (best, p) => (best === null || p.ageSeconds < best.ageSeconds ? p : best), null);
    const warnings: string[] = [];

    const writer = await requireWriter(tier);
    const retention = writer.BackupRetentionPeriod ?? 0;
    const backupsOn = retention > 0;
    if (!backupsOn) warnings.push(`automated backups are off on ${names.dbInstance} (BackupRetentionPeriod 0): no snapshots, no point-in-time recovery`);

    const snapshots = backupsOn
      ? (await automatedSnapshots(tier, names.dbInstance))
        .filter((s) => s.Status === 'available' && s.SnapshotCreateTime)
        .map((s) => point('rds-automated-snapshot', s.DBSnapshotIdentifier ?? '?', s.SnapshotCreateTime!))
      : [];
    const recoveryPoints = await backupRecoveryPoints(tier, writer.DBInstanceArn ?? '');
    if (recoveryPoints === undefined) warnings.push(`backup vault ${names.backupVault} not found`);
    const backups = (recoveryPoints ?? [])
      .filter((p) => p.Status === 'COMPLETED' && p.CreationDate)
      .map((p) => point('aws-backup', p.RecoveryPointArn ?? '?', p.CreationDate!));
    const pitr = backupsOn && writer.LatestRestorableTime
      ? [point('rds-point-in-time', names.dbInstance, writer.LatestRestorableTime)] : [];

    const newestSnapshot = newest(snapshots);
    const newestBackup = newest(backups);
    const recoveryPoint = newest([...snapshots, ...backups, ...pitr]);
    const rpoBreached = recoveryPoint === null || recoveryPoint.ageSeconds > rpoSeconds;

    const replicas = (await listReplicas(tier, writer)).map(({ id, instance }) => {
      if (!instance) {
        warnings.push(`replica ${id} does not exist`);
        return { id, status: 'missing', source: null, healthy: false, replication: null };
      }
      const source = sourceIdentifier(instance) ?? null;
      const replication = instance.StatusInfos?.find((s) => s.StatusType === 'read replication');
      const healthy = instance.DBInstanceStatus === 'available' && source === names.dbInstance
        && (replication === undefined || (replication.Normal !== false && replication.Status === 'replicating'));
      if (source !== names.dbInstance) warnings.push(`replica ${id} does not replicate from ${names.dbInstance} (source: ${source ?? 'none, standalone'})`);
      else if (!healthy) warnings.push(`replica ${id} is ${instance.DBInstanceStatus}${replication ? `, replication ${replication.Status}` : ''}`);
      return {
        id, status: instance.DBInstanceStatus ?? 'unknown', source, healthy,
        replication: replication ? `${replication.Status}${replication.Message ? `: ${replication.Message}` : ''}` : null,
      };
    });

    const cluster = await findKafkaCluster(tier);
    if (!cluster) warnings.push(`MSK cluster ${names.mskCluster} not found`);
    else if (cluster.State !== 'ACTIVE') warnings.push(`MSK cluster ${names.mskCluster} is ${cluster.State}`);

    return {
      environment: environment.name,
      checkedAt: now.toISOString(),
      database: {
        writer: names.dbInstance,
        status: writer.DBInstanceStatus ?? 'unknown',
        backupRetentionDays: retention,
        rpo,
        rpoSeconds,
        recoveryPoint,
        newestSnapshot,
        newestBackupRecoveryPoint: newestBackup,
        backupVaultFound: recoveryPoints !== undefined,
        rpoBreached,
      },
      replicas,
      kafka: cluster ? {
        cluster: cluster.ClusterName ?? names.mskCluster,
        state: cluster.State ?? 'unknown',
        brokerNodes: cluster.Provisioned?.NumberOfBrokerNodes ?? null,
      } : null,
      warnings,
    };
  },
  render(r) {
    const db = r.database;
    const pointLine = (p: RecoveryPoint | null) => (p ? `${p.time} (${formatAge(p.ageSeconds)} ago, ${p.source})` : 'none');
    return [
      `${r.environment}: ${db.rpoBreached ? 'RPO BREACHED' : 'within RPO'} (RPO ${formatAge(db.rpoSeconds)})`,
      `database ${db.writer} ${db.status}, backup retention ${db.backupRetentionDays} d`,
      `  recovery point     ${pointLine(db.recoveryPoint)}`,
      `  newest snapshot    ${pointLine(db.newestSnapshot)}`,
      `  newest AWS Backup  ${db.backupVaultFound ? pointLine(db.newestBackupRecoveryPoint) : 'vault not found'}`,
      'replicas',
      ...r.replicas.map((rep) => `  ${rep.id}  ${rep.status}  source ${rep.source ?? '-'}${rep.replication ? `  ${rep.replication}` : ''}${rep.healthy ? '' : '  UNHEALTHY'}`),
      `kafka ${r.kafka ? `${r.kafka.cluster} ${r.kafka.state}, ${r.kafka.brokerNodes ?? '?'} brokers` : 'not found'}`,
      ...(r.warnings.length > 0 ? ['warnings', ...r.warnings.map((w) => `  - ${w}`)] : []),
    ].join('\n');
  },
  exitCode: (r) => (r.database.rpoBreached ? 1 : 0),
};
