/**
 * The network layer of the model, read from the templates: VPCs, subnets, route tables and
 * routes, network ACLs, internet and NAT gateways, gateway endpoints, VPC peering, and security
 * groups with every rule (inline, and standalone AWS::EC2::SecurityGroupIngress/Egress).
 *
 * Two things are not in any template and are modelled as AWS documents them:
 *  - a subnet with no network ACL association uses the VPC's default ACL: allow all, both ways;
 *  - the EKS cluster security group (created by EKS) admits all traffic from itself and sends
 *    all traffic anywhere.
 * A security group without inline egress rules gets EC2's allow-all egress rule, unless a
 * standalone AWS::EC2::SecurityGroupEgress targets it: CloudFormation then removes the default.
 */
import { ANY_IPV4, cidrContains, cidrPrefix, isCidr } from './addresses';
import { CfnRef } from './cfn';
import type { CfnResource , Cfn} from './cfn';

export interface Vpc {
  readonly key: string;
  readonly resource: CfnResource;
  readonly cidr: string;
  readonly region: string;
}

export interface Route {
  /** The AWS::EC2::Route (or the gateway endpoint that adds the route). */
  readonly resource?: CfnResource;
  readonly destination: { readonly cidr?: string; readonly service?: string };
  readonly target: { readonly kind: 'internet-gateway' | 'nat-gateway' | 'peering' | 'gateway-endpoint' | 'other'; readonly resource?: CfnResource };
}

export interface RouteTable {
  readonly key: string;
  readonly resource?: CfnResource;
  readonly name: string;
  readonly routes: Route[];
}

export interface NaclEntry {
  readonly resource?: CfnResource;
  readonly ruleNumber: number;
  readonly egress: boolean;
  /** IP protocol number, -1 for all. */
  readonly protocol: number;
  readonly allow: boolean;
  readonly cidr: string;
  readonly ports?: { readonly from: number; readonly to: number };
}

export interface Nacl {
  readonly key: string;
  readonly name: string;
  readonly resource?: CfnResource;
  readonly isDefault: boolean;
  readonly entries: NaclEntry[];
}

export interface Subnet {
  readonly key: string;
  readonly resource: CfnResource;
  readonly vpc: Vpc;
  readonly cidr: string;
  readonly availabilityZone?: string;
  /** The subnet group (aws-cdk:subnet-name tag): the security zone in this repository's VPCs. */
  readonly group?: string;
  readonly routeTable: RouteTable;
  readonly nacl: Nacl;
}

export interface SgPeer {
  readonly cidr?: string;
  /** Key of a security group (see groupKey). */
  readonly group?: string;
  readonly prefixList?: string;
}

export interface SgRule {
  /** The resource holding the rule: the group itself (inline) or a standalone rule resource. */
  readonly resource: CfnResource;
  readonly protocol: string;
  readonly from: number;
  readonly to: number;
  readonly peer: SgPeer;
  readonly description?: string;
}

export interface SecurityGroup {
  readonly key: string;
  readonly name: string;
  readonly resource?: CfnResource;
  readonly vpc?: Vpc;
  readonly ingress: SgRule[];
  readonly egress: SgRule[];
  /** Not in any template: EKS creates it (rules as EKS documents them). */
  readonly managedBy?: string;
}

export interface Peering {
  readonly resource: CfnResource;
  readonly vpcs: readonly [Vpc, Vpc];
}

export interface NatGateway {
  readonly resource: CfnResource;
  readonly subnet: Subnet;
}

/** Security group identity of a reference: the group resource, or EKS's cluster group attribute. */
export function groupKey(ref: CfnRef): string {
  return ref.resource.type === 'AWS::EKS::Cluster' ? `${ref.resource.key}#ClusterSecurityGroupId` : ref.resource.key;
}

const PROTOCOL_NAMES: Record<string, string> = { '-1': '-1', 6: 'tcp', 17: 'udp', 1: 'icmp', tcp: 'tcp', udp: 'udp', icmp: 'icmp' };

function tagValue(cfn: Cfn, resource: CfnResource, key: string): string | undefined {
  const tags = cfn.prop(resource, 'Tags');
  if (!Array.isArray(tags)) return undefined;
  const tag = tags.find((t) => (t as { Key?: unknown }).Key === key) as { Value?: unknown } | undefined;
  return typeof tag?.Value === 'string' ? tag.Value : undefined;
}

export class Network {
  readonly vpcs = new Map<string, Vpc>();
  readonly subnets = new Map<string, Subnet>();
  readonly groups = new Map<string, SecurityGroup>();
  readonly peerings: Peering[] = [];
  readonly natGateways: NatGateway[] = [];
  /** Internet gateways attached to each VPC (by VPC key). */
  readonly internetGateways = new Map<string, CfnResource[]>();

