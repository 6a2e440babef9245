import { App, Testing } from 'cdk8s';
import { chartTestApp } from '../helpers/chart-app';
import { addPlatformCharts } from '../../charts/main';
import { bindingsVariables, substituteBindings } from '../../charts/lib/bindings-variables';
import { EXAMPLE_BINDINGS } from '../../charts/schemas/example-bindings';
import { chartEnvironments, loadPlatformSpec } from '../../lib/spec';
import type { ChartEnvironment } from '../../lib/spec';

export const spec = loadPlatformSpec();

/** The names of every environment the charts render (dist/<env>/): the AWS ones and the local one. */
export const CHART_ENVIRONMENT_NAMES = chartEnvironments(spec).map((e) => e.name);

/** A chart environment of the spec by name. */
export function chartEnvironment(name: string): ChartEnvironment {
  const found = chartEnvironments(spec).find((e) => e.name === name);
  if (!found) throw new Error(`no chart environment ${name}`);
  return found;
}

/** Every chart of an environment's artifact (dist/<env>/, bindings as `${NAME}` variables), synthesized to plain objects. */
export function renderEnvironment(name: string, imageTag?: string): Record<string, any[]> {
  const app = chartTestApp();
  const charts = addPlatformCharts(app, spec, chartEnvironment(name), { imageTag });
  return Object.fromEntries(charts.map((chart) => [chart.node.id, Testing.synth(chart)]));
}

/** The artifact as Flux applies it: the bindings' variables substituted with example deploy-time values. */
export function appliedEnvironment(name: string, imageTag?: string): Record<string, any[]> {
  const variables = bindingsVariables(EXAMPLE_BINDINGS);
  return Object.fromEntries(Object.entries(renderEnvironment(name, imageTag))
    .map(([chart, objects]) => [chart, JSON.parse(substituteBindings(JSON.stringify(objects), variables)) as any[]]));
}

export function findObject(objects: any[], kind: string, name: string, namespace?: string): any {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name && (namespace === undefined || o.metadata.namespace === namespace));
  if (!found) throw new Error(`no ${kind} ${namespace ?? '*'}/${name}`);
  return found;
}

export { App };
