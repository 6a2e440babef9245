/**
 * The data-tier ops commands (endpoints, dr-status, promote-replica, restore), run through
 * runOps with the real AWS SDK against moto's server on loopback. The resources are created
 * through the SDK under the names of lib/spec/names.ts (test/helpers/data-tier-seed.ts).
 *
 * Emulator gaps, served by the fixture in front of moto (test/helpers/aws-fixture.ts):
 *  - kafka:GetBootstrapBrokers — not implemented by moto; the fixture answers what the seed
 *    registered per cluster ARN (NotFoundException otherwise).
 *  - backup:ListRecoveryPointsByBackupVault — not implemented by moto (it has vaults but no
 *    recovery points); the fixture answers the points the test registered per vault
 *    (ResourceNotFoundException for an unknown vault).
 *  - cloudwatch:GetMetricData — moto 5.2.5 does not speak the protocol of the installed
 *    @aws-sdk/client-cloudwatch (AWS JSON 1.0, X-Amz-Target GraniteServiceVersion20100801.*; moto
 *    answers 404 HTML); the fixture answers the ReplicaLag datapoints the test registered per
 *    DBInstanceIdentifier (none otherwise, as CloudWatch for an unknown metric).
 *  - kafka:ListClustersV2 / DescribeClusterV2 are moto's, but its `creationTime` lacks a UTC
 *    offset, which the SDK rejects; the fixture appends "Z" to that one field.
 * Other emulator facts the tests live with: moto's MSK clusters stay CREATING, its
 * LatestRestorableTime is always "now", it takes one automated snapshot at instance creation
 * and reports no RestoreWindow (so the window's lower bound is the oldest automated snapshot),
 * it does not validate RestoreTime (the command does), and after PromoteReadReplica it keeps
 * listing ReadReplicaSourceDBInstanceIdentifier (the promote test probes with StopDBInstance,
 * which RDS refuses for a read replica only).
 */
import { DeleteDBInstanceCommand, DescribeDBInstancesCommand, RDSClient, StopDBInstanceCommand } from '@aws-sdk/client-rds';
import { runOps } from '../../scripts/ops/main';
import { startAwsFixture } from '../helpers/aws-fixture';
import type { AwsFixture } from '../helpers/aws-fixture';
import { seedDataTier } from '../helpers/data-tier-seed';
import type { SeededTier } from '../helpers/data-tier-seed';
import { startMoto, useMotoEnv } from '../helpers/moto';
import type { Moto } from '../helpers/moto';
import { synthForThisFile } from '../helpers/synth';

const cdkOut = synthForThisFile();
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
beforeEach(async () => {
  await moto.reset();
  fixture.reset();
});

const rds = () => new RDSClient({ region: 'us-east-1' });

