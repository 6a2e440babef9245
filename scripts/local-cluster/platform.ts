// The whole platform on the local cluster: the cluster (index.ts), the servers outside it
// (outside.ts), Vault configured by vault/bootstrap.sh as an operator runs it on day one, the
// add-ons the cluster stack installs (cert-manager, metrics-server, KEDA, the Vault Agent injector,
// and a stand-in of the Prometheus server KEDA asks: prometheus.ts), the images of the five
// services (built from their Dockerfiles) and of the third-party workloads (workload-images.ts),
// and then the local environment's charts as rendered: by default applied by Flux through the
// configuration drill, as production applies them (gitops.ts), or by kubectl with the bindings
// substituted as Flux's post-build substitution does. Resolves once every Deployment is rolled out
// and the metrics and external metrics APIs are Available.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { App } from 'cdk8s';
import { parseAllDocuments, stringify } from 'yaml';
import { addPlatformCharts } from '../../charts/main';
import { bindingsVariables, substituteBindings } from '../../charts/lib/bindings-variables';
import type { PlatformBindings } from '../../charts/bindings-chart';
import type { ChartEnvironment, PlatformSpec } from '../../lib/spec';
import { tokenReviewerNamespace, vaultAddress } from '../../lib/spec/topology';
import { HarnessError, REPO_ROOT } from '../local-stack/process';
import { dockerfileRecipe, nodeBaseRecipe } from './images';
import type { ImageRecipe } from './images';
import { findCertManager, startCertManager } from './cert-manager';
import type { CertManager } from './cert-manager';
import { applyWithFlux } from './gitops';
import type { LocalGitops } from './gitops';
import { startLocalCluster } from './index';
import type { LocalCluster } from './index';
import { outsideDnsHosts, startOutsideServers } from './outside';
import type { OutsideServers } from './outside';
import { OUTSIDE, clusterNetworkPlan } from './plan';
import { findKeda, kedaNames, kedaObjects } from './keda';
import { metricsServerNames, metricsServerObjects } from './metrics-server';
import { prometheusNames, prometheusObjects } from './prometheus';
import { vaultInjectorNames, vaultInjectorObjects } from './vault-injector';
import {
  kedaImages, kedaRecipes, metricsServerImage, metricsServerRecipe, pgbouncerExporterRecipe, pgbouncerRecipe, prometheusRecipe, vaultImage, vaultInjectorImage,
  vaultInjectorRecipe, vaultRecipe,
} from './workload-images';

const execFileAsync = promisify(execFile);

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  /** Typed as far as this harness reads it (Deployments'); other kinds' fields are left unknown. */
  spec?: {
    selector?: { matchLabels?: Record<string, string> };
    template?: { spec?: { containers?: { name: string; image: string }[] } };
    [field: string]: unknown;
  };
  data?: Record<string, string>;
}

/** The public registries whose images the charts and add-ons name: the cluster's registry mirrors them. */
export const MIRRORED_REGISTRIES = ['docker.io', 'quay.io', 'registry.k8s.io', 'ghcr.io'] as const;
/**
 * The CRDs of charts/crds the rendered charts use besides cert-manager's and KEDA's (the AWS load
 * balancer and VPC resource controllers'): inert here, as no controller acts on them.
 * cert-manager's and KEDA's come from their releases (findCertManager, findKeda): cert-manager's
 * with its CertificateRequest, KEDA's all six, whose kinds its operator watches.
 */
const CRD_GROUPS = ['elbv2.k8s.aws', 'vpcresources.k8s.aws'];
/** A rollout on a loaded 2-core machine: image pulls, the agents' init, migrations. */
const ROLLOUT_TIMEOUT_S = Number(process.env.LOCAL_PLATFORM_ROLLOUT_TIMEOUT_S ?? 600);

/** The local environment's charts, rendered as `npm run charts` writes dist/local. */
export function renderLocalCharts(spec: PlatformSpec, environment: ChartEnvironment): K8sObject[] {
  const app = new App();
  addPlatformCharts(app, spec, environment);
  return app.charts.flatMap((chart) => chart.toJson() as K8sObject[]);
}

/**
 * What the cluster stack hands the charts in AWS, here: the data tier's address for the writer,
 * the readers (one server stands for both), the cache and the brokers; the load balancer's target
 * group and the DMZ security group exist only in AWS, and their objects are inert here.
 */
