/**
 * Maps one CloudFormation template to monthly cost line items with the price table.
 *
 * Every resource lands in exactly one of four places: a priced line item (whose cost may be
 * unknown: a token where a number should be, or a SKU missing from the table), the usage-only
 * list (billed by usage we cannot see in a template: requests, GB, invocations), the known-free
 * count, or the unknown-types list. Nothing is silently ignored.
 */
import type { PriceTable, RegionPrices } from './prices';

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Condition?: string;
}
export interface CfnTemplate { readonly Resources?: Record<string, CfnResource> }

export interface LineItem {
  readonly logicalId: string;
  readonly type: string;
  /** What is billed, e.g. "10 x m5.xlarge nodes". */
  readonly description: string;
  /** Billed units (instances, GiB, keys...); null when a token hides it. */
  readonly quantity: number | null;
  readonly unit: string;
  /** Price per unit per hour (unit ends in "-hour") or per month; null when not in the table. */
  readonly unitPrice: number | null;
  /** Monthly USD, rounded to cents; null = unknown. */
  readonly monthly: number | null;
  readonly note?: string;
}

export interface UsageOnly { readonly logicalId: string; readonly type: string; readonly note: string }
export interface UnknownType { readonly logicalId: string; readonly type: string }

export interface TemplateEstimate {
  readonly items: LineItem[];
  readonly usageOnly: UsageOnly[];
  readonly unknownTypes: UnknownType[];
  /** Resources of known-free types. */
  readonly free: number;
}

/** Types with no charge of their own (configuration, wiring, or priced through another resource). */
export const KNOWN_FREE_TYPES: ReadonlySet<string> = new Set([
  'AWS::CDK::Metadata',
  'AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::InstanceProfile',
  'AWS::IAM::ServiceLinkedRole', 'AWS::IAM::OIDCProvider',
  'AWS::EC2::VPC', 'AWS::EC2::Subnet', 'AWS::EC2::RouteTable', 'AWS::EC2::Route',
  'AWS::EC2::SubnetRouteTableAssociation', 'AWS::EC2::InternetGateway', 'AWS::EC2::VPCGatewayAttachment',
  'AWS::EC2::EgressOnlyInternetGateway', 'AWS::EC2::SecurityGroup', 'AWS::EC2::SecurityGroupIngress',
  'AWS::EC2::SecurityGroupEgress', 'AWS::EC2::NetworkAcl', 'AWS::EC2::NetworkAclEntry',
  'AWS::EC2::SubnetNetworkAclAssociation', 'AWS::EC2::VPCCidrBlock', 'AWS::EC2::DHCPOptions',
  'AWS::EC2::VPCDHCPOptionsAssociation', 'AWS::EC2::PrefixList',
  // Priced through the node group, instance or Auto Scaling group that uses it.
  'AWS::EC2::LaunchTemplate', 'AWS::AutoScaling::LaunchConfiguration',
  'AWS::AutoScaling::ScalingPolicy', 'AWS::AutoScaling::LifecycleHook', 'AWS::AutoScaling::ScheduledAction',
  'AWS::EC2::ClientVpnAuthorizationRule', 'AWS::EC2::ClientVpnRoute',
  'AWS::KMS::Alias',
  'AWS::EKS::AccessEntry', 'AWS::EKS::PodIdentityAssociation', 'AWS::EKS::Addon', 'AWS::EKS::IdentityProviderConfig',
  'AWS::RDS::DBParameterGroup', 'AWS::RDS::DBClusterParameterGroup', 'AWS::RDS::DBSubnetGroup', 'AWS::RDS::OptionGroup',
  'AWS::ElastiCache::SubnetGroup', 'AWS::ElastiCache::ParameterGroup', 'AWS::ElastiCache::User', 'AWS::ElastiCache::UserGroup',
  'AWS::MSK::Configuration', 'AWS::MSK::BatchScramSecret',
  'AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption', 'AWS::Logs::LogStream',
  'AWS::ElasticLoadBalancingV2::Listener', 'AWS::ElasticLoadBalancingV2::ListenerRule',
  'AWS::ElasticLoadBalancingV2::TargetGroup', 'AWS::ElasticLoadBalancingV2::ListenerCertificate',
  'AWS::WAFv2::WebACLAssociation', 'AWS::WAFv2::IPSet', 'AWS::WAFv2::RegexPatternSet',
  'AWS::CloudFront::CachePolicy', 'AWS::CloudFront::OriginRequestPolicy', 'AWS::CloudFront::ResponseHeadersPolicy',
  'AWS::CloudFront::OriginAccessControl', 'AWS::CloudFront::CloudFrontOriginAccessIdentity',
  'AWS::S3::BucketPolicy', 'AWS::SNS::TopicPolicy', 'AWS::SQS::QueuePolicy', 'AWS::Lambda::Permission',
  'AWS::Logs::ResourcePolicy', 'AWS::Backup::BackupSelection',
  'AWS::SecretsManager::ResourcePolicy', 'AWS::SecretsManager::SecretTargetAttachment',
  'AWS::Route53::RecordSet', 'AWS::Route53::RecordSetGroup', 'AWS::CertificateManager::Certificate',
  'AWS::CloudFormation::WaitConditionHandle', 'AWS::CloudFormation::WaitCondition',
]);

