// Every runbook link an alarm or an alert carries points at a heading (or explicit anchor) that
// exists in docs/runbooks/, and every runbook section belongs to an alarm or alert.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { awsAlarmGroups } from '../../lib/observability/aws-alarms';
import { alarmIndex } from '../../lib/observability/platform-monitoring';
import { prometheusRules } from '../../lib/observability/prometheus-rules';
import { RUNBOOK_AREAS, runbookFile, runbookLink } from '../../lib/observability/runbooks';
import { ENVIRONMENT_NAMES, loadPlatformSpec } from '../../lib/spec';

const root = join(__dirname, '..', '..');
const spec = loadPlatformSpec();

/** GitHub's heading anchors (lower case, spaces to '-', punctuation dropped) and explicit `<a id>`s. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const line of markdown.split('\n')) {
    const heading = /^#{1,6} (.+)$/.exec(line);
    if (heading) anchors.add(heading[1]!.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-'));
    for (const a of line.matchAll(/<a id="([^"]+)"><\/a>/g)) anchors.add(a[1]!);
  }
  return anchors;
}

const anchors = Object.fromEntries(RUNBOOK_AREAS.map((area) => [area, anchorsOf(readFileSync(join(root, runbookFile(area)), 'utf8'))]));

/** Every link the stacks and the rules render, for both environments. */
function links(): string[] {
  const all = new Set<string>();
  for (const name of ENVIRONMENT_NAMES) {
    const env = spec.environments[name];
    const groups = awsAlarmGroups(spec, env, {
      loadBalancerFullName: 'lb', apiGatewayTargetGroupFullName: 'tg', distributionId: 'd',
      natGatewayIds: Array.from({ length: env.network.natGateways }, (_, i) => `nat-${i}`),
      vaultLoadBalancerFullName: 'vlb', vaultTargetGroupFullName: 'vtg', nodeGroupAutoScalingGroupName: 'asg',
    });
    for (const alarm of alarmIndex(groups)) all.add(runbookLink(alarm.area, alarm.id));
    // The composites: one per area with more than one critical alarm.
    for (const group of groups) if (group.alarms.filter((a) => a.severity === 'critical').length > 1) all.add(runbookLink(group.area, `${group.area}-critical`));
  }
  for (const group of prometheusRules(spec).alerting.groups) for (const rule of group.rules) all.add(rule.annotations.runbook);
  return [...all];
}

it('every linked runbook anchor exists', () => {
  const missing = links().filter((link) => {
    const [file, anchor] = link.split('#') as [string, string];
    const area = RUNBOOK_AREAS.find((a) => runbookFile(a) === file);
    return !area || !anchors[area]!.has(anchor);
  });
  expect(missing).toEqual([]);
  expect(links().length).toBeGreaterThan(60);
});

it('every runbook section belongs to an alarm or an alert', () => {
  const linked = new Set(links());
  const stray = RUNBOOK_AREAS.flatMap((area) => [...anchors[area]!]
    .filter((a) => !a.startsWith('runbook-')) // the page title
    .filter((a) => !linked.has(runbookLink(area, a))).map((a) => `${area}#${a}`));
  expect(stray).toEqual([]);
});
