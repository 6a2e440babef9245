/**
 * One function per layer a packet crosses. Each answers for one pair of placements (a subnet of
 * the source, a subnet of the destination) how much of the source's and destination's addresses
 * it lets through, and names the resource that decided.
 */
import { ANY_IPV4, cidrContains, cidrCoverage, cidrInterval, cidrOverlaps, peerCoverage } from './addresses';
import type { Coverage, Interval } from './addresses';
import { selectorMatches } from './kubernetes';
import type { K8sObject } from './kubernetes';
import { routeFor } from './network';
import type { Nacl, NatGateway, Network, RouteTable, SecurityGroup, Subnet, Vpc } from './network';
import type { Endpoint, Placement, PortSpec } from './types';
import { portLabel } from './types';

export type Layer =
  | 'listener' | 'vpn-authorization' | 'route' | 'network-acl'
  | 'security-group-egress' | 'security-group-ingress' | 'network-policy-egress' | 'network-policy-ingress';

export interface LayerResult {
  readonly layer: Layer;
  readonly coverage: Coverage;
  /** The resource that decided: the route table, ACL, security group(s) or NetworkPolicies. */
  readonly resource: string;
  readonly detail: string;
}

const pass = (layer: Layer, resource: string, detail: string): LayerResult => ({ layer, coverage: 'all', resource, detail });
const result = (layer: Layer, c: Coverage, resource: string, detail: string): LayerResult => ({ layer, coverage: c, resource, detail });

/** Ephemeral ports a response goes back to: the range AWS documents for ACL rules. */
export const EPHEMERAL: Interval = { start: 1024, end: 65536 };
const PROTOCOL_NUMBER = { tcp: 6, udp: 17 } as const;

// --- Routes ---------------------------------------------------------------------------------

/** The path to the internet from a subnet: through a NAT gateway, or an internet gateway. */
export function internetPath(network: Network, subnet: Subnet, source: Endpoint): { result: LayerResult; nat?: NatGateway } {
  const table = subnet.routeTable;
  const route = routeFor(table, subnet.vpc, ANY_IPV4);
  if (!route || route === 'local') return { result: result('route', 'none', table.name, 'no route to the internet (0.0.0.0/0)') };
  if (route.target.kind === 'nat-gateway') {
    const nat = network.natGateway(route.target.resource);
    if (!nat) return { result: result('route', 'none', table.name, 'default route to a NAT gateway the templates do not define') };
    const natRoute = routeFor(nat.subnet.routeTable, nat.subnet.vpc, ANY_IPV4);
    if (!natRoute || natRoute === 'local' || natRoute.target.kind !== 'internet-gateway') {
      return { result: result('route', 'none', nat.subnet.routeTable.name, `the NAT gateway's subnet has no route to an internet gateway`) };
    }
    return { result: pass('route', table.name, `0.0.0.0/0 via ${nat.resource.path} and its internet gateway`), nat };
  }
  if (route.target.kind === 'internet-gateway') {
    return source.internetFacing
      ? { result: pass('route', table.name, '0.0.0.0/0 via the internet gateway (public address)') }
      : { result: result('route', 'none', table.name, 'routes to the internet gateway, but the source has no public address') };
  }
  return { result: result('route', 'none', table.name, `0.0.0.0/0 goes to ${route.target.resource?.path ?? 'an unknown target'}, not to the internet`) };
}

/** From the internet to a destination: a public address and an internet gateway route back. */
export function routeFromInternet(destination: Endpoint, subnet: Subnet): LayerResult {
  if (!destination.internetFacing) return result('route', 'none', destination.label, 'has no public address: nothing on the internet can route to it');
  const route = routeFor(subnet.routeTable, subnet.vpc, ANY_IPV4);
  if (!route || route === 'local' || route.target.kind !== 'internet-gateway') {
    return result('route', 'none', subnet.routeTable.name, 'no 0.0.0.0/0 route to an internet gateway for the replies');
  }
  return pass('route', subnet.routeTable.name, 'public address, internet gateway route');
}

function peeringRoute(network: Network, table: RouteTable, from: Vpc, to: Vpc, cidr: string): LayerResult {
  const route = routeFor(table, from, cidr);
  if (!route || route === 'local') return result('route', 'none', table.name, `no route to ${cidr} (${to.resource.path})`);
  const peering = network.peeringBetween(from, to);
  if (route.target.kind !== 'peering' || !peering || route.target.resource !== peering.resource) {
    return result('route', 'none', table.name, `the route to ${cidr} goes to ${route.target.resource?.path ?? 'an unknown target'}, not to a peering with ${to.resource.path}`);
  }
  return pass('route', table.name, `to ${cidr} via ${peering.resource.path}`);
}

