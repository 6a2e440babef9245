// The Vault Agent injector as the local cluster runs it (scripts/local-cluster/vault-injector.ts,
// the objects of the `vault` chart with the CDK add-on's values), against a bare API server: a pod
// made from each rendered local Deployment's template comes back with the Vault Agent its
// annotations ask for, and a pod that asks for none comes back as it was.
//
// Real: kube-apiserver's admission (the webhook, then ServiceAccount and Pod Security
// "restricted" on the mutated pod), RBAC (the injector calls the API as its ServiceAccount, with
// only the chart's roles: the leader elector's lock and the webhook's CA bundle need them), and
// vault-k8s itself (scripts/setup/vault-injector.sh).
// Stand-ins, and why:
// - the injector runs as a host process, not in the Deployment's pod: the bare API server has no
//   nodes. It gets what kubelet gives the container: the Deployment's env and args, and its
//   service-account token, CA and namespace at /var/run/secrets/kubernetes.io/serviceaccount, in
//   a private mount namespace (vault-k8s only knows the in-cluster configuration). Its pod is
//   created from the Deployment's template and never runs: the leader elector's lock names it.
// - the webhook's clientConfig is a `url` to that process in place of the Service: with no nodes
//   there are no endpoints and no Service network. Rules, selectors and failure policy stay the
//   rendered ones.
// - its serving certificate comes from the harness CA (AGENT_INJECT_TLS_CERT_FILE/KEY_FILE) in
//   place of TLS auto's own, which is made for the Service's names, not for 127.0.0.1. The
//   injector still writes the CA into the webhook it names (AGENT_INJECT_TLS_AUTO), as in the cluster.
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderLocalCharts } from '../../scripts/local-cluster/platform';
import { loadPlatformSpec, localEnvironment } from '../../lib/spec';
import type { ChartEnvironment, PlatformSpec } from '../../lib/spec';
import { vaultAddress } from '../../lib/spec/topology';
import { RUN_AS_USER } from '../../charts/lib/pod';
import { vaultInjectorValues } from '../../lib/constructs/cluster/addons/vault-agent-injector';
import {
  CHART_DEFAULTS, VAULT_K8S_VERSION, findVaultInjectorBinary, vaultInjectorNames, vaultInjectorObjects,
} from '../../scripts/local-cluster/vault-injector';
import type { KubeObject } from '../../scripts/local-cluster/vault-injector';
import { ManagedProcess, freePort, startOnFreePorts, waitReady } from '../../scripts/local-stack/process';
import { VAULT_VERSION, issueServiceCertificate, startKubeApiServer } from '../harness';
import type { KubeApiServer } from '../harness';
import { requestJson } from '../../scripts/local-stack/https';

interface Container {
  name: string;
  image: string;
  env?: { name: string; value?: string; valueFrom?: { fieldRef: { fieldPath: string } } }[];
  args?: string[];
  volumeMounts?: { name: string; mountPath: string }[];
  securityContext?: Record<string, unknown>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface Volume { name: string; emptyDir?: { medium?: string }; secret?: { secretName: string }; projected?: { sources: { serviceAccountToken?: { path: string } }[] } }
interface PodTemplate {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: Container[]; initContainers?: Container[]; volumes?: Volume[]; [field: string]: unknown };
}
interface Rendered extends KubeObject { spec?: { template?: PodTemplate } }
/** The Vault Agent's configuration (VAULT_CONFIG), the parts asserted here. */
interface AgentConfig {
  exit_after_auth: boolean;
  vault: { address: string; ca_cert?: string };
  auto_auth: { method: { type: string; mount_path: string; config: { role: string; token_path: string } } };
  template: { destination: string; contents: string }[];
}

