import { PlatformChart } from './lib/platform-chart';
import type { PlatformChartProps } from './lib/platform-chart';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s';
import type { Construct } from 'constructs';
import { SecurityGroupPolicy } from './imports/vpcresources.k8s.aws';
import { TargetGroupBindingV1Beta1, TargetGroupBindingV1Beta1SpecServiceRefPort, TargetGroupBindingV1Beta1SpecTargetType } from './imports/elbv2.k8s.aws';
import { pgbouncerDatabases } from './pgbouncer-chart';
import { DATA_ENDPOINTS_CONFIGMAP, dmzPodLabels, edgeService, PGBOUNCER_DATABASES_CONFIGMAP, PGBOUNCER_NAMESPACE, PGBOUNCER_READER, PGBOUNCER_WRITER } from '../lib/spec/topology';

/**
 * Values that exist only once the stacks are deployed (RDS, ElastiCache and MSK endpoints, the
 * edge's target group, the DMZ's security group). The rendered chart carries `${NAME}` variables
 * (charts/lib/bindings-variables.ts) that Flux fills in from the ConfigMap CDK writes with its tokens.
 */
export interface PlatformBindings {
  readonly databaseWriterHost: string;
  readonly databaseReaderHosts: readonly string[];
  readonly cacheHost: string;
  /** SASL/SCRAM bootstrap brokers, comma-separated host:port. */
  readonly kafkaBootstrapBrokers: string;
  readonly apiGatewayTargetGroupArn: string;
  /** The DMZ zone's security group: the pods of DMZ services get it through a SecurityGroupPolicy. */
  readonly dmzSecurityGroupId: string;
}

export interface BindingsChartProps extends PlatformChartProps {
  readonly bindings: PlatformBindings;
}

/**
 * The one chart whose values come from the stacks at deploy time, kept small on purpose: every
 * workload chart refers to these objects by name, and only this chart holds substitution
 * variables (docs/workloads.md). Rendered into dist/<env>/ with BINDING_PLACEHOLDERS; Flux
 * substitutes the values of the platform-bindings ConfigMap when it applies the artifact.
 */
export class BindingsChart extends PlatformChart {
  constructor(scope: Construct, id: string, props: BindingsChartProps) {
    // Chart props only: the stacks' values are ours to use, not Chart's.
    const { bindings, ...chartProps } = props;
    super(scope, id, chartProps);
    const { spec } = props;

    // Ingress into the edge service: the ALB target group the edge stack owns, fed with pod IPs.
    const edge = edgeService(spec);
    new TargetGroupBindingV1Beta1(this, `${edge.name}-target-group`, {
      metadata: { name: edge.name, namespace: edge.name },
      spec: {
        targetGroupArn: bindings.apiGatewayTargetGroupArn,
        targetType: TargetGroupBindingV1Beta1SpecTargetType.IP,
        serviceRef: { name: edge.name, port: TargetGroupBindingV1Beta1SpecServiceRefPort.fromNumber(edge.port) },
      },
    });

    new k8s.KubeConfigMap(this, 'pgbouncer-databases', {
      metadata: { name: PGBOUNCER_DATABASES_CONFIGMAP, namespace: PGBOUNCER_NAMESPACE },
      data: {
        [`${PGBOUNCER_WRITER}.ini`]: pgbouncerDatabases(spec, bindings.databaseWriterHost),
        // PgBouncer spreads new server connections over a comma-separated host list.
        [`${PGBOUNCER_READER}.ini`]: pgbouncerDatabases(spec, bindings.databaseReaderHosts.join(',')),
      },
    });

    for (const service of spec.services) {
      const kinds = service.secrets;
      const data: Record<string, string> = {};
      if (kinds.includes('cache')) data.REDIS_HOST = bindings.cacheHost;
      if (kinds.includes('broker')) data.KAFKA_BROKERS = bindings.kafkaBootstrapBrokers;
      if (Object.keys(data).length === 0) continue;
      new k8s.KubeConfigMap(this, `${service.name}-endpoints`, { metadata: { name: DATA_ENDPOINTS_CONFIGMAP, namespace: service.name }, data });
    }

    // The DMZ's pods carry the DMZ zone's security group on their own network interfaces (the VPC
    // CNI's pod ENIs), not the nodes' groups: the load balancer and the VPN reach them, and the DMZ
    // group reaches the private zone only where the zones allow it (DESIGN.md §4).
    for (const service of spec.services.filter((s) => s.zone === 'dmz')) {
      new SecurityGroupPolicy(this, `${service.name}-security-groups`, {
        metadata: { name: `${service.name}-dmz-zone`, namespace: service.name },
        spec: {
          podSelector: { matchLabels: dmzPodLabels(service.name) },
          securityGroups: { groupIds: [bindings.dmzSecurityGroupId] },
        },
      });
    }
  }
}
