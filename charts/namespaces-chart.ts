import { PlatformChart } from './lib/platform-chart';
import type { PlatformChartProps } from './lib/platform-chart';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s';
import type { Construct } from 'constructs';
import type { PlatformSpec } from '../lib/spec';
import { vaultDnsName } from '../lib/spec/vault-names';
import { workloadNamespaces, zoneSubnetCidrs } from '../lib/spec/topology';


/** The namespaces of the cluster add-ons (Helm charts, EKS add-ons): kube-system and the spec's. */
export function addOnNamespaces(spec: PlatformSpec): string[] {
  return [...new Set(['kube-system', ...Object.values(spec.clusterAddons).map((a) => a.namespace)])].sort();
}

/**
 * One namespace per workload, labelled with its security zone, each closed by a default-deny
 * policy in both directions plus DNS: the service charts open exactly what they need
 * (spec "Security Boundaries", DESIGN.md §4). Also the in-cluster name of Vault, and the
 * restricted zone closed to the add-ons' pods.
 */
export class NamespacesChart extends PlatformChart {
  constructor(scope: Construct, id: string, props: PlatformChartProps) {
    super(scope, id, props);
    // A stable in-cluster name for Vault (vaultAddress in lib/spec/topology), an alias of the
    // environment's private DNS name of Vault: `ops vault-failover` moves that record to the
    // standby, and every client follows without a redeploy.
    new k8s.KubeService(this, 'vault', {
      metadata: { name: 'vault', namespace: props.spec.clusterAddons.vaultInjector.namespace },
      spec: { type: 'ExternalName', externalName: vaultDnsName(props.spec, props.environment.name) },
    });
    // The add-ons' pods run with the nodes' security group, which the restricted zone admits for
    // PgBouncer and the services: without a policy of their own they could reach the data stores.
    // Everything else stays open to them (their charts are not ours to narrow).
    const restricted = zoneSubnetCidrs(props.spec, props.environment).restricted;
    for (const namespace of addOnNamespaces(props.spec)) {
      new k8s.KubeNetworkPolicy(this, `${namespace}-restricted-zone-guard`, {
        // The add-ons' pods come from their Helm charts and EKS, not from these charts.
        metadata: { name: 'restricted-zone-guard', namespace, annotations: { 'kube-score/ignore': 'networkpolicy-targets-pod' } },
        spec: {
          podSelector: {},
          policyTypes: ['Egress'],
          egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: restricted } }] }],
        },
      });
    }
    for (const { name, zone } of workloadNamespaces(props.spec)) {
      new k8s.KubeNamespace(this, `${name}-namespace`, {
        metadata: {
          name,
          labels: {
            'platform/zone': zone,
            // Pod Security Admission: the workloads run non-root with no privileges (DESIGN.md §4).
            'pod-security.kubernetes.io/enforce': 'restricted',
          },
        },
      });
      new k8s.KubeNetworkPolicy(this, `${name}-default-deny`, {
        metadata: { name: 'default-deny', namespace: name },
        spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
      });
      new k8s.KubeNetworkPolicy(this, `${name}-allow-dns`, {
        metadata: { name: 'allow-dns', namespace: name },
        spec: {
          podSelector: {},
          policyTypes: ['Egress'],
          egress: [{
            to: [{
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
              podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
            }],
            ports: [
              { protocol: 'UDP', port: k8s.IntOrString.fromNumber(53) },
              { protocol: 'TCP', port: k8s.IntOrString.fromNumber(53) },
            ],
          }],
        },
      });
    }
  }
}
