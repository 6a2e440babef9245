/**
 * Brings a Kafka cluster's topics up to a desired list, idempotently, through an admin
 * connection: creates missing topics, raises partition counts, and sets the managed topic
 * configs where they differ. It never deletes a topic, never lowers a partition count (Kafka
 * cannot, and a re-created topic would lose its data) and never changes a replication factor
 * (that is a partition reassignment, a deliberate operation): those are refused before any
 * change is made, with a message naming the topic.
 */
import { ConfigResourceTypes, IncrementalAlterConfigOperationTypes } from '@platformatic/kafka';
import type { Admin } from '@platformatic/kafka';
import type { ManagedTopic } from './topics';

/** What the reconciliation needs of a @platformatic/kafka Admin. */
export type TopicAdmin = Pick<Admin, 'listTopics' | 'metadata' | 'createTopics' | 'createPartitions' | 'describeConfigs' | 'incrementalAlterConfigs'>;

export interface ReconcileResult {
  readonly created: readonly string[];
  readonly partitionsIncreased: readonly { readonly topic: string; readonly from: number; readonly to: number }[];
  readonly configsUpdated: readonly { readonly topic: string; readonly keys: readonly string[] }[];
  readonly unchanged: readonly string[];
}

export class TopicReconcileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TopicReconcileError';
  }
}

export async function reconcileTopics(admin: TopicAdmin, desired: readonly ManagedTopic[]): Promise<ReconcileResult> {
  const existingNames = new Set(await admin.listTopics());
  const existing = desired.filter((t) => existingNames.has(t.name));
  const missing = desired.filter((t) => !existingNames.has(t.name));

  const current = existing.length > 0
    ? (await admin.metadata({ topics: existing.map((t) => t.name), forceUpdate: true })).topics
    : new Map();

  // Check everything first: a refused change must not leave half the topics changed.
  const refusals: string[] = [];
  const increases: { topic: string; from: number; to: number }[] = [];
  for (const topic of existing) {
    const meta = current.get(topic.name);
    if (!meta) throw new TopicReconcileError(`topic ${topic.name} is listed by the cluster but has no metadata`);
    if (meta.partitionsCount > topic.partitions) {
      refusals.push(`topic ${topic.name} has ${meta.partitionsCount} partitions and the spec asks for ${topic.partitions}: Kafka cannot reduce partitions (re-create the topic by hand, losing its data, or raise the spec back to ${meta.partitionsCount})`);
    } else if (meta.partitionsCount < topic.partitions) {
      increases.push({ topic: topic.name, from: meta.partitionsCount, to: topic.partitions });
    }
    const replicas = meta.partitions[0]?.replicas.length;
    if (replicas !== undefined && replicas !== topic.replicationFactor) {
      refusals.push(`topic ${topic.name} has replication factor ${replicas} and the spec asks for ${topic.replicationFactor}: change it by a partition reassignment, not by this resource`);
    }
  }
  if (refusals.length > 0) throw new TopicReconcileError(refusals.join('; '));

  for (const topic of missing) {
    await admin.createTopics({
      topics: [topic.name],
      partitions: topic.partitions,
      replicas: topic.replicationFactor,
      configs: Object.entries(topic.configs).map(([name, value]) => ({ name, value })),
    });
  }
  if (increases.length > 0) {
    await admin.createPartitions({ topics: increases.map((i) => ({ name: i.topic, count: i.to })) });
  }

  const configsUpdated: { topic: string; keys: string[] }[] = [];
  if (existing.length > 0) {
    const described = await admin.describeConfigs({
      resources: existing.map((t) => ({
        resourceType: ConfigResourceTypes.TOPIC, resourceName: t.name, configurationKeys: Object.keys(t.configs),
      })),
    });
    for (const topic of existing) {
      const configs = described.find((d) => d.resourceName === topic.name)?.configs ?? [];
      const differing = Object.entries(topic.configs)
        .filter(([key, value]) => configs.find((c) => c.name === key)?.value !== value);
      if (differing.length === 0) continue;
      await admin.incrementalAlterConfigs({
        resources: [{
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: topic.name,
          configs: differing.map(([name, value]) => ({ name, value, configOperation: IncrementalAlterConfigOperationTypes.SET })),
        }],
      });
      configsUpdated.push({ topic: topic.name, keys: differing.map(([key]) => key) });
    }
  }

  const changed = new Set([...increases.map((i) => i.topic), ...configsUpdated.map((c) => c.topic)]);
  return {
    created: missing.map((t) => t.name),
    partitionsIncreased: increases,
    configsUpdated,
    unchanged: existing.map((t) => t.name).filter((name) => !changed.has(name)),
  };
}
