/**
 * ops vault-failover against moto (server mode), through the real SDK.
 *
 * moto gaps (5.2.5), and how this file bridges them:
 * - DynamoDB global tables: moto has no replicas (CreateTable/UpdateTable ignore them and
 *   DescribeTable returns no `Replicas`). The table is created directly in the DR region, and the
 *   "happy" tests add the `Replicas` entry real DynamoDB returns through an SDK middleware on
 *   DescribeTable; the unshimmed client shows the command rejecting a non-global table.
 * - Instances reach InService (and terminate) at once, so the waits pass on their first poll;
 *   the RTO-bounded timeout is not exercised.
 * - SuspendProcesses is accepted; moto does not enforce it on later launches.
 * The private hosted zone and its record are real Route 53 API calls on moto.
 */
import {
  AutoScalingClient, CreateAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateLaunchTemplateCommand, CreateVpcCommand, DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import type { VPCRegion } from '@aws-sdk/client-route-53';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { loadPlatformSpec } from '../../lib/spec';
import { vaultNames } from '../../lib/spec/vault-names';
import { runOps } from '../../scripts/ops/main';
import { createVaultFailover } from '../../scripts/ops/commands/vault-failover';
import type { FailoverResult, VaultFailoverClients } from '../../scripts/ops/commands/vault-failover';
import { motoForThisFile } from '../helpers/moto';
import { synthForThisFile } from '../helpers/synth';

const spec = loadPlatformSpec();
const names = vaultNames(spec, 'staging');
const { primaryRegion, standbyRegion } = names;
const STANDBY_ADDRESS = 'https://platform-staging-vault-dr-0123.elb.us-west-2.amazonaws.com:8200';
const STANDBY_HOST = 'platform-staging-vault-dr-0123.elb.us-west-2.amazonaws.com';
const PRIMARY_HOST = 'platform-staging-vault-4567.elb.us-east-1.amazonaws.com';

const moto = motoForThisFile();
const cdkOut = synthForThisFile();

/** Clients whose DynamoDB answers DescribeTable as a global table's replica would (moto gap). */
const globalTableClients: VaultFailoverClients = {
  autoScaling: (region) => new AutoScalingClient({ region }),
  ssm: (region) => new SSMClient({ region }),
  route53: () => new Route53Client({ region: 'us-east-1' }),
  dynamoDb: (region) => {
    const client = new DynamoDBClient({ region });
    client.middlewareStack.add((next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'DescribeTableCommand') {
        const table = (result.output as { Table?: { Replicas?: unknown[] } } | undefined)?.Table;
        if (table) table.Replicas = [{ RegionName: primaryRegion, ReplicaStatus: 'ACTIVE' }, { RegionName: standbyRegion, ReplicaStatus: 'ACTIVE' }];
      }
      return result;
    }, { step: 'initialize', name: 'motoGlobalTableShim' });
    return client;
  },
};
const failover = createVaultFailover({ clients: globalTableClients, pollSeconds: 0 });
const context = () => ({ spec, log: () => undefined });

async function createGroup(region: string, name: string, size: number) {
  const ec2 = new EC2Client({ region });
  const image = (await ec2.send(new DescribeImagesCommand({}))).Images![0].ImageId!;
  await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: `${name}-lt`, LaunchTemplateData: { ImageId: image, InstanceType: 't3.micro' } }));
  await new AutoScalingClient({ region }).send(new CreateAutoScalingGroupCommand({
    AutoScalingGroupName: name, LaunchTemplate: { LaunchTemplateName: `${name}-lt` },
    MinSize: size, MaxSize: spec.vault.nodes, DesiredCapacity: size, AvailabilityZones: [`${region}a`],
  }));
}
async function group(region: string, name: string) {
  return (await new AutoScalingClient({ region }).send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))).AutoScalingGroups![0];
}

/** What the Vault stack creates: the private zone on the environment's VPC, the name on the primary's NLB. */
async function privateZone(): Promise<string> {
  const vpc = (await new EC2Client({ region: primaryRegion }).send(new CreateVpcCommand({ CidrBlock: spec.environments.staging.network.vpcCidr }))).Vpc!.VpcId!;
  const route53 = new Route53Client({ region: 'us-east-1' });
  const zone = (await route53.send(new CreateHostedZoneCommand({
    Name: names.privateZone, CallerReference: `test-${Date.now()}`, VPC: { VPCId: vpc, VPCRegion: primaryRegion as VPCRegion }, HostedZoneConfig: { PrivateZone: true },
  }))).HostedZone!.Id!.replace('/hostedzone/', '');
  await route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zone, ChangeBatch: { Changes: [{
    Action: 'CREATE', ResourceRecordSet: { Name: names.dnsName, Type: 'CNAME', TTL: spec.vault.dnsTtlSeconds, ResourceRecords: [{ Value: PRIMARY_HOST }] },
  }] } }));
  return zone;
}
async function record(zone: string) {
  const sets = (await new Route53Client({ region: 'us-east-1' }).send(new ListResourceRecordSetsCommand({ HostedZoneId: zone }))).ResourceRecordSets!;
  const found = sets.find((r) => r.Name === `${names.dnsName}.` && r.Type === 'CNAME')!;
  return { value: found.ResourceRecords![0]!.Value, ttl: found.TTL };
}

