// KEDA as the local cluster runs it (scripts/local-cluster/keda.ts, the objects of the `keda` chart
// 2.20.2 with the CDK add-on's values, i.e. its defaults, the admission webhooks left out), and the
// Prometheus server it asks (scripts/local-cluster/prometheus.ts, the server of the `prometheus`
// chart 27.45.0 with its kubernetes-pods job only): the binaries scripts/setup/keda.sh and
// scripts/setup/prometheus.sh build are the releases the charts' images run, KEDA's CRDs are the
// ones the charts are typed against, and the objects hang together as the charts wire them, down
// to the address payment-service's ScaledObject asks for its latency. That KEDA acts on the
// ScaledObject on the cluster, serves the external metrics API and feeds the HPA it makes, from
// what Prometheus scrapes, is test/cluster/platform.suite.ts's.
//
// Real: KEDA's binaries (their build settings as `go version -m` reads them, the commit they
// carry) and Prometheus's (its --version). No stand-ins: no cluster is started here.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { prometheusAddress } from '../../charts/service-chart';
import { chartEnvironments, loadPlatformSpec, localEnvironment } from '../../lib/spec';
import { MONITORING } from '../../lib/spec/topology';
import { REPO_ROOT } from '../../scripts/local-stack/process';
import { CLUSTER_DOMAIN } from '../../scripts/local-cluster/components';
import { CHART_DEFAULTS, KEDA_CHART_VERSION, KEDA_COMMIT, KEDA_TRIGGERS, KEDA_VERSION, chartImages, findKeda, kedaNames, kedaObjects } from '../../scripts/local-cluster/keda';
import { MIRRORED_REGISTRIES, renderLocalCharts } from '../../scripts/local-cluster/platform';
import {
  CHART_DEFAULTS as PROMETHEUS_CHART, KUBERNETES_PODS_JOB, PROMETHEUS_CHART_VERSION, PROMETHEUS_VERSION, chartImage as prometheusChartImage, findPrometheusBinary,
  prometheusConfig, prometheusNames, prometheusObjects,
} from '../../scripts/local-cluster/prometheus';
import type { KubeObject } from '../../scripts/local-cluster/vault-injector';
import { kedaImages, prometheusImage } from '../../scripts/local-cluster/workload-images';

const run = promisify(execFile);
const spec = loadPlatformSpec();
const names = kedaNames(spec.clusterAddons.keda);
const images = kedaImages();
const objects = kedaObjects(spec, { operatorImage: images.operator, metricsApiServerImage: images.metricsApiServer });
const find = (kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found as KubeObject & { spec: any; subjects?: unknown[]; roleRef?: { kind: string; name: string } };
};

interface Container { image: string; command: string[]; args: string[]; ports: { name: string; containerPort: number }[]; env: { name: string; value?: string }[] }
interface PodTemplate { metadata: { labels: Record<string, string> }; spec: { serviceAccountName: string; containers: Container[]; volumes: { secret?: { secretName: string } }[] } }
const template = (name: string) => find('Deployment', name).spec.template as PodTemplate;
const container = (name: string) => template(name).spec.containers[0]!;
const arg = (c: Container, flag: string) => c.args.find((a) => a.startsWith(`--${flag}=`))?.slice(flag.length + 3);

