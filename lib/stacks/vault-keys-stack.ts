import type { Construct } from 'constructs';
import { MultiRegionKey } from '../constructs/vault/multi-region-key';
import { vaultNames } from '../spec/vault-names';
import { PlatformStack } from './platform-stack';
import type { PlatformStackProps } from './platform-stack';

/**
 * Vault's multi-region KMS keys, in the environment's region: the auto-unseal key, and the data
 * key of the storage table, the TLS/license secrets and the audit logs. A stack of their own
 * because the DR-region replicas (VaultStandbyStack) need these ARNs, and the replicated table
 * and secrets (VaultStack) need the replicas: keys -> standby -> primary is the only acyclic order.
 */
export class VaultKeysStack extends PlatformStack {
  readonly unsealKey: MultiRegionKey;
  readonly dataKey: MultiRegionKey;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, {
      description: `${props.spec.project} ${props.environment.name}: Vault multi-region KMS keys (auto-unseal, data)`,
      // The standby stack in the DR region reads the primary key ARNs (CfnReplicaKey.PrimaryKeyArn).
      crossRegionReferences: true,
      ...props,
    });
    const names = vaultNames(props.spec, props.environment.name);
    this.unsealKey = new MultiRegionKey(this, 'UnsealKey', {
      description: `Vault auto-unseal (${props.environment.name}), multi-region`,
    });
    this.dataKey = new MultiRegionKey(this, 'DataKey', {
      description: `Vault storage table, TLS/license secrets and audit logs (${props.environment.name}), multi-region`,
      logGroupNames: [names.auditLogGroup],
    });
  }
}
