/** The reachability matrix for people: one row per flow, sources grouped, what stopped a closed one. */
import type { Coverage } from './addresses';
import type { EnvironmentReport } from './check';
import type { Verdict } from './evaluate';
import { portLabel } from './types';

const RESULT: Record<Coverage, string> = { all: 'open', some: 'PARTLY', none: 'closed' };

/** `layer: resource: detail (on pair)`, the one line a reviewer needs to fix a flow. */
export function blockedBy(verdict: Verdict): string {
  const b = verdict.blocked;
  if (!b) return '';
  return `${b.layer}: ${b.resource}: ${b.detail}${b.pair && b.pair !== '-' ? ` [${b.pair}]` : ''}`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.min(60, Math.max(...rows.map((r) => (r[i] ?? '').length))));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}

export function renderReport(report: EnvironmentReport, options: { all?: boolean } = {}): string {
  const out: string[] = [];
  const closed = report.required.filter((r) => r.coverage !== 'all');
  const violations = report.forbidden.filter((f) => f.coverage !== 'none');
  out.push(`== ${report.environment} ==`);
  out.push(`required flows: ${report.required.length - closed.length} open, ${closed.length} not open; `
    + `forbidden flows: ${report.forbidden.length} checked, ${violations.length} open`);
  for (const m of report.missing) out.push(`MISSING  ${m.what} (${m.why}): nothing in the synthesized output is it`);

  const rows: string[][] = [['', 'SOURCE', 'DESTINATION', 'PORT', 'EXPECT', 'RESULT', 'FIRST LAYER THAT BLOCKS / WHY']];
  const required = [...report.required].sort((a, b) => a.from.label.localeCompare(b.from.label) || a.to.label.localeCompare(b.to.label) || a.port.port - b.port.port);
  for (const r of required) {
    if (!options.all && r.coverage === 'all') continue;
    rows.push([r.coverage === 'all' ? '' : '!!', r.from.label, r.to.label, portLabel(r.port), 'open', RESULT[r.coverage], r.coverage === 'all' ? r.why : `${blockedBy(r)} (needed: ${r.why})`]);
  }
  for (const f of report.forbidden) {
    if (!options.all && f.coverage === 'none') continue;
    rows.push([f.coverage === 'none' ? '' : '!!', f.from.label, f.to.label, portLabel(f.port), 'closed', f.coverage === 'none' ? 'closed' : `OPEN${f.coverage === 'some' ? ' (partly)' : ''}`,
      f.coverage === 'none' ? blockedBy(f) : `forbidden: ${f.rule}${f.via ? ` (via ${f.via})` : ''}`]);
  }
  if (rows.length > 1) out.push(...table(rows).map((l) => `  ${l}`));
  else out.push('  every required flow is open and every forbidden one closed (--all lists them)');
  if (!options.all) {
    const openRequired = report.required.filter((r) => r.coverage === 'all');
    out.push(`  open as required: ${openRequired.length} flows (--all lists each with its reason, and every forbidden flow with the layer that closes it)`);
  }
  return `${out.join('\n')}\n`;
}
