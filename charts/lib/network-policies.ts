/**
 * The spec's "Security Boundaries" inside the cluster (DESIGN.md §4): every namespace denies all
 * traffic by default (namespaces chart); these policies open exactly the paths the zone table
 * and the call graph need. Destinations outside the cluster are subnet CIDRs of their zone.
 */
import type { Construct } from 'constructs';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s';
import type { ChartEnvironment, PlatformSpec, ServiceSpec } from '../../lib/spec';
import {
  callersOf, MONITORING, nonInternetCidrs, paymentProviderPort, PGBOUNCER_NAMESPACE, PGBOUNCER_READER, PGBOUNCER_WRITER, serviceByName,
  servicesWithSecret, vaultStandbyCidr, zoneSubnetCidrs,
} from '../../lib/spec/topology';

const tcp = (port: number): k8s.NetworkPolicyPort => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) });
const inNamespace = (namespace: string, podLabels: Record<string, string>): k8s.NetworkPolicyPeer => ({
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
  podSelector: { matchLabels: podLabels },
});
const cidrs = (blocks: readonly string[]): k8s.NetworkPolicyPeer[] => blocks.map((cidr) => ({ ipBlock: { cidr } }));

/** Prometheus (scrapes /metrics on the health port) as a peer. */
export const prometheusPeer = (spec: PlatformSpec) => inNamespace(spec.clusterAddons.prometheus.namespace, { ...MONITORING.podLabels });

/**
 * Egress to Vault for the Vault Agent, on the API port: the primary's internal NLB (private zone)
 * and, after a failover, the standby's in the DR region's VPC (over the peering).
 */
export function vaultEgress(spec: PlatformSpec, environment: ChartEnvironment): k8s.NetworkPolicyEgressRule {
  const standby = vaultStandbyCidr(spec, environment);
  return { to: cidrs([...zoneSubnetCidrs(spec, environment).private, ...(standby ? [standby] : [])]), ports: [tcp(spec.vault.apiPort)] };
}

function policy(scope: Construct, id: string, name: string, podSelector: Record<string, string>,
  rules: { ingress?: k8s.NetworkPolicyIngressRule[]; egress?: k8s.NetworkPolicyEgressRule[] }) {
  const policyTypes = [...(rules.ingress ? ['Ingress'] : []), ...(rules.egress ? ['Egress'] : [])];
  return new k8s.KubeNetworkPolicy(scope, id, {
    metadata: { name },
    spec: { podSelector: { matchLabels: podSelector }, policyTypes, ...rules },
  });
}

export interface ServicePoliciesProps {
  readonly spec: PlatformSpec;
  readonly environment: ChartEnvironment;
  readonly service: ServiceSpec;
  readonly selector: Record<string, string>;
}

/** What one service may receive and send (namespace = service name). */
export function serviceNetworkPolicies(scope: Construct, props: ServicePoliciesProps) {
  const { spec, environment, service, selector } = props;
  const zones = zoneSubnetCidrs(spec, environment);
  const name = service.name;
  const callers = callersOf(spec, name);
  const kinds = service.secrets;

  const ingress: k8s.NetworkPolicyIngressRule[] = [
    { from: [prometheusPeer(spec)], ports: [tcp(service.healthPort)] },
  ];
  // The edge service (exposes 'edge'): the load balancer (public zone) targets pod IPs through
  // the TargetGroupBinding, and health-checks the health port.
  if (service.exposes === 'edge') ingress.push({ from: cidrs(zones.public), ports: [tcp(service.port), tcp(service.healthPort)] });
  // Only the load balancer and the VPN reach the DMZ: the Client VPN translates its clients'
  // addresses to its own interfaces in the DMZ subnets.
  if (service.zone === 'dmz' && spec.operatorAccess.vpn.includes('dmz')) ingress.push({ from: cidrs(zones.dmz), ports: [tcp(service.port)] });
  if (callers.length > 0) {
    ingress.push({ from: callers.map((caller) => inNamespace(caller, { 'app.kubernetes.io/name': caller })), ports: [tcp(service.port)] });
  }
  policy(scope, 'ingress', `${name}-ingress`, selector, { ingress });

  const egress: k8s.NetworkPolicyEgressRule[] = [vaultEgress(spec, environment)];
  for (const callee of service.calls) {
    egress.push({ to: [inNamespace(callee, { 'app.kubernetes.io/name': callee })], ports: [tcp(serviceByName(spec, callee).port)] });
  }
  if (kinds.includes('database')) {
    const pools = service.database?.replicaReads ? [PGBOUNCER_WRITER, PGBOUNCER_READER] : [PGBOUNCER_WRITER];
    egress.push({ to: pools.map((pool) => inNamespace(PGBOUNCER_NAMESPACE, { 'app.kubernetes.io/name': pool })), ports: [tcp(spec.dataTier.pgbouncer.port)] });
  }
  if (kinds.includes('cache')) egress.push({ to: cidrs(zones.restricted), ports: [tcp(spec.dataTier.redis.port)] });
  if (kinds.includes('broker')) egress.push({ to: cidrs(zones.restricted), ports: [tcp(spec.dataTier.kafka.saslScramPort)] });
  if (kinds.includes('payment-provider')) {
    // The provider's addresses are not ours to list (NetworkPolicy has no DNS names): the
    // internet on its API port only, through the NAT gateways, and nothing of our own networks.
    egress.push({ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: nonInternetCidrs(spec, environment) } }], ports: [tcp(paymentProviderPort(spec))] });
  }
  policy(scope, 'egress', `${name}-egress`, selector, { egress });
}

/** The pools: clients with a database in, PostgreSQL (restricted zone) and Vault out. */
export function pgbouncerNetworkPolicies(scope: Construct, spec: PlatformSpec, environment: ChartEnvironment, selector: Record<string, string>) {
  const zones = zoneSubnetCidrs(spec, environment);
  const clients = servicesWithSecret(spec, 'database').map((s) => s.name).sort();
  policy(scope, 'ingress', 'pgbouncer-ingress', selector, {
    ingress: [
      { from: clients.map((svc) => inNamespace(svc, { 'app.kubernetes.io/name': svc })), ports: [tcp(spec.dataTier.pgbouncer.port)] },
      { from: [prometheusPeer(spec)], ports: [tcp(spec.workloads.pgbouncer.exporterPort)] },
    ],
  });
  policy(scope, 'egress', 'pgbouncer-egress', selector, {
    egress: [
      { to: cidrs(zones.restricted), ports: [tcp(spec.dataTier.postgres.port)] },
      vaultEgress(spec, environment),
    ],
  });
}
