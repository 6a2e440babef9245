// NetworkPolicies enforced on a real node: the local cluster (scripts/local-cluster) runs
// kube-router as the enforcer, the charts' namespaces, policies and Services are applied as
// rendered for the local environment, and every flow the spec needs inside and out of the cluster
// is tried for real from a pod, as is a sample of the flows the zones forbid.
//
// Real: kubelet, containerd, runc, the bridge CNI, kube-proxy, CoreDNS, kube-router, the charts'
// Namespaces (Pod Security "restricted"), NetworkPolicies and Services.
// Stand-ins, and why:
// - probe pods in place of the workloads: each carries the pod labels and container ports of its
//   workload's rendered Deployment (so the policies and Services select it as they would the
//   workload) and runs a TCP listener on those ports from the services' own base image. The
//   policies are what is under test here, not the services.
// - TCP listeners on the host at the addresses of the zones the spec puts the stores, Vault and
//   the internet in (scripts/local-cluster/plan.ts), in place of RDS, ElastiCache, MSK, Vault's
//   load balancer and the payment provider.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Server } from 'node:net';
import { renderLocalCharts } from '../../scripts/local-cluster/platform';
import { loadPlatformSpec, localEnvironment } from '../../lib/spec';
import type { ChartEnvironment, PlatformSpec } from '../../lib/spec';
import { PGBOUNCER_READER, PGBOUNCER_WRITER, edgeService, paymentProviderPort } from '../../lib/spec/topology';
import { STATE_FILE, startLocalCluster } from '../../scripts/local-cluster';
import { cgroupMounts } from '../../scripts/local-cluster/cgroups';
import type { LocalCluster } from '../../scripts/local-cluster';
import { REPO_ROOT } from '../../scripts/local-stack/process';
import { BASE_STAND_INS, dockerfileRecipe, nodeBaseRecipe } from '../../scripts/local-cluster/images';
import { run } from '../../scripts/local-cluster/network';
import { OUTSIDE, clusterNetworkPlan } from '../../scripts/local-cluster/plan';

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: any;
}

const execFileAsync = promisify(execFile);
const spec: PlatformSpec = loadPlatformSpec();
const environment: ChartEnvironment = localEnvironment(spec);
const plan = clusterNetworkPlan(spec, environment);
const outside = plan.outsideAddresses;
const PROBE_IMAGE = BASE_STAND_INS['gcr.io/distroless/nodejs24-debian12:nonroot']!.name;
/** Long enough for a connection on a loaded machine; a dropped SYN never gets one. */
const CONNECT_TIMEOUT_MS = 5000;
/**
 * How a connection that a policy refuses ends: the enforcer rejects it (an ICMP error: refused or
 * unreachable) or drops it (a timeout). Every target listens, so none of these means "nothing
 * there"; a DNS failure or any other error is reported as itself and fails the test.
 */
const REFUSALS = new Set(['timeout', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH']);
const outcome = (result: string) => (result === 'connected' ? 'connected' : REFUSALS.has(result) ? 'refused' : result);

const rendered = () => renderLocalCharts(spec, environment) as unknown as K8sObject[];

/** A workload's probe: the pod labels and container ports of its rendered Deployment. */
interface Probe {
  readonly workload: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  /** The containers' ports as the Deployment declares them (named: the Services target them by name). */
  readonly ports: { containerPort: number; name?: string; protocol?: string }[];
}

function probesOf(objects: readonly K8sObject[]): Probe[] {
  return objects.filter((o) => o.kind === 'Deployment').map((d) => ({
    workload: d.metadata.name,
    namespace: d.metadata.namespace!,
    labels: d.spec.template.metadata.labels as Record<string, string>,
    ports: (d.spec.template.spec.containers as { ports?: Probe['ports'] }[]).flatMap((c) => c.ports ?? []),
  }));
}

const LISTEN = "for (const p of process.argv.slice(1)) require('node:net').createServer((s) => s.end()).listen(Number(p), '0.0.0.0'); setInterval(() => {}, 1 << 30);";
const CONNECT = `const [host, port, ms] = process.argv.slice(1);
const s = require('node:net').connect({ host, port: Number(port) });
const done = (what) => { console.log(what); process.exit(0); };
setTimeout(() => done('timeout'), Number(ms));
s.on('connect', () => done('connected'));
s.on('error', (e) => done(e.code || e.message));`;

function probePod(probe: Probe): K8sObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: `probe-${probe.workload}`, namespace: probe.namespace, labels: probe.labels },
    spec: {
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 1,
      securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{
        name: 'probe', image: PROBE_IMAGE, imagePullPolicy: 'Never',
        command: ['/nodejs/bin/node', '-e', LISTEN, ...probe.ports.map((p) => String(p.containerPort))],
        ports: probe.ports,
        readinessProbe: { tcpSocket: { port: probe.ports[0]!.containerPort }, periodSeconds: 1 },
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        resources: { requests: { cpu: '10m', memory: '48Mi' }, limits: { memory: '96Mi' } },
      }],
    },
  };
}

