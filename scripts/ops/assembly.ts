/**
 * The synthesized cloud assembly (cdk.out, written by `npm run synth`) as the offline plans read
 * it: each environment's resources with the stack, region and account they are deployed to, and
 * the physical names the templates fix. Plain file reading through scripts/review/assembly.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readAssemblyStacks } from '../review/assembly';
import { OpsError } from './command';

export interface TemplateResource {
  readonly stackName: string;
  /** Construct path of the stack, e.g. staging/Database. */
  readonly displayName: string;
  readonly region: string;
  readonly account: string;
  readonly logicalId: string;
  readonly type: string;
  readonly properties: Readonly<Record<string, unknown>>;
}

export class OpsAssembly {
  private constructor(readonly dir: string, private readonly all: readonly (TemplateResource & { environment: string })[]) {}

  /** Reads `dir`; a one-line OpsError when it holds no cloud assembly. */
  static load(dir: string): OpsAssembly {
    const resolved = path.resolve(dir);
    if (!fs.existsSync(path.join(resolved, 'manifest.json'))) {
      throw new OpsError(`no synthesized cloud assembly in ${resolved}: run \`npm run synth\` first (--offline plans from its templates)`);
    }
    const resources = readAssemblyStacks(resolved).flatMap((stack) => {
      const [, account = 'unknown-account', region = 'unknown-region'] = /^aws:\/\/([^/]+)\/(.+)$/.exec(stack.target) ?? [];
      return Object.entries(stack.template.Resources ?? {}).map(([logicalId, r]) => ({
        environment: stack.environment, stackName: stack.stackName, displayName: stack.displayName, region, account,
        logicalId, type: r.Type, properties: (r.Properties ?? {}) as Record<string, unknown>,
      }));
    });
    return new OpsAssembly(resolved, resources);
  }

  /** Every resource of a type in an environment's stacks, in template order. */
  resources(environment: string, type: string): TemplateResource[] {
    return this.all.filter((r) => r.environment === environment && r.type === type);
  }

  /** The resource a `Ref`/`Fn::GetAtt` of `from` points at, in the same stack. */
  referenced(from: TemplateResource, value: unknown): TemplateResource | undefined {
    const logicalId = referencedLogicalId(value);
    return this.all.find((r) => r.stackName === from.stackName && r.region === from.region && r.logicalId === logicalId);
  }

  /**
   * The environment's one resource of `type` whose `property` is `name` (a physical name of the
   * spec's names contract). Missing means cdk.out and the spec disagree: an OpsError.
   */
  named(environment: string, type: string, property: string, name: string): TemplateResource {
    const found = this.resources(environment, type).filter((r) => r.properties[property] === name);
    if (found.length !== 1) {
      throw new OpsError(`the templates in ${this.dir} hold ${found.length === 0 ? 'no' : found.length} ${type} with ${property} ${name} for ${environment}: re-run \`npm run synth\` (cdk.out is older than the spec?)`);
    }
    return found[0];
  }
}

/** The value of a template property when the template fixes it (a literal), else undefined. */
export function literal(value: unknown): string | number | boolean | undefined {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : undefined;
}

/** `Ref`/`Fn::GetAtt` target of a property, when it points at a resource of the same stack. */
export function referencedLogicalId(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as { Ref?: unknown; 'Fn::GetAtt'?: unknown };
  if (typeof v.Ref === 'string') return v.Ref;
  if (Array.isArray(v['Fn::GetAtt']) && typeof v['Fn::GetAtt'][0] === 'string') return v['Fn::GetAtt'][0];
  return undefined;
}

/** The ARN partition of a region (the assembly's regions are concrete). */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/**
 * A string property as the template builds it: literals kept, each `Ref`/`Fn::GetAtt` inside a
 * `Fn::Join` replaced by `placeholder(logicalId, attribute)`; undefined for any other intrinsic.
 */
export function templateString(value: unknown, placeholder: (logicalId: string, attribute?: string) => string): string | undefined {
  const known = literal(value);
  if (known !== undefined) return String(known);
  const logicalId = referencedLogicalId(value);
  if (logicalId !== undefined) {
    const getAtt = (value as { 'Fn::GetAtt'?: unknown[] })['Fn::GetAtt'];
    return placeholder(logicalId, Array.isArray(getAtt) ? String(getAtt[1]) : undefined);
  }
  const join = (value as { 'Fn::Join'?: unknown } | null)?.['Fn::Join'];
  if (!Array.isArray(join) || typeof join[0] !== 'string' || !Array.isArray(join[1])) return undefined;
  const parts = (join[1] as unknown[]).map((part) => templateString(part, placeholder));
  return parts.every((p) => p !== undefined) ? parts.join(join[0]) : undefined;
}
