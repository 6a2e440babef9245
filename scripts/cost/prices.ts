/**
 * The price table of `npm run cost`: on-demand list prices, USD, per SKU, for the regions the
 * platform deploys to. Small and explicit on purpose: a SKU the table lacks is reported as
 * "unknown", never guessed.
 *
 * Source and date: the AWS public on-demand pricing pages (EC2, EKS, RDS for PostgreSQL,
 * ElastiCache, MSK, Managed Service for Apache Flink, VPC, Elastic Load Balancing, WAF, KMS, Secrets Manager, Client VPN,
 * CloudWatch), read
 * by hand, not fetched: this repository builds offline. The figures are the rates believed
 * current in 2025 (see `PRICES.date`). They MUST be refreshed before anyone quotes them:
 * docs/cost.md says how (AWS Price List API query per SKU). A `null` price means "we do not
 * know the rate": line items using it report an unknown cost.
 */

/** One region's prices. Hourly rates are per hour; monthly rates are per month. */
export interface RegionPrices {
  /** EKS control plane, standard support, per cluster-hour. */
  readonly eksClusterHour: number;
  /** EC2 Linux on-demand, per instance-hour, by instance type. */
  readonly ec2InstanceHour: Readonly<Record<string, number>>;
  /** EBS volume storage, per GiB-month, by volume type. */
  readonly ebsGbMonth: Readonly<Record<string, number>>;
  /** RDS Single-AZ instance-hour by `<engine>:<class>` (Multi-AZ is twice this). */
  readonly rdsInstanceHour: Readonly<Record<string, number>>;
  /** RDS Single-AZ storage, per GiB-month, by storage type (Multi-AZ is twice this). */
  readonly rdsStorageGbMonth: Readonly<Record<string, number>>;
  /** vCPUs per RDS class (Performance Insights paid tier is billed per vCPU). */
  readonly rdsClassVcpus: Readonly<Record<string, number>>;
  /**
   * Performance Insights paid tier (retention > 7 days), per vCPU-month: the first month of
   * retention, and each further month. `null`: not known offline, reported as unknown.
   */
  readonly rdsPerformanceInsightsVcpuMonth: { readonly firstMonth: number | null; readonly additionalMonth: number | null };
  /** ElastiCache node-hour by `<engine>:<node type>` (engine: redis, valkey, memcached). */
  readonly elastiCacheNodeHour: Readonly<Record<string, number>>;
  /** MSK provisioned broker-hour by broker instance type. */
  readonly mskBrokerHour: Readonly<Record<string, number>>;
  /** MSK broker storage, per GiB-month. */
  readonly mskStorageGbMonth: number;
  /** Managed Service for Apache Flink, per KPU-hour (each application adds one KPU for orchestration). */
  readonly flinkKpuHour: number;
  /** NAT gateway, per gateway-hour (data processing per GB is not estimated). */
  readonly natGatewayHour: number;
  /** Public IPv4 address (Elastic IP), per address-hour. */
  readonly publicIpv4Hour: number;
  /** Load balancer base rate per hour, by type (LCU/NLCU usage is not estimated). */
  readonly loadBalancerHour: { readonly application: number; readonly network: number; readonly gateway: number | null };
  /** Interface VPC endpoint, per endpoint per AZ-hour. */
  readonly interfaceEndpointAzHour: number;
  /** Client VPN, per subnet association-hour (connection-hours are not estimated). */
  readonly clientVpnAssociationHour: number;
  /** WAFv2: per web ACL-month and per rule-month (requests are not estimated). */
  readonly wafWebAclMonth: number;
  readonly wafRuleMonth: number;
  /** KMS customer managed key (and multi-Region replica key), per key-month. */
  readonly kmsKeyMonth: number;
  /** Secrets Manager, per secret-month (each replica region counts as a secret). */
  readonly secretMonth: number;
  /**
   * CloudWatch metric alarm, per metric of the alarm per month (a metric-math alarm pays for each
   * metric it reads): standard resolution (period >= 60 s) and high resolution (10 or 30 s).
   */
  readonly cloudWatchAlarmMonth: number;
  readonly cloudWatchHighResolutionAlarmMonth: number;
  /** CloudWatch composite alarm, per alarm-month. */
  readonly cloudWatchCompositeAlarmMonth: number;
  /** CloudWatch dashboard, per dashboard-month (the account's first three are free: not deducted here). */
  readonly cloudWatchDashboardMonth: number;
  /** SSM Parameter Store advanced parameter, per parameter-month (standard ones are free). */
  readonly ssmAdvancedParameterMonth: number;
  /** Route 53 hosted zone, per zone-month (queries are not estimated). */
  readonly route53HostedZoneMonth: number;
}

export interface PriceTable {
  /** When the figures were read from the pricing pages (believed; refresh before quoting). */
  readonly date: string;
  readonly source: string;
  readonly currency: 'USD';
  /** AWS's billing convention for a month of hourly charges. */
  readonly hoursPerMonth: number;
  readonly regions: Readonly<Record<string, RegionPrices>>;
}

// us-east-1 (N. Virginia). us-west-2 (Oregon) lists the same rates for every SKU below.
const US_EAST_1: RegionPrices = {
  eksClusterHour: 0.10,
  ec2InstanceHour: {
    't3.micro': 0.0104,
    't3.medium': 0.0416, // EKS managed node group default instance type
    'm5.large': 0.096,
    'm5.xlarge': 0.192,
    'm6i.large': 0.096,
  },
  ebsGbMonth: { gp3: 0.08, gp2: 0.10 },
  rdsInstanceHour: {
    'postgres:db.t4g.large': 0.129,
    'postgres:db.r7g.large': 0.239,
  },
  rdsStorageGbMonth: { gp3: 0.115, gp2: 0.115 },
  rdsClassVcpus: { 'db.t4g.large': 2, 'db.r7g.large': 2 },
  rdsPerformanceInsightsVcpuMonth: { firstMonth: null, additionalMonth: null },
  elastiCacheNodeHour: {
    'redis:cache.t4g.medium': 0.065,
    'redis:cache.r7g.large': 0.219,
    // Valkey nodes list at 20% below Redis OSS nodes of the same type.
    'valkey:cache.t4g.medium': 0.052,
    'valkey:cache.r7g.large': 0.1752,
  },
  mskBrokerHour: { 'kafka.m7g.large': 0.204, 'kafka.m5.large': 0.21 },
  mskStorageGbMonth: 0.10,
  flinkKpuHour: 0.11,
  natGatewayHour: 0.045,
  publicIpv4Hour: 0.005,
  loadBalancerHour: { application: 0.0225, network: 0.0225, gateway: null },
  interfaceEndpointAzHour: 0.01,
  clientVpnAssociationHour: 0.10,
  wafWebAclMonth: 5,
  wafRuleMonth: 1,
  kmsKeyMonth: 1,
  secretMonth: 0.40,
  cloudWatchAlarmMonth: 0.10,
  cloudWatchHighResolutionAlarmMonth: 0.30,
  cloudWatchCompositeAlarmMonth: 0.50,
  cloudWatchDashboardMonth: 3,
  ssmAdvancedParameterMonth: 0.05,
  route53HostedZoneMonth: 0.50,
};

export const PRICES: PriceTable = {
  date: '2025-06-01',
  source: 'AWS public on-demand pricing pages (aws.amazon.com/<service>/pricing), read by hand; refresh with the AWS Price List API (docs/cost.md)',
  currency: 'USD',
  hoursPerMonth: 730,
  regions: {
    'us-east-1': US_EAST_1,
    'us-west-2': { ...US_EAST_1 },
  },
};