/** Types billed only by usage a template does not show: listed, with what is not estimated. */
export const USAGE_ONLY_TYPES: Readonly<Record<string, string>> = {
  'AWS::CloudFront::Distribution': 'no base fee; requests and data transfer not estimated',
  'AWS::EC2::ClientVpnEndpoint': 'connection-hours not estimated (associations are priced)',
  'AWS::DynamoDB::GlobalTable': 'on-demand capacity, storage and replicated writes not estimated',
  'AWS::DynamoDB::Table': 'capacity and storage not estimated',
  'AWS::Backup::BackupVault': 'backup storage not estimated',
  'AWS::Backup::BackupPlan': 'backup storage and cross-region copies not estimated',
  'AWS::Logs::LogGroup': 'ingestion and storage not estimated',
  'AWS::EC2::FlowLog': 'log ingestion not estimated',
  'AWS::WAFv2::LoggingConfiguration': 'log ingestion not estimated',
  'AWS::S3::Bucket': 'storage and requests not estimated',
  'AWS::Lambda::Function': 'invocations not estimated',
  'AWS::Lambda::LayerVersion': 'layer storage not estimated',
  'AWS::SecretsManager::RotationSchedule': 'rotation invocations not estimated',
  'AWS::SNS::Topic': 'requests not estimated',
  'AWS::SNS::Subscription': 'notifications delivered (email, HTTPS) not estimated',
  'AWS::SQS::Queue': 'requests not estimated',
  'AWS::Events::Rule': 'events not estimated',
  'AWS::StepFunctions::StateMachine': 'state transitions not estimated',
  'AWS::CloudFront::Function': 'invocations not estimated',
  'AWS::MSK::ServerlessCluster': 'cluster-hours, partitions and storage not estimated',
  'AWS::ElastiCache::ServerlessCache': 'data stored and ECPUs not estimated',
  // Billed per RPU-second only while queries run: an always-on figure would overstate it.
  'AWS::RedshiftServerless::Workgroup': 'RPU-hours while queries run ($0.375 per RPU-hour in us-east-1) not estimated',
  'AWS::RedshiftServerless::Namespace': 'managed storage and snapshots not estimated',
};

/** A plain value, or undefined when the value is a token (intrinsic, dynamic reference). */
export function literal(value: unknown): string | number | boolean | undefined {
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    if (value.includes('{{resolve:') || value.includes('${Token[')) return undefined;
    return value;
  }
  return undefined;
}