let zoneId = '';
async function deployed(options: { table?: boolean; zone?: boolean } = {}) {
  await moto().reset();
  if (options.zone !== false) zoneId = await privateZone();
  await createGroup(primaryRegion, names.primaryAutoScalingGroup, spec.vault.nodes);
  await createGroup(standbyRegion, names.standbyAutoScalingGroup, 0);
  if (options.table !== false) {
    await new DynamoDBClient({ region: standbyRegion }).send(new CreateTableCommand({
      TableName: names.table, BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'Path', AttributeType: 'S' }, { AttributeName: 'Key', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'Path', KeyType: 'HASH' }, { AttributeName: 'Key', KeyType: 'RANGE' }],
    }));
  }
  await new SSMClient({ region: standbyRegion }).send(new PutParameterCommand({ Name: names.standbyAddressParameter, Value: STANDBY_ADDRESS, Type: 'String' }));
  await new SSMClient({ region: primaryRegion }).send(new PutParameterCommand({ Name: names.addressParameter, Value: 'https://primary:8200', Type: 'String' }));
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) } };
}

describe('vault-failover plan (default)', () => {
  let result: FailoverResult;
  beforeAll(async () => {
    await deployed();
    result = await failover.run({ positionals: ['staging'], values: {} }, context());
  });

  it('is the plan --offline prints from the synthesized templates: the same calls, regions, targets and parameters', async () => {
    const out: string[] = [];
    const code = await runOps(['vault-failover', 'staging', '--offline', '--cdk-out', cdkOut(), '--json'], { stdout: (t) => out.push(t), stderr: () => undefined });
    expect(code).toBe(0);
    const offline = JSON.parse(out.join('\n')) as { steps: { region: string; call: string; target: string; params?: Record<string, unknown> }[] };
    expect(offline.steps.map((s) => [s.region, s.call, s.target])).toEqual(result.steps.map((s) => [s.region, s.call, s.target]));
    // Parameters match but for the standby's address, which only the online run reads.
    const known = (params?: Record<string, unknown>) => JSON.stringify(params ?? {})
      .replaceAll(STANDBY_HOST, '<host>').replaceAll('<unknown:standbyLoadBalancerDnsName>', '<host>').replace(/"Value":"https:\/\/<host>:\d+"/g, '"Value":"<address>"');
    expect(offline.steps.map((s) => known(s.params))).toEqual(result.steps.map((s) => known(s.params)));
  });

  it('lists the API calls in the safe order: primary down, replica checked, standby up, address published', () => {
    expect(result.mode).toBe('plan');
    expect(result.steps.map((s) => [s.region, s.call, s.target, s.status])).toEqual([
      [primaryRegion, 'autoscaling:DescribeAutoScalingGroups', names.primaryAutoScalingGroup, 'checked'],
      [standbyRegion, 'dynamodb:DescribeTable', names.table, 'checked'],
      [standbyRegion, 'autoscaling:DescribeAutoScalingGroups', names.standbyAutoScalingGroup, 'checked'],
      [standbyRegion, 'ssm:GetParameter', names.standbyAddressParameter, 'checked'],
      ['global', 'route53:ListHostedZonesByName', names.privateZone, 'checked'],
      ['global', 'route53:ListResourceRecordSets', names.dnsName, 'checked'],
      [primaryRegion, 'autoscaling:SuspendProcesses', names.primaryAutoScalingGroup, 'planned'],
      [primaryRegion, 'autoscaling:UpdateAutoScalingGroup', names.primaryAutoScalingGroup, 'planned'],
      [primaryRegion, 'autoscaling:DescribeAutoScalingGroups', names.primaryAutoScalingGroup, 'planned'],
      [standbyRegion, 'autoscaling:UpdateAutoScalingGroup', names.standbyAutoScalingGroup, 'planned'],
      [standbyRegion, 'autoscaling:DescribeAutoScalingGroups', names.standbyAutoScalingGroup, 'planned'],
      ['global', 'route53:ChangeResourceRecordSets', names.dnsName, 'planned'],
      [standbyRegion, 'ssm:PutParameter', names.addressParameter, 'planned'],
      [primaryRegion, 'ssm:PutParameter', names.addressParameter, 'planned'],
    ]);
    expect(result.steps.map((s) => s.order)).toEqual(result.steps.map((_, i) => i + 1));
    expect(result.steps[7].params).toEqual({ MinSize: 0, DesiredCapacity: 0 });
    expect(result.steps[9].params).toEqual({ MinSize: 3, MaxSize: 3, DesiredCapacity: 3 });
    expect(result.steps[11].params).toEqual({ Action: 'UPSERT', Type: 'CNAME', Value: STANDBY_HOST, TTL: spec.vault.dnsTtlSeconds });
    expect(result.steps[12].params).toMatchObject({ Value: STANDBY_ADDRESS, Overwrite: true });
    expect(result.dns).toEqual({ name: names.dnsName, zoneId, target: PRIMARY_HOST });
    expect(result.primary.instances).toBe(spec.vault.nodes);
    expect(result.rtoSeconds).toBe(3600);
  });

  it('changes nothing', async () => {
    expect((await group(primaryRegion, names.primaryAutoScalingGroup)).Instances).toHaveLength(spec.vault.nodes);
    expect((await group(standbyRegion, names.standbyAutoScalingGroup)).DesiredCapacity).toBe(0);
    expect((await record(zoneId)).value).toBe(PRIMARY_HOST);
  });

  it('renders a numbered plan for humans', () => {
    const text = failover.render!(result);
    expect(text).toContain('nothing changed; re-run with --execute');
    expect(text).toMatch(/10\. \[planned\] us-west-2 autoscaling:UpdateAutoScalingGroup platform-staging-vault-standby/);
  });
});

