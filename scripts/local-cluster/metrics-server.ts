// metrics-server on the local cluster: the objects the `metrics-server` Helm chart renders with the
// values the CDK add-on passes it (lib/constructs/cluster/addons/metrics-server.ts passes none, so
// the chart's defaults), written out here because no chart repository can be reached. They follow
// chart 3.13.0 (templates/*.yaml, _helpers.tpl and values.yaml of the tag
// metrics-server-helm-chart-3.13.0): ServiceAccount, the aggregated reader and system ClusterRoles,
// the auth-delegator and system ClusterRoleBindings, the auth-reader RoleBinding, the Service, the
// Deployment and APIService v1beta1.metrics.k8s.io. What the defaults turn off is not rendered (the
// addon resizer, the PodDisruptionBudget, PodSecurityPolicy, the ServiceMonitor, a certificate
// Secret or Certificate: TLS is `metrics-server`'s own self-signed one), nor is Helm's
// `app.kubernetes.io/managed-by` label: no Helm release manages these objects.
//
// The image is the chart's, registry.k8s.io/metrics-server/metrics-server:v0.8.0, rebuilt here
// (workload-images.ts) around the same release built by scripts/setup/metrics-server.sh.
// No deviation from the chart is needed: kubelet's serving certificate is signed by the cluster CA
// for the node's InternalIP (index.ts), the CA metrics-server trusts by default (its in-cluster
// configuration's), so it scrapes kubelet verified, without `--kubelet-insecure-tls`.
import { join } from 'node:path';
import type { HelmChartSpec, PlatformSpec } from '../../lib/spec';
import { cacheDir, installed, setupScriptVersion } from '../local-stack/process';
import { pinnedAddonChart } from './addon-chart';
import type { KubeObject } from './vault-injector';

/** The chart release whose templates the objects below follow. */
export const METRICS_SERVER_CHART_VERSION = '3.13.0';

/** The metrics-server release scripts/setup/metrics-server.sh builds: read from the script, the one place it is written. */
export const METRICS_SERVER_VERSION = setupScriptVersion('metrics-server.sh', 'METRICS_SERVER');

/** The static metrics-server binary (the image's /metrics-server). */
export function findMetricsServerBinary(root = cacheDir('metrics-server', 'bin')): string {
  return installed(join(root, 'metrics-server'), { script: 'metrics-server.sh', what: `metrics-server ${METRICS_SERVER_VERSION}` });
}

/** Chart 3.13.0's Chart.yaml and values.yaml, as far as the objects below use them. */
export const CHART_DEFAULTS = {
  name: 'metrics-server',
  appVersion: '0.8.0',
  image: { repository: 'registry.k8s.io/metrics-server/metrics-server', pullPolicy: 'IfNotPresent' },
  containerPort: 10250,
  defaultArgs: ['--cert-dir=/tmp', '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname', '--kubelet-use-node-status-port', '--metric-resolution=15s'],
  securityContext: {
    allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 1000,
    seccompProfile: { type: 'RuntimeDefault' }, capabilities: { drop: ['ALL'] },
  },
  priorityClassName: 'system-cluster-critical',
  replicas: 1,
  livenessProbe: { httpGet: { path: '/livez', port: 'https', scheme: 'HTTPS' }, initialDelaySeconds: 0, periodSeconds: 10, failureThreshold: 3 },
  readinessProbe: { httpGet: { path: '/readyz', port: 'https', scheme: 'HTTPS' }, initialDelaySeconds: 20, periodSeconds: 10, failureThreshold: 3 },
  service: { type: 'ClusterIP', port: 443 },
  resources: { requests: { cpu: '100m', memory: '200Mi' } },
  /** tmpVolume: where `--cert-dir=/tmp` writes the self-signed serving certificate. */
  tmpVolume: { emptyDir: {} },
  apiService: { insecureSkipTLSVerify: true },
} as const;

/** The chart's default image: its repository at `v` + appVersion. */
export const chartImage = () => `${CHART_DEFAULTS.image.repository}:v${CHART_DEFAULTS.appVersion}`;

/** The names the chart gives metrics-server's objects. */
export interface MetricsServerNames {
  readonly namespace: string;
  /** ServiceAccount, Service and Deployment (the chart's fullname). */
  readonly fullname: string;
  readonly aggregatedReaderClusterRole: string;
  /** The ClusterRole and its binding: `system:<fullname>`. */
  readonly systemClusterRole: string;
  readonly authDelegatorBinding: string;
  /** In kube-system, whatever the release's namespace: the Role it binds lives there. */
  readonly authReaderRoleBinding: string;
  readonly apiService: string;
  /** The pods' labels, which the Service and the Deployment select on. */
  readonly selector: Readonly<Record<string, string>>;
}

/** The chart's `metrics-server.fullname`: the release name when it contains the chart's name, else both. */
function fullname(release: string, chart: string): string {
  return release.includes(chart) ? release : `${release}-${chart}`;
}

