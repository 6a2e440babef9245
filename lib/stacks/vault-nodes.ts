// What Vault's primary (VaultStack) and standby (VaultStandbyStack) build alike, each in its own
// region. The resources are added to the stack itself, under the ids the stacks have always used,
// not to a child construct: a child would add a path segment and so move their logical ids.
import type { Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { zoneSubnets } from '../constructs/network/zoned-vpc';
import { RetainedLogGroup } from '../constructs/shared/retained-log-group';
import { VaultCluster } from '../constructs/vault/vault-cluster';
import type { VaultClusterProps } from '../constructs/vault/vault-cluster';
import { vaultUserData } from '../constructs/vault/vault-user-data';
import type { VaultSpec } from '../spec';
import type { VaultNames } from '../spec/vault-names';

/** The audit log group of the stack's region (`AuditLogs`), encrypted with that region's data key. */
export function addVaultAuditLogs(stack: Stack, vault: VaultSpec, names: VaultNames, dataKeyArn: string): RetainedLogGroup {
  return new RetainedLogGroup(stack, 'AuditLogs', {
    logGroupName: names.auditLogGroup,
    retentionDays: vault.auditLogRetentionDays,
    encryptionKey: kms.Key.fromKeyArn(stack, 'AuditLogsKey', dataKeyArn),
  });
}

export interface VaultNodesProps extends Pick<VaultClusterProps, 'autoScalingGroupName' | 'loadBalancerName' | 'minCapacity' | 'clients' | 'cidrClients' | 'replicationPeers'> {
  readonly vpc: ec2.IVpc;
  readonly role: iam.IRole;
  /** The storage table the nodes use. */
  readonly tableName: string;
  readonly unsealKeyId: string;
  /** Enterprise: the nodes read the license secret. */
  readonly licensed: boolean;
}

/**
 * The stack region's cluster (`Cluster`): up to `vault.nodes` nodes in the private zone, booting
 * with the TLS secret, audit log group and (when licensed) license secret of `names`.
 */
export function addVaultNodes(stack: Stack, vault: VaultSpec, names: VaultNames, props: VaultNodesProps): VaultCluster {
  return new VaultCluster(stack, 'Cluster', {
    vpc: props.vpc,
    subnets: zoneSubnets('private'),
    vault,
    role: props.role,
    userData: vaultUserData({
      vault,
      region: stack.region,
      tableName: props.tableName,
      unsealKeyId: props.unsealKeyId,
      tlsSecretName: names.tlsSecret,
      auditLogGroupName: names.auditLogGroup,
      licenseSecretName: props.licensed ? names.licenseSecret : undefined,
    }),
    autoScalingGroupName: props.autoScalingGroupName,
    loadBalancerName: props.loadBalancerName,
    minCapacity: props.minCapacity,
    maxCapacity: vault.nodes,
    clients: props.clients,
    cidrClients: props.cidrClients,
    replicationPeers: props.replicationPeers,
  });
}