/** Registers one ReplicaLag datapoint per minute for a replica, newest `ageSeconds` ago. */
function setReplicaLag(replica: string, values: number[], ageSeconds = 60) {
  const now = Date.now();
  fixture.setMetricData(
    { namespace: 'AWS/RDS', metricName: 'ReplicaLag', dimension: { name: 'DBInstanceIdentifier', value: replica } },
    values.map((value, i) => ({ timestamp: new Date(now - (ageSeconds + 60 * i) * 1000), value })),
  );
}
const describe1 = async (id: string) => (await rds().send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances![0];

async function ops(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runOps(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
  return { code, stdout: out.join('\n'), stderr: err.join('\n'), err };
}

/** An expected failure: exit 2, exactly one stderr line, no stack trace. */
function expectOneLineError(result: Awaited<ReturnType<typeof ops>>, pattern: RegExp) {
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.err).toHaveLength(1);
  expect(result.stderr).not.toContain('\n');
  expect(result.stderr).not.toMatch(/\s+at\s/);
  expect(result.stderr).toMatch(pattern);
}

describe('endpoints', () => {
  let staging: SeededTier;
  beforeEach(async () => { staging = await seedDataTier(fixture, 'staging'); });

  it('prints the writer, readers, SASL/SCRAM brokers and Redis endpoints', async () => {
    const r = await ops('endpoints', 'staging');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^staging \(us-east-1\)$/m);
    expect(r.stdout).toMatch(/^postgres writer +platform-staging-db\.[a-z0-9]+\.us-east-1\.rds\.amazonaws\.com:5432$/m);
    expect(r.stdout).toMatch(/^postgres reader +platform-staging-db-replica-1\.\S+:5432 +\[platform-staging-db-replica-1, available\]$/m);
    expect(r.stdout).toMatch(/^postgres reader +platform-staging-db-replica-2\.\S+:5432 /m);
    expect(r.stdout).toContain(`kafka sasl/scram  ${staging.saslScramBrokers}`);
    expect(r.stdout).toMatch(/^redis primary +\S*platform-staging-redis\S*:6379$/m);
    expect(fixture.served).toContain('kafka:GetBootstrapBrokers');
  });

  it('prints the same as JSON with --json', async () => {
    const r = await ops('endpoints', 'staging', '--json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({
      environment: 'staging',
      region: 'us-east-1',
      database: { writer: expect.stringMatching(/^platform-staging-db\..*:5432$/) },
      kafka: { cluster: 'platform-staging-kafka', saslScramBootstrapBrokers: staging.saslScramBrokers },
      cache: { replicationGroup: 'platform-staging-redis', primary: expect.stringMatching(/:6379$/) },
    });
    expect(json.database.readers.map((x: { id: string }) => x.id)).toEqual(['platform-staging-db-replica-1', 'platform-staging-db-replica-2']);
    expect(json.kafka.saslScramBootstrapBrokers.split(',')).toHaveLength(3);
  });

  it('shows no SCRAM brokers while MSK has none, instead of failing', async () => {
    fixture.setBootstrapBrokers(staging.kafkaClusterArn, {});
    const r = await ops('endpoints', 'staging');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^kafka sasl\/scram +\(none: cluster platform-staging-kafka is CREATING\)$/m);
  });

  it('rejects an unknown environment in one line', async () => {
    expectOneLineError(await ops('endpoints', 'qa'), /^ops endpoints: unknown environment "qa" \(one of production, staging\)$/);
  });

  it('says which database it looked for when the environment has none', async () => {
    expectOneLineError(await ops('endpoints', 'production'),
      /^ops endpoints: no database found for production \(expected RDS instance platform-production-db in us-east-1\)$/);
  });

  it('turns an unreachable endpoint into one line without a stack trace', async () => {
    const saved = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9'; // discard port: nothing listens
    try {
      expectOneLineError(await ops('endpoints', 'staging'), /^ops endpoints: .*ECONNREFUSED/);
    } finally {
      process.env.AWS_ENDPOINT_URL = saved;
    }
  });
});