export function metricsServerNames(chart: HelmChartSpec): MetricsServerNames {
  // installChart (lib/constructs/cluster/addons/addon.ts) names the release after the chart.
  const release = chart.chart;
  const full = fullname(release, CHART_DEFAULTS.name);
  return {
    namespace: chart.namespace,
    fullname: full,
    aggregatedReaderClusterRole: `system:${CHART_DEFAULTS.name}-aggregated-reader`,
    systemClusterRole: `system:${full}`,
    authDelegatorBinding: `${full}:system:auth-delegator`,
    authReaderRoleBinding: `${full}-auth-reader`,
    apiService: 'v1beta1.metrics.k8s.io',
    selector: { 'app.kubernetes.io/name': CHART_DEFAULTS.name, 'app.kubernetes.io/instance': release },
  };
}

/** The chart whose objects these are; another version may render others, so it is refused. */
function metricsServerChart(spec: PlatformSpec): HelmChartSpec {
  return pinnedAddonChart(spec, 'metricsServer', { chart: CHART_DEFAULTS.name, version: METRICS_SERVER_CHART_VERSION, module: 'metrics-server.ts' });
}

/** The chart's objects with its default values, in apply order; the image is the chart's unless given. */
export function metricsServerObjects(spec: PlatformSpec, options: { readonly image?: string } = {}): KubeObject[] {
  const chart = metricsServerChart(spec);
  const d = CHART_DEFAULTS;
  const names = metricsServerNames(chart);
  // metrics-server.labels: the chart label, the selector labels and the app's version.
  const labels = { 'helm.sh/chart': `${d.name}-${chart.version}`, ...names.selector, 'app.kubernetes.io/version': d.appVersion };
  const serviceAccount = { kind: 'ServiceAccount', name: names.fullname, namespace: names.namespace };
  const rbac = 'rbac.authorization.k8s.io/v1';
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: names.fullname, namespace: names.namespace, labels } },
    {
      // Aggregated into admin, edit and view: whoever may read pods may read their metrics.
      apiVersion: rbac, kind: 'ClusterRole',
      metadata: {
        name: names.aggregatedReaderClusterRole,
        labels: {
          ...labels,
          'rbac.authorization.k8s.io/aggregate-to-admin': 'true',
          'rbac.authorization.k8s.io/aggregate-to-edit': 'true',
          'rbac.authorization.k8s.io/aggregate-to-view': 'true',
        },
      },
      rules: [{ apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] }],
    },
    {
      apiVersion: rbac, kind: 'ClusterRole', metadata: { name: names.systemClusterRole, labels },
      rules: [
        // kubelet's /metrics/resource, authorised by kubelet's webhook as nodes/metrics.
        { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods', 'nodes', 'namespaces', 'configmaps'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      // Delegates the authentication and authorisation of the API server's proxied requests.
      apiVersion: rbac, kind: 'ClusterRoleBinding', metadata: { name: names.authDelegatorBinding, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
      subjects: [serviceAccount],
    },
    {
      apiVersion: rbac, kind: 'ClusterRoleBinding', metadata: { name: names.systemClusterRole, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: names.systemClusterRole },
      subjects: [serviceAccount],
    },
    {
      // The front proxy's CA and names (ConfigMap extension-apiserver-authentication).
      apiVersion: rbac, kind: 'RoleBinding', metadata: { name: names.authReaderRoleBinding, namespace: 'kube-system', labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'extension-apiserver-authentication-reader' },
      subjects: [serviceAccount],
    },
    {
      apiVersion: 'v1', kind: 'Service', metadata: { name: names.fullname, namespace: names.namespace, labels },
      spec: {
        type: d.service.type,
        ports: [{ name: 'https', port: d.service.port, protocol: 'TCP', targetPort: 'https', appProtocol: 'https' }],
        selector: names.selector,
      },
    },
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: names.fullname, namespace: names.namespace, labels },
      spec: {
        replicas: d.replicas,
        selector: { matchLabels: names.selector },
        template: {
          metadata: { labels: names.selector },
          spec: {
            serviceAccountName: names.fullname,
            priorityClassName: d.priorityClassName,
            containers: [{
              name: 'metrics-server',
              securityContext: d.securityContext,
              image: options.image ?? chartImage(),
              imagePullPolicy: d.image.pullPolicy,
              args: [`--secure-port=${d.containerPort}`, ...d.defaultArgs],
              ports: [{ name: 'https', protocol: 'TCP', containerPort: d.containerPort }],
              livenessProbe: d.livenessProbe,
              readinessProbe: d.readinessProbe,
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
              resources: d.resources,
            }],
            volumes: [{ name: 'tmp', ...d.tmpVolume }],
          },
        },
      },
    },
    {
      // The chart renders an empty `annotations:` here (the cert-manager injector annotation is
      // off with TLS type `metrics-server`), which the API server stores as none.
      apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: names.apiService, labels },
      spec: {
        group: 'metrics.k8s.io',
        groupPriorityMinimum: 100,
        // metrics-server serves a self-signed certificate the chart has no CA bundle for.
        insecureSkipTLSVerify: d.apiService.insecureSkipTLSVerify,
        service: { name: names.fullname, namespace: names.namespace, port: d.service.port },
        version: 'v1beta1',
        versionPriority: 100,
      },
    },
  ];
}
