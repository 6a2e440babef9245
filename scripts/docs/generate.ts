/**
 * The generated regions of README.md and docs/*.md: every table of numbers that would otherwise
 * be copied by hand from lib/spec or from the synth output, and go stale. Each region is a pure
 * function of its inputs (the spec, the charts rendered from it, the cost estimate of a cloud
 * assembly), so two runs on one commit write the same bytes, offline.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as yaml from 'yaml';
import { renderCharts } from '../../charts/main';
import { ENVIRONMENT_NAMES, parseDuration } from '../../lib/spec';
import type { EnvironmentName, PlatformSpec, VaultSecretKind } from '../../lib/spec';
import { servicesWithSecret } from '../../lib/spec/topology';
import type { CostReport } from '../cost/assembly';
import { money } from '../cost/report';
import { findRegions, replaceRegions } from './regions';

/**
 * The files `npm run docs` owns regions in. Pages others edit by hand today (docs/ops.md,
 * docs/review.md) are left out on purpose: a region there would fight their edits.
 */
export const EXCLUDED_FILES: readonly string[] = ['docs/ops.md', 'docs/review.md'];

export function docFiles(root: string): string[] {
  const docs = fs.readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`)
    .filter((f) => !EXCLUDED_FILES.includes(f))
    .sort();
  return ['README.md', ...docs];
}

/** One service's autoscaler as rendered for one environment (read back from the manifest). */
export interface RenderedAutoscaler {
  readonly min: number;
  readonly max: number;
  readonly trigger: string;
}

export interface DocsInputs {
  readonly spec: PlatformSpec;
  /** service -> environment -> its autoscaler, as the charts render it. */
  readonly autoscaling: ReadonlyMap<string, ReadonlyMap<EnvironmentName, RenderedAutoscaler>>;
  /** The cost estimate of the synthesized assembly (its stacks, regions and monthly figures). */
  readonly cost: CostReport;
}

/** Renders the charts of `spec` into a temporary folder and reads each service's autoscaler back. */
export function renderedAutoscaling(spec: PlatformSpec): Map<string, Map<EnvironmentName, RenderedAutoscaler>> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'platform-docs-charts-'));
  try {
    renderCharts(spec, outdir);
    const result = new Map<string, Map<EnvironmentName, RenderedAutoscaler>>();
    for (const service of spec.services) {
      const perEnv = new Map<EnvironmentName, RenderedAutoscaler>();
      for (const env of ENVIRONMENT_NAMES) {
        const file = path.join(outdir, env, `${service.name}.k8s.yaml`);
        const objects = yaml.parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJS() as Manifest);
        perEnv.set(env, autoscalerOf(objects, file));
      }
      result.set(service.name, perEnv);
    }
    return result;
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

interface Manifest {
  kind: string;
  spec: {
    minReplicas?: number; maxReplicas?: number; minReplicaCount?: number; maxReplicaCount?: number;
    metrics?: { resource: { target: { averageUtilization: number } } }[];
    triggers?: { type: string; metadata: Record<string, string> }[];
  };
}

function autoscalerOf(objects: Manifest[], file: string): RenderedAutoscaler {
  const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler');
  if (hpa) {
    const cpu = (hpa.spec.metrics ?? []).map((m) => `CPU > ${m.resource.target.averageUtilization}%`).join(' or ');
    return { min: Number(hpa.spec.minReplicas), max: Number(hpa.spec.maxReplicas), trigger: cpu };
  }
  const scaled = objects.find((o) => o.kind === 'ScaledObject');
  if (!scaled) throw new Error(`${file}: no HorizontalPodAutoscaler or ScaledObject`);
  const triggers = (scaled.spec.triggers ?? []).map((t) => {
    if (t.type === 'cpu') return `CPU > ${t.metadata.value}%`;
    if (t.type === 'prometheus') {
      const quantile = /histogram_quantile\(([0-9.]+)/.exec(t.metadata.query ?? '')?.[1];
      const percentile = quantile === undefined ? '' : `p${Math.round(Number(quantile) * 1000) / 10} `;
      return `${percentile}request latency > ${Math.round(Number(t.metadata.threshold) * 1000)} ms`;
    }
    return t.type;
  });
  return { min: Number(scaled.spec.minReplicaCount), max: Number(scaled.spec.maxReplicaCount), trigger: triggers.join(' or ') };
}

/** Where each row of the DR targets is built and drilled; plain paths, as the table appears in README.md and in docs/. */
const DR_HOMES: Readonly<Record<keyof PlatformSpec['disasterRecovery'], string>> = {
  database: 'AWS Backup with a DR-region copy, replicas: `lib/stacks/database-stack.ts`, `lib/stacks/data-recovery-stack.ts`; drill `npm run ops -- restore` (`docs/data-tier.md`)',
  secrets: 'Vault on DynamoDB global tables: `lib/stacks/vault-*-stack.ts`; drill `npm run ops -- vault-failover` (`docs/vault.md`)',
  configuration: 'Flux reconciling the rendered `dist/<env>/` from ECR: `charts/gitops-chart.ts`, `lib/constructs/cluster/addons/flux.ts`; drill `npm run ops -- config-restore` (`docs/gitops.md`)',
};

const table = (header: string[], rows: (string | number)[][], align?: string[]) => [
  `| ${header.join(' | ')} |`,
  `|${(align ?? header.map(() => '---')).join('|')}|`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
].join('\n') + '\n';

/** PT1H -> 1 h, PT30M -> 30 min, PT0S -> 0. */
export function humanDuration(iso: string): string {
  const duration = parseDuration(iso);
  if (!duration) throw new Error(`not a PT duration: ${iso}`);
  const { hours: h, minutes: m, seconds: s } = duration;
  const parts = [h !== undefined && `${h} h`, m !== undefined && `${m} min`, s !== undefined && s !== 0 && `${s} s`].filter(Boolean);
  return parts.length > 0 ? parts.join(' ') : '0';
}

const gen = 'Generated by `npm run docs`';

const cacheEngine = (spec: PlatformSpec) => (spec.dataTier.redis.engine === 'valkey' ? 'Valkey' : 'Redis OSS');

/** The architecture diagram (Mermaid): its names, ports and edges from the spec. */
function architectureDiagram(spec: PlatformSpec): string {
  const id = (name: string) => name.replace(/-service$/, '').replace(/-/g, '_').toUpperCase();
  const withSecret = (kind: VaultSecretKind) => servicesWithSecret(spec, kind).map((s) => id(s.name));
  const gateway = spec.services.filter((s) => s.zone === 'dmz');
  const inside = spec.services.filter((s) => s.zone !== 'dmz');
  const producers = [...new Set(spec.dataTier.kafka.topics.map((t) => id(t.producer)))];
  const regions = [...new Set(ENVIRONMENT_NAMES.map((e) => spec.environments[e].region))].join(', ');
  const calls = spec.services.flatMap((caller) => caller.calls.map((callee) => `    ${id(caller.name)} -->|gRPC mTLS| ${id(callee)}`));
  const replicas = [...new Set(ENVIRONMENT_NAMES.map((e) => spec.environments[e].database.readReplicas))].join(' or ');
  const lines = [
    '```mermaid',
    'graph LR',
    '  Client[Client apps] --> CF[CloudFront + WAF]',
    '  CF --> ALB[ALB + WAF<br/>public zone]',
    // The VPN reaches the DMZ; the ALB only the edge service (services[].exposes).
    ...gateway.flatMap((g) => [`  VPN[Client VPN] --> ${id(g.name)}`, `  ${g.exposes === 'edge' ? 'ALB --> ' : ''}${id(g.name)}[${g.name} :${g.port}<br/>DMZ zone]`]),
    '  subgraph EKS["EKS cluster (private zone)"]',
    ...inside.map((s) => `    ${id(s.name)}[${s.name} :${s.port}]`),
    ...calls,
    `    PGB[PgBouncer<br/>max ${spec.dataTier.pgbouncer.maxClientConnections} conns]`,
    '  end',
    '  subgraph Restricted["restricted zone (workloads + bastion only)"]',
    `    RDS[(RDS PostgreSQL<br/>+ ${replicas} read replicas)]`,
    `    CACHE[(ElastiCache ${cacheEngine(spec)})]`,
    '    MSK[Amazon MSK<br/>SASL/SCRAM + IAM]',
    '    DWH[(Redshift Serverless<br/>data warehouse)]',
    '  end',
    `  ${withSecret('database').join(' & ')} --> PGB --> RDS`,
    `  ${withSecret('cache').join(' & ')} --> CACHE`,
    `  ${producers.join(' & ')} -->|outbox| MSK`,
    '  MSK -->|IAM| FLINK[Managed Flink<br/>analytics job, private zone] -->|upserts| DWH',
    '  BASTION[SSM bastion] --> Restricted',
    `  VAULT[Vault ${regions}<br/>standby ${spec.drRegion.name}] -.secrets.-> EKS`,
    '```',
  ];
  return `${lines.join('\n')}\n`;
}

