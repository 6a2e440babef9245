/**
 * The shape of the platform spec, and the rules every value must satisfy.
 *
 * This file has no AWS or Kubernetes dependency on purpose: the services import the spec
 * (ports, topics) and are bundled by esbuild, so the spec must stay plain data + zod.
 */
import { z } from 'zod';

/** Instance families and sizes we accept; anything else is a typo until proven otherwise. */
export const INSTANCE_FAMILIES = [
  't3', 't3a', 'm5', 'm5a', 'm6i', 'm6a', 'm7i', 'm7a', 'm6g', 'm7g',
  'c5', 'c6i', 'c7i', 'c6g', 'c7g', 'r5', 'r6i', 'r7i', 'r6g', 'r7g',
] as const;
export const INSTANCE_SIZES = [
  'micro', 'small', 'medium', 'large', 'xlarge', '2xlarge', '4xlarge', '8xlarge',
  '12xlarge', '16xlarge', '24xlarge',
] as const;

const instanceType = z.string().refine(
  (value) => {
    const [family, size, ...rest] = value.split('.');
    return rest.length === 0
      && (INSTANCE_FAMILIES as readonly string[]).includes(family)
      && (INSTANCE_SIZES as readonly string[]).includes(size ?? '');
  },
  { message: `unknown EC2 instance type (expected <family>.<size>, family one of ${INSTANCE_FAMILIES.join(', ')})` },
);

const awsAccountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
const awsRegion = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region name such as us-east-1');
const port = z.number().int().min(1024, 'must be >= 1024 (unprivileged)').max(65535, 'must be <= 65535');
const positiveInt = z.number().int().min(1, 'must be >= 1');
/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;
const logRetentionDays = z.number().refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
  message: `must be a CloudWatch Logs retention period (${LOG_RETENTION_DAYS.join(', ')})`,
});
const kebabName = z.string().regex(/^[a-z][a-z0-9-]*[a-z0-9]$/, 'must be kebab-case');
const duration = z.string().regex(
  /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$|^PT0S$/,
  'must be an ISO-8601 duration such as PT1H or PT30M',
);
const acmCertificateArn = z.string().regex(
  /^arn:aws:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/,
  'must be an ACM certificate ARN',
);
const iamRoleArn = z.string().regex(/^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be an IAM role ARN');

const cidr = z.string().refine((value) => parseCidr(value) !== undefined, {
  message: 'must be an IPv4 CIDR block such as 10.0.0.0/16',
});

/** The four zones of the spec's "Security Boundaries" table. */
export const ZONE_NAMES = ['public', 'dmz', 'private', 'restricted'] as const;
export type ZoneName = (typeof ZONE_NAMES)[number];

const securityZone = z.strictObject({
  access: z.enum(['internet', 'vpn-only', 'service-mesh', 'bastion-only']),
  examples: z.array(z.string()).min(1),
  /** Prefix length of this zone's subnet in each AZ. */
  subnetCidrMask: z.number().int().min(16).max(28),
});

const cpuTrigger = z.strictObject({
  type: z.literal('cpu'),
  targetUtilizationPercent: z.number().int().min(1).max(100, 'must be <= 100'),
});
const latencyTrigger = z.strictObject({
  type: z.literal('latency'),
  /** Scale out when this percentile of request latency exceeds thresholdMs. */
  percentile: z.number().min(50).max(99.9),
  thresholdMs: positiveInt,
  /** Latency alone can mask saturation; a CPU trigger runs beside it. */
  cpuTargetUtilizationPercent: z.number().int().min(1).max(100, 'must be <= 100'),
});

const autoscaling = z.strictObject({
  minReplicas: positiveInt,
  maxReplicas: positiveInt,
  trigger: z.discriminatedUnion('type', [cpuTrigger, latencyTrigger]),
});

const service = z.strictObject({
  name: kebabName,
  /** The spec's port: gRPC (services) or HTTPS (api-gateway). */
  port,
  /** Plaintext health/readiness/metrics port (DESIGN.md §5); our choice, port + 1000. */
  healthPort: port,
  zone: z.enum(ZONE_NAMES),
  purpose: z.string().min(1),
  autoscaling,
});

const nodeGroup = z.strictObject({
  instanceType,
  nodes: positiveInt,
  diskSizeGiB: z.number().int().min(20).max(16384),
});

const helmChart = z.strictObject({
  chart: z.string().min(1),
  repository: z.string().url(),
  version: z.string().regex(/^v?\d+\.\d+\.\d+$/, 'must be an exact chart version such as 1.2.3'),
  namespace: kebabName,
});

const environment = z.strictObject({
  name: kebabName,
  account: awsAccountId,
  region: awsRegion,
  availabilityZones: z.array(z.string().regex(/^[a-z]{2}-[a-z]+-\d[a-z]$/, 'must be an AZ name such as us-east-1a'))
    .length(3, 'must list exactly three availability zones'),
  /** Termination protection on every stack of the environment. */
  terminationProtection: z.boolean(),
  network: z.strictObject({
    vpcCidr: cidr,
    natGateways: positiveInt,
    flowLogRetentionDays: logRetentionDays,
    vpn: z.strictObject({
      serverCertificateArn: acmCertificateArn,
      clientRootCertificateArn: acmCertificateArn,
      clientCidr: cidr,
    }),
    bastionInstanceType: instanceType,
  }),
  cluster: z.strictObject({
    kubernetesVersion: z.string().regex(/^1\.\d{2}$/, 'must be a Kubernetes minor version such as 1.35'),
    nodeGroup,
    adminRoleArn: iamRoleArn,
    controlPlaneLogRetentionDays: logRetentionDays,
  }),
  database: z.strictObject({
    readReplicas: z.number().int().min(0).max(5),
  }),
});

export const platformSpecSchema = z.strictObject({
  project: kebabName,
  securityZones: z.strictObject({
    public: securityZone,
    dmz: securityZone,
    private: securityZone,
    restricted: securityZone,
  }),
  environments: z.strictObject({
    production: environment,
    staging: environment,
  }),
  services: z.array(service).min(1),
  dataTier: z.strictObject({
    postgres: z.strictObject({ port, engineMajorVersion: z.string().regex(/^\d+$/) }),
    pgbouncer: z.strictObject({ maxClientConnections: positiveInt, port }),
    redis: z.strictObject({ port }),
    kafka: z.strictObject({ saslScramPort: port, iamPort: port }),
    /** The spec: "Sharding: Not implemented (planned for 2026)". */
    sharding: z.strictObject({ implemented: z.boolean(), plannedYear: z.number().int() }),
  }),
  /** Where standbys and backup copies live; never an environment's own region. */
  drRegion: z.strictObject({
    name: awsRegion,
    availabilityZones: z.array(z.string().regex(/^[a-z]{2}-[a-z]+-\d[a-z]$/, 'must be an AZ name such as us-west-2a'))
      .length(3, 'must list exactly three availability zones'),
  }),
  disasterRecovery: z.record(
    z.enum(['database', 'secrets', 'configuration']),
    z.strictObject({ rpo: duration, rto: duration, strategy: z.string().min(1) }),
  ),
  clusterAddons: z.strictObject({
    awsLoadBalancerController: helmChart,
    metricsServer: helmChart,
    certManager: helmChart,
    keda: helmChart,
    prometheus: helmChart,
  }),
}).superRefine((spec, ctx) => {
  checkPorts(spec.services, spec.dataTier, ctx);
  spec.services.forEach((svc, i) => {
    if (svc.autoscaling.minReplicas > svc.autoscaling.maxReplicas) {
      ctx.addIssue({
        code: 'custom',
        path: ['services', i, 'autoscaling', 'minReplicas'],
        input: svc.autoscaling.minReplicas,
        message: `must be <= maxReplicas (${svc.autoscaling.maxReplicas}) of service ${svc.name}`,
      });
    }
  });
  const names = new Set<string>();
  spec.services.forEach((svc, i) => {
    if (names.has(svc.name)) {
      ctx.addIssue({ code: 'custom', path: ['services', i, 'name'], input: svc.name, message: 'duplicate service name' });
    }
    names.add(svc.name);
  });
  for (const [key, env] of Object.entries(spec.environments)) {
    checkEnvironment(key, env, ctx);
    if (env.region === spec.drRegion.name) {
      ctx.addIssue({
        code: 'custom', path: ['drRegion', 'name'], input: spec.drRegion.name,
        message: `must differ from the region of environment ${key}: a DR copy in the same region survives nothing`,
      });
    }
  }
  spec.drRegion.availabilityZones.forEach((az, i) => {
    if (!az.startsWith(spec.drRegion.name)) {
      ctx.addIssue({ code: 'custom', path: ['drRegion', 'availabilityZones', i], input: az, message: `is not in region ${spec.drRegion.name}` });
    }
  });
});

export type PlatformSpec = z.infer<typeof platformSpecSchema>;
export type EnvironmentSpec = PlatformSpec['environments']['production'];
export type EnvironmentName = keyof PlatformSpec['environments'];
export type ServiceSpec = PlatformSpec['services'][number];
export type HelmChartSpec = z.infer<typeof helmChart>;

type Ctx = z.RefinementCtx;

function checkPorts(services: ServiceSpec[], dataTier: PlatformSpec['dataTier'], ctx: Ctx) {
  const seen = new Map<number, string>();
  const claim = (value: number, owner: string, path: (string | number)[]) => {
    const other = seen.get(value);
    if (other !== undefined) {
      ctx.addIssue({ code: 'custom', path, input: value, message: `port clash: also used by ${other}` });
    } else {
      seen.set(value, owner);
    }
  };
  services.forEach((svc, i) => {
    claim(svc.port, `services[${i}].port (${svc.name})`, ['services', i, 'port']);
    claim(svc.healthPort, `services[${i}].healthPort (${svc.name})`, ['services', i, 'healthPort']);
  });
  claim(dataTier.pgbouncer.port, 'dataTier.pgbouncer.port', ['dataTier', 'pgbouncer', 'port']);
}

function checkEnvironment(key: string, env: EnvironmentSpec, ctx: Ctx) {
  const at = (...rest: (string | number)[]) => ['environments', key, ...rest];
  if (env.name !== key) {
    ctx.addIssue({ code: 'custom', path: at('name'), input: env.name, message: `must equal its key "${key}"` });
  }
  env.availabilityZones.forEach((az, i) => {
    if (!az.startsWith(env.region)) {
      ctx.addIssue({ code: 'custom', path: at('availabilityZones', i), input: az, message: `is not in region ${env.region}` });
    }
  });
  if (new Set(env.availabilityZones).size !== env.availabilityZones.length) {
    ctx.addIssue({ code: 'custom', path: at('availabilityZones'), input: env.availabilityZones, message: 'must not repeat a zone' });
  }
  if (env.network.natGateways > env.availabilityZones.length) {
    ctx.addIssue({
      code: 'custom', path: at('network', 'natGateways'), input: env.network.natGateways,
      message: `must be <= the number of availability zones (${env.availabilityZones.length})`,
    });
  }
  const vpc = parseCidr(env.network.vpcCidr);
  const vpn = parseCidr(env.network.vpn.clientCidr);
  if (vpc && vpn && overlaps(vpc, vpn)) {
    ctx.addIssue({
      code: 'custom', path: at('network', 'vpn', 'clientCidr'), input: env.network.vpn.clientCidr,
      message: `overlaps the VPC CIDR ${env.network.vpcCidr}`,
    });
  }
  if (vpn && (vpn.prefix < 12 || vpn.prefix > 22)) {
    ctx.addIssue({
      code: 'custom', path: at('network', 'vpn', 'clientCidr'), input: env.network.vpn.clientCidr,
      message: 'must be between /12 and /22 (AWS Client VPN limit)',
    });
  }
  for (const field of ['serverCertificateArn', 'clientRootCertificateArn'] as const) {
    const arn = env.network.vpn[field];
    if (!arn.startsWith(`arn:aws:acm:${env.region}:`)) {
      ctx.addIssue({ code: 'custom', path: at('network', 'vpn', field), input: arn, message: `must be in region ${env.region}` });
    }
  }
}

interface ParsedCidr { readonly base: number; readonly prefix: number }

export function parseCidr(value: string): ParsedCidr | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) return undefined; // host bits set: 10.0.0.1/16 is a typo
  return { base, prefix };
}

function overlaps(a: ParsedCidr, b: ParsedCidr): boolean {
  const aEnd = a.base + 2 ** (32 - a.prefix);
  const bEnd = b.base + 2 ** (32 - b.prefix);
  return a.base < bEnd && b.base < aEnd;
}
