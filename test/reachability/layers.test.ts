/**
 * The model's rules on small hand-written templates, where the platform's own output has no
 * example: an explicit ACL's rule order, EC2's default egress rule and CloudFormation's removal of
 * it, peering routes in both directions, SG references across regions, ipBlock except, named
 * ports, cross-stack references.
 */
import { Cfn, CfnRef } from '../../scripts/reachability/cfn';
import type { CfnResourceJson, CfnStack } from '../../scripts/reachability/cfn';
import { aclCoverage, networkPolicies } from '../../scripts/reachability/layers';
import { Network } from '../../scripts/reachability/network';
import type { Endpoint } from '../../scripts/reachability/types';
import { tcp } from '../../scripts/reachability/types';

function stack(name: string, region: string, resources: Record<string, CfnResourceJson>, outputs: CfnStack['outputs'] = {}): CfnStack {
  return { key: `${name}@${region}`, environment: 'test', stackName: name, displayName: `test/${name}`, account: '111111111111', region, resources, outputs, parameters: {} };
}
const vpc = (cidr: string): CfnResourceJson => ({ Type: 'AWS::EC2::VPC', Properties: { CidrBlock: cidr } });
const subnet = (vpcId: string, cidr: string): CfnResourceJson => ({ Type: 'AWS::EC2::Subnet', Properties: { VpcId: { Ref: vpcId }, CidrBlock: cidr } });

describe('references across stacks', () => {
  it('follows Fn::GetStackOutput (also across regions) and Fn::ImportValue to the resource, and joins literals', () => {
    const a = stack('a', 'us-east-1', { Vpc: vpc('10.0.0.0/16') }, {
      VpcOut: { Value: { Ref: 'Vpc' } }, Exported: { Value: { 'Fn::GetAtt': ['Vpc', 'CidrBlock'] }, Export: { Name: 'a-cidr' } },
    });
    const b = stack('b', 'us-west-2', {
      Peer: { Type: 'AWS::EC2::VPCPeeringConnection', Properties: { VpcId: { 'Fn::GetStackOutput': { StackName: 'a', Region: 'us-east-1', OutputName: 'VpcOut' } } } },
    });
    const c = stack('c', 'us-east-1', { X: { Type: 'Custom::X', Properties: { Cidr: { 'Fn::ImportValue': 'a-cidr' }, Name: { 'Fn::Join': ['-', ['x', { Ref: 'AWS::Region' }]] } } } });
    const cfn = new Cfn([a, b, c]);
    const peer = cfn.prop(cfn.resource(b, 'Peer')!, 'VpcId');
    expect(peer).toBeInstanceOf(CfnRef);
    expect((peer as CfnRef).resource.key).toBe('a@us-east-1/Vpc');
    expect(cfn.prop(cfn.resource(c, 'X')!, 'Cidr')).toBe('10.0.0.0/16');
    expect(cfn.prop(cfn.resource(c, 'X')!, 'Name')).toBe('x-us-east-1');
  });
});

describe('security groups', () => {
  const network = new Network(new Cfn([stack('s', 'us-east-1', {
    Vpc: vpc('10.0.0.0/16'),
    Open: { Type: 'AWS::EC2::SecurityGroup', Properties: { VpcId: { Ref: 'Vpc' }, GroupDescription: 'no egress given' } },
    Narrow: { Type: 'AWS::EC2::SecurityGroup', Properties: { VpcId: { Ref: 'Vpc' }, GroupDescription: 'egress as separate rules' } },
    NarrowOut: { Type: 'AWS::EC2::SecurityGroupEgress', Properties: { GroupId: { 'Fn::GetAtt': ['Narrow', 'GroupId'] }, IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: '0.0.0.0/0' } },
    Inline: { Type: 'AWS::EC2::SecurityGroup', Properties: { VpcId: { Ref: 'Vpc' }, GroupDescription: 'inline', SecurityGroupEgress: [{ IpProtocol: '-1', CidrIp: '10.0.0.0/8' }] } },
  })]));

  it('gives a group without egress rules EC2\'s allow-all rule, and removes it once a standalone egress rule targets the group', () => {
    const egress = (id: string) => network.groups.get(`s@us-east-1/${id}`)!.egress.map((r) => `${r.protocol} ${r.from}-${r.to} ${r.peer.cidr}`);
    expect(egress('Open')).toEqual(['-1 0-65535 0.0.0.0/0']);
    expect(egress('Narrow')).toEqual(['tcp 443-443 0.0.0.0/0']);
    expect(egress('Inline')).toEqual(['-1 0-65535 10.0.0.0/8']);
  });
});