function literalNumber(value: unknown): number | undefined {
  const v = literal(value);
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

function literalString(value: unknown): string | undefined {
  const v = literal(value);
  return typeof v === 'string' ? v : undefined;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** Builds line items for one template in one region. */
class Estimator {
  readonly items: LineItem[] = [];
  private readonly resources: Record<string, CfnResource>;
  private readonly hours: number;

  constructor(template: CfnTemplate, private readonly prices: RegionPrices | undefined, table: PriceTable) {
    this.resources = template.Resources ?? {};
    this.hours = table.hoursPerMonth;
  }

  /** A line billed per unit-hour. */
  hourly(id: string, type: string, description: string, quantity: number | undefined, unit: string, price: number | null | undefined, note?: string) {
    const q = quantity ?? null;
    const p = price ?? null;
    this.items.push({
      logicalId: id, type, description, quantity: q, unit: `${unit}-hour`, unitPrice: p,
      monthly: q === null || p === null ? null : round2(q * p * this.hours), ...(note ? { note } : {}),
    });
  }

  /** A line billed per unit-month. */
  monthly(id: string, type: string, description: string, quantity: number | undefined, unit: string, price: number | null | undefined, note?: string) {
    const q = quantity ?? null;
    const p = price ?? null;
    this.items.push({
      logicalId: id, type, description, quantity: q, unit: `${unit}-month`, unitPrice: p,
      monthly: q === null || p === null ? null : round2(q * p), ...(note ? { note } : {}),
    });
  }

  get p(): RegionPrices | undefined { return this.prices }

  /** The logical id a `{ Ref }` (or any Ref nested in a value) points to, if it is in this template. */
  localRef(value: unknown, type?: string): string | undefined {
    const r = record(value);
    if (!r && !Array.isArray(value)) return undefined;
    if (r && typeof r.Ref === 'string' && this.resources[r.Ref] && (!type || this.resources[r.Ref].Type === type)) return r.Ref;
    for (const child of Array.isArray(value) ? value : Object.values(r ?? {})) {
      const found = this.localRef(child, type);
      if (found) return found;
    }
    return undefined;
  }

  /** The LaunchTemplateData of a launch template named by id (Ref) or literal name. */
  launchTemplateData(spec: unknown): Record<string, unknown> | undefined {
    const s = record(spec);
    if (!s) return undefined;
    const byId = this.localRef(s.LaunchTemplateId ?? s.Id, 'AWS::EC2::LaunchTemplate');
    const name = literalString(s.LaunchTemplateName ?? s.Name);
    const id = byId ?? Object.keys(this.resources).find((k) => this.resources[k].Type === 'AWS::EC2::LaunchTemplate'
      && name !== undefined && literalString(this.resources[k].Properties?.LaunchTemplateName) === name);
    return id ? record(this.resources[id].Properties?.LaunchTemplateData) ?? {} : undefined;
  }

  resource(id: string): CfnResource | undefined { return this.resources[id] }

  /** EBS volumes of block device mappings: one line per volume type, times `count` instances. */
  ebs(id: string, type: string, mappings: unknown, count: number | undefined, what: string) {
    if (mappings === undefined) {
      this.monthly(id, type, `${what} root volume (size from the AMI)`, undefined, 'GiB', undefined, 'no block device mapping: AMI default size unknown');
      return;
    }
    if (!Array.isArray(mappings)) {
      this.monthly(id, type, `${what} EBS volumes`, undefined, 'GiB', undefined, 'block device mappings are a token');
      return;
    }
    for (const mapping of mappings) {
      const ebs = record(record(mapping)?.Ebs);
      if (!ebs) continue; // instance store or NoDevice
      const size = literalNumber(ebs.VolumeSize);
      const volumeType = ebs.VolumeType === undefined ? 'gp2' : literalString(ebs.VolumeType);
      const gib = size !== undefined && count !== undefined ? size * count : undefined;
      const price = volumeType ? this.p?.ebsGbMonth[volumeType] : undefined;
      this.monthly(id, type, `${what} EBS ${volumeType ?? '?'} ${count ?? '?'} x ${size ?? '?'} GiB`, gib, 'GiB', price,
        price === undefined && volumeType ? `EBS ${volumeType} not in the price table` : undefined);
    }
  }
}

type Handler = (e: Estimator, id: string, props: Record<string, unknown>, type: string) => void;

function instanceLine(e: Estimator, id: string, type: string, instanceType: string | undefined, count: number | undefined, what: string) {
  const price = instanceType ? e.p?.ec2InstanceHour[instanceType] : undefined;
  e.hourly(id, type, `${what} ${count ?? '?'} x ${instanceType ?? '?'}`, count, 'instance', price,
    instanceType === undefined ? 'instance type is a token' : price === undefined ? `${instanceType} not in the price table` : undefined);
}

const HANDLERS: Readonly<Record<string, Handler>> = {
  'AWS::EKS::Cluster': (e, id, _props, type) => {
    e.hourly(id, type, 'EKS control plane', 1, 'cluster', e.p?.eksClusterHour, 'standard support; extended support not estimated');
  },

  'AWS::EKS::Nodegroup': (e, id, props, type) => {
    const scaling = record(props.ScalingConfig) ?? {};
    const desired = literalNumber(scaling.DesiredSize) ?? literalNumber(scaling.MinSize);
    const template = props.LaunchTemplate === undefined ? undefined : e.launchTemplateData(props.LaunchTemplate);
    let instanceType: string | undefined;
    if (Array.isArray(props.InstanceTypes)) instanceType = literalString(props.InstanceTypes[0]); // the first type is priced
    else if (props.InstanceTypes === undefined && template?.InstanceType !== undefined) instanceType = literalString(template.InstanceType);
    else if (props.InstanceTypes === undefined) instanceType = 't3.medium'; // EKS's default
    instanceLine(e, id, type, instanceType, desired, 'nodes');
    if (props.LaunchTemplate !== undefined) {
      if (template) e.ebs(id, type, template.BlockDeviceMappings, desired, 'node');
      else e.monthly(id, type, 'node EBS volumes', undefined, 'GiB', undefined, 'launch template not in this template');
    } else {
      const size = props.DiskSize === undefined ? 20 : literalNumber(props.DiskSize);
      const gib = size !== undefined && desired !== undefined ? size * desired : undefined;
      e.monthly(id, type, `node EBS gp2 ${desired ?? '?'} x ${size ?? '?'} GiB`, gib, 'GiB', e.p?.ebsGbMonth.gp2);
    }
  },

  'AWS::EC2::Instance': (e, id, props, type) => {
    const template = props.LaunchTemplate === undefined ? undefined : e.launchTemplateData(props.LaunchTemplate);
    const instanceType = literalString(props.InstanceType ?? template?.InstanceType);
    instanceLine(e, id, type, instanceType, 1, 'instance');
    e.ebs(id, type, props.BlockDeviceMappings ?? template?.BlockDeviceMappings, 1, 'instance');
  },

  'AWS::AutoScaling::AutoScalingGroup': (e, id, props, type) => {
    const count = props.DesiredCapacity !== undefined ? literalNumber(props.DesiredCapacity) : literalNumber(props.MinSize);
    const mixed = record(record(props.MixedInstancesPolicy)?.LaunchTemplate);
    const spec = props.LaunchTemplate ?? mixed?.LaunchTemplateSpecification;
    let instanceType: string | undefined;
    let mappings: unknown;
    let found: boolean;
    if (spec !== undefined) {
      const data = e.launchTemplateData(spec);
      found = data !== undefined;
      instanceType = literalString(data?.InstanceType);
      mappings = data?.BlockDeviceMappings;
    } else {
      const lc = e.localRef(props.LaunchConfigurationName, 'AWS::AutoScaling::LaunchConfiguration');
      const lcProps = lc ? e.resource(lc)?.Properties ?? {} : undefined;
      found = lcProps !== undefined;
      instanceType = literalString(lcProps?.InstanceType);
      mappings = lcProps?.BlockDeviceMappings;
    }
    if (!found) {
      e.hourly(id, type, `instances ${count ?? '?'} x ?`, count, 'instance', undefined, 'launch template/configuration not in this template');
      return;
    }
    instanceLine(e, id, type, instanceType, count, 'instances');
    e.ebs(id, type, mappings, count, 'instance');
  },

  'AWS::RDS::DBInstance': (e, id, props, type) => {
    const source = e.localRef(props.SourceDBInstanceIdentifier, 'AWS::RDS::DBInstance');
    const sourceProps = source ? e.resource(source)?.Properties ?? {} : {};
    const dbClass = literalString(props.DBInstanceClass);
    const engine = literalString(props.Engine ?? sourceProps.Engine);
    const multiAz = literal(props.MultiAZ) === true || literal(props.MultiAZ) === 'true';
    const copies = multiAz ? 2 : 1;
    const role = source ? 'read replica' : props.SourceDBInstanceIdentifier !== undefined ? 'read replica' : 'instance';
    const key = engine && dbClass ? `${engine}:${dbClass}` : undefined;
    const price = key ? e.p?.rdsInstanceHour[key] : undefined;
    const why = !dbClass ? 'instance class is a token' : !engine ? 'engine unknown' : price === undefined ? `${key} not in the price table` : undefined;
    e.hourly(id, type, `${engine ?? '?'} ${role} ${dbClass ?? '?'}${multiAz ? ' Multi-AZ (x2)' : ''}`, copies, 'instance', price, why);
    if (props.DBClusterIdentifier !== undefined) return; // Aurora: storage is billed on the cluster
    const storage = props.AllocatedStorage !== undefined ? literalNumber(props.AllocatedStorage)
      : source ? literalNumber(sourceProps.AllocatedStorage) : undefined;
    const storageType = literalString(props.StorageType ?? sourceProps.StorageType ?? 'gp2');
    const sPrice = storageType ? e.p?.rdsStorageGbMonth[storageType] : undefined;
    e.monthly(id, type, `storage ${storageType ?? '?'} ${storage ?? '?'} GiB${multiAz ? ' Multi-AZ (x2)' : ''}`,
      storage === undefined ? undefined : storage * copies, 'GiB', sPrice,
      storage === undefined ? 'allocated storage unknown' : sPrice === undefined ? `RDS ${storageType} storage not in the price table` : undefined);
    const retention = literalNumber(props.PerformanceInsightsRetentionPeriod) ?? 7;
    if (literal(props.EnablePerformanceInsights) === true && retention > 7) {
      const vcpus = dbClass ? e.p?.rdsClassVcpus[dbClass] : undefined;
      const months = Math.round(retention / 31);
      const pi = e.p?.rdsPerformanceInsightsVcpuMonth;
      const perVcpu = pi && pi.firstMonth !== null && pi.additionalMonth !== null ? pi.firstMonth + (months - 1) * pi.additionalMonth : null;
      e.monthly(id, type, `Performance Insights paid tier (${retention} days)`, vcpus === undefined ? undefined : vcpus * copies, 'vCPU', perVcpu,
        perVcpu === null ? 'Performance Insights paid-tier rate not in the price table' : undefined);
    }
  },

  'AWS::ElastiCache::ReplicationGroup': (e, id, props, type) => {
    const nodeType = literalString(props.CacheNodeType);
    const engine = literalString(props.Engine ?? 'redis')?.toLowerCase();
    let nodes: number | undefined;
    const groups = literalNumber(props.NumNodeGroups);
    const replicas = literalNumber(props.ReplicasPerNodeGroup);
    if (props.NumNodeGroups !== undefined || props.ReplicasPerNodeGroup !== undefined) {
      nodes = (props.NumNodeGroups === undefined ? 1 : groups) !== undefined && (props.ReplicasPerNodeGroup === undefined || replicas !== undefined)
        ? (groups ?? 1) * (1 + (replicas ?? 0)) : undefined;
    } else if (props.NumCacheClusters !== undefined) {
      nodes = literalNumber(props.NumCacheClusters);
    } else if (Array.isArray(props.NodeGroupConfiguration)) {
      nodes = props.NodeGroupConfiguration.reduce<number | undefined>((sum, g) => {
        const rc = record(g)?.ReplicaCount;
        const r = rc === undefined ? 0 : literalNumber(rc);
        return sum === undefined || r === undefined ? undefined : sum + 1 + r;
      }, 0);
    } else {
      nodes = 1;
    }
    const key = engine && nodeType ? `${engine}:${nodeType}` : undefined;
    const price = key ? e.p?.elastiCacheNodeHour[key] : undefined;
    e.hourly(id, type, `${engine ?? '?'} ${nodes ?? '?'} x ${nodeType ?? '?'}`, nodes, 'node', price,
      nodes === undefined ? 'node count is a token' : price === undefined ? `${key ?? 'node type'} not in the price table` : undefined);
  },

  'AWS::ElastiCache::CacheCluster': (e, id, props, type) => {
    const nodeType = literalString(props.CacheNodeType);
    const engine = literalString(props.Engine)?.toLowerCase();
    const nodes = literalNumber(props.NumCacheNodes);
    const key = engine && nodeType ? `${engine}:${nodeType}` : undefined;
    const price = key ? e.p?.elastiCacheNodeHour[key] : undefined;
    e.hourly(id, type, `${engine ?? '?'} ${nodes ?? '?'} x ${nodeType ?? '?'}`, nodes, 'node', price,
      price === undefined ? `${key ?? 'node type'} not in the price table` : undefined);
  },

  'AWS::MSK::Cluster': (e, id, props, type) => {
    const info = record(props.BrokerNodeGroupInfo) ?? {};
    const brokers = literalNumber(props.NumberOfBrokerNodes);
    const instanceType = literalString(info.InstanceType);
    const price = instanceType ? e.p?.mskBrokerHour[instanceType] : undefined;
    e.hourly(id, type, `brokers ${brokers ?? '?'} x ${instanceType ?? '?'}`, brokers, 'broker', price,
      price === undefined && instanceType ? `${instanceType} not in the price table` : undefined);
    const size = literalNumber(record(record(info.StorageInfo)?.EBSStorageInfo)?.VolumeSize);
    e.monthly(id, type, `broker storage ${brokers ?? '?'} x ${size ?? '?'} GiB`,
      size !== undefined && brokers !== undefined ? size * brokers : undefined, 'GiB', e.p?.mskStorageGbMonth,
      'provisioned throughput not estimated');
  },

  'AWS::KinesisAnalyticsV2::Application': (e, id, props, type) => {
    const parallelism = record(record(record(props.ApplicationConfiguration)?.FlinkApplicationConfiguration)?.ParallelismConfiguration) ?? {};
    const slots = literalNumber(parallelism.Parallelism);
    const perKpu = literalNumber(parallelism.ParallelismPerKPU) ?? 1;
    // KPUs = parallelism / slots per KPU, rounded up, plus one for the job manager.
    const kpus = slots === undefined ? undefined : Math.ceil(slots / perKpu) + 1;
    e.hourly(id, type, `Managed Flink ${kpus ?? '?'} KPU`, kpus, 'KPU', e.p?.flinkKpuHour,
      parallelism.AutoScalingEnabled === true ? 'at the starting parallelism; autoscaling adds KPUs under load' : undefined);
  },

  'AWS::EC2::NatGateway': (e, id, _props, type) => {
    e.hourly(id, type, 'NAT gateway', 1, 'gateway', e.p?.natGatewayHour, 'data processing per GB not estimated');
  },

  'AWS::EC2::EIP': (e, id, _props, type) => {
    e.hourly(id, type, 'public IPv4 address', 1, 'address', e.p?.publicIpv4Hour);
  },

  'AWS::ElasticLoadBalancingV2::LoadBalancer': (e, id, props, type) => {
    const lbType = props.Type === undefined ? 'application' : literalString(props.Type);
    const table = e.p?.loadBalancerHour;
    const price = lbType === 'application' || lbType === 'network' || lbType === 'gateway' ? table?.[lbType] : undefined;
    const usage = lbType === 'network' ? 'NLCU' : lbType === 'gateway' ? 'GLCU' : 'LCU';
    e.hourly(id, type, `${lbType ?? '?'} load balancer`, 1, 'load balancer', price,
      `${usage} usage not estimated${lbType === 'application' || lbType === undefined ? '; its public IPv4 addresses not estimated' : ''}`);
  },

  'AWS::WAFv2::WebACL': (e, id, props, type) => {
    e.monthly(id, type, 'web ACL', 1, 'web ACL', e.p?.wafWebAclMonth, 'requests not estimated');
    const rules = Array.isArray(props.Rules) ? props.Rules : undefined;
    const names = rules?.map((r) => literalString(record(record(record(r)?.Statement)?.ManagedRuleGroupStatement)?.Name)) ?? [];
    const paid = names.filter((n) => n && /BotControl|ATP|ACFP|AntiDDoS/.test(n));
    e.monthly(id, type, `rules ${rules?.length ?? '?'}`, rules?.length, 'rule', e.p?.wafRuleMonth,
      paid.length > 0 ? `managed rule group subscription fees not estimated (${paid.join(', ')})` : undefined);
  },

  'AWS::EC2::ClientVpnTargetNetworkAssociation': (e, id, _props, type) => {
    e.hourly(id, type, 'Client VPN subnet association', 1, 'association', e.p?.clientVpnAssociationHour);
  },

  'AWS::EC2::VPCEndpoint': (e, id, props, type) => {
    const endpointType = props.VpcEndpointType === undefined ? 'Gateway' : literalString(props.VpcEndpointType);
    const service = literalString(props.ServiceName)?.replace(/^com\.amazonaws\.[a-z0-9-]+\./, '') ?? '?';
    if (endpointType === 'Gateway') {
      e.monthly(id, type, `gateway endpoint${service === '?' ? '' : ` ${service}`} (free)`, 1, 'endpoint', 0);
      return;
    }
    const azs = Array.isArray(props.SubnetIds) ? props.SubnetIds.length : undefined;
    e.hourly(id, type, `interface endpoint ${service} in ${azs ?? '?'} AZs`, azs, 'AZ', e.p?.interfaceEndpointAzHour,
      'data processed per GB not estimated');
  },

  'AWS::KMS::Key': (e, id, _props, type) => {
    e.monthly(id, type, 'KMS key', 1, 'key', e.p?.kmsKeyMonth, 'requests and rotated key versions not estimated');
  },
  'AWS::KMS::ReplicaKey': (e, id, _props, type) => {
    e.monthly(id, type, 'KMS replica key', 1, 'key', e.p?.kmsKeyMonth, 'requests not estimated');
  },

  'AWS::SecretsManager::Secret': (e, id, props, type) => {
    const replicas = Array.isArray(props.ReplicaRegions) ? props.ReplicaRegions.length : props.ReplicaRegions === undefined ? 0 : undefined;
    const count = replicas === undefined ? undefined : 1 + replicas;
    e.monthly(id, type, `secret${replicas ? ` + ${replicas} replica(s)` : ''}`, count, 'secret', e.p?.secretMonth, 'API calls not estimated');
  },

  'AWS::CloudWatch::Alarm': (e, id, props, type) => {
    // One alarm metric per metric read: the alarm's own, or each MetricStat of its metric math.
    type Query = { readonly MetricStat?: { readonly Period?: unknown }; readonly Period?: unknown };
    const queries = Array.isArray(props.Metrics) ? props.Metrics as Query[] : undefined;
    const stats: Query[] = queries ? queries.filter((q) => q.MetricStat !== undefined) : [props as Query];
    const periods = stats.map((s) => literal(s.MetricStat?.Period ?? s.Period));
    const period = periods.some((p) => p === undefined) ? undefined : Math.min(...(periods as number[]));
    const highResolution = period !== undefined && period < 60;
    e.monthly(id, type, `${highResolution ? 'high-resolution ' : ''}alarm, ${stats.length} metric(s)`, period === undefined ? undefined : stats.length, 'alarm metric',
      highResolution ? e.p?.cloudWatchHighResolutionAlarmMonth : e.p?.cloudWatchAlarmMonth);
  },

  'AWS::CloudWatch::CompositeAlarm': (e, id, _props, type) => {
    e.monthly(id, type, 'composite alarm', 1, 'alarm', e.p?.cloudWatchCompositeAlarmMonth);
  },

  'AWS::CloudWatch::Dashboard': (e, id, _props, type) => {
    e.monthly(id, type, 'dashboard', 1, 'dashboard', e.p?.cloudWatchDashboardMonth, 'the account\'s first three dashboards are free; not deducted');
  },

  'AWS::SSM::Parameter': (e, id, props, type) => {
    if (props.Tier === undefined || literal(props.Tier) === 'Standard') return; // free: counted as such
    e.monthly(id, type, 'advanced parameter', 1, 'parameter', literal(props.Tier) === 'Advanced' ? e.p?.ssmAdvancedParameterMonth : undefined);
  },

  'AWS::Route53::HostedZone': (e, id, _props, type) => {
    e.monthly(id, type, 'hosted zone', 1, 'zone', e.p?.route53HostedZoneMonth, 'queries not estimated');
  },
};

/** Estimates one template. `region` undefined (or absent from the table) makes every cost unknown. */
export function estimateTemplate(template: CfnTemplate, region: string | undefined, table: PriceTable): TemplateEstimate {
  const prices = region ? table.regions[region] : undefined;
  const e = new Estimator(template, prices, table);
  const usageOnly: UsageOnly[] = [];
  const unknownTypes: UnknownType[] = [];
  let free = 0;
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    const { Type: type } = resource;
    const handler = HANDLERS[type];
    if (handler) {
      const before = e.items.length;
      handler(e, logicalId, resource.Properties ?? {}, type);
      if (e.items.length === before) free++; // e.g. a standard SSM parameter
    } else if (type in USAGE_ONLY_TYPES) {
      usageOnly.push({ logicalId, type, note: USAGE_ONLY_TYPES[type] });
    } else if (KNOWN_FREE_TYPES.has(type) || type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource') {
      free++; // custom resources: their backing Lambda function is listed as usage-only
    } else {
      unknownTypes.push({ logicalId, type });
    }
  }
  return { items: e.items, usageOnly, unknownTypes, free };
}

/** Types the estimator prices (for docs and tests). */
export const PRICED_TYPES: readonly string[] = Object.keys(HANDLERS);
