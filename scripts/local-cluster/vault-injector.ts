// The Vault Agent injector of the local cluster: the objects HashiCorp's `vault` Helm chart
// renders for the injector with the values the CDK add-on passes it (vaultInjectorValues), written
// out here because no chart repository can be reached. They follow chart 0.31.0
// (templates/injector-*.yaml, _helpers.tpl, values.yaml of that release): where the values leave
// a setting alone, the chart's default is written below as the chart's. What those values turn off
// is not rendered: the Vault server, the CSI provider, PodSecurityPolicies, the
// PodDisruptionBudget and OpenShift's NetworkPolicy. Nor is Helm's `app.kubernetes.io/managed-by`
// label: no Helm release manages these objects.
//
// The injector runs vault-k8s as scripts/setup/vault-injector.sh builds it (VAULT_K8S_VERSION), the
// newest release the Go module proxy serves: older than chart 0.31.0's default image.
import { join } from 'node:path';
import { vaultInjectorValues } from '../../lib/constructs/cluster/addons/vault-agent-injector';
import type { VaultInjectorValues } from '../../lib/constructs/cluster/addons/vault-agent-injector';
import type { HelmChartSpec, PlatformSpec } from '../../lib/spec';
import { cacheDir, installed, setupScriptVersion } from '../local-stack/process';
import { pinnedAddonChart } from './addon-chart';

/** The chart release whose templates the objects below follow. */
export const VAULT_HELM_CHART_VERSION = '0.31.0';

/** The vault-k8s release scripts/setup/vault-injector.sh builds: read from the script, the one place it is written. */
export const VAULT_K8S_VERSION = setupScriptVersion('vault-injector.sh', 'VAULT_K8S');

/** The static vault-k8s binary (the injector image's /bin/vault-k8s). */
export function findVaultInjectorBinary(root = cacheDir('vault-injector', 'bin')): string {
  return installed(join(root, 'vault-k8s'), { script: 'vault-injector.sh', what: `vault-k8s ${VAULT_K8S_VERSION}` });
}

/**
 * Chart 0.31.0's defaults (values.yaml) for what vaultInjectorValues leaves alone. Its images,
 * for naming the local ones: the agent image's Vault is the release scripts/setup/vault.sh builds.
 */
export const CHART_DEFAULTS = {
  images: { injector: 'hashicorp/vault-k8s:1.7.0', agent: 'hashicorp/vault:1.20.4' },
  port: 8080,
  logLevel: 'info',
  logFormat: 'standard',
  revokeOnShutdown: false,
  leaderElector: true,
  agentDefaults: { cpuRequest: '250m', cpuLimit: '500m', memRequest: '64Mi', memLimit: '128Mi', template: 'map', exitOnRetryFailure: true },
  webhook: { failurePolicy: 'Ignore', matchPolicy: 'Exact', timeoutSeconds: 30 },
  /** injector.uid / injector.gid, unset: the pod security context's defaults. */
  uid: 100,
  gid: 1000,
  probes: {
    liveness: { failureThreshold: 2, initialDelaySeconds: 5, periodSeconds: 2, successThreshold: 1, timeoutSeconds: 5 },
    readiness: { failureThreshold: 2, initialDelaySeconds: 5, periodSeconds: 2, successThreshold: 1, timeoutSeconds: 5 },
    startup: { failureThreshold: 12, initialDelaySeconds: 5, periodSeconds: 5, successThreshold: 1, timeoutSeconds: 5 },
  },
} as const;

export interface VaultInjectorOptions {
  /** The injector's image: vault-k8s, run by its entrypoint (`/bin/vault-k8s` in HashiCorp's image). */
  readonly injectorImage: string;
  /** The image of the injected Vault Agent containers; they run `/bin/sh -ec '... vault agent ...'`. */
  readonly agentImage: string;
  /** Vault's address for agents whose pod names none (global.externalVaultAddr). */
  readonly vaultAddress: string;
}

export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly [field: string]: unknown;
}

/** The names the chart gives the injector's objects. */
export interface VaultInjectorNames {
  readonly namespace: string;
  /** ServiceAccount and Deployment. */
  readonly injector: string;
  readonly service: string;
  /** The MutatingWebhookConfiguration, also the one the injector keeps the CA bundle of (AGENT_INJECT_TLS_AUTO). */
  readonly webhook: string;
  readonly clusterRole: string;
  readonly clusterRoleBinding: string;
  readonly leaderElectorRole: string;
  readonly leaderElectorRoleBinding: string;
  /** Where the leader shares its generated certificate with the other replicas (vault-k8s's fixed name). */
  readonly certsSecret: string;
  /** The pods' labels, which the Service, the Deployment and the anti-affinity select on. */
  readonly selector: Readonly<Record<string, string>>;
}

