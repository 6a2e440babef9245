/**
 * `--offline`: a command's dry run without AWS. The plan is built from the synthesized cloud
 * assembly and the spec, with the commands' own step builders; what only AWS can tell (a recovery
 * point, a replica's lag, a physical id CloudFormation assigns) is a named unknown, shown in the
 * steps as `<unknown:name>`. Nothing is sent: no client is even created.
 */
import type { PlatformSpec } from '../../lib/spec';
import type { OpsAssembly, TemplateResource } from './assembly';
import { EXECUTE_FLAG, OpsError } from './command';
import type { OpsArgs } from './command';
import type { PlanStep } from './data-tier';

export const OFFLINE_FLAG = 'offline';
/** Where --offline reads the assembly from (default: cdk.out of the working directory). */
export const CDK_OUT_FLAG = 'cdk-out';
export const OFFLINE_BANNER = 'OFFLINE PLAN, NOT EXECUTED';

export interface OfflineContext {
  readonly spec: PlatformSpec;
  readonly assembly: OpsAssembly;
}

export interface OfflineStep {
  readonly order: number;
  readonly region: string;
  /** service:Action, as in IAM and CloudTrail. */
  readonly call: string;
  readonly target: string;
  readonly params?: Readonly<Record<string, unknown>>;
  /** read: a check the online run makes first; change: what --execute would do; manual: an operator's step. */
  readonly kind: 'read' | 'change' | 'manual';
  readonly purpose?: string;
}

export interface Unknown {
  readonly name: string;
  /** What it is, and how the online run learns it. */
  readonly what: string;
}

export interface OfflinePlan {
  readonly banner: typeof OFFLINE_BANNER;
  readonly command: string;
  readonly environment: string;
  readonly summary: string;
  readonly assembly: string;
  /** The template resources the plan addresses, by physical name where the template fixes one. */
  readonly resources: readonly { readonly name: string; readonly type: string; readonly stack: string; readonly logicalId: string; readonly region: string }[];
  readonly steps: readonly OfflineStep[];
  readonly unknowns: readonly Unknown[];
  readonly notes: readonly string[];
}

/** Refuses --offline with --execute: an offline run can only plan. */
export function refuseOfflineExecute(values: OpsArgs['values']): void {
  if (values[OFFLINE_FLAG] === true && values[EXECUTE_FLAG] === true) {
    throw new OpsError(`--${OFFLINE_FLAG} only plans (no AWS credentials, nothing sent): drop --${EXECUTE_FLAG}, or drop --${OFFLINE_FLAG} to act`);
  }
}

export class OfflinePlanBuilder {
  private readonly steps: OfflineStep[] = [];
  private readonly unknowns = new Map<string, Unknown>();
  private readonly resources: OfflinePlan['resources'][number][] = [];
  private readonly notes: string[] = [];

  constructor(private readonly context: OfflineContext, private readonly command: string, private readonly environment: string) {}

  /** Registers a fact only AWS knows; returns its placeholder for step parameters. */
  unknown(name: string, what: string): string {
    if (!this.unknowns.has(name)) this.unknowns.set(name, { name, what });
    return `<unknown:${name}>`;
  }

  /** The placeholder of an unknown registered before (a second use of the same fact). */
  placeholder(name: string): string {
    if (!this.unknowns.has(name)) throw new Error(`offline plan: unknown "${name}" used before it was described`);
    return `<unknown:${name}>`;
  }

  /** Records a template resource the plan addresses; returns it. */
  resource(r: TemplateResource, name: string): TemplateResource {
    if (!this.resources.some((x) => x.stack === r.stackName && x.logicalId === r.logicalId)) {
      this.resources.push({ name, type: r.type, stack: r.stackName, logicalId: r.logicalId, region: r.region });
    }
    return r;
  }

  /**
   * A physical name or id CloudFormation assigns (the template has none): a named unknown
   * `<name>`, learned online by describing the resource that references it.
   */
  assigned(r: TemplateResource, name: string, learnedBy: string): string {
    this.resource(r, `(assigned by CloudFormation: ${name})`);
    return this.unknown(name, `physical id CloudFormation assigns to ${r.logicalId} (${r.type}) of ${r.stackName}; online: ${learnedBy}`);
  }

  step(step: Omit<OfflineStep, 'order'>): void {
    this.steps.push({ order: this.steps.length + 1, ...step });
  }

  /** The data-tier commands' plan steps (one API call each), as changes in `region`. */
  changes(region: string, steps: readonly PlanStep[], target: (step: PlanStep) => string): void {
    for (const s of steps) this.step({ region, call: `${s.service}:${s.action}`, target: target(s), params: s.parameters, kind: 'change' });
  }

  note(text: string): void {
    this.notes.push(text);
  }

  build(summary: string): OfflinePlan {
    return {
      banner: OFFLINE_BANNER, command: this.command, environment: this.environment, summary,
      assembly: this.context.assembly.dir, resources: this.resources, steps: this.steps,
      unknowns: [...this.unknowns.values()], notes: this.notes,
    };
  }
}

export function renderOfflinePlan(plan: OfflinePlan): string {
  const width = Math.max(...plan.unknowns.map((u) => u.name.length), 0);
  return [
    `${plan.banner}: ${plan.command} ${plan.environment}: ${plan.summary}`,
    `(from ${plan.assembly} and the spec; no AWS call made, nothing changed)`,
    'resources (from the templates):',
    ...plan.resources.map((r) => `  ${r.name}  ${r.type}  ${r.stack}/${r.logicalId}  ${r.region}`),
    'steps:',
    ...plan.steps.map((s) => `  ${String(s.order).padStart(2)}. [${s.kind}] ${s.region} ${s.call} ${s.target}${s.params ? ` ${JSON.stringify(s.params)}` : ''}${s.purpose ? ` - ${s.purpose}` : ''}`),
    'unknown without AWS:',
    ...plan.unknowns.map((u) => `  ${u.name.padEnd(width)}  ${u.what}`),
    ...(plan.notes.length > 0 ? ['notes:', ...plan.notes.map((n) => `  - ${n}`)] : []),
  ].join('\n');
}