  constructor(readonly cfn: Cfn) {
    for (const r of cfn.resourcesOfType('AWS::EC2::VPC')) {
      const cidr = cfn.literal(r, 'CidrBlock');
      if (cidr && isCidr(cidr)) this.vpcs.set(r.key, { key: r.key, resource: r, cidr, region: r.stack.region });
    }
    for (const a of cfn.resourcesOfType('AWS::EC2::VPCGatewayAttachment')) {
      const vpc = cfn.refOf(a.stack, a.properties.VpcId);
      const igw = cfn.refOf(a.stack, a.properties.InternetGatewayId);
      if (vpc && igw) this.internetGateways.set(vpc.key, [...(this.internetGateways.get(vpc.key) ?? []), igw]);
    }
    const routeTables = this.readRouteTables();
    const nacls = this.readNacls();
    const tableOf = new Map<string, RouteTable>();
    for (const a of cfn.resourcesOfType('AWS::EC2::SubnetRouteTableAssociation')) {
      const subnet = cfn.refOf(a.stack, a.properties.SubnetId);
      const table = cfn.refOf(a.stack, a.properties.RouteTableId);
      if (subnet && table && routeTables.has(table.key)) tableOf.set(subnet.key, routeTables.get(table.key)!);
    }
    const aclOf = new Map<string, Nacl>();
    for (const a of cfn.resourcesOfType('AWS::EC2::SubnetNetworkAclAssociation')) {
      const subnet = cfn.refOf(a.stack, a.properties.SubnetId);
      const acl = cfn.refOf(a.stack, a.properties.NetworkAclId);
      if (subnet && acl && nacls.has(acl.key)) aclOf.set(subnet.key, nacls.get(acl.key)!);
    }
    for (const r of cfn.resourcesOfType('AWS::EC2::Subnet')) {
      const vpcRes = cfn.refOf(r.stack, r.properties.VpcId);
      const vpc = vpcRes && this.vpcs.get(vpcRes.key);
      const cidr = cfn.literal(r, 'CidrBlock');
      if (!vpc || !cidr || !isCidr(cidr)) continue;
      this.subnets.set(r.key, {
        key: r.key, resource: r, vpc, cidr,
        availabilityZone: cfn.literal(r, 'AvailabilityZone'),
        group: tagValue(cfn, r, 'aws-cdk:subnet-name'),
        // No association: the VPC's main route table, which a template cannot give routes.
        routeTable: tableOf.get(r.key) ?? { key: `${vpc.key}#main`, name: `main route table of ${vpc.resource.path}`, routes: [] },
        nacl: aclOf.get(r.key) ?? defaultNacl(vpc),
      });
    }
    for (const r of cfn.resourcesOfType('AWS::EC2::NatGateway')) {
      const subnetRes = cfn.refOf(r.stack, r.properties.SubnetId);
      const subnet = subnetRes && this.subnets.get(subnetRes.key);
      if (subnet && cfn.literal(r, 'ConnectivityType') !== 'private') this.natGateways.push({ resource: r, subnet });
    }
    for (const r of cfn.resourcesOfType('AWS::EC2::VPCPeeringConnection')) {
      const a = cfn.refOf(r.stack, r.properties.VpcId);
      const b = cfn.refOf(r.stack, r.properties.PeerVpcId);
      const va = a && this.vpcs.get(a.key);
      const vb = b && this.vpcs.get(b.key);
      if (va && vb) this.peerings.push({ resource: r, vpcs: [va, vb] });
    }
    this.readSecurityGroups();
  }

  /** The subnets a list of references (SubnetIds, Subnets, VPCZoneIdentifier) names. */
  subnetsOf(refs: readonly CfnResource[]): Subnet[] {
    return refs.flatMap((r) => (this.subnets.has(r.key) ? [this.subnets.get(r.key)!] : []));
  }

  /** The groups a list of security-group references names (unknown ones as opaque groups). */
  groupsOf(resource: CfnResource, ...path: (string | number)[]): SecurityGroup[] {
    const value = this.cfn.prop(resource, ...path);
    const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
    return items.flatMap((item) => (item instanceof CfnRef ? [this.group(item)] : []));
  }

  group(ref: CfnRef): SecurityGroup {
    const key = groupKey(ref);
    const known = this.groups.get(key);
    if (known) return known;
    // A group the templates reference but do not define: no rule is known, so it admits nothing.
    const opaque: SecurityGroup = { key, name: `${ref.resource.path}.${ref.attribute ?? 'Ref'}`, ingress: [], egress: [] };
    this.groups.set(key, opaque);
    return opaque;
  }

