/**
 * The Kafka topics the platform owns, as the custom resource and its handler see them: plain
 * data (no AWS or Kafka dependency), so the stack, the Lambda handler and the tests share it.
 */
import type { PlatformSpec } from '../../spec';

/** One topic as the brokers should have it. */
export interface ManagedTopic {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** Topic-level configs the platform sets and keeps (string values, as Kafka takes them). */
  readonly configs: Readonly<Record<string, string>>;
}

/** The topic configs this module manages; any other config on a topic is left alone. */
export const MANAGED_CONFIG_KEYS = ['retention.ms', 'min.insync.replicas'] as const;

/** lib/spec `dataTier.kafka.topics` with the cluster-wide durability settings of the spec. */
export function topicsFromSpec(spec: PlatformSpec): ManagedTopic[] {
  const kafka = spec.dataTier.kafka;
  return kafka.topics.map((topic) => ({
    name: topic.name,
    partitions: topic.partitions,
    replicationFactor: kafka.defaultReplicationFactor,
    configs: {
      'retention.ms': String(topic.retentionHours * 3_600_000),
      'min.insync.replicas': String(kafka.minInsyncReplicas),
    },
  }));
}

/** The custom resource's `Topics` property: CloudFormation hands every scalar over as a string. */
export interface TopicProperty {
  readonly Name: string;
  readonly Partitions: number | string;
  readonly ReplicationFactor: number | string;
  readonly Configs: Readonly<Record<string, string>>;
}

export function toTopicProperty(topic: ManagedTopic): TopicProperty {
  return { Name: topic.name, Partitions: topic.partitions, ReplicationFactor: topic.replicationFactor, Configs: { ...topic.configs } };
}

export class TopicSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TopicSpecError';
  }
}

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

function positiveInteger(value: unknown, field: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new TopicSpecError(`${field} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** Validates the custom resource's `Topics` property; errors name the field. */
export function parseTopicProperties(value: unknown): ManagedTopic[] {
  if (!Array.isArray(value)) throw new TopicSpecError(`Topics must be a list, got ${JSON.stringify(value)}`);
  const seen = new Set<string>();
  return value.map((raw: unknown, i) => {
    const field = `Topics[${i}]`;
    if (raw === null || typeof raw !== 'object') throw new TopicSpecError(`${field} must be an object`);
    const item = raw as Partial<TopicProperty>;
    if (typeof item.Name !== 'string' || !TOPIC_NAME.test(item.Name) || item.Name === '.' || item.Name === '..') {
      throw new TopicSpecError(`${field}.Name must be a Kafka topic name (letters, digits, ".", "_", "-"; at most 249), got ${JSON.stringify(item.Name)}`);
    }
    if (seen.has(item.Name)) throw new TopicSpecError(`${field}.Name "${item.Name}" appears twice`);
    seen.add(item.Name);
    const configs = item.Configs ?? {};
    if (typeof configs !== 'object' || configs === null || Array.isArray(configs)) {
      throw new TopicSpecError(`${field}.Configs must be a map of config name to value`);
    }
    for (const [key, v] of Object.entries(configs)) {
      if (typeof v !== 'string' && typeof v !== 'number') throw new TopicSpecError(`${field}.Configs.${key} must be a string, got ${JSON.stringify(v)}`);
    }
    return {
      name: item.Name,
      partitions: positiveInteger(item.Partitions, `${field}.Partitions`),
      replicationFactor: positiveInteger(item.ReplicationFactor, `${field}.ReplicationFactor`),
      configs: Object.fromEntries(Object.entries(configs).map(([k, v]) => [k, String(v)])),
    };
  });
}
