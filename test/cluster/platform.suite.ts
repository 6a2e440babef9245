// The platform run for real on the local cluster (scripts/local-cluster/platform.ts): the local
// environment's charts as rendered, applied by Flux as in production (the configuration drill,
// health checks on: scripts/local-cluster/gitops.ts), start the five services and PgBouncer; every
// workload goes Ready with the charts' security settings and its Vault agent; a client at the load
// balancer's address signs up, logs in, orders and pays through the gateway's Service, and the
// payment's event reaches order-service over Kafka; a gateway pod evicted mid-traffic (the
// PodDisruptionBudget's way) costs no request; PgBouncer's exporter serves the series the alerting
// rules read. The drill restored every object within the configuration RTO, and a Deployment
// deleted by hand comes back Ready through Flux. metrics-server serves node and pod metrics, and
// under load through the gateway user-service's HPA scales its Deployment up, then back to its
// minimum. KEDA makes payment-service's ScaledObject Ready with an HPA on its latency and CPU, and
// serves through the external metrics API the latency Prometheus scrapes from its pods, above
// zero (the ScaledObject Active) once payments flow.
//
// Real: Kubernetes (kubelet, containerd, runc, kube-proxy, CoreDNS, kube-router enforcing the
// NetworkPolicies), the services' images built from their Dockerfiles, PostgreSQL, Redis, Kafka
// and Vault of the harness, Vault configured by vault/bootstrap.sh, cert-manager's controller
// (v1.19.1's packages), the Vault Agent injector (vault-k8s) and the Vault agent, Flux's
// source-controller and kustomize-controller (gitops.fluxControllers) pulling the artifact from
// the registry beside the node, metrics-server (the release its chart runs,
// scripts/setup/metrics-server.sh), KEDA's operator and metrics API server (the release its chart
// runs, scripts/setup/keda.sh), the Prometheus server it asks (the release its chart runs,
// scripts/setup/prometheus.sh, scraping the services' pods with the chart's kubernetes-pods job
// alone: scripts/local-cluster/prometheus.ts) and the HPA controller of kube-controller-manager.
// Stand-ins, and why (scripts/local-cluster/images.ts, workload-images.ts):
// - the images' bases and third-party images, rebuilt from what this machine has: registries
//   other than the package mirrors cannot be reached. See BASE_STAND_INS and WORKLOAD_STAND_INS.
// - stripe-mock behind a TLS terminator at the internet address, in place of Stripe's API.
// - one CA for the servers outside the cluster, trusted by the images in place of the public
//   roots that sign ElastiCache's, MSK's and Stripe's certificates.
// - the load balancer: this test's client, at the public zone's address, in place of the ALB; the
//   load that makes user-service scale is this client's, many accounts reading their profile.
// - the HPAs' downscale stabilization window is the local cluster's one minute, not the default
//   five minutes EKS's controller manager applies (the charts' HPAs set no behavior): a cluster
//   setting (docs/local-cluster.md), so the scale-down is watched within the test's budget.
import { randomUUID } from 'node:crypto';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { revisionTag } from '../../charts/gitops-chart';
import { durationSeconds, loadPlatformSpec, localEnvironment, serviceSizing } from '../../lib/spec';
import { configRepositoryName, edgeService, GITOPS_OBJECT_NAME } from '../../lib/spec/topology';
import { HPA_DOWNSCALE_STABILIZATION_S } from '../../scripts/local-cluster';
import { NODE_NAME } from '../../scripts/local-cluster/components';
import { KEDA_COMMIT, KEDA_VERSION, kedaNames } from '../../scripts/local-cluster/keda';
import { metricsServerNames } from '../../scripts/local-cluster/metrics-server';
import { prometheusNames } from '../../scripts/local-cluster/prometheus';
import { startLocalPlatform } from '../../scripts/local-cluster/platform';
import type { K8sObject, LocalPlatform } from '../../scripts/local-cluster/platform';
import { OUTSIDE } from '../../scripts/local-cluster/plan';
import { apiClient, newAccount, orderBody } from '../services/integration/client';
import type { Account, Api } from '../services/integration/client';
import { readyCondition } from '../harness';
import type { FluxObject, KubeEvent } from '../harness';
import { inventoryKeys, objectKey } from '../gitops/cluster';

