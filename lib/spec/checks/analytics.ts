/** Rules of the analytics path: topics known and covered by de-duplication, checkpoints, capacity. */
import type { PlatformSpecFields as PlatformSpec } from '../schema';
import type { Report } from './report';

export function checkAnalytics(spec: PlatformSpec, issue: Report) {
  const { flink, warehouse } = spec.analytics;
  const topics = spec.dataTier.kafka.topics;
  flink.topics.forEach((name, i) => {
    if (!topics.some((t) => t.name === name)) issue(['analytics', 'flink', 'topics', i], name, 'is not a topic of dataTier.kafka.topics');
  });
  const longestRetention = Math.max(...topics.filter((t) => flink.topics.includes(t.name)).map((t) => t.retentionHours));
  if (flink.dedupRetentionHours < longestRetention) {
    issue(['analytics', 'flink', 'dedupRetentionHours'], flink.dedupRetentionHours,
      `must be >= the longest retention of its topics (${longestRetention} h), or a replay from the earliest offset counts events twice`);
  }
  if (flink.minPauseBetweenCheckpointsSeconds >= flink.checkpointIntervalSeconds) {
    issue(['analytics', 'flink', 'minPauseBetweenCheckpointsSeconds'], flink.minPauseBetweenCheckpointsSeconds,
      `must be < checkpointIntervalSeconds (${flink.checkpointIntervalSeconds})`);
  }
  if (warehouse.writerUsername === warehouse.adminUsername) {
    issue(['analytics', 'warehouse', 'writerUsername'], warehouse.writerUsername, 'must differ from adminUsername (the job writes with least privilege)');
  }
  for (const [key, env] of Object.entries(spec.environments)) {
    const w = env.analytics.warehouse;
    if (w.maxCapacityRpu < w.baseCapacityRpu) {
      issue(['environments', key, 'analytics', 'warehouse', 'maxCapacityRpu'], w.maxCapacityRpu, `must be >= baseCapacityRpu (${w.baseCapacityRpu})`);
    }
  }
}