/** Every region's renderer, by name. */
export const REGIONS: Readonly<Record<string, (input: DocsInputs) => string>> = {
  'architecture-diagram': ({ spec }) => architectureDiagram(spec),

  services: ({ spec, autoscaling }) => {
    const envs = ENVIRONMENT_NAMES;
    const rows = spec.services.map((s) => {
      const rendered = autoscaling.get(s.name);
      const perEnv = envs.map((e) => {
        const a = rendered?.get(e);
        return a ? `${a.min}-${a.max}` : '-';
      });
      const triggers = [...new Set(envs.map((e) => rendered?.get(e)?.trigger ?? '-'))];
      return [`\`${s.name}\``, s.port, s.healthPort, s.zone, ...perEnv, triggers.join('; '), s.purpose];
    });
    return `${gen} from \`services\` of lib/spec and the autoscalers of the rendered charts.\n\n`
      + table(['service', 'port', 'health port', 'zone', ...envs.map((e) => `${e} replicas`), 'scales out on', 'purpose'], rows,
        ['---', '---:', '---:', '---', ...envs.map(() => '---:'), '---', '---']);
  },

  'node-groups': ({ spec }) => {
    const rows = ENVIRONMENT_NAMES.map((name) => {
      const e = spec.environments[name];
      const g = e.cluster.nodeGroup;
      return [name, e.region, e.cluster.kubernetesVersion, `${g.nodes} x ${g.instanceType}`, `${g.diskSizeGiB} GiB`, e.network.natGateways];
    });
    return `${gen} from \`environments.<env>.cluster\` and \`network\` of lib/spec.\n\n`
      + table(['environment', 'region', 'Kubernetes', 'EKS nodes', 'node disk', 'NAT gateways'], rows,
        ['---', '---', '---', '---', '---:', '---:']);
  },

  'data-tier': ({ spec }) => {
    const { redis, kafka } = spec.dataTier;
    const rows = ENVIRONMENT_NAMES.map((name) => {
      const e = spec.environments[name];
      const d = e.database;
      const brokers = kafka.brokersPerAz * e.availabilityZones.length;
      return [
        name,
        `${d.instanceClass} Multi-AZ + ${d.readReplicas} read replicas`,
        `${d.allocatedStorageGiB}-${d.maxAllocatedStorageGiB} GiB`,
        d.maxConnections,
        `${d.backupRetentionDays} days`,
        `${e.cache.nodeType} (${cacheEngine(spec)} ${redis.engineVersion})`,
        `${brokers} x ${e.messaging.brokerInstanceType}, ${e.messaging.brokerStorageGiB} GiB each`,
        `${e.analytics.warehouse.baseCapacityRpu}-${e.analytics.warehouse.maxCapacityRpu} RPU`,
      ];
    });
    return `${gen} from \`environments.<env>\` and \`dataTier\` of lib/spec.\n\n`
      + table(['environment', 'PostgreSQL', 'storage', 'max connections', 'PITR window', 'cache', 'Kafka (MSK)', 'warehouse'], rows,
        ['---', '---', '---:', '---:', '---:', '---', '---', '---:']);
  },

  ports: ({ spec }) => {
    const { postgres, pgbouncer, redis, kafka } = spec.dataTier;
    const rows: (string | number)[][] = [
      ['PostgreSQL (RDS)', postgres.port, 'restricted', `engine ${postgres.engineVersion}`],
      ['PgBouncer', pgbouncer.port, 'private', `max ${pgbouncer.maxClientConnections} client connections`],
      [`${cacheEngine(spec)} (ElastiCache)`, redis.port, 'restricted', `engine ${redis.engineVersion}`],
      ['Kafka (MSK), SASL/SCRAM', kafka.saslScramPort, 'restricted', `Kafka ${kafka.version}`],
      ['Kafka (MSK), IAM', kafka.iamPort, 'restricted', 'the analytics job'],
      ['Redshift Serverless', spec.analytics.warehouse.port, 'restricted', `database \`${spec.analytics.warehouse.databaseName}\``],
      ['Vault API', spec.vault.apiPort, 'private', `Vault ${spec.vault.version}, ${spec.vault.nodes} nodes`],
      ['Vault cluster', spec.vault.clusterPort, 'private', 'request forwarding between nodes'],
    ];
    return `${gen} from \`dataTier\`, \`analytics.warehouse\` and \`vault\` of lib/spec (the services' ports are in the table above).\n\n`
      + table(['what', 'port', 'zone', 'note'], rows, ['---', '---:', '---', '---']);
  },

  'dr-targets': ({ spec }) => {
    const rows = Object.entries(spec.disasterRecovery).map(([what, t]) => [what, humanDuration(t.rpo), humanDuration(t.rto), t.strategy, DR_HOMES[what as keyof typeof DR_HOMES]]);
    return `${gen} from \`disasterRecovery\` of lib/spec; DR region ${spec.drRegion.name}.\n\n`
      + table(['data', 'RPO', 'RTO', 'strategy', 'where it lives'], rows);
  },

  stacks: ({ cost }) => {
    const rows = cost.environments.map((env) => {
      const byRegion = new Map<string, string[]>();
      for (const s of env.stacks) {
        const region = s.region ?? 'unknown region';
        byRegion.set(region, [...byRegion.get(region) ?? [], `\`${s.stack}\``]);
      }
      const where = [...byRegion].map(([region, stacks]) => `${region}: ${stacks.join(', ')}`).join('; ');
      return [env.name, env.stacks.length, where];
    });
    return `${gen} from the synthesized assembly (\`cdk.out/\`).\n\n`
      + table(['environment', 'stacks', 'stack names by region'], rows, ['---', '---:', '---']);
  },

  cost: ({ cost }) => {
    const unknown = (n: number) => (n > 0 ? ` + ${n} unknown` : '');
    const rows = cost.environments.map((e) => [`${e.name} (${e.stacks.length} stacks)`, `${money(e.monthly)}${unknown(e.unknown)}`]);
    rows.push(['total', `${money(cost.total)}${unknown(cost.unknown)}`]);
    const observability = cost.environments
      .map((e) => ({ env: e.name, stack: e.stacks.find((s) => s.stack.endsWith('-observability')) }))
      .filter((x) => x.stack !== undefined)
      .map((x) => `${money(x.stack!.monthly)} (${x.env})`);
    const note = observability.length > 0
      ? `\nThe observability stacks add ${observability.join(' and ')} of that: per-metric alarm fees, composite alarms, the dashboard and their KMS keys; SNS deliveries are usage.\n`
      : '';
    return `${gen}: \`npm run cost\` on the synthesized assembly, list prices of ${cost.prices.date}.\n\n`
      + table(['environment', 'monthly (on-demand)'], rows, ['---', '---:']) + note;
  },

  'cost-stacks': ({ cost }) => {
    const rows: string[][] = [];
    for (const env of cost.environments) {
      rows.push([`**${env.name}**`, '', '', `**${money(env.monthly)}**`]);
      for (const s of env.stacks) rows.push(['', s.stack, s.region ?? 'unknown', money(s.monthly)]);
    }
    rows.push(['**total**', '', '', `**${money(cost.total)}**`]);
    const counts = new Map<string, number>();
    for (const u of cost.environments.flatMap((e) => e.stacks.flatMap((s) => s.unknownTypes))) counts.set(u.type, (counts.get(u.type) ?? 0) + 1);
    const unknownTypes = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([type, n]) => `\`${type}\` (${n})`);
    return `${gen}: \`npm run cost\` on this repository's synthesized assembly.\n\n`
      + table(['environment', 'stack', 'region', 'monthly'], rows, ['---', '---', '---', '---:'])
      + `\n${unknownTypes.length === 0 ? 'No resource type of the app is unknown to the estimator' : `Resource types the estimator does not know, not estimated: ${unknownTypes.join(', ')}`}`
      + `; ${cost.unknown === 0 ? 'no line is unknown' : `${cost.unknown} lines are unknown`}.\n`;
  },
};

export interface FileResult {
  readonly file: string;
  readonly current: string;
  readonly generated: string;
  /** Regions whose body differs from what the generator writes. */
  readonly stale: string[];
}

/** What each documentation file would read with its regions regenerated. */
export function generateDocs(root: string, input: DocsInputs, files: readonly string[] = docFiles(root)): FileResult[] {
  const rendered = new Map<string, string>();
  const render = (name: string) => {
    const renderer = REGIONS[name];
    if (!renderer) return undefined;
    if (!rendered.has(name)) rendered.set(name, renderer(input));
    return rendered.get(name);
  };
  return files.map((file) => {
    const current = fs.readFileSync(path.join(root, file), 'utf8');
    const generated = replaceRegions(current, render, file);
    const after = new Map(findRegions(generated, file).map((r) => [r.name, r.body]));
    const stale = findRegions(current, file).filter((r) => r.body !== after.get(r.name)).map((r) => r.name);
    return { file, current, generated, stale };
  });
}