/** Between two subnets: the local route, or a peering connection routed both ways. */
export function routeBetween(network: Network, from: Subnet, to: Subnet, fromCidr: string, toCidr: string): LayerResult {
  if (from.vpc === to.vpc) return pass('route', from.routeTable.name, 'local route of the VPC');
  const forward = peeringRoute(network, from.routeTable, from.vpc, to.vpc, toCidr);
  if (forward.coverage !== 'all') return forward;
  const back = peeringRoute(network, to.routeTable, to.vpc, from.vpc, fromCidr);
  if (back.coverage !== 'all') return { ...back, detail: `replies: ${back.detail}` };
  return pass('route', `${from.routeTable.name} / ${to.routeTable.name}`, forward.detail);
}

// --- Network ACLs (stateless: requests and replies) -------------------------------------------

function subtractInterval(list: Interval[], cut: Interval): Interval[] {
  return list.flatMap((i) => {
    if (cut.end <= i.start || cut.start >= i.end) return [i];
    const out: Interval[] = [];
    if (cut.start > i.start) out.push({ start: i.start, end: cut.start });
    if (cut.end < i.end) out.push({ start: cut.end, end: i.end });
    return out;
  });
}

/** What one ACL direction lets through for a peer block and a port range: rules in number order, first match wins. */
export function aclCoverage(acl: Nacl, egress: boolean, peer: string, protocol: 'tcp' | 'udp', ports: Interval): { coverage: Coverage; rule: string } {
  let undecided: Interval[] = [ports];
  let allowed = false;
  let denied: string | undefined;
  for (const entry of acl.entries.filter((e) => e.egress === egress)) {
    if (entry.protocol !== -1 && entry.protocol !== PROTOCOL_NUMBER[protocol]) continue;
    const range: Interval = entry.protocol === -1 || !entry.ports ? { start: 0, end: 65536 } : { start: entry.ports.from, end: entry.ports.to + 1 };
    if (!undecided.some((u) => u.start < range.end && range.start < u.end)) continue;
    const name = `rule ${entry.ruleNumber} (${entry.allow ? 'allow' : 'deny'} ${entry.cidr})`;
    if (cidrContains(entry.cidr, peer)) {
      if (entry.allow) allowed = true; else denied ??= name;
      undecided = subtractInterval(undecided, range);
    } else if (cidrOverlaps(entry.cidr, peer)) {
      if (entry.allow) allowed = true; else denied ??= name;
    }
    if (undecided.length === 0) break;
  }
  if (undecided.length > 0) denied ??= 'the final * rule (deny)';
  return { coverage: allowed ? (denied ? 'some' : 'all') : 'none', rule: denied ?? 'allowed' };
}

interface AclCheck { readonly acl: Nacl; readonly egress: boolean; readonly peer: string; readonly ports: Interval; readonly what: string }

function aclChecks(checks: readonly AclCheck[], protocol: 'tcp' | 'udp'): LayerResult {
  let worst: LayerResult | undefined;
  for (const c of checks) {
    const { coverage: cov, rule } = aclCoverage(c.acl, c.egress, c.peer, protocol, c.ports);
    if (cov !== 'all') {
      const r = result('network-acl', cov, c.acl.name, `${c.what}: ${c.egress ? 'outbound' : 'inbound'} ${c.peer} ${protocol}/${c.ports.start}${c.ports.end - 1 > c.ports.start ? `-${c.ports.end - 1}` : ''} stopped by ${rule}`);
      if (!worst || (cov === 'none' && worst.coverage !== 'none')) worst = r;
      if (cov === 'none') break;
    }
  }
  return worst ?? pass('network-acl', checks.map((c) => c.acl.name).filter((n, i, a) => a.indexOf(n) === i).join(' / ') || 'none crossed', 'requests and replies allowed');
}

const one = (port: number): Interval => ({ start: port, end: port + 1 });

/** A request from one subnet to another and its reply, through both subnets' ACLs. */
export function aclBetween(from: Placement & { subnet: Subnet }, to: Placement & { subnet: Subnet }, port: PortSpec): LayerResult {
  if (from.subnet === to.subnet) return pass('network-acl', from.subnet.nacl.name, 'same subnet: no ACL is crossed');
  return aclChecks([
    { acl: from.subnet.nacl, egress: true, peer: to.cidr, ports: one(port.port), what: 'request leaving the source subnet' },
    { acl: to.subnet.nacl, egress: false, peer: from.cidr, ports: one(port.port), what: 'request entering the destination subnet' },
    { acl: to.subnet.nacl, egress: true, peer: from.cidr, ports: EPHEMERAL, what: 'reply leaving the destination subnet' },
    { acl: from.subnet.nacl, egress: false, peer: to.cidr, ports: EPHEMERAL, what: 'reply entering the source subnet' },
  ], port.protocol);
}

