/**
 * `restore <env> --from dr`: the region-loss restore from the DR backup vault, run through
 * runOps with the real AWS SDK against moto's server on loopback. The primary region is left
 * empty on purpose: the writer is gone, and the command must not need it.
 *
 * The DR region (us-west-2) holds what an operator would have there: a VPC with a DB subnet
 * group and a security group, the DR vault's KMS key, and RDS snapshots standing for the vault's
 * copies (taken in us-west-2 from a stand-in instance that is then deleted: moto cannot copy a
 * snapshot across regions).
 *
 * Emulator gaps, served by the fixture in front of moto (test/helpers/aws-fixture.ts):
 *  - backup:ListRecoveryPointsByBackupVault — not implemented by moto 5.2.5 (vaults only);
 *    answers the points the test registered for the DR vault (filtered by resource type).
 *  - backup:GetRecoveryPointRestoreMetadata — not implemented by moto; answers the metadata the
 *    test registered with each point (shaped like AWS's for an RDS instance of the primary).
 *  - backup:StartRestoreJob — not implemented by moto; records the job (the assertions read
 *    `fixture.restoreJobs`) and restores the snapshot behind the recovery point with moto's
 *    RestoreDBInstanceFromDBSnapshot in us-west-2, using the metadata sent; the job is COMPLETED
 *    or FAILED with moto's error.
 *  - backup:DescribeRestoreJob — not implemented by moto; answers the recorded job.
 * Everything else (RDS DescribeDBInstances/DescribeDBSubnetGroups/DescribeDBParameterGroups, EC2
 * DescribeSecurityGroups, the restored instance) is moto's. moto answers DescribeDBParameterGroups
 * for an unknown name with an empty list where AWS raises DBParameterGroupNotFound; the command
 * treats both as "not found".
 */
import { CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateDBInstanceCommand, CreateDBParameterGroupCommand, CreateDBSnapshotCommand, CreateDBSubnetGroupCommand, DeleteDBInstanceCommand,
  DescribeDBInstancesCommand, RDSClient,
} from '@aws-sdk/client-rds';
import { durationSeconds, loadPlatformSpec, resourceNames } from '../../lib/spec';
import { formatAge } from '../../scripts/ops/data-tier';
import { runOps } from '../../scripts/ops/main';
import { startAwsFixture } from '../helpers/aws-fixture';
import type { AwsFixture, FixtureRecoveryPoint } from '../helpers/aws-fixture';
import { startMoto, useMotoEnv } from '../helpers/moto';
import type { Moto } from '../helpers/moto';

const spec = loadPlatformSpec();
const DR = spec.drRegion.name;
const names = resourceNames(spec, 'staging');
const ACCOUNT = '123456789012';
const RPO_SECONDS = durationSeconds(spec.disasterRecovery.database.rpo);
const writerArn = `arn:aws:rds:${spec.environments.staging.region}:${ACCOUNT}:db:${names.dbInstance}`;

let moto: Moto;
let fixture: AwsFixture;
let restoreEnv: () => void;
beforeAll(async () => {
  moto = await startMoto();
  fixture = await startAwsFixture(moto);
  restoreEnv = useMotoEnv({ ...moto, env: fixture.env });
});
afterAll(async () => {
  restoreEnv();
  await fixture.stop();
  await moto.stop();
});

const rds = () => new RDSClient({ region: DR });

async function ops(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runOps(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
  return { code, stdout: out.join('\n'), stderr: err.join('\n'), err };
}

function expectOneLineError(result: Awaited<ReturnType<typeof ops>>, pattern: RegExp) {
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.err).toHaveLength(1);
  expect(result.stderr).not.toContain('\n');
  expect(result.stderr).not.toMatch(/\s+at\s/);
  expect(result.stderr).toMatch(pattern);
}

/** What AWS Backup reports as restore metadata for the primary's writer: primary-region values. */
const SOURCE_METADATA = {
  DBInstanceIdentifier: names.dbInstance,
  AvailabilityZone: 'us-east-1a',
  DBSubnetGroupName: names.dbSubnetGroup,
  VpcSecurityGroupIds: '["sg-0aaaaaaaaaaaaaaaa"]',
  DBParameterGroupName: names.dbParameterGroup,
  OptionGroupName: 'default:postgres-17',
  KmsKeyId: `arn:aws:kms:us-east-1:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`,
  MultiAZ: 'false',
  DeletionProtection: 'false',
  Engine: 'postgres',
  DBInstanceClass: 'db.r6g.large',
  Port: String(spec.dataTier.postgres.port),
  EnableIAMDatabaseAuthentication: 'true',
  StorageType: 'gp3',
};

