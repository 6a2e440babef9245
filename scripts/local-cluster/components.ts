// The configuration files of the local cluster's node components, one function each: what they
// contain is the difference between this node and an EKS node, so each says why it differs.
import { HarnessError, setupScriptWords } from '../local-stack/process';
import type { ClusterNetworkPlan } from './network';
import { offset } from './plan';

export const NODE_NAME = 'local-node';
export const CLUSTER_DOMAIN = 'cluster.local';
/** Fixed ports: the namespace is the cluster's own, nothing else listens in it. */
export const PORTS = { etcdClient: 2379, etcdPeer: 2380, apiServer: 6443, kubelet: 10250, kubeProxyHealth: 10256, kubeRouterHealth: 20244 } as const;

/** The tenth address of the Service range is the DNS Service's, as kubeadm and EKS choose it. */
export const dnsServiceIp = (plan: ClusterNetworkPlan) => offset(plan.serviceCidr, 10);
/** The first is the `kubernetes` Service's. */
export const apiServiceIp = (plan: ClusterNetworkPlan) => offset(plan.serviceCidr, 1);

export interface ContainerdPaths {
  readonly root: string;
  readonly state: string;
  readonly socket: string;
  readonly cniConfDir: string;
  readonly sandboxImage: string;
  /**
   * A registry the node pulls from over plain HTTP: its name in image references, the public
   * registries it stands in for (their images are pulled from it), and where it answers.
   */
  readonly registry?: { readonly host: string; readonly mirrors: readonly string[]; readonly endpoint: string };
}

/**
 * containerd 1.6 (Debian's) with the CRI plugin. `restrict_oom_score_adj`: root here lacks
 * CAP_SYS_RESOURCE, and runc fails every sandbox that asks for a lower OOM score than its own.
 * The pods' network namespaces are mounted under the state dir, not /run/netns, so they go with it.
 */
export function containerdConfig(paths: ContainerdPaths): string {
  const registry = paths.registry;
  return `version = 2
root = "${paths.root}"
state = "${paths.state}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "${paths.socket}"

[ttrpc]
  address = "${paths.socket}.ttrpc"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${paths.sandboxImage}"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_unprivileged_ports = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${paths.cniConfDir}"
${registry ? [registry.host, ...registry.mirrors].map((host) => `  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."${host}"]
    endpoint = ["${registry.endpoint}"]
`).join('') : ''}`;
}

/**
 * The pod network: one Linux bridge on the node (EKS's VPC CNI gives pods VPC addresses on the
 * node's ENIs instead). Pods keep their addresses leaving the node, as in the VPC: no masquerade.
 */
export function cniConfig(plan: ClusterNetworkPlan, ipamDataDir: string): string {
  const gateway = offset(plan.podCidr, 1);
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: 'local-cluster',
    plugins: [
      {
        type: 'bridge', bridge: 'cni0', isGateway: true, ipMasq: false, hairpinMode: true,
        ipam: { type: 'host-local', dataDir: ipamDataDir, ranges: [[{ subnet: plan.podCidr, gateway }]], routes: [{ dst: '0.0.0.0/0' }] },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  }, null, 2);
}

export interface KubeletPaths {
  readonly clientCaFile: string;
  readonly tlsCertFile: string;
  readonly tlsKeyFile: string;
  readonly containerdSocket: string;
  readonly podLogsDir: string;
  readonly resolvConf: string;
  readonly cgroupRoot: string;
}

/**
 * kubelet: webhook authentication and authorisation as on EKS. This VM's differences: cgroup v1
 * (`failCgroupV1: false`), no CAP_SYS_RESOURCE (`oomScoreAdj: 0`), no image garbage collection
 * (the images are imported, not pulled back), and a cgroup root of its own to remove at the end.
 */
