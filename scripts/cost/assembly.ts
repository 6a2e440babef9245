/**
 * Walks a cloud assembly (the nested one `npm run synth` writes: one `assembly-<env>/` per
 * Stage, as scripts/synth-summary.ts reads it) and estimates every stack, then rolls the line
 * items up per stack, per environment and in total; and compares two such reports.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { estimateTemplate } from './estimate';
import type { CfnTemplate, LineItem, UnknownType, UsageOnly } from './estimate';
import type { PriceTable } from './prices';

interface Manifest {
  artifacts?: Record<string, { type: string; environment?: string; displayName?: string; properties?: Record<string, unknown> }>;
}

export interface StackCost {
  readonly environment: string;
  readonly stack: string;
  /** The stack's region, null when the assembly leaves it unresolved. */
  readonly region: string | null;
  /** Sum of the line items whose cost is known. */
  readonly monthly: number;
  /** Line items whose cost is unknown (token, or SKU not in the table). */
  readonly unknown: number;
  readonly items: LineItem[];
  readonly usageOnly: UsageOnly[];
  readonly unknownTypes: UnknownType[];
  readonly freeResources: number;
}

export interface EnvironmentCost {
  readonly name: string;
  readonly monthly: number;
  readonly unknown: number;
  readonly stacks: StackCost[];
}

export interface CostReport {
  readonly currency: string;
  readonly hoursPerMonth: number;
  readonly prices: { readonly date: string; readonly source: string; readonly regions: string[] };
  readonly total: number;
  readonly unknown: number;
  readonly environments: EnvironmentCost[];
  /** What the estimate leaves out, whatever the templates say. */
  readonly notEstimated: string[];
}

export const NOT_ESTIMATED: readonly string[] = [
  'usage: data transfer, requests, LCUs, NAT and endpoint data processing, log ingestion, backup and S3 storage, DynamoDB on-demand capacity',
  'CloudFront has no base fee: requests and data transfer are not estimated',
  'ALB/NLB: the hourly base only; LCU/NLCU usage is not estimated',
  'savings plans, reserved instances, free tiers, taxes and support plans',
  'in-cluster workloads: they run on the priced EKS nodes (dist/ adds no AWS resources)',
];

const round2 = (x: number) => Math.round(x * 100) / 100;

export class AssemblyError extends Error {}

/** The stacks of an assembly, nested Stage assemblies included, in manifest order. */
export function listStacks(outdir: string): { environment: string; stack: string; region: string | null; template: CfnTemplate }[] {
  const manifestFile = path.join(outdir, 'manifest.json');
  if (!fs.existsSync(manifestFile)) throw new AssemblyError(`no cloud assembly at ${outdir}/ (run \`npm run synth\` first)`);
  const stacks: { environment: string; stack: string; region: string | null; template: CfnTemplate }[] = [];
  const visit = (dir: string, environment: string) => {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
      if (artifact.type === 'cdk:cloud-assembly') {
        visit(path.join(dir, String(artifact.properties?.directoryName)), String(artifact.properties?.displayName ?? id));
      } else if (artifact.type === 'aws:cloudformation:stack') {
        const template = JSON.parse(fs.readFileSync(path.join(dir, String(artifact.properties?.templateFile)), 'utf8')) as CfnTemplate;
        const region = /^aws:\/\/[^/]+\/([a-z0-9-]+)$/.exec(artifact.environment ?? '')?.[1];
        stacks.push({
          environment,
          stack: String(artifact.properties?.stackName ?? id),
          region: region && region !== 'unknown-region' ? region : null,
          template,
        });
      }
    }
  };
  visit(outdir, '(app)');
  return stacks;
}

export function estimateAssembly(outdir: string, table: PriceTable): CostReport {
  const environments = new Map<string, StackCost[]>();
  for (const { environment, stack, region, template } of listStacks(outdir)) {
    const estimate = estimateTemplate(template, region ?? undefined, table);
    const known = estimate.items.filter((i) => i.monthly !== null);
    const cost: StackCost = {
      environment, stack, region,
      monthly: round2(known.reduce((sum, i) => sum + (i.monthly ?? 0), 0)),
      unknown: estimate.items.length - known.length,
      items: estimate.items,
      usageOnly: estimate.usageOnly,
      unknownTypes: estimate.unknownTypes,
      freeResources: estimate.free,
    };
    environments.set(environment, [...environments.get(environment) ?? [], cost]);
  }
  const envs: EnvironmentCost[] = [...environments].map(([name, stacks]) => ({
    name,
    monthly: round2(stacks.reduce((sum, s) => sum + s.monthly, 0)),
    unknown: stacks.reduce((sum, s) => sum + s.unknown, 0),
    stacks,
  }));
  return {
    currency: table.currency,
    hoursPerMonth: table.hoursPerMonth,
    prices: { date: table.date, source: table.source, regions: Object.keys(table.regions) },
    total: round2(envs.reduce((sum, e) => sum + e.monthly, 0)),
    unknown: envs.reduce((sum, e) => sum + e.unknown, 0),
    environments: envs,
    notEstimated: [...NOT_ESTIMATED],
  };
}

export interface Change {
  /** null: absent on that side. */
  readonly base: number | null;
  readonly head: number | null;
  readonly delta: number;
}
export interface StackDelta extends Change { readonly stack: string }
export interface EnvironmentDelta extends Change { readonly name: string; readonly stacks: StackDelta[] }
export interface CostDelta {
  readonly base: string;
  readonly total: Change;
  readonly environments: EnvironmentDelta[];
}

function change(base: number | undefined, head: number | undefined): Change {
  return { base: base ?? null, head: head ?? null, delta: round2((head ?? 0) - (base ?? 0)) };
}

/** Head minus base, per environment and stack; entries on one side only count as 0 on the other. */
export function diffReports(base: CostReport, head: CostReport, baseLabel: string): CostDelta {
  const names = [...new Set([...head.environments.map((e) => e.name), ...base.environments.map((e) => e.name)])];
  const environments = names.map((name): EnvironmentDelta => {
    const b = base.environments.find((e) => e.name === name);
    const h = head.environments.find((e) => e.name === name);
    const stackNames = [...new Set([...(h?.stacks ?? []).map((s) => s.stack), ...(b?.stacks ?? []).map((s) => s.stack)])];
    return {
      name,
      ...change(b?.monthly, h?.monthly),
      stacks: stackNames.map((stack) => ({
        stack,
        ...change(b?.stacks.find((s) => s.stack === stack)?.monthly, h?.stacks.find((s) => s.stack === stack)?.monthly),
      })),
    };
  });
  return { base: baseLabel, total: change(base.total, head.total), environments };
}
