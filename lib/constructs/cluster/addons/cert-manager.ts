import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import { installChart } from './addon';
import type { ClusterAddon } from './addon';

/** cert-manager (`clusterAddons.certManager`), with its CRDs: the services' mTLS certificates from Vault's PKI. */
export const certManager: ClusterAddon<eks.HelmChart> = {
  id: 'CertManager',
  install({ cluster, charts }) {
    return installChart(cluster, this.id, charts.certManager, { crds: { enabled: true } });
  },
};
