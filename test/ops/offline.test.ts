/**
 * `--offline`: every ops command prints its dry run's plan from a synthesized cloud assembly and
 * the spec, with no AWS credentials at all (every AWS_* variable unset, instance metadata off: an
 * SDK call would fail the command). One synth of this tree for the file; the expected names,
 * regions and values come from the spec and from the templates read directly, never literals.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { durationSeconds, ENVIRONMENT_NAMES, loadPlatformSpec, resourceNames, restoredDbInstanceName } from '../../lib/spec';
import type { EnvironmentName } from '../../lib/spec';
import { vaultNames } from '../../lib/spec/vault-names';
import { COMMANDS } from '../../scripts/ops/commands';
import { runOps } from '../../scripts/ops/main';
import { OFFLINE_BANNER } from '../../scripts/ops/offline-plan';
import type { OfflinePlan } from '../../scripts/ops/offline-plan';
import { readAssemblyStacks } from '../../scripts/review/assembly';
import type { AssemblyStack } from '../../scripts/review/assembly';
import { synthForThisFile } from '../helpers/synth';

const ROOT = path.join(__dirname, '..', '..');
const spec = loadPlatformSpec();
const synthesized = synthForThisFile();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ops-offline-test-'));
let cdkOut: string;
let stacks: AssemblyStack[];
const savedEnv: Record<string, string | undefined> = {};

/** The environment without any AWS configuration: no credentials, no profile, no endpoint, no IMDS. */
function withoutAws(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith('AWS_')));
  return { ...clean, AWS_EC2_METADATA_DISABLED: 'true' };
}