describe('KEDA of the local cluster', () => {
  test('the binaries built by scripts/setup/keda.sh are the release chart 2.20.2 runs, static, with its commit', async () => {
    expect(spec.clusterAddons.keda.version).toBe(KEDA_CHART_VERSION);
    expect(KEDA_VERSION).toBe(`v${CHART_DEFAULTS.appVersion}`);
    const release = findKeda();
    for (const [binary, command] of [[release.operator, 'operator'], [release.adapter, 'adapter']] as const) {
      // The build settings the Go toolchain records in the binary: the release's command, static, -trimpath.
      const { stdout } = await run('go', ['version', '-m', binary], { timeout: 60000 });
      expect(stdout).toMatch(new RegExp(`^\\s+path\\s+github\\.com/kedacore/keda/v2/cmd/${command}$`, 'm'));
      expect(stdout).toMatch(/^\s+build\s+CGO_ENABLED=0$/m);
      expect(stdout).toMatch(/^\s+build\s+-trimpath=true$/m);
      // The tag's commit, in no source, is there only if the version ldflags took (the binaries
      // log it, with the version, at start: test/cluster/platform.suite.ts reads it there).
      expect(readFileSync(binary).includes(KEDA_COMMIT)).toBe(true);
    }
    // So the local images carry the chart's own image names, from a registry the node mirrors.
    expect(images).toEqual(chartImages());
    for (const image of Object.values(images)) expect(MIRRORED_REGISTRIES.some((r) => image.startsWith(`${r}/`))).toBe(true);
  });

  test('the build keeps the scalers of the trigger types the platform\'s ScaledObjects use, in every environment, and only those', () => {
    const used = new Set<string>();
    for (const environment of chartEnvironments(spec)) {
      for (const o of renderLocalCharts(spec, environment)) {
        if (o.kind !== 'ScaledObject' && o.kind !== 'ScaledJob') continue;
        for (const trigger of (o.spec as { triggers: { type: string }[] }).triggers) used.add(trigger.type);
      }
    }
    expect(used.size).toBeGreaterThan(0);
    // A type the charts use and the list lacks: this KEDA would refuse the ScaledObject, where
    // production's runs it; a type the list has and the charts do not use costs build time.
    expect({ 'KEDA_TRIGGERS in scripts/setup/keda.sh': [...KEDA_TRIGGERS].sort() }).toEqual({ 'KEDA_TRIGGERS in scripts/setup/keda.sh': [...used].sort() });
    // The binaries in .cache/keda were built with that list (the build writes the switch's cases).
    expect(findKeda().triggers).toEqual(expect.arrayContaining([...used]));
  });

  test('applies the release\'s six CRDs, of which the two charts/crds vendors for the charts\' types are identical copies', () => {
    const { crdFiles } = findKeda();
    const crds = crdFiles.map((f) => parse(readFileSync(f, 'utf8')) as { kind: string; spec: { group: string; names: { plural: string } } });
    expect(crds.map((c) => `${c.spec.names.plural}.${c.spec.group}`).sort()).toEqual([
      'cloudeventsources.eventing.keda.sh', 'clustercloudeventsources.eventing.keda.sh', 'clustertriggerauthentications.keda.sh',
      'scaledjobs.keda.sh', 'scaledobjects.keda.sh', 'triggerauthentications.keda.sh',
    ]);
    for (const vendored of ['keda.sh_scaledobjects.yaml', 'keda.sh_triggerauthentications.yaml']) {
      const release = crdFiles.find((f) => basename(f) === vendored)!;
      expect({ file: vendored, same: readFileSync(join(REPO_ROOT, 'charts', 'crds', vendored), 'utf8') === readFileSync(release, 'utf8') }).toEqual({ file: vendored, same: true });
    }
  });

  test('renders the chart\'s objects with its names, in the add-on\'s namespace, without the admission webhooks', () => {
    const ns = spec.clusterAddons.keda.namespace;
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)).toEqual([
      `ServiceAccount/${ns}/keda-operator`,
      'ClusterRole//keda-operator',
      'ClusterRoleBinding//keda-operator',
      `Role/${ns}/keda-operator-certs`,
      `RoleBinding/${ns}/keda-operator-certs`,
      'ClusterRole//keda-operator-minimal-cluster-role',
      'ClusterRoleBinding//keda-operator-minimal',
      `ServiceAccount/${ns}/keda-metrics-server`,
      'ClusterRole//keda-operator-external-metrics-reader',
      'ClusterRoleBinding//keda-operator-system-auth-delegator',
      'RoleBinding/kube-system/keda-operator-auth-reader',
      'ClusterRoleBinding//keda-operator-hpa-controller-external-metrics',
      `Service/${ns}/keda-operator`,
      `Service/${ns}/keda-operator-metrics-apiserver`,
      `Deployment/${ns}/keda-operator`,
      `Deployment/${ns}/keda-operator-metrics-apiserver`,
      'APIService//v1beta1.external.metrics.k8s.io',
    ]);
    expect(objects.filter((o) => /webhook|admission/.test(o.metadata.name) || /Webhook/.test(o.kind))).toEqual([]);
  });

  test('the Services select the Deployments\' pods, the metrics API server reaches the operator, the APIService the metrics API server', () => {
    for (const [service, deployment] of [[names.operator, names.operator], [names.metricsApiServer, names.metricsApiServer]] as const) {
      const selector = find('Service', service).spec.selector as Record<string, string>;
      expect(find('Deployment', deployment).spec.selector.matchLabels).toEqual(selector);
      expect(template(deployment).metadata.labels).toMatchObject(selector);
    }
    const operator = container(names.operator);
    const adapter = container(names.metricsApiServer);
    expect([operator.command, adapter.command]).toEqual([['/keda'], ['/keda-adapter']]);
    expect([operator.image, adapter.image]).toEqual([images.operator, images.metricsApiServer]);

    // The operator's gRPC metrics service, at the address the metrics API server is given.
    const grpc = find('Service', names.operator).spec.ports[0];
    expect(operator.ports).toEqual([expect.objectContaining({ name: grpc.name, containerPort: grpc.targetPort })]);
    expect(arg(adapter, 'metrics-service-address')).toBe(`${names.operator}.${names.namespace}.svc.${CLUSTER_DOMAIN}:${grpc.port}`);
    // The operator's certificate names the Services it is told of, and both mount its Secret.
    expect(arg(operator, 'metrics-server-service-name')).toBe(names.metricsApiServer);
    expect(arg(operator, 'operator-service-name')).toBe(names.operator);
    expect(arg(operator, 'k8s-cluster-domain')).toBe(CLUSTER_DOMAIN);
    expect(arg(operator, 'cert-secret-name')).toBe(names.certificatesSecret);
    expect(arg(operator, 'enable-cert-rotation')).toBe('true');
    for (const d of [names.operator, names.metricsApiServer]) {
      expect(template(d).spec.volumes.map((v) => v.secret?.secretName)).toEqual([names.certificatesSecret]);
    }
    expect((find('Role', 'keda-operator-certs') as unknown as { rules: unknown[] }).rules)
      .toContainEqual({ apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: [names.certificatesSecret] });

    const https = (find('Service', names.metricsApiServer).spec.ports as { name: string; port: number; targetPort: number }[]).find((p) => p.name === 'https')!;
    expect(adapter.ports).toEqual(expect.arrayContaining([{ name: 'https', containerPort: https.targetPort, protocol: 'TCP' }]));
    expect(arg(adapter, 'secure-port')).toBe(String(https.targetPort));
    const apiService = find('APIService', names.apiService).spec;
    expect(apiService).toEqual({
      service: { name: names.metricsApiServer, namespace: names.namespace, port: https.port },
      group: 'external.metrics.k8s.io', version: 'v1beta1', groupPriorityMinimum: 100, versionPriority: 100,
    });
    // No caBundle and no insecureSkipTLSVerify: the operator writes its CA in.
    expect(Object.keys(apiService)).not.toContain('caBundle');
  });

  test('each binding names the ServiceAccount of the Deployment that needs it, the HPA controller reads external metrics', () => {
    const account = (d: string) => ({ kind: 'ServiceAccount', name: template(d).spec.serviceAccountName, namespace: names.namespace });
    for (const binding of ['keda-operator', 'keda-operator-minimal']) expect(find('ClusterRoleBinding', binding).subjects).toEqual([account(names.operator)]);
    expect(find('RoleBinding', 'keda-operator-certs').subjects).toEqual([account(names.operator)]);
    expect(find('ClusterRoleBinding', 'keda-operator-system-auth-delegator').subjects).toEqual([account(names.metricsApiServer)]);
    expect(find('RoleBinding', names.authReaderRoleBinding).subjects).toEqual([account(names.metricsApiServer)]);
    const hpa = find('ClusterRoleBinding', 'keda-operator-hpa-controller-external-metrics');
    expect(hpa.subjects).toEqual([{ kind: 'ServiceAccount', name: 'horizontal-pod-autoscaler', namespace: 'kube-system' }]);
    expect(hpa.roleRef).toMatchObject({ kind: 'ClusterRole', name: 'keda-operator-external-metrics-reader' });
    for (const sa of objects.filter((o) => o.kind === 'ServiceAccount')) {
      expect([names.operatorServiceAccount, names.metricsServerServiceAccount]).toContain(sa.metadata.name);
    }
  });

  test('a chart version other than the one the objects follow is refused, naming the field', () => {
    const other = { ...spec, clusterAddons: { ...spec.clusterAddons, keda: { ...spec.clusterAddons.keda, version: '2.20.3' } } };
    expect(() => kedaObjects(other)).toThrow(/clusterAddons\.keda is keda 2\.20\.3/);
  });
});