interface DrSite {
  subnetGroup: string;
  securityGroup: string;
  /** A security group of another VPC in the DR region. */
  foreignSecurityGroup: string;
  drKeyArn: string;
  snapshotArn(n: number): string;
}

/** The DR region as an operator would prepare it, plus `count` snapshots standing for vault copies. */
async function seedDrRegion(count: number): Promise<DrSite> {
  const ec2 = new EC2Client({ region: DR });
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.90.0.0/16' }))).Vpc!.VpcId!;
  const other = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.91.0.0/16' }))).Vpc!.VpcId!;
  const subnets = await Promise.all(spec.drRegion.availabilityZones.map((az, i) => ec2.send(new CreateSubnetCommand({
    VpcId: vpc, CidrBlock: `10.90.${i}.0/24`, AvailabilityZone: az,
  }))));
  const sg = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'dr-db', Description: 'postgres', VpcId: vpc }));
  const foreign = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'elsewhere', Description: 'other vpc', VpcId: other }));
  const subnetGroup = `${names.prefix}-db-dr`;
  await rds().send(new CreateDBSubnetGroupCommand({
    DBSubnetGroupName: subnetGroup, DBSubnetGroupDescription: 'DR restricted', SubnetIds: subnets.map((s) => s.Subnet!.SubnetId!),
  }));
  const key = await new KMSClient({ region: DR }).send(new CreateKeyCommand({ Description: `${names.drBackupVault} key` }));
  // The copies' content: snapshots of a stand-in instance, which is then deleted.
  await rds().send(new CreateDBInstanceCommand({
    DBInstanceIdentifier: 'copy-stand-in', Engine: 'postgres', DBInstanceClass: 'db.r6g.large', AllocatedStorage: 100,
    MasterUsername: 'platform', MasterUserPassword: 'not-a-real-password', StorageEncrypted: true, KmsKeyId: key.KeyMetadata!.Arn,
    DBSubnetGroupName: subnetGroup,
  }));
  const snapshotArns: string[] = [];
  for (let n = 1; n <= count; n += 1) {
    const snapshot = await rds().send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'copy-stand-in', DBSnapshotIdentifier: `awsbackup-copyjob-${n}` }));
    snapshotArns.push(snapshot.DBSnapshot!.DBSnapshotArn!);
  }
  await rds().send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: 'copy-stand-in', SkipFinalSnapshot: true }));
  return {
    subnetGroup, securityGroup: sg.GroupId!, foreignSecurityGroup: foreign.GroupId!, drKeyArn: key.KeyMetadata!.Arn!,
    snapshotArn: (n) => snapshotArns[n - 1],
  };
}

const minutes = (n: number) => n * 60_000;
const stamp = (d: Date) => d.toISOString().slice(0, 16).replace(/[-:T]/g, '');