  vpcOf(resource: CfnResource | undefined): Vpc | undefined {
    return resource ? this.vpcs.get(resource.key) : undefined;
  }

  /** The peering connecting two VPCs, if any. */
  peeringBetween(a: Vpc, b: Vpc): Peering | undefined {
    return this.peerings.find((p) => (p.vpcs[0] === a && p.vpcs[1] === b) || (p.vpcs[0] === b && p.vpcs[1] === a));
  }

  natGateway(resource: CfnResource | undefined): NatGateway | undefined {
    return this.natGateways.find((n) => n.resource === resource);
  }

  private readRouteTables(): Map<string, RouteTable> {
    const { cfn } = this;
    const tables = new Map<string, RouteTable>();
    for (const r of cfn.resourcesOfType('AWS::EC2::RouteTable')) tables.set(r.key, { key: r.key, resource: r, name: r.path, routes: [] });
    const kindOf = (target: CfnResource | undefined): Route['target']['kind'] => {
      switch (target?.type) {
        case 'AWS::EC2::InternetGateway': return 'internet-gateway';
        case 'AWS::EC2::NatGateway': return 'nat-gateway';
        case 'AWS::EC2::VPCPeeringConnection': return 'peering';
        default: return 'other';
      }
    };
    for (const r of cfn.resourcesOfType('AWS::EC2::Route')) {
      const table = tables.get(cfn.refOf(r.stack, r.properties.RouteTableId)?.key ?? '');
      if (!table) continue;
      const cidr = cfn.literal(r, 'DestinationCidrBlock');
      const targetRef = ['GatewayId', 'NatGatewayId', 'VpcPeeringConnectionId', 'TransitGatewayId', 'VpcEndpointId', 'NetworkInterfaceId', 'InstanceId']
        .map((p) => cfn.refOf(r.stack, r.properties[p])).find(Boolean);
      table.routes.push({ resource: r, destination: { cidr: cidr && isCidr(cidr) ? cidr : undefined }, target: { kind: kindOf(targetRef), resource: targetRef } });
    }
    // Gateway endpoints (S3, DynamoDB) add a prefix-list route to each table they name.
    for (const r of cfn.resourcesOfType('AWS::EC2::VPCEndpoint')) {
      const type = cfn.literal(r, 'VpcEndpointType') ?? 'Gateway';
      if (type !== 'Gateway') continue;
      const service = serviceShortName(cfn.literal(r, 'ServiceName') ?? String(cfn.prop(r, 'ServiceName')));
      for (const t of cfn.refsOf(r, 'RouteTableIds')) {
        tables.get(t.key)?.routes.push({ resource: r, destination: { service }, target: { kind: 'gateway-endpoint', resource: r } });
      }
    }
    return tables;
  }

  private readNacls(): Map<string, Nacl> {
    const { cfn } = this;
    const nacls = new Map<string, Nacl>();
    for (const r of cfn.resourcesOfType('AWS::EC2::NetworkAcl')) nacls.set(r.key, { key: r.key, name: r.path, resource: r, isDefault: false, entries: [] });
    for (const r of cfn.resourcesOfType('AWS::EC2::NetworkAclEntry')) {
      const acl = nacls.get(cfn.refOf(r.stack, r.properties.NetworkAclId)?.key ?? '');
      const cidr = cfn.literal(r, 'CidrBlock');
      if (!acl || !cidr || !isCidr(cidr)) continue;
      const egress = cfn.prop(r, 'Egress');
      const from = Number(cfn.prop(r, 'PortRange', 'From'));
      const to = Number(cfn.prop(r, 'PortRange', 'To'));
      acl.entries.push({
        resource: r,
        ruleNumber: Number(cfn.prop(r, 'RuleNumber')),
        egress: egress === true || egress === 'true',
        protocol: Number(cfn.prop(r, 'Protocol')),
        allow: String(cfn.prop(r, 'RuleAction')).toLowerCase() === 'allow',
        cidr,
        ports: Number.isFinite(from) && Number.isFinite(to) ? { from, to } : undefined,
      });
    }
    for (const acl of nacls.values()) acl.entries.sort((a, b) => a.ruleNumber - b.ruleNumber);
    return nacls;
  }

