/**
 * The local environment (localCluster): staging's values with the local section's in their
 * place, an environment of the charts only; and every environment's own workload sizes.
 */
import {
  chartEnvironments, ENVIRONMENT_NAMES, loadPlatformSpec, localEnvironment, pgbouncerSizing, serviceSizing,
} from '../../lib/spec';
import type { PlatformSpec } from '../../lib/spec';
import { platformSpecData } from '../../lib/spec/platform';
import { problemsAfter } from '../helpers/spec';
import type { Mutable } from '../helpers/spec';

const spec = loadPlatformSpec();
const local = localEnvironment(spec);

/** The dotted paths where two values differ; arrays compare whole, a field in one only counts. */
function differingPaths(a: unknown, b: unknown, at = ''): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(a) && isObject(b)) {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
      .flatMap((key) => differingPaths(a[key], b[key], at ? `${at}.${key}` : key));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [at];
}

describe('the local environment', () => {
  it('is staging with exactly these fields replaced (a new difference fails until it is listed)', () => {
    expect(differingPaths(spec.environments.staging, local)).toEqual([
      'availabilityZones', 'edge.domainName', 'imageRegistry', 'name', 'network.vpcCidr', 'workloads',
    ]);
  });

  it('takes those fields from the local section, and the rest (account, cluster, database, ...) from staging', () => {
    expect(local).toMatchObject(spec.localCluster);
    expect(local.network.vpn).toBe(spec.environments.staging.network.vpn);
    expect(local.cluster).toBe(spec.environments.staging.cluster);
    expect(Object.isFrozen(local) && Object.isFrozen(local.network) && Object.isFrozen(local.edge)).toBe(true);
  });

  it('is an environment of the charts, not of the AWS app', () => {
    expect(ENVIRONMENT_NAMES).toEqual(['production', 'staging']);
    expect(Object.keys(spec.environments)).toEqual(['production', 'staging']);
    const environments = chartEnvironments(spec);
    expect(environments.map((e) => e.name)).toEqual(['production', 'staging', 'local']);
    expect(environments[0]).toBe(spec.environments.production);
    expect(environments[1]).toBe(spec.environments.staging);
  });

  it('has a certificate issuer of its own, like every chart environment', () => {
    expect(Object.keys(spec.workloads.certificates.issuer).sort()).toEqual(chartEnvironments(spec).map((e) => e.name).sort());
    expect(spec.workloads.certificates.issuer[local.name]).toBe('self-signed');
  });
});

describe('workload sizes per environment', () => {
  it('are the global ones where the environment gives none (production, staging)', () => {
    for (const name of ENVIRONMENT_NAMES) {
      const environment = spec.environments[name];
      expect(environment.workloads).toBeUndefined();
      for (const service of spec.services) {
        expect(serviceSizing(spec, environment, service.name)).toEqual({
          minReplicas: service.autoscaling.minReplicas, maxReplicas: service.autoscaling.maxReplicas, resources: service.resources,
        });
      }
      const { replicas, resources, exporterResources } = spec.workloads.pgbouncer;
      expect(pgbouncerSizing(spec, environment)).toEqual({ replicas, resources, exporterResources });
    }
  });

  it('are the environment\'s own where it gives them, for every service, the edge from its own floor', () => {
    const own = spec.localCluster.workloads;
    for (const service of spec.services) {
      expect(serviceSizing(spec, local, service.name)).toEqual({
        minReplicas: service.exposes === 'edge' ? own.services!.edgeMinReplicas : own.services!.minReplicas,
        maxReplicas: own.services!.maxReplicas,
        resources: own.services!.resources,
      });
    }
    expect(pgbouncerSizing(spec, local)).toEqual(own.pgbouncer);
  });

  it('may be given to an AWS environment too, which changes that environment only', () => {
    const data = structuredClone(platformSpecData) as Mutable<PlatformSpec>;
    const resources = { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '256Mi' } };
    data.environments.staging.workloads = { services: { minReplicas: 2, maxReplicas: 4, resources } };
    const changed = loadPlatformSpec({ data });
    expect(serviceSizing(changed, changed.environments.staging, 'order-service')).toEqual({ minReplicas: 2, maxReplicas: 4, resources });
    expect(serviceSizing(changed, changed.environments.production, 'order-service').maxReplicas).toBe(10);
    // The local environment overrides what it names; staging's own sizes are not local's.
    expect(serviceSizing(changed, localEnvironment(changed), 'order-service')).toEqual(serviceSizing(spec, local, 'order-service'));
  });
});

