/**
 * Renders every chart of every environment to dist/<env>/*.k8s.yaml for review.
 * The same chart classes are applied by `cdk deploy` through the cluster.
 */
import * as path from 'node:path';
import { App, YamlOutputType } from 'cdk8s';
import { ENVIRONMENT_NAMES, loadPlatformSpec } from '../lib/spec';
import type { EnvironmentSpec, PlatformSpec } from '../lib/spec';
import { NamespacesChart } from './namespaces-chart';

/** Adds every chart of one environment to a cdk8s app (used by dist/ rendering and by CDK). */
export function addPlatformCharts(app: App, spec: PlatformSpec, environment: EnvironmentSpec) {
  return [new NamespacesChart(app, 'namespaces', { spec, environment })];
}

export function renderCharts(spec: PlatformSpec, outdir: string): string[] {
  const written: string[] = [];
  for (const name of ENVIRONMENT_NAMES) {
    const app = new App({
      outdir: path.join(outdir, name),
      outputFileExtension: '.k8s.yaml',
      yamlOutputType: YamlOutputType.FILE_PER_CHART,
    });
    addPlatformCharts(app, spec, spec.environments[name]);
    app.synth();
    written.push(...app.charts.map((chart) => path.join(outdir, name, `${chart.node.id}.k8s.yaml`)));
  }
  return written;
}

if (require.main === module) {
  const outdir = process.argv[2] ?? 'dist';
  const files = renderCharts(loadPlatformSpec({ env: process.env }), outdir);
  console.log(`charts: ${files.length} manifests written to ${outdir}/`);
}
