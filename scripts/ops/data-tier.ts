/**
 * How the data-tier commands find an environment's resources: by the physical names of
 * lib/spec/names.ts (the contract with the data-tier stacks), in the environment's region.
 * The SDK honours AWS_ENDPOINT_URL, so tests point these clients at an emulator unchanged.
 */
import { BackupClient, paginateListRecoveryPointsByBackupVault } from '@aws-sdk/client-backup';
import type { ListRecoveryPointsByBackupVaultCommandInput, RecoveryPointByBackupVault } from '@aws-sdk/client-backup';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { DescribeReplicationGroupsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import type { ReplicationGroup } from '@aws-sdk/client-elasticache';
import { GetBootstrapBrokersCommand, KafkaClient, ListClustersV2Command } from '@aws-sdk/client-kafka';
import type { Cluster } from '@aws-sdk/client-kafka';
import {
  DescribeDBInstanceAutomatedBackupsCommand, DescribeDBInstancesCommand, RDSClient, paginateDescribeDBSnapshots,
} from '@aws-sdk/client-rds';
import type { DBInstance, DBSnapshot } from '@aws-sdk/client-rds';
import { resourceNames } from '../../lib/spec';
import type { EnvironmentSpec, PlatformSpec, ResourceNames } from '../../lib/spec';
import { OpsError } from './command';

export interface DataTier {
  readonly environment: EnvironmentSpec;
  readonly names: ResourceNames;
  readonly rds: RDSClient;
  readonly kafka: KafkaClient;
  readonly elasticache: ElastiCacheClient;
  readonly backup: BackupClient;
  readonly cloudwatch: CloudWatchClient;
}

export function dataTier(spec: PlatformSpec, environment: EnvironmentSpec): DataTier {
  const region = environment.region;
  return {
    environment,
    names: resourceNames(spec, environment),
    rds: new RDSClient({ region }),
    kafka: new KafkaClient({ region }),
    elasticache: new ElastiCacheClient({ region }),
    backup: new BackupClient({ region }),
    cloudwatch: new CloudWatchClient({ region }),
  };
}

function isNotFound(error: unknown, ...names: string[]): boolean {
  return error instanceof Error && names.includes(error.name);
}

/** One RDS instance by identifier, or undefined when it does not exist. */
export async function findDbInstance(tier: DataTier, id: string): Promise<DBInstance | undefined> {
  try {
    const result = await tier.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
    return result.DBInstances?.[0];
  } catch (error) {
    if (isNotFound(error, 'DBInstanceNotFoundFault', 'DBInstanceNotFound')) return undefined;
    throw error;
  }
}

/** The environment's writer; an OpsError when there is none. */
export async function requireWriter(tier: DataTier): Promise<DBInstance> {
  const writer = await findDbInstance(tier, tier.names.dbInstance);
  if (!writer) {
    throw new OpsError(`no database found for ${tier.environment.name} (expected RDS instance ${tier.names.dbInstance} in ${tier.environment.region})`);
  }
  return writer;
}

/** The identifier a replica's source field names, whether given as identifier or ARN. */
export function sourceIdentifier(instance: DBInstance): string | undefined {
  const source = instance.ReadReplicaSourceDBInstanceIdentifier;
  return source?.startsWith('arn:') ? source.split(':').pop() : source;
}

/**
 * The writer's read replicas: the names of the contract plus any replica the writer reports
 * (an operator may have added one). Each with its description, or undefined when missing.
 */
export async function listReplicas(tier: DataTier, writer: DBInstance): Promise<{ id: string; instance?: DBInstance }[]> {
  const ids = [...new Set([...tier.names.dbReplicas, ...(writer.ReadReplicaDBInstanceIdentifiers ?? [])
    .map((id) => (id.startsWith('arn:') ? id.split(':').pop() ?? id : id))])];
  return Promise.all(ids.map(async (id) => ({ id, instance: await findDbInstance(tier, id) })));
}

export async function automatedSnapshots(tier: DataTier, instanceId: string): Promise<DBSnapshot[]> {
  const snapshots: DBSnapshot[] = [];
  const pages = paginateDescribeDBSnapshots({ client: tier.rds }, { DBInstanceIdentifier: instanceId, SnapshotType: 'automated' });
  for await (const page of pages) snapshots.push(...(page.DBSnapshots ?? []));
  return snapshots;
}

/**
 * The writer's point-in-time restore window. AWS reports it on the automated backup
 * (RestoreWindow); where that is absent, the oldest available automated snapshot bounds it
 * from below. The upper bound is always the instance's LatestRestorableTime.
 */
export async function restoreWindow(tier: DataTier, writer: DBInstance): Promise<{ earliest?: Date; latest?: Date }> {
  const latest = writer.LatestRestorableTime;
  if (!writer.BackupRetentionPeriod) return {};
  const backups = await tier.rds.send(new DescribeDBInstanceAutomatedBackupsCommand({
    DBInstanceIdentifier: writer.DBInstanceIdentifier,
  }));
  let earliest = backups.DBInstanceAutomatedBackups?.find((b) => b.RestoreWindow?.EarliestTime)?.RestoreWindow?.EarliestTime;
  if (!earliest) {
    const times = (await automatedSnapshots(tier, writer.DBInstanceIdentifier!))
      .filter((s) => s.Status === 'available' && s.SnapshotCreateTime)
      .map((s) => s.SnapshotCreateTime!.getTime());
    if (times.length > 0) earliest = new Date(Math.min(...times));
  }
  return { earliest, latest };
}

export async function findKafkaCluster(tier: DataTier): Promise<Cluster | undefined> {
  let token: string | undefined;
  do {
    const page = await tier.kafka.send(new ListClustersV2Command({ ClusterNameFilter: tier.names.mskCluster, NextToken: token }));
    const match = page.ClusterInfoList?.find((c) => c.ClusterName === tier.names.mskCluster);
    if (match) return match;
    token = page.NextToken;
  } while (token);
  return undefined;
}

export async function kafkaBootstrapBrokers(tier: DataTier, clusterArn: string) {
  return tier.kafka.send(new GetBootstrapBrokersCommand({ ClusterArn: clusterArn }));
}

export async function findReplicationGroup(tier: DataTier): Promise<ReplicationGroup | undefined> {
  try {
    const result = await tier.elasticache.send(new DescribeReplicationGroupsCommand({
      ReplicationGroupId: tier.names.cacheReplicationGroup,
    }));
    return result.ReplicationGroups?.[0];
  } catch (error) {
    if (isNotFound(error, 'ReplicationGroupNotFoundFault')) return undefined;
    throw error;
  }
}

/**
 * Every recovery point of a backup vault that `query` selects (all pages). A vault that does not
 * exist throws the SDK's ResourceNotFoundException.
 */
export async function vaultRecoveryPoints(backup: BackupClient, query: ListRecoveryPointsByBackupVaultCommandInput): Promise<RecoveryPointByBackupVault[]> {
  const points: RecoveryPointByBackupVault[] = [];
  for await (const page of paginateListRecoveryPointsByBackupVault({ client: backup }, query)) points.push(...(page.RecoveryPoints ?? []));
  return points;
}

/** Recovery points of one resource in the environment's vault; undefined when the vault does not exist. */
export async function backupRecoveryPoints(tier: DataTier, resourceArn: string): Promise<RecoveryPointByBackupVault[] | undefined> {
  try {
    return await vaultRecoveryPoints(tier.backup, { BackupVaultName: tier.names.backupVault, ByResourceArn: resourceArn });
  } catch (error) {
    if (isNotFound(error, 'ResourceNotFoundException')) return undefined;
    throw error;
  }
}

/** How far back `replicaLag` looks for a ReplicaLag datapoint (RDS publishes one a minute). */
export const REPLICA_LAG_LOOKBACK_SECONDS = 15 * 60;

export interface ReplicaLagSample {
  /** Seconds the replica is behind its source (the period's maximum). */
  readonly seconds: number;
  readonly at: Date;
}

/**
 * The newest CloudWatch `ReplicaLag` (AWS/RDS, per DBInstanceIdentifier, 1-minute maximum) of
 * each replica within the lookback; null for a replica with no datapoint in it.
 */
export async function replicaLag(tier: DataTier, replicaIds: readonly string[], now: Date): Promise<Map<string, ReplicaLagSample | null>> {
  const lag = new Map<string, ReplicaLagSample | null>(replicaIds.map((id) => [id, null]));
  if (replicaIds.length === 0) return lag;
  // Query ids must start with a lower-case letter and be unique: r0, r1, ...
  const queries: MetricDataQuery[] = replicaIds.map((id, i) => ({
    Id: `r${i}`,
    MetricStat: {
      Metric: { Namespace: 'AWS/RDS', MetricName: 'ReplicaLag', Dimensions: [{ Name: 'DBInstanceIdentifier', Value: id }] },
      Period: 60,
      Stat: 'Maximum',
    },
    ReturnData: true,
  }));
  let token: string | undefined;
  do {
    const page = await tier.cloudwatch.send(new GetMetricDataCommand({
      MetricDataQueries: queries,
      StartTime: new Date(now.getTime() - REPLICA_LAG_LOOKBACK_SECONDS * 1000),
      EndTime: now,
      ScanBy: 'TimestampDescending',
      NextToken: token,
    }));
    for (const result of page.MetricDataResults ?? []) {
      const id = replicaIds[Number(result.Id?.slice(1))];
      if (id === undefined) continue;
      (result.Timestamps ?? []).forEach((at, i) => {
        const seconds = result.Values?.[i];
        const known = lag.get(id);
        if (seconds !== undefined && (!known || at > known.at)) lag.set(id, { seconds, at });
      });
    }
    token = page.NextToken;
  } while (token);
  return lag;
}

/** "1h 5m 3s" for a number of seconds. */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const parts = [[Math.floor(s / 86400), 'd'], [Math.floor((s % 86400) / 3600), 'h'], [Math.floor((s % 3600) / 60), 'm'], [s % 60, 's']] as const;
  const shown = parts.filter(([n]) => n > 0).map(([n, unit]) => `${n}${unit}`);
  return shown.length > 0 ? shown.join(' ') : '0s';
}

/** A plan step: one AWS API call with its exact parameters. */
export interface PlanStep {
  readonly service: 'rds' | 'backup';
  readonly action: string;
  readonly parameters: Record<string, unknown>;
}

export function renderPlan(steps: readonly PlanStep[]): string[] {
  return steps.map((step, i) => `  ${i + 1}. ${step.service}:${step.action} ${JSON.stringify(step.parameters)}`);
}
