import { Template } from 'aws-cdk-lib/assertions';
import { backupIntervalHours } from '../../lib/constructs/data/database-backup-plan';
import { durationSeconds, ENVIRONMENT_NAMES } from '../../lib/spec';
import type { EnvironmentName } from '../../lib/spec';
import {
  buildDataTier, expectRestrictedSecurityGroup, expectRestrictedSubnets, expectStatefulResourcesPinned, ofType, resourcesOf,
} from '../helpers/data-tier-stacks';
import { normaliseTemplate } from '../helpers/normalise-template';

// One synth of both environments for the whole file.
const { spec, envs } = buildDataTier();
const templates = Object.fromEntries(ENVIRONMENT_NAMES.map((n) => [n, Template.fromStack(envs[n].database)])) as Record<EnvironmentName, Template>;

/** Item 6: a refactor that changes one of these ids replaces a database, a key or its logs. */
const STATEFUL: Record<EnvironmentName, ReadonlyArray<readonly [string, string]>> = {
  production: [
    ['DatabaseKey7998E78F', 'AWS::KMS::Key'],
    ['PostgresPrimaryE59F2C4B', 'AWS::RDS::DBInstance'],
    ['PostgresReplica1217B07FC', 'AWS::RDS::DBInstance'],
    ['PostgresReplica2A2F9C6A8', 'AWS::RDS::DBInstance'],
    ['PostgresLogsplatformproductiondbpostgresqlLogGroup1DC1A9BA', 'AWS::Logs::LogGroup'],
    ['PostgresLogsplatformproductiondbupgradeLogGroupD32BBDAC', 'AWS::Logs::LogGroup'],
    ['PostgresLogsplatformproductiondbiamdbautherrorLogGroup080BFBDE', 'AWS::Logs::LogGroup'],
    ['PostgresLogsplatformproductiondbreplica1postgresqlLogGroup72919CA2', 'AWS::Logs::LogGroup'],
    ['PostgresLogsplatformproductiondbreplica1upgradeLogGroup81694AAA', 'AWS::Logs::LogGroup'],
    ['PostgresLogsplatformproductiondbreplica1iamdbautherrorLogGroup53CDF9AE', 'AWS::Logs::LogGroup'],
    ['PostgresLogsplatformproductiondbreplica2postgresqlLogGroup574B1A93', 'AWS::Logs::LogGroup'],
    ['PostgresLogsplatformproductiondbreplica2upgradeLogGroup66DB33E4', 'AWS::Logs::LogGroup'],
    ['PostgresLogsplatformproductiondbreplica2iamdbautherrorLogGroup3549597E', 'AWS::Logs::LogGroup'],
    ['BackupKey1226E6A1', 'AWS::KMS::Key'],
    ['BackupVault68B95C06', 'AWS::Backup::BackupVault'],
  ],
  staging: [
    ['DatabaseKey7998E78F', 'AWS::KMS::Key'],
    ['PostgresPrimaryE59F2C4B', 'AWS::RDS::DBInstance'],
    ['PostgresReplica1217B07FC', 'AWS::RDS::DBInstance'],
    ['PostgresReplica2A2F9C6A8', 'AWS::RDS::DBInstance'],
    ['PostgresLogsplatformstagingdbpostgresqlLogGroup736F5602', 'AWS::Logs::LogGroup'],
    ['PostgresLogsplatformstagingdbupgradeLogGroup2EF08BA7', 'AWS::Logs::LogGroup'],
    ['PostgresLogsplatformstagingdbiamdbautherrorLogGroupA76327CC', 'AWS::Logs::LogGroup'],
    ['PostgresLogsplatformstagingdbreplica1postgresqlLogGroupF7EE82D7', 'AWS::Logs::LogGroup'],
    ['PostgresLogsplatformstagingdbreplica1upgradeLogGroupE4C3CEE2', 'AWS::Logs::LogGroup'],
    ['PostgresLogsplatformstagingdbreplica1iamdbautherrorLogGroup090DFE62', 'AWS::Logs::LogGroup'],
    ['PostgresLogsplatformstagingdbreplica2postgresqlLogGroup084A97F2', 'AWS::Logs::LogGroup'],
    ['PostgresLogsplatformstagingdbreplica2upgradeLogGroup4258EBD3', 'AWS::Logs::LogGroup'],
    ['PostgresLogsplatformstagingdbreplica2iamdbautherrorLogGroupAB53E645', 'AWS::Logs::LogGroup'],
    ['BackupKey1226E6A1', 'AWS::KMS::Key'],
    ['BackupVault68B95C06', 'AWS::Backup::BackupVault'],
  ],
};

