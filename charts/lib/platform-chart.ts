import { Chart } from 'cdk8s';
import type { ChartProps } from 'cdk8s';
import type { Construct } from 'constructs';
import type { ChartEnvironment, PlatformSpec } from '../../lib/spec';

export interface PlatformChartProps extends ChartProps {
  readonly spec: PlatformSpec;
  /** An AWS environment of the spec, or the local one (lib/spec/environments.ts). */
  readonly environment: ChartEnvironment;
}

/**
 * Base of the platform's charts: every object carries the project and environment labels (and
 * whatever labels the chart adds after them), and Chart sees only ChartProps.
 */
export abstract class PlatformChart extends Chart {
  protected constructor(scope: Construct, id: string, props: PlatformChartProps) {
    const { spec, environment, ...chartProps } = props;
    super(scope, id, {
      ...chartProps,
      labels: { 'app.kubernetes.io/part-of': spec.project, 'platform/environment': environment.name, ...chartProps.labels },
    });
  }
}
