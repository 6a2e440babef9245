// The spec's observability section: every bad value is rejected with a message naming the field.
import { loadPlatformSpec } from '../../lib/spec';
import type { PlatformSpec } from '../../lib/spec';
import { problemsAfter, serviceEntry } from '../helpers/spec';
import type { Mutable } from '../helpers/spec';

it('loads as checked in: production pages, staging notifies, an SLO for every service', () => {
  const spec = loadPlatformSpec();
  expect(spec.observability.notifications.production!.paging).toBe(true);
  expect(spec.observability.notifications.production!.critical.some((s) => s.kind === 'pager')).toBe(true);
  expect(spec.observability.notifications.staging!.paging).toBe(false);
  for (const s of spec.services) expect(s.slo.latencyP99MaxMs).toBeGreaterThan(0);
});

describe('observability validation names the field and the value', () => {
  it.each<[string, (d: Mutable<PlatformSpec>) => void, string]>([
    ['percentage above 100', (d) => { d.observability.database.cpuUtilizationMaxPercent = 120; },
      'observability.database.cpuUtilizationMaxPercent = 120: must be <= 100 %'],
    ['threshold of zero', (d) => { d.observability.cache.replicationLagMaxSeconds = 0; },
      'observability.cache.replicationLagMaxSeconds = 0: must be > 0'],
    ['alarm period CloudWatch does not offer', (d) => { (d.observability as { alarmPeriodSeconds: number }).alarmPeriodSeconds = 45; },
      'observability.alarmPeriodSeconds = 45'],
    ['backup metric period AWS Backup does not publish at', (d) => { (d.observability.backup as { metricPeriodMinutes: number }).metricPeriodMinutes = 7; },
      'observability.backup.metricPeriodMinutes = 7'],
    ['replica-lag warning at or above the RPO', (d) => { d.observability.database.replicaLagWarningSeconds = 3600; },
      'observability.database.replicaLagWarningSeconds = 3600: must be < the database RPO (3600 s), which is the critical threshold'],
    ['certificate alert that would fire before every renewal', (d) => { d.observability.inCluster.certificateExpiryMinHours = 240; },
      'observability.inCluster.certificateExpiryMinHours = 240: must be < workloads.certificates.renewBefore (240 h), or it fires before every renewal'],
    ['paging environment without a pager', (d) => { d.observability.notifications.production!.critical = [{ kind: 'email', endpoint: 'oncall@example.com' }]; },
      'observability.notifications.production.critical'],
    ['pager in an environment that only notifies', (d) => { d.observability.notifications.staging!.critical = [{ kind: 'pager', endpoint: 'https://events.pager.example.com/x' }]; },
      'observability.notifications.staging.critical.0.kind = "pager": a pager in an environment that only notifies (paging: false)'],
    ['warning that pages', (d) => { d.observability.notifications.production!.warning.push({ kind: 'pager', endpoint: 'https://events.pager.example.com/y' }); },
      'observability.notifications.production.warning.1.kind = "pager": warnings notify, they never page'],
    ['topic nobody receives', (d) => { d.observability.notifications.staging!.warning = []; },
      'observability.notifications.staging.warning = []: must list at least one subscription'],
    ['malformed email endpoint', (d) => { d.observability.notifications.staging!.warning = [{ kind: 'email', endpoint: 'not-an-address' }]; },
      'observability.notifications.staging.warning.0.endpoint = "not-an-address": must be an email address'],
    ['plain-HTTP pager', (d) => { d.observability.notifications.production!.critical = [{ kind: 'pager', endpoint: 'http://events.pager.example.com/x' }]; },
      'observability.notifications.production.critical.0.endpoint = "http://events.pager.example.com/x": must be an https URL'],
    ['environment without notifications', (d) => { delete d.observability.notifications.staging; },
      'observability.notifications'],
    ['notifications for an unknown environment', (d) => { d.observability.notifications.qa = structuredClone(d.observability.notifications.staging!); },
      'observability.notifications.qa = "qa": is not an environment of the spec'],
    ['sustained window shorter than one alarm period', (d) => { d.observability.alarmPeriodSeconds = 300; d.observability.sustainedMinutes = 1; },
      'observability.sustainedMinutes = 1: must cover at least one alarm period (300 s)'],
    ['sustained window longer than CloudWatch evaluates', (d) => { d.observability.sustainedMinutes = 1441; },
      'observability.sustainedMinutes = 1441: must be <= one day'],
    ['duplicate subscription', (d) => { d.observability.notifications.staging!.warning.push({ kind: 'email', endpoint: 'platform-staging-alerts@example.com' }); },
      'observability.notifications.staging.warning.1.endpoint = "platform-staging-alerts@example.com": duplicate subscription'],
    ['service without an SLO', (d) => { delete (serviceEntry(d, 'order-service') as { slo?: unknown }).slo; }, 'services.4.slo'],
    ['SLO error rate above 100', (d) => { serviceEntry(d, 'order-service').slo.errorRateMaxPercent = 101; },
      'services.4.slo.errorRateMaxPercent = 101: must be <= 100 %'],
  ])('rejects a %s', (_, edit, expected) => {
    expect(problemsAfter(edit)).toContain(expected);
  });
});
