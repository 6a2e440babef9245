/** Vault's cross-field rules (DESIGN.md §7): even spread, ports, the services' secret kinds, TTLs, the standby VPC. */
import { addressCount, cidrsOverlap, parseCidr, parseDurationSeconds } from '../parse';
import type { PlatformSpecFields as PlatformSpec } from '../schema';
import type { Report } from './report';

export function checkVault(spec: PlatformSpec, issue: Report) {
  const { vault } = spec;
  const at = (...rest: (string | number)[]) => ['vault', ...rest];
  const azs = spec.drRegion.availabilityZones.length;
  if (vault.nodes % azs !== 0) issue(at('nodes'), vault.nodes, `must be a multiple of the ${azs} availability zones (even spread)`);
  if (vault.apiPort === vault.clusterPort) issue(at('clusterPort'), vault.clusterPort, 'must differ from vault.apiPort');
  spec.services.forEach((svc, i) => {
    const seen = new Set<string>();
    svc.secrets.forEach((kind, j) => {
      if (seen.has(kind)) issue(['services', i, 'secrets', j], kind, `duplicate secret kind of ${svc.name}`);
      seen.add(kind);
    });
  });
  for (const key of ['services'] as const) {
    // Vault refuses static roles rotated more often than every 5 s; minutes are the sane floor.
    const rotation = parseDurationSeconds(vault.staticCredentialRotation[key]);
    if (rotation !== undefined && rotation < 3600) {
      issue(at('staticCredentialRotation', key), vault.staticCredentialRotation[key], 'must be at least PT1H (each rotation briefly re-renders every client\'s password)');
    }
  }
  const caTtl = parseDurationSeconds(vault.pkiCaTtl);
  const certificateTtl = parseDurationSeconds(spec.workloads.certificates.duration);
  if (caTtl !== undefined && certificateTtl !== undefined && caTtl <= certificateTtl) {
    issue(at('pkiCaTtl'), vault.pkiCaTtl, `must be longer than workloads.certificates.duration (${spec.workloads.certificates.duration})`);
  }
  if (vault.standbyVpc.natGateways > azs) {
    issue(at('standbyVpc', 'natGateways'), vault.standbyVpc.natGateways, `must be <= the number of availability zones (${azs})`);
  }
  for (const [key, env] of Object.entries(spec.environments)) {
    const standby = vault.standbyVpc.cidrs[key as keyof typeof vault.standbyVpc.cidrs];
    const parsed = parseCidr(standby);
    const needed = 2 * azs * addressCount(vault.standbyVpc.subnetCidrMask);
    if (parsed && needed > addressCount(parsed.prefix)) {
      issue(at('standbyVpc', 'cidrs', key), standby, `is too small for ${2 * azs} subnets of /${vault.standbyVpc.subnetCidrMask}`);
    }
    for (const other of [env.network.vpcCidr, env.network.vpn.clientCidr]) {
      const o = parseCidr(other);
      if (parsed && o && cidrsOverlap(parsed, o)) issue(at('standbyVpc', 'cidrs', key), standby, `overlaps ${other} of environment ${key}`);
    }
  }
}
