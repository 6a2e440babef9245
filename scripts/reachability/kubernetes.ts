/**
 * The cluster's side of the model: the manifests in dist/<env>/ that Flux applies (namespaces,
 * workloads, Services, NetworkPolicies), and the objects applied with deploy-time values: the
 * bindings chart of dist/ with the variables substituted from the platform-bindings ConfigMap
 * CDK applies (SecurityGroupPolicy group ids, TargetGroupBinding target groups, as references),
 * and whatever the cluster stack's manifest resources apply themselves.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'yaml';
import { BINDINGS_CONFIGMAP } from '../../charts/lib/bindings-variables';
import { CfnRef, Joined } from './cfn';
import type { Cfn, CfnResource, Resolved , Opaque } from './cfn';

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: ReadonlyArray<{ key: string; operator: string; values?: readonly string[] }>;
}

export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string> };
  readonly spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- manifests are free-form YAML
  /** Where it was read: a dist/ file, or the CloudFormation resource that applies it. */
  readonly origin: string;
}

/** Every object of dist/<environment>/*.k8s.yaml. */
export function readDistObjects(dist: string | undefined, environment: string): K8sObject[] {
  const dir = dist ? path.join(dist, environment) : undefined;
  if (!dir || !fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.k8s.yaml')).sort().flatMap((file) =>
    yaml.parseAllDocuments(fs.readFileSync(path.join(dir, file), 'utf8'))
      .map((doc) => doc.toJSON() as Omit<K8sObject, 'origin'> | null)
      .filter((o): o is Omit<K8sObject, 'origin'> => Boolean(o?.kind))
      .map((o) => ({ ...o, origin: `${environment}/${file}` })));
}

/**
 * The objects applied with deploy-time values: those of the cluster stack's manifest resources
 * (Custom::AWSCDK-EKS-KubernetesResource), and those of `dist` that hold Flux variables, with
 * each `${NAME}` replaced by the platform-bindings ConfigMap's value, as Flux substitutes it.
 * CloudFormation references stay CfnRefs (or Joined, inside text).
 */
export function readAppliedObjects(cfn: Cfn, dist: readonly K8sObject[] = []): K8sObject[] {
  const out: K8sObject[] = [];
  for (const resource of cfn.resourcesOfType('Custom::AWSCDK-EKS-KubernetesResource')) {
    const manifest = cfn.prop(resource, 'Manifest');
    for (const object of parseManifest(manifest)) out.push({ ...object, origin: resource.path });
  }
  const bindings = out.find((o) => o.kind === 'ConfigMap' && o.metadata.name === BINDINGS_CONFIGMAP) as (K8sObject & { data?: Record<string, Resolved> }) | undefined;
  if (!bindings?.data) return out;
  const values = bindings.data;
  const substitute = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(substitute);
    if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, substitute(v)]));
    if (typeof node !== 'string' || !node.includes('${')) return node;
    const parts = node.split(/(\$\{[A-Z_][A-Z0-9_]*\})/).filter(Boolean).map((part) => {
      const name = /^\$\{([A-Z_][A-Z0-9_]*)\}$/.exec(part)?.[1];
      return name !== undefined && name in values ? values[name] as string | CfnRef | Joined : part;
    });
    if (parts.length === 1) return parts[0];
    return new Joined(parts.flatMap((p) => (p instanceof Joined ? p.parts : [p as string | CfnRef])));
  };
  for (const object of dist) {
    if (!JSON.stringify(object).includes('${')) continue;
    out.push({ ...(substitute(object) as K8sObject), origin: `${object.origin} (${BINDINGS_CONFIGMAP} substituted)` });
  }
  return out;
}

const PLACEHOLDER = /@@ref(\d+)@@/;

/** JSON text with references in it: references become placeholders, the JSON is parsed, placeholders go back. */
function parseManifest(manifest: Resolved): Omit<K8sObject, 'origin'>[] {
  const refs: (CfnRef | Opaque)[] = [];
  let text: string;
  if (typeof manifest === 'string') text = manifest;
  else if (manifest instanceof Joined) {
    text = manifest.parts.map((p) => (typeof p === 'string' ? p : `@@ref${refs.push(p) - 1}@@`)).join('');
  } else return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  const restore = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(restore);
    if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, restore(v)]));
    if (typeof node === 'string') {
      const exact = /^@@ref(\d+)@@$/.exec(node);
      if (exact) return refs[Number(exact[1])];
      if (PLACEHOLDER.test(node)) return new Joined(node.split(/(@@ref\d+@@)/).filter(Boolean).map((part) => {
        const m = /^@@ref(\d+)@@$/.exec(part);
        return m ? refs[Number(m[1])]! : part;
      }));
    }
    return node;
  };
  const objects = restore(parsed);
  return (Array.isArray(objects) ? objects : [objects]) as Omit<K8sObject, 'origin'>[];
}

export function selectorMatches(selector: LabelSelector | undefined | null, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const value = labels[e.key];
    switch (e.operator) {
      case 'In': if (!has || !e.values?.includes(value!)) return false; break;
      case 'NotIn': if (has && e.values?.includes(value!)) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

/** The resource a manifest value refers to (a TargetGroupBinding's target group, an SGP's group). */
export function referencedResource(value: unknown): CfnResource | undefined {
  return value instanceof CfnRef ? value.resource : undefined;
}
