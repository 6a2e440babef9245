/**
 * The reachability model on this repository's own synthesized output (one synth for the file,
 * the way `npm run diff` synthesizes a tree): both environments pass the spec's expectations, the
 * paths the review found broken are open, and the model fails where it should — a fixture change
 * to a security group policy, an ACL entry, a route or a NetworkPolicy closes the named flow at
 * that layer, and an ingress from anywhere into the restricted zone is reported as an opening.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ENVIRONMENT_NAMES, loadPlatformSpec } from '../../lib/spec';
import type { EnvironmentName } from '../../lib/spec';
import type { SynthOutput } from '../../scripts/review/assembly';
import { synthTree } from '../../scripts/review/synth-trees';
import type { CfnStack } from '../../scripts/reachability/cfn';
import { checkModel, environmentModel } from '../../scripts/reachability/check';
import type { EnvironmentReport, RequiredResult } from '../../scripts/reachability/check';
import type { ModelInput } from '../../scripts/reachability/model';
import { blockedBy } from '../../scripts/reachability/render';

const ROOT = path.join(__dirname, '..', '..');
const spec = loadPlatformSpec();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'reachability-test-'));
let outputs: SynthOutput;

beforeAll(async () => {
  outputs = await synthTree(ROOT, path.join(work, 'out'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const check = (environment: EnvironmentName, edit?: ModelInput['edit']) =>
  checkModel(spec, environmentModel(spec, { cdkOut: outputs.cdkOut, dist: outputs.dist, environment, edit }));

const notOpen = (r: EnvironmentReport) => r.required.filter((f) => f.coverage !== 'all').map((f) => `${f.from.id} -> ${f.to.id} ${f.port.port}: ${blockedBy(f)}`);
const opened = (r: EnvironmentReport) => r.forbidden.filter((f) => f.coverage !== 'none').map((f) => `${f.from.id} -> ${f.to.id} ${f.port.port}: ${f.rule}`);

/** The one required flow from an endpoint matching `from` to one matching `to` on `port`. */
function flow(r: EnvironmentReport, from: RegExp, to: RegExp, port: number): RequiredResult {
  const found = r.required.filter((f) => from.test(f.from.id) && to.test(f.to.id) && f.port.port === port);
  if (found.length !== 1) throw new Error(`${found.length} required flows ${from} -> ${to}:${port}`);
  return found[0]!;
}

const GATEWAY = /^k8s:api-gateway\/api-gateway$/;
const ALB = /\/Edge\/Api\/Alb$/;

describe.each(ENVIRONMENT_NAMES)('%s, as synthesized', (environment) => {
  let report: EnvironmentReport;
  beforeAll(() => { report = check(environment); });

  it('opens every flow the spec requires and closes every flow the zone table forbids', () => {
    expect(report.missing).toEqual([]);
    expect(notOpen(report)).toEqual([]);
    expect(opened(report)).toEqual([]);
    // Not vacuous: the architecture's edges and the sweep's pairs are all there.
    expect(report.required.length).toBeGreaterThan(90);
    expect(report.forbidden.length).toBeGreaterThan(600);
    expect(report.failures).toBe(0);
  });

  it('reaches the gateway from the ALB and the VPN through the DMZ group its SecurityGroupPolicy gives its pods', () => {
    const gateway = spec.services.find((s) => s.name === 'api-gateway')!;
    for (const port of [gateway.port, gateway.healthPort]) expect(flow(report, ALB, GATEWAY, port).coverage).toBe('all');
    expect(flow(report, /\/Network\/Vpn\/Endpoint$/, GATEWAY, gateway.port).coverage).toBe('all');
    const pods = report.model.endpoint('k8s:api-gateway/api-gateway')!;
    expect(pods.groupsFrom).toBe('SecurityGroupPolicy api-gateway/api-gateway-dmz-zone');
    expect(pods.groups.map((g) => g.name)).toEqual([`${environment}/Network/Zones/Dmz`]);
    // The kubelet's probes and DNS still work for pods with a group of their own.
    expect(flow(report, /NodegroupNodes$/, GATEWAY, gateway.healthPort).coverage).toBe('all');
    expect(report.required.find((f) => GATEWAY.test(f.from.id) && f.to.id === 'k8s:kube-system/coredns' && f.port.protocol === 'udp')!.coverage).toBe('all');
  });

  it('reaches the EKS API over the VPN, and from the bastion', () => {
    expect(flow(report, /\/Network\/Vpn\/Endpoint$/, /\/Cluster\/Eks\/Cluster$/, 443).coverage).toBe('all');
    expect(flow(report, /\/Bastion\/Host$/, /\/Cluster\/Eks\/Cluster$/, 443).coverage).toBe('all');
  });

  it('reaches Vault\'s DR-region standby from every Vault client pod over the peering, after a failover', () => {
    const standby = /\/VaultStandby\/Cluster\/LoadBalancer$/;
    const clients = report.required.filter((f) => standby.test(f.to.id) && f.from.kind === 'pod');
    expect(clients.map((f) => f.from.id).sort()).toEqual([
      ...spec.services.map((s) => `k8s:${s.name}/${s.name}`), 'k8s:pgbouncer/pgbouncer', 'k8s:pgbouncer/pgbouncer-reader',
    ].sort());
    for (const f of clients) expect([f.from.id, f.coverage]).toEqual([f.from.id, 'all']);
    expect(flow(report, standby, /\/VaultStandby\/Cluster\/Nodes\/ASG$/, spec.vault.apiPort).coverage).toBe('all');
  });

  it('reaches the AWS APIs and HashiCorp\'s repository from the Vault nodes whose egress is HTTPS only', () => {
    const nodes = report.required.filter((f) => /\/Vault\/Cluster\/Nodes\/ASG$/.test(f.from.id) && f.port.port === 443);
    expect(nodes.map((f) => f.to.id).sort()).toEqual([...spec.vault.awsApis.map((s) => `aws-api:${s}@us-east-1`), 'internet'].sort());
    for (const f of nodes) expect(f.coverage).toBe('all');
  });
});