const spec: PlatformSpec = loadPlatformSpec();
const environment: ChartEnvironment = localEnvironment(spec);
const names = vaultInjectorNames(spec.clusterAddons.vaultInjector);
const AGENT_IMAGE = CHART_DEFAULTS.images.agent;
const injectorObjects = vaultInjectorObjects(spec, {
  injectorImage: `hashicorp/vault-k8s:${VAULT_K8S_VERSION.replace(/^v/, '')}`,
  agentImage: AGENT_IMAGE,
  vaultAddress: vaultAddress(spec),
});
const ANNOTATION = 'vault.hashicorp.com/';
const SA_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
/** The Deployment's container, run with kubelet's in-cluster files in a private mount namespace. */
const IN_CLUSTER = `run=$(readlink -f /var/run)
mount -t tmpfs -o mode=0755 tmpfs "$run"
mkdir -p ${SA_MOUNT}
cp "$SA_FILES/token" "$SA_FILES/ca.crt" "$SA_FILES/namespace" ${SA_MOUNT}/
exec "$@"`;

const rendered = () => renderLocalCharts(spec, environment) as unknown as Rendered[];

const objects = rendered();
const deployments = objects.filter((o) => o.kind === 'Deployment');
const injectorDeployment = injectorObjects.find((o) => o.kind === 'Deployment') as Rendered;
const injectorContainer = injectorDeployment.spec!.template!.spec.containers[0]!;

let kube: KubeApiServer;
let injector: ManagedProcess;
let caPem: string;
const INJECTOR_POD = `${names.injector}-host-process`;

/** Server-side apply; forced, as a retried start re-applies the webhook whose CA bundle the injector has patched. */
async function apply(items: readonly object[]): Promise<void> {
  await kube.kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
}

/** The rendered webhook, calling `url` in place of the injector's Service. */
function webhookAt(url: string): object {
  const rendered = injectorObjects.find((o) => o.kind === 'MutatingWebhookConfiguration') as KubeObject & { webhooks: { clientConfig: object }[] };
  return {
    ...rendered,
    webhooks: rendered.webhooks.map((w) => ({ ...w, clientConfig: { ...w.clientConfig, service: undefined, url } })),
  };
}

/** The container's env as kubelet resolves it for INJECTOR_POD (its two downward-API fields). */
function resolvedEnv(container: Container): Record<string, string> {
  const fields: Record<string, string> = { 'metadata.namespace': names.namespace, 'metadata.name': INJECTOR_POD };
  return Object.fromEntries((container.env ?? []).map((e) => {
    const value = e.value ?? fields[e.valueFrom!.fieldRef.fieldPath];
    if (value === undefined) throw new Error(`${e.name}: a field kubelet would resolve that this test does not`);
    return [e.name, value];
  }));
}

async function startInjector(): Promise<void> {
  const dir = join(kube.dir, 'vault-injector');
  const saFiles = join(dir, 'serviceaccount');
  await mkdir(saFiles, { recursive: true });
  await writeFile(join(saFiles, 'token'), await kube.createToken(names.namespace, names.injector), { mode: 0o600 });
  await writeFile(join(saFiles, 'ca.crt'), caPem);
  await writeFile(join(saFiles, 'namespace'), names.namespace);
  const cert = await issueServiceCertificate(kube.ca, names.service);
  const api = new URL(kube.url);
  let port = 0;
  injector = new ManagedProcess({
    name: 'vault-k8s', command: 'unshare', args: [], logFile: join(dir, 'vault-k8s.log'), orphanDir: dir,
  });
  await startOnFreePorts(injector, async () => {
    port = await freePort();
    injector.opts.args = ['--mount', '--propagation', 'private', '/bin/sh', '-ec', IN_CLUSTER, 'in-cluster', findVaultInjectorBinary(), ...injectorContainer.args!];
    injector.opts.env = {
      PATH: process.env.PATH,
      SA_FILES: saFiles,
      KUBERNETES_SERVICE_HOST: api.hostname,
      KUBERNETES_SERVICE_PORT: api.port,
      ...resolvedEnv(injectorContainer),
      AGENT_INJECT_LISTEN: `127.0.0.1:${port}`,
      AGENT_INJECT_TLS_CERT_FILE: cert.certFile,
      AGENT_INJECT_TLS_KEY_FILE: cert.keyFile,
      AGENT_INJECT_TLS_CA_CERT_FILE: kube.caFile,
    };
    await apply([webhookAt(`https://127.0.0.1:${port}/mutate`)]);
  }, async () => {
    injector.start();
    // Ready: it serves, and (as the elected leader) has written its CA into the webhook.
    await waitReady(injector, async () => {
      const webhook = await kube.request('GET', `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${names.webhook}`);
      if (webhook.body?.webhooks?.[0]?.clientConfig?.caBundle !== Buffer.from(caPem).toString('base64')) return false;
      return (await requestJson(`https://127.0.0.1:${port}/health/ready`, { ca: caPem })).status === 204;
    }, { timeoutMs: 60000, intervalMs: 250, what: `its CA bundle in ${names.webhook} and /health/ready` });
  });
}

