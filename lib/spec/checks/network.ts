/** Rules of each environment's placement and network: AZs in its region, NATs, VPN vs VPC. */
import { cidrsOverlap, parseCidr } from '../parse';
import type { EnvironmentSpec } from '../schema';
import type { Report } from './report';

export function checkEnvironment(key: string, env: EnvironmentSpec, issue: Report) {
  const at = (...rest: (string | number)[]) => ['environments', key, ...rest];
  if (env.name !== key) issue(at('name'), env.name, `must equal its key "${key}"`);
  env.availabilityZones.forEach((az, i) => {
    if (!az.startsWith(env.region)) issue(at('availabilityZones', i), az, `is not in region ${env.region}`);
  });
  if (new Set(env.availabilityZones).size !== env.availabilityZones.length) {
    issue(at('availabilityZones'), env.availabilityZones, 'must not repeat a zone');
  }
  if (env.network.natGateways > env.availabilityZones.length) {
    issue(at('network', 'natGateways'), env.network.natGateways, `must be <= the number of availability zones (${env.availabilityZones.length})`);
  }
  const vpc = parseCidr(env.network.vpcCidr);
  const vpn = parseCidr(env.network.vpn.clientCidr);
  if (vpc && vpn && cidrsOverlap(vpc, vpn)) {
    issue(at('network', 'vpn', 'clientCidr'), env.network.vpn.clientCidr, `overlaps the VPC CIDR ${env.network.vpcCidr}`);
  }
  if (vpn && (vpn.prefix < 12 || vpn.prefix > 22)) {
    issue(at('network', 'vpn', 'clientCidr'), env.network.vpn.clientCidr, 'must be between /12 and /22 (AWS Client VPN limit)');
  }
}
