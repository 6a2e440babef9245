/**
 * The AWS-side alarms of one environment as data: what each watches (a CloudWatch metric or
 * metric-math expression), its threshold from lib/spec `observability`, severity and runbook.
 * The monitoring construct turns each group into alarms and a dashboard row, so alarms and
 * dashboard come from these same definitions.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { durationSeconds, pgbouncerSizing, resourceNames, serviceDatabaseCount } from '../spec';
import type { EnvironmentSpec, PlatformSpec, Severity } from '../spec';
import { edgeService } from '../spec/topology';
import { vaultNames } from '../spec/vault-names';
import type { RunbookArea } from './runbooks';

export interface AwsAlarmDefinition {
  /** Unique in the environment; the alarm name's suffix and the runbook heading's anchor. */
  readonly id: string;
  readonly severity: Severity;
  readonly description: string;
  readonly metric: cloudwatch.Metric | cloudwatch.MathExpression;
  readonly threshold: number;
  readonly comparison: cloudwatch.ComparisonOperator;
  /** Consecutive breaching periods before it alarms (datapoints to alarm = evaluation periods). */
  readonly periods: number;
  readonly treatMissingData: cloudwatch.TreatMissingData;
}

export interface AwsAlarmGroup {
  readonly area: RunbookArea;
  readonly title: string;
  readonly alarms: readonly AwsAlarmDefinition[];
  /** Graphs without an alarm that belong on the dashboard next to the alarms (golden signals, DR). */
  readonly graphs?: ReadonlyArray<{ readonly title: string; readonly metrics: ReadonlyArray<cloudwatch.IMetric> }>;
}

/**
 * The deploy-time identifiers the alarms need that the spec cannot name (CloudFormation tokens of
 * the stacks that own the resources, passed as construct props by the stage).
 */
export interface AwsAlarmTargets {
  readonly loadBalancerFullName: string;
  readonly apiGatewayTargetGroupFullName: string;
  readonly distributionId: string;
  readonly natGatewayIds: readonly string[];
  readonly vaultLoadBalancerFullName: string;
  readonly vaultTargetGroupFullName: string;
  /** The EKS managed node group's Auto Scaling group (EKS creates and names it). */
  readonly nodeGroupAutoScalingGroupName: string;
}

/** Web ACL names, as the edge stack names them (`<project>-<env>-<cloudfront|alb>`). */
export function webAclNames(spec: PlatformSpec, environment: EnvironmentSpec) {
  const prefix = `${spec.project}-${environment.name}`;
  return { cloudFront: `${prefix}-cloudfront`, loadBalancer: `${prefix}-alb` };
}

/** Server connections PgBouncer may open to one database instance in an environment (both poolers, every database). */
export function pgbouncerServerBudget(spec: PlatformSpec, environment: EnvironmentSpec): number {
  return pgbouncerSizing(spec, environment).replicas * spec.workloads.pgbouncer.maxDbConnections * serviceDatabaseCount(spec);
}

const GT = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;
const GTE = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
const LT = cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD;
const NOT_BREACHING = cloudwatch.TreatMissingData.NOT_BREACHING;
const BREACHING = cloudwatch.TreatMissingData.BREACHING;
const MISSING = cloudwatch.TreatMissingData.MISSING;