beforeAll(async () => {
  kube = await startKubeApiServer({ controllers: [] });
  caPem = readFileSync(kube.caFile, 'utf8');
  const namespaces = objects.filter((o) => o.kind === 'Namespace');
  const inNamespaces = new Set(namespaces.map((n) => n.metadata.name));
  await apply(namespaces);
  await apply(objects.filter((o) => o.kind === 'ServiceAccount' && inNamespaces.has(o.metadata.namespace!)));
  await apply(injectorObjects.filter((o) => o.kind !== 'MutatingWebhookConfiguration'));
  const template = injectorDeployment.spec!.template!;
  const created = await kube.request('POST', `/api/v1/namespaces/${names.namespace}/pods`, {
    body: { apiVersion: 'v1', kind: 'Pod', metadata: { ...template.metadata, name: INJECTOR_POD }, spec: template.spec },
  });
  if (created.status !== 201) throw new Error(`the injector's pod: ${created.status} ${created.text}`);
  await startInjector();
}, 300000);

afterAll(async () => {
  await injector?.stop();
  await kube?.dispose();
}, 60000);

/** A pod made from `template`, created dry-run (admission runs in full, nothing is stored). */
async function createPod(namespace: string, name: string, template: PodTemplate): Promise<PodTemplate> {
  const res = await kube.request<PodTemplate>('POST', `/api/v1/namespaces/${namespace}/pods?dryRun=All`, {
    body: { apiVersion: 'v1', kind: 'Pod', metadata: { ...template.metadata, name, namespace }, spec: template.spec },
  });
  if (res.status !== 201) throw new Error(`pod ${namespace}/${name}: ${res.status} ${res.text}`);
  return res.body;
}

const requestsReceived = () => (readFileSync(injector.opts.logFile, 'utf8').match(/Request received/g) ?? []).length;

function agentConfig(container: Container): AgentConfig {
  const encoded = container.env?.find((e) => e.name === 'VAULT_CONFIG')?.value;
  if (!encoded) throw new Error(`${container.name}: no VAULT_CONFIG`);
  return JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as AgentConfig;
}

