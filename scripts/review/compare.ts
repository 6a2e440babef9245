/**
 * The comparison core shared by `npm run diff` and `npm run check:replacements`: two synthesis
 * outputs in, per-stack template differences (via @aws-cdk/cloudformation-diff) and per-manifest
 * unified diffs out. Knows nothing of git or of how the outputs were made, so tests feed it
 * small fixture assemblies.
 */
import { fullDiff, ResourceImpact } from '@aws-cdk/cloudformation-diff';
import type { ResourceDifference, TemplateDiff } from '@aws-cdk/cloudformation-diff';
import { readAssemblyStacks, readManifests } from './assembly';
import type { AssemblyStack, CfnTemplate, SynthOutput } from './assembly';
import { renderIntrinsics } from './intrinsics';
import { unifiedDiff } from './line-diff';
import type { ReachabilityDiff } from './reachability';

export type ResourceChangeKind = 'added' | 'removed' | 'replaced' | 'may-replace' | 'modified';

export interface PropertyChange {
  readonly name: string;
  readonly oldValue: unknown;
  readonly newValue: unknown;
}

export interface ResourceChange {
  readonly logicalId: string;
  /** The resource type (the new one when the type itself changed). */
  readonly type: string;
  readonly kind: ResourceChangeKind;
  /** Construct path from the aws:cdk:path metadata, when the template has it. */
  readonly path?: string;
  /** The properties whose change forces (or may force) replacement; `Type` for a type change. */
  readonly replacedBy: readonly PropertyChange[];
  /** Every changed top-level property or attribute (Properties.* by name, others as-is). */
  readonly changed: readonly string[];
  /** DeletionPolicy / UpdateReplacePolicy of the base resource. */
  readonly deletionPolicy?: string;
  readonly updateReplacePolicy?: string;
}

export interface StackComparison {
  readonly key: string;
  readonly environment: string;
  readonly stackName: string;
  readonly displayName: string;
  readonly status: 'added' | 'removed' | 'changed' | 'unchanged';
  readonly added: readonly ResourceChange[];
  readonly removed: readonly ResourceChange[];
  /** Will be replaced, and may be replaced (kind `may-replace`: a conditional property changed). */
  readonly replaced: readonly ResourceChange[];
  readonly modified: readonly ResourceChange[];
  /** Summary tables from cloudformation-diff, header row first; empty when nothing changed. */
  readonly iamStatements: readonly string[][];
  readonly iamManagedPolicies: readonly string[][];
  readonly securityGroups: readonly string[][];
  readonly permissionsBroadened: boolean;
  /** Outputs, parameters, conditions, mappings and other template sections that changed. */
  readonly otherChanges: readonly string[];
  /**
   * cloudformation-diff's result over the templates with their intrinsics rendered as text
   * (intrinsics.ts), for people: the tables above and `--full` come from it. What changed and
   * how (the fields above, the guard) is decided on the raw templates.
   */
  readonly diff: TemplateDiff;
}

export interface ManifestComparison {
  /** Relative to dist/, e.g. production/namespaces.k8s.yaml. */
  readonly file: string;
  readonly environment: string;
  readonly status: 'added' | 'removed' | 'changed';
  readonly unified: string;
}

export interface TreeComparison {
  readonly stacks: readonly StackComparison[];
  readonly manifests: readonly ManifestComparison[];
  /** The flows the change opens or closes (`npm run diff`; see reachability.ts). */
  readonly reachability?: ReachabilityDiff;
}

// Colour codes chalk puts into cloudformation-diff's tables.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
export const stripAnsi = (text: string) => text.replace(ANSI, '');

/**
 * cloudformation-diff names the resource a policy is attached to as `${Id}` / `${Id.Arn}` /
 * `${Id.GroupId}`; written like the rendered intrinsics, `<Id>.Arn`. Only alphanumeric names:
 * IAM policy variables (`${aws:username}`) stay as they are.
 */
export const selfReferences = (text: string) => text.replace(/\$\{([A-Za-z0-9]+)((?:\.[A-Za-z0-9]+)*)\}/g, '<$1>$2');
const tableRows = (rows: string[][]) => (rows.length > 1 ? rows.map((row) => row.map((cell) => selfReferences(stripAnsi(cell)))) : []);

function kindOf(change: ResourceDifference): ResourceChangeKind | undefined {
  if (change.isAddition) return 'added';
  if (change.isRemoval) return 'removed';
  switch (change.changeImpact) {
    case ResourceImpact.WILL_REPLACE: return 'replaced';
    case ResourceImpact.MAY_REPLACE: return 'may-replace';
    default: return change.isDifferent ? 'modified' : undefined;
  }
}

