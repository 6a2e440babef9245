/**
 * The local environment's charts are staging's charts: the same code, rendered with the local
 * environment's values. Compared object by object, they differ only in the fields listed here,
 * and those hold the local values; its pods fit the one node they run on.
 */
import { cpuMillis, localEnvironment, parseCidr, pgbouncerSizing, serviceSizing } from '../../lib/spec';
import { edgeService, nonInternetCidrs, zoneSubnetCidrs } from '../../lib/spec/topology';
import { vaultDnsName } from '../../lib/spec/vault-names';
import { findObject, renderEnvironment, spec } from './helpers';

const local = localEnvironment(spec);
const charts = { staging: renderEnvironment('staging'), local: renderEnvironment(local.name) };

/** Every rendered object of an environment by chart, kind, namespace and name. */
const objectsOf = (rendered: Record<string, any[]>) => new Map(Object.entries(rendered)
  .flatMap(([chart, objects]) => objects.map((o) => [`${chart} ${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`, o] as const)));

/**
 * The leaves of an object by path: array elements with a name by it (`env[JWT_ISSUER]`), others by
 * index; containers and indices masked as `*` so the path names a field, not an occurrence.
 */
function leaves(value: unknown, at = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (Array.isArray(value)) {
    value.forEach((item, i) => leaves(item, `${at}[${typeof item?.name === 'string' ? item.name : i}]`, out));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) leaves(child, at ? `${at}.${key}` : key, out);
  } else {
    out.set(at, value);
  }
  return out;
}
const fieldOf = (path: string) => path.replace(/containers\[[^\]]+\]/g, 'containers[*]').replace(/\[\d+\]/g, '[*]');

/** `<kind> <field>` of every leaf that differs between the two objects (or is in one only). */
function differingFields(a: unknown, b: unknown, kind: string): string[] {
  const left = leaves(a);
  const right = leaves(b);
  return [...new Set([...left.keys(), ...right.keys()])]
    .filter((path) => !left.has(path) || !right.has(path) || left.get(path) !== right.get(path))
    .map((path) => `${kind} ${fieldOf(path)}`);
}

/** What the local values change in the rendered charts, and nothing else. */
const EXPECTED_DIFFERENCES = [
  // Every object's environment label.
  '* metadata.labels.platform/environment',
  // The self-signed root CA names its environment.
  'Certificate spec.commonName',
  // max_client_conn: the spec's 1000 connections over the local pooler count.
  'ConfigMap data.pgbouncer.ini',
  // PgBouncer's pooler count; the workloads' sizes.
  'Deployment spec.replicas',
  'Deployment spec.template.spec.containers[*].resources.requests.cpu',
  'Deployment spec.template.spec.containers[*].resources.requests.memory',
  'Deployment spec.template.spec.containers[*].resources.limits.memory',
  // The images' registry.
  'Deployment spec.template.spec.containers[*].image',
  // The zone subnets of the address space; the tokens' issuer and audience.
  'Deployment spec.template.spec.containers[*].env[TRUSTED_PROXY_CIDRS].value',
  'Deployment spec.template.spec.containers[*].env[JWT_ISSUER].value',
  'Deployment spec.template.spec.containers[*].env[JWT_AUDIENCE].value',
  // The autoscalers' bounds.
  'HorizontalPodAutoscaler spec.minReplicas',
  'HorizontalPodAutoscaler spec.maxReplicas',
  'ScaledObject spec.minReplicaCount',
  'ScaledObject spec.maxReplicaCount',
  // The zone subnets (one zone), and no Vault standby VPC.
  'NetworkPolicy spec.ingress[*].from[*].ipBlock.cidr',
  'NetworkPolicy spec.egress[*].to[*].ipBlock.cidr',
  'NetworkPolicy spec.egress[*].to[*].ipBlock.except[*]',
  // Vault's name in the environment.
  'Service spec.externalName',
].sort();