describe('the injector objects follow the chart with the add-on\'s values', () => {
  test('the Deployment runs `vault-k8s agent-inject` with the external Vault, the auth path, the agent image and TLS auto for its Service', () => {
    const field = (fieldPath: string) => ({ valueFrom: { fieldRef: { fieldPath } } });
    expect(injectorContainer.args).toEqual(['agent-inject', '2>&1']);
    expect(injectorContainer.env).toEqual([
      { name: 'AGENT_INJECT_LISTEN', value: ':8080' },
      { name: 'AGENT_INJECT_LOG_LEVEL', value: 'info' },
      { name: 'AGENT_INJECT_VAULT_ADDR', value: vaultAddress(spec) },
      { name: 'AGENT_INJECT_VAULT_AUTH_PATH', value: 'auth/kubernetes' },
      { name: 'AGENT_INJECT_VAULT_IMAGE', value: AGENT_IMAGE },
      { name: 'AGENT_INJECT_TLS_AUTO', value: 'vault-agent-injector-cfg' },
      { name: 'AGENT_INJECT_TLS_AUTO_HOSTS', value: 'vault-agent-injector-svc,vault-agent-injector-svc.vault,vault-agent-injector-svc.vault.svc' },
      { name: 'AGENT_INJECT_LOG_FORMAT', value: 'standard' },
      { name: 'AGENT_INJECT_REVOKE_ON_SHUTDOWN', value: 'false' },
      // Two replicas (the add-on's values): one leader makes the certificate.
      { name: 'AGENT_INJECT_USE_LEADER_ELECTOR', value: 'true' },
      { name: 'NAMESPACE', ...field('metadata.namespace') },
      { name: 'AGENT_INJECT_CPU_REQUEST', value: '250m' },
      { name: 'AGENT_INJECT_CPU_LIMIT', value: '500m' },
      { name: 'AGENT_INJECT_MEM_REQUEST', value: '64Mi' },
      { name: 'AGENT_INJECT_MEM_LIMIT', value: '128Mi' },
      { name: 'AGENT_INJECT_DEFAULT_TEMPLATE', value: 'map' },
      { name: 'AGENT_INJECT_TEMPLATE_CONFIG_EXIT_ON_RETRY_FAILURE', value: 'true' },
      { name: 'POD_NAME', ...field('metadata.name') },
    ]);
    expect(injectorDeployment.metadata.namespace).toBe(spec.clusterAddons.vaultInjector.namespace);
    expect((injectorDeployment.spec as { replicas: number }).replicas).toBe(vaultInjectorValues(vaultAddress(spec)).injector.replicas);
  });

  test('the agent image the chart names is of the Vault release scripts/setup/vault.sh builds, so a local image of that name holds it', () => {
    expect(AGENT_IMAGE).toBe(`hashicorp/vault:${VAULT_VERSION.replace(/^v/, '')}`);
  });

  test('a chart version other than the one the objects follow is refused, naming the field', () => {
    const other = { ...spec, clusterAddons: { ...spec.clusterAddons, vaultInjector: { ...spec.clusterAddons.vaultInjector, version: '0.32.0' } } };
    expect(() => vaultInjectorObjects(other, { injectorImage: 'i', agentImage: 'a', vaultAddress: 'https://v' }))
      .toThrow(/clusterAddons\.vaultInjector is vault 0\.32\.0/);
  });

  test('the leader elector took its lock as the injector\'s pod, with the chart\'s Role', async () => {
    const lock = await kube.request('GET', `/api/v1/namespaces/${names.namespace}/configmaps/vault-k8s-leader`);
    expect(lock.status).toBe(200);
    expect(lock.body.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Pod', name: INJECTOR_POD })]);
  });
});

describe('pods of the rendered local Deployments get the Vault Agent their annotations ask for', () => {
  test.each(deployments.map((d) => [`${d.metadata.namespace}/${d.metadata.name}`, d] as const))('%s', async (_, deployment) => {
    const template = deployment.spec!.template!;
    const annotations = template.metadata.annotations!;
    expect(annotations[`${ANNOTATION}agent-inject`]).toBe('true');
    const pod = await createPod(deployment.metadata.namespace!, `${deployment.metadata.name}-injected`, template);

    expect(pod.metadata.annotations![`${ANNOTATION}agent-inject-status`]).toBe('injected');
    const init = pod.spec.initContainers?.find((c) => c.name === 'vault-agent-init');
    const sidecar = pod.spec.containers.find((c) => c.name === 'vault-agent');
    expect(init).toBeDefined();
    expect(sidecar).toBeDefined();
    const volumes = new Map((pod.spec.volumes ?? []).map((v) => [v.name, v]));

    // The token the agents log in with: the annotation's projected volume (audience vault).
    const tokenVolume = annotations[`${ANNOTATION}agent-service-account-token-volume-name`]!;
    const tokenFile = volumes.get(tokenVolume)?.projected?.sources.find((s) => s.serviceAccountToken)?.serviceAccountToken?.path;
    expect(tokenFile).toBe('token');
    const files = Object.keys(annotations).filter((k) => k.startsWith(`${ANNOTATION}agent-inject-template-`)).map((k) => k.slice(`${ANNOTATION}agent-inject-template-`.length));
    expect(files.length).toBeGreaterThan(0);

    for (const agent of [init!, sidecar!]) {
      expect(agent.image).toBe(AGENT_IMAGE);
      const config = agentConfig(agent);
      expect(config.exit_after_auth).toBe(agent === init);
      expect(config.vault).toMatchObject({ address: annotations[`${ANNOTATION}service`], ca_cert: annotations[`${ANNOTATION}ca-cert`] });
      expect(config.auto_auth.method).toMatchObject({
        type: 'kubernetes',
        mount_path: annotations[`${ANNOTATION}auth-path`],
        config: { role: annotations[`${ANNOTATION}role`] },
      });
      const tokenMount = agent.volumeMounts?.find((m) => m.name === tokenVolume);
      expect(tokenMount).toBeDefined();
      expect(config.auto_auth.method.config.token_path).toBe(join(tokenMount!.mountPath, tokenFile!));
      expect(config.template.map((t) => t.destination).sort()).toEqual(files.map((f) => `/vault/secrets/${f}`).sort());
      for (const file of files) {
        expect(config.template.find((t) => t.destination === `/vault/secrets/${file}`)?.contents).toBe(annotations[`${ANNOTATION}agent-inject-template-${file}`]);
      }
      // The CA the config names, from the annotation's Secret.
      const tlsMount = agent.volumeMounts?.find((m) => annotations[`${ANNOTATION}ca-cert`]!.startsWith(`${m.mountPath}/`));
      expect(volumes.get(tlsMount!.name)?.secret?.secretName).toBe(annotations[`${ANNOTATION}tls-secret`]);
      const runAs = Number(annotations[`${ANNOTATION}agent-run-as-user`]);
      expect(runAs).toBe(RUN_AS_USER);
      expect(agent.securityContext).toMatchObject({
        runAsUser: runAs, runAsGroup: Number(annotations[`${ANNOTATION}agent-run-as-group`]), runAsNonRoot: true,
        readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] },
      });
      expect(agent.resources).toEqual({
        requests: { cpu: annotations[`${ANNOTATION}agent-requests-cpu`], memory: annotations[`${ANNOTATION}agent-requests-mem`] },
        limits: { cpu: annotations[`${ANNOTATION}agent-limits-cpu`], memory: annotations[`${ANNOTATION}agent-limits-mem`] },
      });
    }

    // Every container of the template reads the rendered files from the shared in-memory volume.
    for (const own of template.spec.containers) {
      const mount = pod.spec.containers.find((c) => c.name === own.name)?.volumeMounts?.find((m) => m.mountPath === '/vault/secrets');
      expect(mount).toBeDefined();
      expect(volumes.get(mount!.name)?.emptyDir?.medium).toBe('Memory');
    }
  });

  test('a pod without the inject annotation is reviewed and left as it was', async () => {
    const deployment = deployments[0]!;
    const template = deployment.spec!.template!;
    const annotations = { ...template.metadata.annotations };
    delete annotations[`${ANNOTATION}agent-inject`];
    const before = requestsReceived();
    const pod = await createPod(deployment.metadata.namespace!, `${deployment.metadata.name}-plain`, { ...template, metadata: { ...template.metadata, annotations } });
    // The webhook was called (the rendered selectors match the pod) and answered without a patch.
    expect(requestsReceived()).toBeGreaterThan(before);
    expect(pod.metadata.annotations![`${ANNOTATION}agent-inject-status`]).toBeUndefined();
    expect(pod.spec.initContainers).toBeUndefined();
    expect(pod.spec.containers.map((c) => c.name)).toEqual(template.spec.containers.map((c) => c.name));
    expect(pod.spec.containers.map((c) => c.volumeMounts)).toEqual(template.spec.containers.map((c) => c.volumeMounts));
    expect((pod.spec.volumes ?? []).map((v) => v.name)).toEqual((template.spec.volumes ?? []).map((v) => v.name));
  });
});
