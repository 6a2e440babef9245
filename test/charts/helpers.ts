import { App, Testing } from 'cdk8s';
import type { Chart } from 'cdk8s';
import { addBindingsChart, addPlatformCharts } from '../../charts/main';
import { EXAMPLE_BINDINGS } from '../../charts/schemas/example-bindings';
import { loadPlatformSpec } from '../../lib/spec';
import type { EnvironmentName } from '../../lib/spec';

export const spec = loadPlatformSpec();

/** Every chart of an environment (bindings with example values), synthesized to plain objects. */
export function renderEnvironment(name: EnvironmentName, imageTag?: string): Record<string, any[]> {
  const app = Testing.app();
  const charts: Chart[] = [
    ...addPlatformCharts(app, spec, spec.environments[name], { imageTag }),
    addBindingsChart(app, spec, spec.environments[name], EXAMPLE_BINDINGS),
  ];
  return Object.fromEntries(charts.map((chart) => [chart.node.id, Testing.synth(chart)]));
}

export function findObject(objects: any[], kind: string, name: string, namespace?: string): any {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name && (namespace === undefined || o.metadata.namespace === namespace));
  if (!found) throw new Error(`no ${kind} ${namespace ?? '*'}/${name}`);
  return found;
}

export { App };
