/** Rules of the local environment (localCluster): its own name, zones and address space. */
import { addressCount, cidrsOverlap, parseCidr } from '../parse';
import type { PlatformSpecFields as PlatformSpec } from '../schema';
import type { Report } from './report';

export function checkLocalCluster(spec: PlatformSpec, issue: Report) {
  const local = spec.localCluster;
  const at = (...rest: (string | number)[]) => ['localCluster', ...rest];
  if (Object.hasOwn(spec.environments, local.name)) {
    issue(at('name'), local.name, `is an AWS environment's name: dist/${local.name}/ and the names derived from it would be shared`);
  }
  if (new Set(local.availabilityZones).size !== local.availabilityZones.length) {
    issue(at('availabilityZones'), local.availabilityZones, 'must not repeat a zone');
  }
  const vpc = parseCidr(local.network.vpcCidr);
  if (!vpc) return;
  // The zone subnets must stay inside the block, one per zone and availability zone (zoneSubnetCidrs).
  const needed = Object.values(spec.securityZones).reduce((sum, zone) => sum + addressCount(zone.subnetCidrMask), 0) * local.availabilityZones.length;
  if (needed > addressCount(vpc.prefix)) {
    issue(at('network', 'vpcCidr'), local.network.vpcCidr, `is too small for the security zones' subnets in ${local.availabilityZones.length} zone(s) (${needed} addresses)`);
  }
  // Outside every AWS network: a NetworkPolicy ipBlock must never mean both a local and an AWS address.
  const others: Array<[string, string]> = [
    ...Object.entries(spec.environments).flatMap(([key, env]): Array<[string, string]> => [
      [`environments.${key}.network.vpcCidr`, env.network.vpcCidr],
      [`environments.${key}.network.vpn.clientCidr`, env.network.vpn.clientCidr],
    ]),
    ...Object.entries(spec.vault.standbyVpc.cidrs).map(([key, block]): [string, string] => [`vault.standbyVpc.cidrs.${key}`, block]),
  ];
  for (const [field, block] of others) {
    const other = parseCidr(block);
    if (other && cidrsOverlap(vpc, other)) issue(at('network', 'vpcCidr'), local.network.vpcCidr, `overlaps ${field} (${block})`);
  }
}

/** workloads.certificates.issuer names exactly the environments the charts render. */
export function checkCertificateIssuers(spec: PlatformSpec, issue: Report) {
  const issuers = spec.workloads.certificates.issuer;
  const names = [...Object.keys(spec.environments), spec.localCluster.name];
  for (const name of names) {
    if (!Object.hasOwn(issuers, name)) issue(['workloads', 'certificates', 'issuer'], issuers, `has no entry for environment ${name}`);
  }
  for (const key of Object.keys(issuers)) {
    if (!names.includes(key)) issue(['workloads', 'certificates', 'issuer', key], issuers[key], `is not an environment the charts render (${names.join(', ')})`);
  }
}
