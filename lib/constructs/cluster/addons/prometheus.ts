import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import { AlertmanagerPublisher } from '../../../observability/prometheus-addon';
import { installChart } from './addon';
import type { ClusterAddon } from './addon';
import { GP3_STORAGE_CLASS, gp3StorageClass } from './gp3-storage-class';

/**
 * Prometheus (`clusterAddons.prometheus`): scrapes the annotated pods, feeds KEDA's latency
 * trigger (DESIGN.md §7) and, with observability given, holds the services' recording and
 * alerting rules and an Alertmanager publishing to the alarm topics.
 */
export const prometheus: ClusterAddon<eks.HelmChart> = {
  id: 'Prometheus',
  install(context) {
    const { scope, cluster, charts, observability } = context;
    const alerting = observability
      ? new AlertmanagerPublisher(scope, 'Alertmanager', { cluster, ...observability, namespace: charts.prometheus.namespace })
      : undefined;
    const chart = installChart(cluster, this.id, charts.prometheus, {
      server: {
        // The chart's default scrape config already includes the `kubernetes-pods` job, which
        // scrapes every pod annotated prometheus.io/scrape: "true" (port/path from annotations).
        persistentVolume: { enabled: true, storageClass: GP3_STORAGE_CLASS },
      },
      // Nothing pushes metrics; Alertmanager only when observability routes the alerts.
      alertmanager: { enabled: false },
      'prometheus-pushgateway': { enabled: false },
      ...alerting?.values,
    });
    chart.node.addDependency(context.installed(gp3StorageClass));
    if (alerting) chart.node.addDependency(alerting.identity.association);
    return chart;
  },
};
