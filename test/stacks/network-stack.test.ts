import { Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ENVIRONMENT_NAMES, loadPlatformSpec } from '../../lib/spec';
import type { EnvironmentName } from '../../lib/spec';
import { NetworkStack } from '../../lib/stacks/network-stack';
import { testApp } from '../helpers/app';
import { normaliseTemplate } from '../helpers/normalise-template';

const spec = loadPlatformSpec();
const ZONES = ['public', 'dmz', 'private', 'restricted'] as const;

type Resources = Record<string, { Type: string; Properties?: Record<string, any> }>;

// One synth per environment for the whole file.
const app = testApp();
const stacks = ENVIRONMENT_NAMES.map((name) =>
  new NetworkStack(new Stage(app, name), 'Network', { spec, environment: spec.environments[name] }));
const assembly = app.synth();
const stageAssemblies = ENVIRONMENT_NAMES.map((name) => app.node.findChild(name) as Stage).map((stage) => stage.synth());
const synthesized = Object.fromEntries(ENVIRONMENT_NAMES.map((name, i) =>
  [name, { stack: stacks[i], template: Template.fromStack(stacks[i]) }],
)) as Record<EnvironmentName, { stack: NetworkStack; template: Template }>;

function resources(name: EnvironmentName): Resources {
  return synthesized[name].template.toJSON().Resources as Resources;
}
function ofType(name: EnvironmentName, type: string) {
  return Object.entries(resources(name)).filter(([, r]) => r.Type === type);
}
function logicalId(name: EnvironmentName, construct: { node: { defaultChild?: unknown } } | unknown): string {
  const stack = synthesized[name].stack;
  return stack.getLogicalId((construct as any).node.defaultChild);
}
function subnetIdsOfZone(name: EnvironmentName, zone: string): string[] {
  return ofType(name, 'AWS::EC2::Subnet')
    .filter(([, r]) => r.Properties!.Tags.some((t: any) => t.Key === 'aws-cdk:subnet-name' && t.Value === zone))
    .map(([id]) => id);
}
function routeTableOf(name: EnvironmentName, subnetId: string): string {
  const assoc = ofType(name, 'AWS::EC2::SubnetRouteTableAssociation').find(([, r]) => r.Properties!.SubnetId.Ref === subnetId);
  return assoc![1].Properties!.RouteTableId.Ref;
}
function defaultRoutesOf(name: EnvironmentName, routeTableId: string) {
  return ofType(name, 'AWS::EC2::Route')
    .filter(([, r]) => r.Properties!.RouteTableId.Ref === routeTableId && r.Properties!.DestinationCidrBlock === '0.0.0.0/0')
    .map(([, r]) => r.Properties!);
}
function ingressRules(name: EnvironmentName, groupId: string) {
  return ofType(name, 'AWS::EC2::SecurityGroupIngress')
    .map(([, r]) => r.Properties!)
    .filter((p) => p.GroupId['Fn::GetAtt'][0] === groupId);
}

describe('the architecture document is unchanged', () => {
  it('pins the numbers this stack is built from', () => {
    expect(spec.environments.production.region).toBe('us-east-1');
    expect(spec.environments.staging.region).toBe('us-east-1');
    expect(Object.keys(spec.securityZones)).toEqual(ZONES);
  });
});