export function networkPoliciesOnLocalCluster(): void {
  let cluster: LocalCluster | undefined;
  let probes: Probe[] = [];
  let objects: K8sObject[] = [];
  const listeners: Server[] = [];

  /** What a pod of `from` gets when it connects to host:port: connected, refused, or the error. */
  async function tryFrom(from: string, host: string, port: number): Promise<string> {
    return outcome(await connectFrom(from, host, port));
  }

  async function connectFrom(from: string, host: string, port: number): Promise<string> {
    const probe = probes.find((p) => p.workload === from);
    if (!probe) throw new Error(`no probe for ${from}`);
    return (await cluster!.kubectl(['-n', probe.namespace, 'exec', `probe-${from}`, '--', '/nodejs/bin/node', '-e', CONNECT, host, String(port), String(CONNECT_TIMEOUT_MS)])).trim();
  }

  /** The host connecting from one of its zone addresses, as the load balancer does. */
  async function tryFromOutside(source: string, host: string, port: number): Promise<string> {
    return outcome(await new Promise<string>((resolve) => {
      const socket = connect({ host, port, localAddress: source });
      const timer = setTimeout(() => { socket.destroy(); resolve('timeout'); }, CONNECT_TIMEOUT_MS);
      socket.on('connect', () => { clearTimeout(timer); socket.destroy(); resolve('connected'); });
      socket.on('error', (e: NodeJS.ErrnoException) => { clearTimeout(timer); resolve(e.code ?? e.message); });
    }));
  }

  async function podIp(workload: string): Promise<string> {
    const probe = probes.find((p) => p.workload === workload)!;
    return (await cluster!.kubectl(['-n', probe.namespace, 'get', 'pod', `probe-${workload}`, '-o', 'jsonpath={.status.podIP}'])).trim();
  }

  function listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((s) => s.end());
      server.once('error', reject);
      server.listen(port, host, () => { listeners.push(server); resolve(); });
    });
  }

  const stores = {
    postgres: spec.dataTier.postgres.port,
    redis: spec.dataTier.redis.port,
    kafka: spec.dataTier.kafka.saslScramPort,
  };
  const serviceHost = (name: string) => `${name}.${name}.svc.cluster.local`;

  beforeAll(async () => {
    cluster = await startLocalCluster({ network: plan, zone: environment.availabilityZones[0]!, registry: environment.imageRegistry });
    objects = rendered();
    probes = probesOf(objects);
    const namespaces = objects.filter((o) => o.kind === 'Namespace');
    const existing = new Set(['kube-system', ...namespaces.map((n) => n.metadata.name)]);
    await cluster.apply(namespaces);
    await cluster.apply(objects.filter((o) => (o.kind === 'NetworkPolicy' || o.kind === 'Service') && existing.has(o.metadata.namespace!)));
    await cluster.apply(probes.map(probePod));
    for (const p of probes) {
      await cluster.kubectl(['-n', p.namespace, 'wait', '--for=condition=Ready', `pod/probe-${p.workload}`, '--timeout=180s'], undefined, 200000);
    }
    for (const port of Object.values(stores)) await listen(outside[OUTSIDE.dataTier]!, port);
    await listen(outside[OUTSIDE.vault]!, spec.vault.apiPort);
    await listen(outside[OUTSIDE.internet]!, paymentProviderPort(spec));
  }, 900000);

  afterAll(async () => {
    for (const server of listeners) server.close();
    await cluster?.dispose();
  }, 120000);

  /**
   * kubelet sets these machine-wide at start; the cluster writes them back at the end. The values
   * before are the cluster's own reading once it held the machine: read when this file loads, they
   * would be another suite's cluster's (kubelet's) when that one runs meanwhile.
   */
  const TUNABLES = ['vm/overcommit_memory', 'kernel/panic', 'kernel/panic_on_oops'];
  const kernelTunables = () => TUNABLES.map((k) => `${k}=${readFileSync(`/proc/sys/${k}`, 'utf8').trim()}`);

  /** What a cluster leaves on the host while it runs: none of it may remain after dispose(). */
  async function hostTraces(): Promise<string[]> {
    const traces: string[] = [];
    const namespaces = await run('ip', ['netns', 'list']);
    if (namespaces.split('\n').some((line) => line.split(' ')[0] === plan.namespace)) traces.push(`network namespace ${plan.namespace}`);
    const addresses = await run('ip', ['-o', 'addr', 'show']);
    for (const address of Object.values(outside)) if (addresses.includes(`inet ${address}/`)) traces.push(`host address ${address}`);
    if ((await run('ip', ['route'])).includes(plan.podCidr)) traces.push(`route to ${plan.podCidr}`);
    for (const mount of cgroupMounts()) if (existsSync(join(mount, plan.namespace))) traces.push(`cgroup ${join(mount, plan.namespace)}`);
    for (const path of [STATE_FILE, cluster!.dir]) if (existsSync(path)) traces.push(path);
    return traces;
  }

  /** A flow to try and the outcome the spec expects. */
  interface Attempt { readonly flow: string; readonly expected: 'connected' | 'refused'; readonly run: () => Promise<string> }

  /** Runs the attempts a few at a time and compares every outcome at once, so a failure lists them all. */
  async function expectOutcomes(attempts: readonly Attempt[]): Promise<void> {
    expect(attempts.length).toBeGreaterThan(0);
    const outcomes: string[] = new Array(attempts.length);
    let next = 0;
    const worker = async () => {
      while (next < attempts.length) {
        const i = next++;
        outcomes[i] = `${attempts[i]!.flow}: ${await attempts[i]!.run()}`;
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    expect(outcomes).toEqual(attempts.map((a) => `${a.flow}: ${a.expected}`));
  }

  const expectation = (allowed: boolean) => (allowed ? 'connected' : 'refused');

  describe('the local cluster enforces the charts\' NetworkPolicies', () => {
    test('every workload of the rendered charts has a probe, Ready under Pod Security "restricted"', () => {
      expect(probes.map((p) => p.workload).sort()).toEqual([...spec.services.map((s) => s.name), PGBOUNCER_WRITER, PGBOUNCER_READER].sort());
    });

    test('each service reaches exactly the services its spec entry calls (by their Services\' DNS names)', async () => {
      await expectOutcomes(spec.services.flatMap((s) => spec.services.filter((o) => o.name !== s.name).map((o) => ({
        flow: `${s.name} -> ${o.name}:${o.port}`,
        expected: expectation(s.calls.includes(o.name)),
        run: () => tryFrom(s.name, serviceHost(o.name), o.port),
      }))));
    });

    test('databases are reached through PgBouncer only: the pools reach PostgreSQL, the services do not', async () => {
      const attempts: Attempt[] = [];
      for (const s of spec.services) {
        const pools = s.secrets.includes('database') ? (s.database?.replicaReads ? [PGBOUNCER_WRITER, PGBOUNCER_READER] : [PGBOUNCER_WRITER]) : [];
        for (const pool of [PGBOUNCER_WRITER, PGBOUNCER_READER]) {
          attempts.push({ flow: `${s.name} -> ${pool}`, expected: expectation(pools.includes(pool)), run: async () => tryFrom(s.name, await podIp(pool), spec.dataTier.pgbouncer.port) });
        }
        attempts.push({ flow: `${s.name} -> postgres`, expected: 'refused', run: () => tryFrom(s.name, outside[OUTSIDE.dataTier]!, stores.postgres) });
      }
      for (const pool of [PGBOUNCER_WRITER, PGBOUNCER_READER]) {
        attempts.push({ flow: `${pool} -> postgres`, expected: 'connected', run: () => tryFrom(pool, outside[OUTSIDE.dataTier]!, stores.postgres) });
      }
      await expectOutcomes(attempts);
    });

    test('the cache and the brokers admit the services that hold their secrets, and no other', async () => {
      await expectOutcomes(spec.services.flatMap((s) => ([['cache', stores.redis], ['broker', stores.kafka]] as const).map(([kind, port]) => ({
        flow: `${s.name} -> ${kind}`,
        expected: expectation(s.secrets.includes(kind)),
        run: () => tryFrom(s.name, outside[OUTSIDE.dataTier]!, port),
      }))));
    });

    test('only the payment provider\'s client reaches the internet; every workload reaches Vault', async () => {
      await expectOutcomes(probes.flatMap((p) => [
        {
          flow: `${p.workload} -> internet`,
          expected: expectation(spec.services.find((s) => s.name === p.workload)?.secrets.includes('payment-provider') ?? false),
          run: () => tryFrom(p.workload, outside[OUTSIDE.internet]!, paymentProviderPort(spec)),
        },
        { flow: `${p.workload} -> vault`, expected: 'connected' as const, run: () => tryFrom(p.workload, outside[OUTSIDE.vault]!, spec.vault.apiPort) },
      ]));
    });

    test('the load balancer reaches the edge service\'s pods; the restricted zone and the private services do not take its traffic', async () => {
      const edge = edgeService(spec);
      const inner = spec.services.find((s) => s.exposes !== 'edge')!;
      await expectOutcomes([
        ...[edge.port, edge.healthPort].map((port) => ({
          flow: `load balancer -> ${edge.name}:${port}`, expected: 'connected' as const,
          run: async () => tryFromOutside(outside[OUTSIDE.loadBalancer]!, await podIp(edge.name), port),
        })),
        { flow: `restricted zone -> ${edge.name}`, expected: 'refused', run: async () => tryFromOutside(outside[OUTSIDE.dataTier]!, await podIp(edge.name), edge.port) },
        { flow: `load balancer -> ${inner.name}`, expected: 'refused', run: async () => tryFromOutside(outside[OUTSIDE.loadBalancer]!, await podIp(inner.name), inner.port) },
      ]);
    });

    test('a service\'s image, built from its Dockerfile and pushed to the registry the chart names, runs as its Deployment runs it', async () => {
      const name = spec.services.find((s) => s.secrets.includes('database'))!.name;
      const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name)!;
      const pod = deployment.spec.template.spec;
      const container = pod.containers.find((c: { name: string }) => c.name === name) ?? pod.containers[0];
      expect(container.imagePullPolicy).toBe('Always');
      expect(container.image.startsWith(`${environment.imageRegistry}/`)).toBe(true);
      // The bundle in a build context of this test's own (npm run build:services writes build/ for other tests).
      const context = mkdtempSync(join(tmpdir(), 'platform-test-image-'));
      try {
        await execFileAsync('npx', ['tsx', 'scripts/build-services.ts', `--out=${join(context, 'build', 'services')}`, name], { cwd: REPO_ROOT, timeout: 120000 });
        await cluster!.pushImages([{ ...nodeBaseRecipe(), baseOnly: true }, dockerfileRecipe(join(REPO_ROOT, 'services', name, 'Dockerfile'), container.image, {}, context)]);
      } finally {
        rmSync(context, { recursive: true, force: true });
      }
      const check = `const fs = require('node:fs');
let rootWritable = true;
try { fs.writeFileSync('/app/probe', 'x'); } catch (e) { rootWritable = e.code !== 'EROFS'; }
console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), cwd: process.cwd(), main: fs.existsSync('/app/main.js'), rootWritable }));`;
      await cluster!.apply([{
        apiVersion: 'v1', kind: 'Pod',
        metadata: { name: 'image-check', namespace: deployment.metadata.namespace },
        spec: {
          restartPolicy: 'Never', automountServiceAccountToken: false, securityContext: pod.securityContext,
          containers: [{
            name: 'check', image: container.image, imagePullPolicy: container.imagePullPolicy, securityContext: container.securityContext,
            command: ['/nodejs/bin/node', '-e', check], resources: { requests: { cpu: '10m', memory: '48Mi' }, limits: { memory: '96Mi' } },
          }],
        },
      }]);
      const ns = deployment.metadata.namespace!;
      await cluster!.kubectl(['-n', ns, 'wait', '--for=jsonpath={.status.phase}=Succeeded', 'pod/image-check', '--timeout=180s'], undefined, 200000);
      expect(JSON.parse((await cluster!.kubectl(['-n', ns, 'logs', 'image-check'])).trim())).toEqual({ uid: 65532, gid: 65532, cwd: '/app', main: true, rootWritable: false });
      const imageId = (await cluster!.kubectl(['-n', ns, 'get', 'pod', 'image-check', '-o', 'jsonpath={.status.containerStatuses[0].imageID}'])).trim();
      expect(imageId).toMatch(new RegExp(`^${environment.imageRegistry}/platform/${name}@sha256:[0-9a-f]{64}$`));
    });

    // Last: it ends the cluster the tests above use.
    test('dispose() leaves nothing behind: no namespace, address, route, cgroup, state file or folder', async () => {
      expect((await hostTraces()).length).toBeGreaterThan(0);
      const before = TUNABLES.map((k) => `${k}=${cluster!.hostKernelTunables[k]}`);
      expect(before.filter((entry) => entry.endsWith('=undefined'))).toEqual([]);
      await cluster!.dispose();
      expect(await hostTraces()).toEqual([]);
      expect(kernelTunables()).toEqual(before);
    });
  });
}