describe('the local charts against staging\'s', () => {
  const staging = objectsOf(charts.staging);
  const localObjects = objectsOf(charts.local);

  it('hold the same objects: chart, kind, namespace and name', () => {
    expect([...localObjects.keys()].sort()).toEqual([...staging.keys()].sort());
  });

  it('differ only in the listed fields, each of which does differ', () => {
    const found = new Set<string>();
    for (const [key, object] of staging) {
      for (const field of differingFields(object, localObjects.get(key), object.kind)) {
        found.add(field.endsWith(' metadata.labels.platform/environment') ? '* metadata.labels.platform/environment' : field);
      }
    }
    expect([...found].sort()).toEqual(EXPECTED_DIFFERENCES);
  });

  it('carry the local environment\'s name, registry, public name and Vault name', () => {
    const all = [...localObjects.values()];
    for (const object of all) expect(object.metadata.labels['platform/environment']).toBe(local.name);
    const containers = all.filter((o) => o.kind === 'Deployment').flatMap((d) => d.spec.template.spec.containers);
    for (const service of spec.services) {
      expect(containers.find((c) => c.name === service.name).image).toBe(`${spec.localCluster.imageRegistry}/${spec.project}/${service.name}:${spec.workloads.defaultImageTag}`);
    }
    const gateway = findObject(charts.local[edgeService(spec).name]!, 'Deployment', edgeService(spec).name).spec.template.spec.containers[0];
    const env = Object.fromEntries(gateway.env.map((e: any) => [e.name, e.value]));
    expect(env.JWT_ISSUER).toBe(`https://${spec.localCluster.edge.domainName}`);
    expect(env.JWT_AUDIENCE).toBe(spec.localCluster.edge.domainName);
    expect(findObject(charts.local.namespaces!, 'Service', 'vault').spec.externalName).toBe(vaultDnsName(spec, local.name));
    // Nothing of AWS or of staging: no account, region or ECR host, no staging name.
    const text = JSON.stringify(charts.local);
    for (const foreign of [local.account, local.region, 'amazonaws.com', 'staging']) expect(text).not.toContain(foreign);
  });

  it('cut every ipBlock from the local address space, or leave the non-internet ranges out of the internet', () => {
    const zones = Object.values(zoneSubnetCidrs(spec, local)).flat();
    expect(zones.every((cidr) => within(cidr, spec.localCluster.network.vpcCidr))).toBe(true);
    const blocks = [...localObjects.values()].filter((o) => o.kind === 'NetworkPolicy')
      .flatMap((p) => [...(p.spec.ingress ?? []).flatMap((r: any) => r.from), ...(p.spec.egress ?? []).flatMap((r: any) => r.to)])
      .flatMap((peer: any) => (peer.ipBlock ? [peer.ipBlock] : []));
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) {
      if (block.cidr === '0.0.0.0/0') {
        for (const except of block.except) expect([...zones, ...nonInternetCidrs(spec, local)]).toContain(except);
      } else {
        expect(zones).toContain(block.cidr);
      }
    }
  });

  it('give PgBouncer the spec\'s 1000 client connections over the local poolers (max_client_conn is the only other line)', () => {
    const ini = (rendered: Record<string, any[]>) => findObject(rendered.pgbouncer!, 'ConfigMap', 'pgbouncer-config').data['pgbouncer.ini'].split('\n') as string[];
    const [before, after] = [ini(charts.staging), ini(charts.local)];
    expect(after.filter((line, i) => line !== before[i])).toEqual([
      `max_client_conn = ${spec.dataTier.pgbouncer.maxClientConnections / (2 * pgbouncerSizing(spec, local).replicas)}`,
    ]);
  });
});

/** Whether CIDR `inner` lies inside CIDR `outer`. */
function within(inner: string, outer: string): boolean {
  const a = parseCidr(inner)!;
  const b = parseCidr(outer)!;
  return a.prefix >= b.prefix && Math.floor(a.base / 2 ** (32 - b.prefix)) === b.base / 2 ** (32 - b.prefix);
}

/**
 * The node: 2 CPUs, of which about 1.2 are free beside the control plane. The charts' pods at the
 * autoscalers' floors must leave room for the add-ons (cert-manager, KEDA, Prometheus, the Vault
 * injector, Flux), and a rollout of every service at once adds one surge pod per Deployment.
 */
