/**
 * The synthesized CloudFormation of a cloud assembly, with references resolved across stacks:
 * Ref, Fn::GetAtt, Fn::GetStackOutput (CDK's cross-stack and cross-region references),
 * Fn::ImportValue, and the string functions that only glue literals together. A reference to a
 * resource stays a `CfnRef` (its identity), never a guessed value: deploy-time ids are unknown
 * offline, and the model only needs to know which resource a property points at.
 */
import { readAssemblyStacks } from '../review/assembly';

export interface CfnResourceJson {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

export interface CfnStack {
  /** `<stackName>@<region>`: unique in an assembly (one stack name per region). */
  readonly key: string;
  /** The Stage (environment) holding the stack. */
  readonly environment: string;
  readonly stackName: string;
  /** Construct path of the stack, e.g. production/Network. */
  readonly displayName: string;
  readonly account: string;
  readonly region: string;
  readonly resources: Readonly<Record<string, CfnResourceJson>>;
  readonly outputs: Readonly<Record<string, { Value: unknown; Export?: { Name: unknown } }>>;
  readonly parameters: Readonly<Record<string, { Type: string; Default?: unknown }>>;
}

export interface CfnResource {
  readonly stack: CfnStack;
  readonly logicalId: string;
  readonly type: string;
  readonly properties: Record<string, unknown>;
  /** The construct path (aws:cdk:path metadata) without the trailing /Resource, else stack/logicalId. */
  readonly path: string;
  /** `<stack key>/<logical id>`: the resource's identity in the model. */
  readonly key: string;
}

/** A reference to a resource (Ref) or one of its attributes (Fn::GetAtt). */
export class CfnRef {
  constructor(readonly resource: CfnResource, readonly attribute?: string) {}
  toString(): string {
    return `\${${this.resource.logicalId}${this.attribute ? `.${this.attribute}` : ''}}`;
  }
}

/** A value the model cannot know offline (a parameter, an AZ list, a conditional). */
export class Opaque {
  constructor(readonly text: string) {}
  toString(): string {
    return `\${${this.text}}`;
  }
}

/** A string made of literals and references (Fn::Join, Fn::Sub with references). */
export class Joined {
  constructor(readonly parts: readonly (string | CfnRef | Opaque)[]) {}
  toString(): string {
    return this.parts.map(String).join('');
  }
}

export type Resolved = string | number | boolean | null | undefined | CfnRef | Opaque | Joined | Resolved[] | { [key: string]: Resolved };

const PSEUDO = (stack: CfnStack): Record<string, string> => ({
  'AWS::Region': stack.region,
  'AWS::AccountId': stack.account,
  'AWS::Partition': 'aws',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': stack.stackName,
});

function resourcePath(logicalId: string, stack: CfnStack, json: CfnResourceJson): string {
  const path = json.Metadata?.['aws:cdk:path'];
  return typeof path === 'string' ? path.replace(/\/Resource$/, '') : `${stack.displayName}/${logicalId}`;
}

function targetOf(target: string): { account: string; region: string } {
  const match = /^aws:\/\/([^/]+)\/(.+)$/.exec(target);
  return { account: match?.[1] ?? 'unknown-account', region: match?.[2] ?? 'unknown-region' };
}

/** Every stack of a cloud assembly directory, nested Stage assemblies included. */
export function loadAssembly(cdkOut: string): CfnStack[] {
  return readAssemblyStacks(cdkOut).map((s) => {
    const { account, region } = targetOf(s.target);
    const template = s.template as unknown as {
      Resources?: Record<string, CfnResourceJson>;
      Outputs?: CfnStack['outputs'];
      Parameters?: CfnStack['parameters'];
    };
    return {
      key: `${s.stackName}@${region}`,
      environment: s.environment,
      stackName: s.stackName,
      displayName: s.displayName,
      account,
      region,
      resources: template.Resources ?? {},
      outputs: template.Outputs ?? {},
      parameters: template.Parameters ?? {},
    };
  });
}

/** Resolution of template values across the stacks of one assembly. */
export class Cfn {
  private readonly byKey = new Map<string, CfnResource>();
  private readonly stacksByName = new Map<string, CfnStack[]>();