export function kubeletConfig(plan: ClusterNetworkPlan, paths: KubeletPaths, cgroupV1: boolean): string {
  return JSON.stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: plan.nodeIp,
    port: PORTS.kubelet,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    tlsCertFile: paths.tlsCertFile,
    tlsPrivateKeyFile: paths.tlsKeyFile,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: paths.clientCaFile } },
    authorization: { mode: 'Webhook' },
    clusterDomain: CLUSTER_DOMAIN,
    clusterDNS: [dnsServiceIp(plan)],
    containerRuntimeEndpoint: `unix://${paths.containerdSocket}`,
    podLogsDir: paths.podLogsDir,
    resolvConf: paths.resolvConf,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: paths.cgroupRoot,
    ...(cgroupV1 ? { failCgroupV1: false } : {}),
    oomScoreAdj: 0,
    failSwapOn: false,
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
    serializeImagePulls: false,
    maxPods: 110,
    rotateCertificates: false,
    serverTLSBootstrap: false,
    nodeStatusUpdateFrequency: '5s',
    syncFrequency: '10s',
  }, null, 2);
}

/**
 * kube-proxy in iptables mode. The conntrack table is the kernel's, not the namespace's: kube-proxy
 * is told to leave its size and timeouts alone.
 */
export function kubeProxyConfig(plan: ClusterNetworkPlan, kubeconfig: string): string {
  return JSON.stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'iptables',
    clientConnection: { kubeconfig },
    hostnameOverride: NODE_NAME,
    bindAddress: plan.nodeIp,
    healthzBindAddress: `${plan.nodeIp}:${PORTS.kubeProxyHealth}`,
    metricsBindAddress: '127.0.0.1:10249',
    clusterCIDR: plan.podCidr,
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
  }, null, 2);
}

/** A kubeconfig for one identity (bearer token) at the API server. */
export function kubeconfigFor(server: string, caFile: string, user: string, token: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'local', cluster: { server, 'certificate-authority': caFile } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: 'local', context: { cluster: 'local', user } }],
    'current-context': 'local',
  }, null, 2);
}

/**
 * CoreDNS as EKS runs it (Deployment `coredns`, Service `kube-dns`, label k8s-app=kube-dns, the
 * label the workloads' DNS policy admits), from the binary scripts/setup/cluster.sh builds. No
 * upstream resolver: the machine reaches no DNS outside; `hosts` names the stand-ins outside the cluster.
 * That binary holds only the plugins of the script's COREDNS_PLUGINS: a Corefile naming another
 * fails here, before CoreDNS would refuse it as an unknown directive and never become ready.
 */
export function coreDnsManifests(plan: ClusterNetworkPlan, image: string, hosts: Readonly<Record<string, string>>): object[] {
  const labels = { 'k8s-app': 'kube-dns' };
  const hostLines = Object.entries(hosts).map(([name, ip]) => `      ${ip} ${name}`).join('\n');
  const corefile = `.:53 {
    errors
    health 127.0.0.1:8080
    ready :8181
    kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {
      pods insecure
      fallthrough in-addr.arpa ip6.arpa
    }
    hosts {
${hostLines}
      fallthrough
    }
    cache 30
}
`;
  const built = setupScriptWords('cluster.sh', 'COREDNS_PLUGINS');
  // The server block's directives: the first word of each line indented one level.
  const unbuilt = [...corefile.matchAll(/^ {4}([a-z0-9_]+)/gm)].map((m) => m[1]!).filter((plugin) => !built.includes(plugin));
  if (unbuilt.length > 0) {
    throw new HarnessError(`the Corefile uses ${unbuilt.join(', ')}, which scripts/setup/cluster.sh does not build CoreDNS with (COREDNS_PLUGINS)`);
  }
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: 'kube-system' } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'system:coredns' },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'system:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: 'kube-system' }],
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'kube-system' }, data: { Corefile: corefile } },
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'coredns', namespace: 'kube-system', labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'coredns',
            priorityClassName: 'system-cluster-critical',
            dnsPolicy: 'Default',
            containers: [{
              name: 'coredns', image, imagePullPolicy: 'Never', args: ['-conf', '/etc/coredns/Corefile'],
              ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }, { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' }],
              readinessProbe: { httpGet: { path: '/ready', port: 8181 }, periodSeconds: 2 },
              securityContext: {
                allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
                capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
              },
              resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } },
              volumeMounts: [{ name: 'config', mountPath: '/etc/coredns', readOnly: true }],
            }],
            volumes: [{ name: 'config', configMap: { name: 'coredns' } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'kube-dns', namespace: 'kube-system', labels },
      spec: {
        selector: labels, clusterIP: dnsServiceIp(plan),
        ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }, { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 }],
      },
    },
  ];
}
