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
 * Replica lag: each replica's newest CloudWatch ReplicaLag (last 15 minutes). Above the RPO it
 * fails the check (promoting that replica, the in-region recovery, would lose more than the
 * RPO); above REPLICA_LAG_WARN_SECONDS it is a warning; no datapoint at all is a warning too
 * (metrics not published yet, or the replica is not replicating).
 *
 * Exit code 1 when the RPO is breached (or there is no recovery point at all) or a replica
 * lags by more than the RPO; the full report is printed either way. Other findings (a replica
 * not available or lagging, Kafka not ACTIVE) are listed as warnings and do not change the
 * exit code.
 */
import { durationSeconds, resourceNames } from '../../../lib/spec';
import { literal, partitionOf } from '../assembly';
import { soleEnvironmentArg } from '../command';
import type { OpsCommand } from '../command';
import { templateReplicas } from '../data-tier-templates';
import { OfflinePlanBuilder } from '../offline-plan';
import {
  automatedSnapshots, backupRecoveryPoints, dataTier, findKafkaCluster, formatAge, listReplicas, REPLICA_LAG_LOOKBACK_SECONDS,
  replicaLag, requireWriter, sourceIdentifier,
} from '../data-tier';

/**
 * choice: replication a minute behind is worth a look (RDS for PostgreSQL replicas normally
 * lag by seconds); the failing threshold is the RPO itself.
 */
export const REPLICA_LAG_WARN_SECONDS = 60;

export type ReplicaLagState = 'ok' | 'warning' | 'over-rpo' | 'no-data';

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
    /** Newest CloudWatch ReplicaLag; null for a replica that does not exist. */
    readonly lag: {
      readonly seconds: number | null;
      readonly at: string | null;
      readonly state: ReplicaLagState;
    } | null;
  }[];
  readonly replicaLag: {
    readonly warnSeconds: number;
    /** The RPO: a replica further behind would lose more than it if promoted. */
    readonly failSeconds: number;
    readonly lookbackSeconds: number;
    /** True when any replica lags by more than the RPO. */
    readonly overRpo: boolean;
  };
  readonly kafka: { readonly cluster: string; readonly state: string; readonly brokerNodes: number | null } | null;
  readonly warnings: readonly string[];
}

