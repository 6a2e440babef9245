/**
 * Renders a TreeComparison for people: plain text for the terminal, Markdown for a pull-request
 * comment, and the guard's verdict. Pure functions of their input (deterministic output).
 */
import { Writable } from 'node:stream';
import { formatDifferences, formatTable } from '@aws-cdk/cloudformation-diff';
import type { PropertyChange, ResourceChange, StackComparison, TreeComparison } from './compare';
import { selfReferences, stripAnsi } from './compare';
import type { GuardResult, StatefulRisk } from './guard';
import type { ReachabilityChange, ReachabilityDiff } from './reachability';
import { renderIntrinsics } from './intrinsics';
import { isStatefulType } from './stateful-types';

export interface Labels {
  /** e.g. `HEAD~1 (9f1e207)`. */
  readonly base: string;
  /** e.g. `working tree`. */
  readonly head: string;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A value shown inline: compact JSON with intrinsics as what they point to, cut at 80 characters. */
export function shortValue(value: unknown): string {
  const text = value === undefined ? '(none)' : JSON.stringify(renderIntrinsics(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

const forcedBy = (props: readonly PropertyChange[]) =>
  props.map((p) => `${p.name} (${shortValue(p.oldValue)} -> ${shortValue(p.newValue)})`).join(', ');

function counts(stack: StackComparison): string {
  return `${stack.added.length} added, ${stack.removed.length} removed, ${stack.replaced.length} replaced, ${stack.modified.length} modified`;
}

function resourceLine(change: ResourceChange): string {
  const stateful = isStatefulType(change.type) ? ' [STATEFUL]' : '';
  const where = change.path ? ` (${change.path})` : '';
  switch (change.kind) {
    case 'added': return `[+] ${change.type} ${change.logicalId}${where}`;
    case 'removed': return `[-] ${change.type} ${change.logicalId}${where}${stateful}${change.deletionPolicy === 'Retain' ? ' (DeletionPolicy Retain: orphaned, not deleted)' : ''}`;
    case 'replaced': return `[!] ${change.type} ${change.logicalId}${where}${stateful} REPLACED, forced by ${forcedBy(change.replacedBy)}`;
    case 'may-replace': return `[?] ${change.type} ${change.logicalId}${where}${stateful} MAY BE REPLACED, by ${forcedBy(change.replacedBy)}`;
    case 'modified': return `[~] ${change.type} ${change.logicalId}${where}: ${change.changed.join(', ')}`;
  }
}

/** cloudformation-diff's own `cdk diff`-style rendering of one stack, without colours. */
export function fullTemplateDiff(stack: StackComparison): string {
  const chunks: string[] = [];
  const sink = new Writable({ write(chunk, _encoding, done) { chunks.push(String(chunk)); done(); } });
  formatDifferences(sink, stack.diff);
  return selfReferences(stripAnsi(chunks.join(''))).trimEnd();
}

const environmentsOf = (comparison: TreeComparison) =>
  [...new Set([...comparison.stacks.map((s) => s.environment), ...comparison.manifests.map((m) => m.environment)])].sort();

const indent = (text: string, prefix: string) => text.split('\n').map((line) => (line ? prefix + line : line)).join('\n');

function totals(comparison: TreeComparison): string {
  const changed = comparison.stacks.filter((s) => s.status !== 'unchanged');
  const sum = (pick: (s: StackComparison) => readonly unknown[]) => comparison.stacks.reduce((n, s) => n + pick(s).length, 0);
  return `${plural(changed.length, 'stack')} changed of ${comparison.stacks.length}: ${sum((s) => s.added)} added, ${sum((s) => s.removed)} removed, `
    + `${sum((s) => s.replaced)} replaced, ${sum((s) => s.modified)} modified resources; ${plural(comparison.manifests.length, 'manifest')} changed`;
}

const forbiddenOpening = (c: ReachabilityChange) => Boolean(c.forbidden) && (c.change === 'opened' || c.change === 'widened');
const requiredClosing = (c: ReachabilityChange) => Boolean(c.required) && (c.change === 'closed' || c.change === 'narrowed');

/** One line per change: what, where, why it matters. */
function changeLine(c: ReachabilityChange): string {
  const tag = forbiddenOpening(c) ? '[FORBIDDEN]' : requiredClosing(c) ? '[REQUIRED] ' : '           ';
  const what = `${c.change.toUpperCase()} ${c.from} -> ${c.to} ${c.port}${c.change === 'widened' || c.change === 'narrowed' ? ` (${c.before} -> ${c.after})` : ''}`;
  const why = forbiddenOpening(c) ? `breaks: ${c.forbidden}` : c.required ? `needed: ${c.required}` : '';
  return [tag.trim(), what, why && `- ${why}`, c.detail && `(${c.detail})`].filter(Boolean).join(' ');
}

function reachabilitySummary(diff: ReachabilityDiff): string {
  const forbidden = diff.changes.filter(forbiddenOpening).length;
  const required = diff.changes.filter(requiredClosing).length;
  return `${plural(forbidden, 'forbidden opening')}, ${plural(required, 'required flow')} closed, ${plural(diff.changes.length - forbidden - required, 'other change')}`;
}

export function renderReachabilityText(diff: ReachabilityDiff): string[] {
  const out = ['', `== reachability: flows this change opens or closes (zone rules and required flows from lib/spec) ==`, `  ${reachabilitySummary(diff)}`];
  for (const environment of diff.environments) {
    const changes = diff.changes.filter((c) => c.environment === environment);
    if (!changes.length) continue;
    out.push(`  ${environment}:`, ...changes.map((c) => `    ${changeLine(c)}`));
  }
  for (const s of diff.skipped) out.push(`  ${s.environment}: not compared (${s.reason})`);
  if (!diff.changes.length) out.push('  no flow opened or closed');
  return out;
}

/** Text output lines stay below this, terminal or not (CI logs, files, pull-request comments). */
export const MAX_LINE = 199;
/** A single line longer than this (a whole user-data script in `--full`) is cut, not wrapped. */
const MAX_WRAPPED = 2000;

/**
 * Wraps a line over `width` at spaces (at `width` where there is none), continuing with its own
 * indentation, diff marker (` `, `+`, `-`, `|`) kept, plus four spaces. Only a line longer than
 * MAX_WRAPPED loses its tail, and says how much.
 */
export function fitLine(line: string, width = MAX_LINE): string[] {
  if (line.length <= width) return [line];
  let rest = line;
  if (rest.length > MAX_WRAPPED) rest = `${rest.slice(0, MAX_WRAPPED)}… (${rest.length - MAX_WRAPPED} more characters)`;
  const lead = /^\s*(?:[-+|] ?(?=\s))?\s*/.exec(rest)![0];
  const continuation = lead.length + 4 > width / 2 ? '    ' : `${lead}    `;
  const out: string[] = [];
  let prefix = '';
  while (prefix.length + rest.length > width) {
    const room = width - prefix.length;
    let cut = rest.lastIndexOf(' ', room);
    if (cut <= (prefix ? 0 : lead.length)) cut = room;
    out.push(prefix + rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).replace(/^ +/, '');
    prefix = continuation;
  }
  out.push(prefix + rest);
  return out;
}

const TABLE_INDENT = '      ';

/** Breaks one cell line at `width`, after a `/`, `:`, `,`, `.` or space where there is one. */
function wrapCell(line: string, width: number): string[] {
  const out: string[] = [];
  let rest = line;
  while (rest.length > width) {
    const window = rest.slice(0, width);
    const at = Math.max(...['/', ':', ',', '.', ' '].map((c) => window.lastIndexOf(c)));
    const cut = at >= width / 2 ? at + 1 : width;
    out.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).replace(/^ +/, '');
  }
  out.push(rest);
  return out;
}

/**
 * cloudformation-diff's box table, at most `width` wide: columns that fit keep their width, the
 * rest share what is left (max-min fair, so the long ARN column gets the most) and their cells
 * wrap at path separators. formatTable's own sizing gives every wide column the same share.
 */
export function boxTable(rows: readonly (readonly string[])[], width: number): string {
  const cells = rows.map((row) => row.map((c) => stripAnsi(c)));
  const natural = cells[0].map((_, i) => Math.max(1, ...cells.map((row) => Math.max(...(row[i] ?? '').split('\n').map((l) => l.length)))));
  let available = Math.max(width - 1 - 3 * natural.length, natural.length * 8);
  const widths = [...natural];
  const open = natural.map((_, i) => i).sort((a, b) => natural[a] - natural[b]);
  while (open.length) {
    const share = Math.floor(available / open.length);
    if (natural[open[0]] <= share) {
      const i = open.shift()!;
      available -= natural[i];
      continue;
    }
    for (const i of open) widths[i] = Math.max(share, 8);
    break;
  }
  const wrapped = cells.map((row) => row.map((c, i) => (c.split('\n').some((l) => l.length > widths[i])
    ? c.split('\n').flatMap((l) => wrapCell(l, widths[i])).join('\n') : c)));
  return stripAnsi(formatTable(wrapped, undefined)).trimEnd();
}

export function renderText(comparison: TreeComparison, labels: Labels, options: { full?: boolean; columns?: number } = {}): string {
  const out: string[] = [`Platform diff: ${labels.base} -> ${labels.head}`, totals(comparison)];
  if (comparison.reachability) out.push(...renderReachabilityText(comparison.reachability));
  for (const environment of environmentsOf(comparison)) {
    out.push('', `== ${environment} ==`);
    const stacks = comparison.stacks.filter((s) => s.environment === environment);
    for (const stack of stacks.filter((s) => s.status !== 'unchanged')) {
      const status = stack.status === 'changed' ? '' : ` [stack ${stack.status.toUpperCase()}]`;
      out.push(`  ${stack.stackName} (${stack.displayName})${status}: ${counts(stack)}`);
      for (const change of [...stack.replaced, ...stack.removed, ...stack.added, ...stack.modified]) out.push(`    ${resourceLine(change)}`);
      if (stack.otherChanges.length) out.push(`    other template changes: ${stack.otherChanges.join(', ')}`);
      const table = (title: string, rows: readonly string[][]) => {
        if (!rows.length) return;
        // Sized to the terminal, and never wider than MAX_LINE: cells wrap inside their column.
        const width = Math.min(options.columns || MAX_LINE, MAX_LINE) - TABLE_INDENT.length;
        out.push(`    ${title}:`, indent(boxTable(rows, width), TABLE_INDENT));
      };
      table(`IAM statement changes${stack.permissionsBroadened ? ' (permissions broadened)' : ''}`, stack.iamStatements);
      table('IAM managed policy changes', stack.iamManagedPolicies);
      table('Security group changes', stack.securityGroups);
      if (options.full) out.push(indent(fullTemplateDiff(stack), '    | '));
    }
    const unchanged = stacks.filter((s) => s.status === 'unchanged');
    if (unchanged.length) out.push(`  unchanged: ${unchanged.map((s) => s.stackName).join(', ')}`);
    for (const manifest of comparison.manifests.filter((m) => m.environment === environment)) {
      out.push(`  manifest ${manifest.file} (${manifest.status}):`, indent(manifest.unified.trimEnd(), '    '));
    }
  }
  return `${out.join('\n').split('\n').flatMap((line) => fitLine(line)).join('\n')}\n`;
}

// `<stack>.Output` and `<LogicalId>` must not read as HTML tags; inside a code span they already do not.
const escapeTags = (text: string) => text.split(/(`[^`]*`)/).map((part, i) => (i % 2 ? part : part.replace(/</g, '&lt;').replace(/>/g, '&gt;'))).join('');
const cell = (text: string) => escapeTags(stripAnsi(text)).replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>') || ' ';
const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;

function markdownTable(rows: readonly (readonly string[])[]): string {
  const [header, ...body] = rows;
  const lines = [
    `| ${header.map(cell).join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...body.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ];
  if (lines.every((line) => line.length <= MAX_LINE)) return lines.join('\n');
  // A Markdown row cannot wrap: too wide a table is shown as the terminal's, in a code block.
  const plain = rows.map((row) => row.map((text) => stripAnsi(text).replace(/`|\*\*/g, '')));
  return fence(boxTable(plain, MAX_LINE));
}

/** Markdown lines over MAX_LINE wrapped (a paragraph or code line continues on the next). */
const fitMarkdown = (text: string) => text.split('\n').flatMap((line) => (line.startsWith('|') ? [line] : fitLine(line))).join('\n');

function fence(text: string, language = ''): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}${language}\n${text.trimEnd()}\n${ticks}`;
}

function markdownStack(stack: StackComparison, full: boolean): string {
  const out: string[] = [];
  const flags = [
    stack.status !== 'changed' ? `stack ${stack.status}` : '',
    stack.replaced.length ? `${stack.replaced.length} replaced` : '',
    stack.removed.length ? `${stack.removed.length} removed` : '',
    stack.added.length ? `${stack.added.length} added` : '',
    stack.modified.length ? `${stack.modified.length} modified` : '',
    stack.iamStatements.length || stack.iamManagedPolicies.length ? (stack.permissionsBroadened ? 'IAM broadened' : 'IAM') : '',
    stack.securityGroups.length ? 'security groups' : '',
  ].filter(Boolean).join(', ');
  const warn = stack.replaced.length || stack.removed.some((r) => isStatefulType(r.type)) ? ':warning: ' : '';
  out.push(`<details><summary>${warn}<b>${stack.stackName}</b> (${stack.displayName}): ${flags}</summary>`, '');
  const list = (title: string, changes: readonly ResourceChange[], detail: (c: ResourceChange) => string) => {
    if (!changes.length) return;
    out.push(`**${title}** (${changes.length})`, '', markdownTable([
      ['Logical id', 'Type', 'Construct path', 'Detail'],
      ...changes.map((c) => [code(c.logicalId), code(c.type) + (isStatefulType(c.type) ? ' **stateful**' : ''), c.path ? code(c.path) : '', detail(c)]),
    ]), '');
  };
  list('Replaced', stack.replaced, (c) => `${c.kind === 'may-replace' ? 'may be replaced' : 'replaced'}, forced by ${c.replacedBy.map((p) => `${code(p.name)}: ${code(shortValue(p.oldValue))} → ${code(shortValue(p.newValue))}`).join(', ')}`);
  list('Removed', stack.removed, (c) => (c.deletionPolicy === 'Retain' ? 'DeletionPolicy Retain: orphaned' : 'deleted'));
  list('Added', stack.added, () => '');
  list('Modified', stack.modified, (c) => c.changed.map(code).join(', '));
  if (stack.otherChanges.length) out.push(`**Other template changes:** ${stack.otherChanges.map(code).join(', ')}`, '');
  if (stack.iamStatements.length) out.push(`**IAM statement changes**${stack.permissionsBroadened ? ' (permissions broadened)' : ''}`, '', markdownTable(stack.iamStatements), '');
  if (stack.iamManagedPolicies.length) out.push('**IAM managed policy changes**', '', markdownTable(stack.iamManagedPolicies), '');
  if (stack.securityGroups.length) out.push('**Security group changes**', '', markdownTable(stack.securityGroups), '');
  if (full) out.push('<details><summary>Full template diff</summary>', '', fence(fullTemplateDiff(stack)), '', '</details>', '');
  out.push('</details>', '');
  return out.join('\n');
}

/** The reachability section: a CAUTION alert for forbidden openings, then a table of every change. */
export function reachabilityMarkdown(diff: ReachabilityDiff, maxRows = 100): string[] {
  const out: string[] = [];
  const forbidden = diff.changes.filter(forbiddenOpening);
  const required = diff.changes.filter(requiredClosing);
  if (forbidden.length) {
    out.push('> [!CAUTION]', `> **This change opens ${plural(forbidden.length, 'forbidden path')}** (the zone table of lib/spec):`);
    for (const c of forbidden.slice(0, 10)) out.push(`> - \`${c.environment}\`: ${cell(c.from)} → ${cell(c.to)} \`${c.port}\`: ${c.forbidden}`);
    if (forbidden.length > 10) out.push(`> - and ${forbidden.length - 10} more below`);
    out.push('');
  }
  if (required.length) {
    out.push('> [!WARNING]', `> **This change closes ${plural(required.length, 'required flow')}:**`);
    for (const c of required.slice(0, 10)) out.push(`> - \`${c.environment}\`: ${cell(c.from)} → ${cell(c.to)} \`${c.port}\` (${c.required})`);
    if (required.length > 10) out.push(`> - and ${required.length - 10} more below`);
    out.push('');
  }
  out.push(`### Reachability`, '', `${reachabilitySummary(diff)} (${diff.environments.join(', ') || 'no environment'} compared).`, '');
  if (diff.changes.length) {
    const rows = diff.changes.slice(0, maxRows).map((c) => [
      forbiddenOpening(c) ? ':no_entry: **forbidden**' : requiredClosing(c) ? ':warning: **required**' : '',
      c.environment, c.change, c.from, c.to, code(c.port),
      forbiddenOpening(c) ? c.forbidden! : c.required ? `needed: ${c.required}` : '',
      c.detail ?? '',
    ]);
    const table = markdownTable([['', 'Environment', 'Change', 'Source', 'Destination', 'Port', 'Rule / reason', 'Where']].concat(rows));
    // The flagged rows are in the alerts above; the full list folds away when it is long.
    if (diff.changes.length > 10) out.push(`<details><summary>All ${plural(diff.changes.length, 'change')}</summary>`, '', table, '', '</details>', '');
    else out.push(table, '');
    if (diff.changes.length > maxRows) out.push(`_${diff.changes.length - maxRows} more changes: run \`npm run diff\` for all._`, '');
  }
  for (const s of diff.skipped) out.push(`_${s.environment}: not compared (${s.reason})._`, '');
  return out;
}

/** GitHub rejects comments over 65536 characters; leave room for what CI adds around it. */
export const MARKDOWN_BUDGET = 60000;

/**
 * The Markdown for a pull-request comment. Over `budget` characters, the full template diffs go
 * first; if still over, whole sections are left out from the end, and a note names them.
 */
export function renderMarkdown(comparison: TreeComparison, labels: Labels, budget = MARKDOWN_BUDGET): string {
  const changed = comparison.stacks.filter((s) => s.status !== 'unchanged');
  const head: string[] = [`## Platform diff: ${labels.base} → ${labels.head}`, ''];
  // Reachability first, never cut: a forbidden opening must be the first thing a reviewer reads.
  if (comparison.reachability) head.push(...reachabilityMarkdown(comparison.reachability));
  head.push(totals(comparison), '');
  if (changed.length) {
    head.push(markdownTable([
      ['Environment', 'Stack', 'Added', 'Removed', 'Replaced', 'Modified', 'IAM', 'Security groups'],
      ...changed.map((s) => [s.environment, code(s.stackName) + (s.status !== 'changed' ? ` (${s.status})` : ''),
        String(s.added.length), String(s.removed.length), s.replaced.length ? `**${s.replaced.length}**` : '0', String(s.modified.length),
        s.iamStatements.length || s.iamManagedPolicies.length ? (s.permissionsBroadened ? 'broadened' : 'changed') : '',
        s.securityGroups.length ? 'changed' : '']),
    ]), '');
  }
  /** Self-contained chunks (balanced <details>), each named for the omission note. */
  const sections = (full: boolean) => {
    const out: { name: string; text: string; heading?: boolean }[] = [];
    for (const environment of environmentsOf(comparison)) {
      const stacks = comparison.stacks.filter((s) => s.environment === environment);
      const unchanged = stacks.filter((s) => s.status === 'unchanged');
      out.push({ name: environment, heading: true, text: [`### ${environment}`, '', ...(unchanged.length ? [`Unchanged: ${unchanged.map((s) => code(s.stackName)).join(', ')}`, ''] : [])].join('\n') });
      for (const stack of stacks.filter((s) => s.status !== 'unchanged')) out.push({ name: stack.stackName, text: markdownStack(stack, full) });
      for (const manifest of comparison.manifests.filter((m) => m.environment === environment)) {
        out.push({
          name: manifest.file,
          text: [`<details open><summary>Manifest <code>${manifest.file}</code> (${manifest.status})</summary>`, '', fence(manifest.unified, 'diff'), '', '</details>', ''].join('\n'),
        });
      }
    }
    return out;
  };
  const join = (parts: string[]) => `${fitMarkdown(parts.join('\n')).trimEnd()}\n`;
  const withFull = join([...head, ...sections(true).map((s) => s.text)]);
  if (withFull.length <= budget) return withFull;
  const note = ['', '_Full template diffs left out to fit a comment; run `npm run diff -- --base <ref> --full` for them._'];
  const parts = [...head];
  const rest = sections(false);
  const total = (extra: string[]) => join([...parts, ...extra, ...note]).length;
  let i = 0;
  // Reserve room for the omission note itself.
  while (i < rest.length && total([rest[i].text]) + 2000 <= budget) parts.push(rest[i++].text);
  if (i > 0 && i < rest.length && rest[i - 1].heading) { parts.pop(); i--; }
  if (i < rest.length) {
    const omitted = rest.slice(i).filter((s) => !s.heading).map((s) => code(s.name));
    const list = omitted.length > 30 ? `${omitted.slice(0, 30).join(', ')} and ${omitted.length - 30} more` : omitted.join(', ');
    note.push('', `_Left out to fit a comment: ${list}. Run \`npm run diff\` locally (or see the CI artifact) for everything._`);
  }
  return join([...parts, ...note]);
}

/** What CloudFormation does with the old resource on replacement, by UpdateReplacePolicy. */
const REPLACE_POLICY: Record<string, string> = {
  Delete: ' (UpdateReplacePolicy Delete: the old one and its data are deleted)',
  Snapshot: ' (UpdateReplacePolicy Snapshot: the old one is snapshotted and deleted; the new one starts empty)',
  Retain: ' (UpdateReplacePolicy Retain: the old one is kept outside the stack; the new one starts empty)',
};

function riskLine(risk: StatefulRisk): string {
  const what = risk.action === 'delete'
    ? `would be DELETED${risk.stackRemoved ? ' (its stack is removed)' : ''}${risk.deletionPolicy === 'Retain' ? ' from the stack (DeletionPolicy Retain: orphaned, a redeploy creates a new, empty one)' : ''}`
      + (risk.addedSameType.length ? `; same-type resource added: ${risk.addedSameType.join(', ')} (logical id changed? that replaces it)` : '')
    : `would ${risk.action === 'replace' ? 'be REPLACED' : 'possibly be REPLACED (conditional)'}; replacement forced by ${forcedBy(risk.replacedBy)}`
      + (REPLACE_POLICY[risk.updateReplacePolicy ?? 'Delete'] ?? '');
  return `${risk.stackName} (${risk.displayName}) ${risk.logicalId} [${risk.type}]${risk.path ? ` at ${risk.path}` : ''}: ${what}`;
}

export function renderGuard(result: GuardResult, labels: Labels, allowListFile: string): string {
  const out: string[] = [`Stateful-replacement guard: ${labels.base} -> ${labels.head}`];
  for (const { risk, expired } of result.blocked) {
    out.push(`FAIL    ${riskLine(risk)}${expired ? ` (allow-list entry expired on ${expired.expires})` : ''}`);
  }
  for (const { risk, entry, index } of result.allowed) {
    out.push(`ALLOWED ${riskLine(risk)}`, `        by ${allowListFile} entry ${index} (stack ${entry.stack}, logicalId ${entry.logicalId}${entry.expires ? `, expires ${entry.expires}` : ''}): ${entry.reason}`);
  }
  for (const { entry, index } of result.unused) {
    out.push(`note: ${allowListFile} entry ${index} (stack ${entry.stack}, logicalId ${entry.logicalId}) matched nothing; remove it once its change has shipped`);
  }
  if (result.blocked.length) {
    out.push(`${plural(result.blocked.length, 'stateful resource')} would be replaced or deleted. If that is intended and reviewed, add `
      + `{ "stack", "logicalId", "reason", "expires" } for each to ${allowListFile} (docs/review.md).`);
  } else {
    out.push(`OK: no stateful resource would be replaced or deleted${result.allowed.length ? ` beyond the ${plural(result.allowed.length, 'allowed change')}` : ''}.`);
  }
  return `${out.join('\n')}\n`;
}
