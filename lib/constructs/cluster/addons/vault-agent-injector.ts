import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import { installChart } from './addon';
import type { ClusterAddon } from './addon';

/** The values of HashiCorp's `vault` chart that the platform sets (the rest are the chart's defaults). */
export type VaultInjectorValues = {
  readonly global: { readonly externalVaultAddr: string };
  readonly server: { readonly enabled: false };
  readonly csi: { readonly enabled: false };
  readonly injector: { readonly enabled: true; readonly replicas: number; readonly authPath: string };
};

/**
 * The chart's values: the injector only, pointed at the EC2 Vault cluster. Also what the local
 * cluster's injector objects are derived from (scripts/local-cluster/vault-injector.ts).
 */
export function vaultInjectorValues(vaultAddress: string): VaultInjectorValues {
  return {
    global: { externalVaultAddr: vaultAddress },
    server: { enabled: false },
    csi: { enabled: false },
    injector: { enabled: true, replicas: 2, authPath: 'auth/kubernetes' },
  };
}

/**
 * The Vault Agent injector (`clusterAddons.vaultInjector`, docs/vault.md): renders each pod's
 * secrets from the EC2 Vault cluster. The injector only: Vault itself runs outside the cluster.
 */
export const vaultAgentInjector: ClusterAddon<eks.HelmChart> = {
  id: 'VaultInjector',
  install({ cluster, charts, vaultAddress }) {
    return installChart(cluster, this.id, charts.vaultInjector, vaultInjectorValues(vaultAddress));
  },
};
