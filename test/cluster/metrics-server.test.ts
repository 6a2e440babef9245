// metrics-server as the local cluster runs it (scripts/local-cluster/metrics-server.ts, the objects
// of the `metrics-server` chart with the CDK add-on's values, i.e. its defaults): the binary
// scripts/setup/metrics-server.sh builds is the release the chart's image runs, and the objects
// hang together as the chart wires them. That it serves the metrics API on the cluster and feeds
// the HPAs is test/cluster/platform.suite.ts's.
//
// Real: the metrics-server binary. No stand-ins: no cluster is started here.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { loadPlatformSpec } from '../../lib/spec';
import {
  CHART_DEFAULTS, METRICS_SERVER_CHART_VERSION, METRICS_SERVER_VERSION, chartImage, findMetricsServerBinary, metricsServerNames, metricsServerObjects,
} from '../../scripts/local-cluster/metrics-server';
import { MIRRORED_REGISTRIES } from '../../scripts/local-cluster/platform';
import { metricsServerImage } from '../../scripts/local-cluster/workload-images';

const spec = loadPlatformSpec();
const names = metricsServerNames(spec.clusterAddons.metricsServer);
const objects = metricsServerObjects(spec, { image: metricsServerImage() });
const byKind = (kind: string) => objects.filter((o) => o.kind === kind);

interface DeploymentSpec {
  selector: { matchLabels: Record<string, string> };
  template: { metadata: { labels: Record<string, string> }; spec: { serviceAccountName: string; containers: { image: string; args: string[]; ports: { name: string; containerPort: number }[] }[] } };
}

describe('metrics-server of the local cluster', () => {
  test('the binary built by scripts/setup/metrics-server.sh is the release chart 3.13.0 runs', async () => {
    expect(spec.clusterAddons.metricsServer.version).toBe(METRICS_SERVER_CHART_VERSION);
    const { stdout } = await promisify(execFile)(findMetricsServerBinary(), ['--version'], { timeout: 60000 });
    expect(stdout.trim()).toBe(METRICS_SERVER_VERSION);
    expect(METRICS_SERVER_VERSION).toBe(`v${CHART_DEFAULTS.appVersion}`);
    // So the local image carries the chart's own image name, from a registry the node mirrors.
    expect(metricsServerImage()).toBe(chartImage());
    expect(MIRRORED_REGISTRIES.some((r) => metricsServerImage().startsWith(`${r}/`))).toBe(true);
  });

  test('renders the chart\'s objects with its names, in the add-on\'s namespace', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)).toEqual([
      `ServiceAccount/${spec.clusterAddons.metricsServer.namespace}/metrics-server`,
      'ClusterRole//system:metrics-server-aggregated-reader',
      'ClusterRole//system:metrics-server',
      'ClusterRoleBinding//metrics-server:system:auth-delegator',
      'ClusterRoleBinding//system:metrics-server',
      'RoleBinding/kube-system/metrics-server-auth-reader',
      `Service/${spec.clusterAddons.metricsServer.namespace}/metrics-server`,
      `Deployment/${spec.clusterAddons.metricsServer.namespace}/metrics-server`,
      'APIService//v1beta1.metrics.k8s.io',
    ]);
  });

  test('the Service selects the Deployment\'s pods, the APIService points at the Service, every binding at the ServiceAccount', () => {
    const deployment = byKind('Deployment')[0]!.spec as DeploymentSpec;
    const service = byKind('Service')[0]!.spec as { selector: Record<string, string>; ports: { port: number; targetPort: string }[] };
    expect(deployment.selector.matchLabels).toEqual(names.selector);
    expect(deployment.template.metadata.labels).toMatchObject(service.selector);
    const container = deployment.template.spec.containers[0]!;
    expect(container.ports).toEqual([expect.objectContaining({ name: service.ports[0]!.targetPort, containerPort: CHART_DEFAULTS.containerPort })]);
    expect(container.args).toEqual([`--secure-port=${CHART_DEFAULTS.containerPort}`, ...CHART_DEFAULTS.defaultArgs]);
    // Kubelet's serving certificate is verified: the cluster CA signs it for the node's address.
    expect(container.args.filter((a) => a.includes('insecure'))).toEqual([]);
    expect(container.image).toBe(metricsServerImage());

    const apiService = byKind('APIService')[0]!.spec as { service: { name: string; namespace: string; port: number } };
    expect(apiService.service).toEqual({ name: names.fullname, namespace: names.namespace, port: service.ports[0]!.port });
    for (const binding of [...byKind('ClusterRoleBinding'), ...byKind('RoleBinding')]) {
      expect((binding as unknown as { subjects: unknown[] }).subjects).toEqual([{ kind: 'ServiceAccount', name: deployment.template.spec.serviceAccountName, namespace: names.namespace }]);
    }
  });

  test('a chart version other than the one the objects follow is refused, naming the field', () => {
    const other = { ...spec, clusterAddons: { ...spec.clusterAddons, metricsServer: { ...spec.clusterAddons.metricsServer, version: '3.13.1' } } };
    expect(() => metricsServerObjects(other)).toThrow(/clusterAddons\.metricsServer is metrics-server 3\.13\.1/);
  });
});
