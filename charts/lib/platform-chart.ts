import { Chart } from 'cdk8s';
import type { ChartProps } from 'cdk8s';
import type { Construct } from 'constructs';
import type { EnvironmentSpec, PlatformSpec } from '../../lib/spec';

export interface PlatformChartProps extends ChartProps {
  readonly spec: PlatformSpec;
  readonly environment: EnvironmentSpec;
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
