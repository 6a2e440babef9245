// KEDA on the local cluster: the objects the `keda` Helm chart renders with the values the CDK
// add-on passes it (lib/constructs/cluster/addons/keda.ts passes none, so the chart's defaults),
// written out here because no chart repository can be reached. They follow chart 2.20.2
// (kedacore/charts, tag v2.20.2: keda/templates/manager/*.yaml, keda/templates/metrics-server/*.yaml,
// _helpers.tpl and values.yaml): the operator's ServiceAccount, ClusterRole keda-operator and its
// binding, the certificates' Role and RoleBinding keda-operator-certs, the minimal ClusterRole and
// its binding, its Service and Deployment; the metrics API server's ServiceAccount, the external
// metrics reader ClusterRole, the auth-delegator, auth-reader and HPA-controller bindings, its
// Service and Deployment, and APIService v1beta1.external.metrics.k8s.io. The CRDs are the
// release's (scripts/setup/keda.sh copies its config/crd/bases; the chart's crds/ are the same).
//
// Left out: what the defaults turn off (cert-manager certificates, PodDisruptionBudgets,
// NetworkPolicies, ServiceMonitors and PodMonitors, Prometheus rules, the aggregated keda:edit
// and keda:view roles), Helm's `app.kubernetes.io/managed-by` label (no Helm release manages these
// objects), and the admission webhooks (their Deployment, Service, RBAC and the
// ValidatingWebhookConfiguration keda-admission). The webhooks only validate ScaledObjects as they
// are written, with failurePolicy Ignore: a missing webhook admits every object, so what KEDA does
// with the platform's ScaledObject is the same without them, and their third binary and pod would
// cost this 2-core machine for nothing the tests can see. The operator keeps the chart's
// `--enable-webhook-patching=true`: its certificate rotator logs that the keda-admission
// configuration is not found and injects its CA into the APIService alone.
//
// The images are the chart's, ghcr.io/kedacore/keda:2.20.2 and
// ghcr.io/kedacore/keda-metrics-apiserver:2.20.2, rebuilt here (workload-images.ts) around the
// same release built by scripts/setup/keda.sh. TLS is the chart's automatic mode: the operator
// makes a CA and a certificate for its and the metrics API server's Services in Secret
// kedaorg-certs (which both mount; the metrics API server waits for it) and writes the CA into the
// APIService's caBundle.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { HelmChartSpec, PlatformSpec } from '../../lib/spec';
import { HarnessError, REPO_ROOT, cacheDir, setupScriptVersion, setupScriptWords } from '../local-stack/process';
import { pinnedAddonChart } from './addon-chart';
import type { KubeObject } from './vault-injector';

/** The chart release whose templates the objects below follow. */
export const KEDA_CHART_VERSION = '2.20.2';

/** The KEDA release scripts/setup/keda.sh builds: read from the script, the one place it is written. */
export const KEDA_VERSION = setupScriptVersion('keda.sh', 'KEDA');

/** The commit of KEDA_VERSION's tag, which the binaries carry (their version package's GitCommit). */
export const KEDA_COMMIT: string = (() => {
  const match = /^KEDA_COMMIT=([0-9a-f]{40})$/m.exec(readFileSync(join(REPO_ROOT, 'scripts', 'setup', 'keda.sh'), 'utf8'));
  if (!match) throw new HarnessError('scripts/setup/keda.sh: no KEDA_COMMIT=<commit> line');
  return match[1]!;
})();

/**
 * The trigger types scripts/setup/keda.sh builds KEDA's scalers for (its KEDA_TRIGGERS, the one
 * place they are written): the platform's ScaledObjects' types. The build leaves out every other
 * scaler, so this KEDA refuses a ScaledObject of another type ("no scaler found for type").
 */
export const KEDA_TRIGGERS: readonly string[] = setupScriptWords('keda.sh', 'KEDA_TRIGGERS');

export interface KedaRelease {
  /** The operator (the image's /keda). */
  readonly operator: string;
  /** The metrics API server (the image's /keda-adapter). */
  readonly adapter: string;
  /** The release's CustomResourceDefinitions (config/crd/bases). */
  readonly crdFiles: readonly string[];
  /** The trigger types the binaries have a scaler for: those of KEDA_TRIGGERS and any their scalers also serve. */
  readonly triggers: readonly string[];
}

