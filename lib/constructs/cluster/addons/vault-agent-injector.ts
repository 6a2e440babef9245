import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import { installChart } from './addon';
import type { ClusterAddon } from './addon';

/**
 * The Vault Agent injector (`clusterAddons.vaultInjector`, docs/vault.md): renders each pod's
 * secrets from the EC2 Vault cluster. The injector only: Vault itself runs outside the cluster.
 */
export const vaultAgentInjector: ClusterAddon<eks.HelmChart> = {
  id: 'VaultInjector',
  install({ cluster, charts, vaultAddress }) {
    return installChart(cluster, this.id, charts.vaultInjector, {
      global: { externalVaultAddr: vaultAddress },
      server: { enabled: false },
      csi: { enabled: false },
      injector: { enabled: true, replicas: 2, authPath: 'auth/kubernetes' },
    });
  },
};