describe('the model fails where the output breaks a path (production, one change each)', () => {
  const env = 'production' as const;
  const resources = (stacks: CfnStack[], name: string) => stacks.find((s) => s.stackName === `platform-${env}-${name}`)!.resources as Record<string, any>;

  it('without the SecurityGroupPolicy the gateway\'s pods carry the nodes\' groups: the ALB\'s egress stops', () => {
    const r = check(env, { applied: (objects) => objects.splice(0, objects.length, ...objects.filter((o) => o.kind !== 'SecurityGroupPolicy')) });
    const f = flow(r, ALB, GATEWAY, 8000);
    expect(f.coverage).toBe('none');
    expect(f.blocked).toMatchObject({ layer: 'security-group-egress', resource: `${env}/Network/Zones/LoadBalancer` });
    expect(r.failures).toBeGreaterThan(0);
  });

  it('an explicit network ACL on the restricted subnets is evaluated entry by entry: without its inbound entry PgBouncer cannot reach PostgreSQL', () => {
    const withAcl = (dropInbound: boolean) => (stacks: CfnStack[]) => {
      const network = resources(stacks, 'network');
      const vpc = Object.keys(network).find((k) => network[k].Type === 'AWS::EC2::VPC')!;
      const restricted = Object.keys(network).filter((k) => network[k].Type === 'AWS::EC2::Subnet'
        && network[k].Properties.Tags.some((t: any) => t.Key === 'aws-cdk:subnet-name' && t.Value === 'restricted'));
      const cidr = spec.environments[env].network.vpcCidr;
      network.TestAcl = { Type: 'AWS::EC2::NetworkAcl', Properties: { VpcId: { Ref: vpc } } };
      if (!dropInbound) {
        network.TestAclInPostgres = { Type: 'AWS::EC2::NetworkAclEntry', Properties: { NetworkAclId: { Ref: 'TestAcl' }, RuleNumber: 100, Protocol: 6, RuleAction: 'allow', Egress: false, CidrBlock: cidr, PortRange: { From: 5432, To: 5432 } } };
      }
      network.TestAclOutReplies = { Type: 'AWS::EC2::NetworkAclEntry', Properties: { NetworkAclId: { Ref: 'TestAcl' }, RuleNumber: 100, Protocol: 6, RuleAction: 'allow', Egress: true, CidrBlock: cidr, PortRange: { From: 1024, To: 65535 } } };
      restricted.forEach((subnet, i) => {
        network[`TestAclAssociation${i}`] = { Type: 'AWS::EC2::SubnetNetworkAclAssociation', Properties: { SubnetId: { Ref: subnet }, NetworkAclId: { Ref: 'TestAcl' } } };
      });
    };
    const pgbouncerToWriter = (r: EnvironmentReport) => flow(r, /^k8s:pgbouncer\/pgbouncer$/, /\/Database\/Postgres\/Primary$/, 5432);
    expect(pgbouncerToWriter(check(env, { templates: withAcl(false) })).coverage).toBe('all');
    const closed = pgbouncerToWriter(check(env, { templates: withAcl(true) }));
    expect(closed.coverage).toBe('none');
    expect(closed.blocked).toMatchObject({ layer: 'network-acl', resource: `${env}/Network/TestAcl` });
    expect(closed.blocked!.detail).toContain('request entering the destination subnet: inbound 10.10.0.0/19 tcp/5432 stopped by the final * rule (deny)');
  });

  it('without the route to the peering in one private subnet, that subnet\'s pods lose the Vault standby', () => {
    const r = check(env, {
      templates: (stacks) => {
        const vault = resources(stacks, 'vault');
        const routes = Object.keys(vault).filter((k) => vault[k].Type === 'AWS::EC2::Route').sort();
        expect(routes).toHaveLength(3);
        delete vault[routes[0]!];
      },
    });
    const f = flow(r, /^k8s:order-service\/order-service$/, /\/VaultStandby\/Cluster\/LoadBalancer$/, spec.vault.apiPort);
    // One AZ's subnet of three: partly open, closed at that subnet's route table.
    expect(f.coverage).toBe('some');
    expect(f.blocked).toMatchObject({ layer: 'route', resource: `${env}/Network/Network/Vpc/privateSubnet1/RouteTable` });
    expect(f.blocked!.detail).toContain('not to a peering with');
  });

  it('without order-service\'s ingress policy its callers are stopped by the NetworkPolicies (default deny)', () => {
    const r = check(env, { manifests: (objects) => objects.splice(objects.findIndex((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'order-service-ingress'), 1) });
    const f = flow(r, /^k8s:payment-service\/payment-service$/, /^k8s:order-service\/order-service$/, 8004);
    expect(f.coverage).toBe('none');
    expect(f.blocked).toMatchObject({ layer: 'network-policy-ingress' });
    expect(f.blocked!.resource).toBe('NetworkPolicies of order-service/order-service (ingress): default-deny');
  });

  it('an ingress from 0.0.0.0/0 into the restricted zone is a forbidden opening: anything with open egress now reaches the data', () => {
    const r = check(env, {
      templates: (stacks) => {
        const network = resources(stacks, 'network');
        const restricted = Object.keys(network).find((k) => network[k].Type === 'AWS::EC2::SecurityGroup' && k.startsWith('ZonesRestricted'))!;
        network.AnywhereToPostgres = { Type: 'AWS::EC2::SecurityGroupIngress', Properties: { GroupId: { 'Fn::GetAtt': [restricted, 'GroupId'] }, IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, CidrIp: '0.0.0.0/0' } };
      },
    });
    const openings = opened(r);
    // The functions on the EKS cluster group (all egress) and a Lambda with all egress, into PostgreSQL.
    expect(openings).toEqual(expect.arrayContaining([
      `${env}/Cluster/Eks/Cluster/KubectlProvider/Handler -> ${env}/Database/Postgres/Primary 5432: the restricted zone admits only the bastion and the workloads that own the store`,
      `${env}/Cluster/Eks/Cluster -> ${env}/Database/Postgres/Primary 5432: the restricted zone admits only the bastion and the workloads that own the store`,
    ]));
    expect(openings.every((o) => /Database\/Postgres/.test(o))).toBe(true);
    expect(r.failures).toBe(openings.length);
  });
});

describe('npm run reachability', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(ROOT, 'scripts', 'reachability', 'main.ts'), ...args], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' },
  });

  it('prints the matrix of both environments and exits 0 on this repository\'s output', () => {
    const run = cli(['--from', path.dirname(outputs.cdkOut), '--all']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    for (const env of ENVIRONMENT_NAMES) expect(run.stdout).toContain(`== ${env} ==`);
    expect(run.stdout).toMatch(/SOURCE\s+DESTINATION\s+PORT\s+EXPECT\s+RESULT\s+FIRST LAYER THAT BLOCKS \/ WHY/);
    expect(run.stdout).toMatch(/ALB Edge\/Api\/Alb\s+pods api-gateway\/api-gateway\s+tcp\/8000\s+open\s+open\s+edge: ALB -> api-gateway/);
    expect(run.stdout).toMatch(/the internet\s+RDS writer Database\/Postgres\/Primary\s+tcp\/5432\s+closed\s+closed\s+route: RDS writer .*has no public address/);
  });

  it('exits 1 and names the layer when a required flow is closed; 2 on a bad argument', () => {
    // The same output with one NetworkPolicy gone from dist/.
    const copy = path.join(work, 'broken');
    fs.mkdirSync(copy);
    fs.symlinkSync(outputs.cdkOut, path.join(copy, 'cdk.out'));
    fs.cpSync(outputs.dist!, path.join(copy, 'dist'), { recursive: true });
    const file = path.join(copy, 'dist', 'production', 'order-service.k8s.yaml');
    const docs = fs.readFileSync(file, 'utf8').split(/^---$/m);
    fs.writeFileSync(file, docs.filter((d) => !/name: order-service-ingress/.test(d)).join('---'));
    const run = cli(['--from', copy, '--env', 'production']);
    expect(run.status).toBe(1);
    expect(run.stdout).not.toContain('== staging ==');
    expect(run.stdout).toMatch(/!!\s+pods payment-service\/payment-service\s+pods order-service\/order-service\s+tcp\/8004\s+open\s+closed\s+network-policy-ingress: NetworkPolicies of order-service\/order-service \(ingress\): default-deny/);
    expect(run.stderr).toContain('flow(s) not as the spec requires');
    const bad = cli(['--env', 'qa', '--from', copy]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--env qa: not an environment of the spec');
  });
});