const NODE_FREE_CPU_MILLIS = 1200;
const STEADY_CPU_BOUND_MILLIS = 700;

describe('the local pods on one node', () => {
  const objects = Object.values(charts.local).flat();
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  /** A pod's CPU request: its containers and the Vault Agent sidecar the injector adds (its init container runs before them). */
  const podCpu = (deployment: any) => deployment.spec.template.spec.containers
    .reduce((sum: number, c: any) => sum + cpuMillis(c.resources.requests.cpu), 0)
    + cpuMillis(deployment.spec.template.metadata.annotations['vault.hashicorp.com/agent-requests-cpu'] ?? '0');
  const autoscalerOf = (name: string) => objects.find((o) => ['HorizontalPodAutoscaler', 'ScaledObject'].includes(o.kind) && o.metadata.name === name);
  const floorOf = (deployment: any) => deployment.spec.replicas ?? (autoscalerOf(deployment.metadata.name).spec.minReplicas ?? autoscalerOf(deployment.metadata.name).spec.minReplicaCount);

  it(`request at most ${STEADY_CPU_BOUND_MILLIS}m CPU at the autoscalers' floors, and at most ${NODE_FREE_CPU_MILLIS}m while every service rolls out`, () => {
    const steady = deployments.reduce((sum, d) => sum + floorOf(d) * podCpu(d), 0);
    // maxSurge: one extra pod per service Deployment (25% of a floor of 1 or 2 rounds up to one).
    const surge = deployments.filter((d) => d.spec.replicas === undefined).reduce((sum, d) => sum + podCpu(d), 0);
    expect(steady).toBeGreaterThan(0);
    expect(steady).toBeLessThanOrEqual(STEADY_CPU_BOUND_MILLIS);
    expect(steady + surge).toBeLessThanOrEqual(NODE_FREE_CPU_MILLIS);
  });

  it('scale every service between the local bounds: one replica up to the local maximum, the edge from two', () => {
    const bounds = spec.localCluster.workloads.services!;
    for (const service of spec.services) {
      const autoscaler = autoscalerOf(service.name);
      const [min, max] = autoscaler.kind === 'ScaledObject'
        ? [autoscaler.spec.minReplicaCount, autoscaler.spec.maxReplicaCount]
        : [autoscaler.spec.minReplicas, autoscaler.spec.maxReplicas];
      const expectedMin = service.exposes === 'edge' ? bounds.edgeMinReplicas : bounds.minReplicas;
      expect({ service: service.name, min, max }).toEqual({ service: service.name, min: expectedMin, max: bounds.maxReplicas });
      expect(serviceSizing(spec, local, service.name)).toMatchObject({ minReplicas: min, maxReplicas: max });
    }
    expect(autoscalerOf(edgeService(spec).name).spec.minReplicas).toBe(2);
    expect(spec.services.filter((s) => s.exposes !== 'edge').map((s) => serviceSizing(spec, local, s.name).minReplicas)).toEqual([1, 1, 1, 1]);
  });

  it('size every container from the local section, memory limit = request', () => {
    const { services, pgbouncer } = spec.localCluster.workloads;
    for (const service of spec.services) {
      const container = findObject(charts.local[service.name]!, 'Deployment', service.name).spec.template.spec.containers[0];
      expect(container.resources).toEqual(services!.resources);
    }
    for (const pool of ['pgbouncer', 'pgbouncer-reader']) {
      const deployment = findObject(charts.local.pgbouncer!, 'Deployment', pool);
      expect(deployment.spec.replicas).toBe(pgbouncer!.replicas);
      expect(deployment.spec.template.spec.containers.map((c: any) => c.resources)).toEqual([pgbouncer!.resources, pgbouncer!.exporterResources]);
    }
    for (const container of deployments.flatMap((d) => d.spec.template.spec.containers)) {
      expect(container.resources.limits.memory).toBe(container.resources.requests.memory);
    }
  });
});