beforeAll(() => {
  cdkOut = synthesized();
  stacks = readAssemblyStacks(cdkOut);
  for (const key of Object.keys(process.env).filter((k) => k.startsWith('AWS_'))) {
    savedEnv[key] = process.env[key];
    delete process.env[key];
  }
  savedEnv.AWS_EC2_METADATA_DISABLED = process.env.AWS_EC2_METADATA_DISABLED;
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
});
afterAll(() => {
  for (const [key, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  fs.rmSync(work, { recursive: true, force: true });
});

async function ops(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runOps(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
  return { code, stdout: out.join('\n'), stderr: err.join('\n'), err };
}

/** A command's offline plan as JSON; fails the test unless it exits 0 with nothing on stderr. */
async function offlinePlan(...argv: string[]): Promise<OfflinePlan> {
  const r = await ops(...argv, '--offline', '--cdk-out', cdkOut, '--json');
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(r.stdout) as OfflinePlan;
}

function expectOneLineError(result: Awaited<ReturnType<typeof ops>>, pattern: RegExp) {
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.err).toHaveLength(1);
  expect(result.stderr).not.toContain('\n');
  expect(result.stderr).toMatch(pattern);
}

/** The one resource of the environment's templates with `property` = `value`, with its stack's account and region. */
function templateResource(environment: string, type: string, property: string, value: string) {
  const found = stacks.filter((s) => s.environment === environment).flatMap((s) => Object.entries(s.template.Resources ?? {})
    .filter(([, r]) => r.Type === type && (r.Properties as Record<string, unknown> | undefined)?.[property] === value)
    .map(([logicalId, r]) => {
      const [, account, region] = /^aws:\/\/([^/]+)\/(.+)$/.exec(s.target)!;
      return { logicalId, stack: s.stackName, account, region, properties: r.Properties as Record<string, unknown> };
    }));
  expect(found).toHaveLength(1);
  return found[0];
}

/** Every `<unknown:name>` a plan's steps use is listed among its unknowns. */
function expectPlaceholdersListed(plan: OfflinePlan) {
  const used = [...JSON.stringify(plan.steps).matchAll(/<unknown:([A-Za-z]+)>/g)].map((m) => m[1]);
  expect(plan.unknowns.map((u) => u.name)).toEqual(expect.arrayContaining([...new Set(used)]));
  for (const u of plan.unknowns) expect(u.what).not.toBe('');
}

const calls = (plan: OfflinePlan) => plan.steps.map((s) => [s.kind, s.region, s.call, s.target]);

describe('every ops command', () => {
  it('accepts --offline', () => {
    expect(COMMANDS.map((c) => typeof c.offline)).toEqual(COMMANDS.map(() => 'function'));
  });
});

describe.each(ENVIRONMENT_NAMES)('%s, offline', (environment: EnvironmentName) => {
  const env = spec.environments[environment];
  const names = resourceNames(spec, environment);

  it('promote-replica: the promotion of each replica the spec names, in the templates\' region, with the template\'s retention', async () => {
    const writer = templateResource(environment, 'AWS::RDS::DBInstance', 'DBInstanceIdentifier', names.dbInstance);
    expect(writer.region).toBe(env.region);
    expect(names.dbReplicas).toHaveLength(env.database.readReplicas);
    for (const replica of names.dbReplicas) {
      expect(templateResource(environment, 'AWS::RDS::DBInstance', 'DBInstanceIdentifier', replica).region).toBe(writer.region);
      const plan = await offlinePlan('promote-replica', environment, replica);
      expect(plan).toMatchObject({ banner: OFFLINE_BANNER, command: 'promote-replica', environment });
      expect(calls(plan)).toEqual([
        ['read', writer.region, 'rds:DescribeDBInstances', names.dbInstance],
        ['read', writer.region, 'rds:DescribeDBInstances', replica],
        ['change', writer.region, 'rds:PromoteReadReplica', replica],
        ['change', writer.region, 'rds:ModifyDBInstance', replica],
      ]);
      expect(plan.steps[2].params).toEqual({ DBInstanceIdentifier: replica, BackupRetentionPeriod: writer.properties.BackupRetentionPeriod });
      expect(plan.steps[3].params).toEqual({ DBInstanceIdentifier: replica, DeletionProtection: true, ApplyImmediately: true });
      expect(plan.unknowns.map((u) => u.name)).toEqual(expect.arrayContaining(['replicaStatus', 'replicaSource', 'replicaLag']));
      expect(plan.resources.map((r) => r.name)).toEqual([names.dbInstance, replica]);
      expectPlaceholdersListed(plan);
    }
  });

  it('restore: a point-in-time restore placed like the template\'s writer, the names CloudFormation assigns as unknowns', async () => {
    const writer = templateResource(environment, 'AWS::RDS::DBInstance', 'DBInstanceIdentifier', names.dbInstance);
    const to = '2026-11-01T12:30:00Z';
    const target = restoredDbInstanceName(names, new Date(to));
    const plan = await offlinePlan('restore', environment, '--to', to);
    expect(calls(plan)).toEqual([
      ['read', writer.region, 'rds:DescribeDBInstances', names.dbInstance],
      ['read', writer.region, 'rds:DescribeDBInstanceAutomatedBackups', names.dbInstance],
      ['read', writer.region, 'rds:DescribeDBInstances', target],
      ['change', writer.region, 'rds:RestoreDBInstanceToPointInTime', target],
    ]);
    expect(plan.steps[3].params).toMatchObject({
      SourceDBInstanceIdentifier: names.dbInstance,
      TargetDBInstanceIdentifier: target,
      RestoreTime: new Date(to).toISOString(),
      DBSubnetGroupName: '<unknown:dbSubnetGroupName>',
      DBParameterGroupName: '<unknown:dbParameterGroupName>',
      VpcSecurityGroupIds: ['<unknown:writerSecurityGroupIds>'],
      DBInstanceClass: writer.properties.DBInstanceClass,
      MultiAZ: writer.properties.MultiAZ,
      PubliclyAccessible: false,
      DeletionProtection: true,
    });
    // Not vacuous: the template really leaves these names to CloudFormation.
    expect(writer.properties.DBSubnetGroupName).toEqual({ Ref: expect.any(String) });
    expect(plan.unknowns.map((u) => u.name)).toEqual(expect.arrayContaining(['restoreWindow', 'targetExists', 'dbSubnetGroupName', 'kmsKeyArn']));
    expectPlaceholdersListed(plan);
  });

  it('restore --to latest: the restore time and the target name are unknowns', async () => {
    const plan = await offlinePlan('restore', environment, '--to', 'latest');
    const restore = plan.steps.find((s) => s.call === 'rds:RestoreDBInstanceToPointInTime')!;
    expect(restore.params).toMatchObject({ UseLatestRestorableTime: true, TargetDBInstanceIdentifier: '<unknown:restoreTarget>' });
    expect(restore.params).not.toHaveProperty('RestoreTime');
    expect(plan.unknowns.map((u) => u.name)).toEqual(expect.arrayContaining(['latestRestorableTime', 'restoreTarget']));
    expectPlaceholdersListed(plan);
  });

  it('restore --from dr: one StartRestoreJob in the DR region from the DR vault of the templates, the recovery point unknown', async () => {
    const vault = templateResource(environment, 'AWS::Backup::BackupVault', 'BackupVaultName', names.drBackupVault);
    expect(vault.region).toBe(spec.drRegion.name);
    const plan = await offlinePlan('restore', environment, '--to', 'latest', '--from', 'dr', '--subnet-group', 'dr-db', '--security-group', 'sg-0123456789abcdef0');
    expect(plan.steps.map((s) => s.region)).toEqual(plan.steps.map(() => vault.region));
    expect(plan.steps.filter((s) => s.kind === 'change').map((s) => s.call)).toEqual(['backup:StartRestoreJob']);
    expect(plan.steps[0]).toMatchObject({ call: 'backup:ListRecoveryPointsByBackupVault', target: names.drBackupVault });
    const start = plan.steps.at(-1)!;
    expect(start.params).toMatchObject({
      RecoveryPointArn: '<unknown:recoveryPointArn>',
      ResourceType: 'RDS',
      IamRoleArn: `arn:aws:iam::${vault.account}:role/service-role/AWSBackupDefaultServiceRole`,
      Metadata: { DBInstanceIdentifier: '<unknown:restoreTarget>', DBSubnetGroupName: 'dr-db', VpcSecurityGroupIds: '["sg-0123456789abcdef0"]', MultiAZ: 'true' },
    });
    expect(plan.unknowns.map((u) => u.name)).toEqual(expect.arrayContaining(['recoveryPointArn', 'restoreMetadata', 'restoreTarget', 'drVaultKeyArn']));
    expectPlaceholdersListed(plan);
  });

  it('vault-failover: the failover\'s calls on the spec\'s names, in the regions the templates deploy them to', async () => {
    const vault = vaultNames(spec, environment);
    const primary = templateResource(environment, 'AWS::AutoScaling::AutoScalingGroup', 'AutoScalingGroupName', vault.primaryAutoScalingGroup);
    const standby = templateResource(environment, 'AWS::AutoScaling::AutoScalingGroup', 'AutoScalingGroupName', vault.standbyAutoScalingGroup);
    const address = templateResource(environment, 'AWS::SSM::Parameter', 'Name', vault.standbyAddressParameter);
    expect([primary.region, standby.region, address.region]).toEqual([env.region, spec.drRegion.name, spec.drRegion.name]);
    const plan = await offlinePlan('vault-failover', environment);
    expect(spec.vault.enterpriseReplication).toBe(false); // the open-source order below
    const table = vault.table;
    expect(calls(plan)).toEqual([
      ['read', primary.region, 'autoscaling:DescribeAutoScalingGroups', vault.primaryAutoScalingGroup],
      ['read', standby.region, 'dynamodb:DescribeTable', table],
      ['read', standby.region, 'autoscaling:DescribeAutoScalingGroups', vault.standbyAutoScalingGroup],
      ['read', address.region, 'ssm:GetParameter', vault.standbyAddressParameter],
      ['read', 'global', 'route53:ListHostedZonesByName', vault.privateZone],
      ['read', 'global', 'route53:ListResourceRecordSets', vault.dnsName],
      ['change', primary.region, 'autoscaling:SuspendProcesses', vault.primaryAutoScalingGroup],
      ['change', primary.region, 'autoscaling:UpdateAutoScalingGroup', vault.primaryAutoScalingGroup],
      ['change', primary.region, 'autoscaling:DescribeAutoScalingGroups', vault.primaryAutoScalingGroup],
      ['change', standby.region, 'autoscaling:UpdateAutoScalingGroup', vault.standbyAutoScalingGroup],
      ['change', standby.region, 'autoscaling:DescribeAutoScalingGroups', vault.standbyAutoScalingGroup],
      ['change', 'global', 'route53:ChangeResourceRecordSets', vault.dnsName],
      ['change', standby.region, 'ssm:PutParameter', vault.addressParameter],
      ['change', primary.region, 'ssm:PutParameter', vault.addressParameter],
    ]);
    const nodes = spec.vault.nodes;
    expect(plan.steps[9].params).toEqual({ MinSize: nodes, MaxSize: nodes, DesiredCapacity: nodes });
    // The standby's address as its template builds it, the load balancer's DNS name unknown.
    const expectedAddress = `https://<unknown:standbyLoadBalancerDnsName>:${spec.vault.apiPort}`;
    expect(plan.steps[11].params).toEqual({ Action: 'UPSERT', Type: 'CNAME', Value: '<unknown:standbyLoadBalancerDnsName>', TTL: spec.vault.dnsTtlSeconds });
    expect(plan.steps[12].params).toMatchObject({ Value: expectedAddress });
    expect(plan.steps[13].params).toMatchObject({ Value: expectedAddress });
    expect(plan.unknowns.map((u) => u.name)).toEqual(expect.arrayContaining(['standbyLoadBalancerDnsName', 'primaryInstances', 'tableReplicaStatus', 'hostedZoneId']));
    expect(plan.notes.join('\n')).toContain(`${durationSeconds(spec.disasterRecovery.secrets.rto)} s`);
    expectPlaceholdersListed(plan);
  });

  it('endpoints and dr-status: the reads they make, on the templates\' resources, the answers unknown', async () => {
    const writer = templateResource(environment, 'AWS::RDS::DBInstance', 'DBInstanceIdentifier', names.dbInstance);
    const kafka = templateResource(environment, 'AWS::MSK::Cluster', 'ClusterName', names.mskCluster);
    const cache = templateResource(environment, 'AWS::ElastiCache::ReplicationGroup', 'ReplicationGroupId', names.cacheReplicationGroup);
    const endpoints = await offlinePlan('endpoints', environment);
    expect(calls(endpoints)).toEqual([
      ['read', writer.region, 'rds:DescribeDBInstances', names.dbInstance],
      ...names.dbReplicas.map((id) => ['read', writer.region, 'rds:DescribeDBInstances', id]),
      ['read', kafka.region, 'kafka:ListClustersV2', names.mskCluster],
      ['read', kafka.region, 'kafka:GetBootstrapBrokers', '<unknown:kafkaClusterArn>'],
      ['read', cache.region, 'elasticache:DescribeReplicationGroups', names.cacheReplicationGroup],
    ]);
    expect(endpoints.unknowns.map((u) => u.name)).toEqual(expect.arrayContaining(['writerEndpoint', 'saslScramBootstrapBrokers', 'cacheEndpoints']));
    expectPlaceholdersListed(endpoints);

    const vault = templateResource(environment, 'AWS::Backup::BackupVault', 'BackupVaultName', names.backupVault);
    const status = await offlinePlan('dr-status', environment);
    expect(status.steps.every((s) => s.kind === 'read')).toBe(true);
    expect(status.steps.find((s) => s.call === 'backup:ListRecoveryPointsByBackupVault')).toMatchObject({
      region: vault.region, target: names.backupVault, params: { ByResourceArn: `arn:aws:rds:${writer.region}:${writer.account}:db:${names.dbInstance}` },
    });
    expect(status.steps.some((s) => s.call === 'rds:DescribeDBSnapshots')).toBe(Number(writer.properties.BackupRetentionPeriod) > 0);
    expect(status.unknowns.map((u) => u.name)).toEqual(expect.arrayContaining(['recoveryPointAge', 'replicaLag', 'kafkaState']));
  });
});

describe('offline text and refusals', () => {
  it('says it is an offline plan, not executed, and lists the unknowns', async () => {
    const r = await ops('promote-replica', 'staging', resourceNames(spec, 'staging').dbReplicas[0], '--offline', '--cdk-out', cdkOut);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^OFFLINE PLAN, NOT EXECUTED: promote-replica staging: /);
    expect(r.stdout).toMatch(/^unknown without AWS:\n {2}replicaStatus /m);
    expect(r.stdout).toMatch(/\[change\] \S+ rds:PromoteReadReplica /);
  });

  it.each([
    ['promote-replica', 'staging', 'platform-staging-db-replica-1'],
    ['restore', 'staging', '--to', 'latest'],
    ['vault-failover', 'production'],
  ])('refuses --offline with --execute in one line (%s)', async (...argv) => {
    expectOneLineError(await ops(...argv, '--offline', '--execute', '--cdk-out', cdkOut), /^ops \S+: --offline only plans .*drop --execute/);
  });

  it('tells to run npm run synth when there is no cloud assembly', async () => {
    const empty = fs.mkdtempSync(path.join(work, 'empty-'));
    expectOneLineError(await ops('vault-failover', 'staging', '--offline', '--cdk-out', empty), /^ops vault-failover: no synthesized cloud assembly in .*: run `npm run synth` first/);
  });

  it('refuses --cdk-out without --offline, and what the templates do not hold', async () => {
    expectOneLineError(await ops('dr-status', 'staging', '--cdk-out', cdkOut), /^ops dr-status: --cdk-out only with --offline$/);
    expectOneLineError(await ops('promote-replica', 'staging', 'platform-staging-db', '--offline', '--cdk-out', cdkOut),
      /^ops promote-replica: unknown replica "platform-staging-db": the templates hold no read replica .*\(replicas of staging: /);
    expectOneLineError(await ops('restore', 'staging', '--to', 'latest', '--from', 'dr', '--offline', '--cdk-out', cdkOut), /^ops restore: --from dr needs --subnet-group/);
  });

  it('`npm run ops -- vault-failover staging --offline` plans in a process without AWS variables', async () => {
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn('npm', ['run', '--silent', 'ops', '--', 'vault-failover', 'staging', '--offline', '--cdk-out', cdkOut], {
        cwd: ROOT, env: withoutAws(process.env), stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
      child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^OFFLINE PLAN, NOT EXECUTED: vault-failover staging/);
    expect(r.stdout).toContain(`route53:ChangeResourceRecordSets ${vaultNames(spec, 'staging').dnsName}`);
  }, 60_000);
});
