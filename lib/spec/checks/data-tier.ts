/** Rules of the data tier: engine pins, Kafka durability and producers, backup vs. RPO and vault lock. */
import { parseDuration } from '../parse';
import type { PlatformSpecFields as PlatformSpec } from '../schema';
import type { Report } from './report';

export function checkDataTier(spec: PlatformSpec, issue: Report) {
  const { postgres, kafka, backup } = spec.dataTier;
  if (!postgres.engineVersion.startsWith(`${postgres.engineMajorVersion}.`)) {
    issue(['dataTier', 'postgres', 'engineVersion'], postgres.engineVersion, `must be a minor of engineMajorVersion ${postgres.engineMajorVersion}`);
  }
  for (const [key, env] of Object.entries(spec.environments)) {
    const brokers = kafka.brokersPerAz * env.availabilityZones.length;
    if (kafka.defaultReplicationFactor > brokers) {
      issue(['dataTier', 'kafka', 'defaultReplicationFactor'], kafka.defaultReplicationFactor,
        `must be <= the broker count of environment ${key} (${brokers})`);
    }
    if (env.database.maxAllocatedStorageGiB < env.database.allocatedStorageGiB) {
      issue(['environments', key, 'database', 'maxAllocatedStorageGiB'], env.database.maxAllocatedStorageGiB,
        `must be >= allocatedStorageGiB (${env.database.allocatedStorageGiB})`);
    }
  }
  if (kafka.minInsyncReplicas >= kafka.defaultReplicationFactor) {
    issue(['dataTier', 'kafka', 'minInsyncReplicas'], kafka.minInsyncReplicas,
      `must be < defaultReplicationFactor (${kafka.defaultReplicationFactor}), or one broker down stops every producer`);
  }
  const topicNames = new Set<string>();
  kafka.topics.forEach((topic, i) => {
    if (topicNames.has(topic.name)) issue(['dataTier', 'kafka', 'topics', i, 'name'], topic.name, 'duplicate topic name');
    topicNames.add(topic.name);
    const producer = spec.services.find((s) => s.name === topic.producer);
    if (!producer) {
      issue(['dataTier', 'kafka', 'topics', i, 'producer'], topic.producer, 'is not a service of the spec');
    } else if (!producer.secrets.includes('broker')) {
      issue(['dataTier', 'kafka', 'topics', i, 'producer'], topic.producer, 'has no broker credentials (services[].secrets)');
    }
  });
  // AWS Backup runs at most hourly, so the RPO must be a whole number of hours between 1 and 24.
  const rpo = spec.disasterRecovery.database?.rpo;
  if (rpo !== undefined) {
    const parts = parseDuration(rpo);
    const hours = parts && parts.minutes === undefined && parts.seconds === undefined ? parts.hours : undefined;
    if (hours === undefined || hours < 1 || hours > 24) {
      issue(['disasterRecovery', 'database', 'rpo'], rpo, 'must be whole hours from PT1H to PT24H (AWS Backup runs at most hourly)');
    }
  }
  const lock = backup.vaultLock;
  if (lock.minRetentionDays > lock.maxRetentionDays) {
    issue(['dataTier', 'backup', 'vaultLock', 'minRetentionDays'], lock.minRetentionDays, `must be <= maxRetentionDays (${lock.maxRetentionDays})`);
  }
  for (const field of ['recoveryPointRetentionDays', 'drCopyRetentionDays'] as const) {
    const days = backup[field];
    if (days < lock.minRetentionDays || days > lock.maxRetentionDays) {
      issue(['dataTier', 'backup', field], days,
        `must lie within the vault lock (${lock.minRetentionDays}-${lock.maxRetentionDays} days), or AWS Backup rejects the rule`);
    }
  }
}