/** From the internet into a subnet, and the reply out. */
export function aclFromInternet(to: Subnet, port: PortSpec): LayerResult {
  return aclChecks([
    { acl: to.nacl, egress: false, peer: ANY_IPV4, ports: one(port.port), what: 'request entering the destination subnet' },
    { acl: to.nacl, egress: true, peer: ANY_IPV4, ports: EPHEMERAL, what: 'reply leaving the destination subnet' },
  ], port.protocol);
}

/** From a subnet to the internet, through a NAT gateway's subnet when there is one. */
export function aclToInternet(from: Placement & { subnet: Subnet }, nat: NatGateway | undefined, port: PortSpec): LayerResult {
  const checks: AclCheck[] = [
    { acl: from.subnet.nacl, egress: true, peer: ANY_IPV4, ports: one(port.port), what: 'request leaving the source subnet' },
    { acl: from.subnet.nacl, egress: false, peer: ANY_IPV4, ports: EPHEMERAL, what: 'reply entering the source subnet' },
  ];
  if (nat && nat.subnet !== from.subnet) {
    checks.push(
      { acl: nat.subnet.nacl, egress: false, peer: from.cidr, ports: one(port.port), what: 'request entering the NAT gateway\'s subnet' },
      { acl: nat.subnet.nacl, egress: true, peer: ANY_IPV4, ports: one(port.port), what: 'request leaving the NAT gateway\'s subnet' },
      { acl: nat.subnet.nacl, egress: false, peer: ANY_IPV4, ports: EPHEMERAL, what: 'reply entering the NAT gateway\'s subnet' },
      { acl: nat.subnet.nacl, egress: true, peer: from.cidr, ports: EPHEMERAL, what: 'reply leaving the NAT gateway\'s subnet' },
    );
  }
  return aclChecks(checks, port.protocol);
}

// --- Security groups (stateful) ---------------------------------------------------------------

export interface SgPeerIdentity {
  /** The peer's addresses in this pair. */
  readonly cidr: string;
  /** Its groups, when a rule may name them (same VPC, or a peering within one region). */
  readonly groups: readonly SecurityGroup[];
  readonly prefixList?: string;
}

export function securityGroups(layer: 'security-group-egress' | 'security-group-ingress', groups: readonly SecurityGroup[], peer: SgPeerIdentity, port: PortSpec, owner: Endpoint): LayerResult {
  const names = groups.map((g) => g.name).join(', ');
  const direction = layer === 'security-group-egress' ? 'egress' : 'ingress';
  if (groups.length === 0) return pass(layer, owner.label, 'no security group on this side');
  const cidrs: Interval[] = [];
  for (const group of groups) {
    for (const rule of group[direction]) {
      if (rule.protocol !== '-1' && rule.protocol !== port.protocol) continue;
      if (port.port < rule.from || port.port > rule.to) continue;
      if (rule.peer.group && peer.groups.some((g) => g.key === rule.peer.group)) {
        return pass(layer, group.name, `${rule.description ?? 'rule'} (${rule.resource.path})`);
      }
      if (rule.peer.prefixList && rule.peer.prefixList === peer.prefixList) {
        return pass(layer, group.name, `${rule.description ?? 'rule'}: prefix list ${rule.peer.prefixList}`);
      }
      if (rule.peer.cidr) cidrs.push(cidrInterval(rule.peer.cidr));
    }
  }
  const c = peerCoverage(peer.cidr, cidrs);
  const detail = c === 'all' ? `a CIDR rule covers ${peer.cidr}`
    : `${c === 'some' ? 'only part of' : 'nothing admits'} ${peer.cidr}${peer.groups.length ? ` or its groups (${peer.groups.map((g) => g.name).join(', ')})` : ''}${peer.prefixList ? ` or ${peer.prefixList}` : ''} on ${portLabel(port)}`;
  return result(layer, c, names, `${direction}: ${detail}`);
}

/** Whether a rule of one VPC may name a security group of another (peering within one region only). */
export function groupsReferable(network: Network, a: Subnet | undefined, b: Subnet | undefined): boolean {
  if (!a || !b) return false;
  if (a.vpc === b.vpc) return true;
  return a.vpc.region === b.vpc.region && network.peeringBetween(a.vpc, b.vpc) !== undefined;
}

