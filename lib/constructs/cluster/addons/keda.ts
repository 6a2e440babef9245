import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import { installChart } from './addon';
import type { ClusterAddon } from './addon';

/** KEDA (`clusterAddons.keda`): the autoscalers that scale on Prometheus metrics as well as CPU. */
export const keda: ClusterAddon<eks.HelmChart> = {
  id: 'Keda',
  install({ cluster, charts }) {
    return installChart(cluster, this.id, charts.keda);
  },
};
