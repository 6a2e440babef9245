import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { awsAlarmGroups, pgbouncerServerBudget, webAclNames } from '../../lib/observability/aws-alarms';
import { alarmIndex } from '../../lib/observability/platform-monitoring';
import { ALERTMANAGER_SERVICE_ACCOUNT } from '../../lib/observability/prometheus-addon';
import { prometheusRules } from '../../lib/observability/prometheus-rules';
import { durationSeconds, ENVIRONMENT_NAMES, loadPlatformSpec, resourceNames } from '../../lib/spec';
import type { EnvironmentName } from '../../lib/spec';
import { PlatformStage } from '../../bin/platform-stage';
import { testApp } from '../helpers/app';
import { expectStatefulResourcesPinned } from '../helpers/data-tier-stacks';
import { normaliseTemplate } from '../helpers/normalise-template';

const spec = loadPlatformSpec();
const o = spec.observability;
const app = testApp();
const layer = lambda.LayerVersion.fromLayerVersionArn(app, 'Layer', 'arn:aws:lambda:us-east-1:111111111111:layer:kubectl:1');
const stages = Object.fromEntries(ENVIRONMENT_NAMES.map((name) => [name, new PlatformStage(app, name, { spec, environment: spec.environments[name], kubectlLayer: layer })])) as Record<EnvironmentName, PlatformStage>;
const templates = Object.fromEntries(ENVIRONMENT_NAMES.map((n) => [n, Template.fromStack(stages[n].observability)])) as Record<EnvironmentName, Template>;
const clusterTemplates = Object.fromEntries(ENVIRONMENT_NAMES.map((n) => [n, Template.fromStack(stages[n].cluster)])) as Record<EnvironmentName, Template>;

type Resource = { Type: string; Properties: Record<string, any> };
const resources = (name: EnvironmentName) => templates[name].toJSON().Resources as Record<string, Resource>;
const ofType = (name: EnvironmentName, type: string) => Object.entries(resources(name)).filter(([, r]) => r.Type === type);
const alarmEntry = (name: EnvironmentName, id: string) => {
  const found = ofType(name, 'AWS::CloudWatch::Alarm').find(([, r]) => r.Properties.AlarmName === `platform-${name}-${id}`);
  if (!found) throw new Error(`no alarm ${id} in ${name}`);
  return found;
};
const alarm = (name: EnvironmentName, id: string) => alarmEntry(name, id)[1].Properties;
const topicId = (name: EnvironmentName, severity: string) =>
  ofType(name, 'AWS::SNS::Topic').find(([, r]) => r.Properties.TopicName === `platform-${name}-alarms-${severity}`)![0];

/** The definitions the stack was built from (same spec; only the deploy-time tokens differ). */
const definitions = (name: EnvironmentName) => alarmIndex(awsAlarmGroups(spec, spec.environments[name], {
  loadBalancerFullName: 'lb', apiGatewayTargetGroupFullName: 'tg', distributionId: 'd',
  natGatewayIds: Array.from({ length: spec.environments[name].network.natGateways }, (_, i) => `nat-${i}`),
  vaultLoadBalancerFullName: 'vlb', vaultTargetGroupFullName: 'vtg', nodeGroupAutoScalingGroupName: 'asg',
}));