/** The binaries and CRDs scripts/setup/keda.sh put in .cache/keda. */
export function findKeda(root = cacheDir('keda')): KedaRelease {
  const operator = join(root, 'bin', 'keda');
  const adapter = join(root, 'bin', 'keda-adapter');
  const crdsDir = join(root, 'crds');
  const triggersFile = join(root, 'triggers');
  const crdFiles = existsSync(crdsDir) ? readdirSync(crdsDir).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(crdsDir, f)) : [];
  if (!existsSync(operator) || !existsSync(adapter) || crdFiles.length === 0 || !existsSync(triggersFile)) {
    throw new HarnessError(`missing: KEDA ${KEDA_VERSION} (no ${operator}, ${adapter}, ${triggersFile} or no CRDs in ${crdsDir}); build it with \`npm run setup\` (scripts/setup/keda.sh)`);
  }
  return { operator, adapter, crdFiles, triggers: readFileSync(triggersFile, 'utf8').split('\n').filter(Boolean) };
}

const probe = (initialDelaySeconds: number, periodSeconds: number) => ({ initialDelaySeconds, periodSeconds, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1 });

/** Chart 2.20.2's Chart.yaml and values.yaml, as far as the objects below use them. */
export const CHART_DEFAULTS = {
  name: 'keda',
  appVersion: '2.20.2',
  image: {
    keda: { registry: 'ghcr.io', repository: 'kedacore/keda' },
    metricsApiServer: { registry: 'ghcr.io', repository: 'kedacore/keda-metrics-apiserver' },
    pullPolicy: 'Always',
  },
  clusterName: 'kubernetes-default',
  clusterDomain: 'cluster.local',
  watchNamespace: '',
  operator: {
    name: 'keda-operator', revisionHistoryLimit: 10, replicaCount: 1, disableCompression: true, dnsPolicy: 'ClusterFirst',
    livenessProbe: probe(25, 10), readinessProbe: probe(20, 3),
  },
  metricsServer: { revisionHistoryLimit: 10, replicaCount: 1, disableCompression: true, dnsPolicy: 'ClusterFirst', livenessProbe: probe(5, 10), readinessProbe: probe(5, 3) },
  webhooks: { enabled: true, name: 'keda-admission-webhooks' },
  serviceAccount: { operator: 'keda-operator', metricServer: 'keda-metrics-server' },
  rbac: { controlPlaneServiceAccountsNamespace: 'kube-system', scaledRefKinds: [{ apiGroup: '*', kind: '*' }] },
  logging: {
    operator: { level: 'info', format: 'console', timeEncoding: 'rfc3339' },
    metricServer: { level: 0, stderrthreshold: 'ERROR', zapLevel: 'info', zapEncoder: 'console', zapTimeEncoding: 'rfc3339' },
  },
  securityContext: { capabilities: { drop: ['ALL'] }, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, seccompProfile: { type: 'RuntimeDefault' } },
  podSecurityContext: { runAsNonRoot: true },
  service: { type: 'ClusterIP', portHttps: 443, portHttpsTarget: 6443, minTlsVersion: 'TLS13', tlsCipherList: '' },
  /** The operator's gRPC metrics service, which the metrics API server asks (fixed in the templates). */
  metricsServicePort: 9666,
  /** The operator's health probes (fixed in the templates). */
  operatorHealthPort: 8081,
  resources: { limits: { cpu: '1', memory: '1000Mi' }, requests: { cpu: '100m', memory: '100Mi' } },
  http: { timeout: 3000, maxIdleConns: 0, maxIdleConnsPerHost: 1000, idleConnTimeout: '90s', minTlsVersion: 'TLS12', tlsCipherList: '' },
  prometheus: { metricServer: { port: 8080, portName: 'metrics' }, operator: { enabled: false } },
  certificates: { autoGenerated: true, secretName: 'kedaorg-certs', mountPath: '/certs' },
  enableServiceLinks: true,
} as const;

/** The chart's images: registry/repository at the appVersion (image tags are empty by default). */
export const chartImages = () => ({
  operator: `${CHART_DEFAULTS.image.keda.registry}/${CHART_DEFAULTS.image.keda.repository}:${CHART_DEFAULTS.appVersion}`,
  metricsApiServer: `${CHART_DEFAULTS.image.metricsApiServer.registry}/${CHART_DEFAULTS.image.metricsApiServer.repository}:${CHART_DEFAULTS.appVersion}`,
});