describe.each(ENVIRONMENT_NAMES)('%s network', (name) => {
  const env = spec.environments[name];
  const template = () => synthesized[name].template;
  const zones = () => synthesized[name].stack.zones;

  it('is bound to the spec account and region and looks nothing up', () => {
    const stack = synthesized[name].stack;
    expect(stack.account).toBe(env.account);
    expect(stack.region).toBe(env.region);
    expect(stack.stackName).toBe(`platform-${name}-network`);
    expect(stack.terminationProtection).toBe(env.terminationProtection);
    expect(assembly.manifest.missing ?? []).toEqual([]);
    for (const stageAssembly of stageAssemblies) expect(stageAssembly.manifest.missing ?? []).toEqual([]);
  });

  it('builds the VPC from the spec CIDR across the three spec AZs', () => {
    template().hasResourceProperties('AWS::EC2::VPC', { CidrBlock: env.network.vpcCidr, EnableDnsHostnames: true });
    const azs = new Set(ofType(name, 'AWS::EC2::Subnet').map(([, r]) => r.Properties!.AvailabilityZone));
    expect([...azs].sort()).toEqual([...env.availabilityZones].sort());
  });

  it.each(ZONES)('has one %s subnet per AZ with the zone mask', (zone) => {
    const ids = subnetIdsOfZone(name, zone);
    expect(ids).toHaveLength(env.availabilityZones.length);
    for (const id of ids) {
      const subnet = resources(name)[id].Properties!;
      expect(subnet.CidrBlock).toMatch(new RegExp(`/${spec.securityZones[zone].subnetCidrMask}$`));
      expect(subnet.MapPublicIpOnLaunch).toBe(false);
    }
  });

  it('routes public subnets to the internet gateway', () => {
    for (const subnet of subnetIdsOfZone(name, 'public')) {
      const routes = defaultRoutesOf(name, routeTableOf(name, subnet));
      expect(routes).toHaveLength(1);
      expect(routes[0].GatewayId).toBeDefined();
    }
  });

  it.each(['dmz', 'private'])('routes %s subnets out through a NAT gateway only', (zone) => {
    for (const subnet of subnetIdsOfZone(name, zone)) {
      const routes = defaultRoutesOf(name, routeTableOf(name, subnet));
      expect(routes).toHaveLength(1);
      expect(routes[0].NatGatewayId).toBeDefined();
      expect(routes[0].GatewayId).toBeUndefined();
    }
  });

  it('gives the restricted subnets no route to the internet at all', () => {
    for (const subnet of subnetIdsOfZone(name, 'restricted')) {
      const table = routeTableOf(name, subnet);
      const anyRoute = ofType(name, 'AWS::EC2::Route').filter(([, r]) => r.Properties!.RouteTableId.Ref === table);
      expect(anyRoute).toEqual([]);
    }
  });

  it('runs the spec number of NAT gateways', () => {
    template().resourceCountIs('AWS::EC2::NatGateway', env.network.natGateways);
  });

  it('logs all VPC traffic with the spec retention, kept on delete', () => {
    template().hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    template().hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: env.network.flowLogRetentionDays },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('reaches S3 through a gateway endpoint and the cluster APIs through interface endpoints', () => {
    template().hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['.s3'])]) }),
    });
    const interfaces = ofType(name, 'AWS::EC2::VPCEndpoint')
      .filter(([, r]) => r.Properties!.VpcEndpointType === 'Interface')
      .map(([, r]) => String(r.Properties!.ServiceName).replace(`com.amazonaws.${env.region}.`, ''));
    expect(interfaces.sort()).toEqual(
      ['ec2', 'ec2messages', 'ecr.api', 'ecr.dkr', 'eks', 'eks-auth', 'elasticloadbalancing', 'logs', 'ssm', 'ssmmessages', 'sts'],
    );
  });

  describe('security zones', () => {
    const id = (group: keyof NetworkStack['zones']) => logicalId(name, zones()[group]);
    const gateway = spec.services.find((s) => s.zone === 'dmz')!;
    const core = spec.services.filter((s) => s.zone === 'private');

    it('admits nothing from the internet directly into any zone', () => {
      for (const [, group] of ofType(name, 'AWS::EC2::SecurityGroup')) {
        for (const rule of group.Properties!.SecurityGroupIngress ?? []) expect(rule.CidrIp).not.toBe('0.0.0.0/0');
      }
      for (const [, rule] of ofType(name, 'AWS::EC2::SecurityGroupIngress')) expect(rule.Properties!.CidrIp).not.toBe('0.0.0.0/0');
    });

    it('DMZ: admits only the load balancer (gateway and health ports), the VPN (gateway port), and the nodes on the health port (kubelet, Prometheus)', () => {
      const rules = ingressRules(name, id('dmz'));
      expect(rules.map((r) => [r.SourceSecurityGroupId['Fn::GetAtt'][0], r.FromPort, r.ToPort]).sort()).toEqual([
        [id('loadBalancer'), gateway.port, gateway.port],
        [id('loadBalancer'), gateway.healthPort, gateway.healthPort],
        [id('vpn'), gateway.port, gateway.port],
        [id('workloads'), gateway.healthPort, gateway.healthPort],
      ].sort());
      expect(gateway.port).toBe(8000);
    });

    it('private: admits the DMZ and the mesh itself on the core service ports, and DNS from the DMZ (CoreDNS runs on the nodes)', () => {
      const rules = ingressRules(name, id('workloads'));
      const expected = [
        ...core.flatMap((s) => [[id('dmz'), 'tcp', s.port], [id('workloads'), 'tcp', s.port]]),
        [id('dmz'), 'udp', 53], [id('dmz'), 'tcp', 53],
      ];
      expect(rules.map((r) => [r.SourceSecurityGroupId['Fn::GetAtt'][0], r.IpProtocol, r.FromPort])).toEqual(expect.arrayContaining(expected));
      expect(rules).toHaveLength(expected.length);
      expect(core.map((s) => s.port)).toEqual([8001, 8002, 8003, 8004]);
    });

    it('restricted: admits each store\'s owners on its port (PgBouncer and the services from the private zone, the gateway on Redis), and the bastion on every data port', () => {
      const rules = ingressRules(name, id('restricted'));
      const sources = (port: number) => rules.filter((r) => r.FromPort === port && r.ToPort === port)
        .map((r) => r.SourceSecurityGroupId['Fn::GetAtt'][0]).sort();
      const data = spec.dataTier;
      expect(sources(data.postgres.port)).toEqual([id('bastion'), id('workloads')].sort());
      expect(sources(data.redis.port)).toEqual([id('bastion'), id('dmz'), id('workloads')].sort());
      expect(sources(data.kafka.saslScramPort)).toEqual([id('bastion'), id('workloads')].sort());
      // No workload signs in to Kafka with IAM (the Flink job does, through its own stack's rule).
      expect(sources(data.kafka.iamPort)).toEqual([id('bastion')]);
      // The warehouse: people through the bastion; the analytics job's rule is its own stack's.
      expect(sources(spec.analytics.warehouse.port)).toEqual([id('bastion')]);
      expect(rules).toHaveLength(9);
      expect([data.postgres.port, data.redis.port, data.kafka.saslScramPort, data.kafka.iamPort]).toEqual([5432, 6379, 9096, 9098]);
    });

    it('opens no inbound rule to the bastion and no SSH anywhere', () => {
      expect(ingressRules(name, id('bastion'))).toEqual([]);
      for (const [, rule] of ofType(name, 'AWS::EC2::SecurityGroupIngress')) expect(rule.Properties!.FromPort).not.toBe(22);
    });

    it('lets the VPN reach only the DMZ', () => {
      const egress = ofType(name, 'AWS::EC2::SecurityGroupEgress').map(([, r]) => r.Properties!)
        .filter((p) => p.GroupId['Fn::GetAtt'][0] === id('vpn'));
      expect(egress).toEqual([expect.objectContaining({
        DestinationSecurityGroupId: { 'Fn::GetAtt': [id('dmz'), 'GroupId'] }, FromPort: gateway.port,
      })]);
    });
  });

  it('terminates a mutual-TLS Client VPN in the DMZ subnets with the spec certificates and CIDR', () => {
    template().hasResourceProperties('AWS::EC2::ClientVpnEndpoint', {
      ServerCertificateArn: `arn:aws:acm:${env.region}:${env.account}:certificate/${env.network.vpn.serverCertificateId}`,
      ClientCidrBlock: env.network.vpn.clientCidr,
      SplitTunnel: true,
      AuthenticationOptions: [{
        Type: 'certificate-authentication',
        MutualAuthentication: { ClientRootCertificateChainArn: `arn:aws:acm:${env.region}:${env.account}:certificate/${env.network.vpn.clientRootCertificateId}` },
      }],
      ConnectionLogOptions: Match.objectLike({ Enabled: true }),
      SecurityGroupIds: [{ 'Fn::GetAtt': [logicalId(name, zones().vpn), 'GroupId'] }],
    });
    const associated = ofType(name, 'AWS::EC2::ClientVpnTargetNetworkAssociation').map(([, r]) => r.Properties!.SubnetId.Ref).sort();
    expect(associated).toEqual(subnetIdsOfZone(name, 'dmz').sort());
  });

  it('gives no role an inline policy: the default-group provider\'s grant is a managed policy on the default group alone, in place before the call', () => {
    for (const [id, role] of ofType(name, 'AWS::IAM::Role')) expect([id, role.Properties!.Policies]).toEqual([id, undefined]);
    const [[policyId, policy]] = ofType(name, 'AWS::IAM::ManagedPolicy').filter(([id]) => id.includes('VpcRestrictDefaultSG'));
    const [[roleId]] = ofType(name, 'AWS::IAM::Role').filter(([id]) => id.includes('VpcRestrictDefaultSG'));
    expect(policy.Properties!.Roles).toEqual([{ Ref: roleId }]);
    const [statement] = policy.Properties!.PolicyDocument.Statement;
    expect(statement.Action).toEqual(['ec2:AuthorizeSecurityGroupIngress', 'ec2:AuthorizeSecurityGroupEgress', 'ec2:RevokeSecurityGroupIngress', 'ec2:RevokeSecurityGroupEgress']);
    expect(JSON.stringify(statement.Resource)).toContain('"DefaultSecurityGroup"');
    const [[, custom]] = ofType(name, 'Custom::VpcRestrictDefaultSG');
    expect((custom as any).DependsOn).toContain(policyId);
  });

  it('runs an SSM bastion with no key, no public address, IMDSv2 and an encrypted disk', () => {
    const [[, instance]] = ofType(name, 'AWS::EC2::Instance');
    const props = instance.Properties!;
    expect(props.KeyName).toBeUndefined();
    expect(props.InstanceType).toBe(env.network.bastionInstanceType);
    expect(subnetIdsOfZone(name, 'private')).toContain(props.SubnetId.Ref);
    expect(props.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [logicalId(name, zones().bastion), 'GroupId'] }]);
    expect(props.BlockDeviceMappings[0].Ebs).toMatchObject({ Encrypted: true });
    template().hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: { MetadataOptions: { HttpTokens: 'required' } },
    });
    // Session Manager's actions only, no wildcard actions, no AWS-managed policy.
    const [[, policy]] = ofType(name, 'AWS::IAM::ManagedPolicy').filter(([id]) => id.startsWith('Bastion'));
    const actions = policy.Properties!.PolicyDocument.Statement.flatMap((st: any) => st.Action);
    expect(actions.every((a: string) => /^(ssm:UpdateInstanceInformation|ssmmessages:[A-Z]\w+|ec2messages:[A-Z]\w+)$/.test(a))).toBe(true);
    expect(actions).toContain('ssmmessages:OpenDataChannel');
    template().hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })] }),
      ManagedPolicyArns: [{ Ref: Match.stringLikeRegexp('BastionSessionManagerPolicy') }],
    });
    expect(props.DisableApiTermination).toBe(true);
    expect(props.Monitoring).toBe(true);
  });

  it('matches the snapshot', () => {
    expect(normaliseTemplate(template().toJSON())).toMatchSnapshot();
  });
});

describe('environment differences the spec asks for', () => {
  it('runs a NAT per AZ in production and one in staging', () => {
    synthesized.production.template.resourceCountIs('AWS::EC2::NatGateway', 3);
    synthesized.staging.template.resourceCountIs('AWS::EC2::NatGateway', 1);
  });
});