const spec = loadPlatformSpec();
const environment = localEnvironment(spec);
const edge = edgeService(spec);
const REQUEST_TIMEOUT_MS = 30000;
/** disasterRecovery.configuration.rto: the drill's budget, within which it waits before it gives up. */
const RTO_SECONDS = durationSeconds(spec.disasterRecovery.configuration!.rto);
/** A Kustomization's apply and health wait (gitops.applyTimeout), with a minute for the request to be picked up. */
const APPLY_MS = durationSeconds(spec.gitops.applyTimeout) * 1000 + 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function platformOnLocalCluster(): void {
  let platform: LocalPlatform;
  let api: Api;
  /** A client like `api` over the agent's connections, kept alive (one load worker's). */
  let apiOver: (agent: HttpsAgent) => Api;

  interface Pod {
    metadata: { name: string; namespace: string; labels?: Record<string, string> };
    spec: { containers: { name: string; image: string; securityContext?: any }[]; initContainers?: { name: string }[] };
    status: { phase: string; podIP?: string; conditions?: { type: string; status: string }[]; containerStatuses?: { name: string; ready: boolean; restartCount: number }[] };
  }

  const toHeaders = (raw: IncomingHttpHeaders) => {
    const headers = new Headers();
    for (const [k, v] of Object.entries(raw)) for (const value of Array.isArray(v) ? v : v === undefined ? [] : [v]) headers.append(k, value);
    return headers;
  };

  /**
   * fetch over TLS from `localAddress` (the load balancer's), verifying the gateway's certificate
   * against the services' CA under the Service's DNS name, as the load balancer's health checks and
   * a strict client would.
   */
  function fetchFrom(localAddress: string, ca: string, servername: string, agent: HttpsAgent | false = false): typeof fetch {
    return ((input: string | URL | Request, init?: RequestInit) => new Promise<Response>((resolve, reject) => {
      const url = new URL(String(input));
      const req = httpsRequest({
        host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: init?.method ?? 'GET',
        headers: init?.headers as Record<string, string>, ca, servername, localAddress, agent, timeout: REQUEST_TIMEOUT_MS,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers: toHeaders(res.headers) }));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(init?.body as string | undefined);
    })) as typeof fetch;
  }

  async function pods(namespace?: string): Promise<Pod[]> {
    const out = await platform.cluster.kubectl(['get', 'pods', ...(namespace ? ['-n', namespace] : ['-A']), '-o', 'json']);
    return (JSON.parse(out) as { items: Pod[] }).items;
  }

  const deployments = () => platform.objects.filter((o): o is K8sObject => o.kind === 'Deployment');

  interface DeploymentStatus {
    metadata: { uid: string; labels?: Record<string, string> };
    spec: { replicas: number };
    status?: { replicas?: number; readyReplicas?: number; updatedReplicas?: number; availableReplicas?: number; conditions?: { type: string; status: string }[] };
  }

  async function deploymentStatus(d: K8sObject): Promise<DeploymentStatus> {
    return JSON.parse(await platform.cluster.kubectl(['-n', d.metadata.namespace!, 'get', 'deployment', d.metadata.name, '-o', 'json'])) as DeploymentStatus;
  }

  /** Rolled out as kstatus (Flux's health check) and `kubectl rollout status` read it: every replica updated, ready and available. */
  function rolledOut(d: DeploymentStatus): boolean {
    const s = d.status ?? {};
    return s.updatedReplicas === d.spec.replicas && s.readyReplicas === d.spec.replicas && s.availableReplicas === d.spec.replicas
      && (s.conditions ?? []).some((c) => c.type === 'Available' && c.status === 'True');
  }

  /**
   * The Deployment's status once rolled out, or the last one seen after `timeoutMs`. Waited for as
   * `kubectl rollout status` does, not read once: the charts leave the replica count to the
   * autoscalers, and an HPA that scales (the sign-ups above load auth-service) after Flux's health
   * check adds a pod that is not Ready yet.
   */
  async function rolledOutWithin(d: K8sObject, timeoutMs = 180_000): Promise<DeploymentStatus> {
    const deadline = Date.now() + timeoutMs;
    let live = await deploymentStatus(d);
    while (!rolledOut(live) && Date.now() < deadline) {
      await sleep(2000);
      live = await deploymentStatus(d);
    }
    return live;
  }

  const fluxNamespace = spec.clusterAddons.flux.namespace;
  async function kustomization(): Promise<FluxObject> {
    return JSON.parse(await platform.cluster.kubectl(['-n', fluxNamespace, 'get', 'kustomization.kustomize.toolkit.fluxcd.io', GITOPS_OBJECT_NAME, '-o', 'json'])) as FluxObject;
  }

  beforeAll(async () => {
    platform = await startLocalPlatform({ spec, environment, log: (line) => process.stderr.write(`local platform: ${line}\n`) });
    const service = JSON.parse(await platform.cluster.kubectl(['-n', edge.name, 'get', 'service', edge.name, '-o', 'json'])) as { spec: { clusterIP: string } };
    const secret = JSON.parse(await platform.cluster.kubectl(['-n', edge.name, 'get', 'secret', `${edge.name}-tls`, '-o', 'json'])) as { data: Record<string, string> };
    const ca = Buffer.from(secret.data['ca.crt']!, 'base64').toString();
    const from = platform.cluster.network.outsideAddresses[OUTSIDE.loadBalancer]!;
    const servername = `${edge.name}.${edge.name}.svc.cluster.local`;
    const base = `https://${service.spec.clusterIP}:${edge.port}`;
    api = apiClient(base, fetchFrom(from, ca, servername));
    apiOver = (agent) => apiClient(base, fetchFrom(from, ca, servername, agent));
  }, 1_200_000 + RTO_SECONDS * 1000);

  afterAll(async () => {
    await platform?.dispose();
  }, 120_000);

  describe('the platform on a real local cluster', () => {
    it('runs every workload Ready, each with its Vault agent and the charts\' security settings', async () => {
      const all = await pods();
      expect(deployments().length).toBeGreaterThanOrEqual(spec.services.length + 2);
      for (const d of deployments()) {
        const selector = Object.entries(d.spec?.selector?.matchLabels ?? {});
        expect({ deployment: d.metadata.name, selects: selector.length > 0 }).toEqual({ deployment: d.metadata.name, selects: true });
        const mine = all.filter((p) => p.metadata.namespace === d.metadata.namespace && selector.every(([k, v]) => p.metadata.labels?.[k] === v));
        const ready = mine.filter((p) => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        expect({ deployment: d.metadata.name, ready: ready.length >= 1 }).toEqual({ deployment: d.metadata.name, ready: true });
        for (const pod of ready) {
          // The injector added the agent (init renders the secrets before the app starts; the sidecar renews them).
          expect({ pod: pod.metadata.name, init: pod.spec.initContainers?.map((c) => c.name) }).toEqual({ pod: pod.metadata.name, init: expect.arrayContaining(['vault-agent-init']) });
          expect(pod.spec.containers.map((c) => c.name)).toContain('vault-agent');
          for (const c of pod.spec.containers.filter((x) => x.name !== 'vault-agent')) {
            expect({ container: `${pod.metadata.name}/${c.name}`, readOnlyRootFilesystem: c.securityContext?.readOnlyRootFilesystem, runAsNonRoot: c.securityContext?.runAsNonRoot })
              .toEqual({ container: `${pod.metadata.name}/${c.name}`, readOnlyRootFilesystem: true, runAsNonRoot: true });
          }
        }
      }
    });

    it('signs up, logs in, orders and pays through the gateway\'s Service; the payment\'s event marks the order paid', async () => {
      const alice = await newAccount(api, 'alice');
      const me = await api('GET', '/v1/users/me', { token: alice.access });
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ id: alice.userId, email: alice.email });

      const order = await api('POST', '/v1/orders', { token: alice.access, body: orderBody('19.99', 2) });
      expect(order.status).toBe(201);
      expect(order.body).toMatchObject({ userId: alice.userId, total: '39.98', status: 'pending' });

      const payment = await api('POST', '/v1/payments', {
        token: alice.access, headers: { 'idempotency-key': randomUUID() },
        body: { orderId: order.body.id, amount: '39.98', currency: 'USD', paymentMethod: 'pm_card_visa' },
      });
      expect(payment.status).toBe(201);
      expect(payment.body).toMatchObject({ orderId: order.body.id, status: 'captured' });
      // payment-service reached the provider at its public name, through the one egress the zones allow.
      expect(platform.outside.provider.requests()).toEqual(expect.arrayContaining([expect.stringMatching(/^POST \/v1\/payment_intents/)]));

      // payment.captured crosses Kafka to order-service.
      let status = '';
      for (let i = 0; i < 120 && status !== 'paid'; i++) {
        status = (await api('GET', `/v1/orders/${order.body.id}`, { token: alice.access })).body.status;
        if (status !== 'paid') await sleep(500);
      }
      expect(status).toBe('paid');
    }, 180_000);

    it("exports PgBouncer's databases and pools from its admin console as the stats user, as the alerting rules read them", async () => {
      const pooler = (await pods('pgbouncer')).find((p) => p.metadata.labels?.['app.kubernetes.io/name'] === 'pgbouncer' && p.status.phase === 'Running');
      expect(pooler).toBeDefined();
      // From inside the pod: the NetworkPolicy admits only Prometheus to the metrics port.
      const metrics = await platform.cluster.kubectl(['-n', 'pgbouncer', 'exec', pooler!.metadata.name, '-c', 'pgbouncer', '--',
        '/bin/busybox', 'wget', '-qO-', `http://127.0.0.1:${spec.workloads.pgbouncer.exporterPort}/metrics`]);
      expect(metrics).toMatch(/^pgbouncer_up 1$/m);
      // The services' databases, with the labels the rules select on; user-service's pool is in use after the flow above.
      expect(metrics).toMatch(/^pgbouncer_databases_max_connections\{(?=[^}]*name="users")(?=[^}]*database="users")[^}]*\} \d+$/m);
      expect(metrics).toMatch(/^pgbouncer_pools_client_waiting_connections\{(?=[^}]*database="users")(?=[^}]*user="user_service")[^}]*\} 0$/m);
    });

    it('evicts a gateway pod mid-traffic within its PodDisruptionBudget without a failed request', async () => {
      const account = await newAccount(api, 'steady');
      const before = (await pods(edge.name)).filter((p) => p.status.phase === 'Running');
      expect(before.length).toBeGreaterThanOrEqual(2);
      const victim = before[0]!.metadata.name;

      const failures: string[] = [];
      let served = 0;
      let stop = false;
      const traffic = (async () => {
        while (!stop) {
          // Four a second: under the gateway's limit per account (600 a minute by default), so
          // every answer but a 200 is a failure. Each request opens its own connection, which
          // kube-proxy balances over both pods.
          const paced = sleep(250);
          try {
            const res = await api('GET', '/v1/users/me', { token: account.access });
            if (res.status === 200) served += 1;
            else failures.push(`${res.status} ${res.raw.slice(0, 200)}`);
          } catch (error) {
            failures.push(String(error));
          }
          await paced;
        }
      })();
      await sleep(2000);
      // The Eviction API: what a node drain does, refused if the PodDisruptionBudget would be broken.
      await platform.cluster.kubectl(['create', '--raw', `/api/v1/namespaces/${edge.name}/pods/${victim}/eviction`, '-f', '-'],
        JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: victim, namespace: edge.name } }));
      await platform.cluster.kubectl(['-n', edge.name, 'wait', '--for=delete', `pod/${victim}`, '--timeout=120s'], undefined, 130000);
      await platform.cluster.kubectl(['-n', edge.name, 'rollout', 'status', `deployment/${edge.name}`, '--timeout=300s'], undefined, 310000);
      await sleep(2000);
      stop = true;
      await traffic;

      expect((await pods(edge.name)).map((p) => p.metadata.name)).not.toContain(victim);
      expect(served).toBeGreaterThan(10);
      expect(failures).toEqual([]);
    }, 600_000);
  });

  describe('Flux applied the workloads: the configuration drill with health checks on the real cluster', () => {
    it('restored the revision from the registry beside the node within the configuration RTO, every step done', () => {
      const gitops = platform.gitops;
      if (!gitops) throw new Error('the platform was started without Flux (applyWith: kubectl)');
      const { restore } = gitops;
      process.stderr.write(`configuration drill: ${restore.totalSeconds} s of ${restore.budgetSeconds} s; ${restore.steps.map((s) => `${s.step} ${s.seconds} s`).join(', ')}\n`);
      expect(restore).toMatchObject({
        mode: 'executed', environment: environment.name, healthChecked: true, budgetSeconds: RTO_SECONDS, withinBudget: true,
        source: `oci://${platform.cluster.registryAddress}/${configRepositoryName(spec)}`,
        appliedRevision: `${revisionTag(environment.gitops.revision)}@${gitops.artifact.digest}`,
      });
      expect(restore.steps.map((s) => s.step)).toEqual(['reconciler', 'source', 'apply', 'verify']);
      for (const step of restore.steps) {
        expect({ step: step.step, done: typeof step.seconds === 'number' && step.seconds >= 0 && step.detail !== null }).toEqual({ step: step.step, done: true });
      }
      expect(restore.steps.find((s) => s.step === 'apply')?.detail).toMatch(/, healthy$/);
      expect(restore.totalSeconds).toBeLessThanOrEqual(RTO_SECONDS);
      expect(restore.objectsApplied).toBe(platform.objects.length);
    });

    it("holds in the Kustomization's inventory exactly the rendered objects, every Deployment rolled out under Flux", async () => {
      const k = await kustomization();
      expect(readyCondition(k)).toMatchObject({ status: 'True' });
      expect(k.spec.wait).toBe(true);
      const rendered = platform.objects.map(objectKey).sort();
      expect(new Set(rendered).size).toBe(rendered.length);
      expect(inventoryKeys(k)).toEqual(rendered);
      for (const d of deployments()) {
        const live = await rolledOutWithin(d);
        expect({ deployment: d.metadata.name, rolledOut: rolledOut(live), appliedBy: live.metadata.labels?.['kustomize.toolkit.fluxcd.io/name'] })
          .toEqual({ deployment: d.metadata.name, rolledOut: true, appliedBy: GITOPS_OBJECT_NAME });
      }
    }, 600_000);

    it('brings back a Deployment deleted by hand, Ready, on the next reconciliation', async () => {
      const target = deployments().find((d) => d.metadata.namespace !== 'pgbouncer' && d.metadata.name !== edge.name)!;
      const where = ['-n', target.metadata.namespace!];
      const uid = (await deploymentStatus(target)).metadata.uid;
      await platform.cluster.kubectl([...where, 'delete', 'deployment', target.metadata.name, '--wait=true', '--timeout=120s'], undefined, 130_000);

      // What `flux reconcile` does, instead of waiting out the drift interval (docs/gitops.md "Drift").
      const requestedAt = new Date().toISOString();
      await platform.cluster.kubectl(['-n', fluxNamespace, 'annotate', 'kustomization.kustomize.toolkit.fluxcd.io', GITOPS_OBJECT_NAME,
        `reconcile.fluxcd.io/requestedAt=${requestedAt}`, '--overwrite']);
      const deadline = Date.now() + APPLY_MS;
      let k = await kustomization();
      while (k.status?.lastHandledReconcileAt !== requestedAt) {
        if (Date.now() > deadline) throw new Error(`the reconcile requested at ${requestedAt} not handled within ${APPLY_MS} ms: ${JSON.stringify(k.status?.conditions)}\n${platform.gitops?.controllers.logTails()}`);
        await sleep(2000);
        k = await kustomization();
      }
      // wait: true: Ready only once the recreated Deployment was healthy (its HPA may scale it since).
      expect(readyCondition(k)).toMatchObject({ status: 'True' });
      const back = await rolledOutWithin(target);
      expect(back.metadata.uid).not.toBe(uid);
      expect(rolledOut(back)).toBe(true);
      // Back in service: every pod of the service was replaced at once, and its callers find the new
      // ones when they next resolve the headless Service (grpc-js waits up to 30 s between lookups).
      let signup = 0;
      for (const until = Date.now() + 120_000; signup !== 201 && Date.now() < until; await sleep(2000)) {
        signup = (await api('POST', '/v1/auth/signup', { body: { email: `back-${randomUUID()}@example.com`, password: 'correct horse battery staple', name: 'Back' } })).status;
      }
      expect(signup).toBe(201);

      const events = JSON.parse(await platform.cluster.kubectl(['-n', fluxNamespace, 'get', 'events', '-o', 'json',
        `--field-selector=involvedObject.kind=Kustomization,involvedObject.name=${GITOPS_OBJECT_NAME}`])) as { items: KubeEvent[] };
      expect(events.items.map((e) => e.message).join('\n')).toContain(`Deployment/${target.metadata.namespace}/${target.metadata.name} created`);
    }, APPLY_MS + 500_000);
  });

  interface Condition { type: string; status: string; reason?: string; message?: string }
  interface Hpa {
    spec: { minReplicas: number; maxReplicas: number; metrics: { type: string; resource?: { name: string; target: { type: string; averageUtilization?: number } } }[] };
    status: {
      currentReplicas?: number;
      desiredReplicas?: number;
      currentMetrics?: { type: string; resource?: { name: string; current: { averageUtilization?: number } } }[] | null;
      conditions?: Condition[];
    };
  }
  interface Deployment { spec: { replicas: number }; status: { replicas?: number; readyReplicas?: number } }
  interface Usage { cpu: string; memory: string }

  /** A CPU quantity as the metrics API writes it (`123456789n`, `12m`, `1`), in cores. */
  function cores(quantity: string): number {
    const match = /^(\d+(?:\.\d+)?)(n|u|m)?$/.exec(quantity);
    if (!match) throw new Error(`not a CPU quantity: ${quantity}`);
    return Number(match[1]) / { n: 1e9, u: 1e6, m: 1e3, '': 1 }[match[2] ?? '']!;
  }

  /** A memory quantity (`123456Ki`, `12Mi`, bytes), in bytes. */
  function bytes(quantity: string): number {
    const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(quantity);
    if (!match) throw new Error(`not a memory quantity: ${quantity}`);
    return Number(match[1]) * { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, '': 1 }[match[2] ?? '']!;
  }

  /**
   * Polls `observe` every `intervalMs` until `done` holds for what it returned; fails after
   * `timeoutMs` with the last observation. Budgets are for a loaded 2-core machine.
   */
  async function until<T>(what: string, observe: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, intervalMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await observe();
      if (done(value)) return value;
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs / 1000} s; last: ${JSON.stringify(value)}`);
      await sleep(intervalMs);
    }
  }

  describe('metrics-server and the autoscalers on the local cluster', () => {
    const metrics = metricsServerNames(spec.clusterAddons.metricsServer);
    const users = spec.services.find((s) => s.name === 'user-service')!;
    const sizing = serviceSizing(spec, environment, users.name);
    const getJson = async <T>(args: readonly string[]) => JSON.parse(await platform.cluster.kubectl(args)) as T;

    it('serves node and pod metrics through the metrics API, as kubectl top reads them', async () => {
      const apiService = await getJson<{ status: { conditions?: Condition[] } }>(['get', 'apiservice', metrics.apiService, '-o', 'json']);
      expect(apiService.status.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'Available', status: 'True' })]));

      // metrics-server scraped kubelet's resource metrics, verifying its serving certificate.
      const nodes = await until('metrics of the node', () => getJson<{ items: { metadata: { name: string }; usage: Usage }[] }>(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes']),
        (list) => list.items.some((n) => n.metadata.name === NODE_NAME), 180_000);
      const node = nodes.items.find((n) => n.metadata.name === NODE_NAME)!;
      expect(cores(node.usage.cpu)).toBeGreaterThan(0);
      expect(bytes(node.usage.memory)).toBeGreaterThan(0);

      // Every Ready pod of user-service, each of its containers (the service's and its Vault agent's).
      type PodMetrics = { metadata: { name: string }; containers: { name: string; usage: Usage }[] };
      const ready = (await pods(users.name)).filter((p) => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      expect(ready.length).toBeGreaterThanOrEqual(sizing.minReplicas);
      const podMetrics = await until('metrics of every Ready user-service pod',
        () => getJson<{ items: PodMetrics[] }>(['get', '--raw', `/apis/metrics.k8s.io/v1beta1/namespaces/${users.name}/pods`]),
        (list) => ready.every((p) => list.items.some((m) => m.metadata.name === p.metadata.name)), 180_000);
      for (const pod of ready) {
        const m = podMetrics.items.find((x) => x.metadata.name === pod.metadata.name)!;
        expect(m.containers.map((c) => c.name).sort()).toEqual(pod.spec.containers.map((c) => c.name).sort());
        for (const c of m.containers) expect({ container: c.name, memory: bytes(c.usage.memory) > 0 }).toEqual({ container: c.name, memory: true });
      }
    }, 600_000);

    it("scales user-service up under load through the gateway, then back to its minimum once the load stops", async () => {
      const trigger = users.autoscaling.trigger;
      if (trigger.type !== 'cpu') throw new Error(`user-service's autoscaling trigger is ${trigger.type}; this test drives a CPU HPA`);
      const target = trigger.targetUtilizationPercent;
      const hpa = () => getJson<Hpa>(['-n', users.name, 'get', 'hpa', users.name, '-o', 'json']);
      const deployment = () => getJson<Deployment>(['-n', users.name, 'get', 'deployment', users.name, '-o', 'json']);
      const utilization = (h: Hpa) => h.status.currentMetrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu')?.resource?.current.averageUtilization;
      const started = Date.now();
      const timeline: string[] = [];
      const observe = async () => {
        const [h, d] = await Promise.all([hpa(), deployment()]);
        const line = `+${Math.round((Date.now() - started) / 1000)} s: cpu ${utilization(h) ?? '-'}% of requests (target ${target}%), desired ${h.status.desiredReplicas}, current ${h.status.currentReplicas}, deployment ${d.status.readyReplicas ?? 0}/${d.status.replicas ?? 0} ready`;
        if (timeline.at(-1)?.replace(/^\+\d+ s: /, '') !== line.replace(/^\+\d+ s: /, '')) timeline.push(line);
        return { hpa: h, deployment: d };
      };
      const settled = (o: { hpa: Hpa; deployment: Deployment }) =>
        o.hpa.status.desiredReplicas === sizing.minReplicas && o.hpa.status.currentReplicas === sizing.minReplicas
        && o.deployment.spec.replicas === sizing.minReplicas && o.deployment.status.replicas === sizing.minReplicas && o.deployment.status.readyReplicas === sizing.minReplicas;

      try {
        // The chart's HPA as the spec shapes it, reading metrics-server's numbers.
        const before = await until('user-service\'s HPA reading CPU at its minimum', observe,
          (o) => utilization(o.hpa) !== undefined && settled(o), (HPA_DOWNSCALE_STABILIZATION_S + 300) * 1000);
        expect(before.hpa.spec).toMatchObject({
          minReplicas: sizing.minReplicas, maxReplicas: sizing.maxReplicas,
          metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } } }],
        });
        expect(before.hpa.status.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'ScalingActive', status: 'True' })]));

        // Many accounts reading their profile (gateway -> user-service GetUser), each on a kept-alive
        // connection, eight a second each: under the gateway's limit per account (600 a minute by
        // default), so its answers are the services' work, not 429s.
        const workers: { agent: HttpsAgent; client: Api; account: Account }[] = [];
        // One after the other: each sign-up hashes a password, which a loaded machine does slowly.
        for (let i = 0; i < 12; i++) {
          const agent = new HttpsAgent({ keepAlive: true, maxSockets: 1 });
          workers.push({ agent, client: apiOver(agent), account: await newAccount(api, `load${i}`) });
        }
        const answers = new Map<string, number>();
        timeline.push(`+${Math.round((Date.now() - started) / 1000)} s: load started, ${workers.length} accounts`);
        let stop = false;
        const load = Promise.all(workers.map(async ({ client, account }) => {
          while (!stop) {
            const paced = sleep(125);
            const status = await client('GET', '/v1/users/me', { token: account.access }).then((r) => String(r.status), (e: unknown) => (e instanceof Error ? e.message : String(e)));
            answers.set(status, (answers.get(status) ?? 0) + 1);
            await paced;
          }
        }));
        let peakUtilization = 0;
        let peakReady = 0;
        try {
          await until('scale-up of user-service under load', async () => {
            const o = await observe();
            peakUtilization = Math.max(peakUtilization, utilization(o.hpa) ?? 0);
            peakReady = Math.max(peakReady, o.deployment.status.readyReplicas ?? 0);
            return o;
          }, (o) => (o.hpa.status.desiredReplicas ?? 0) > sizing.minReplicas && (o.deployment.status.readyReplicas ?? 0) > sizing.minReplicas, 900_000);
        } finally {
          stop = true;
          await load;
          for (const w of workers) w.agent.destroy();
          timeline.push(`+${Math.round((Date.now() - started) / 1000)} s: load stopped; answers: ${JSON.stringify(Object.fromEntries(answers))}`);
        }
        expect(answers.get('200') ?? 0).toBeGreaterThan(0);
        expect(peakUtilization).toBeGreaterThan(target);
        expect(peakReady).toBeGreaterThan(sizing.minReplicas);
        expect(peakReady).toBeLessThanOrEqual(sizing.maxReplicas);

        // Idle again: the HPA goes back to the minimum after the stabilization window, and the
        // Deployment's extra pods are gone.
        const after = await until('scale-down of user-service to its minimum', observe, settled, (HPA_DOWNSCALE_STABILIZATION_S + 600) * 1000);
        expect(utilization(after.hpa)).toBeLessThan(target);
      } finally {
        process.stderr.write(`autoscaling of ${users.name}:\n  ${timeline.join('\n  ')}\n`);
      }
    }, 2_400_000);
  });

  interface ScaledObject {
    status?: { conditions?: Condition[]; hpaName?: string; externalMetricNames?: string[] };
  }
  interface ExternalMetricValueList { items: { metricName: string; metricLabels?: Record<string, string>; value: string }[] }

  /** A decimal quantity as the external metrics API writes it (`0`, `12m`, `1500u`, `2`), as a number. */
  function decimal(quantity: string): number {
    const match = /^(\d+(?:\.\d+)?)(n|u|m|k)?$/.exec(quantity);
    if (!match) throw new Error(`not a decimal quantity: ${quantity}`);
    return Number(match[1]) * { n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, '': 1 }[match[2] ?? '']!;
  }

  // Last: the payments below may make KEDA's HPA scale payment-service up, and its extra pods would
  // take the node's room from the user-service scale-up above.
  describe('KEDA and the latency autoscaler on the local cluster', () => {
    const keda = kedaNames(spec.clusterAddons.keda);
    const prometheus = prometheusNames(spec.clusterAddons.prometheus);
    const payments = spec.services.find((s) => s.autoscaling.trigger.type === 'latency')!;
    const sizing = serviceSizing(spec, environment, payments.name);
    const getJson = async <T>(args: readonly string[]) => JSON.parse(await platform.cluster.kubectl(args)) as T;
    const scaledObject = () => getJson<ScaledObject>(['-n', payments.name, 'get', 'scaledobject.keda.sh', payments.name, '-o', 'json']);
    const condition = (so: ScaledObject, type: string) => so.status?.conditions?.find((c) => c.type === type);
    const selector = `scaledobject.keda.sh/name=${payments.name}`;
    const externalMetric = (metric: string) => getJson<ExternalMetricValueList>(['get', '--raw',
      `/apis/external.metrics.k8s.io/v1beta1/namespaces/${payments.name}/${metric}?labelSelector=${encodeURIComponent(selector)}`]);

    it('runs the release its chart names: the operator and the metrics API server log KEDA 2.20.2 at the tag\'s commit', async () => {
      for (const deployment of [keda.operator, keda.metricsApiServer]) {
        const logs = await platform.cluster.kubectl(['-n', keda.namespace, 'logs', `deployment/${deployment}`, '--tail=-1']);
        expect({ deployment, version: logs.includes(`KEDA Version: ${KEDA_VERSION.replace(/^v/, '')}`), commit: logs.includes(`Git Commit: ${KEDA_COMMIT}`) })
          .toEqual({ deployment, version: true, commit: true });
      }
    });

    it("marks payment-service's ScaledObject Ready, makes its HPA with the latency and CPU metrics, and serves the latency through the external metrics API", async () => {
      const trigger = payments.autoscaling.trigger;
      if (trigger.type !== 'latency') throw new Error(`${payments.name}'s trigger is ${trigger.type}`);
      // Ready: KEDA built both scalers and its HPA, and asked Prometheus without an error.
      const so = await until(`${payments.name}'s ScaledObject Ready`, scaledObject, (o) => condition(o, 'Ready')?.status === 'True', 300_000);
      expect(condition(so, 'Ready')).toMatchObject({ reason: 'ScaledObjectReady' });
      // Active as KEDA sets it: the latency above its activation threshold (0) in the last two minutes.
      expect(['True', 'False']).toContain(condition(so, 'Active')?.status);
      expect(condition(so, 'Fallback')).toMatchObject({ status: 'False' });
      expect(so.status?.hpaName).toBe(payments.name);
      const [metric] = so.status?.externalMetricNames ?? [];
      expect(so.status?.externalMetricNames).toEqual([metric]);

      const hpa = await until(`the HPA KEDA made for ${payments.name} reading both metrics`,
        () => getJson<Hpa & { metadata: { ownerReferences?: { kind: string; name: string }[] }; spec: { metrics: unknown[]; behavior?: unknown } }>(['-n', payments.name, 'get', 'hpa', payments.name, '-o', 'json']),
        (h) => (h.status.conditions ?? []).some((c) => c.type === 'ScalingActive' && c.status === 'True') && (h.status.currentMetrics ?? []).length === 2, 300_000);
      expect(hpa.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'ScaledObject', name: payments.name })]);
      expect(hpa.spec).toMatchObject({ minReplicas: sizing.minReplicas, maxReplicas: sizing.maxReplicas, behavior: { scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Max' } } });
      // The latency threshold in seconds (thresholdMs / 1000), which KEDA writes as a milli-quantity.
      expect(hpa.spec.metrics).toHaveLength(2);
      expect(hpa.spec.metrics).toEqual(expect.arrayContaining([
        { type: 'External', external: { metric: { name: metric, selector: { matchLabels: { 'scaledobject.keda.sh/name': payments.name } } }, target: { type: 'Value', value: `${trigger.thresholdMs}m` } } },
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: trigger.cpuTargetUtilizationPercent } } },
      ]));

      // What the HPA controller reads: the aggregated API, through KEDA's metrics API server and operator, from Prometheus.
      const values = await externalMetric(metric!);
      expect(values.items).toEqual([expect.objectContaining({ metricName: metric })]);
      expect(decimal(values.items[0]!.value)).toBeGreaterThanOrEqual(0);
    }, 700_000);

    it("reads payment-service's own latency, scraped by Prometheus, once payments flow: the external metric above zero and the ScaledObject Active", async () => {
      // Prometheus scrapes every payment-service pod through the NetworkPolicy's Prometheus peer.
      const ready = (await pods(payments.name)).filter((p) => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      const query = async (promql: string) => getJson<{ status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } }>(['get', '--raw',
        `/api/v1/namespaces/${prometheus.namespace}/services/${prometheus.server}:80/proxy/api/v1/query?query=${encodeURIComponent(promql)}`]);
      const up = await until(`Prometheus scraping every Ready ${payments.name} pod`, () => query(`up{namespace="${payments.name}"}`),
        (r) => ready.every((p) => r.data.result.some((s) => s.metric.pod === p.metadata.name && s.value[1] === '1')), 300_000);
      expect(up.status).toBe('success');

      const [metric] = (await scaledObject()).status?.externalMetricNames ?? [];
      const account = await newAccount(api, 'latency');
      let stop = false;
      // The payments' answers (an order refused counts as its own status), and any transport error.
      const answers = new Map<string, number>();
      const count = (answer: string) => answers.set(answer, (answers.get(answer) ?? 0) + 1);
      const load = (async () => {
        while (!stop) {
          const paced = sleep(1000);
          try {
            const order = await api('POST', '/v1/orders', { token: account.access, body: orderBody('5.00', 1) });
            if (order.status === 201) {
              const paid = await api('POST', '/v1/payments', {
                token: account.access, headers: { 'idempotency-key': randomUUID() },
                body: { orderId: order.body.id, amount: '5.00', currency: 'USD', paymentMethod: 'pm_card_visa' },
              });
              count(String(paid.status));
            } else {
              count(`order ${order.status}`);
            }
          } catch (error) {
            count(error instanceof Error ? error.message : String(error));
          }
          await paced;
        }
      })();
      let latency = 0;
      try {
        // Two scrapes a minute apart (the chart's interval) span the payments before the rate has a value.
        const active = await until(`${payments.name}'s latency through the external metrics API and the ScaledObject Active`, async () => {
          latency = decimal((await externalMetric(metric!)).items[0]!.value);
          return { latency, active: condition(await scaledObject(), 'Active') };
        }, (o) => o.latency > 0 && o.active?.status === 'True', 420_000);
        expect(active.active).toMatchObject({ status: 'True', reason: 'ScalerActive' });
      } finally {
        stop = true;
        await load;
        process.stderr.write(`${payments.name} latency (p95, s) through the external metrics API: ${latency}; payments answered ${JSON.stringify(Object.fromEntries(answers))}\n`);
      }
      expect(answers.get('201') ?? 0).toBeGreaterThan(0);
      // The same p95 as Prometheus computes it, in seconds: a plausible request time.
      expect(latency).toBeGreaterThan(0);
      expect(latency).toBeLessThan(60);
    }, 900_000);
  });
}