  private readSecurityGroups() {
    const { cfn } = this;
    const standaloneEgress = new Set<string>();
    for (const r of cfn.resourcesOfType('AWS::EC2::SecurityGroupEgress')) {
      const ref = cfn.resolve(r.stack, r.properties.GroupId);
      if (ref instanceof CfnRef) standaloneEgress.add(groupKey(ref));
    }
    for (const r of cfn.resourcesOfType('AWS::EC2::SecurityGroup')) {
      const inline = (key: 'SecurityGroupIngress' | 'SecurityGroupEgress') => {
        const rules = cfn.prop(r, key);
        return Array.isArray(rules) ? rules.map((rule) => this.rule(r, rule as Record<string, unknown>, key === 'SecurityGroupIngress')) : [];
      };
      const egress = inline('SecurityGroupEgress');
      if (egress.length === 0 && !standaloneEgress.has(r.key)) {
        // EC2's default rule of a group created without egress rules.
        egress.push({ resource: r, protocol: '-1', from: 0, to: 65535, peer: { cidr: ANY_IPV4 }, description: 'default egress rule (none given)' });
      }
      this.groups.set(r.key, {
        key: r.key, name: r.path, resource: r,
        vpc: this.vpcOf(cfn.refOf(r.stack, r.properties.VpcId)),
        ingress: inline('SecurityGroupIngress'), egress,
      });
    }
    for (const r of cfn.resourcesOfType('AWS::EKS::Cluster')) {
      const key = `${r.key}#ClusterSecurityGroupId`;
      const subnets = this.subnetsOf(cfn.refsOf(r, 'ResourcesVpcConfig', 'SubnetIds'));
      const rule = (peer: SgPeer, description: string): SgRule => ({ resource: r, protocol: '-1', from: 0, to: 65535, peer, description });
      this.groups.set(key, {
        key, name: `${r.path} cluster security group (EKS-managed)`, managedBy: 'EKS', vpc: subnets[0]?.vpc,
        ingress: [rule({ group: key }, 'EKS default: all traffic from the cluster security group itself')],
        egress: [rule({ cidr: ANY_IPV4 }, 'EKS default: all outbound traffic')],
      });
    }
    for (const type of ['AWS::EC2::SecurityGroupIngress', 'AWS::EC2::SecurityGroupEgress'] as const) {
      for (const r of cfn.resourcesOfType(type)) {
        const ref = cfn.resolve(r.stack, r.properties.GroupId);
        if (!(ref instanceof CfnRef)) continue;
        const group = this.group(ref);
        (type === 'AWS::EC2::SecurityGroupIngress' ? group.ingress : group.egress)
          .push(this.rule(r, r.properties, type === 'AWS::EC2::SecurityGroupIngress'));
      }
    }
  }

  private rule(resource: CfnResource, raw: Record<string, unknown>, ingress: boolean): SgRule {
    const value = (key: string) => this.cfn.resolve(resource.stack, raw[key]);
    const protocol = PROTOCOL_NAMES[String(value('IpProtocol'))] ?? String(value('IpProtocol'));
    const from = Number(value('FromPort'));
    const to = Number(value('ToPort'));
    const all = protocol === '-1' || !Number.isFinite(from) || from === -1;
    const groupRef = value(ingress ? 'SourceSecurityGroupId' : 'DestinationSecurityGroupId');
    const prefixList = value(ingress ? 'SourcePrefixListId' : 'DestinationPrefixListId');
    const cidr = value('CidrIp');
    return {
      resource,
      protocol,
      from: all ? 0 : from,
      to: all ? 65535 : to,
      peer: {
        cidr: typeof cidr === 'string' ? cidr : undefined,
        group: groupRef instanceof CfnRef ? groupKey(groupRef) : undefined,
        prefixList: typeof prefixList === 'string' ? prefixList : undefined,
      },
      description: typeof value('Description') === 'string' ? String(value('Description')) : undefined,
    };
  }
}

function defaultNacl(vpc: Vpc): Nacl {
  const entry = (egress: boolean): NaclEntry => ({ ruleNumber: 100, egress, protocol: -1, allow: true, cidr: ANY_IPV4 });
  return { key: `${vpc.key}#default-acl`, name: `default network ACL of ${vpc.resource.path}`, isDefault: true, entries: [entry(false), entry(true)] };
}

/** `com.amazonaws.us-east-1.s3` -> `s3`. */
export function serviceShortName(serviceName: string): string {
  return serviceName.replace(/^com\.amazonaws\.[a-z0-9-]+\./, '');
}

/** The most specific route of a table for an address block (the local route first, as AWS does). */
export function routeFor(table: RouteTable, vpc: Vpc, cidr: string): Route | 'local' | undefined {
  if (cidrContains(vpc.cidr, cidr)) return 'local';
  let best: Route | undefined;
  let bestPrefix = -1;
  for (const route of table.routes) {
    const dest = route.destination.cidr;
    if (!dest || !cidrContains(dest, cidr)) continue;
    const prefix = cidrPrefix(dest);
    if (prefix > bestPrefix) { best = route; bestPrefix = prefix; }
  }
  return best;
}