/** The chart's `vault.fullname`: the release name when it contains the chart's name, else both. */
function fullname(release: string, chart: string): string {
  return release.includes(chart) ? release : `${release}-${chart}`;
}

export function vaultInjectorNames(chart: HelmChartSpec): VaultInjectorNames {
  // installChart (lib/constructs/cluster/addons/addon.ts) names the release after the chart.
  const full = fullname(chart.chart, chart.chart);
  return {
    namespace: chart.namespace,
    injector: `${full}-agent-injector`,
    service: `${full}-agent-injector-svc`,
    webhook: `${full}-agent-injector-cfg`,
    clusterRole: `${full}-agent-injector-clusterrole`,
    clusterRoleBinding: `${full}-agent-injector-binding`,
    leaderElectorRole: `${full}-agent-injector-leader-elector-role`,
    leaderElectorRoleBinding: `${full}-agent-injector-leader-elector-binding`,
    certsSecret: 'vault-injector-certs',
    selector: { 'app.kubernetes.io/name': `${chart.chart}-agent-injector`, 'app.kubernetes.io/instance': chart.chart, component: 'webhook' },
  };
}

/** The chart whose objects these are; another version may render others, so it is refused. */
function injectorChart(spec: PlatformSpec): HelmChartSpec {
  return pinnedAddonChart(spec, 'vaultInjector', { chart: 'vault', version: VAULT_HELM_CHART_VERSION, module: 'vault-injector.ts' });
}

/**
 * The injector's objects as the chart renders them with vaultInjectorValues(vaultAddress), in
 * apply order, its namespace first (the add-on's installChart creates it).
 */
export function vaultInjectorObjects(spec: PlatformSpec, options: VaultInjectorOptions): KubeObject[] {
  const chart = injectorChart(spec);
  const values = vaultInjectorValues(options.vaultAddress);
  const names = vaultInjectorNames(chart);
  // The chart's leader elector (one replica generates the webhook's certificate) runs with more than one replica.
  const leaderElector = CHART_DEFAULTS.leaderElector && values.injector.replicas > 1;
  const labels = { 'app.kubernetes.io/name': names.selector['app.kubernetes.io/name']!, 'app.kubernetes.io/instance': names.selector['app.kubernetes.io/instance']! };
  const meta = (name: string, namespaced = true) => ({ name, ...(namespaced ? { namespace: names.namespace } : {}), labels });
  const serviceAccount = { kind: 'ServiceAccount', name: names.injector, namespace: names.namespace };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: names.namespace } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(names.injector) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: meta(names.clusterRole, false),
      rules: [
        { apiGroups: ['admissionregistration.k8s.io'], resources: ['mutatingwebhookconfigurations'], verbs: ['get', 'list', 'watch', 'patch'] },
        // The elector checks whether the node of a leader that went away is still Ready.
        ...(leaderElector ? [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }] : []),
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: meta(names.clusterRoleBinding, false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: names.clusterRole },
      subjects: [serviceAccount],
    },
    ...(leaderElector ? leaderElectorObjects(names, meta, serviceAccount) : []),
    {
      apiVersion: 'v1', kind: 'Service', metadata: meta(names.service),
      spec: { ports: [{ name: 'https', port: 443, targetPort: CHART_DEFAULTS.port }], selector: names.selector },
    },
    injectorDeployment(names, values, options, leaderElector, labels),
    mutatingWebhook(names, labels),
  ];
}

function leaderElectorObjects(
  names: VaultInjectorNames,
  meta: (name: string) => KubeObject['metadata'],
  serviceAccount: Record<string, string>,
): KubeObject[] {
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta(names.leaderElectorRole),
      rules: [
        // The leader's lock is a ConfigMap owned by its pod; the certificate goes in a Secret.
        { apiGroups: [''], resources: ['secrets', 'configmaps'], verbs: ['create', 'get', 'watch', 'list', 'update'] },
        { apiGroups: [''], resources: ['configmaps'], verbs: ['delete'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'patch', 'delete'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: meta(names.leaderElectorRoleBinding),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: names.leaderElectorRole },
      subjects: [serviceAccount],
    },
    { apiVersion: 'v1', kind: 'Secret', metadata: meta(names.certsSecret) },
  ];
}