describe('vault-failover --execute', () => {
  it('stops the primary, starts the standby on the replica and publishes its address', async () => {
    await deployed();
    const result = await failover.run({ positionals: ['staging'], values: { execute: true } }, context());
    expect(result.mode).toBe('execute');
    expect(result.steps.filter((s) => s.status === 'planned')).toEqual([]);
    const primary = await group(primaryRegion, names.primaryAutoScalingGroup);
    expect([primary.MinSize, primary.DesiredCapacity, primary.Instances?.length ?? 0]).toEqual([0, 0, 0]);
    expect(primary.SuspendedProcesses?.map((p) => p.ProcessName)).toEqual(['Launch']);
    const standby = await group(standbyRegion, names.standbyAutoScalingGroup);
    expect([standby.MinSize, standby.DesiredCapacity]).toEqual([3, 3]);
    expect(standby.Instances!.filter((i) => i.LifecycleState === 'InService')).toHaveLength(3);
    for (const region of [standbyRegion, primaryRegion]) {
      const value = (await new SSMClient({ region }).send(new GetParameterCommand({ Name: names.addressParameter }))).Parameter!.Value;
      expect(value).toBe(STANDBY_ADDRESS);
    }
  });

  it('moves the cluster\'s name of Vault (the ExternalName\'s target) to the standby\'s load balancer, after the standby is up', async () => {
    await deployed();
    const result = await failover.run({ positionals: ['staging'], values: { execute: true } }, context());
    expect(await record(zoneId)).toEqual({ value: STANDBY_HOST, ttl: spec.vault.dnsTtlSeconds });
    const order = (call: string) => result.steps.find((s) => s.call === call && s.status === 'done')!.order;
    const standbyUp = result.steps.filter((s) => s.call === 'autoscaling:DescribeAutoScalingGroups' && s.region === standbyRegion).at(-1)!.order;
    expect(order('route53:ChangeResourceRecordSets')).toBeGreaterThan(standbyUp);
  });
});

describe('vault-failover errors', () => {
  it('rejects an unknown environment with one line', async () => {
    const c = capture();
    expect(await runOps(['vault-failover', 'qa'], c.io)).toBe(2);
    expect(c.err).toEqual(['ops vault-failover: unknown environment "qa" (one of production, staging)']);
  });

  it('refuses when the standby table is missing in the DR region', async () => {
    await deployed({ table: false });
    await expect(failover.run({ positionals: ['staging'], values: {} }, context()))
      .rejects.toThrow(`standby table ${names.table} not found in ${standbyRegion}`);
    const c = capture();
    expect(await runOps(['vault-failover', 'staging', '--execute'], c.io)).toBe(2);
    expect(c.err[0]).toContain('standby table platform-staging-vault not found');
    expect((await group(primaryRegion, names.primaryAutoScalingGroup)).Instances).toHaveLength(spec.vault.nodes);
  });

  it('refuses when the private zone with the cluster\'s name of Vault is missing, before changing anything', async () => {
    await deployed({ zone: false });
    await expect(failover.run({ positionals: ['staging'], values: { execute: true } }, context()))
      .rejects.toThrow(`private hosted zone ${names.privateZone} not found`);
    expect((await group(primaryRegion, names.primaryAutoScalingGroup)).Instances).toHaveLength(spec.vault.nodes);
  });

  it('refuses a DR table that is not a replica of the primary region (real moto answer)', async () => {
    await deployed();
    const c = capture();
    expect(await runOps(['vault-failover', 'staging'], c.io)).toBe(2);
    expect(c.err[0]).toContain('is not a replica of us-east-1');
  });

  it('is registered in the ops CLI', async () => {
    const c = capture();
    expect(await runOps(['help'], c.io)).toBe(0);
    expect(c.out.join('\n')).toContain('vault-failover <env> [--execute] [--primary-unreachable]');
  });
});