/** The names the chart gives KEDA's objects. */
export interface KedaNames {
  readonly namespace: string;
  /** The operator's Deployment, Service, ClusterRole and binding (operator.name). */
  readonly operator: string;
  readonly operatorServiceAccount: string;
  /** The metrics API server's Deployment and Service. */
  readonly metricsApiServer: string;
  readonly metricsServerServiceAccount: string;
  /** In kube-system, whatever the release's namespace: the Role it binds lives there. */
  readonly authReaderRoleBinding: string;
  readonly apiService: string;
  /** The Secret of the operator's CA and certificate, which both Deployments mount. */
  readonly certificatesSecret: string;
  /** The pods' `app` labels, which the Services and Deployments select on. */
  readonly operatorSelector: Readonly<Record<string, string>>;
  readonly metricsApiServerSelector: Readonly<Record<string, string>>;
}

export function kedaNames(chart: HelmChartSpec): KedaNames {
  const operator = CHART_DEFAULTS.operator.name;
  return {
    namespace: chart.namespace,
    operator,
    operatorServiceAccount: CHART_DEFAULTS.serviceAccount.operator,
    metricsApiServer: `${operator}-metrics-apiserver`,
    metricsServerServiceAccount: CHART_DEFAULTS.serviceAccount.metricServer,
    authReaderRoleBinding: `${operator}-auth-reader`,
    apiService: 'v1beta1.external.metrics.k8s.io',
    certificatesSecret: CHART_DEFAULTS.certificates.secretName,
    operatorSelector: { app: operator },
    metricsApiServerSelector: { app: `${operator}-metrics-apiserver` },
  };
}

/** The chart whose objects these are; another version may render others, so it is refused. */
function kedaChart(spec: PlatformSpec): HelmChartSpec {
  return pinnedAddonChart(spec, 'keda', { chart: CHART_DEFAULTS.name, version: KEDA_CHART_VERSION, module: 'keda.ts' });
}