describe('restore --from dr', () => {
  let site: DrSite;
  /** --to of most tests: an hour ago, so a point after it is still in the past. */
  let to: Date;
  let points: Record<'old' | 'expected' | 'afterTo' | 'otherDb' | 'prefixTwin' | 'partial', FixtureRecoveryPoint>;
  beforeEach(async () => {
    await moto.reset();
    fixture.reset();
    site = await seedDrRegion(6);
    to = new Date(Math.floor((Date.now() - minutes(60)) / 1000) * 1000);
    const point = (n: number, resourceArn: string, at: Date, status?: FixtureRecoveryPoint['status']): FixtureRecoveryPoint => ({
      resourceArn, creationDate: at, status, recoveryPointArn: site.snapshotArn(n), encryptionKeyArn: site.drKeyArn,
      restoreMetadata: SOURCE_METADATA,
    });
    points = {
      old: point(1, writerArn, new Date(to.getTime() - minutes(180))),
      expected: point(2, writerArn, new Date(to.getTime() - minutes(30))),
      afterTo: point(3, writerArn, new Date(to.getTime() + minutes(20))),
      // Newer than the expected point but of other databases: never chosen.
      otherDb: point(4, `arn:aws:rds:us-east-1:${ACCOUNT}:db:${resourceNames(spec, 'production').dbInstance}`, new Date(to.getTime() - minutes(5))),
      prefixTwin: point(5, `${writerArn}-pitr-202611250430`, new Date(to.getTime() - minutes(2))),
      // Not completed: never chosen.
      partial: point(6, writerArn, new Date(to.getTime() - minutes(10)), 'PARTIAL'),
    };
    fixture.setRecoveryPoints(names.drBackupVault, Object.values(points));
  });

  const drArgs = () => ['--from', 'dr', '--subnet-group', site.subnetGroup, '--security-group', site.securityGroup];

  it('plans the restore of the newest point of this database at or before --to, and sends nothing', async () => {
    const r = await ops('restore', 'staging', '--to', to.toISOString(), ...drArgs(), '--json');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    const created = points.expected.creationDate;
    const target = `${names.dbInstance}-dr-${stamp(created)}`;
    expect(result).toMatchObject({
      environment: 'staging', from: 'dr', mode: 'plan', region: DR, vault: names.drBackupVault, source: names.dbInstance,
      to: to.toISOString(), target,
      recoveryPoint: { arn: site.snapshotArn(2), resourceArn: writerArn, createdAt: created.toISOString(), beforeToSeconds: 30 * 60 },
      rpo: { rpo: spec.disasterRecovery.database.rpo, withinRpo: true },
      kmsKeyId: site.drKeyArn,
      iamRoleArn: `arn:aws:iam::${ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole`, iamRoleDefault: true,
      restoreJob: null,
    });
    expect(result.metadata).toEqual({
      Engine: 'postgres', DBInstanceClass: 'db.r6g.large', Port: String(spec.dataTier.postgres.port),
      EnableIAMDatabaseAuthentication: 'true', StorageType: 'gp3',
      DBInstanceIdentifier: target, DBSubnetGroupName: site.subnetGroup, VpcSecurityGroupIds: JSON.stringify([site.securityGroup]),
      MultiAZ: 'true', DeletionProtection: 'true', PubliclyAccessible: 'false',
    });
    expect(result.dropped.map((d: { key: string }) => d.key)).toEqual(['AvailabilityZone', 'DBParameterGroupName', 'OptionGroupName', 'KmsKeyId']);
    expect(result.plan).toEqual([{
      service: 'backup', action: 'StartRestoreJob',
      parameters: {
        RecoveryPointArn: site.snapshotArn(2), ResourceType: 'RDS', IamRoleArn: result.iamRoleArn, Metadata: result.metadata,
        IdempotencyToken: expect.stringMatching(/^[0-9a-f]{32}$/),
      },
    }]);
    expect(result.warnings).toEqual([expect.stringMatching(/^no --parameter-group: /)]);

    const text = await ops('restore', 'staging', '--to', to.toISOString(), ...drArgs());
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')[0]).toBe(
      `PLAN (dry run, nothing changed; re-run with --execute to act): restore ${names.dbInstance} from ${names.drBackupVault} (${DR}) as ${target}`);
    expect(text.stdout).toContain(`  created ${created.toISOString()} (`);
    expect(text.stdout).toMatch(new RegExp(`^ {2}created \\S+ \\((\\d+[dhms] ?)+ ago; 30m before --to ${to.toISOString()}; RPO ${formatAge(RPO_SECONDS)}: within\\)$`, 'm'));
    expect(text.stdout).toContain(`kms key ${site.drKeyArn} (the DR copy's key`);
    expect(text.stdout).toMatch(/^ {2}1\. backup:StartRestoreJob \{"RecoveryPointArn":/m);
    expect(text.stdout).toMatch(/^ {2}AvailabilityZone=us-east-1a: /m);

    expect(fixture.restoreJobs).toHaveLength(0);
    expect(fixture.served).not.toContain('backup:StartRestoreJob');
    expect(fixture.served).toContain('backup:GetRecoveryPointRestoreMetadata');
    await expect(rds().send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: target }))).rejects.toThrow(/not found/i);
  });

  it('takes the newest completed point of this database with --to latest, and reports its age against the RPO', async () => {
    const r = await ops('restore', 'staging', '--to', 'latest', ...drArgs(), '--json');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.recoveryPoint.arn).toBe(site.snapshotArn(3));
    expect(result.to).toBe('latest');
    expect(result.recoveryPoint.beforeToSeconds).toBe(result.recoveryPoint.ageSeconds);
    expect(result.rpo.withinRpo).toBe(true);
  });

  it('flags a point further from --to than the RPO, without refusing it', async () => {
    // A --to the RPO plus 30 minutes after the oldest point, before the others.
    const early = new Date(points.old.creationDate.getTime() + RPO_SECONDS * 1000 + minutes(30));
    expect(early.getTime()).toBeLessThan(points.expected.creationDate.getTime());
    const r = await ops('restore', 'staging', '--to', early.toISOString(), ...drArgs(), '--parameter-group', 'absent', '--json');
    // The parameter group is checked before anything is planned.
    expectOneLineError(r, new RegExp(`^ops restore: --parameter-group: DB parameter group "absent" not found in ${DR}$`));
    await rds().send(new CreateDBParameterGroupCommand({
      DBParameterGroupName: names.dbParameterGroup, DBParameterGroupFamily: `postgres${spec.dataTier.postgres.engineMajorVersion}`, Description: 'copy',
    }));
    const ok = await ops('restore', 'staging', '--to', early.toISOString(), ...drArgs(), '--parameter-group', names.dbParameterGroup, '--json');
    expect(ok.code).toBe(0);
    const result = JSON.parse(ok.stdout);
    expect(result.recoveryPoint.arn).toBe(site.snapshotArn(1));
    expect(result.rpo.withinRpo).toBe(false);
    expect(result.metadata.DBParameterGroupName).toBe(names.dbParameterGroup);
    expect(result.warnings).toEqual([
      `the recovery point is ${formatAge(RPO_SECONDS + 30 * 60)} older than --to, more than the RPO (${formatAge(RPO_SECONDS)}): that much data is lost; check the copy jobs into ${names.drBackupVault}`,
    ]);
  });

  it('starts exactly one restore job with --execute, and the restored instance has what was asked', async () => {
    const r = await ops('restore', 'staging', '--to', to.toISOString(), ...drArgs(), '--iam-role', 'platform-dr-restore', '--execute', '--json');
    expect(r.stderr).toMatch(/^starting the restore of /);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    const target = `${names.dbInstance}-dr-${stamp(points.expected.creationDate)}`;

    expect(fixture.restoreJobs).toHaveLength(1);
    const [job] = fixture.restoreJobs;
    expect(job).toMatchObject({
      RecoveryPointArn: site.snapshotArn(2),
      IamRoleArn: `arn:aws:iam::${ACCOUNT}:role/platform-dr-restore`,
      ResourceType: 'RDS',
      Status: 'COMPLETED',
    });
    expect(job.Metadata).toMatchObject({
      DBInstanceIdentifier: target, DBSubnetGroupName: site.subnetGroup, VpcSecurityGroupIds: `["${site.securityGroup}"]`,
      MultiAZ: 'true', DeletionProtection: 'true', PubliclyAccessible: 'false',
    });
    expect(Object.keys(job.Metadata)).not.toEqual(expect.arrayContaining(['AvailabilityZone']));
    expect(result).toMatchObject({
      mode: 'executed', target,
      restoreJob: { id: job.RestoreJobId, status: 'COMPLETED', createdResourceArn: expect.stringMatching(new RegExp(`:db:${target}$`)) },
    });
    expect(result.nextSteps[0]).toBe(`follow the job: aws backup describe-restore-job --region ${DR} --restore-job-id ${job.RestoreJobId}`);
    expect(fixture.served).toContain('backup:DescribeRestoreJob');

    const restored = (await rds().send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: target }))).DBInstances![0];
    expect(restored.DBSubnetGroup?.DBSubnetGroupName).toBe(site.subnetGroup);
    expect(restored.VpcSecurityGroups?.map((g) => g.VpcSecurityGroupId)).toEqual([site.securityGroup]);
    expect(restored.MultiAZ).toBe(true);
    expect(restored.DeletionProtection).toBe(true);
    expect(restored.KmsKeyId).toBe(site.drKeyArn);

    // Again: the instance exists, so nothing is sent.
    expectOneLineError(await ops('restore', 'staging', '--to', to.toISOString(), ...drArgs(), '--execute'),
      new RegExp(`^ops restore: ${target} already exists in ${DR}: `));
    expect(fixture.restoreJobs).toHaveLength(1);
  });

  it('prints a job that failed at once and exits 1', async () => {
    // The copy behind the chosen point expired between listing and restoring.
    fixture.setRecoveryPoints(names.drBackupVault, [{ ...points.expected, recoveryPointArn: `arn:aws:rds:${DR}:${ACCOUNT}:snapshot:awsbackup-copyjob-gone` }]);
    const r = await ops('restore', 'staging', '--to', to.toISOString(), ...drArgs(), '--execute');
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toMatch(/^EXECUTED: restore job \S+ FAILED \(DBSnapshotNotFound/);
    expect(fixture.restoreJobs).toHaveLength(1);
  });

  it('says when no point qualifies, naming the ones that exist', async () => {
    const before = new Date(points.old.creationDate.getTime() - minutes(1));
    expectOneLineError(await ops('restore', 'staging', '--to', before.toISOString(), ...drArgs()), new RegExp(
      `^ops restore: no recovery point of ${names.dbInstance} in ${names.drBackupVault} \\(${DR}\\) was created no later than --to ${before.toISOString()}; `
      + `the oldest is ${points.old.creationDate.toISOString()}, the newest ${points.afterTo.creationDate.toISOString()} \\(${site.snapshotArn(3)}\\)$`));

    fixture.setRecoveryPoints(names.drBackupVault, [points.otherDb, points.prefixTwin, points.partial]);
    expectOneLineError(await ops('restore', 'staging', '--to', 'latest', ...drArgs()),
      new RegExp(`^ops restore: ${names.drBackupVault} \\(${DR}\\) holds no completed recovery point of ${names.dbInstance}: `));
    expect(fixture.restoreJobs).toHaveLength(0);
  });

  it('names the missing or misplaced network flags before calling AWS', async () => {
    fixture.reset();
    expectOneLineError(await ops('restore', 'staging', '--to', 'latest', '--from', 'dr'), new RegExp(
      `^ops restore: --from dr needs --subnet-group <DB subnet group in ${DR}> and --security-group <sg-id in ${DR}, repeatable>: `));
    expectOneLineError(await ops('restore', 'staging', '--to', 'latest', '--from', 'dr', '--subnet-group', 'x'),
      /^ops restore: --from dr needs --security-group <sg-id in us-west-2, repeatable>: /);
    expectOneLineError(await ops('restore', 'staging', '--to', 'latest', '--from', 'dr', '--security-group', 'sg-0123456789abcdef0'),
      /^ops restore: --from dr needs --subnet-group <DB subnet group in us-west-2>: /);
    expectOneLineError(await ops('restore', 'staging', '--to', 'latest', '--from', 'dr', '--subnet-group', 'x', '--security-group', 'default'),
      /^ops restore: --security-group "default" is not a security group id/);
    expect(fixture.served).toEqual([]);

    expectOneLineError(await ops('restore', 'staging', '--to', 'latest', '--subnet-group', 'x'), /^ops restore: --subnet-group: only with --from dr \(the DR-region restore\)$/);
    expectOneLineError(await ops('restore', 'staging', '--to', 'latest', '--from', 'backup'), /^ops restore: --from "backup" is not a restore source: "pitr" .* or "dr"/);
  });

  it('checks the subnet group and security groups in the DR region', async () => {
    expectOneLineError(await ops('restore', 'staging', '--to', 'latest', '--from', 'dr', '--subnet-group', 'nope', '--security-group', site.securityGroup),
      new RegExp(`^ops restore: --subnet-group: DB subnet group "nope" not found in ${DR}$`));
    expectOneLineError(await ops('restore', 'staging', '--to', 'latest', ...drArgs(), '--security-group', site.foreignSecurityGroup),
      new RegExp(`^ops restore: --security-group ${site.foreignSecurityGroup} is in vpc-\\S+, not in vpc-\\S+ of DB subnet group ${site.subnetGroup}$`));
    expect(fixture.restoreJobs).toHaveLength(0);
  });

  it('prints an AWS error as one line without a stack trace', async () => {
    expectOneLineError(await ops('restore', 'staging', '--to', 'latest', '--from', 'dr', '--subnet-group', site.subnetGroup, '--security-group', 'sg-0123456789abcdef0', '--execute'),
      /^ops restore: AWS InvalidGroup\.NotFound \(HTTP 400\): .*sg-0123456789abcdef0/);
    expect(fixture.restoreJobs).toHaveLength(0);
  });

  it('fails in one line when the DR vault does not exist', async () => {
    fixture.reset();
    expectOneLineError(await ops('restore', 'staging', '--to', 'latest', ...drArgs()),
      new RegExp(`^ops restore: DR backup vault ${names.drBackupVault} not found in ${DR} `));
  });
});
