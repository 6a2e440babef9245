import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as yaml from 'yaml';
import { Testing } from 'cdk8s';
import { chartTestApp } from '../helpers/chart-app';
import { addPlatformCharts, renderCharts } from '../../charts/main';
import { ENVIRONMENT_NAMES, loadPlatformSpec } from '../../lib/spec';
import type { EnvironmentName, PlatformSpec } from '../../lib/spec';
import { platformSpecData } from '../../lib/spec/platform';
import type { Mutable } from '../helpers/spec';
import { findObject, spec } from './helpers';

/**
 * The spec's "Auto-scaling Configuration" table, proven against the manifests as written to
 * dist/<env>/ (rendered to a temporary folder and read back from the YAML files).
 */
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'charts-'));
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));
renderCharts(spec, outdir);
const readBack = (env: string, chart: string) =>
  yaml.parseAllDocuments(fs.readFileSync(path.join(outdir, env, `${chart}.k8s.yaml`), 'utf8')).map((d) => d.toJS());

/** The rows of the architecture document's table; auth and order are lib/spec's own choice. */
const ARCHITECTURE_TABLE = [
  { name: 'api-gateway', min: 3, max: 20, trigger: 'CPU > 70%' },
  { name: 'user-service', min: 2, max: 10, trigger: 'CPU > 70%' },
  { name: 'payment-service', min: 3, max: 15, trigger: 'Request latency > 200ms' },
];

/** One row as read from the rendered autoscaler: the HPA (CPU) or KEDA ScaledObject (latency). */
function renderedRow(objects: any[]) {
  const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler');
  const scaled = objects.find((o) => o.kind === 'ScaledObject');
  expect([hpa, scaled].filter(Boolean)).toHaveLength(1);
  if (hpa) {
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.metrics).toHaveLength(1);
    const metric = hpa.spec.metrics[0];
    expect(metric.resource.target.type).toBe('Utilization');
    return { target: hpa.spec.scaleTargetRef, min: hpa.spec.minReplicas, max: hpa.spec.maxReplicas, trigger: `CPU > ${metric.resource.target.averageUtilization}%` };
  }
  const latency = scaled.spec.triggers.find((t: any) => t.type === 'prometheus');
  const cpu = scaled.spec.triggers.find((t: any) => t.type === 'cpu');
  expect(latency.metricType).toBe('Value');
  expect(cpu).toMatchObject({ metricType: 'Utilization' });
  return {
    target: scaled.spec.scaleTargetRef,
    min: scaled.spec.minReplicaCount,
    max: scaled.spec.maxReplicaCount,
    trigger: `Request latency > ${Math.round(Number(latency.metadata.threshold) * 1000)}ms`,
    query: latency.metadata.query as string,
    cpu: Number(cpu.metadata.value),
  };
}

describe.each(ENVIRONMENT_NAMES)('%s autoscaling as rendered', (env) => {
  it.each(spec.services.map((s) => [s.name, s] as const))('%s follows its row of lib/spec', (name, service) => {
    const row = renderedRow(readBack(env, name));
    const { minReplicas, maxReplicas, trigger } = service.autoscaling;
    expect(row.target).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name });
    expect([row.min, row.max]).toEqual([minReplicas, maxReplicas]);
    if (trigger.type === 'cpu') {
      expect(row.trigger).toBe(`CPU > ${trigger.targetUtilizationPercent}%`);
    } else {
      expect(row.trigger).toBe(`Request latency > ${trigger.thresholdMs}ms`);
      expect(row.cpu).toBe(trigger.cpuTargetUtilizationPercent);
      // The p95 of the service's own gRPC latency histogram (services/README.md).
      expect(row.query).toContain(`histogram_quantile(${trigger.percentile / 100},`);
      expect(row.query).toContain(`grpc_server_handling_seconds_bucket{namespace="${name}"`);
    }
  });

  it.each(ARCHITECTURE_TABLE.map((r) => [r.name, r] as const))('%s matches the architecture document\'s table', (name, expected) => {
    const row = renderedRow(readBack(env, name));
    expect({ name, min: row.min, max: row.max, trigger: row.trigger }).toEqual(expected);
  });

  it('fixes no replica count where an autoscaler owns it', () => {
    for (const service of spec.services) {
      const deployment = readBack(env, service.name).find((o) => o.kind === 'Deployment');
      expect(deployment.spec.replicas).toBeUndefined();
    }
  });
});

describe('an environment\'s own sizes (environments.<env>.workloads)', () => {
  const resources = { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '256Mi' } };
  const data = structuredClone(platformSpecData) as Mutable<PlatformSpec>;
  data.environments.staging.workloads = {
    services: { minReplicas: 2, edgeMinReplicas: 4, maxReplicas: 5, resources },
    pgbouncer: { replicas: 2, resources, exporterResources: resources },
  };
  const changed = loadPlatformSpec({ data });
  const render = (env: EnvironmentName) => Object.values(addPlatformCharts(chartTestApp(), changed, changed.environments[env]))
    .flatMap((chart) => Testing.synth(chart));

  it('reach that environment\'s autoscalers, containers and poolers, and no other environment\'s', () => {
    const staging = render('staging');
    for (const service of changed.services) {
      const row = renderedRow(staging.filter((o) => o.metadata.namespace === service.name));
      expect([row.min, row.max]).toEqual([service.exposes === 'edge' ? 4 : 2, 5]);
      expect(findObject(staging, 'Deployment', service.name).spec.template.spec.containers[0].resources).toEqual(resources);
    }
    expect(findObject(staging, 'Deployment', 'pgbouncer').spec.template.spec.containers.map((c: any) => c.resources)).toEqual([resources, resources]);
    const production = render('production');
    const gateway = changed.services.find((s) => s.exposes === 'edge')!;
    expect(findObject(production, 'HorizontalPodAutoscaler', gateway.name).spec).toMatchObject(
      { minReplicas: gateway.autoscaling.minReplicas, maxReplicas: gateway.autoscaling.maxReplicas });
    expect(findObject(production, 'Deployment', 'pgbouncer').spec.template.spec.containers[0].resources).toEqual(changed.workloads.pgbouncer.resources);
  });
});