export function localBindings(environment: ChartEnvironment, outside: Pick<OutsideServers, 'kafka'>, dataTier: string): PlatformBindings {
  return {
    databaseWriterHost: dataTier,
    databaseReaderHosts: [dataTier],
    cacheHost: dataTier,
    kafkaBootstrapBrokers: outside.kafka.bootstrap,
    apiGatewayTargetGroupArn: `arn:aws:elasticloadbalancing:${environment.region}:000000000000:targetgroup/local-api-gateway/0000000000000000`,
    dmzSecurityGroupId: 'sg-00000000000000000',
  };
}

export function crdFiles(): string[] {
  const dir = join(REPO_ROOT, 'charts', 'crds');
  const inert = readdirSync(dir).filter((f) => f.endsWith('.yaml') && CRD_GROUPS.some((g) => f.startsWith(`${g}_`))).map((f) => join(dir, f));
  return [...findCertManager().crdFiles, ...findKeda().crdFiles, ...inert];
}

export interface LocalPlatform {
  readonly cluster: LocalCluster;
  readonly outside: OutsideServers;
  /** The charts' objects as applied (bindings substituted). */
  readonly objects: readonly K8sObject[];
  readonly spec: PlatformSpec;
  readonly environment: ChartEnvironment;
  /** stdout of vault/bootstrap.sh. */
  readonly bootstrapOutput: string;
  /** Flux and the configuration drill's result, when Flux applied the charts (applyWith: 'flux'). */
  readonly gitops?: LocalGitops;
  dispose(): Promise<void>;
}

export interface LocalPlatformOptions {
  readonly spec: PlatformSpec;
  readonly environment: ChartEnvironment;
  /** Progress lines (each step as it starts). */
  readonly log?: (line: string) => void;
  /**
   * Who applies the charts: `flux`, as in production (gitops.ts: the artifact in the registry
   * beside the node, the configuration drill with health checks), or `kubectl`, directly.
   * @default 'flux'
   */
  readonly applyWith?: 'flux' | 'kubectl';
}