export function awsAlarmGroups(spec: PlatformSpec, environment: EnvironmentSpec, targets: AwsAlarmTargets): AwsAlarmGroup[] {
  const o = spec.observability;
  const period = Duration.seconds(o.alarmPeriodSeconds);
  const sustained = Math.ceil((o.sustainedMinutes * 60) / o.alarmPeriodSeconds);
  const names = resourceNames(spec, environment);
  /** The service behind the ALB (services[].exposes 'edge'). */
  const fronted = edgeService(spec).name;
  const vault = vaultNames(spec, environment.name);
  const prefix = `${spec.project}-${environment.name}`;
  const metric = (namespace: string, metricName: string, dimensionsMap: Record<string, string>, statistic: string, p: Duration = period, label?: string) =>
    new cloudwatch.Metric({ namespace, metricName, dimensionsMap, statistic, period: p, label });
  /** The largest of several series (per replica, per broker, per node) as one alarmable series. */
  const maxOf = (label: string, metrics: cloudwatch.Metric[], p: Duration = period) => new cloudwatch.MathExpression({
    expression: `MAX([${metrics.map((_, i) => `m${i}`).join(',')}])`,
    usingMetrics: Object.fromEntries(metrics.map((m, i) => [`m${i}`, m])),
    label,
    period: p,
  });

  // --- Database (RDS for PostgreSQL) and its DR -------------------------------------------------
  const rpoSeconds = durationSeconds(spec.disasterRecovery.database!.rpo);
  const instances = [names.dbInstance, ...names.dbReplicas];
  const rds = (id: string, name: string, stat: string) => metric('AWS/RDS', name, { DBInstanceIdentifier: id }, stat);
  const budget = pgbouncerServerBudget(spec, environment);
  const database: AwsAlarmDefinition[] = [
    ...instances.map((id, i): AwsAlarmDefinition => ({
      id: i === 0 ? 'database-writer-cpu' : `database-replica-${i}-cpu`,
      severity: 'warning',
      description: `${id}: CPU above ${o.database.cpuUtilizationMaxPercent}% for ${o.sustainedMinutes} min`,
      metric: rds(id, 'CPUUtilization', 'Average'),
      threshold: o.database.cpuUtilizationMaxPercent, comparison: GT, periods: sustained, treatMissingData: MISSING,
    })),
    ...instances.map((id, i): AwsAlarmDefinition => ({
      id: i === 0 ? 'database-writer-free-storage' : `database-replica-${i}-free-storage`,
      severity: 'critical',
      description: `${id}: free storage below ${o.database.freeStorageMinPercentOfAllocated}% of the ${environment.database.allocatedStorageGiB} GiB allocation (storage autoscaling failed or reached ${environment.database.maxAllocatedStorageGiB} GiB)`,
      metric: rds(id, 'FreeStorageSpace', 'Minimum'),
      threshold: (environment.database.allocatedStorageGiB * 1024 ** 3 * o.database.freeStorageMinPercentOfAllocated) / 100,
      comparison: LT, periods: sustained, treatMissingData: MISSING,
    })),
    ...instances.map((id, i): AwsAlarmDefinition => ({
      id: i === 0 ? 'database-writer-connections' : `database-replica-${i}-connections`,
      severity: 'warning',
      description: `${id}: connections above ${o.database.connectionsMaxPercentOfPgBouncerBudget}% of PgBouncer's server budget (${budget})`,
      metric: rds(id, 'DatabaseConnections', 'Maximum'),
      threshold: Math.floor((budget * o.database.connectionsMaxPercentOfPgBouncerBudget) / 100), comparison: GT, periods: sustained, treatMissingData: MISSING,
    })),
    ...names.dbReplicas.flatMap((id, i): AwsAlarmDefinition[] => [{
      id: `database-replica-${i + 1}-lag-rpo`,
      severity: 'critical',
      description: `${id}: replica lag above the database RPO (${spec.disasterRecovery.database!.rpo}); promoting it would lose more than the RPO`,
      metric: rds(id, 'ReplicaLag', 'Maximum'),
      threshold: rpoSeconds, comparison: GT, periods: 1, treatMissingData: MISSING,
    }, {
      id: `database-replica-${i + 1}-lag`,
      severity: 'warning',
      description: `${id}: replica lag above ${o.database.replicaLagWarningSeconds} s for ${o.sustainedMinutes} min`,
      metric: rds(id, 'ReplicaLag', 'Maximum'),
      threshold: o.database.replicaLagWarningSeconds, comparison: GT, periods: sustained, treatMissingData: MISSING,
    }]),
  ];

  // AWS Backup: recovery points land in the in-region vault and are copied to the DR vault.
  const backupPeriod = Duration.minutes(o.backup.metricPeriodMinutes);
  const rpoPeriods = Math.ceil(rpoSeconds / backupPeriod.toSeconds());
  const backupMetric = (name: string, dims: Record<string, string>) => metric('AWS/Backup', name, dims, 'Sum', backupPeriod);
  const backup: AwsAlarmDefinition[] = [{
    id: 'backup-job-failed',
    severity: 'critical',
    description: 'An AWS Backup job of the database failed (or expired before it ran): the RPO is at risk',
    metric: new cloudwatch.MathExpression({
      expression: 'failed + expired',
      usingMetrics: {
        failed: backupMetric('NumberOfBackupJobsFailed', { ResourceType: 'RDS' }),
        expired: backupMetric('NumberOfBackupJobsExpired', { ResourceType: 'RDS' }),
      },
      label: 'failed or expired backup jobs',
      period: backupPeriod,
    }),
    threshold: 0, comparison: GT, periods: 1, treatMissingData: NOT_BREACHING,
  }, {
    id: 'backup-copy-failed',
    severity: 'critical',
    description: `A copy of a recovery point to the DR vault (${names.drBackupVault}, ${spec.drRegion.name}) failed: a regional loss could lose more than the RPO`,
    metric: backupMetric('NumberOfCopyJobsFailed', { ResourceType: 'RDS' }),
    threshold: 0, comparison: GT, periods: 1, treatMissingData: NOT_BREACHING,
  }, {
    id: 'backup-no-recovery-point',
    severity: 'critical',
    // Every period of the last RPO without a completed recovery point (missing data counts: no
    // datapoint is exactly what a stopped backup plan looks like). With the newest point at t0 in
    // the period starting b0 <= t0, it fires at b0 + RPO + one period: after t0 + RPO, and at the
    // latest one period later.
    description: `No recovery point completed in ${names.backupVault} for the database RPO (${spec.disasterRecovery.database!.rpo})`,
    metric: metric('AWS/Backup', 'NumberOfRecoveryPointsCompleted', { BackupVaultName: names.backupVault }, 'Sum', backupPeriod),
    threshold: 1, comparison: LT, periods: rpoPeriods, treatMissingData: BREACHING,
  }];

  // --- Cache (ElastiCache, one member cluster per AZ) -------------------------------------------
  const cacheNodes = environment.availabilityZones.map((_, i) => `${names.cacheReplicationGroup}-${String(i + 1).padStart(3, '0')}`);
  const cacheMax = (name: string, stat: string, label: string, p: Duration = period) =>
    maxOf(label, cacheNodes.map((node) => metric('AWS/ElastiCache', name, { CacheClusterId: node }, stat, p)), p);
  const cache: AwsAlarmDefinition[] = [{
    id: 'cache-memory',
    severity: 'warning',
    description: `A cache node uses more than ${o.cache.memoryUsageMaxPercent}% of its memory for ${o.sustainedMinutes} min`,
    metric: cacheMax('DatabaseMemoryUsagePercentage', 'Maximum', 'memory used % (max node)'),
    threshold: o.cache.memoryUsageMaxPercent, comparison: GT, periods: sustained, treatMissingData: MISSING,
  }, {
    id: 'cache-evictions',
    severity: 'warning',
    description: `A cache node evicts more than ${o.cache.evictionsMaxPerMinute} keys a minute`,
    metric: cacheMax('Evictions', 'Sum', 'evictions per minute (max node)', Duration.minutes(1)),
    threshold: o.cache.evictionsMaxPerMinute, comparison: GT, periods: o.sustainedMinutes, treatMissingData: NOT_BREACHING,
  }, {
    id: 'cache-replication-lag',
    severity: 'warning',
    description: `A cache replica lags the primary by more than ${o.cache.replicationLagMaxSeconds} s`,
    metric: cacheMax('ReplicationLag', 'Maximum', 'replication lag s (max replica)'),
    threshold: o.cache.replicationLagMaxSeconds, comparison: GT, periods: sustained, treatMissingData: NOT_BREACHING,
  }];

  // --- Kafka (MSK); broker ids are 1..N ---------------------------------------------------------
  const brokers = Array.from({ length: spec.dataTier.kafka.brokersPerAz * environment.availabilityZones.length }, (_, i) => String(i + 1));
  const cluster = { 'Cluster Name': names.mskCluster };
  const kafka: AwsAlarmDefinition[] = [{
    id: 'kafka-offline-partitions',
    severity: 'critical',
    description: 'Kafka partitions without a leader: producers (the outbox relays) and consumers of them are stopped',
    metric: metric('AWS/Kafka', 'OfflinePartitionsCount', cluster, 'Maximum'),
    threshold: 0, comparison: GT, periods: 1, treatMissingData: MISSING,
  }, {
    id: 'kafka-under-replicated',
    severity: 'critical',
    description: `Under-replicated partitions for ${o.sustainedMinutes} min: one more broker loss stops writes (min.insync.replicas ${spec.dataTier.kafka.minInsyncReplicas})`,
    metric: maxOf('under-replicated partitions (max broker)', brokers.map((b) => metric('AWS/Kafka', 'UnderReplicatedPartitions', { ...cluster, 'Broker ID': b }, 'Maximum'))),
    threshold: 0, comparison: GT, periods: sustained, treatMissingData: MISSING,
  }, {
    id: 'kafka-disk',
    severity: 'warning',
    description: `A broker's data volume (${environment.messaging.brokerStorageGiB} GiB) is more than ${o.kafka.diskUsedMaxPercent}% full`,
    metric: maxOf('data disk used % (max broker)', brokers.map((b) => metric('AWS/Kafka', 'KafkaDataLogsDiskUsed', { ...cluster, 'Broker ID': b }, 'Maximum'))),
    threshold: o.kafka.diskUsedMaxPercent, comparison: GT, periods: sustained, treatMissingData: MISSING,
  }, ...spec.analytics.flink.topics.map((topic): AwsAlarmDefinition => ({
    id: `kafka-analytics-lag-${topic}`,
    severity: 'warning',
    description: `The analytics job (consumer group ${spec.analytics.flink.consumerGroup}) is more than ${o.kafka.analyticsConsumerLagMaxSeconds} s behind ${topic}`,
    metric: metric('AWS/Kafka', 'EstimatedMaxTimeLag', { ...cluster, 'Consumer Group': spec.analytics.flink.consumerGroup, Topic: topic }, 'Maximum'),
    threshold: o.kafka.analyticsConsumerLagMaxSeconds, comparison: GT, periods: sustained, treatMissingData: MISSING,
  }))];

  // --- Edge: ALB, WAF, CloudFront ----------------------------------------------------------------
  const alb = { LoadBalancer: targets.loadBalancerFullName };
  const albTg = { ...alb, TargetGroup: targets.apiGatewayTargetGroupFullName };
  const requests = metric('AWS/ApplicationELB', 'RequestCount', alb, 'Sum', period, 'requests');
  const target5xx = metric('AWS/ApplicationELB', 'HTTPCode_Target_5XX_Count', alb, 'Sum', period, 'gateway 5xx');
  const elb5xx = metric('AWS/ApplicationELB', 'HTTPCode_ELB_5XX_Count', alb, 'Sum', period, 'ALB 5xx');
  const p99 = metric('AWS/ApplicationELB', 'TargetResponseTime', albTg, 'p99', period, 'gateway p99 (s)');
  const acls = webAclNames(spec, environment);
  const edge: AwsAlarmDefinition[] = [{
    id: 'edge-alb-5xx',
    severity: 'critical',
    description: `More than ${o.edge.loadBalancer5xxMaxPercent}% of the ALB's requests fail with 5xx (gateway or ALB) for ${o.sustainedMinutes} min`,
    metric: new cloudwatch.MathExpression({
      expression: '100 * (FILL(t5, 0) + FILL(e5, 0)) / requests',
      usingMetrics: { t5: target5xx, e5: elb5xx, requests },
      label: '5xx % of requests',
      period,
    }),
    threshold: o.edge.loadBalancer5xxMaxPercent, comparison: GT, periods: sustained, treatMissingData: NOT_BREACHING,
  }, {
    id: 'edge-alb-unhealthy-targets',
    severity: 'warning',
    description: `${fronted} pods failing the ALB health check for ${o.sustainedMinutes} min`,
    metric: metric('AWS/ApplicationELB', 'UnHealthyHostCount', albTg, 'Maximum'),
    threshold: 0, comparison: GT, periods: sustained, treatMissingData: MISSING,
  }, {
    id: 'edge-alb-no-healthy-targets',
    severity: 'critical',
    description: `No healthy ${fronted} pod behind the ALB: every request gets a 5xx`,
    metric: metric('AWS/ApplicationELB', 'HealthyHostCount', albTg, 'Minimum'),
    threshold: 1, comparison: LT, periods: 2, treatMissingData: BREACHING,
  }, {
    id: 'edge-alb-p99-latency',
    severity: 'warning',
    description: `The gateway's p99 response time at the ALB above ${o.edge.targetResponseTimeP99MaxMs} ms for ${o.sustainedMinutes} min`,
    metric: p99,
    threshold: o.edge.targetResponseTimeP99MaxMs / 1000, comparison: GT, periods: sustained, treatMissingData: NOT_BREACHING,
  }, ...([['cloudfront', acls.cloudFront, {}], ['alb', acls.loadBalancer, { Region: environment.region }]] as const).map(([which, acl, extra]): AwsAlarmDefinition => ({
    id: `edge-waf-${which}-blocked`,
    severity: 'warning',
    description: `WAF ${acl} blocked more than ${o.edge.wafBlockedRequestsMaxPer5Minutes} requests in 5 minutes (an attack or a false positive hitting clients)`,
    metric: metric('AWS/WAFV2', 'BlockedRequests', { WebACL: acl, Rule: 'ALL', ...extra }, 'Sum', Duration.minutes(5)),
    threshold: o.edge.wafBlockedRequestsMaxPer5Minutes, comparison: GT, periods: 1, treatMissingData: NOT_BREACHING,
  })), {
    id: 'edge-cloudfront-5xx',
    severity: 'critical',
    description: `More than ${o.edge.cloudFront5xxMaxPercent}% of CloudFront's responses are 5xx for ${o.sustainedMinutes} min`,
    metric: metric('AWS/CloudFront', '5xxErrorRate', { DistributionId: targets.distributionId, Region: 'Global' }, 'Average'),
    threshold: o.edge.cloudFront5xxMaxPercent, comparison: GT, periods: sustained, treatMissingData: NOT_BREACHING,
  }];

  // --- Vault -------------------------------------------------------------------------------------
  const vaultAlarms: AwsAlarmDefinition[] = [{
    id: 'vault-nodes-in-service',
    severity: 'critical',
    description: `Fewer than ${spec.vault.nodes} Vault nodes in service in ${vault.primaryAutoScalingGroup}`,
    metric: metric('AWS/AutoScaling', 'GroupInServiceInstances', { AutoScalingGroupName: vault.primaryAutoScalingGroup }, 'Minimum'),
    threshold: spec.vault.nodes, comparison: LT, periods: sustained, treatMissingData: BREACHING,
  }, {
    id: 'vault-unhealthy-targets',
    severity: 'critical',
    description: 'Vault nodes failing the NLB health check (sealed, or not answering /v1/sys/health)',
    metric: metric('AWS/NetworkELB', 'UnHealthyHostCount', { LoadBalancer: targets.vaultLoadBalancerFullName, TargetGroup: targets.vaultTargetGroupFullName }, 'Maximum'),
    threshold: 0, comparison: GT, periods: sustained, treatMissingData: MISSING,
  }, ...(spec.vault.enterpriseReplication ? [] : [{
    id: 'vault-replication-latency',
    severity: 'critical' as const,
    description: `Vault's storage replicates to ${spec.drRegion.name} more than ${o.vault.replicationLatencyMaxMs} ms behind (secrets RPO ${spec.disasterRecovery.secrets?.rpo}; docs/vault.md "RPO actually achieved")`,
    metric: metric('AWS/DynamoDB', 'ReplicationLatency', { TableName: vault.table, ReceivingRegion: spec.drRegion.name }, 'Average'),
    threshold: o.vault.replicationLatencyMaxMs, comparison: GT, periods: sustained, treatMissingData: MISSING,
  }])];

  // --- Analytics: Managed Flink and Redshift Serverless -----------------------------------------
  const app = { Application: `${prefix}-analytics` };
  const flink = (name: string, stat: string) => metric('AWS/KinesisAnalytics', name, app, stat);
  const increase = (label: string, m: cloudwatch.Metric) => new cloudwatch.MathExpression({ expression: 'RATE(m) * PERIOD(m)', usingMetrics: { m }, label, period });
  const analytics: AwsAlarmDefinition[] = [{
    id: 'analytics-job-down',
    severity: 'critical',
    description: 'The analytics Flink job is down (restarting or failed): the warehouse stops filling',
    metric: flink('downtime', 'Maximum'),
    threshold: 0, comparison: GT, periods: sustained, treatMissingData: BREACHING,
  }, {
    id: 'analytics-failed-checkpoints',
    severity: 'warning',
    description: 'The analytics job failed a checkpoint: offsets and the warehouse rows stop advancing',
    metric: increase('failed checkpoints', flink('numberOfFailedCheckpoints', 'Maximum')),
    threshold: 0, comparison: GT, periods: 1, treatMissingData: NOT_BREACHING,
  }, {
    id: 'analytics-restarts',
    severity: 'warning',
    description: 'The analytics job restarted',
    metric: increase('restarts', flink('numRestarts', 'Maximum')),
    threshold: 0, comparison: GT, periods: 1, treatMissingData: NOT_BREACHING,
  }, {
    id: 'analytics-warehouse-at-capacity',
    severity: 'warning',
    description: `Redshift Serverless at its ${environment.analytics.warehouse.maxCapacityRpu} RPU ceiling for ${o.analytics.warehouseAtMaxCapacityMinutes} min`,
    metric: metric('AWS/Redshift-Serverless', 'ComputeCapacity', { Workgroup: `${prefix}-analytics` }, 'Maximum', Duration.minutes(1)),
    threshold: environment.analytics.warehouse.maxCapacityRpu, comparison: GTE, periods: o.analytics.warehouseAtMaxCapacityMinutes, treatMissingData: NOT_BREACHING,
  }];

  // --- Network: NAT gateways (the private zone's egress) ------------------------------------------
  const nat: AwsAlarmDefinition[] = targets.natGatewayIds.flatMap((natId, i): AwsAlarmDefinition[] => [{
    id: `network-nat-${i + 1}-port-allocation`,
    severity: 'critical',
    description: `NAT gateway ${i + 1} could not allocate a source port: new connections out of the private zone fail`,
    metric: metric('AWS/NATGateway', 'ErrorPortAllocation', { NatGatewayId: natId }, 'Sum'),
    threshold: 0, comparison: GT, periods: 1, treatMissingData: NOT_BREACHING,
  }, {
    id: `network-nat-${i + 1}-packets-dropped`,
    severity: 'warning',
    description: `NAT gateway ${i + 1} dropped more than ${o.nat.packetsDroppedMaxPer5Minutes} packets in 5 minutes`,
    metric: metric('AWS/NATGateway', 'PacketsDropCount', { NatGatewayId: natId }, 'Sum', Duration.minutes(5)),
    threshold: o.nat.packetsDroppedMaxPer5Minutes, comparison: GT, periods: 1, treatMissingData: NOT_BREACHING,
  }]);

  // --- Cluster: the EKS managed node group -------------------------------------------------------
  const nodes = { AutoScalingGroupName: targets.nodeGroupAutoScalingGroupName };
  const clusterAlarms: AwsAlarmDefinition[] = [{
    id: 'cluster-node-status-check',
    severity: 'critical',
    description: 'A cluster node fails its EC2 status checks (instance or host)',
    metric: metric('AWS/EC2', 'StatusCheckFailed', nodes, 'Maximum'),
    threshold: 0, comparison: GT, periods: sustained, treatMissingData: MISSING,
  }, {
    id: 'cluster-nodes-reporting',
    severity: 'critical',
    description: `Fewer than ${environment.cluster.nodeGroup.nodes} nodes of the node group report metrics (nodes lost and not replaced)`,
    // Basic monitoring: one CPU sample per node per 5 minutes, so the count is whole per 5 minutes.
    metric: metric('AWS/EC2', 'CPUUtilization', nodes, 'SampleCount', Duration.minutes(5)),
    threshold: environment.cluster.nodeGroup.nodes, comparison: LT, periods: 2, treatMissingData: BREACHING,
  }];

  return [
    {
      area: 'edge', title: `Edge: CloudFront, WAF, ALB (${fronted} golden signals at the ALB)`, alarms: edge,
      graphs: [
        { title: 'Traffic: requests per period', metrics: [requests] },
        { title: 'Errors: 5xx per period', metrics: [target5xx, elb5xx] },
        { title: 'Latency: p50 / p99 (s)', metrics: [metric('AWS/ApplicationELB', 'TargetResponseTime', albTg, 'p50', period, 'gateway p50 (s)'), p99] },
        { title: 'Saturation: healthy gateway targets', metrics: [metric('AWS/ApplicationELB', 'HealthyHostCount', albTg, 'Minimum', period, 'healthy targets')] },
      ],
    },
    { area: 'database', title: 'Database: RDS for PostgreSQL', alarms: database },
    {
      area: 'backup', title: `DR: AWS Backup (RPO ${spec.disasterRecovery.database!.rpo}), Vault replication`, alarms: backup,
      graphs: [{ title: 'Recovery points completed / copies completed', metrics: [
        metric('AWS/Backup', 'NumberOfRecoveryPointsCompleted', { BackupVaultName: names.backupVault }, 'Sum', backupPeriod, 'recovery points'),
        metric('AWS/Backup', 'NumberOfCopyJobsCompleted', { ResourceType: 'RDS' }, 'Sum', backupPeriod, 'copies to the DR vault'),
      ] }],
    },
    { area: 'cache', title: 'Cache: ElastiCache', alarms: cache },
    { area: 'kafka', title: 'Kafka: Amazon MSK', alarms: kafka },
    { area: 'vault', title: 'Vault', alarms: vaultAlarms },
    { area: 'analytics', title: 'Analytics: Managed Flink, Redshift Serverless', alarms: analytics },
    { area: 'network', title: 'Network: NAT gateways', alarms: nat },
    { area: 'cluster', title: 'Cluster: EKS node group', alarms: clusterAlarms },
  ];
}