describe('bad local values fail the load naming the field', () => {
  it.each<[string, (d: Mutable<PlatformSpec>) => void, string]>([
    ['a floor above the ceiling', (d) => { d.localCluster.workloads.services!.minReplicas = 4; },
      'localCluster.workloads.services.minReplicas = 4: must be <= maxReplicas (3)'],
    ['an edge floor above the ceiling', (d) => { d.localCluster.workloads.services!.edgeMinReplicas = 5; },
      'localCluster.workloads.services.edgeMinReplicas = 5: must be <= maxReplicas (3)'],
    ['requests above limits', (d) => { d.localCluster.workloads.services!.resources.requests.cpu = '2'; },
      'localCluster.workloads.services.resources.requests.cpu = "2": must be <= limits.cpu (1)'],
    ['no pooler', (d) => { d.localCluster.workloads.pgbouncer!.replicas = 0; },
      'localCluster.workloads.pgbouncer.replicas = 0: must be >= 1'],
    ['a memory quantity typo', (d) => { d.localCluster.workloads.pgbouncer!.exporterResources.limits.memory = '32MB'; },
      'localCluster.workloads.pgbouncer.exporterResources.limits.memory = "32MB": must be a memory quantity'],
    ['more poolers than the client connections can be shared by', (d) => { d.localCluster.workloads.pgbouncer!.replicas = 3; },
      'localCluster.workloads.pgbouncer.replicas = 3: leaves each PgBouncer pod 166 of dataTier.pgbouncer.maxClientConnections (shared by 2 pools x 3 replicas), fewer than its 200 server connections'],
    ['an address space overlapping staging\'s VPC', (d) => { d.localCluster.network.vpcCidr = '10.20.0.0/16'; },
      'localCluster.network.vpcCidr = "10.20.0.0/16": overlaps environments.staging.network.vpcCidr (10.20.0.0/16)'],
    ['an address space overlapping a Vault standby', (d) => { d.localCluster.network.vpcCidr = '10.96.0.0/11'; },
      'localCluster.network.vpcCidr = "10.96.0.0/11": overlaps vault.standbyVpc.cidrs.production (10.110.0.0/20)'],
    ['an address space too small for the zone subnets', (d) => { d.localCluster.network.vpcCidr = '10.30.0.0/20'; },
      'localCluster.network.vpcCidr = "10.30.0.0/20": is too small for the security zones\' subnets in 1 zone(s)'],
    ['no zone', (d) => { d.localCluster.availabilityZones = []; },
      'localCluster.availabilityZones = []: must list at least one zone'],
    ['a repeated zone', (d) => { d.localCluster.availabilityZones = ['local-a', 'local-a']; },
      'localCluster.availabilityZones = ["local-a","local-a"]: must not repeat a zone'],
    ['an AWS environment\'s name', (d) => { d.localCluster.name = 'staging'; },
      'localCluster.name = "staging": is an AWS environment\'s name'],
    ['a registry given as a URL', (d) => { d.localCluster.imageRegistry = 'http://localhost:5000'; },
      'localCluster.imageRegistry = "http://localhost:5000": must be a registry host[:port]'],
    ['a field the local section does not have', (d) => { (d.localCluster.network as Record<string, unknown>).natGateways = 1; },
      'localCluster.network'],
    ['no certificate issuer for it', (d) => { delete d.workloads.certificates.issuer.local; },
      'workloads.certificates.issuer = {"production":"vault-pki","staging":"self-signed"}: has no entry for environment local'],
    ['an issuer for an environment that does not exist', (d) => { d.workloads.certificates.issuer.qa = 'self-signed'; },
      'workloads.certificates.issuer.qa = "self-signed": is not an environment the charts render (production, staging, local)'],
  ])('%s', (_, edit, message) => {
    expect(problemsAfter(edit)).toContain(message);
  });
});

describe('bad sizes of an AWS environment fail the load naming the field', () => {
  const resources = { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '256Mi' } };
  it.each<[string, (d: Mutable<PlatformSpec>) => void, string]>([
    ['a floor above the ceiling', (d) => { d.environments.production.workloads = { services: { minReplicas: 5, maxReplicas: 4, resources } }; },
      'environments.production.workloads.services.minReplicas = 5: must be <= maxReplicas (4)'],
    ['a single pooler', (d) => { d.environments.staging.workloads = { pgbouncer: { replicas: 1, resources, exporterResources: resources } }; },
      'environments.staging.workloads.pgbouncer.replicas = 1: must be >= 2 (one pooler must survive a disruption)'],
    ['more poolers than the database admits', (d) => { d.environments.staging.workloads = { pgbouncer: { replicas: 3, resources, exporterResources: resources } }; },
      'environments.staging.database.maxConnections = 500: must be >= PgBouncer\'s server connections to one instance (3 replicas x 200)'],
  ])('%s', (_, edit, message) => {
    expect(problemsAfter(edit)).toContain(message);
  });
});
