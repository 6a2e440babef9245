import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { PlatformSpec, VaultSecretKind } from '../../spec';
import { servicesWithSecret } from '../../spec/topology';

export interface SecurityZoneGroups {
  /** Public zone: the internet-facing load balancer (the edge stack adds its CloudFront ingress). */
  readonly loadBalancer: ec2.SecurityGroup;
  /** The Client VPN endpoint's network interfaces. */
  readonly vpn: ec2.SecurityGroup;
  /** DMZ zone: the DMZ services' pods (security groups for pods); VPN and load balancer only. */
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
  /**
   * The parts of the spec the zone table is drawn from: the services and their zones and ports,
   * who the VPN and the bastion reach, the stores' ports and owners (services[].secrets).
   */
  readonly spec: Pick<PlatformSpec, 'services' | 'operatorAccess' | 'dataTier' | 'analytics'>;
}

/**
 * The spec's "Security Boundaries" table as security groups:
 *   Public     | Internet     -> loadBalancer (ingress owned by the edge stack)
 *   DMZ        | VPN only     -> dmz admits the load balancer and the VPN, on the gateway port
 *                                (and the nodes on its health port: kubelet probes, Prometheus)
 *   Private    | Service mesh -> workloads admit the DMZ and each other, on service ports
 *   Restricted | Bastion only -> restricted admits the bastion, and each store's owners on its port
 * Who the VPN and the bastion reach comes from spec.operatorAccess. scripts/reachability proves
 * the flows through these groups, the routes, the ACLs and the NetworkPolicies together.
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
    const dmzServices = spec.services.filter((s) => s.zone === 'dmz');
    const privateServices = spec.services.filter((s) => s.zone === 'private');
    // Descriptions name the DMZ's services as the spec has them.
    const dmzNames = dmzServices.length > 0 ? dmzServices.map((s) => s.name).join(', ') : 'no services';

    // Egress of the entry points is limited to what the zone table lets them reach.
    this.loadBalancer = group('LoadBalancer', 'public zone: internet-facing load balancer', false);
    this.vpn = group('Vpn', 'public zone: client VPN endpoint (reaches the DMZ only)', false);
    // Pods need DNS, AWS APIs and each other; their egress is narrowed by NetworkPolicy in-cluster.
    this.dmz = group('Dmz', `dmz zone: ${dmzNames} (VPN and load balancer only)`, true);
    this.workloads = group('Workloads', 'private zone: core services (service mesh)', true);
    this.restricted = group('Restricted', 'restricted zone: data stores (workloads and bastion only)', false);
    this.bastion = group('Bastion', 'restricted-zone access: SSM bastion host, no inbound', false);

    const vpnReaches = new Set(spec.operatorAccess.vpn);
    const bastionReaches = new Set(spec.operatorAccess.bastion);

    for (const svc of dmzServices) {
      const port = ec2.Port.tcp(svc.port);
      this.dmz.connections.allowFrom(this.loadBalancer, port, `load balancer to ${svc.name}`);
      // The ALB health-checks targets on the plaintext health port (readinessPath).
      this.dmz.connections.allowFrom(this.loadBalancer, ec2.Port.tcp(svc.healthPort), `load balancer health checks to ${svc.name}`);
      if (vpnReaches.has('dmz')) this.dmz.connections.allowFrom(this.vpn, port, `VPN clients to ${svc.name}`);
      // The DMZ pods carry this group alone (SecurityGroupPolicy): the kubelet's probes come from
      // the node, Prometheus from a private-zone pod, both with the nodes' group.
      this.dmz.connections.allowFrom(this.workloads, ec2.Port.tcp(svc.healthPort), `kubelet probes and Prometheus to ${svc.name}'s health port`);
    }
    if (dmzServices.length > 0) {
      // CoreDNS runs on the nodes, with their group: DNS from the DMZ pods.
      for (const dns of [ec2.Port.udp(53), ec2.Port.tcp(53)]) this.workloads.connections.allowFrom(this.dmz, dns, 'DMZ pods to CoreDNS');
    }
    for (const svc of privateServices) {
      const port = ec2.Port.tcp(svc.port);
      this.workloads.connections.allowFrom(this.dmz, port, `${dmzNames} to ${svc.name}`);
      this.workloads.connections.allowFrom(this.workloads, port, `service mesh to ${svc.name}`);
    }

    // The restricted zone admits each store's port from the zone whose workloads own the store
    // (services[].secrets: PgBouncer logs in to PostgreSQL for the services with a database),
    // and everything from the bastion. The warehouse's owner (the Flink job) and the Kafka topics
    // handler get their rules where they are defined.
    const data = spec.dataTier;
    const owners = (kind: VaultSecretKind) => servicesWithSecret(spec, kind);
    const storePorts: Array<[string, number, VaultSecretKind]> = [
      ['PostgreSQL (PgBouncer)', data.postgres.port, 'database'],
      ['Redis', data.redis.port, 'cache'],
      ['Kafka SASL/SCRAM', data.kafka.saslScramPort, 'broker'],
    ];
    for (const [name, portNumber, kind] of storePorts) {
      const port = ec2.Port.tcp(portNumber);
      // PgBouncer (the database's one client) is a private-zone workload.
      const zones = new Set(kind === 'database' ? (owners(kind).length ? ['private'] : []) : owners(kind).map((s) => s.zone));
      if (zones.has('private')) this.restricted.connections.allowFrom(this.workloads, port, `private workloads to ${name}`);
      if (zones.has('dmz')) this.restricted.connections.allowFrom(this.dmz, port, `DMZ workloads to ${name}`);
    }
    if (bastionReaches.has('restricted')) {
      const bastionPorts: Array<[string, number]> = [
        ['PostgreSQL', data.postgres.port], ['Redis', data.redis.port], ['Kafka SASL/SCRAM', data.kafka.saslScramPort],
        ['Kafka IAM', data.kafka.iamPort], ['the Redshift warehouse', spec.analytics.warehouse.port],
      ];
      for (const [name, portNumber] of bastionPorts) this.restricted.connections.allowFrom(this.bastion, ec2.Port.tcp(portNumber), `bastion to ${name}`);
    }

    // SSM sessions and the cluster's private API endpoint are HTTPS inside the VPC.
    this.bastion.addEgressRule(ec2.Peer.ipv4(vpc.vpcCidrBlock), ec2.Port.tcp(443), 'SSM endpoints and EKS API');
  }
}
