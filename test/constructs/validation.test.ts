/**
 * Bad props are refused at construction with aws-cdk-lib's ValidationError, and the message
 * names the construct (class and path) and the prop, so a wrong value is found without a debugger.
 */
import { App, Errors, Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import { CacheReplicationGroup } from '../../lib/constructs/data/cache-replication-group';
import { DatabaseBackupPlan } from '../../lib/constructs/data/database-backup-plan';
import { KafkaCluster } from '../../lib/constructs/data/kafka-cluster';
import { PostgresDatabase } from '../../lib/constructs/data/postgres-database';
import { ServerlessWarehouse } from '../../lib/constructs/analytics/serverless-warehouse';
import { zoneSubnetGroupName, zoneSubnets } from '../../lib/constructs/network/zoned-vpc';
import { loadPlatformSpec } from '../../lib/spec';

const spec = loadPlatformSpec();
const environment = spec.environments.staging;

function fixture() {
  const stack = new Stack(new App(), 'Test', { env: { account: '111111111111', region: 'us-east-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    availabilityZones: [...environment.availabilityZones],
    subnetConfiguration: [{ name: zoneSubnetGroupName('restricted'), subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  });
  return {
    stack,
    vpc,
    securityGroup: new ec2.SecurityGroup(stack, 'Group', { vpc }),
    encryptionKey: new kms.Key(stack, 'Key'),
  };
}

/** The error `build` throws; fails the test if it throws none. */
function errorOf(build: () => unknown): Error {
  try {
    build();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a ValidationError, nothing was thrown');
}

describe('construct props validation', () => {
  test('PostgresDatabase: a replica identifier short of sizing.readReplicas', () => {
    const { stack, vpc, securityGroup, encryptionKey } = fixture();
    const error = errorOf(() => new PostgresDatabase(stack, 'Postgres', {
      engine: spec.dataTier.postgres,
      sizing: { ...environment.database, readReplicas: 2 },
      instanceIdentifier: 'db',
      replicaIdentifiers: ['db-replica-1'],
      availabilityZones: environment.availabilityZones,
      vpc, subnets: zoneSubnets('restricted'), securityGroup, encryptionKey,
    }));
    expect(Errors.isValidationError(error)).toBe(true);
    expect(error.message).toBe('PostgresDatabase Test/Postgres: replicaIdentifiers = [db-replica-1]: one identifier per read replica, and sizing.readReplicas = 2');
    expect((error as { constructPath?: string }).constructPath).toBe('Test/Postgres');
  });

  test.each([0, 1.5, 25])('DatabaseBackupPlan: intervalHours %p', (intervalHours) => {
    const { stack, encryptionKey } = fixture();
    const instance = rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, 'Db', {
      instanceIdentifier: 'db', instanceEndpointAddress: 'db.example', port: 5432, securityGroups: [],
    });
    const error = errorOf(() => new DatabaseBackupPlan(stack, 'Backup', {
      intervalHours,
      retention: spec.dataTier.backup,
      planName: 'plan',
      database: instance,
      vault: new backup.BackupVault(stack, 'Vault', { encryptionKey }),
      drVaultArn: 'arn:aws:backup:us-west-2:111111111111:backup-vault:dr',
    }));
    expect(Errors.isValidationError(error)).toBe(true);
    expect(error.message).toMatch(new RegExp(`^DatabaseBackupPlan Test/Backup: intervalHours = ${intervalHours}: must be whole hours from 1 to 24`));
  });

  test('KafkaCluster: one client subnet', () => {
    const { stack, vpc, securityGroup, encryptionKey } = fixture();
    const error = errorOf(() => new KafkaCluster(stack, 'Kafka', {
      kafka: spec.dataTier.kafka,
      sizing: environment.messaging,
      clusterName: 'kafka',
      namePrefix: 'test',
      subnets: vpc.selectSubnets({ ...zoneSubnets('restricted'), availabilityZones: [environment.availabilityZones[0]!] }),
      securityGroup, encryptionKey,
    }));
    expect(Errors.isValidationError(error)).toBe(true);
    expect(error.message).toMatch(/^KafkaCluster Test\/Kafka: subnets has 1 subnet: MSK spreads the brokers over 2 or 3 client subnets/);
  });

  test('CacheReplicationGroup: a single AZ', () => {
    const { stack, vpc, securityGroup, encryptionKey } = fixture();
    const error = errorOf(() => new CacheReplicationGroup(stack, 'Cache', {
      engine: spec.dataTier.redis,
      sizing: environment.cache,
      replicationGroupId: 'cache',
      description: 'test',
      authSecretName: 'test/cache',
      availabilityZones: environment.availabilityZones.slice(0, 1),
      subnets: vpc.selectSubnets(zoneSubnets('restricted')),
      securityGroup, encryptionKey,
    }));
    expect(Errors.isValidationError(error)).toBe(true);
    expect(error.message).toMatch(/^CacheReplicationGroup Test\/Cache: availabilityZones = \[us-east-1a\]: Multi-AZ automatic failover/);
  });

  test('ServerlessWarehouse: base capacity above the maximum', () => {
    const { stack, vpc, securityGroup, encryptionKey } = fixture();
    const error = errorOf(() => new ServerlessWarehouse(stack, 'Warehouse', {
      namespaceName: 'ns', workgroupName: 'wg', databaseName: 'analytics', adminUsername: 'admin', port: 5439,
      baseCapacityRpu: 64, maxCapacityRpu: 32,
      encryptionKey, subnets: vpc.selectSubnets(zoneSubnets('restricted')), securityGroup,
    }));
    expect(Errors.isValidationError(error)).toBe(true);
    expect(error.message).toBe('ServerlessWarehouse Test/Warehouse: baseCapacityRpu = 64: above maxCapacityRpu (32)');
  });

  test('the spec\'s own values pass', () => {
    const { stack, vpc, securityGroup, encryptionKey } = fixture();
    expect(() => new KafkaCluster(stack, 'Kafka', {
      kafka: spec.dataTier.kafka,
      sizing: environment.messaging,
      clusterName: 'kafka',
      namePrefix: 'test',
      subnets: vpc.selectSubnets(zoneSubnets('restricted')),
      securityGroup, encryptionKey,
    })).not.toThrow();
  });
});
