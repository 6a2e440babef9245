import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { PlatformSpec } from '../spec';

export interface SecurityZoneGroups {
  /** Public zone: the internet-facing load balancer (the edge stack adds its CloudFront ingress). */
  readonly loadBalancer: ec2.SecurityGroup;
  /** The Client VPN endpoint's network interfaces. */
  readonly vpn: ec2.SecurityGroup;
  /** DMZ zone: the api-gateway's pods (security groups for pods); VPN and load balancer only. */
  readonly dmz: ec2.SecurityGroup;
  /** Private zone: the core services' nodes and pods (the "service mesh"). */
  readonly workloads: ec2.SecurityGroup;
  /** Restricted zone: databases, caches and brokers; workloads and bastion only. */
  readonly restricted: ec2.SecurityGroup;
  /** The SSM bastion, the one non-workload path into the restricted zone. */
  readonly bastion: ec2.SecurityGroup;
}

export interface SecurityZonesProps {
  readonly vpc: ec2.IVpc;
  readonly spec: PlatformSpec;
}

/**
 * The spec's "Security Boundaries" table as security groups:
 *   Public     | Internet     -> loadBalancer (ingress owned by the edge stack)
 *   DMZ        | VPN only     -> dmz admits the load balancer and the VPN, on the gateway port
 *   Private    | Service mesh -> workloads admit the DMZ and each other, on service ports
 *   Restricted | Bastion only -> restricted admits workloads and the bastion, on data ports
 */
export class SecurityZones extends Construct implements SecurityZoneGroups {
  readonly loadBalancer: ec2.SecurityGroup;
  readonly vpn: ec2.SecurityGroup;
  readonly dmz: ec2.SecurityGroup;
  readonly workloads: ec2.SecurityGroup;
  readonly restricted: ec2.SecurityGroup;
  readonly bastion: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: SecurityZonesProps) {
    super(scope, id);
    const { vpc, spec } = props;
    const group = (name: string, description: string, allowAllOutbound: boolean) =>
      new ec2.SecurityGroup(this, name, { vpc, description, allowAllOutbound });

    // Egress of the entry points is limited to what the zone table lets them reach.
    this.loadBalancer = group('LoadBalancer', 'public zone: internet-facing load balancer', false);
    this.vpn = group('Vpn', 'public zone: client VPN endpoint (reaches the DMZ only)', false);
    // Pods need DNS, AWS APIs and each other; their egress is narrowed by NetworkPolicy in-cluster.
    this.dmz = group('Dmz', 'dmz zone: api-gateway (VPN and load balancer only)', true);
    this.workloads = group('Workloads', 'private zone: core services (service mesh)', true);
    this.restricted = group('Restricted', 'restricted zone: data stores (workloads and bastion only)', false);
    this.bastion = group('Bastion', 'restricted-zone access: SSM bastion host, no inbound', false);

    const dmzServices = spec.services.filter((s) => s.zone === 'dmz');
    const privateServices = spec.services.filter((s) => s.zone === 'private');

    for (const svc of dmzServices) {
      const port = ec2.Port.tcp(svc.port);
      this.dmz.connections.allowFrom(this.loadBalancer, port, `load balancer to ${svc.name}`);
      // The ALB health-checks targets on the plaintext health port (readinessPath).
      this.dmz.connections.allowFrom(this.loadBalancer, ec2.Port.tcp(svc.healthPort), `load balancer health checks to ${svc.name}`);
      this.dmz.connections.allowFrom(this.vpn, port, `VPN clients to ${svc.name}`);
    }
    for (const svc of privateServices) {
      const port = ec2.Port.tcp(svc.port);
      this.workloads.connections.allowFrom(this.dmz, port, `api-gateway to ${svc.name}`);
      this.workloads.connections.allowFrom(this.workloads, port, `service mesh to ${svc.name}`);
    }

    const data = spec.dataTier;
    const dataPorts: Array<[string, number]> = [
      ['PostgreSQL', data.postgres.port],
      ['Redis', data.redis.port],
      ['Kafka SASL/SCRAM', data.kafka.saslScramPort],
      ['Kafka IAM', data.kafka.iamPort],
    ];
    for (const [name, portNumber] of dataPorts) {
      const port = ec2.Port.tcp(portNumber);
      this.restricted.connections.allowFrom(this.workloads, port, `private workloads to ${name}`);
      this.restricted.connections.allowFrom(this.bastion, port, `bastion to ${name}`);
    }
    // The warehouse (analytics stack) is reached by the Flink job, through a rule of that stack,
    // and by people through the bastion only; no service of the cluster queries it.
    this.restricted.connections.allowFrom(this.bastion, ec2.Port.tcp(spec.analytics.warehouse.port), 'bastion to the Redshift warehouse');
    // The gateway keeps its rate-limit counters in Redis (DESIGN.md §5).
    this.restricted.connections.allowFrom(this.dmz, ec2.Port.tcp(data.redis.port), 'api-gateway to Redis');

    // SSM sessions and the cluster's private API endpoint are HTTPS inside the VPC.
    this.bastion.addEgressRule(ec2.Peer.ipv4(vpc.vpcCidrBlock), ec2.Port.tcp(443), 'SSM endpoints and EKS API');
  }
}
