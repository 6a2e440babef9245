/**
 * The names of Vault's AWS resources, derived from the spec. The stacks create resources under
 * these names and the ops CLI (vault-failover) finds them by the same names: no lookups, no
 * CloudFormation outputs to read while the primary region may be down.
 */
import type { EnvironmentName, PlatformSpec } from './schema';

export interface VaultNames {
  readonly primaryRegion: string;
  readonly standbyRegion: string;
  /** DynamoDB storage: the global table (replicated to the standby region) in open-source mode. */
  readonly table: string;
  /** Enterprise mode only: the standby cluster's own table (DR replication feeds it). */
  readonly standbyTable: string;
  readonly primaryAutoScalingGroup: string;
  readonly standbyAutoScalingGroup: string;
  /** Internal NLBs; ELB names are limited to 32 characters. */
  readonly primaryLoadBalancer: string;
  readonly standbyLoadBalancer: string;
  /** CloudWatch log group of the file audit device (same name in both regions). */
  readonly auditLogGroup: string;
  /** Flow logs of the standby's VPC in the DR region (that region has no network stack). */
  readonly standbyFlowLogGroup: string;
  /** Secrets Manager: {"ca","certificate","privateKey"} PEMs, created empty by the stack, filled out of band. */
  readonly tlsSecret: string;
  /** Secrets Manager: the Vault Enterprise license (enterprise mode only), filled out of band. */
  readonly licenseSecret: string;
  /** SSM parameter clients read: the https:// address of the active cluster (in each region). */
  readonly addressParameter: string;
  /** SSM parameter in the standby region: the standby cluster's address, for the failover to publish. */
  readonly standbyAddressParameter: string;
  /** Route 53 private hosted zone of the environment, associated with its VPC. */
  readonly privateZone: string;
  /**
   * The name the cluster's clients resolve Vault by: a CNAME in the private zone to the active
   * cluster's load balancer, which `ops vault-failover` moves to the standby's.
   */
  readonly dnsName: string;
}

/**
 * The name the cluster's `vault` ExternalName Service points at (VaultNames.dnsName). It needs
 * only the environment's name, so the local environment, which has no Vault resources, has one.
 */
export const vaultDnsName = (spec: Pick<PlatformSpec, 'project'>, env: string) => `vault.${env}.${spec.project}.internal`;

export function vaultNames(spec: PlatformSpec, env: EnvironmentName | string): VaultNames {
  if (!(env in spec.environments)) throw new Error(`unknown environment "${env}"`);
  const base = `${spec.project}-${env}-vault`;
  const path = `${spec.project}/${env}/vault`;
  return {
    primaryRegion: spec.environments[env as EnvironmentName].region,
    standbyRegion: spec.drRegion.name,
    table: base,
    standbyTable: `${base}-dr`,
    primaryAutoScalingGroup: base,
    standbyAutoScalingGroup: `${base}-standby`,
    primaryLoadBalancer: base,
    standbyLoadBalancer: `${base}-dr`,
    auditLogGroup: `/${path}/audit`,
    standbyFlowLogGroup: `/${path}/standby-flow-logs`,
    tlsSecret: `${path}/tls`,
    licenseSecret: `${path}/license`,
    addressParameter: `/${path}/address`,
    standbyAddressParameter: `/${path}/standby-address`,
    privateZone: `${env}.${spec.project}.internal`,
    dnsName: vaultDnsName(spec, env),
  };
}