export async function bootstrapVault(platform: { cluster: LocalCluster; outside: OutsideServers; dir: string; spec: PlatformSpec }): Promise<string> {
  const { cluster, outside, dir } = platform;
  const master = await outside.postgres.createMaster();
  const secrets = join(dir, 'bootstrap-inputs');
  await mkdir(secrets, { recursive: true, mode: 0o700 });
  const file = async (name: string, text: string) => {
    const path = join(secrets, name);
    await writeFile(path, text, { mode: 0o600 });
    return path;
  };
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(VAULT_|PG|KUBECONFIG$|K8S_|DATABASE_)/.test(k)));
  const env: NodeJS.ProcessEnv = {
    ...base,
    PATH: [outside.vault.binDir, cluster.env().PATH ?? ''].join(delimiter),
    VAULT_ADDR: outside.vault.address, VAULT_CACERT: outside.vault.caFile, VAULT_TOKEN: outside.vault.rootToken,
    KUBECONFIG: cluster.kubeconfig, K8S_HOST: cluster.url, K8S_CA_FILE: cluster.ca.caFile,
    DATABASE_HOST: outside.postgres.host, DATABASE_PORT: String(outside.postgres.port),
    PGUSER: master.user, PGPASSWORD: master.password, RDS_CA_FILE: outside.ca.caFile,
    VAULT_AUDIT_FILE: join(dir, 'vault-audit.log'),
    // A test key of Stripe's documented form: stripe-mock accepts any.
    PAYMENT_SERVICE_STRIPE_SECRET_KEY_FILE: await file('stripe-secret-key.txt', 'sk_test_local0cluster0key0000000000\n'),
    REDIS_AUTH_TOKEN_FILE: await file('redis-auth-token.txt', outside.redis.password),
    KAFKA_SCRAM_SECRET_FILE: await file('kafka-scram-secret.json', `${JSON.stringify({ username: outside.kafka.username, password: outside.kafka.password })}\n`),
  };
  try {
    const { stdout } = await execFileAsync('bash', [join(REPO_ROOT, 'vault', 'bootstrap.sh')], { env, timeout: 600000, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new HarnessError(`vault/bootstrap.sh failed: ${e.message}\n--- stdout\n${e.stdout ?? ''}\n--- stderr\n${e.stderr ?? ''}`);
  }
}

/** The five services' images from their Dockerfiles, bundled into a build context of their own. */
export async function serviceRecipes(objects: readonly K8sObject[], context: string): Promise<ImageRecipe[]> {
  const images = objects.filter((o) => o.kind === 'Deployment' && o.metadata.namespace !== 'pgbouncer')
    .map((d) => ({ name: d.metadata.name, image: d.spec?.template?.spec?.containers?.[0]?.image }))
    .map((d) => {
      if (!d.image) throw new HarnessError(`Deployment ${d.name}: no container image`);
      return { name: d.name, image: d.image };
    });
  await execFileAsync('npx', ['tsx', 'scripts/build-services.ts', `--out=${join(context, 'build', 'services')}`, ...images.map((i) => i.name)], {
    cwd: REPO_ROOT, timeout: 300000, maxBuffer: 16 * 1024 * 1024,
  });
  return images.map((i) => dockerfileRecipe(join(REPO_ROOT, 'services', i.name, 'Dockerfile'), i.image, {}, context));
}

/**
 * The injector as the cluster stack installs it, ready once its leader has put its CA into the
 * webhook and one replica is Ready: the chart's required anti-affinity keeps the second replica
 * Pending on one node.
 */
async function installVaultInjector(cluster: LocalCluster, spec: PlatformSpec): Promise<void> {
  await cluster.apply(vaultInjectorObjects(spec, { injectorImage: vaultInjectorImage(), agentImage: vaultImage(spec), vaultAddress: vaultAddress(spec) }));
  const names = vaultInjectorNames(spec.clusterAddons.vaultInjector);
  const selector = Object.entries(names.selector).map(([k, v]) => `${k}=${v}`).join(',');
  await poll(`one Ready pod of ${names.namespace}/${names.injector}`, async () => {
    const pods = JSON.parse(await cluster.kubectl(['-n', names.namespace, 'get', 'pods', '-l', selector, '-o', 'json'])) as { items: { status?: { conditions?: { type: string; status: string }[] } }[] };
    return pods.items.some((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  });
  await poll(`the injector's CA in ${names.webhook}`, async () =>
    (await cluster.kubectl(['get', 'mutatingwebhookconfiguration', names.webhook, '-o', 'jsonpath={.webhooks[0].clientConfig.caBundle}'])).trim() !== '');
}

/**
 * metrics-server serving the metrics API: its APIService Available (the API server reaches it
 * through its Service) once its readiness, which needs a first scrape of kubelet, holds.
 */
async function waitForMetricsApi(cluster: LocalCluster, spec: PlatformSpec): Promise<void> {
  const names = metricsServerNames(spec.clusterAddons.metricsServer);
  await cluster.kubectl(['-n', names.namespace, 'rollout', 'status', `deployment/${names.fullname}`, `--timeout=${ROLLOUT_TIMEOUT_S}s`], undefined, (ROLLOUT_TIMEOUT_S + 30) * 1000)
    .then(() => cluster.kubectl(['wait', '--for=condition=Available', `apiservice/${names.apiService}`, `--timeout=${ROLLOUT_TIMEOUT_S}s`], undefined, (ROLLOUT_TIMEOUT_S + 30) * 1000))
    .catch(async (error: unknown) => {
      const apiService = await cluster.kubectl(['get', 'apiservice', names.apiService, '-o', 'yaml']).catch((e: unknown) => String(e));
      throw new HarnessError(`${error instanceof Error ? error.message : String(error)}\n${apiService}\n${await diagnose(cluster)}`);
    });
}

/**
 * KEDA serving the external metrics API: Prometheus and both of KEDA's Deployments rolled out, and
 * the APIService Available once the operator has written its CA into it and the metrics API
 * server (which waits for the operator's certificate Secret) answers.
 */
async function waitForKeda(cluster: LocalCluster, spec: PlatformSpec): Promise<void> {
  const keda = kedaNames(spec.clusterAddons.keda);
  const prometheus = prometheusNames(spec.clusterAddons.prometheus);
  const rollout = (namespace: string, name: string) =>
    cluster.kubectl(['-n', namespace, 'rollout', 'status', `deployment/${name}`, `--timeout=${ROLLOUT_TIMEOUT_S}s`], undefined, (ROLLOUT_TIMEOUT_S + 30) * 1000);
  await rollout(prometheus.namespace, prometheus.server)
    .then(() => rollout(keda.namespace, keda.operator))
    .then(() => rollout(keda.namespace, keda.metricsApiServer))
    .then(() => cluster.kubectl(['wait', '--for=condition=Available', `apiservice/${keda.apiService}`, `--timeout=${ROLLOUT_TIMEOUT_S}s`], undefined, (ROLLOUT_TIMEOUT_S + 30) * 1000))
    .catch(async (error: unknown) => {
      const apiService = await cluster.kubectl(['get', 'apiservice', keda.apiService, '-o', 'yaml']).catch((e: unknown) => String(e));
      throw new HarnessError(`${error instanceof Error ? error.message : String(error)}\n${apiService}\n${await diagnose(cluster)}`);
    });
}

/** What a failed rollout needs looked at: every pod, and the last lines of each container that is not ready. */
async function diagnose(cluster: LocalCluster): Promise<string> {
  const lines: string[] = [];
  try {
    lines.push(await cluster.kubectl(['get', 'pods', '-A', '-o', 'wide']));
    const pods = JSON.parse(await cluster.kubectl(['get', 'pods', '-A', '-o', 'json'])) as {
      items: { metadata: { name: string; namespace: string }; status?: { initContainerStatuses?: ContainerStatus[]; containerStatuses?: ContainerStatus[] } }[];
    };
    for (const pod of pods.items) {
      for (const c of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].filter((x) => !x.ready)) {
        const where = `${pod.metadata.namespace}/${pod.metadata.name}/${c.name}`;
        lines.push(`--- ${where}: ${JSON.stringify(c.state)}`);
        lines.push(await cluster.kubectl(['-n', pod.metadata.namespace, 'logs', pod.metadata.name, '-c', c.name, '--tail=15']).catch((e: unknown) => String(e)));
      }
    }
    lines.push(await cluster.kubectl(['get', 'events', '-A', '--field-selector=type=Warning']).catch((e: unknown) => String(e)));
  } catch (error) {
    lines.push(`(diagnosis failed: ${String(error)})`);
  }
  return lines.join('\n');
}

interface ContainerStatus { name: string; ready: boolean; state?: object }

/** Polls `check` once a second until it holds; fails naming `what` after the rollout budget. */
async function poll(what: string, check: () => Promise<boolean>, timeoutMs = ROLLOUT_TIMEOUT_S * 1000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new HarnessError(`local platform: no ${what} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function startLocalPlatform(opts: LocalPlatformOptions): Promise<LocalPlatform> {
  const { spec, environment } = opts;
  const log = opts.log ?? (() => undefined);
  const plan = clusterNetworkPlan(spec, environment);
  const rendered = renderLocalCharts(spec, environment);
  if (!environment.imageRegistry) throw new HarnessError(`environment ${environment.name}: no imageRegistry for the cluster's registry`);

  log('cluster: starting');
  const cluster = await startLocalCluster({
    network: plan, zone: environment.availabilityZones[0]!, registry: environment.imageRegistry, mirrors: MIRRORED_REGISTRIES,
    dnsHosts: outsideDnsHosts(spec, environment, plan),
  });
  let outside: OutsideServers | undefined;
  let certManager: CertManager | undefined;
  let gitops: LocalGitops | undefined;
  const dispose = async () => {
    await gitops?.dispose();
    await certManager?.dispose();
    await cluster.dispose();
    await outside?.dispose();
  };
  try {
    log('outside: data tier, Vault, payment provider');
    outside = await startOutsideServers(spec, environment, plan, cluster.dir);

    log('cluster: CRDs, namespaces, service accounts, the token reviewer');
    await cluster.kubectl(['apply', '--server-side', ...crdFiles().flatMap((f) => ['-f', f])], undefined, 120000);
    await cluster.kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=120s'], undefined, 130000);
    // The add-ons' namespaces (the injector's, cert-manager's, Flux's, ...) come with their Helm
    // releases in the cluster stack: every namespace the charts use but do not render.
    const own = new Set(rendered.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name));
    const helmNamespaces = [...new Set([tokenReviewerNamespace(spec), spec.clusterAddons.certManager.namespace, ...rendered.map((o) => o.metadata.namespace)])]
      .filter((name): name is string => name !== undefined && !own.has(name))
      .map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
    await cluster.apply([...helmNamespaces, ...rendered.filter((o) => o.kind === 'Namespace' || o.kind === 'ServiceAccount' || o.metadata.namespace === tokenReviewerNamespace(spec) || o.kind === 'ClusterRoleBinding')]);

    // A process beside the control plane with the admin's kubeconfig, where EKS runs the chart's
    // Deployment with its own RBAC: what it does to the Certificates is the same.
    log('add-ons: cert-manager');
    await mkdir(join(cluster.dir, 'cert-manager'));
    certManager = await startCertManager({ kubeconfig: cluster.kubeconfig, clusterResourceNamespace: spec.clusterAddons.certManager.namespace, dir: join(cluster.dir, 'cert-manager') });

    log('vault: bootstrap.sh');
    const bootstrapOutput = await bootstrapVault({ cluster, outside, dir: cluster.dir, spec });

    log('images: services, PgBouncer, exporter, Vault agent, injector, metrics-server, KEDA, Prometheus');
    const context = join(cluster.dir, 'image-context');
    await mkdir(context, { recursive: true });
    await cluster.pushImages([
      { ...nodeBaseRecipe({ trustedCaFile: outside.ca.caFile }), baseOnly: true },
      ...(await serviceRecipes(rendered, context)),
      pgbouncerRecipe(spec),
      await pgbouncerExporterRecipe(spec, context),
      vaultRecipe(spec),
      vaultInjectorRecipe(),
      metricsServerRecipe(),
      ...kedaRecipes(),
      prometheusRecipe(),
    ]);

    // Waited for at the end: its first scrapes overlap the workloads' start.
    log('add-ons: metrics-server');
    await cluster.apply(metricsServerObjects(spec, { image: metricsServerImage() }));
    // Before the charts: KEDA acts on payment-service's ScaledObject as Flux applies it, asking
    // Prometheus, and Flux's health check waits for it to be Ready.
    log('add-ons: KEDA and the Prometheus server it asks');
    await cluster.apply(prometheusObjects(spec));
    const images = kedaImages();
    await cluster.apply(kedaObjects(spec, { operatorImage: images.operator, metricsApiServerImage: images.metricsApiServer }));

    log('add-ons: the Vault Agent injector');
    await installVaultInjector(cluster, spec);

    const variables = bindingsVariables(localBindings(environment, outside, plan.outsideAddresses[OUTSIDE.dataTier]!));
    const text = substituteBindings(rendered.map((o) => stringify(o)).join('---\n'), variables);
    await writeFile(join(cluster.dir, 'applied.yaml'), text);
    const applied = parseAllDocuments(text).map((d) => d.toJSON() as K8sObject);
    if ((opts.applyWith ?? 'flux') === 'flux') {
      log('charts: applied by Flux from the registry beside the node (the configuration drill)');
      gitops = await applyWithFlux({ cluster, spec, environment, bindings: variables, log }).catch(async (error: unknown) => {
        throw new HarnessError(`${error instanceof Error ? error.message : String(error)}\n${await diagnose(cluster)}`);
      });
    } else {
      log('charts: applying with the bindings substituted');
      await cluster.apply(text);
    }

    log('charts: waiting for every Deployment');
    for (const d of applied.filter((o) => o.kind === 'Deployment')) {
      await cluster.kubectl(['-n', d.metadata.namespace!, 'rollout', 'status', `deployment/${d.metadata.name}`, `--timeout=${ROLLOUT_TIMEOUT_S}s`], undefined, (ROLLOUT_TIMEOUT_S + 30) * 1000)
        .catch(async (error: unknown) => {
          throw new HarnessError(`${error instanceof Error ? error.message : String(error)}\n${await diagnose(cluster)}`);
        });
    }
    log('add-ons: waiting for the metrics API');
    await waitForMetricsApi(cluster, spec);
    log('add-ons: waiting for KEDA\'s external metrics API');
    await waitForKeda(cluster, spec);
    return { cluster, outside, objects: applied, spec, environment, bootstrapOutput, gitops, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}
