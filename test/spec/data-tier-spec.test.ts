import { loadPlatformSpec } from '../../lib/spec';
import type { PlatformSpec } from '../../lib/spec';
import { problemsAfter } from '../helpers/spec';
import type { Mutable } from '../helpers/spec';

const spec = loadPlatformSpec();

describe('the data tier of the spec', () => {
  it('keeps the architecture document numbers: two replicas, RPO 1 h, RTO 4 h', () => {
    expect(spec.environments.production.database.readReplicas).toBe(2);
    expect(spec.environments.staging.database.readReplicas).toBe(2);
    expect(spec.disasterRecovery.database).toMatchObject({ rpo: 'PT1H', rto: 'PT4H' });
  });

  it('pins a PostgreSQL minor of the major, Valkey, KRaft MSK and durable Kafka defaults', () => {
    expect(spec.dataTier.postgres.engineVersion.split('.')[0]).toBe(spec.dataTier.postgres.engineMajorVersion);
    expect(spec.dataTier.redis.engine).toBe('valkey');
    expect(spec.dataTier.kafka).toMatchObject({ brokersPerAz: 1, defaultReplicationFactor: 3, minInsyncReplicas: 2 });
    expect(spec.dataTier.kafka.version).toMatch(/\.kraft$/);
    expect(spec.dataTier.kafka.topics.map((t) => t.name)).toEqual(['order-events', 'payment-events']);
  });
});

describe('data-tier validation names the field and the value', () => {
  it.each<[string, (d: Mutable<PlatformSpec>) => void, string]>([
    ['PostgreSQL minor of another major', (d) => { d.dataTier.postgres.engineVersion = '16.4'; },
      'dataTier.postgres.engineVersion = "16.4": must be a minor of engineMajorVersion 17'],
    ['PostgreSQL version without a minor', (d) => { d.dataTier.postgres.engineVersion = '17'; },
      'dataTier.postgres.engineVersion = "17": must be an exact <major>.<minor> version'],
    ['RDS class typo', (d) => { d.environments.production.database.instanceClass = 'r7g.large'; },
      'environments.production.database.instanceClass = "r7g.large": unknown db node class'],
    ['cache node type of another service', (d) => { d.environments.staging.cache.nodeType = 'db.t4g.medium'; },
      'environments.staging.cache.nodeType = "db.t4g.medium": unknown cache node class'],
    ['broker type MSK does not offer', (d) => { d.environments.production.messaging.brokerInstanceType = 'kafka.r7g.large'; },
      'environments.production.messaging.brokerInstanceType = "kafka.r7g.large": unknown kafka node class'],
    ['backup retention beyond the RDS limit', (d) => { d.environments.production.database.backupRetentionDays = 36; },
      'environments.production.database.backupRetentionDays = 36: must be <= 35 (RDS limit)'],
    ['automated backups turned off', (d) => { d.environments.staging.database.backupRetentionDays = 0; },
      'environments.staging.database.backupRetentionDays = 0: must be >= 1'],
    ['storage ceiling below the allocation', (d) => { d.environments.staging.database.maxAllocatedStorageGiB = 40; },
      'environments.staging.database.maxAllocatedStorageGiB = 40: must be >= allocatedStorageGiB (50)'],
    ['more read replicas than RDS allows', (d) => { d.environments.production.database.readReplicas = 6; },
      'environments.production.database.readReplicas = 6'],
    ['min.insync.replicas equal to the replication factor', (d) => { d.dataTier.kafka.minInsyncReplicas = 3; },
      'dataTier.kafka.minInsyncReplicas = 3: must be < defaultReplicationFactor (3)'],
    ['replication factor above the broker count', (d) => { d.dataTier.kafka.defaultReplicationFactor = 4; },
      'dataTier.kafka.defaultReplicationFactor = 4: must be <= the broker count of environment production (3)'],
    ['duplicate topic', (d) => { d.dataTier.kafka.topics[1].name = 'order-events'; },
      'dataTier.kafka.topics.1.name = "order-events": duplicate topic name'],
    ['topic produced by an unknown service', (d) => { d.dataTier.kafka.topics[0].producer = 'billing-service'; },
      'dataTier.kafka.topics.0.producer = "billing-service": is not a service of the spec'],
    ['topic produced by a service without broker credentials', (d) => { d.dataTier.kafka.topics[0].producer = 'user-service'; },
      'dataTier.kafka.topics.0.producer = "user-service": has no broker credentials (services[].secrets)'],
    ['topic with zero partitions', (d) => { d.dataTier.kafka.topics[0].partitions = 0; },
      'dataTier.kafka.topics.0.partitions = 0: must be >= 1'],
    ['topic name with upper case', (d) => { d.dataTier.kafka.topics[0].name = 'OrderEvents'; },
      'dataTier.kafka.topics.0.name = "OrderEvents": must be a lowercase Kafka topic name'],
    ['MSK version typo', (d) => { d.dataTier.kafka.version = '3.9'; },
      'dataTier.kafka.version = "3.9": must be an MSK Kafka version'],
    ['RPO below what AWS Backup can schedule', (d) => { d.disasterRecovery.database!.rpo = 'PT30M'; },
      'disasterRecovery.database.rpo = "PT30M": must be whole hours from PT1H to PT24H'],
    ['retention outside the vault lock', (d) => { d.dataTier.backup.drCopyRetentionDays = 90; },
      'dataTier.backup.drCopyRetentionDays = 90: must lie within the vault lock (1-35 days)'],
    ['vault lock grace period below the AWS minimum', (d) => { d.dataTier.backup.vaultLock.changeableForDays = 1; },
      'dataTier.backup.vaultLock.changeableForDays = 1: must be >= 3'],
    ['Performance Insights retention AWS does not offer', (d) => { d.dataTier.postgres.performanceInsightsRetentionDays = 30; },
      'dataTier.postgres.performanceInsightsRetentionDays = 30: must be 7, a multiple of 31'],
    ['unknown cache engine', (d) => { (d.dataTier.redis as { engine: string }).engine = 'memcached'; },
      'dataTier.redis.engine'],
    ['log retention CloudWatch does not offer', (d) => { d.environments.production.messaging.logRetentionDays = 100; },
      'environments.production.messaging.logRetentionDays = 100: must be a CloudWatch Logs retention period'],
  ])('rejects a %s', (_, edit, expected) => {
    expect(problemsAfter(edit)).toContain(expected);
  });
});
