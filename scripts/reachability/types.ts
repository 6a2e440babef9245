/** The model's vocabulary: endpoints (what sends and receives), where they sit, what they listen on. */
import type { CfnResource } from './cfn';
import type { SecurityGroup, Subnet } from './network';

export type Protocol = 'tcp' | 'udp';

export interface PortSpec {
  readonly protocol: Protocol;
  readonly port: number;
  /** A container port's name (NetworkPolicy may name ports). */
  readonly name?: string;
}

export const tcp = (port: number, name?: string): PortSpec => ({ protocol: 'tcp', port, ...(name ? { name } : {}) });
export const udp = (port: number, name?: string): PortSpec => ({ protocol: 'udp', port, ...(name ? { name } : {}) });
export const portLabel = (p: PortSpec) => `${p.protocol}/${p.port}`;

export type EndpointKind =
  | 'internet' | 'cloudfront' | 'aws-api'
  | 'load-balancer' | 'client-vpn' | 'instance' | 'auto-scaling-group'
  | 'cluster-api' | 'node-group' | 'pod'
  | 'database' | 'cache' | 'kafka' | 'warehouse' | 'flink' | 'lambda' | 'vpc-endpoint' | 'nat-gateway';

/** Where an endpoint's network interfaces can be: a subnet (its whole CIDR), or outside every VPC. */
export interface Placement {
  readonly subnet?: Subnet;
  /** The addresses the endpoint may have there: the subnet's CIDR, or 0.0.0.0/0 on the internet. */
  readonly cidr: string;
}

export interface PodIdentity {
  readonly namespace: string;
  /** The workload (Deployment) name. */
  readonly workload: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly namespaceLabels: Readonly<Record<string, string>>;
  /** Rendered in dist/ (the charts), or known to exist (an add-on the charts name as a peer). */
  readonly source: 'charts' | 'add-on';
}

export interface Endpoint {
  /** Stable across commits: construct path, `k8s:<namespace>/<workload>`, `internet`, `aws-api:<service>@<region>`. */
  readonly id: string;
  readonly label: string;
  readonly kind: EndpointKind;
  /** The platform role the spec's flows name (alb, vpn, bastion, vault-nlb, pod:<name>, ...). */
  readonly role: string;
  readonly region: string;
  /** Security zone: the subnet group, the pod namespace's zone label, `internet` or `vpn`. */
  readonly zone: string;
  readonly placements: readonly Placement[];
  readonly groups: readonly SecurityGroup[];
  /** What put `groups` on the endpoint when it is not the obvious resource (a SecurityGroupPolicy, the node group). */
  readonly groupsFrom?: string;
  /** Ports it accepts connections on; undefined: any (the internet, AWS APIs). */
  readonly listens?: readonly PortSpec[];
  /** Has a public address and can be reached through an internet gateway. */
  readonly internetFacing?: boolean;
  readonly pod?: PodIdentity;
  /** For the CloudFront source: the origin-facing managed prefix list its servers come from. */
  readonly prefixList?: string;
  /** For aws-api: the service's short name (s3, dynamodb, kms, ...). */
  readonly service?: string;
  /** For the Client VPN: client routes are authorised only to these networks. */
  readonly vpnAuthorizedCidrs?: readonly string[];
  readonly resource?: CfnResource;
}

/** A load balancer's targets: from its target groups (ASGs, instances) or a TargetGroupBinding (pods). */
export interface LoadBalancerTarget {
  readonly loadBalancer: Endpoint;
  readonly target: Endpoint;
  /** Traffic port, then the health-check port when it differs. */
  readonly ports: readonly PortSpec[];
}
