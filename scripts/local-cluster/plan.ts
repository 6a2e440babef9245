// Where the local cluster's addresses come from: the environment's zones (lib/spec/topology.ts),
// so the NetworkPolicies the charts render for that environment name the addresses the cluster
// really uses. The node and its pods take the private zone's subnet, as EKS nodes and VPC CNI pods
// do; the stand-ins outside the cluster take an address in the zone the spec puts them in.
import type { ChartEnvironment, PlatformSpec } from '../../lib/spec';
import { addressCount, formatIpv4, parseCidr } from '../../lib/spec';
import { zoneSubnetCidrs } from '../../lib/spec/topology';
import type { ClusterNetworkPlan } from './network';

/**
 * choice: EKS's own Service range when the VPC is in 10.0.0.0/8; outside every VPC of the spec.
 * TEST-NET-3 (RFC 5737) stands for "the internet": no one's address, reachable only through the veth.
 */
export const SERVICE_CIDR = '172.20.0.0/16';
export const INTERNET_ADDRESS = '203.0.113.10';

/** Roles of the host-side addresses (ClusterNetworkPlan.outsideAddresses). */
export const OUTSIDE = {
  /** The load balancer (public zone): the edge service's only client. */
  loadBalancer: 'loadBalancer',
  /** PostgreSQL, Redis and Kafka (restricted zone). */
  dataTier: 'dataTier',
  /** Vault's internal load balancer (private zone). */
  vault: 'vault',
  /** The payment provider's API, or any other internet host. */
  internet: 'internet',
} as const;

/** The n-th address of a block: `offset('10.0.0.0/24', 10)` is 10.0.0.10. */
export function offset(cidr: string, n: number): string {
  const parsed = parseCidr(cidr);
  if (!parsed) throw new Error(`${cidr}: not a CIDR`);
  return formatIpv4(parsed.base + n);
}

export function clusterNetworkPlan(spec: PlatformSpec, environment: ChartEnvironment, namespace = 'platform-local'): ClusterNetworkPlan {
  const zones = zoneSubnetCidrs(spec, environment);
  const privateZone = zones.private[0]!;
  const parsed = parseCidr(privateZone)!;
  // The upper half of the private subnet for pods; the node and Vault's stand-in in the lower half.
  const podPrefix = parsed.prefix + 1;
  return {
    namespace,
    nodeIp: offset(privateZone, 10),
    podCidr: `${formatIpv4(parsed.base + addressCount(podPrefix))}/${podPrefix}`,
    serviceCidr: SERVICE_CIDR,
    outsideAddresses: {
      [OUTSIDE.loadBalancer]: offset(zones.public[0]!, 10),
      [OUTSIDE.dataTier]: offset(zones.restricted[0]!, 10),
      [OUTSIDE.vault]: offset(privateZone, 5),
      [OUTSIDE.internet]: INTERNET_ADDRESS,
    },
  };
}