  constructor(readonly stacks: readonly CfnStack[]) {
    for (const stack of stacks) {
      const named = this.stacksByName.get(stack.stackName) ?? [];
      named.push(stack);
      this.stacksByName.set(stack.stackName, named);
      for (const [logicalId, json] of Object.entries(stack.resources)) {
        const resource: CfnResource = {
          stack, logicalId, type: json.Type, properties: json.Properties ?? {},
          path: resourcePath(logicalId, stack, json), key: `${stack.key}/${logicalId}`,
        };
        this.byKey.set(resource.key, resource);
      }
    }
  }

  /** Every resource of the given types, in stack then template order. */
  resourcesOfType(...types: string[]): CfnResource[] {
    return [...this.byKey.values()].filter((r) => types.includes(r.type));
  }

  resource(stack: CfnStack, logicalId: string): CfnResource | undefined {
    return this.byKey.get(`${stack.key}/${logicalId}`);
  }

  /** Resolves a property of a resource. */
  prop(resource: CfnResource, ...path: (string | number)[]): Resolved {
    let value: unknown = resource.properties;
    for (const step of path) value = (value as Record<string | number, unknown> | undefined)?.[step];
    return this.resolve(resource.stack, value);
  }

  /** The resource a value refers to (Ref or GetAtt of any attribute), if it does. */
  refOf(stack: CfnStack, value: unknown): CfnResource | undefined {
    const resolved = value instanceof CfnRef ? value : this.resolve(stack, value);
    return resolved instanceof CfnRef ? resolved.resource : undefined;
  }

  /** A list property whose items are references (subnets, security groups). */
  refsOf(resource: CfnResource, ...path: (string | number)[]): CfnResource[] {
    const value = this.prop(resource, ...path);
    const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
    return items.flatMap((item) => (item instanceof CfnRef ? [item.resource] : []));
  }

  /** A literal string property, or undefined when it is a reference or absent. */
  literal(resource: CfnResource, ...path: (string | number)[]): string | undefined {
    const value = this.prop(resource, ...path);
    return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
  }

