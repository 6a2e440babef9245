import { Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';
import { ENVIRONMENT_NAMES, loadPlatformSpec } from '../../lib/spec';
import type { EnvironmentName, PlatformSpec } from '../../lib/spec';
import { platformSpecData } from '../../lib/spec/platform';
import { vaultNames } from '../../lib/spec/vault-names';
import { zoneSubnetCidrs } from '../../lib/spec/topology';
import { NetworkStack } from '../../lib/stacks/network-stack';
import { VaultKeysStack } from '../../lib/stacks/vault-keys-stack';
import { VaultStack } from '../../lib/stacks/vault-stack';
import { VaultStandbyStack } from '../../lib/stacks/vault-standby-stack';
import { testApp } from '../helpers/app';
import { normaliseTemplate } from '../helpers/normalise-template';
import { zoneSubnets } from '../../lib/constructs/network/zoned-vpc';

const spec = loadPlatformSpec();
const enterpriseSpec = loadPlatformSpec({ data: { ...structuredClone(platformSpecData), vault: { ...platformSpecData.vault, enterpriseReplication: true } } });

type Resources = Record<string, { Type: string; Properties?: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;

function build(app: ReturnType<typeof testApp>, s: PlatformSpec, name: EnvironmentName) {
  const stage = new Stage(app, name);
  const environment = s.environments[name];
  const network = new NetworkStack(stage, 'Network', { spec: s, environment });
  const keys = new VaultKeysStack(stage, 'VaultKeys', { spec: s, environment });
  const standby = new VaultStandbyStack(stage, 'VaultStandby', { spec: s, environment, inDrRegion: true, keys, network });
  const vault = new VaultStack(stage, 'Vault', { spec: s, environment, network, keys, standby });
  return { stage, network, keys, standby, vault };
}

// One synth per environment (and one Enterprise variant) for the whole file.
const app = testApp();
const built = Object.fromEntries(ENVIRONMENT_NAMES.map((name) => [name, build(app, spec, name)])) as Record<EnvironmentName, ReturnType<typeof build>>;
const stageAssemblies = ENVIRONMENT_NAMES.map((name) => built[name].stage.synth());
const entApp = testApp();
const ent = build(entApp, enterpriseSpec, 'production');
ent.stage.synth();

const templates = (b: ReturnType<typeof build>) => ({
  keys: Template.fromStack(b.keys), standby: Template.fromStack(b.standby), vault: Template.fromStack(b.vault),
});
const synthesized = Object.fromEntries(ENVIRONMENT_NAMES.map((n) => [n, templates(built[n])])) as Record<EnvironmentName, ReturnType<typeof templates>>;
const entTemplates = templates(ent);

const resourcesOf = (t: Template) => t.toJSON().Resources as Resources;
const ofType = (t: Template, type: string) => Object.entries(resourcesOf(t)).filter(([, r]) => r.Type === type);
const one = (t: Template, type: string) => {
  const found = ofType(t, type);
  expect(found).toHaveLength(1);
  return found[0][1];
};
/** The launch template's user data as text, tokens shown as JSON. */
function userData(t: Template): string {
  const data = one(t, 'AWS::EC2::LaunchTemplate').Properties!.LaunchTemplateData.UserData['Fn::Base64'];
  if (typeof data === 'string') return data;
  return (data['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join('');
}
function ingress(t: Template, groupLogicalId: string) {
  return ofType(t, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties!)
    .filter((p) => p.GroupId['Fn::GetAtt']?.[0] === groupLogicalId);
}
/** What a reference points at: a local logical id, or the producer's output name (imports and GetStackOutput). */
const refName = (value: any): string => value['Fn::GetAtt']?.[0] ?? value.Ref ?? value['Fn::ImportValue'] ?? value['Fn::GetStackOutput']?.OutputName;
const logicalId = (stack: { getLogicalId: (e: any) => string }, construct: any) => stack.getLogicalId(construct.node.defaultChild);

describe.each(ENVIRONMENT_NAMES)('%s Vault', (name) => {
  const env = spec.environments[name];
  const names = vaultNames(spec, name);
  const t = () => synthesized[name];
  const b = () => built[name];

  it('places the stacks in the spec account: keys and primary in the environment region, standby in the DR region', () => {
    expect([b().keys, b().standby, b().vault].map((s) => [s.stackName, s.account, s.region])).toEqual([
      [`platform-${name}-vaultkeys`, env.account, env.region],
      [`platform-${name}-vaultstandby`, env.account, spec.drRegion.name],
      [`platform-${name}-vault`, env.account, env.region],
    ]);
    expect(b().standby.dependencies).toContain(b().keys);
    expect(b().vault.dependencies).toEqual(expect.arrayContaining([b().keys, b().standby, b().network]));
    for (const assembly of stageAssemblies) expect(assembly.manifest.missing ?? []).toEqual([]);
  });

  it('runs 3 primary nodes over the 3 AZs in the private subnets', () => {
    const asg = one(t().vault, 'AWS::AutoScaling::AutoScalingGroup');
    expect(asg.Properties).toMatchObject({
      AutoScalingGroupName: names.primaryAutoScalingGroup, MinSize: String(spec.vault.nodes), MaxSize: String(spec.vault.nodes),
    });
    expect(asg.Properties!.DesiredCapacity).toBeUndefined();
    const subnets = asg.Properties!.VPCZoneIdentifier.map(refName);
    expect(subnets).toHaveLength(3);
    for (const s of subnets) expect(s).toMatch(/privateSubnet\dSubnet/);
    const privateSubnets = b().network.vpc.selectSubnets(zoneSubnets('private'));
    expect([...privateSubnets.availabilityZones].sort()).toEqual([...env.availabilityZones].sort());
    expect(spec.vault.nodes).toBe(3);
  });

  it('launches AL2023 with IMDSv2, an encrypted gp3 disk, no public address, the spec instance type', () => {
    for (const template of [t().vault, t().standby]) {
      const data = one(template, 'AWS::EC2::LaunchTemplate').Properties!.LaunchTemplateData;
      expect(data.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
      expect(data.BlockDeviceMappings).toEqual([{ DeviceName: '/dev/xvda', Ebs: expect.objectContaining({ Encrypted: true, VolumeType: 'gp3', VolumeSize: spec.vault.diskSizeGiB }) }]);
      expect(data.NetworkInterfaces).toEqual([expect.objectContaining({ AssociatePublicIpAddress: false })]);
      expect(data.InstanceType).toBe(spec.vault.instanceType);
      expect(JSON.stringify(data.ImageId)).toContain('al2023');
    }
  });

  it('installs the pinned open-source Vault with TLS, DynamoDB HA storage and KMS auto-unseal', () => {
    const primary = userData(t().vault);
    expect(primary).toContain(`dnf install -y vault-${spec.vault.version}`);
    expect(primary).toContain('https://rpm.releases.hashicorp.com/AmazonLinux/hashicorp.repo');
    expect(primary).toContain(`address = "0.0.0.0:${spec.vault.apiPort}"`);
    expect(primary).toContain(`cluster_address = "0.0.0.0:${spec.vault.clusterPort}"`);
    expect(primary).toContain('tls_cert_file');
    expect(primary).toContain(`table = "${names.table}"`);
    expect(primary).toContain('ha_enabled = "true"');
    expect(primary).toContain(`region = "${env.region}"`);
    expect(primary).toContain('seal "awskms"');
    expect(primary).toContain(`--secret-id ${names.tlsSecret}`);
    expect(primary).toContain(`"log_group_name":"${names.auditLogGroup}"`);
    expect(primary).not.toContain('vault-enterprise');
    const standby = userData(t().standby);
    expect(standby).toContain(`table = "${names.table}"`);
    expect(standby).toContain(`region = "${spec.drRegion.name}"`);
  });

  it('auto-unseals and encrypts with multi-region keys, rotated and retained', () => {
    const keys = ofType(t().keys, 'AWS::KMS::Key');
    expect(keys).toHaveLength(2);
    for (const [, key] of keys) {
      expect(key.Properties).toMatchObject({ MultiRegion: true, EnableKeyRotation: true });
      expect([key.DeletionPolicy, key.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    }
    const replicas = ofType(t().standby, 'AWS::KMS::ReplicaKey');
    expect(replicas).toHaveLength(2);
    for (const [, replica] of replicas) {
      expect(JSON.stringify(replica.Properties!.PrimaryKeyArn)).toContain(`platform-${name}-vaultkeys`);
      expect(replica.DeletionPolicy).toBe('Retain');
    }
    expect(b().standby.region).toBe('us-west-2');
  });

  it('stores Vault in a global table replicated to the DR region with PITR, deletion protection and CMKs', () => {
    const table = one(t().vault, 'AWS::DynamoDB::GlobalTable');
    expect([table.DeletionPolicy, table.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    expect(table.Properties!.TableName).toBe(names.table);
    expect(table.Properties!.KeySchema).toEqual([{ AttributeName: 'Path', KeyType: 'HASH' }, { AttributeName: 'Key', KeyType: 'RANGE' }]);
    const replicas = table.Properties!.Replicas as any[];
    expect(replicas.map((r) => r.Region).sort()).toEqual([env.region, spec.drRegion.name].sort());
    for (const replica of replicas) {
      expect(replica.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(replica.DeletionProtectionEnabled).toBe(true);
      expect(replica.SSESpecification.KMSMasterKeyId).toBeDefined();
    }
    const dr = replicas.find((r) => r.Region === spec.drRegion.name);
    expect(JSON.stringify(dr.SSESpecification.KMSMasterKeyId)).toContain(`arn:aws:kms:${spec.drRegion.name}:${env.account}:key/`);
    expect(ofType(t().standby, 'AWS::DynamoDB::GlobalTable')).toEqual([]);
  });

  it('keeps the standby at zero nodes in the DR region, in its own private VPC', () => {
    const asg = one(t().standby, 'AWS::AutoScaling::AutoScalingGroup');
    expect(asg.Properties).toMatchObject({ AutoScalingGroupName: names.standbyAutoScalingGroup, MinSize: '0', MaxSize: String(spec.vault.nodes) });
    expect(asg.Properties!.DesiredCapacity).toBeUndefined();
    t().standby.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: spec.vault.standbyVpc.cidrs[name] });
    const azs = new Set(ofType(t().standby, 'AWS::EC2::Subnet').map(([, s]) => s.Properties!.AvailabilityZone));
    expect([...azs].sort()).toEqual([...spec.drRegion.availabilityZones]);
    for (const [, subnet] of ofType(t().standby, 'AWS::EC2::Subnet')) expect(subnet.Properties!.MapPublicIpOnLaunch).toBe(false);
    t().standby.resourceCountIs('AWS::EC2::NatGateway', spec.vault.standbyVpc.natGateways);
    const endpoints = ofType(t().standby, 'AWS::EC2::VPCEndpoint').map(([, e]) => JSON.stringify(e.Properties!.ServiceName));
    for (const service of ['kms', 'secretsmanager', 'logs', 'dynamodb']) expect(endpoints.join()).toContain(service);
  });

  it('scopes each node role to its key, table, log group and secrets', () => {
    for (const [template, region] of [[t().vault, env.region], [t().standby, spec.drRegion.name]] as const) {
      const statements = ofType(template, 'AWS::IAM::ManagedPolicy').find(([id]) => id.startsWith('NodeRole'))![1].Properties!.PolicyDocument.Statement as any[];
      const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
      expect(Object.keys(bySid).sort()).toEqual(['AuditLogs', 'AutoUnseal', 'BootSecrets', 'BootSecretsKey', 'SessionManager', 'StorageTable']);
      expect(bySid.AutoUnseal.Action).toEqual(['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt']);
      for (const sid of ['AutoUnseal', 'StorageTable', 'AuditLogs', 'BootSecrets', 'BootSecretsKey']) {
        expect(JSON.stringify(bySid[sid].Resource)).not.toBe('"*"');
        for (const action of [bySid[sid].Action].flat()) expect(action).not.toMatch(/\*/);
      }
      expect(JSON.stringify(bySid.StorageTable.Resource)).toMatch(region === env.region ? /StorageTable/ : new RegExp(`table/${names.table}`));
      expect(JSON.stringify(bySid.AuditLogs.Resource)).toContain('AuditLogs');
      expect(JSON.stringify(bySid.BootSecrets.Resource)).toMatch(region === env.region ? /TlsSecret/ : new RegExp(`secret:${names.tlsSecret}-\\?{6}`));
      expect(bySid.BootSecretsKey.Condition).toEqual({ StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` } });
      const nodeRole = ofType(template, 'AWS::IAM::Role').filter(([id]) => id.startsWith('NodeRole'));
      expect(nodeRole).toHaveLength(1);
      expect(nodeRole[0][1].Properties!.ManagedPolicyArns).toBeUndefined();
      expect(nodeRole[0][1].Properties!.Policies).toBeUndefined();
    }
  });

  it('admits the API only from the workloads (private zone and DMZ) and the bastion (via the NLB or directly), 8201 among nodes', () => {
    const vault = t().vault;
    const nodeSg = logicalId(b().vault, b().vault.cluster.securityGroup);
    const lbSg = logicalId(b().vault, b().vault.cluster.loadBalancerSecurityGroup);
    const source = (r: any) => refName(r.SourceSecurityGroupId);
    const lbRules = ingress(vault, lbSg);
    expect(lbRules.map((r) => [r.FromPort, r.ToPort])).toEqual([[8200, 8200], [8200, 8200], [8200, 8200]]);
    const clients = [expect.stringContaining('ZonesBastion'), expect.stringContaining('ZonesDmz'), expect.stringContaining('ZonesWorkloads')];
    expect(lbRules.map(source).sort()).toEqual(clients);
    const nodeRules = ingress(vault, nodeSg);
    const api = nodeRules.filter((r) => r.FromPort === 8200).map(source).sort();
    expect(api).toEqual([...clients, lbSg].sort());
    expect(nodeRules.filter((r) => r.FromPort === 8201).map(source)).toEqual([nodeSg]);
    expect(nodeRules).toHaveLength(5);
    for (const template of [vault, t().standby, t().keys]) {
      for (const [, group] of ofType(template, 'AWS::EC2::SecurityGroup')) {
        for (const rule of group.Properties!.SecurityGroupIngress ?? []) expect(rule.CidrIp).not.toBe('0.0.0.0/0');
      }
      for (const [, rule] of ofType(template, 'AWS::EC2::SecurityGroupIngress')) expect(rule.Properties!.CidrIp).not.toBe('0.0.0.0/0');
    }
  });

  it('lets the nodes out on HTTPS (AWS APIs, the package repository) and to each other on the cluster port, nothing else', () => {
    for (const [template, stack] of [[t().vault, b().vault], [t().standby, b().standby]] as const) {
      const nodeSg = logicalId(stack, stack.cluster.securityGroup);
      const group = resourcesOf(template)[nodeSg]!;
      expect(group.Properties!.SecurityGroupEgress).toEqual([
        { CidrIp: '0.0.0.0/0', Description: 'AWS APIs and the HashiCorp package repository over HTTPS', FromPort: 443, IpProtocol: 'tcp', ToPort: 443 },
      ]);
      const standalone = ofType(template, 'AWS::EC2::SecurityGroupEgress').map(([, r]) => r.Properties!)
        .filter((p) => p.GroupId['Fn::GetAtt']?.[0] === nodeSg);
      expect(standalone.map((p) => [refName(p.DestinationSecurityGroupId), p.FromPort])).toEqual([[nodeSg, spec.vault.clusterPort]]);
    }
  });

  it('names the active cluster in a private hosted zone record the failover moves, and peers the standby\'s VPC with the routes both ways', () => {
    const zone = one(t().vault, 'AWS::Route53::HostedZone');
    expect(zone.Properties!.Name).toBe(`${names.privateZone}.`);
    expect(zone.Properties!.VPCs).toEqual([{ VPCId: expect.anything(), VPCRegion: env.region }]);
    const record = one(t().vault, 'AWS::Route53::RecordSet');
    expect(record.Properties).toMatchObject({ Name: `${names.dnsName}.`, Type: 'CNAME', TTL: String(spec.vault.dnsTtlSeconds) });
    expect(JSON.stringify(record.Properties!.ResourceRecords)).toContain('LoadBalancer');
    const peering = one(t().standby, 'AWS::EC2::VPCPeeringConnection');
    expect(peering.Properties).toMatchObject({ PeerRegion: env.region });
    expect(JSON.stringify(peering.Properties!.PeerVpcId)).toContain('Fn::GetStackOutput');
    const standbyCidr = spec.vault.standbyVpc.cidrs[name];
    const primaryRoutes = ofType(t().vault, 'AWS::EC2::Route').map(([, r]) => r.Properties!);
    expect(primaryRoutes.map((r) => r.DestinationCidrBlock)).toEqual([standbyCidr, standbyCidr, standbyCidr]);
    for (const route of primaryRoutes) expect(JSON.stringify(route.VpcPeeringConnectionId)).toContain('Fn::GetStackOutput');
    const backRoutes = ofType(t().standby, 'AWS::EC2::Route').map(([, r]) => r.Properties!).filter((r) => r.VpcPeeringConnectionId);
    // Each of the standby's three private route tables -> each of the primary's private subnets.
    expect(backRoutes).toHaveLength(9);
    expect([...new Set(backRoutes.map((r) => r.DestinationCidrBlock))].sort()).toEqual([...zoneSubnetCidrs(spec, env).private].sort());
    // The standby admits those subnets (no group of another region can be named).
    const lbSg = logicalId(b().standby, b().standby.cluster.loadBalancerSecurityGroup);
    expect(ofType(t().standby, 'AWS::EC2::SecurityGroup').find(([id]) => id === lbSg)![1].Properties!.SecurityGroupIngress
      .map((r: any) => [r.CidrIp, r.FromPort])).toEqual(zoneSubnetCidrs(spec, env).private.map((c) => [c, spec.vault.apiPort]));
  });

  it('serves clients through an internal NLB in the private subnets and publishes its address', () => {
    const lb = one(t().vault, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    expect(lb.Properties).toMatchObject({ Scheme: 'internal', Type: 'network', Name: names.primaryLoadBalancer });
    expect(one(t().vault, 'AWS::ElasticLoadBalancingV2::Listener').Properties).toMatchObject({ Port: 8200, Protocol: 'TCP' });
    expect(one(t().vault, 'AWS::ElasticLoadBalancingV2::TargetGroup').Properties).toMatchObject({
      Port: 8200, HealthCheckProtocol: 'HTTPS', HealthCheckPath: '/v1/sys/health?standbyok=true',
    });
    t().vault.hasResourceProperties('AWS::SSM::Parameter', { Name: names.addressParameter });
    t().standby.hasResourceProperties('AWS::SSM::Parameter', { Name: names.standbyAddressParameter });
  });

  it('keeps audit logs, the TLS secret and the flow logs, encrypted, with the spec retention', () => {
    for (const template of [t().vault, t().standby]) {
      template.hasResource('AWS::Logs::LogGroup', {
        Properties: { LogGroupName: names.auditLogGroup, RetentionInDays: spec.vault.auditLogRetentionDays, KmsKeyId: Match.anyValue() },
        DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain',
      });
    }
    t().standby.hasResource('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: names.standbyFlowLogGroup, RetentionInDays: env.network.flowLogRetentionDays }, DeletionPolicy: 'Retain',
    });
    const secret = one(t().vault, 'AWS::SecretsManager::Secret');
    expect(secret.Properties).toMatchObject({ Name: names.tlsSecret, ReplicaRegions: [expect.objectContaining({ Region: spec.drRegion.name })] });
    expect(secret.Properties!.KmsKeyId).toBeDefined();
    expect([secret.DeletionPolicy, secret.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
  });

  it("tells which names the TLS certificate must carry, the in-cluster address included", () => {
    const output = t().vault.toJSON().Outputs.TlsCertificateNames;
    expect(output.Value.split(',')).toEqual([
      `DNS:*.elb.${env.region}.amazonaws.com`, `DNS:*.elb.${spec.drRegion.name}.amazonaws.com`,
      'DNS:vault.vault.svc.cluster.local', 'IP:127.0.0.1',
    ]);
    expect(output.Description).toContain(names.tlsSecret);
  });

  it('matches the snapshots', () => {
    expect(normaliseTemplate(t().keys.toJSON())).toMatchSnapshot('keys');
    expect(normaliseTemplate(t().standby.toJSON())).toMatchSnapshot('standby');
    expect(normaliseTemplate(t().vault.toJSON())).toMatchSnapshot('primary');
  });
});

describe('the Enterprise switch (vault.enterpriseReplication)', () => {
  const names = vaultNames(enterpriseSpec, 'production');

  it('synthesizes a running DR secondary on its own table instead of the shared global table', () => {
    const primaryTable = one(entTemplates.vault, 'AWS::DynamoDB::GlobalTable');
    expect((primaryTable.Properties!.Replicas as any[]).map((r) => r.Region)).toEqual(['us-east-1']);
    const standbyTable = one(entTemplates.standby, 'AWS::DynamoDB::GlobalTable');
    expect(standbyTable.Properties!.TableName).toBe(names.standbyTable);
    expect(standbyTable.Properties!.Replicas[0]).toMatchObject({ Region: 'us-west-2', DeletionProtectionEnabled: true, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } });
    expect(standbyTable.DeletionPolicy).toBe('Retain');
    const asg = one(entTemplates.standby, 'AWS::AutoScaling::AutoScalingGroup');
    expect(asg.Properties).toMatchObject({ MinSize: '3', MaxSize: '3' });
  });

  it('installs Vault Enterprise with its license on both clusters and opens the replication ports between the VPCs', () => {
    for (const template of [entTemplates.vault, entTemplates.standby]) {
      const text = userData(template);
      expect(text).toContain(`dnf install -y vault-enterprise-${enterpriseSpec.vault.version}+ent`);
      expect(text).toContain('license_path');
      expect(text).toContain(`--secret-id ${names.licenseSecret}`);
    }
    expect(userData(entTemplates.standby)).toContain(`table = "${names.standbyTable}"`);
    const peerRules = (template: Template) => [
      ...ofType(template, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties!),
      ...ofType(template, 'AWS::EC2::SecurityGroup').filter(([id]) => id.includes('NodeSecurityGroup')).flatMap(([, g]) => g.Properties!.SecurityGroupIngress ?? []),
    ].filter((r) => r.CidrIp).map((r) => [r.CidrIp, r.FromPort]).sort();
    expect(peerRules(entTemplates.vault)).toEqual([[enterpriseSpec.vault.standbyVpc.cidrs.production, 8200], [enterpriseSpec.vault.standbyVpc.cidrs.production, 8201]]);
    expect(peerRules(entTemplates.standby)).toEqual(expect.arrayContaining([
      [enterpriseSpec.environments.production.network.vpcCidr, 8200], [enterpriseSpec.environments.production.network.vpcCidr, 8201],
    ]));
    expect(ofType(entTemplates.vault, 'AWS::SecretsManager::Secret').map(([, s]) => s.Properties!.Name).sort())
      .toEqual([names.licenseSecret, names.tlsSecret].sort());
  });

  it('differs from open source exactly where the switch says', () => {
    const cidrRules = ofType(synthesized.production.vault, 'AWS::EC2::SecurityGroup')
      .flatMap(([, g]) => (g.Properties!.SecurityGroupIngress ?? []) as any[]).filter((r) => r.CidrIp);
    expect(cidrRules).toEqual([]);
    expect(userData(synthesized.production.standby)).not.toContain('license_path');
    expect(one(synthesized.production.standby, 'AWS::AutoScaling::AutoScalingGroup').Properties!.MinSize).toBe('0');
  });
});

describe('compliance', () => {
  it.each([
    ['AwsSolutions', () => new AwsSolutionsChecks(app)],
    ['PCI DSS 3.2.1', () => new PCIDSS321Checks(app)],
    ['NIST 800-53 rev5', () => new NIST80053R5Checks(app)],
  ])('leaves no unacknowledged %s finding in the Vault stacks', (_name, pack) => {
    for (const target of [app, entApp]) {
      const violations = (pack() as any).validateScope(target).violations as any[];
      const ours = violations.flatMap((v) => (v.violatingResources ?? []).map((r: any) => `${v.ruleName} ${r.constructPath}`))
        .filter((line: string) => /\/Vault(Keys|Standby)?\//.test(line));
      expect(ours).toEqual([]);
    }
  });
});
