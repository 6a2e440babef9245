/**
 * Renders every chart of every environment to dist/<env>/<chart>.k8s.yaml: what reviewers read
 * and what CI publishes as an AWS environment's GitOps artifact, which Flux applies
 * (docs/gitops.md); dist/local/ is what the single-node local cluster applies.
 */
import * as path from 'node:path';
import { App, YamlOutputType } from 'cdk8s';
import type { Chart } from 'cdk8s';
import { chartEnvironments, ContextArgumentError, contextFromArgs, IMAGE_TAG_CONTEXT, imageTagFrom, loadPlatformSpec, PlatformSpecError } from '../lib/spec';
import type { ChartEnvironment, PlatformSpec } from '../lib/spec';
import { BindingsChart } from './bindings-chart';
import type { PlatformBindings } from './bindings-chart';
import { BINDING_PLACEHOLDERS } from './lib/bindings-variables';
import { NamespacesChart } from './namespaces-chart';
import { PgBouncerChart } from './pgbouncer-chart';
import { PkiChart } from './pki-chart';
import { ServiceChart } from './service-chart';
import { VaultAuthChart } from './vault-auth-chart';

export interface PlatformChartsOptions {
  /** Tag of the services' images; defaults to the spec's workloads.defaultImageTag. */
  readonly imageTag?: string;
  /**
   * The deploy-time values of the bindings chart.
   * @default BINDING_PLACEHOLDERS: `${NAME}` variables Flux fills in from the platform-bindings
   * ConfigMap, so the rendered tree is the same for every deploy
   */
  readonly bindings?: PlatformBindings;
}

/**
 * Adds every chart of one environment's artifact to a cdk8s app, in apply order: namespaces, the
 * deploy-time bindings (a pod gets its SecurityGroupPolicy's group only if the policy was there
 * first, and pods mount the bindings' ConfigMaps), Vault's token reviewer, the certificate
 * issuer, PgBouncer, then one chart per service of the spec.
 */
export function addPlatformCharts(app: App, spec: PlatformSpec, environment: ChartEnvironment, options: PlatformChartsOptions = {}): Chart[] {
  const imageTag = options.imageTag ?? spec.workloads.defaultImageTag;
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(imageTag)) {
    throw new Error(`${IMAGE_TAG_CONTEXT} = ${JSON.stringify(imageTag)}: must be a Docker image tag (letters, digits, _ . -, at most 128)`);
  }
  return [
    new NamespacesChart(app, 'namespaces', { spec, environment }),
    new BindingsChart(app, 'bindings', { spec, environment, bindings: options.bindings ?? BINDING_PLACEHOLDERS }),
    new VaultAuthChart(app, 'vault-auth', { spec, environment }),
    new PkiChart(app, 'pki', { spec, environment }),
    new PgBouncerChart(app, 'pgbouncer', { spec, environment }),
    ...spec.services.map((service) => new ServiceChart(app, service.name, { spec, environment, service: service.name, imageTag })),
  ];
}

/** One environment's charts into `dir`, one <chart>.k8s.yaml each (dist/<env>/'s layout); the files written. */
export function renderEnvironmentCharts(spec: PlatformSpec, environment: ChartEnvironment, dir: string, options: PlatformChartsOptions = {}): string[] {
  const app = new App({ outdir: dir, outputFileExtension: '.k8s.yaml', yamlOutputType: YamlOutputType.FILE_PER_CHART });
  addPlatformCharts(app, spec, environment, options);
  app.synth();
  return app.charts.map((chart) => path.join(dir, `${chart.node.id}.k8s.yaml`));
}

/** Every chart environment's charts (the AWS environments and the local one) into <outdir>/<env>/; the files written. */
export function renderCharts(spec: PlatformSpec, outdir: string, options: PlatformChartsOptions = {}): string[] {
  return chartEnvironments(spec).flatMap((environment) => renderEnvironmentCharts(spec, environment, path.join(outdir, environment.name), options));
}

// `tsx charts/main.ts <outdir> [cdk synth arguments]`: the context pairs among the arguments
// (`-c services:imageTag=...`) mean here what they mean to `cdk synth`.
if (require.main === module) {
  const [outdir = 'dist', ...args] = process.argv.slice(2);
  try {
    const context = contextFromArgs(args);
    const reader = (key: string) => context.get(key);
    const spec = loadPlatformSpec({ context: reader, contextKeys: [...context.keys()], env: process.env });
    const files = renderCharts(spec, outdir, { imageTag: imageTagFrom(reader, process.env) });
    console.log(`charts: ${files.length} manifests written to ${outdir}/`);
  } catch (error) {
    if (!(error instanceof PlatformSpecError || error instanceof ContextArgumentError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}