describe('the Prometheus server KEDA asks', () => {
  const prometheus = prometheusNames(spec.clusterAddons.prometheus);
  const served = prometheusObjects(spec, { image: prometheusImage() });
  const get = (kind: string) => served.find((o) => o.kind === kind) as KubeObject & { spec: any; data?: Record<string, string> };

  test('the binary built by scripts/setup/prometheus.sh is the release chart 27.45.0 runs', async () => {
    expect(spec.clusterAddons.prometheus.version).toBe(PROMETHEUS_CHART_VERSION);
    expect(PROMETHEUS_VERSION).toBe(PROMETHEUS_CHART.appVersion);
    const { stdout } = await run(findPrometheusBinary(), ['--version'], { timeout: 60000 });
    expect(stdout).toMatch(new RegExp(`^prometheus, version ${PROMETHEUS_VERSION.replace(/^v/, '').replace(/\./g, '\\.')} \\(branch: HEAD, revision: [0-9a-f]{40}\\)$`, 'm'));
    // So the local image carries the chart's own image name, from a registry the node mirrors.
    expect(prometheusImage()).toBe(prometheusChartImage());
    expect(MIRRORED_REGISTRIES.some((r) => prometheusImage().startsWith(`${r}/`))).toBe(true);
  });

  test('answers at the address payment-service\'s ScaledObject names, from pods the workloads\' NetworkPolicies admit to their health ports', () => {
    expect(prometheus.url).toBe(prometheusAddress(spec));
    const scaledObjects = renderLocalCharts(spec, localEnvironment(spec)).filter((o) => o.kind === 'ScaledObject');
    expect(scaledObjects.length).toBeGreaterThan(0);
    for (const so of scaledObjects) {
      const triggers = (so.spec as { triggers: { type: string; metadata: { serverAddress?: string } }[] }).triggers.filter((t) => t.type === 'prometheus');
      expect(triggers.map((t) => t.metadata.serverAddress)).toEqual([prometheus.url]);
    }
    const service = get('Service');
    expect(`http://${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`).toBe(prometheus.url);
    // http:// with no port: the Service's port 80, to the server's 9090.
    expect(service.spec.ports).toEqual([{ name: 'http', port: 80, protocol: 'TCP', targetPort: PROMETHEUS_CHART.server.port }]);
    const deployment = get('Deployment');
    expect(deployment.metadata.namespace).toBe(spec.clusterAddons.prometheus.namespace);
    expect(deployment.spec.template.metadata.labels).toMatchObject({ ...MONITORING.podLabels, ...service.spec.selector });
    expect(deployment.spec.template.spec.containers[0].image).toBe(prometheusImage());
  });

  test('its configuration is the chart\'s global section and kubernetes-pods job, which sets the `namespace` label the query selects on', () => {
    const config = get('ConfigMap').data!['prometheus.yml']!;
    expect(parse(config)).toEqual({ global: { scrape_interval: '1m', scrape_timeout: '10s', evaluation_interval: '1m' }, scrape_configs: [KUBERNETES_PODS_JOB] });
    expect(config).toBe(prometheusConfig());
    expect(KUBERNETES_PODS_JOB.relabel_configs).toContainEqual({ source_labels: ['__meta_kubernetes_namespace'], action: 'replace', target_label: 'namespace' });
    const args = get('Deployment').spec.template.spec.containers[0].args as string[];
    expect(args).toContain(`--config.file=${PROMETHEUS_CHART.server.configPath}`);
    expect(get('Deployment').spec.template.spec.volumes).toContainEqual({ name: 'config-volume', configMap: { name: get('ConfigMap').metadata.name } });
  });

  test('a chart version other than the one the objects follow is refused, naming the field', () => {
    const other = { ...spec, clusterAddons: { ...spec.clusterAddons, prometheus: { ...spec.clusterAddons.prometheus, version: '28.0.0' } } };
    expect(() => prometheusObjects(other)).toThrow(/clusterAddons\.prometheus is prometheus 28\.0\.0/);
  });
});