describe('dr-status', () => {
  it('reports a fresh recovery point within the RPO, replica state and source, and exits 0', async () => {
    await seedDataTier(fixture, 'staging', { recoveryPointAgesSeconds: [600, 90_000] });
    setReplicaLag('platform-staging-db-replica-1', [2, 500]);
    setReplicaLag('platform-staging-db-replica-2', [4]);
    const r = await ops('dr-status', 'staging');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^staging: within RPO \(RPO 1h\)$/m);
    expect(r.stdout).toMatch(/^database platform-staging-db available, backup retention 7 d$/m);
    expect(r.stdout).toMatch(/^ {2}newest snapshot +\S+Z \(.* ago, rds-automated-snapshot\)$/m);
    expect(r.stdout).toMatch(/^ {2}newest AWS Backup +\S+Z \(10m ago, aws-backup\)$/m);
    // The newest datapoint counts (2 s), not an older spike (500 s).
    expect(r.stdout).toMatch(/^ {2}platform-staging-db-replica-1 +available +source platform-staging-db +lag 2s$/m);
    expect(r.stdout).toMatch(/^ {2}platform-staging-db-replica-2 +available +source platform-staging-db +lag 4s$/m);
    expect(r.stdout).toMatch(/^kafka platform-staging-kafka CREATING, 3 brokers$/m);
    expect(r.stdout).toContain('- MSK cluster platform-staging-kafka is CREATING');
    expect(r.stdout).not.toContain('ReplicaLag');
    expect(fixture.served).toContain('backup:ListRecoveryPointsByBackupVault');
    expect(fixture.served).toContain('cloudwatch:GetMetricData');
  });

  it('gives the RPO check as JSON, with the RPO from the spec', async () => {
    await seedDataTier(fixture, 'staging');
    const r = await ops('dr-status', 'staging', '--json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.database).toMatchObject({
      writer: 'platform-staging-db', rpo: 'PT1H', rpoSeconds: 3600, rpoBreached: false, backupVaultFound: true,
      newestSnapshot: { source: 'rds-automated-snapshot', id: expect.stringMatching(/^rds:platform-staging-db-/) },
      newestBackupRecoveryPoint: null,
    });
    expect(json.database.recoveryPoint.ageSeconds).toBeLessThan(3600);
    const noData = { seconds: null, at: null, state: 'no-data' };
    expect(json.replicas).toEqual([
      { id: 'platform-staging-db-replica-1', status: 'available', source: 'platform-staging-db', healthy: true, replication: null, lag: noData },
      { id: 'platform-staging-db-replica-2', status: 'available', source: 'platform-staging-db', healthy: true, replication: null, lag: noData },
    ]);
    expect(json.replicaLag).toEqual({ warnSeconds: 60, failSeconds: 3600, lookbackSeconds: 900, overRpo: false });
    expect(json.kafka).toEqual({ cluster: 'platform-staging-kafka', state: 'CREATING', brokerNodes: 3 });
  });

  it('exits 1 and says RPO BREACHED when the newest recovery point is older than the RPO', async () => {
    // Automated backups off: no snapshots, no point-in-time recovery; AWS Backup last ran 3 h ago.
    await seedDataTier(fixture, 'production', { backupRetentionDays: 0, recoveryPointAgesSeconds: [3 * 3600 + 5, 26 * 3600] });
    const r = await ops('dr-status', 'production');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^production: RPO BREACHED \(RPO 1h\)$/m);
    expect(r.stdout).toMatch(/^ {2}recovery point +\S+Z \(3h( \d+s)? ago, aws-backup\)$/m);
    expect(r.stdout).toContain('automated backups are off on platform-production-db');
    const json = JSON.parse((await ops('dr-status', 'production', '--json')).stdout);
    expect(json.database.rpoBreached).toBe(true);
    expect(json.database.newestSnapshot).toBeNull();
    expect(json.database.recoveryPoint.ageSeconds).toBeGreaterThan(3600);
  });

  it('exits 1 when there is no recovery point at all', async () => {
    await seedDataTier(fixture, 'production', { backupRetentionDays: 0, backupVault: false });
    const r = await ops('dr-status', 'production', '--json');
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(json.database).toMatchObject({ recoveryPoint: null, rpoBreached: true, backupVaultFound: false });
    expect(json.warnings).toContain('backup vault platform-production-database not found');
  });

  it('flags a missing replica without failing the RPO check', async () => {
    await seedDataTier(fixture, 'staging');
    await rds().send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: 'platform-staging-db-replica-2', SkipFinalSnapshot: true }));
    const r = await ops('dr-status', 'staging', '--json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.replicas.find((x: { id: string }) => x.id === 'platform-staging-db-replica-2'))
      .toEqual({ id: 'platform-staging-db-replica-2', status: 'missing', source: null, healthy: false, replication: null, lag: null });
    expect(json.warnings).toContain('replica platform-staging-db-replica-2 does not exist');
    expect((await ops('dr-status', 'staging')).stdout).toMatch(/^ {2}platform-staging-db-replica-2 +missing +source - +UNHEALTHY$/m);
  });

  it('fails in one line when the environment has no database', async () => {
    expectOneLineError(await ops('dr-status', 'production'), /^ops dr-status: no database found for production/);
  });

  it('says clearly when a replica has no ReplicaLag datapoint, without failing', async () => {
    await seedDataTier(fixture, 'staging');
    setReplicaLag('platform-staging-db-replica-1', [1]);
    // A datapoint older than the 15-minute lookback does not count.
    setReplicaLag('platform-staging-db-replica-2', [3], 20 * 60);
    const r = await ops('dr-status', 'staging');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^staging: within RPO \(RPO 1h\)$/m);
    expect(r.stdout).toMatch(/^ {2}platform-staging-db-replica-2 +available +source platform-staging-db +lag no data$/m);
    expect(r.stdout).toContain('- replica platform-staging-db-replica-2: no ReplicaLag datapoint in the last 15m (metrics not published yet, or not replicating)');
    expect(r.stdout).not.toContain('replica platform-staging-db-replica-1:');
  });

  it('warns on a replica lagging over 60 s and still exits 0', async () => {
    await seedDataTier(fixture, 'staging');
    setReplicaLag('platform-staging-db-replica-1', [61]);
    setReplicaLag('platform-staging-db-replica-2', [60]);
    const r = await ops('dr-status', 'staging', '--json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.replicas.map((x: any) => [x.id, x.lag.seconds, x.lag.state])).toEqual([
      ['platform-staging-db-replica-1', 61, 'warning'], ['platform-staging-db-replica-2', 60, 'ok'],
    ]);
    expect(json.replicas[0].lag.at).toMatch(/Z$/);
    expect(json.warnings).toContain('replica platform-staging-db-replica-1 lags 1m 1s (over 60s)');
    expect(json.replicaLag.overRpo).toBe(false);
    expect((await ops('dr-status', 'staging')).stdout).toMatch(/^ {2}platform-staging-db-replica-1 .* lag 1m 1s over 60s$/m);
  });

  it('exits 1 when a replica lags by more than the RPO, even with a fresh recovery point', async () => {
    await seedDataTier(fixture, 'staging', { recoveryPointAgesSeconds: [300] });
    setReplicaLag('platform-staging-db-replica-1', [2]);
    setReplicaLag('platform-staging-db-replica-2', [3601]);
    const r = await ops('dr-status', 'staging');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^staging: REPLICA LAG OVER RPO \(RPO 1h\)$/m);
    expect(r.stdout).toMatch(/^ {2}platform-staging-db-replica-2 .* lag 1h 1s OVER RPO$/m);
    expect(r.stdout).toContain('- replica platform-staging-db-replica-2 lags 1h 1s, more than the RPO (1h): promoting it would lose more than the RPO');
    const json = JSON.parse((await ops('dr-status', 'staging', '--json')).stdout);
    expect(json.database.rpoBreached).toBe(false);
    expect(json.replicaLag.overRpo).toBe(true);
    expect(json.replicas[1].lag).toMatchObject({ seconds: 3601, state: 'over-rpo' });
  });
});

