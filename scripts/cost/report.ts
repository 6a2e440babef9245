/** Renders a cost report (and its delta against a base) as plain text, Markdown or JSON. */
import type { CostDelta, CostReport, StackCost } from './assembly';
import type { LineItem } from './estimate';

export function money(x: number): string {
  const sign = x < 0 ? '-' : '';
  return `${sign}$${Math.abs(x).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

export function signed(x: number): string {
  return x > 0 ? `+${money(x)}` : x < 0 ? money(x) : '$0.00';
}

const unknownSuffix = (n: number) => (n > 0 ? ` + ${n} unknown` : '');
const optMoney = (x: number | null) => (x === null ? '-' : money(x));

function itemCost(item: LineItem): string {
  return item.monthly === null ? 'unknown' : money(item.monthly);
}

function itemRate(item: LineItem): string {
  const q = item.quantity === null ? '?' : String(item.quantity);
  const p = item.unitPrice === null ? '?' : `$${item.unitPrice}`;
  return `${q} ${item.unit} x ${p}`;
}

function grouped<T extends { type: string }>(entries: readonly T[]): { type: string; count: number; entries: T[] }[] {
  const map = new Map<string, T[]>();
  for (const e of entries) map.set(e.type, [...map.get(e.type) ?? [], e]);
  return [...map].map(([type, list]) => ({ type, count: list.length, entries: list }));
}

function header(report: CostReport): string {
  return `Monthly on-demand estimate, ${report.currency}, ${report.hoursPerMonth} h/month; prices of ${report.prices.date} `
    + `(${report.prices.regions.join(', ')}), to be refreshed before quoting (docs/cost.md)`;
}

export function formatText(report: CostReport, delta?: CostDelta): string {
  const lines: string[] = [header(report), ''];
  for (const env of report.environments) {
    lines.push(`${env.name}: ${money(env.monthly)}/month${unknownSuffix(env.unknown)}`);
    for (const stack of env.stacks) {
      lines.push(`  ${stack.stack} (${stack.region ?? 'unknown region'}): ${money(stack.monthly)}${unknownSuffix(stack.unknown)}`);
      const width = Math.max(0, ...stack.items.map((i) => i.description.length));
      for (const item of stack.items) {
        lines.push(`    ${item.description.padEnd(width)}  ${itemRate(item).padEnd(34)} ${itemCost(item).padStart(12)}  ${item.logicalId}`
          + (item.note ? `  (${item.note})` : ''));
      }
      for (const g of grouped(stack.usageOnly)) lines.push(`    usage only, not estimated: ${g.count} x ${g.type}: ${g.entries[0].note}`);
      for (const g of grouped(stack.unknownTypes)) {
        lines.push(`    UNKNOWN TYPE, not estimated: ${g.count} x ${g.type}: ${g.entries.map((e) => e.logicalId).join(', ')}`);
      }
    }
    lines.push('');
  }
  lines.push(`total: ${money(report.total)}/month${unknownSuffix(report.unknown)}`);
  if (delta) {
    lines.push('', `change against ${delta.base}: ${signed(delta.total.delta)}/month (${optMoney(delta.total.base)} -> ${optMoney(delta.total.head)})`);
    for (const env of delta.environments) {
      lines.push(`  ${env.name}: ${signed(env.delta)} (${optMoney(env.base)} -> ${optMoney(env.head)})`);
      for (const s of env.stacks.filter((x) => x.delta !== 0 || x.base === null || x.head === null)) {
        lines.push(`    ${s.stack}: ${signed(s.delta)} (${optMoney(s.base)} -> ${optMoney(s.head)})`);
      }
    }
  }
  lines.push('', 'not estimated:', ...report.notEstimated.map((n) => `  - ${n}`));
  return `${lines.join('\n')}\n`;
}

function stackDetails(stack: StackCost): string[] {
  const lines = [
    `<details><summary>${stack.stack} (${stack.region ?? 'unknown region'}): ${money(stack.monthly)}${unknownSuffix(stack.unknown)}</summary>`,
    '',
    '| resource | line item | rate | monthly |',
    '|---|---|---|---:|',
    ...stack.items.map((i) => `| \`${i.logicalId}\` | ${i.description}${i.note ? ` _(${i.note})_` : ''} | ${itemRate(i)} | ${itemCost(i)} |`),
  ];
  if (stack.usageOnly.length > 0) {
    lines.push('', 'Usage only, not estimated: ' + grouped(stack.usageOnly).map((g) => `${g.count} x \`${g.type}\` (${g.entries[0].note})`).join('; '));
  }
  lines.push('', '</details>');
  return lines;
}

export function formatMarkdown(report: CostReport, delta?: CostDelta): string {
  const lines: string[] = ['## Cost estimate', '', `_${header(report)}._`, ''];
  if (delta) {
    lines.push(`**Change against \`${delta.base}\`: ${signed(delta.total.delta)}/month** (${optMoney(delta.total.base)} -> ${optMoney(delta.total.head)})`, '',
      '| environment | stack | base | head | change |', '|---|---|---:|---:|---:|');
    for (const env of delta.environments) {
      lines.push(`| **${env.name}** | | ${optMoney(env.base)} | ${optMoney(env.head)} | **${signed(env.delta)}** |`);
      for (const s of env.stacks) lines.push(`| | ${s.stack} | ${optMoney(s.base)} | ${optMoney(s.head)} | ${signed(s.delta)} |`);
    }
    lines.push('');
  }
  lines.push('| environment | stack | region | monthly |', '|---|---|---|---:|');
  for (const env of report.environments) {
    lines.push(`| **${env.name}** | | | **${money(env.monthly)}${unknownSuffix(env.unknown)}** |`);
    for (const s of env.stacks) lines.push(`| | ${s.stack} | ${s.region ?? 'unknown'} | ${money(s.monthly)}${unknownSuffix(s.unknown)} |`);
  }
  lines.push(`| **total** | | | **${money(report.total)}${unknownSuffix(report.unknown)}** |`, '');
  const unknownTypes = report.environments.flatMap((e) => e.stacks.flatMap((s) => s.unknownTypes.map((u) => ({ ...u, stack: s.stack }))));
  if (unknownTypes.length > 0) {
    lines.push('**Resource types the estimator does not know (not estimated):**', '');
    for (const g of grouped(unknownTypes)) lines.push(`- \`${g.type}\`: ${g.entries.map((u) => `${u.stack}/${u.logicalId}`).join(', ')}`);
    lines.push('');
  }
  for (const env of report.environments) {
    lines.push(`### ${env.name}`, '');
    for (const s of env.stacks) lines.push(...stackDetails(s), '');
  }
  lines.push('Not estimated:', '', ...report.notEstimated.map((n) => `- ${n}`), '');
  return lines.join('\n');
}

export function formatJson(report: CostReport, delta?: CostDelta): string {
  return `${JSON.stringify(delta ? { ...report, delta } : report, null, 2)}\n`;
}