describe.each(ENVIRONMENT_NAMES)('%s', (name) => {
  const env = spec.environments[name];
  const names = resourceNames(spec, env);
  const rpo = durationSeconds(spec.disasterRecovery.database!.rpo);

  it('is its own stack, in the environment\'s account and region, after the stacks it watches', () => {
    const stack = stages[name].observability;
    expect([stack.stackName, stack.account, stack.region, stack.terminationProtection]).toEqual([`platform-${name}-observability`, env.account, env.region, true]);
    for (const watched of [stages[name].edge, stages[name].network, stages[name].vault, stages[name].cluster]) expect(stack.dependencies).toContain(watched);
  });

  it('has exactly one alarm per definition, each named after it', () => {
    const alarms = ofType(name, 'AWS::CloudWatch::Alarm').map(([, r]) => r.Properties.AlarmName).sort();
    expect(alarms).toEqual(definitions(name).map((d) => `platform-${name}-${d.id}`).sort());
  });

  it('holds every threshold the spec gives, in the metric\'s unit', () => {
    const budget = pgbouncerServerBudget(spec, env);
    expect(budget).toBe(spec.workloads.pgbouncer.replicas * spec.workloads.pgbouncer.maxDbConnections * spec.services.filter((s) => s.database).length);
    const expected: Record<string, number> = {
      'database-writer-cpu': o.database.cpuUtilizationMaxPercent,
      'database-writer-free-storage': env.database.allocatedStorageGiB * 1024 ** 3 * o.database.freeStorageMinPercentOfAllocated / 100,
      'database-writer-connections': Math.floor(budget * o.database.connectionsMaxPercentOfPgBouncerBudget / 100),
      'database-replica-1-lag-rpo': rpo,
      'database-replica-2-lag-rpo': rpo,
      'database-replica-1-lag': o.database.replicaLagWarningSeconds,
      'backup-no-recovery-point': 1,
      'cache-memory': o.cache.memoryUsageMaxPercent,
      'cache-evictions': o.cache.evictionsMaxPerMinute,
      'cache-replication-lag': o.cache.replicationLagMaxSeconds,
      'kafka-disk': o.kafka.diskUsedMaxPercent,
      'kafka-analytics-lag-order-events': o.kafka.analyticsConsumerLagMaxSeconds,
      'edge-alb-5xx': o.edge.loadBalancer5xxMaxPercent,
      'edge-alb-p99-latency': o.edge.targetResponseTimeP99MaxMs / 1000,
      'edge-waf-cloudfront-blocked': o.edge.wafBlockedRequestsMaxPer5Minutes,
      'edge-waf-alb-blocked': o.edge.wafBlockedRequestsMaxPer5Minutes,
      'edge-cloudfront-5xx': o.edge.cloudFront5xxMaxPercent,
      'vault-nodes-in-service': spec.vault.nodes,
      'vault-replication-latency': o.vault.replicationLatencyMaxMs,
      'analytics-warehouse-at-capacity': env.analytics.warehouse.maxCapacityRpu,
      'network-nat-1-packets-dropped': o.nat.packetsDroppedMaxPer5Minutes,
      'cluster-nodes-reporting': env.cluster.nodeGroup.nodes,
    };
    for (const [id, threshold] of Object.entries(expected)) expect({ id, threshold: alarm(name, id).Threshold }).toEqual({ id, threshold });
    // A sustained condition holds sustainedMinutes of alarm periods.
    expect(alarm(name, 'database-writer-cpu')).toMatchObject({ Period: o.alarmPeriodSeconds, EvaluationPeriods: o.sustainedMinutes * 60 / o.alarmPeriodSeconds, DatapointsToAlarm: o.sustainedMinutes * 60 / o.alarmPeriodSeconds });
  });

  it('watches the resources by the names the spec gives them', () => {
    const dims = (id: string) => JSON.stringify(alarm(name, id));
    expect(dims('database-writer-cpu')).toContain(`"DBInstanceIdentifier","Value":"${names.dbInstance}"`);
    names.dbReplicas.forEach((replica, i) => expect(dims(`database-replica-${i + 1}-lag-rpo`)).toContain(`"Value":"${replica}"`));
    expect(dims('backup-no-recovery-point')).toContain(`"BackupVaultName","Value":"${names.backupVault}"`);
    for (const i of [1, 2, 3]) expect(dims('cache-memory')).toContain(`"Value":"${names.cacheReplicationGroup}-00${i}"`);
    expect(dims('kafka-offline-partitions')).toContain(`"Cluster Name","Value":"${names.mskCluster}"`);
    expect(dims('kafka-analytics-lag-payment-events')).toContain(`"Consumer Group","Value":"${spec.analytics.flink.consumerGroup}"`);
    expect(dims('edge-waf-cloudfront-blocked')).toContain(`"Value":"${webAclNames(spec, env).cloudFront}"`);
    expect(dims('edge-waf-alb-blocked')).toContain(`"Value":"${webAclNames(spec, env).loadBalancer}"`);
    expect(dims('analytics-job-down')).toContain(`"Application","Value":"platform-${name}-analytics"`);
    expect(dims('vault-replication-latency')).toContain(`"ReceivingRegion","Value":"${spec.drRegion.name}"`);
    // One pair of NAT alarms per NAT gateway of the environment.
    expect(ofType(name, 'AWS::CloudWatch::Alarm').filter(([, r]) => /-port-allocation$/.test(r.Properties.AlarmName))).toHaveLength(env.network.natGateways);
    // The web ACLs are the edge stack's: their names in the template are these.
    const edge = Template.fromStack(stages[name].edge).toJSON().Resources as Record<string, Resource>;
    expect(Object.values(edge).filter((r) => r.Type === 'AWS::WAFv2::WebACL').map((r) => r.Properties.Name).sort())
      .toEqual([webAclNames(spec, env).loadBalancer, webAclNames(spec, env).cloudFront].sort());
  });

  it('links every alarm to its runbook and routes it to the topic of its severity, or through its area\'s composite', () => {
    const composites = ofType(name, 'AWS::CloudWatch::CompositeAlarm').map(([, r]) => r.Properties);
    for (const d of definitions(name)) {
      const a = alarm(name, d.id);
      expect(a.AlarmDescription).toContain(`Runbook: docs/runbooks/${d.area}.md#${d.id}`);
      const composite = composites.find((c) => c.AlarmName === `platform-${name}-${d.area}-critical`);
      const inComposite = composite && JSON.stringify(composite.AlarmRule).includes(`"${alarmEntry(name, d.id)[0]}"`);
      if (inComposite) {
        expect({ id: d.id, severity: d.severity, actions: a.AlarmActions }).toEqual({ id: d.id, severity: 'critical', actions: undefined });
      } else {
        expect({ id: d.id, actions: a.AlarmActions, ok: a.OKActions }).toEqual({ id: d.id, actions: [{ Ref: topicId(name, d.severity) }], ok: [{ Ref: topicId(name, d.severity) }] });
      }
    }
    // Where one failure fires several critical alarms, one composite pages.
    expect(composites.map((c) => c.AlarmName).sort()).toEqual(
      ['backup', 'cluster', 'database', 'edge', 'kafka', 'network', 'vault'].filter((a) => a !== 'network' || env.network.natGateways > 1).map((a) => `platform-${name}-${a}-critical`).sort(),
    );
    for (const c of composites) {
      expect(c.AlarmActions).toEqual([{ Ref: topicId(name, 'critical') }]);
      expect(c.AlarmDescription).toMatch(/Runbook: docs\/runbooks\/\w+\.md#\w+-critical/);
    }
  });

  it('alarms on no recovery point after the database RPO plus one period, never before', () => {
    const a = alarm(name, 'backup-no-recovery-point');
    expect(a).toMatchObject({ ComparisonOperator: 'LessThanThreshold', Threshold: 1, TreatMissingData: 'breaching' });
    expect(a.EvaluationPeriods).toBe(a.DatapointsToAlarm);
    const period = a.Period ?? a.Metrics?.[0]?.MetricStat?.Period;
    expect(period).toBe(o.backup.metricPeriodMinutes * 60);
    // CloudWatch's rule (docs: "Evaluating an alarm"): at the end of each period it looks at the
    // last EvaluationPeriods datapoints, a missing one breaching here, and alarms when
    // DatapointsToAlarm of them breach. A recovery point completes at t0; no other follows.
    const firesAt = (t0: number) => {
      for (let end = Math.ceil((t0 + 1) / period) * period; ; end += period) {
        const window = Array.from({ length: a.EvaluationPeriods }, (_, k) => end - (k + 1) * period);
        const breaching = window.filter((start) => !(t0 >= start && t0 < start + period)).length;
        if (breaching >= a.DatapointsToAlarm) return end;
      }
    };
    for (const offset of [0, 1, period / 2, period - 1]) {
      const t0 = 10 * period + offset;
      const at = firesAt(t0);
      expect(at).toBeGreaterThan(t0 + rpo);
      expect(at).toBeLessThanOrEqual(t0 + rpo + period);
    }
  });

  it('sends to one KMS-encrypted topic per severity, subscribed from the spec', () => {
    const notifications = o.notifications[name]!;
    for (const severity of ['critical', 'warning'] as const) {
      const id = topicId(name, severity);
      expect(resources(name)[id]!.Properties.KmsMasterKeyId).toBeDefined();
      const subs = ofType(name, 'AWS::SNS::Subscription').filter(([, r]) => r.Properties.TopicArn.Ref === id).map(([, r]) => [r.Properties.Protocol, r.Properties.Endpoint]);
      expect(subs.sort()).toEqual(notifications[severity].map((s) => [s.kind === 'email' ? 'email' : 'https', s.endpoint]).sort());
    }
    expect(notifications.paging).toBe(name === 'production');
    // CloudWatch may use the key to publish to the encrypted topics.
    const key = ofType(name, 'AWS::KMS::Key').find(([, r]) => JSON.stringify(r.Properties.KeyPolicy).includes('cloudwatch.amazonaws.com'));
    expect(key).toBeDefined();
  });

  it('builds one dashboard from the same definitions, with the golden signals at the ALB and the DR signals', () => {
    const dashboards = ofType(name, 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]![1].Properties.DashboardBody);
    expect(dashboards[0]![1].Properties.DashboardName).toBe(`platform-${name}`);
    for (const signal of ['RequestCount', 'HTTPCode_Target_5XX_Count', 'TargetResponseTime', 'HealthyHostCount', 'NumberOfRecoveryPointsCompleted', 'NumberOfCopyJobsCompleted', 'ReplicationLatency', 'ReplicaLag', 'Prometheus']) {
      expect({ signal, shown: body.includes(signal) }).toEqual({ signal, shown: true });
    }
  });

  it('gives Alertmanager a Pod Identity role that may publish to these two topics only, and the rules to the Prometheus add-on', () => {
    const cluster = clusterTemplates[name].toJSON().Resources as Record<string, Resource>;
    const association = Object.values(cluster).find((r) => r.Type === 'AWS::EKS::PodIdentityAssociation' && r.Properties.ServiceAccount === ALERTMANAGER_SERVICE_ACCOUNT)!;
    expect(association.Properties.Namespace).toBe(spec.clusterAddons.prometheus.namespace);
    const policies = Object.values(cluster).filter((r) => r.Type === 'AWS::IAM::ManagedPolicy' && JSON.stringify(r.Properties.PolicyDocument).includes('sns:Publish'));
    expect(policies).toHaveLength(1);
    const statements = policies[0]!.Properties.PolicyDocument.Statement as any[];
    const publish = statements.find((s) => s.Action === 'sns:Publish');
    const arns = JSON.stringify(publish.Resource);
    for (const severity of ['critical', 'warning']) expect(arns).toContain(`:platform-${name}-alarms-${severity}`);
    expect(publish.Resource).toHaveLength(2);
    expect(statements.flatMap((s) => [s.Action].flat()).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey', 'sns:Publish']);
    // The topic names the role may publish to are the observability stack's.
    const topicNames = ofType(name, 'AWS::SNS::Topic').map(([, r]) => r.Properties.TopicName).sort();
    expect(topicNames).toEqual([`platform-${name}-alarms-critical`, `platform-${name}-alarms-warning`]);
    const prometheus = Object.values(cluster).find((r) => r.Type === 'Custom::AWSCDK-EKS-HelmChart' && r.Properties.Chart === spec.clusterAddons.prometheus.chart)!;
    // Values are a JSON document joined with the account and region tokens.
    const text = JSON.stringify(prometheus.Properties.Values);
    expect(text).toContain('alerting_rules.yml');
    expect(text).toContain(prometheusRules(spec).alerting.groups[0]!.rules[0]!.alert);
    expect(text).toContain(`platform-${name}-alarms-critical`);
  });

  it('keeps the logical ids of its keys and log group (a new id replaces them)', () => {
    expectStatefulResourcesPinned(templates[name], [
      ['TopicsKeyEB724AD3', 'AWS::KMS::Key'],
      ['LogEncryptionKeyA864C340', 'AWS::KMS::Key'],
      ['NodeGroupAutoScalingGroupLogsLogGroup26F823DA', 'AWS::Logs::LogGroup'],
    ]);
    // Topic names are fixed (Alertmanager's role names them); their ids too, so subscribers stay.
    expect(topicId(name, 'critical')).toBe('TopicsCritical54F8F423');
    expect(topicId(name, 'warning')).toBe('TopicsWarning3952D1DF');
  });

  it('matches the snapshot', () => {
    expect(normaliseTemplate(templates[name].toJSON())).toMatchSnapshot();
  });
});