describe('promote-replica', () => {
  beforeEach(async () => {
    await seedDataTier(fixture, 'staging');
    await seedDataTier(fixture, 'production');
  });

  it('prints the plan and changes nothing without --execute', async () => {
    const r = await ops('promote-replica', 'staging', 'platform-staging-db-replica-1');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').slice(0, 3)).toEqual([
      'PLAN (dry run, nothing changed; re-run with --execute to act): promote platform-staging-db-replica-1 (replica of platform-staging-db) in staging',
      '  1. rds:PromoteReadReplica {"DBInstanceIdentifier":"platform-staging-db-replica-1","BackupRetentionPeriod":7}',
      '  2. rds:ModifyDBInstance {"DBInstanceIdentifier":"platform-staging-db-replica-1","DeletionProtection":true,"ApplyImmediately":true}',
    ]);
    const replica = await describe1('platform-staging-db-replica-1');
    expect(replica.ReadReplicaSourceDBInstanceIdentifier).toBe('platform-staging-db');
    expect(replica.DeletionProtection).toBe(false);
  });

  it('plans the calls --offline plans from the synthesized templates', async () => {
    const online = JSON.parse((await ops('promote-replica', 'staging', 'platform-staging-db-replica-1', '--json')).stdout);
    const offline = JSON.parse((await ops('promote-replica', 'staging', 'platform-staging-db-replica-1', '--offline', '--cdk-out', cdkOut(), '--json')).stdout);
    expect(offline.steps.filter((s: { kind: string }) => s.kind === 'change').map((s: { call: string; params: unknown }) => [s.call, s.params]))
      .toEqual(online.plan.map((s: { service: string; action: string; parameters: unknown }) => [`${s.service}:${s.action}`, s.parameters]));
  });

  it('promotes the replica to a standalone instance with --execute', async () => {
    const r = await ops('promote-replica', 'staging', 'platform-staging-db-replica-1', '--execute', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      mode: 'executed', replica: 'platform-staging-db-replica-1', formerSource: 'platform-staging-db',
      after: { status: 'available', endpoint: expect.stringMatching(/^platform-staging-db-replica-1\./) },
    });
    expect(r.stderr).toContain('promoting platform-staging-db-replica-1 (staging)');
    const promoted = await describe1('platform-staging-db-replica-1');
    expect(promoted.DeletionProtection).toBe(true);
    expect(promoted.BackupRetentionPeriod).toBe(7);
    // moto keeps listing the source after a promotion (emulator gap), so probe the promotion the
    // way RDS defines it: a read replica cannot be stopped, a standalone instance can.
    await expect(rds().send(new StopDBInstanceCommand({ DBInstanceIdentifier: 'platform-staging-db-replica-2' }))).rejects.toThrow();
    const stopped = await rds().send(new StopDBInstanceCommand({ DBInstanceIdentifier: 'platform-staging-db-replica-1' }));
    expect(stopped.DBInstance?.DBInstanceStatus).toBe('stopped');
  });

  it('refuses to promote an instance that is not a read replica', async () => {
    expectOneLineError(await ops('promote-replica', 'staging', 'platform-staging-db', '--execute'),
      /^ops promote-replica: platform-staging-db is not a read replica \(already standalone\); nothing to promote$/);
  });

  it('rejects an unknown replica, naming the environment\'s replicas', async () => {
    expectOneLineError(await ops('promote-replica', 'staging', 'platform-staging-db-replica-9'),
      /^ops promote-replica: unknown replica "platform-staging-db-replica-9": .*\(replicas of staging: platform-staging-db-replica-1, platform-staging-db-replica-2\)$/);
  });

  it('refuses a replica of another environment', async () => {
    expectOneLineError(await ops('promote-replica', 'staging', 'platform-production-db-replica-1', '--execute'),
      /^ops promote-replica: platform-production-db-replica-1 replicates from platform-production-db, not from staging's writer platform-staging-db/);
    expect((await describe1('platform-production-db-replica-1')).ReadReplicaSourceDBInstanceIdentifier).toBe('platform-production-db');
  });

  it('asks for the replica id and rejects unknown flags', async () => {
    expectOneLineError(await ops('promote-replica', 'staging'), /^ops promote-replica: missing replica id \(one of platform-staging-db-replica-1, platform-staging-db-replica-2\)$/);
    const r = await ops('promote-replica', 'staging', 'platform-staging-db-replica-1', '--force');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ops promote-replica: Unknown option '--force'/);
  });
});

