/**
 * The stateful-replacement guard: which stateful resources (stateful-types.ts) a change would
 * replace or delete, and which of those a reviewed allow-list entry lets through.
 */
import * as fs from 'node:fs';
import { z } from 'zod';
import type { PropertyChange, ResourceChange, TreeComparison } from './compare';
import { isStatefulType } from './stateful-types';

/** Where the reviewed exceptions live, relative to the head tree. */
export const DEFAULT_ALLOW_LIST = 'review/replacements-allowed.json';

export interface StatefulRisk {
  readonly environment: string;
  readonly stackName: string;
  readonly displayName: string;
  readonly logicalId: string;
  readonly type: string;
  /** `may-replace`: a property whose change CloudFormation documents as "conditional replacement". */
  readonly action: 'replace' | 'may-replace' | 'delete';
  readonly replacedBy: readonly PropertyChange[];
  /** The whole stack disappears from the assembly. */
  readonly stackRemoved: boolean;
  readonly path?: string;
  readonly deletionPolicy?: string;
  readonly updateReplacePolicy?: string;
  /** Same-type resources added to the same stack: a removal next to one is usually a logical id change. */
  readonly addedSameType: readonly string[];
}

export function findStatefulRisks(comparison: TreeComparison): StatefulRisk[] {
  const risks: StatefulRisk[] = [];
  for (const stack of comparison.stacks) {
    const risk = (change: ResourceChange, action: StatefulRisk['action']): StatefulRisk => ({
      environment: stack.environment,
      stackName: stack.stackName,
      displayName: stack.displayName,
      logicalId: change.logicalId,
      type: change.type,
      action,
      replacedBy: change.replacedBy,
      stackRemoved: stack.status === 'removed',
      path: change.path,
      deletionPolicy: change.deletionPolicy,
      updateReplacePolicy: change.updateReplacePolicy,
      addedSameType: action === 'delete' ? stack.added.filter((a) => a.type === change.type).map((a) => a.logicalId) : [],
    });
    for (const change of stack.replaced) {
      // A type change (e.g. DynamoDB Table -> GlobalTable) is stateful if either side is.
      const types = change.replacedBy.some((p) => p.name === 'Type') ? change.replacedBy.filter((p) => p.name === 'Type').flatMap((p) => [p.oldValue, p.newValue]) : [change.type];
      if (types.some((t) => isStatefulType(t as string))) risks.push(risk(change, change.kind === 'may-replace' ? 'may-replace' : 'replace'));
    }
    for (const change of stack.removed) if (isStatefulType(change.type)) risks.push(risk(change, 'delete'));
  }
  return risks;
}

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value), 'is not a calendar date');

const allowEntrySchema = z.object({
  /** CloudFormation stack name (platform-production-database) or construct path (production/Database). */
  stack: z.string().trim().min(1, 'must name the stack'),
  logicalId: z.string().trim().min(1, 'must name the logical id'),
  reason: z.string().trim().min(1, 'must give the reviewed reason'),
  /** Last day (UTC) the entry applies; after it the entry lets nothing through. */
  expires: isoDate.optional(),
}).strict();

const allowListSchema = z.array(allowEntrySchema);

export type AllowEntry = z.infer<typeof allowEntrySchema>;

export class AllowListError extends Error {}

/** Reads and validates the allow-list; a missing file is an empty list. */
export function loadAllowList(file: string): AllowEntry[] {
  if (!fs.existsSync(file)) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new AllowListError(`${file}: not valid JSON: ${(error as Error).message}`);
  }
  const parsed = allowListSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const [index, ...field] = issue.path.map(String);
      return `  - ${index === undefined ? '(file)' : `entry ${index}${field.length ? `.${field.join('.')}` : ''}`}: ${issue.message}`;
    });
    throw new AllowListError(`${file}: invalid allow-list (an array of { stack, logicalId, reason, expires? }):\n${problems.join('\n')}`);
  }
  return parsed.data;
}

export interface GuardResult {
  /** Risks no valid entry covers: the guard fails on these. */
  readonly blocked: readonly { risk: StatefulRisk; expired?: AllowEntry }[];
  readonly allowed: readonly { risk: StatefulRisk; entry: AllowEntry; index: number }[];
  /** Entries that matched nothing: stale, remove them. */
  readonly unused: readonly { entry: AllowEntry; index: number }[];
}

const matches = (entry: AllowEntry, risk: StatefulRisk) =>
  (entry.stack === risk.stackName || entry.stack === risk.displayName) && entry.logicalId === risk.logicalId;

/** `today` is YYYY-MM-DD (UTC); an entry is valid through its `expires` day. */
export function applyAllowList(risks: readonly StatefulRisk[], entries: readonly AllowEntry[], today: string): GuardResult {
  const used = new Set<number>();
  const blocked: { risk: StatefulRisk; expired?: AllowEntry }[] = [];
  const allowed: { risk: StatefulRisk; entry: AllowEntry; index: number }[] = [];
  for (const risk of risks) {
    const index = entries.findIndex((entry) => matches(entry, risk) && (!entry.expires || entry.expires >= today));
    if (index >= 0) {
      used.add(index);
      allowed.push({ risk, entry: entries[index], index });
    } else {
      blocked.push({ risk, expired: entries.find((entry) => matches(entry, risk)) });
    }
  }
  const unused = entries.map((entry, index) => ({ entry, index })).filter(({ index }) => !used.has(index));
  return { blocked, allowed, unused };
}

export const todayUtc = (now = new Date()) => now.toISOString().slice(0, 10);

