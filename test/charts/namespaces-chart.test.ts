import { Testing } from 'cdk8s';
import { chartTestApp } from '../helpers/chart-app';
import { NamespacesChart } from '../../charts/namespaces-chart';
import { ENVIRONMENT_NAMES, loadPlatformSpec } from '../../lib/spec';

const spec = loadPlatformSpec();

describe.each(ENVIRONMENT_NAMES)('%s namespaces chart', (name) => {
  const manifests = Testing.synth(new NamespacesChart(chartTestApp(), 'namespaces', { spec, environment: spec.environments[name] }));
  const ofKind = (kind: string) => manifests.filter((m) => m.kind === kind);

  it('gives every service of the spec, and PgBouncer, a namespace labelled with its security zone', () => {
    expect(ofKind('Namespace').map((ns) => [ns.metadata.name, ns.metadata.labels['platform/zone']]))
      .toEqual([...spec.services.map((s) => [s.name, s.zone]), ['pgbouncer', 'private']]);
    for (const ns of ofKind('Namespace')) {
      expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
      expect(ns.metadata.labels['platform/environment']).toBe(name);
    }
  });

  it('closes every namespace with a default-deny policy in both directions', () => {
    const policies = ofKind('NetworkPolicy').filter((p) => p.metadata.name === 'default-deny');
    expect(policies.map((p) => p.metadata.namespace)).toEqual([...spec.services.map((s) => s.name), 'pgbouncer']);
    for (const policy of policies) {
      expect(policy.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    }
  });

});