/** The env of the injector's container, in the chart's order (no certificate Secret: TLS auto). */
function injectorEnv(names: VaultInjectorNames, values: VaultInjectorValues, options: VaultInjectorOptions, leaderElector: boolean) {
  const d = CHART_DEFAULTS;
  const service = names.service;
  const fieldRef = (fieldPath: string) => ({ valueFrom: { fieldRef: { fieldPath } } });
  return [
    { name: 'AGENT_INJECT_LISTEN', value: `:${d.port}` },
    { name: 'AGENT_INJECT_LOG_LEVEL', value: d.logLevel },
    { name: 'AGENT_INJECT_VAULT_ADDR', value: values.global.externalVaultAddr },
    { name: 'AGENT_INJECT_VAULT_AUTH_PATH', value: values.injector.authPath },
    { name: 'AGENT_INJECT_VAULT_IMAGE', value: options.agentImage },
    // The injector makes its own CA and serving certificate for these names and writes the CA
    // into the webhook named here.
    { name: 'AGENT_INJECT_TLS_AUTO', value: names.webhook },
    { name: 'AGENT_INJECT_TLS_AUTO_HOSTS', value: [service, `${service}.${names.namespace}`, `${service}.${names.namespace}.svc`].join(',') },
    { name: 'AGENT_INJECT_LOG_FORMAT', value: d.logFormat },
    { name: 'AGENT_INJECT_REVOKE_ON_SHUTDOWN', value: String(d.revokeOnShutdown) },
    ...(leaderElector ? [{ name: 'AGENT_INJECT_USE_LEADER_ELECTOR', value: 'true' }, { name: 'NAMESPACE', ...fieldRef('metadata.namespace') }] : []),
    { name: 'AGENT_INJECT_CPU_REQUEST', value: d.agentDefaults.cpuRequest },
    { name: 'AGENT_INJECT_CPU_LIMIT', value: d.agentDefaults.cpuLimit },
    { name: 'AGENT_INJECT_MEM_REQUEST', value: d.agentDefaults.memRequest },
    { name: 'AGENT_INJECT_MEM_LIMIT', value: d.agentDefaults.memLimit },
    { name: 'AGENT_INJECT_DEFAULT_TEMPLATE', value: d.agentDefaults.template },
    { name: 'AGENT_INJECT_TEMPLATE_CONFIG_EXIT_ON_RETRY_FAILURE', value: String(d.agentDefaults.exitOnRetryFailure) },
    { name: 'POD_NAME', ...fieldRef('metadata.name') },
  ];
}

function injectorDeployment(
  names: VaultInjectorNames,
  values: VaultInjectorValues,
  options: VaultInjectorOptions,
  leaderElector: boolean,
  labels: Readonly<Record<string, string>>,
): KubeObject {
  const d = CHART_DEFAULTS;
  const probe = (settings: (typeof d.probes)[keyof typeof d.probes]) => ({
    httpGet: { path: '/health/ready', port: d.port, scheme: 'HTTPS' },
    ...settings,
  });
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: names.injector, namespace: names.namespace, labels: { ...labels, component: 'webhook' } },
    spec: {
      replicas: values.injector.replicas,
      selector: { matchLabels: names.selector },
      template: {
        metadata: { labels: names.selector },
        spec: {
          // One replica per node: on a single node the second one stays Pending.
          affinity: {
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: names.selector }, topologyKey: 'kubernetes.io/hostname' }],
            },
          },
          serviceAccountName: names.injector,
          securityContext: { runAsNonRoot: true, runAsGroup: d.gid, runAsUser: d.uid, fsGroup: d.gid },
          hostNetwork: false,
          containers: [{
            name: 'sidecar-injector',
            image: options.injectorImage,
            imagePullPolicy: 'IfNotPresent',
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            env: injectorEnv(names, values, options, leaderElector),
            // As the chart writes them: no shell runs them, so `2>&1` reaches vault-k8s as an
            // argument, which it ignores.
            args: ['agent-inject', '2>&1'],
            livenessProbe: probe(d.probes.liveness),
            readinessProbe: probe(d.probes.readiness),
            startupProbe: probe(d.probes.startup),
          }],
        },
      },
    },
  };
}

/**
 * The webhook: every pod created outside the injector's own, through its Service. The CA bundle
 * starts empty; the injector fills it in (AGENT_INJECT_TLS_AUTO names this object).
 */
function mutatingWebhook(names: VaultInjectorNames, labels: Readonly<Record<string, string>>): KubeObject {
  const d = CHART_DEFAULTS.webhook;
  return {
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration',
    metadata: { name: names.webhook, labels },
    webhooks: [{
      name: 'vault.hashicorp.com',
      failurePolicy: d.failurePolicy,
      matchPolicy: d.matchPolicy,
      sideEffects: 'None',
      timeoutSeconds: d.timeoutSeconds,
      admissionReviewVersions: ['v1', 'v1beta1'],
      clientConfig: { service: { name: names.service, namespace: names.namespace, path: '/mutate' }, caBundle: '' },
      rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }],
      objectSelector: { matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'NotIn', values: [names.selector['app.kubernetes.io/name']!] }] },
    }],
  };
}
