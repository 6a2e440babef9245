/**
 * Where every alarm's runbook lives: docs/runbooks/<area>.md, one heading per alarm whose
 * GitHub-style anchor is the alarm's id. test/observability/runbooks.test.ts checks that every
 * linked anchor exists.
 */
export const RUNBOOK_AREAS = [
  'database', 'backup', 'cache', 'kafka', 'edge', 'vault', 'analytics', 'network', 'cluster', 'services',
] as const;
export type RunbookArea = (typeof RUNBOOK_AREAS)[number];

/** The runbook file of an area, relative to the repository root. */
export function runbookFile(area: RunbookArea): string {
  return `docs/runbooks/${area}.md`;
}

/** The link an alarm's description and an alert's annotations carry. */
export function runbookLink(area: RunbookArea, id: string): string {
  return `${runbookFile(area)}#${id}`;
}