describe('network ACLs', () => {
  const network = new Network(new Cfn([stack('s', 'us-east-1', {
    Vpc: vpc('10.0.0.0/16'),
    Sub: subnet('Vpc', '10.0.1.0/24'),
    Acl: { Type: 'AWS::EC2::NetworkAcl', Properties: { VpcId: { Ref: 'Vpc' } } },
    Deny: { Type: 'AWS::EC2::NetworkAclEntry', Properties: { NetworkAclId: { Ref: 'Acl' }, RuleNumber: 90, Protocol: 6, RuleAction: 'deny', CidrBlock: '10.0.2.0/25', PortRange: { From: 5432, To: 5432 } } },
    Allow: { Type: 'AWS::EC2::NetworkAclEntry', Properties: { NetworkAclId: { Ref: 'Acl' }, RuleNumber: 100, Protocol: -1, RuleAction: 'allow', CidrBlock: '10.0.0.0/16' } },
    Assoc: { Type: 'AWS::EC2::SubnetNetworkAclAssociation', Properties: { SubnetId: { Ref: 'Sub' }, NetworkAclId: { Ref: 'Acl' } } },
  })]));
  const acl = [...network.subnets.values()][0]!.nacl;
  const inbound = (peer: string, port: number) => aclCoverage(acl, false, peer, 'tcp', { start: port, end: port + 1 });

  it('applies rules in number order, the first match deciding, the implicit deny last', () => {
    expect(acl.isDefault).toBe(false);
    expect(inbound('10.0.3.0/24', 5432)).toEqual({ coverage: 'all', rule: 'allowed' });
    // Half of the peer is denied by rule 90 before rule 100 allows the rest.
    expect(inbound('10.0.2.0/24', 5432)).toEqual({ coverage: 'some', rule: 'rule 90 (deny 10.0.2.0/25)' });
    expect(inbound('10.0.2.0/25', 5432)).toEqual({ coverage: 'none', rule: 'rule 90 (deny 10.0.2.0/25)' });
    expect(inbound('192.168.0.0/24', 5432)).toEqual({ coverage: 'none', rule: 'the final * rule (deny)' });
    // Outbound has no entry at all.
    expect(aclCoverage(acl, true, '10.0.3.0/24', 'tcp', { start: 1024, end: 65536 }).coverage).toBe('none');
  });
});

describe('NetworkPolicies', () => {
  const pod = (namespace: string, labels: Record<string, string>, listens = [tcp(8443, 'https')]): Endpoint => ({
    id: `k8s:${namespace}/x`, label: `pods ${namespace}`, kind: 'pod', role: 'pod', region: 'r', zone: 'private', placements: [], groups: [], listens,
    pod: { namespace, workload: 'x', labels, namespaceLabels: { 'kubernetes.io/metadata.name': namespace }, source: 'charts' },
  });
  const internet: Endpoint = { id: 'internet', label: 'the internet', kind: 'internet', role: 'internet', region: 'g', zone: 'internet', placements: [], groups: [] };
  const policy = (namespace: string, spec: unknown) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'p', namespace }, spec, origin: 'test' });

  it('matches ipBlock minus its except blocks against the peer\'s addresses', () => {
    const egress = [policy('a', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }] }] })];
    const source = pod('a', {});
    expect(networkPolicies('network-policy-egress', egress, source, internet, '0.0.0.0/0', tcp(443)).coverage).toBe('all');
    expect(networkPolicies('network-policy-egress', egress, source, pod('b', {}), '10.0.1.0/24', tcp(443)).coverage).toBe('none');
    expect(networkPolicies('network-policy-egress', egress, source, pod('b', {}), '8.0.0.0/5', tcp(443)).coverage).toBe('some');
  });

  it('resolves a named port against the destination pod, and a namespaceSelector against its namespace labels', () => {
    const ingress = [policy('b', { podSelector: { matchLabels: { app: 'b' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'a' } } }], ports: [{ port: 'https' }] }] })];
    const target = pod('b', { app: 'b' });
    expect(networkPolicies('network-policy-ingress', ingress, target, pod('a', {}), '10.0.0.0/24', tcp(8443)).coverage).toBe('all');
    expect(networkPolicies('network-policy-ingress', ingress, target, pod('c', {}), '10.0.0.0/24', tcp(8443)).coverage).toBe('none');
    expect(networkPolicies('network-policy-ingress', ingress, target, pod('a', {}), '10.0.0.0/24', tcp(9000)).coverage).toBe('none');
    // A pod no policy selects is not isolated.
    expect(networkPolicies('network-policy-ingress', ingress, pod('b', { app: 'other' }), pod('c', {}), '10.0.0.0/24', tcp(1)).coverage).toBe('all');
  });
});