// --- Kubernetes NetworkPolicies ---------------------------------------------------------------

/** A port of a NetworkPolicy rule matches: protocol, number or named port of the destination pod, endPort. */
function policyPortMatches(rulePorts: unknown, port: PortSpec, destination: Endpoint | undefined): boolean {
  if (!Array.isArray(rulePorts) || rulePorts.length === 0) return true;
  return rulePorts.some((p: { protocol?: string; port?: number | string; endPort?: number }) => {
    if ((p.protocol ?? 'TCP').toLowerCase() !== port.protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string') return destination?.listens?.some((l) => l.name === p.port && l.port === port.port && l.protocol === port.protocol) ?? false;
    return port.port >= p.port && port.port <= (p.endPort ?? p.port);
  });
}

export function networkPolicies(
  layer: 'network-policy-egress' | 'network-policy-ingress', policies: readonly K8sObject[], subject: Endpoint,
  peer: Endpoint, peerCidr: string, port: PortSpec,
): LayerResult {
  const pod = subject.pod;
  if (!pod) return pass(layer, subject.label, 'not a pod');
  const type = layer === 'network-policy-egress' ? 'Egress' : 'Ingress';
  if (type === 'Ingress' && peer.kind === 'node-group') {
    return pass(layer, subject.label, 'from its own node (kubelet): the VPC CNI network policy agent always admits the node\'s address');
  }
  const selecting = policies.filter((p) => (p.metadata.namespace ?? 'default') === pod.namespace
    && selectorMatches(p.spec?.podSelector ?? {}, pod.labels)
    // Without policyTypes a policy isolates for ingress, and for egress when it has egress rules.
    && ((p.spec?.policyTypes as string[] | undefined) ?? ['Ingress', ...(p.spec?.egress ? ['Egress'] : [])]).includes(type));
  const resource = `NetworkPolicies of ${pod.namespace}/${pod.workload} (${type.toLowerCase()}): ${selecting.map((p) => p.metadata.name).join(', ') || 'none'}`;
  if (selecting.length === 0) return pass(layer, resource, `no policy isolates the pods for ${type.toLowerCase()}`);
  const destination = type === 'Egress' ? peer : subject;
  const blocks: Array<{ cidr: string; except?: string[] }> = [];
  let bySelector = false;
  for (const policy of selecting) {
    const rules = (type === 'Egress' ? policy.spec?.egress : policy.spec?.ingress) ?? [];
    for (const rule of rules as Array<{ ports?: unknown; to?: unknown[]; from?: unknown[] }>) {
      if (!policyPortMatches(rule.ports, port, destination)) continue;
      const peers = (type === 'Egress' ? rule.to : rule.from) ?? [];
      if (peers.length === 0) { bySelector = true; continue; }
      for (const p of peers as Array<{ ipBlock?: { cidr: string; except?: string[] }; namespaceSelector?: unknown; podSelector?: unknown }>) {
        if (p.ipBlock) { blocks.push(p.ipBlock); continue; }
        if (!peer.pod) continue;
        const nsOk = p.namespaceSelector === undefined ? peer.pod.namespace === pod.namespace
          : selectorMatches(p.namespaceSelector as never, peer.pod.namespaceLabels);
        const podOk = p.podSelector === undefined || selectorMatches(p.podSelector as never, peer.pod.labels);
        if (nsOk && podOk) bySelector = true;
      }
    }
  }
  if (bySelector) return pass(layer, resource, `a rule admits ${peer.label} on ${portLabel(port)}`);
  const c = blocks.length ? cidrCoverage(peerCidr, blocks) : 'none';
  return result(layer, c, resource, c === 'all' ? `an ipBlock covers ${peerCidr}`
    : `${c === 'some' ? 'only part of' : 'no rule admits'} ${peer.label} (${peerCidr}) on ${portLabel(port)}`);
}

// --- Client VPN ---------------------------------------------------------------------------------

export function vpnAuthorization(vpn: Endpoint, destinationCidr: string): LayerResult {
  const authorized = vpn.vpnAuthorizedCidrs ?? [];
  const c = cidrCoverage(destinationCidr, authorized.map((cidr) => ({ cidr })));
  return result('vpn-authorization', c, vpn.label, c === 'all' ? `authorised to ${authorized.join(', ')}`
    : `no authorization rule covers ${destinationCidr} (authorised: ${authorized.join(', ') || 'nothing'})`);
}
