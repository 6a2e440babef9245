// Prometheus on the local cluster: the server of the `prometheus` Helm chart the cluster stack
// installs (clusterAddons.prometheus, chart 27.45.0), which KEDA asks for payment-service's latency
// (the ScaledObject's `prometheus` trigger, charts/service-chart.ts): without an answer at that
// address KEDA marks the ScaledObject not Ready, and Flux's health check never passes. The chart
// cannot be fetched here, so its server's objects are written out as it renders them with the
// values the CDK add-on passes (lib/constructs/cluster/addons/prometheus.ts), following
// templates/serviceaccount.yaml, clusterrole.yaml, clusterrolebinding.yaml, cm.yaml, service.yaml
// and deploy.yaml, _helpers.tpl and values.yaml of the tag prometheus-27.45.0:
// - ServiceAccount, ClusterRole and ClusterRoleBinding `prometheus-server` (the chart's rules),
//   ConfigMap, Service `prometheus-server` (port 80 to 9090, the address the ScaledObject names)
//   and the Deployment, whose pods carry the labels the workloads' NetworkPolicies admit to their
//   health ports (MONITORING.podLabels in `monitoring`).
// - The image is the chart's, quay.io/prometheus/prometheus:v3.7.3, rebuilt here
//   (workload-images.ts) around the same release built by scripts/setup/prometheus.sh.
// - Differences, each for something nothing here reads: the configuration holds the chart's
//   global section and only its `kubernetes-pods` job (relabelling as the chart does, so series
//   carry `namespace`, which the ScaledObject's query selects on), not its other jobs (the API
//   servers, nodes, cAdvisor, Service endpoints, Pushgateway, ...); the subcharts the add-on
//   leaves on (kube-state-metrics, node-exporter) and the configmap-reload sidecar are not run;
//   the storage is an emptyDir (the add-on's gp3 volume has no CSI driver here); no rules or
//   Alertmanager (the add-on adds them only with observability, which the local platform does
//   not configure); the binary has no web UI assets (they are built by npm, not in the Go module).
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { HelmChartSpec, PlatformSpec } from '../../lib/spec';
import { cacheDir, installed, setupScriptVersion } from '../local-stack/process';
import { pinnedAddonChart } from './addon-chart';
import type { KubeObject } from './vault-injector';

/** The chart release whose server objects these are. */
export const PROMETHEUS_CHART_VERSION = '27.45.0';

/** The Prometheus release scripts/setup/prometheus.sh builds: read from the script, the one place it is written. */
export const PROMETHEUS_VERSION = setupScriptVersion('prometheus.sh', 'PROMETHEUS');

/** The static prometheus binary (the image's /bin/prometheus). */
export function findPrometheusBinary(root = cacheDir('prometheus', 'bin')): string {
  return installed(join(root, 'prometheus'), { script: 'prometheus.sh', what: `Prometheus ${PROMETHEUS_VERSION}` });
}

/** Chart 27.45.0's Chart.yaml and values.yaml, as far as the objects below use them. */
export const CHART_DEFAULTS = {
  name: 'prometheus',
  appVersion: 'v3.7.3',
  server: {
    name: 'server',
    image: { repository: 'quay.io/prometheus/prometheus', pullPolicy: 'IfNotPresent' },
    port: 9090,
    servicePort: 80,
    configPath: '/etc/config/prometheus.yml',
    storagePath: '/data',
    retention: '15d',
    extraFlags: ['web.enable-lifecycle'],
    global: { scrape_interval: '1m', scrape_timeout: '10s', evaluation_interval: '1m' },
    strategy: { type: 'Recreate' },
    securityContext: { runAsUser: 65534, runAsNonRoot: true, runAsGroup: 65534, fsGroup: 65534 },
    terminationGracePeriodSeconds: 300,
    readinessProbe: { initialDelaySeconds: 30, periodSeconds: 5, timeoutSeconds: 4, failureThreshold: 3, successThreshold: 1 },
    livenessProbe: { initialDelaySeconds: 30, periodSeconds: 15, timeoutSeconds: 10, failureThreshold: 3, successThreshold: 1 },
  },
} as const;

