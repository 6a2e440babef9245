import { Chart } from 'cdk8s';
import type { ChartProps } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { EnvironmentSpec, PlatformSpec } from '../lib/spec';

export interface NamespacesChartProps extends ChartProps {
  readonly spec: PlatformSpec;
  readonly environment: EnvironmentSpec;
}

/**
 * One namespace per service of the spec, labelled with its security zone, each closed by a
 * default-deny ingress NetworkPolicy: the service charts open exactly what they need.
 */
export class NamespacesChart extends Chart {
  constructor(scope: Construct, id: string, props: NamespacesChartProps) {
    super(scope, id, {
      ...props,
      labels: { 'app.kubernetes.io/part-of': props.spec.project, 'platform/environment': props.environment.name },
    });
    for (const service of props.spec.services) {
      const namespace = new kplus.Namespace(this, `${service.name}-namespace`, {
        metadata: {
          name: service.name,
          labels: {
            'platform/zone': service.zone,
            // Pod Security Admission: the services run non-root with no privileges (DESIGN.md §4).
            'pod-security.kubernetes.io/enforce': 'restricted',
          },
        },
      });
      new kplus.NetworkPolicy(this, `${service.name}-default-deny`, {
        metadata: { name: 'default-deny-ingress', namespace: namespace.name },
        selector: kplus.Pods.all(this, `${service.name}-all-pods`, { namespaces: kplus.Namespaces.select(this, `${service.name}-self`, { names: [namespace.name] }) }),
        ingress: { default: kplus.NetworkPolicyTrafficDefault.DENY },
      });
    }
  }
}