export const drStatusCommand: OpsCommand<DrStatusResult> = {
  name: 'dr-status',
  summary: 'recovery point age against the spec RPO, replica state and lag, Kafka state; exit 1 when the RPO is breached',
  usage: 'dr-status <env>',
  async run(args, { spec }) {
    const environment = soleEnvironmentArg(spec, args);
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

    const listed = await listReplicas(tier, writer);
    const lags = await replicaLag(tier, listed.filter((r) => r.instance).map((r) => r.id), now);
    const lagOf = (id: string) => {
      const sample = lags.get(id) ?? null;
      if (!sample) {
        warnings.push(`replica ${id}: no ReplicaLag datapoint in the last ${formatAge(REPLICA_LAG_LOOKBACK_SECONDS)} (metrics not published yet, or not replicating)`);
        return { seconds: null, at: null, state: 'no-data' as const };
      }
      const state: ReplicaLagState = sample.seconds > rpoSeconds ? 'over-rpo' : sample.seconds > REPLICA_LAG_WARN_SECONDS ? 'warning' : 'ok';
      if (state === 'over-rpo') warnings.push(`replica ${id} lags ${formatAge(sample.seconds)}, more than the RPO (${formatAge(rpoSeconds)}): promoting it would lose more than the RPO`);
      if (state === 'warning') warnings.push(`replica ${id} lags ${formatAge(sample.seconds)} (over ${REPLICA_LAG_WARN_SECONDS}s)`);
      return { seconds: sample.seconds, at: sample.at.toISOString(), state };
    };
    const replicas = listed.map(({ id, instance }) => {
      if (!instance) {
        warnings.push(`replica ${id} does not exist`);
        return { id, status: 'missing', source: null, healthy: false, replication: null, lag: null };
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
        lag: lagOf(id),
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
      replicaLag: {
        warnSeconds: REPLICA_LAG_WARN_SECONDS,
        failSeconds: rpoSeconds,
        lookbackSeconds: REPLICA_LAG_LOOKBACK_SECONDS,
        overRpo: replicas.some((r) => r.lag?.state === 'over-rpo'),
      },
      kafka: cluster ? {
        cluster: cluster.ClusterName ?? names.mskCluster,
        state: cluster.State ?? 'unknown',
        brokerNodes: cluster.Provisioned?.NumberOfBrokerNodes ?? null,
      } : null,
      warnings,
    };
  },
  offline(args, context) {
    const { spec, assembly } = context;
    const environment = soleEnvironmentArg(spec, args);
    const names = resourceNames(spec, environment);
    const rpoSeconds = durationSeconds(spec.disasterRecovery.database.rpo);
    const plan = new OfflinePlanBuilder(context, 'dr-status', environment.name);
    const { writer, replicas } = templateReplicas(assembly, environment, names);
    plan.resource(writer, names.dbInstance);
    const vault = plan.resource(assembly.named(environment.name, 'AWS::Backup::BackupVault', 'BackupVaultName', names.backupVault), names.backupVault);
    const kafka = plan.resource(assembly.named(environment.name, 'AWS::MSK::Cluster', 'ClusterName', names.mskCluster), names.mskCluster);
    const replicaIds = replicas.map((r) => String(r.properties.DBInstanceIdentifier));
    for (const [i, r] of replicas.entries()) plan.resource(r, replicaIds[i]);
    const retention = Number(literal(writer.properties.BackupRetentionPeriod) ?? 0);
    // The writer's ARN as the stacks' backup selection builds it: the database stack's partition, region and account.
    const writerArn = `arn:${partitionOf(writer.region)}:rds:${writer.region}:${writer.account}:db:${names.dbInstance}`;

    // The reads of run(), in its order.
    plan.step({ region: writer.region, call: 'rds:DescribeDBInstances', target: names.dbInstance, kind: 'read', purpose: 'status, backup retention, LatestRestorableTime' });
    if (retention > 0) plan.step({ region: writer.region, call: 'rds:DescribeDBSnapshots', target: names.dbInstance, params: { SnapshotType: 'automated' }, kind: 'read', purpose: 'the newest automated snapshot' });
    plan.step({ region: vault.region, call: 'backup:ListRecoveryPointsByBackupVault', target: names.backupVault, params: { ByResourceArn: writerArn }, kind: 'read', purpose: 'the newest AWS Backup recovery point' });
    for (const [i, r] of replicas.entries()) plan.step({ region: r.region, call: 'rds:DescribeDBInstances', target: replicaIds[i], kind: 'read', purpose: 'replica status, source, replication state' });
    if (replicas.length > 0) {
      plan.step({
        region: writer.region, call: 'cloudwatch:GetMetricData', target: `AWS/RDS ReplicaLag ${replicaIds.join(', ')}`,
        params: { Period: 60, Stat: 'Maximum', lookbackSeconds: REPLICA_LAG_LOOKBACK_SECONDS }, kind: 'read', purpose: 'the newest replica lag of each replica',
      });
    }
    plan.step({ region: kafka.region, call: 'kafka:ListClustersV2', target: names.mskCluster, params: { ClusterNameFilter: names.mskCluster }, kind: 'read', purpose: 'the cluster state and broker count' });

    plan.unknown('recoveryPointAge', `age of the newest of: automated snapshot, COMPLETED AWS Backup recovery point${retention > 0 ? ', LatestRestorableTime' : ''}; breached above the RPO (${formatAge(rpoSeconds)})`);
    plan.unknown('replicaStatus', `status and replication state of ${replicaIds.join(', ') || 'no replica'}`);
    plan.unknown('replicaLag', `each replica's newest ReplicaLag within ${formatAge(REPLICA_LAG_LOOKBACK_SECONDS)}: warning above ${REPLICA_LAG_WARN_SECONDS} s, failing above the RPO (${rpoSeconds} s)`);
    plan.unknown('kafkaState', `state and broker count of ${names.mskCluster}`);
    plan.note(`the template sets backup retention ${retention} d on ${names.dbInstance}${retention > 0 ? '' : ' (automated backups off: only AWS Backup counts)'}`);
    plan.note('online, the exit code is 1 when the RPO is breached or a replica lags by more than it');
    return plan.build(`is ${names.dbInstance} recoverable within the RPO ${spec.disasterRecovery.database.rpo}, are the replicas and Kafka healthy (read-only)`);
  },
  render(r) {
    const db = r.database;
    const pointLine = (p: RecoveryPoint | null) => (p ? `${p.time} (${formatAge(p.ageSeconds)} ago, ${p.source})` : 'none');
    const lagText = (lag: DrStatusResult['replicas'][number]['lag']) => {
      if (!lag) return '';
      if (lag.seconds === null) return '  lag no data';
      const mark = lag.state === 'over-rpo' ? ' OVER RPO' : lag.state === 'warning' ? ` over ${r.replicaLag.warnSeconds}s` : '';
      return `  lag ${formatAge(lag.seconds)}${mark}`;
    };
    const verdict = db.rpoBreached ? 'RPO BREACHED' : r.replicaLag.overRpo ? 'REPLICA LAG OVER RPO' : 'within RPO';
    return [
      `${r.environment}: ${verdict} (RPO ${formatAge(db.rpoSeconds)})`,
      `database ${db.writer} ${db.status}, backup retention ${db.backupRetentionDays} d`,
      `  recovery point     ${pointLine(db.recoveryPoint)}`,
      `  newest snapshot    ${pointLine(db.newestSnapshot)}`,
      `  newest AWS Backup  ${db.backupVaultFound ? pointLine(db.newestBackupRecoveryPoint) : 'vault not found'}`,
      'replicas',
      ...r.replicas.map((rep) => `  ${rep.id}  ${rep.status}  source ${rep.source ?? '-'}${rep.replication ? `  ${rep.replication}` : ''}${lagText(rep.lag)}${rep.healthy ? '' : '  UNHEALTHY'}`),
      `kafka ${r.kafka ? `${r.kafka.cluster} ${r.kafka.state}, ${r.kafka.brokerNodes ?? '?'} brokers` : 'not found'}`,
      ...(r.warnings.length > 0 ? ['warnings', ...r.warnings.map((w) => `  - ${w}`)] : []),
    ].join('\n');
  },
  exitCode: (r) => (r.database.rpoBreached || r.replicaLag.overRpo ? 1 : 0),
};
