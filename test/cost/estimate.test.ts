import * as fs from 'node:fs';
import * as path from 'node:path';
import { estimateAssembly } from '../../scripts/cost/assembly';
import type { StackCost } from '../../scripts/cost/assembly';
import { estimateTemplate, KNOWN_FREE_TYPES, literal, PRICED_TYPES, USAGE_ONLY_TYPES } from '../../scripts/cost/estimate';
import type { CfnTemplate, LineItem } from '../../scripts/cost/estimate';
import { PRICES } from '../../scripts/cost/prices';

const fixtures = path.join(__dirname, 'fixtures');
const report = estimateAssembly(path.join(fixtures, 'head'), PRICES);
const stack = (env: string, name: string): StackCost => {
  const found = report.environments.find((e) => e.name === env)?.stacks.find((s) => s.stack === name);
  if (!found) throw new Error(`no stack ${env}/${name}`);
  return found;
};
const lines = (s: StackCost, logicalId: string): (number | null)[] => s.items.filter((i) => i.logicalId === logicalId).map((i) => i.monthly);

describe('the price table', () => {
  test('is dated, sourced, 730 h/month, and covers us-east-1 and us-west-2', () => {
    expect(PRICES.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(PRICES.source).toMatch(/AWS/);
    expect(PRICES.hoursPerMonth).toBe(730);
    expect(Object.keys(PRICES.regions).sort()).toEqual(['us-east-1', 'us-west-2']);
  });

  test('no type is both priced, usage-only and free', () => {
    for (const type of PRICED_TYPES) {
      expect(KNOWN_FREE_TYPES.has(type)).toBe(false);
      expect(type in USAGE_ONLY_TYPES).toBe(false);
    }
    for (const type of Object.keys(USAGE_ONLY_TYPES)) expect(KNOWN_FREE_TYPES.has(type)).toBe(false);
  });
});

describe('line items on the fixture assembly (730 h/month)', () => {
  test('production EKS: control plane $0.10/h, 10 x m5.xlarge, 10 x 100 GiB gp3', () => {
    const cluster = stack('production', 'platform-production-cluster');
    expect(lines(cluster, 'EksCluster')).toEqual([73.00]); // 0.10 x 730
    expect(lines(cluster, 'EksNodegroup')).toEqual([1401.60, 80.00]); // 10 x 0.192 x 730; 1000 GiB x 0.08
    expect(cluster.monthly).toBe(1555.60); // + one KMS key
  });

  test('staging EKS: 3 x m5.large and 3 x 50 GiB gp3', () => {
    expect(lines(stack('staging', 'platform-staging-cluster'), 'EksNodegroup')).toEqual([210.24, 12.00]);
  });

  test('RDS: Multi-AZ doubles instance and storage, a replica takes its source engine and storage', () => {
    const data = stack('production', 'platform-production-data');
    expect(lines(data, 'PostgresPrimary')).toEqual([348.94, 46.00]); // 2 x 0.239 x 730; 2 x 200 x 0.115
    expect(lines(data, 'PostgresReplica1')).toEqual([174.47, 23.00]);
    // Single-AZ, default gp2 storage, and Performance Insights paid tier whose rate the table lacks.
    expect(lines(data, 'ReportingDb')).toEqual([94.17, 5.75, null]);
    const pi = data.items.find((i) => i.logicalId === 'ReportingDb' && i.unit === 'vCPU-month') as LineItem;
    expect(pi).toMatchObject({ quantity: 2, unitPrice: null, monthly: null });
  });

  test('ElastiCache: NumNodeGroups x (1 + ReplicasPerNodeGroup), or NumCacheClusters, per engine', () => {
    const data = stack('production', 'platform-production-data');
    expect(data.items.find((i) => i.logicalId === 'SessionCache')).toMatchObject({ quantity: 4, unitPrice: 0.219, monthly: 639.48 });
    expect(data.items.find((i) => i.logicalId === 'RateLimitCache')).toMatchObject({ quantity: 3, unitPrice: 0.052, monthly: 113.88 });
  });

  test('MSK: brokers x instance type, plus EBS per broker', () => {
    expect(lines(stack('production', 'platform-production-data'), 'KafkaCluster')).toEqual([446.76, 300.00]);
  });

  test('edge, network and Vault items', () => {
    const edge = stack('production', 'platform-production-edge');
    const byId = (id: string) => lines(edge, id);
    expect(byId('NatGateway')).toEqual([32.85]);
    expect(byId('PublicEip')).toEqual([3.65]);
    expect(byId('ApiAlb')).toEqual([16.43]);
    expect(byId('VaultNlb')).toEqual([16.43]);
    expect(byId('WebAcl')).toEqual([5.00, 3.00]); // $5 per web ACL + $1 x 3 rules
    expect(byId('VpnAssociation1')).toEqual([73.00]);
    expect(byId('StsEndpoint')).toEqual([21.90]); // 3 AZs x $0.01 x 730
    expect(byId('S3Endpoint')).toEqual([0]);
    expect(byId('EdgeKey')).toEqual([1.00]);
    expect(byId('UnsealReplicaKey')).toEqual([1.00]);
    expect(byId('TlsSecret')).toEqual([0.80]); // the secret and its replica
    expect(byId('VaultNodes')).toEqual([210.24, 4.80]); // MinSize 3 x m6i.large; 3 x 20 GiB gp3
    expect(edge.monthly).toBe(463.10);
    expect(edge.items.find((i) => i.logicalId === 'ApiAlb')?.note).toMatch(/LCU usage not estimated/);
  });

  test('usage-only resources are listed with what is not estimated', () => {
    const edge = stack('production', 'platform-production-edge');
    expect(edge.usageOnly.map((u) => u.type).sort()).toEqual([
      'AWS::Backup::BackupVault', 'AWS::CloudFront::Distribution', 'AWS::DynamoDB::GlobalTable', 'AWS::EC2::ClientVpnEndpoint',
    ]);
    expect(edge.usageOnly.find((u) => u.type === 'AWS::DynamoDB::GlobalTable')?.note).toMatch(/on-demand.*not estimated/);
    expect(edge.usageOnly.find((u) => u.type === 'AWS::CloudFront::Distribution')?.note).toMatch(/no base fee/);
  });

  test('unknown resource types are listed, not ignored; known-free ones are counted', () => {
    const edge = stack('production', 'platform-production-edge');
    expect(edge.unknownTypes).toEqual([
      { logicalId: 'SearchDomain', type: 'AWS::OpenSearchService::Domain' },
      { logicalId: 'SharedFiles', type: 'AWS::EFS::FileSystem' },
    ]);
    expect(edge.freeResources).toBe(4); // listener, launch template, IAM role, security group
    expect(stack('production', 'platform-production-cluster').unknownTypes).toEqual([]);
  });

  test('totals per environment and overall, with the unknown count', () => {
    expect(report.environments.map((e) => [e.name, e.monthly, e.unknown])).toEqual([
      ['production', 4211.15, 1],
      ['staging', 296.24, 0],
    ]);
    expect(report.total).toBe(4507.39);
    expect(report.unknown).toBe(1);
  });
});

describe('tokens and missing SKUs are unknown, not guessed', () => {
  const template = JSON.parse(fs.readFileSync(path.join(fixtures, 'tokens.template.json'), 'utf8')) as CfnTemplate;
  const estimate = estimateTemplate(template, 'us-east-1', PRICES);
  const item = (id: string, unit: string) => estimate.items.find((i) => i.logicalId === id && i.unit === unit);

  test('literal() rejects intrinsics and dynamic references', () => {
    expect(literal({ Ref: 'X' })).toBeUndefined();
    expect(literal('{{resolve:ssm:/x}}')).toBeUndefined();
    expect(literal('m5.large')).toBe('m5.large');
    expect(literal(3)).toBe(3);
  });

  test('every value behind a token makes its line unknown', () => {
    expect(item('Nodegroup', 'instance-hour')).toMatchObject({ quantity: null, unitPrice: null, monthly: null });
    expect(item('Nodegroup', 'GiB-month')).toMatchObject({ quantity: null, monthly: null });
    expect(item('Database', 'instance-hour')).toMatchObject({ unitPrice: null, monthly: null, note: 'instance class is a token' });
    expect(item('Database', 'GiB-month')).toMatchObject({ quantity: null, monthly: null });
    expect(item('Kafka', 'broker-hour')).toMatchObject({ quantity: null, unitPrice: 0.204, monthly: null });
    expect(item('Cache', 'node-hour')).toMatchObject({ quantity: null, monthly: null });
    expect(item('Endpoint', 'AZ-hour')).toMatchObject({ quantity: null, monthly: null });
  });

  test('a SKU missing from the table is unknown and says so', () => {
    expect(item('Bigger', 'instance-hour')).toMatchObject({ quantity: 1, unitPrice: null, monthly: null, note: 'x2iedn.32xlarge not in the price table' });
    expect(item('Bigger', 'GiB-month')).toMatchObject({ quantity: 100, unitPrice: null, monthly: null });
    expect(item('Cluster', 'cluster-hour')?.monthly).toBe(73);
  });

  test('a region outside the table makes every price unknown', () => {
    const elsewhere = estimateTemplate(template, 'eu-west-1', PRICES);
    expect(elsewhere.items.every((i) => i.monthly === null || i.monthly === 0)).toBe(true);
    expect(estimateTemplate(template, undefined, PRICES).items.find((i) => i.logicalId === 'Cluster')?.monthly).toBeNull();
  });
});

describe('the analytics stack', () => {
  const template = (parallelism: unknown, perKpu: unknown): CfnTemplate => ({
    Resources: {
      Job: {
        Type: 'AWS::KinesisAnalyticsV2::Application',
        Properties: { ApplicationConfiguration: { FlinkApplicationConfiguration: { ParallelismConfiguration: { Parallelism: parallelism, ParallelismPerKPU: perKpu, AutoScalingEnabled: true } } } },
      },
      Workgroup: { Type: 'AWS::RedshiftServerless::Workgroup', Properties: { BaseCapacity: 32 } },
    },
  });

  test('prices Managed Flink per KPU: parallelism over slots per KPU, plus the job manager\'s', () => {
    const [job] = estimateTemplate(template(4, 1), 'us-east-1', PRICES).items;
    expect(job).toMatchObject({ quantity: 5, unit: 'KPU-hour', unitPrice: 0.11, monthly: 401.5 }); // 5 x 0.11 x 730
    expect(estimateTemplate(template(5, 2), 'us-east-1', PRICES).items[0]).toMatchObject({ quantity: 4 }); // ceil(5/2) + 1
    expect(estimateTemplate(template({ Ref: 'P' }, 1), 'us-east-1', PRICES).items[0]).toMatchObject({ quantity: null, monthly: null });
  });

  test('leaves Redshift Serverless to usage: it bills RPU-seconds only while queries run', () => {
    const estimate = estimateTemplate(template(1, 1), 'us-east-1', PRICES);
    expect(JSON.stringify(estimate)).toContain('RPU-hours while queries run');
  });
});

describe('alarms and dashboards', () => {
  const stat = (name: string, period: number) => ({ Id: name, MetricStat: { Metric: { Namespace: 'AWS/ApplicationELB', MetricName: name }, Period: period, Stat: 'Sum' }, ReturnData: false });
  const template: CfnTemplate = {
    Resources: {
      Simple: { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'CPUUtilization', Namespace: 'AWS/RDS', Period: 300, Statistic: 'Average' } },
      Math: { Type: 'AWS::CloudWatch::Alarm', Properties: { Metrics: [stat('t5', 60), stat('e5', 60), stat('requests', 60), { Id: 'expr', Expression: '100 * (t5 + e5) / requests' }] } },
      Fast: { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'x', Namespace: 'y', Period: 10, Statistic: 'Maximum' } },
      Token: { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'x', Namespace: 'y', Period: { Ref: 'P' }, Statistic: 'Maximum' } },
      Composite: { Type: 'AWS::CloudWatch::CompositeAlarm', Properties: { AlarmRule: 'ALARM(a) OR ALARM(b)' } },
      Board: { Type: 'AWS::CloudWatch::Dashboard', Properties: { DashboardBody: '{}' } },
      Subscription: { Type: 'AWS::SNS::Subscription', Properties: { Protocol: 'email', Endpoint: 'x@example.com' } },
    },
  };
  const estimate = estimateTemplate(template, 'us-east-1', PRICES);
  const item = (id: string) => estimate.items.find((i) => i.logicalId === id);

  test('a metric alarm pays per metric it reads, high resolution at its rate', () => {
    expect(item('Simple')).toMatchObject({ quantity: 1, unitPrice: 0.10, monthly: 0.10 });
    expect(item('Math')).toMatchObject({ quantity: 3, unitPrice: 0.10, monthly: 0.30 });
    expect(item('Fast')).toMatchObject({ quantity: 1, unitPrice: 0.30, monthly: 0.30 });
    expect(item('Token')).toMatchObject({ quantity: null, monthly: null });
  });

  test('composite alarms and dashboards are priced; subscriptions are usage', () => {
    expect(item('Composite')).toMatchObject({ quantity: 1, unitPrice: 0.50, monthly: 0.50 });
    expect(item('Board')).toMatchObject({ quantity: 1, unitPrice: 3, monthly: 3 });
    expect(estimate.usageOnly.map((u) => u.type)).toEqual(['AWS::SNS::Subscription']);
    expect(estimate.unknownTypes ?? []).toEqual([]);
  });
});