function resourceChange(logicalId: string, change: ResourceDifference, kind: ResourceChangeKind): ResourceChange {
  const resource = change.newValue ?? change.oldValue;
  const replacedBy: PropertyChange[] = [];
  const changed: string[] = [];
  if (kind !== 'added' && kind !== 'removed') {
    if (change.oldResourceType !== change.newResourceType) {
      replacedBy.push({ name: 'Type', oldValue: change.oldResourceType, newValue: change.newResourceType });
      changed.push('Type');
    } else {
      change.forEachDifference((section, name, difference) => {
        changed.push(name);
        const impact = (difference as { changeImpact?: ResourceImpact }).changeImpact;
        if (section === 'Property' && (impact === ResourceImpact.WILL_REPLACE || impact === ResourceImpact.MAY_REPLACE)) {
          replacedBy.push({ name, oldValue: difference.oldValue, newValue: difference.newValue });
        }
      });
    }
  }
  const metadata = resource?.Metadata as Record<string, unknown> | undefined;
  return {
    logicalId,
    type: change.newResourceType ?? change.oldResourceType ?? 'unknown',
    kind,
    path: typeof metadata?.['aws:cdk:path'] === 'string' ? metadata['aws:cdk:path'] : undefined,
    replacedBy,
    changed,
    deletionPolicy: change.oldValue?.DeletionPolicy as string | undefined,
    updateReplacePolicy: change.oldValue?.UpdateReplacePolicy as string | undefined,
  };
}

/** Compares one stack's templates; a missing side is an added or removed stack. */
export function compareStack(base: AssemblyStack | undefined, head: AssemblyStack | undefined): StackComparison {
  const stack = (head ?? base)!;
  const oldTemplate: CfnTemplate = base?.template ?? {};
  const newTemplate: CfnTemplate = head?.template ?? {};
  const diff = fullDiff(oldTemplate, newTemplate);
  const byKind: Record<ResourceChangeKind, ResourceChange[]> = { 'added': [], 'removed': [], 'replaced': [], 'may-replace': [], 'modified': [] };
  diff.resources.forEachDifference((logicalId, change) => {
    const kind = kindOf(change);
    if (kind) byKind[kind].push(resourceChange(logicalId, change, kind));
  });
  const byId = (a: ResourceChange, b: ResourceChange) => a.logicalId.localeCompare(b.logicalId);
  // For an added or removed stack every section changes; listing them says nothing.
  const otherChanges = !base || !head ? [] : [
    ...(['outputs', 'parameters', 'conditions', 'mappings', 'metadata', 'unknown'] as const)
      .flatMap((section) => diff[section].logicalIds.map((id) => `${section}.${id}`)),
    ...(['awsTemplateFormatVersion', 'description', 'transform'] as const).filter((field) => diff[field]?.isDifferent),
  ];
  const status = !base ? 'added' : !head ? 'removed' : diff.isEmpty ? 'unchanged' : 'changed';
  const shown = status === 'unchanged' ? diff : fullDiff(renderIntrinsics(oldTemplate), renderIntrinsics(newTemplate));
  return {
    key: stack.key,
    environment: stack.environment,
    stackName: stack.stackName,
    displayName: stack.displayName,
    status,
    added: byKind.added.sort(byId),
    removed: byKind.removed.sort(byId),
    replaced: [...byKind.replaced, ...byKind['may-replace']].sort(byId),
    modified: byKind.modified.sort(byId),
    iamStatements: tableRows(shown.iamChanges.summarizeStatements()),
    iamManagedPolicies: tableRows(shown.iamChanges.summarizeManagedPolicies()),
    securityGroups: tableRows(shown.securityGroupChanges.summarize()),
    permissionsBroadened: diff.permissionsBroadened,
    otherChanges,
    diff: shown,
  };
}

/** Every stack present in either assembly, and every manifest present in either dist/. */
export function compareTrees(base: SynthOutput, head: SynthOutput): TreeComparison {
  const baseStacks = new Map(readAssemblyStacks(base.cdkOut).map((s) => [s.key, s]));
  const headStacks = new Map(readAssemblyStacks(head.cdkOut).map((s) => [s.key, s]));
  const keys = [...new Set([...baseStacks.keys(), ...headStacks.keys()])];
  const stacks = keys.map((key) => compareStack(baseStacks.get(key), headStacks.get(key)))
    .sort((a, b) => a.environment.localeCompare(b.environment) || a.displayName.localeCompare(b.displayName));

  const baseManifests = readManifests(base.dist);
  const headManifests = readManifests(head.dist);
  const manifests: ManifestComparison[] = [];
  for (const file of [...new Set([...baseManifests.keys(), ...headManifests.keys()])].sort()) {
    const before = baseManifests.get(file);
    const after = headManifests.get(file);
    if (before === after) continue;
    manifests.push({
      file,
      environment: file.includes('/') ? file.slice(0, file.indexOf('/')) : '(app)',
      status: before === undefined ? 'added' : after === undefined ? 'removed' : 'changed',
      unified: unifiedDiff(before, after, `a/${file}`, `b/${file}`),
    });
  }
  return { stacks, manifests };
}