/** The chart's objects with its default values, in apply order; the images are the chart's unless given. */
export function kedaObjects(spec: PlatformSpec, options: { readonly operatorImage?: string; readonly metricsApiServerImage?: string } = {}): KubeObject[] {
  const chart = kedaChart(spec);
  const d = CHART_DEFAULTS;
  const names = kedaNames(chart);
  const ns = names.namespace;
  const images = chartImages();
  // keda.labels: the chart label, the operator's component and part-of, the app's version, the release.
  const labels = {
    'helm.sh/chart': `${d.name}-${chart.version}`,
    'app.kubernetes.io/component': 'operator',
    'app.kubernetes.io/part-of': d.operator.name,
    'app.kubernetes.io/version': d.appVersion,
    // installChart (lib/constructs/cluster/addons/addon.ts) names the release after the chart.
    'app.kubernetes.io/instance': chart.chart,
  };
  const named = (name: string) => ({ 'app.kubernetes.io/name': name, ...labels });
  const rbac = 'rbac.authorization.k8s.io/v1';
  const operatorAccount = { kind: 'ServiceAccount', name: names.operatorServiceAccount, namespace: ns };
  const metricsAccount = { kind: 'ServiceAccount', name: names.metricsServerServiceAccount, namespace: ns };
  const rule = (apiGroups: string[], resources: string[], verbs: string[]) => ({ apiGroups, resources, verbs });
  const watch = ['get', 'list', 'watch'];
  const patchable = ['get', 'list', 'patch', 'update', 'watch'];
  const certificatesVolume = (optional?: boolean) => ({
    name: 'certificates', secret: { defaultMode: 0o644, secretName: d.certificates.secretName, ...(optional === undefined ? {} : { optional }) },
  });
  const certificatesMount = { mountPath: d.certificates.mountPath, name: 'certificates', readOnly: true };
  const tlsEnv = [
    { name: 'KEDA_HTTP_DEFAULT_TIMEOUT', value: String(d.http.timeout) },
    { name: 'KEDA_HTTP_MIN_TLS_VERSION', value: d.http.minTlsVersion },
    { name: 'KEDA_HTTP_TLS_CIPHER_LIST', value: d.http.tlsCipherList },
    { name: 'KEDA_SERVICE_MIN_TLS_VERSION', value: d.service.minTlsVersion },
    { name: 'KEDA_SERVICE_TLS_CIPHER_LIST', value: d.service.tlsCipherList },
  ];
  const podSpecCommon = (serviceAccountName: string) => ({
    enableServiceLinks: d.enableServiceLinks,
    serviceAccountName,
    automountServiceAccountToken: true,
    securityContext: d.podSecurityContext,
  });
  const operatorLabels = { app: d.operator.name, name: d.operator.name, ...named(d.operator.name) };
  const metricsLabels = { app: names.metricsApiServer, ...named(names.metricsApiServer) };

  return [
    // templates/manager/serviceaccount.yaml
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: names.operatorServiceAccount, namespace: ns, labels: named(names.operatorServiceAccount) }, automountServiceAccountToken: true },
    {
      // templates/manager/clusterrole.yaml: what the operator reads and scales; scaledRefKinds
      // `*`/`*` lets it scale any kind with a /scale subresource.
      apiVersion: rbac, kind: 'ClusterRole', metadata: { name: d.operator.name, labels: named(d.operator.name) },
      rules: [
        rule([''], ['configmaps', 'configmaps/status', 'limitranges', 'pods', 'services', 'serviceaccounts'], watch),
        rule(['events.k8s.io', ''], ['events'], ['create', 'patch']),
        rule(['discovery.k8s.io'], ['endpointslices'], watch),
        rule([''], ['secrets'], ['list', 'watch']),
        ...d.rbac.scaledRefKinds.flatMap((k) => [
          rule([k.apiGroup], [`${k.kind}/scale`], patchable),
          rule([k.apiGroup], [k.kind], ['get']),
        ]),
        rule(['apps'], ['deployments/scale', 'statefulsets/scale'], patchable),
        rule(['apps'], ['deployments', 'replicasets', 'statefulsets'], watch),
        rule(['autoscaling'], ['horizontalpodautoscalers'], ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']),
        rule(['batch'], ['jobs'], ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']),
        rule(['eventing.keda.sh'], ['cloudeventsources', 'cloudeventsources/status', 'clustercloudeventsources', 'clustercloudeventsources/status'], patchable),
        rule(['keda.sh'], [
          'scaledjobs', 'scaledjobs/finalizers', 'scaledjobs/status', 'scaledobjects', 'scaledobjects/finalizers', 'scaledobjects/status',
          'triggerauthentications', 'triggerauthentications/status',
        ], patchable),
      ],
    },
    {
      // templates/manager/clusterrolebindings.yaml (watchNamespace empty: cluster-wide).
      apiVersion: rbac, kind: 'ClusterRoleBinding', metadata: { name: d.operator.name, labels: named(d.operator.name) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: d.operator.name },
      subjects: [operatorAccount],
    },
    {
      // templates/manager/minimal-rbac.yaml: leader election, and the auto-generated certificates' Secret.
      apiVersion: rbac, kind: 'Role', metadata: { name: `${d.operator.name}-certs`, namespace: ns, labels: named(`${d.operator.name}-certs`) },
      rules: [
        rule(['coordination.k8s.io'], ['leases'], ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']),
        { apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: [d.certificates.secretName] },
        rule([''], ['secrets'], ['create', 'update']),
      ],
    },
    {
      apiVersion: rbac, kind: 'RoleBinding', metadata: { name: `${d.operator.name}-certs`, namespace: ns, labels: named(`${d.operator.name}-certs`) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${d.operator.name}-certs` },
      subjects: [operatorAccount],
    },
    {
      // The CA goes into the webhook configuration and the APIService (autoGenerated, no cert-manager).
      apiVersion: rbac, kind: 'ClusterRole', metadata: { name: `${d.operator.name}-minimal-cluster-role`, labels: named(`${d.operator.name}-minimal-cluster-role`) },
      rules: [
        rule(['keda.sh'], ['clustertriggerauthentications', 'clustertriggerauthentications/status'], patchable),
        rule(['admissionregistration.k8s.io'], ['validatingwebhookconfigurations'], patchable),
        rule(['apiregistration.k8s.io'], ['apiservices'], patchable),
        rule(['eventing.keda.sh'], ['cloudeventsources', 'cloudeventsources/status', 'clustercloudeventsources', 'clustercloudeventsources/status'], patchable),
      ],
    },
    {
      apiVersion: rbac, kind: 'ClusterRoleBinding', metadata: { name: `${d.operator.name}-minimal`, labels: named(`${d.operator.name}-minimal`) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${d.operator.name}-minimal-cluster-role` },
      subjects: [operatorAccount],
    },
    // templates/metrics-server/serviceaccount.yaml
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: names.metricsServerServiceAccount, namespace: ns, labels: named(names.metricsServerServiceAccount) }, automountServiceAccountToken: true },
    {
      // templates/metrics-server/clusterrole.yaml
      apiVersion: rbac, kind: 'ClusterRole', metadata: { name: `${d.operator.name}-external-metrics-reader`, labels: named(`${d.operator.name}-external-metrics-reader`) },
      rules: [rule(['external.metrics.k8s.io'], ['externalmetrics'], ['get'])],
    },
    {
      // templates/metrics-server/clusterrolebinding.yaml: the API server's proxied requests are
      // authenticated and authorised through it.
      apiVersion: rbac, kind: 'ClusterRoleBinding', metadata: { name: `${d.operator.name}-system-auth-delegator`, labels: named(`${d.operator.name}-system-auth-delegator`) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
      subjects: [metricsAccount],
    },
    {
      // The front proxy's CA and names (ConfigMap extension-apiserver-authentication).
      apiVersion: rbac, kind: 'RoleBinding',
      metadata: { name: names.authReaderRoleBinding, namespace: d.rbac.controlPlaneServiceAccountsNamespace, labels: named(names.authReaderRoleBinding) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'extension-apiserver-authentication-reader' },
      subjects: [metricsAccount],
    },
    {
      // The HPA controller (kube-controller-manager's service account) reads the external metrics.
      apiVersion: rbac, kind: 'ClusterRoleBinding',
      metadata: { name: `${d.operator.name}-hpa-controller-external-metrics`, labels: named(`${d.operator.name}-hpa-controller-external-metrics`) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${d.operator.name}-external-metrics-reader` },
      subjects: [{ kind: 'ServiceAccount', name: 'horizontal-pod-autoscaler', namespace: 'kube-system' }],
    },
    {
      // templates/manager/service.yaml
      apiVersion: 'v1', kind: 'Service', metadata: { name: d.operator.name, namespace: ns, labels: named(d.operator.name) },
      spec: { ports: [{ name: 'metricsservice', port: d.metricsServicePort, targetPort: d.metricsServicePort }], selector: names.operatorSelector },
    },
    {
      // templates/metrics-server/service.yaml
      apiVersion: 'v1', kind: 'Service', metadata: { name: names.metricsApiServer, namespace: ns, labels: { 'app.kubernetes.io/name': names.metricsApiServer, app: names.metricsApiServer, ...labels } },
      spec: {
        type: d.service.type,
        ports: [
          { name: 'https', port: d.service.portHttps, targetPort: d.service.portHttpsTarget, protocol: 'TCP', appProtocol: 'https' },
          { name: d.prometheus.metricServer.portName, port: d.prometheus.metricServer.port, targetPort: d.prometheus.metricServer.port, protocol: 'TCP' },
        ],
        selector: names.metricsApiServerSelector,
      },
    },
    {
      // templates/manager/deployment.yaml
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: d.operator.name, namespace: ns, labels: operatorLabels },
      spec: {
        revisionHistoryLimit: d.operator.revisionHistoryLimit,
        replicas: d.operator.replicaCount,
        selector: { matchLabels: names.operatorSelector },
        template: {
          metadata: { labels: operatorLabels },
          spec: {
            ...podSpecCommon(names.operatorServiceAccount),
            containers: [{
              name: d.operator.name,
              securityContext: d.securityContext,
              image: options.operatorImage ?? images.operator,
              command: ['/keda'],
              args: [
                '--leader-elect',
                `--disable-compression=${d.operator.disableCompression}`,
                `--zap-log-level=${d.logging.operator.level}`,
                `--zap-encoder=${d.logging.operator.format}`,
                `--zap-time-encoding=${d.logging.operator.timeEncoding}`,
                `--enable-webhook-patching=${d.webhooks.enabled}`,
                `--cert-dir=${d.certificates.mountPath}`,
                `--enable-cert-rotation=${d.certificates.autoGenerated}`,
                `--cert-secret-name=${d.certificates.secretName}`,
                `--operator-service-name=${d.operator.name}`,
                `--metrics-server-service-name=${names.metricsApiServer}`,
                `--webhooks-service-name=${d.webhooks.name}`,
                `--k8s-cluster-name=${d.clusterName}`,
                `--k8s-cluster-domain=${d.clusterDomain}`,
                `--enable-prometheus-metrics=${d.prometheus.operator.enabled}`,
                `--http-max-idle-conns=${d.http.maxIdleConns}`,
                `--http-max-idle-conns-per-host=${d.http.maxIdleConnsPerHost}`,
                `--http-idle-conn-timeout=${d.http.idleConnTimeout}`,
              ],
              imagePullPolicy: d.image.pullPolicy,
              livenessProbe: { httpGet: { path: '/healthz', port: d.operatorHealthPort }, ...d.operator.livenessProbe },
              readinessProbe: { httpGet: { path: '/readyz', port: d.operatorHealthPort }, ...d.operator.readinessProbe },
              ports: [{ containerPort: d.metricsServicePort, name: 'metricsservice', protocol: 'TCP' }],
              env: [
                { name: 'WATCH_NAMESPACE', value: d.watchNamespace },
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                { name: 'OPERATOR_NAME', value: d.operator.name },
                ...tlsEnv,
              ],
              volumeMounts: [certificatesMount],
              resources: d.resources,
            }],
            // Optional: the operator itself creates the Secret on its first start.
            volumes: [certificatesVolume(true)],
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            dnsPolicy: d.operator.dnsPolicy,
            hostNetwork: false,
          },
        },
      },
    },
    {
      // templates/metrics-server/deployment.yaml
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: names.metricsApiServer, namespace: ns, labels: metricsLabels },
      spec: {
        revisionHistoryLimit: d.metricsServer.revisionHistoryLimit,
        replicas: d.metricsServer.replicaCount,
        selector: { matchLabels: names.metricsApiServerSelector },
        template: {
          metadata: { labels: metricsLabels },
          spec: {
            ...podSpecCommon(names.metricsServerServiceAccount),
            containers: [{
              name: names.metricsApiServer,
              securityContext: d.securityContext,
              image: options.metricsApiServerImage ?? images.metricsApiServer,
              imagePullPolicy: d.image.pullPolicy,
              livenessProbe: { httpGet: { path: '/healthz', port: d.service.portHttpsTarget, scheme: 'HTTPS' }, ...d.metricsServer.livenessProbe },
              readinessProbe: { httpGet: { path: '/readyz', port: d.service.portHttpsTarget, scheme: 'HTTPS' }, ...d.metricsServer.readinessProbe },
              env: [
                { name: 'WATCH_NAMESPACE', value: d.watchNamespace },
                { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                ...tlsEnv,
              ],
              command: ['/keda-adapter'],
              args: [
                `--port=${d.prometheus.metricServer.port}`,
                `--secure-port=${d.service.portHttpsTarget}`,
                '--logtostderr=true',
                `--stderrthreshold=${d.logging.metricServer.stderrthreshold}`,
                `--disable-compression=${d.metricsServer.disableCompression}`,
                `--metrics-service-address=${d.operator.name}.${ns}.svc.${d.clusterDomain}:${d.metricsServicePort}`,
                `--client-ca-file=${d.certificates.mountPath}/ca.crt`,
                `--tls-cert-file=${d.certificates.mountPath}/tls.crt`,
                `--tls-private-key-file=${d.certificates.mountPath}/tls.key`,
                `--cert-dir=${d.certificates.mountPath}`,
                `--v=${d.logging.metricServer.level}`,
                `--zap-log-level=${d.logging.metricServer.zapLevel}`,
                `--zap-encoder=${d.logging.metricServer.zapEncoder}`,
                `--zap-time-encoding=${d.logging.metricServer.zapTimeEncoding}`,
              ],
              ports: [
                { containerPort: d.service.portHttpsTarget, name: 'https', protocol: 'TCP' },
                { containerPort: d.prometheus.metricServer.port, name: d.prometheus.metricServer.portName, protocol: 'TCP' },
              ],
              volumeMounts: [certificatesMount],
              resources: d.resources,
            }],
            volumes: [certificatesVolume()],
            dnsPolicy: d.metricsServer.dnsPolicy,
            hostNetwork: false,
            nodeSelector: { 'kubernetes.io/os': 'linux' },
          },
        },
      },
    },
    {
      // templates/metrics-server/apiservice.yaml: no caBundle; the operator writes its CA in.
      apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: names.apiService, labels: named(names.apiService) },
      spec: {
        service: { name: names.metricsApiServer, namespace: ns, port: d.service.portHttps },
        group: 'external.metrics.k8s.io',
        version: 'v1beta1',
        groupPriorityMinimum: 100,
        versionPriority: 100,
      },
    },
  ];
}
