import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import { installChart } from './addon';
import type { ClusterAddon } from './addon';

/** metrics-server (`clusterAddons.metricsServer`): the resource metrics the CPU autoscalers read. */
export const metricsServer: ClusterAddon<eks.HelmChart> = {
  id: 'MetricsServer',
  install({ cluster, charts }) {
    return installChart(cluster, this.id, charts.metricsServer);
  },
};