/** values.yaml's `kubernetes-pods` job: every pod annotated prometheus.io/scrape, at its annotated port and path. */
export const KUBERNETES_PODS_JOB = {
  job_name: 'kubernetes-pods',
  honor_labels: true,
  kubernetes_sd_configs: [{ role: 'pod' }],
  relabel_configs: [
    { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'], action: 'keep', regex: true },
    { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape_slow'], action: 'drop', regex: true },
    { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scheme'], action: 'replace', regex: '(https?)', target_label: '__scheme__' },
    { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_path'], action: 'replace', target_label: '__metrics_path__', regex: '(.+)' },
    {
      source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_port', '__meta_kubernetes_pod_ip'], action: 'replace',
      regex: '(\\d+);(([A-Fa-f0-9]{1,4}::?){1,7}[A-Fa-f0-9]{1,4})', replacement: '[$2]:$1', target_label: '__address__',
    },
    {
      source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_port', '__meta_kubernetes_pod_ip'], action: 'replace',
      regex: '(\\d+);((([0-9]+?)(\\.|$)){4})', replacement: '$2:$1', target_label: '__address__',
    },
    { action: 'labelmap', regex: '__meta_kubernetes_pod_annotation_prometheus_io_param_(.+)', replacement: '__param_$1' },
    { action: 'labelmap', regex: '__meta_kubernetes_pod_label_(.+)' },
    { source_labels: ['__meta_kubernetes_namespace'], action: 'replace', target_label: 'namespace' },
    { source_labels: ['__meta_kubernetes_pod_name'], action: 'replace', target_label: 'pod' },
    { source_labels: ['__meta_kubernetes_pod_phase'], regex: 'Pending|Succeeded|Failed|Completed', action: 'drop' },
    { source_labels: ['__meta_kubernetes_pod_node_name'], action: 'replace', target_label: 'node' },
  ],
};

export interface PrometheusNames {
  readonly namespace: string;
  /** ServiceAccount, ClusterRole and binding, ConfigMap, Service and Deployment (prometheus.server.fullname). */
  readonly server: string;
  /** The pods' labels, which the Service and the Deployment select on. */
  readonly selector: Readonly<Record<string, string>>;
  /** The Service's in-cluster URL. */
  readonly url: string;
}

export function prometheusNames(chart: HelmChartSpec): PrometheusNames {
  // installChart names the release after the chart; the fullname is then `<release>-server`.
  const release = chart.chart;
  const server = release.includes(CHART_DEFAULTS.name) ? `${release}-${CHART_DEFAULTS.server.name}` : `${release}-${CHART_DEFAULTS.name}-${CHART_DEFAULTS.server.name}`;
  return {
    namespace: chart.namespace,
    server,
    selector: { 'app.kubernetes.io/component': CHART_DEFAULTS.server.name, 'app.kubernetes.io/name': CHART_DEFAULTS.name, 'app.kubernetes.io/instance': release },
    url: `http://${server}.${chart.namespace}.svc.cluster.local`,
  };
}

function prometheusChart(spec: PlatformSpec): HelmChartSpec {
  return pinnedAddonChart(spec, 'prometheus', { chart: CHART_DEFAULTS.name, version: PROMETHEUS_CHART_VERSION, module: 'prometheus.ts' });
}

/** The chart's default image: its repository at the appVersion. */
export const chartImage = () => `${CHART_DEFAULTS.server.image.repository}:${CHART_DEFAULTS.appVersion}`;

/** prometheus.yml: the chart's global section and its `kubernetes-pods` job. */
export function prometheusConfig(): string {
  return stringify({ global: CHART_DEFAULTS.server.global, scrape_configs: [KUBERNETES_PODS_JOB] });
}

/** The server's objects, in apply order; the image is the chart's unless given. */
export function prometheusObjects(spec: PlatformSpec, options: { readonly image?: string } = {}): KubeObject[] {
  const chart = prometheusChart(spec);
  const s = CHART_DEFAULTS.server;
  const names = prometheusNames(chart);
  const ns = names.namespace;
  // prometheus.server.labels: the match labels and the common meta labels.
  const labels = {
    ...names.selector,
    'app.kubernetes.io/version': CHART_DEFAULTS.appVersion,
    'helm.sh/chart': `${CHART_DEFAULTS.name}-${chart.version}`,
    'app.kubernetes.io/part-of': CHART_DEFAULTS.name,
  };
  const rbac = 'rbac.authorization.k8s.io/v1';
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: names.server, namespace: ns, labels } },
    {
      apiVersion: rbac, kind: 'ClusterRole', metadata: { name: names.server, labels },
      rules: [
        { apiGroups: [''], resources: ['nodes', 'nodes/proxy', 'nodes/metrics', 'services', 'endpoints', 'pods', 'ingresses', 'configmaps'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['networking.k8s.io'], resources: ['ingresses/status', 'ingresses'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
        { nonResourceURLs: ['/metrics'], verbs: ['get'] },
      ],
    },
    {
      apiVersion: rbac, kind: 'ClusterRoleBinding', metadata: { name: names.server, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: names.server },
      subjects: [{ kind: 'ServiceAccount', name: names.server, namespace: ns }],
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: names.server, namespace: ns, labels }, data: { 'prometheus.yml': prometheusConfig() } },
    {
      apiVersion: 'v1', kind: 'Service', metadata: { name: names.server, namespace: ns, labels },
      spec: { ports: [{ name: 'http', port: s.servicePort, protocol: 'TCP', targetPort: s.port }], selector: names.selector, type: 'ClusterIP' },
    },
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: names.server, namespace: ns, labels },
      spec: {
        selector: { matchLabels: names.selector },
        replicas: 1,
        revisionHistoryLimit: 10,
        strategy: s.strategy,
        template: {
          metadata: { labels },
          spec: {
            enableServiceLinks: true,
            serviceAccountName: names.server,
            containers: [{
              name: `${CHART_DEFAULTS.name}-${s.name}`,
              image: options.image ?? chartImage(),
              imagePullPolicy: s.image.pullPolicy,
              args: [
                `--storage.tsdb.retention.time=${s.retention}`,
                `--config.file=${s.configPath}`,
                `--storage.tsdb.path=${s.storagePath}`,
                '--web.console.libraries=/etc/prometheus/console_libraries',
                '--web.console.templates=/etc/prometheus/consoles',
                ...s.extraFlags.map((f) => `--${f}`),
              ],
              ports: [{ containerPort: s.port }],
              readinessProbe: { httpGet: { path: '/-/ready', port: s.port, scheme: 'HTTP' }, ...s.readinessProbe },
              livenessProbe: { httpGet: { path: '/-/healthy', port: s.port, scheme: 'HTTP' }, ...s.livenessProbe },
              volumeMounts: [{ name: 'config-volume', mountPath: '/etc/config' }, { name: 'storage-volume', mountPath: s.storagePath }],
            }],
            securityContext: s.securityContext,
            terminationGracePeriodSeconds: s.terminationGracePeriodSeconds,
            volumes: [{ name: 'config-volume', configMap: { name: names.server } }, { name: 'storage-volume', emptyDir: {} }],
          },
        },
      },
    },
  ];
}