describe('the architecture document is unchanged', () => {
  it('pins the numbers this stack is built from', () => {
    expect(spec.environments.production.database.readReplicas).toBe(2);
    expect(spec.environments.staging.database.readReplicas).toBe(2);
    expect(spec.disasterRecovery.database).toMatchObject({ rpo: 'PT1H', rto: 'PT4H' });
    expect(backupIntervalHours(spec)).toBe(1);
    expect(spec.drRegion.name).toBe('us-west-2');
  });
});

describe.each(ENVIRONMENT_NAMES)('%s database', (name) => {
  const env = spec.environments[name];
  const pg = spec.dataTier.postgres;
  const { database, dataRecovery, network, assembly } = envs[name];
  const template = templates[name];
  const instances = () => ofType(template, 'AWS::RDS::DBInstance');
  const primary = () => instances().find(([, r]) => !r.Properties!.SourceDBInstanceIdentifier)!;
  const replicas = () => instances().filter(([, r]) => r.Properties!.SourceDBInstanceIdentifier);
  const keyId = () => database.getLogicalId(database.encryptionKey.node.defaultChild as any);
  const keyArn = () => ({ 'Fn::GetAtt': [keyId(), 'Arn'] });

  it('is bound to the spec account and region, protected, and looks nothing up', () => {
    expect([database.stackName, database.account, database.region]).toEqual([`platform-${name}-database`, env.account, env.region]);
    expect(database.terminationProtection).toBe(true);
    expect(assembly.manifest.missing ?? []).toEqual([]);
    expect(database.dependencies).toEqual(expect.arrayContaining([network, dataRecovery]));
  });

  it('runs a Multi-AZ primary on the pinned engine, encrypted with the CMK, TLS-only, IAM auth, monitored', () => {
    const [, resource] = primary();
    expect(resource.Properties).toMatchObject({
      Engine: 'postgres',
      EngineVersion: pg.engineVersion,
      DBInstanceClass: env.database.instanceClass,
      MultiAZ: true,
      Port: String(pg.port),
      AllocatedStorage: String(env.database.allocatedStorageGiB),
      MaxAllocatedStorage: env.database.maxAllocatedStorageGiB,
      StorageEncrypted: true,
      KmsKeyId: keyArn(),
      EnableIAMDatabaseAuthentication: true,
      EnablePerformanceInsights: true,
      PerformanceInsightsKMSKeyId: keyArn(),
      PerformanceInsightsRetentionPeriod: pg.performanceInsightsRetentionDays,
      MonitoringInterval: pg.monitoringIntervalSeconds,
      BackupRetentionPeriod: env.database.backupRetentionDays,
      DeletionProtection: true,
      PubliclyAccessible: false,
      AutoMinorVersionUpgrade: false,
      EnableCloudwatchLogsExports: [...pg.logExports],
      ManageMasterUserPassword: true,
      MasterUsername: pg.masterUsername,
      MasterUserSecret: { KmsKeyId: keyArn() },
    });
    expect(resource.Properties!.MasterUserPassword).toBeUndefined();
    expect(resource.Properties!.MonitoringRoleArn).toBeDefined();
    expect([resource.DeletionPolicy, resource.UpdateReplacePolicy]).toEqual(['Snapshot', 'Snapshot']);
    expect(pg.engineVersion.startsWith(`${pg.engineMajorVersion}.`)).toBe(true);
  });

  it('runs the spec number of read replicas of the primary, one per other AZ, kept on delete', () => {
    const [primaryId] = primary();
    expect(replicas()).toHaveLength(env.database.readReplicas);
    for (const [, replica] of replicas()) {
      expect(JSON.stringify(replica.Properties!.SourceDBInstanceIdentifier)).toContain(`"Ref":"${primaryId}"`);
      expect(replica.Properties).toMatchObject({
        DBInstanceClass: env.database.instanceClass,
        EnableIAMDatabaseAuthentication: true,
        EnablePerformanceInsights: true,
        DeletionProtection: true,
        EnableCloudwatchLogsExports: [...pg.logExports],
      });
      expect([replica.DeletionPolicy, replica.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    }
    const azs = replicas().map(([, r]) => r.Properties!.AvailabilityZone);
    expect(new Set(azs).size).toBe(azs.length);
    for (const az of azs) expect(env.availabilityZones).toContain(az);
  });

  it('forces TLS through one parameter group shared by primary and replicas', () => {
    const [[groupId, group]] = ofType(template, 'AWS::RDS::DBParameterGroup');
    expect(group.Properties!.Family).toBe(`postgres${pg.engineMajorVersion}`);
    expect(group.Properties!.Parameters).toMatchObject({ 'rds.force_ssl': '1' });
    for (const [, instance] of instances()) expect(instance.Properties!.DBParameterGroupName).toEqual({ Ref: groupId });
  });

  it('pins max_connections to the spec\'s, which PgBouncer\'s server connections fit in (spec check)', () => {
    const [[, group]] = ofType(template, 'AWS::RDS::DBParameterGroup');
    expect(group.Properties!.Parameters.max_connections).toBe(String(env.database.maxConnections));
  });

  it('places every instance in the restricted subnets behind the restricted zone group, opening nothing new', () => {
    const [[groupId, subnetGroup]] = ofType(template, 'AWS::RDS::DBSubnetGroup');
    expectRestrictedSubnets(subnetGroup.Properties!.SubnetIds, network);
    for (const [, instance] of instances()) {
      expect(instance.Properties!.DBSubnetGroupName).toEqual({ Ref: groupId });
      expectRestrictedSecurityGroup(instance.Properties!.VPCSecurityGroups, network);
    }
    expect(ofType(template, 'AWS::EC2::SecurityGroup')).toEqual([]);
    expect(ofType(template, 'AWS::EC2::SecurityGroupIngress')).toEqual([]);
  });

  it('uses a rotating, retained customer-managed key', () => {
    template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true }, DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain',
    });
    for (const [, key] of ofType(template, 'AWS::KMS::Key')) expect(key.Properties!.EnableKeyRotation).toBe(true);
  });

  it('exports every log to an encrypted, retained log group with the spec retention', () => {
    const groups = ofType(template, 'AWS::Logs::LogGroup');
    expect(groups).toHaveLength(pg.logExports.length * (1 + env.database.readReplicas));
    for (const [, group] of groups) {
      expect(group.Properties).toMatchObject({ RetentionInDays: env.database.logRetentionDays, KmsKeyId: keyArn() });
      expect(group.Properties!.LogGroupName).toMatch(new RegExp(`^/aws/rds/instance/platform-${name}-db(-replica-\\d)?/`));
    }
  });

  describe('disaster recovery (spec §7: RPO 1 h, RTO 4 h)', () => {
    const backup = spec.dataTier.backup;
    const rule = () => ofType(template, 'AWS::Backup::BackupPlan')[0][1].Properties!.BackupPlan.BackupPlanRule;
    const vaultId = () => database.getLogicalId(database.backupVault.node.defaultChild as any);

    it('backs the database up every RPO hours into the in-region vault', () => {
      expect(rule()).toHaveLength(1);
      expect(rule()[0]).toMatchObject({
        ScheduleExpression: 'cron(0 * * * ? *)',
        StartWindowMinutes: 60,
        TargetBackupVault: { 'Fn::GetAtt': [vaultId(), 'BackupVaultName'] },
        Lifecycle: { DeleteAfterDays: backup.recoveryPointRetentionDays },
      });
      expect(durationSeconds(spec.disasterRecovery.database!.rpo)).toBe(3600);
      const [, selection] = ofType(template, 'AWS::Backup::BackupSelection')[0];
      expect(JSON.stringify(selection.Properties!.BackupSelection.Resources)).toContain(`"Ref":"${primary()[0]}"`);
    });

    it('copies every recovery point to the DR-region vault by its deterministic ARN', () => {
      const expected = `arn:aws:backup:${spec.drRegion.name}:${env.account}:backup-vault:platform-${name}-database-dr`;
      expect(dataRecovery.backupVaultArn).toBe(expected);
      expect(rule()[0].CopyActions).toEqual([{
        DestinationBackupVaultArn: expected,
        Lifecycle: { DeleteAfterDays: backup.drCopyRetentionDays },
      }]);
    });

    it('locks the in-region vault and encrypts it with its own CMK', () => {
      template.hasResource('AWS::Backup::BackupVault', {
        Properties: {
          BackupVaultName: `platform-${name}-database`,
          EncryptionKeyArn: { 'Fn::GetAtt': ['BackupKey1226E6A1', 'Arn'] }, // its own key, not the database's
          LockConfiguration: {
            MinRetentionDays: backup.vaultLock.minRetentionDays,
            MaxRetentionDays: backup.vaultLock.maxRetentionDays,
            ChangeableForDays: backup.vaultLock.changeableForDays,
          },
        },
        DeletionPolicy: 'Retain',
      });
    });
  });

  it('outputs the writer endpoint and each reader endpoint', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.WriterEndpoint.Value).toEqual({ 'Fn::GetAtt': [primary()[0], 'Endpoint.Address'] });
    replicas().forEach(([id], i) => {
      expect(outputs[`ReaderEndpoint${i + 1}`].Value).toEqual({ 'Fn::GetAtt': [id, 'Endpoint.Address'] });
    });
  });

  it('keeps every stateful resource under a pinned logical id, retained or snapshotted', () => {
    expectStatefulResourcesPinned(template, STATEFUL[name]);
    expect(Object.keys(resourcesOf(template))).toEqual(expect.arrayContaining(STATEFUL[name].map(([id]) => id)));
  });

  it('matches the snapshot', () => {
    expect(normaliseTemplate(template.toJSON())).toMatchSnapshot();
  });
});