  resolve(stack: CfnStack, value: unknown): Resolved {
    if (value === null || value === undefined) return value as null | undefined;
    if (typeof value !== 'object') return value as string | number | boolean;
    if (Array.isArray(value)) return value.map((v) => this.resolve(stack, v)).filter((v) => v !== undefined);
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [fn, arg] = entries[0]!;
      switch (fn) {
        case 'Ref': return this.ref(stack, String(arg));
        case 'Fn::GetAtt': return this.getAtt(stack, arg);
        case 'Fn::GetStackOutput': return this.stackOutput(stack, arg as Record<string, unknown>);
        case 'Fn::ImportValue': return this.importValue(stack, arg);
        case 'Fn::Join': return this.join(stack, arg as [unknown, unknown]);
        case 'Fn::Select': return this.select(stack, arg as [unknown, unknown]);
        case 'Fn::Split': return this.split(stack, arg as [unknown, unknown]);
        case 'Fn::Sub': return this.sub(stack, arg);
        case 'Fn::If': case 'Fn::GetAZs': case 'Fn::Base64': case 'Fn::FindInMap': case 'Fn::Cidr':
          return new Opaque(fn);
        default: break;
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(stack, v)]));
  }

  private ref(stack: CfnStack, name: string): Resolved {
    const pseudo = PSEUDO(stack)[name];
    if (pseudo !== undefined) return pseudo;
    if (name === 'AWS::NoValue') return undefined;
    const resource = this.resource(stack, name);
    if (resource) return new CfnRef(resource);
    const parameter = stack.parameters[name];
    if (parameter && parameter.Default !== undefined && !parameter.Type.startsWith('AWS::SSM::')) return this.resolve(stack, parameter.Default);
    return new Opaque(name);
  }

  private getAtt(stack: CfnStack, arg: unknown): Resolved {
    const [id, attribute] = Array.isArray(arg) ? arg.map(String) : String(arg).split(/\.(.+)/);
    const resource = this.resource(stack, id!);
    if (!resource) return new Opaque(`${id}.${attribute}`);
    // A VPC's CIDR is in its template: the one attribute the model needs as a value.
    if (resource.type === 'AWS::EC2::VPC' && attribute === 'CidrBlock') return this.prop(resource, 'CidrBlock');
    return new CfnRef(resource, attribute);
  }

  private stackOutput(stack: CfnStack, arg: Record<string, unknown>): Resolved {
    const name = this.resolve(stack, arg.StackName);
    const region = this.resolve(stack, arg.Region ?? stack.region);
    const output = this.resolve(stack, arg.OutputName);
    const producer = (this.stacksByName.get(String(name)) ?? []).find((s) => s.region === String(region));
    const out = producer?.outputs[String(output)];
    if (!producer || !out) return new Opaque(`${String(name)}.${String(output)}`);
    return this.resolve(producer, out.Value);
  }

  private importValue(stack: CfnStack, arg: unknown): Resolved {
    const name = this.resolve(stack, arg);
    for (const producer of this.stacks.filter((s) => s.region === stack.region && s.account === stack.account)) {
      for (const out of Object.values(producer.outputs)) {
        if (out.Export && String(this.resolve(producer, out.Export.Name)) === String(name)) return this.resolve(producer, out.Value);
      }
    }
    return new Opaque(`ImportValue ${String(name)}`);
  }

  private join(stack: CfnStack, [separator, list]: [unknown, unknown]): Resolved {
    const items = this.resolve(stack, list);
    if (!Array.isArray(items)) return new Opaque('Fn::Join');
    const parts: (string | CfnRef | Opaque)[] = [];
    items.forEach((item, i) => {
      if (i > 0 && separator) parts.push(String(separator));
      if (item instanceof CfnRef || item instanceof Opaque) parts.push(item);
      else if (item instanceof Joined) parts.push(...item.parts);
      else parts.push(String(item));
    });
    return joined(parts);
  }

  private select(stack: CfnStack, [index, list]: [unknown, unknown]): Resolved {
    const items = this.resolve(stack, list);
    const i = Number(this.resolve(stack, index));
    return Array.isArray(items) && Number.isInteger(i) ? items[i] : new Opaque('Fn::Select');
  }

  private split(stack: CfnStack, [separator, source]: [unknown, unknown]): Resolved {
    const value = this.resolve(stack, source);
    return typeof value === 'string' ? value.split(String(separator)) : new Opaque('Fn::Split');
  }

  private sub(stack: CfnStack, arg: unknown): Resolved {
    const [template, variables] = Array.isArray(arg) ? [String(arg[0]), arg[1] as Record<string, unknown>] : [String(arg), {}];
    const parts: (string | CfnRef | Opaque)[] = [];
    let last = 0;
    for (const match of template.matchAll(/\$\{([^}!][^}]*)\}/g)) {
      parts.push(template.slice(last, match.index));
      const name = match[1]!;
      const value = name in variables ? this.resolve(stack, variables[name])
        : name.includes('.') ? this.getAtt(stack, name) : this.ref(stack, name);
      if (value instanceof CfnRef || value instanceof Opaque) parts.push(value);
      else if (value instanceof Joined) parts.push(...value.parts);
      else parts.push(String(value));
      last = match.index! + match[0].length;
    }
    parts.push(template.slice(last));
    return joined(parts);
  }
}

/** Literal parts merged; a single literal becomes a plain string. */
function joined(parts: readonly (string | CfnRef | Opaque)[]): Resolved {
  const merged: (string | CfnRef | Opaque)[] = [];
  for (const part of parts) {
    const last = merged[merged.length - 1];
    if (typeof part === 'string' && typeof last === 'string') merged[merged.length - 1] = last + part;
    else if (part !== '') merged.push(part);
  }
  if (merged.length === 0) return '';
  if (merged.length === 1 && typeof merged[0] === 'string') return merged[0];
  return new Joined(merged);
}