describe('restore', () => {
  let staging: SeededTier;
  let earliest: string;
  beforeEach(async () => {
    staging = await seedDataTier(fixture, 'staging');
    const plan = JSON.parse((await ops('restore', 'staging', '--to', 'latest', '--json')).stdout);
    earliest = plan.window.earliest;
  });

  it('prints the plan for a time in the window and creates nothing without --execute', async () => {
    const r = await ops('restore', 'staging', '--to', earliest, '--json');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    const stamp = earliest.slice(0, 16).replace(/[-:T]/g, '');
    expect(result).toMatchObject({ mode: 'plan', source: 'platform-staging-db', target: `platform-staging-db-pitr-${stamp}`, kmsKeyId: staging.kmsKeyArn, after: null });
    expect(result.plan).toEqual([{
      service: 'rds', action: 'RestoreDBInstanceToPointInTime',
      parameters: {
        SourceDBInstanceIdentifier: 'platform-staging-db', TargetDBInstanceIdentifier: `platform-staging-db-pitr-${stamp}`,
        RestoreTime: earliest, DBSubnetGroupName: 'platform-staging-db-restricted', DBParameterGroupName: 'platform-staging-postgres17',
        VpcSecurityGroupIds: [staging.securityGroupId], DBInstanceClass: 'db.r6g.large', MultiAZ: true, PubliclyAccessible: false,
        DeletionProtection: true, CopyTagsToSnapshot: true,
        Tags: [{ Key: 'platform:restored-from', Value: 'platform-staging-db' }, { Key: 'platform:restore-time', Value: earliest }],
      },
    }]);
    const text = await ops('restore', 'staging', '--to', earliest);
    expect(text.stdout).toMatch(/^PLAN \(dry run, nothing changed; re-run with --execute to act\): restore platform-staging-db to /);
    expect(text.stdout).toMatch(/^ {2}1\. rds:RestoreDBInstanceToPointInTime \{"SourceDBInstanceIdentifier":"platform-staging-db",/m);
    await expect(describe1(`platform-staging-db-pitr-${stamp}`)).rejects.toThrow(/not found/i);
  });

  it('restores to a new instance with the writer\'s subnet group, parameter group, SG and KMS key with --execute', async () => {
    const r = await ops('restore', 'staging', '--to', earliest, '--execute', '--json');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ mode: 'executed', after: { status: 'available', subnetGroup: 'platform-staging-db-restricted', kmsKeyId: staging.kmsKeyArn } });
    const restored = await describe1(result.target);
    expect(restored.DBSubnetGroup?.DBSubnetGroupName).toBe('platform-staging-db-restricted');
    expect(restored.DBParameterGroups?.[0]?.DBParameterGroupName).toBe('platform-staging-postgres17');
    expect(restored.VpcSecurityGroups?.map((g) => g.VpcSecurityGroupId)).toEqual([staging.securityGroupId]);
    expect(restored.KmsKeyId).toBe(staging.kmsKeyArn);
    expect(restored.StorageEncrypted).toBe(true);
    expect(restored.DeletionProtection).toBe(true);
    expect((await describe1('platform-staging-db')).DBInstanceStatus).toBe('available');
    // Restoring to the same minute again would collide: refused before any call.
    expectOneLineError(await ops('restore', 'staging', '--to', earliest, '--execute'), /already exists/);
  });

  it('rejects a time outside the restore window', async () => {
    const before = new Date(Date.parse(earliest) - 3600_000).toISOString();
    expectOneLineError(await ops('restore', 'staging', '--to', before),
      /^ops restore: --to \S+ is outside the restore window of platform-staging-db \(\S+ \.\. \S+\)$/);
    const future = new Date(Date.now() + 86_400_000).toISOString();
    expectOneLineError(await ops('restore', 'staging', '--to', future, '--execute'), /is outside the restore window/);
  });

  it('rejects a missing or malformed time', async () => {
    expectOneLineError(await ops('restore', 'staging'), /^ops restore: missing --to <time>/);
    expectOneLineError(await ops('restore', 'staging', '--to', 'yesterday'), /^ops restore: --to "yesterday" is not an ISO-8601 time with a zone/);
    expectOneLineError(await ops('restore', 'staging', '--to', '2026-11-01T12:00:00'), /is not an ISO-8601 time with a zone/);
  });

  it('fails in one line for an unknown environment', async () => {
    expectOneLineError(await ops('restore', 'dev', '--to', 'latest'), /^ops restore: unknown environment "dev"/);
  });
});
