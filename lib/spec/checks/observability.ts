/** The observability section's rules that span it and the rest of the spec: one entry per environment, thresholds in order. */
import { parseDurationSeconds } from '../parse';
import type { PlatformSpecFields as PlatformSpec } from '../schema';
import type { Report } from './report';

export function checkObservability(spec: PlatformSpec, issue: Report) {
  const o = spec.observability;
  const environmentNames = Object.keys(spec.environments);
  const at = (...rest: (string | number)[]) => ['observability', ...rest];
  for (const name of environmentNames) {
    if (!o.notifications[name]) issue(at('notifications'), Object.keys(o.notifications), `has no entry for environment ${name}`);
  }
  for (const [name, n] of Object.entries(o.notifications)) {
    if (!environmentNames.includes(name)) {
      issue(at('notifications', name), name, 'is not an environment of the spec');
      continue;
    }
    const pagers = (['critical', 'warning'] as const).flatMap((sev) => n[sev].map((s, i) => ({ sev, i, s })).filter((x) => x.s.kind === 'pager'));
    if (n.paging && !n.critical.some((s) => s.kind === 'pager')) {
      issue(at('notifications', name, 'critical'), n.critical, 'must include a pager subscription: this environment pages (paging: true)');
    }
    if (!n.paging) {
      for (const p of pagers) issue(at('notifications', name, p.sev, p.i, 'kind'), 'pager', 'a pager in an environment that only notifies (paging: false)');
    } else {
      for (const p of pagers.filter((x) => x.sev === 'warning')) {
        issue(at('notifications', name, 'warning', p.i, 'kind'), 'pager', 'warnings notify, they never page');
      }
    }
    for (const sev of ['critical', 'warning'] as const) {
      const seen = new Set<string>();
      n[sev].forEach((s, i) => {
        if (seen.has(s.endpoint)) issue(at('notifications', name, sev, i, 'endpoint'), s.endpoint, 'duplicate subscription');
        seen.add(s.endpoint);
      });
    }
  }
  const rpoIso = spec.disasterRecovery.database?.rpo;
  const rpo = rpoIso === undefined ? undefined : parseDurationSeconds(rpoIso);
  if (rpo !== undefined) {
    if (o.database.replicaLagWarningSeconds >= rpo) {
      issue(at('database', 'replicaLagWarningSeconds'), o.database.replicaLagWarningSeconds, `must be < the database RPO (${rpo} s), which is the critical threshold`);
    }
  }
  if (o.sustainedMinutes * 60 < o.alarmPeriodSeconds) {
    issue(at('sustainedMinutes'), o.sustainedMinutes, `must cover at least one alarm period (${o.alarmPeriodSeconds} s)`);
  }
  if (o.sustainedMinutes * 60 > 86_400) {
    issue(at('sustainedMinutes'), o.sustainedMinutes, 'must be <= one day (CloudWatch evaluates at most a day)');
  }
  const renewBefore = parseDurationSeconds(spec.workloads.certificates.renewBefore);
  if (renewBefore !== undefined && o.inCluster.certificateExpiryMinHours * 3600 >= renewBefore) {
    issue(at('inCluster', 'certificateExpiryMinHours'), o.inCluster.certificateExpiryMinHours,
      `must be < workloads.certificates.renewBefore (${renewBefore / 3600} h), or it fires before every renewal`);
  }
}
