/**
 * The topic reconciliation of the `Custom::KafkaTopics` handler (lib/custom-resources/kafka-topics/reconcile.ts)
 * against a real Kafka broker from the test harness (SASL_SSL, SCRAM-SHA-512, as MSK's SCRAM
 * listener), through the same @platformatic/kafka Admin the Lambda uses.
 * The harness runs one broker, so topics here have replication factor 1 and
 * min.insync.replicas 1; partitions and retention come from the spec.
 */
import { readFileSync } from 'node:fs';
import { Admin, ConfigResourceTypes, IncrementalAlterConfigOperationTypes } from '@platformatic/kafka';
import { reconcileTopics, TopicReconcileError } from '../../../lib/custom-resources/kafka-topics/reconcile';
import { topicsFromSpec } from '../../../lib/custom-resources/kafka-topics/topics';
import type { ManagedTopic } from '../../../lib/custom-resources/kafka-topics/topics';
import { loadPlatformSpec } from '../../../lib/spec';
import { startKafka } from '../../harness';
import type { KafkaServer } from '../../../scripts/local-stack/types';

const spec = loadPlatformSpec();
/** The spec's topics, fitted to a one-broker cluster. */
const specTopics: ManagedTopic[] = topicsFromSpec(spec).map((t) => ({
  ...t, replicationFactor: 1, configs: { ...t.configs, 'min.insync.replicas': '1' },
}));
const [orderEvents, paymentEvents] = specTopics;

let kafka: KafkaServer;
let admin: Admin;
beforeAll(async () => {
  kafka = await startKafka();
  admin = new Admin({
    clientId: 'kafka-topics-test',
    bootstrapBrokers: [kafka.bootstrap],
    tls: { ca: readFileSync(kafka.caFile) },
    sasl: { mechanism: 'SCRAM-SHA-512', username: kafka.username, password: kafka.password },
  });
});
afterAll(async () => {
  await admin?.close();
  await kafka?.dispose();
});

async function partitions(topic: string): Promise<number> {
  return (await admin.metadata({ topics: [topic], forceUpdate: true })).topics.get(topic)!.partitionsCount;
}

/**
 * The partition count once the broker's metadata shows `expected` (new partitions reach the
 * metadata cache a moment after CreatePartitions returns), or the last count seen.
 */
async function settledPartitions(topic: string, expected: number): Promise<number> {
  let count = await partitions(topic);
  for (let attempt = 0; count !== expected && attempt < 50; attempt += 1) {
    await new Promise((r) => setTimeout(r, 100));
    count = await partitions(topic);
  }
  return count;
}

async function config(topic: string, key: string): Promise<string | null | undefined> {
  const [described] = await admin.describeConfigs({
    resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: [key] }],
  });
  return described.configs.find((c) => c.name === key)?.value;
}

// The cases build on each other, in order: create, re-run, widen, refuse, repair.
describe('reconcileTopics against a real broker', () => {
  it('creates the spec topics with their partitions and configs', async () => {
    expect(specTopics.map((t) => t.name)).toEqual(expect.arrayContaining(['order-events', 'payment-events']));
    const result = await reconcileTopics(admin, specTopics);
    expect(result).toEqual({ created: specTopics.map((t) => t.name), partitionsIncreased: [], configsUpdated: [], unchanged: [] });
    for (const topic of spec.dataTier.kafka.topics) {
      expect(await partitions(topic.name)).toBe(topic.partitions);
      expect(await config(topic.name, 'retention.ms')).toBe(String(topic.retentionHours * 3_600_000));
      expect(await config(topic.name, 'min.insync.replicas')).toBe('1');
    }
    const meta = (await admin.metadata({ topics: [orderEvents.name] })).topics.get(orderEvents.name)!;
    expect(meta.partitions.every((p) => p.replicas.length === 1)).toBe(true);
  });

  it('changes nothing on a second run', async () => {
    const result = await reconcileTopics(admin, specTopics);
    expect(result).toEqual({ created: [], partitionsIncreased: [], configsUpdated: [], unchanged: specTopics.map((t) => t.name) });
    expect(await partitions(orderEvents.name)).toBe(orderEvents.partitions);
  });

  it('raises a partition count and creates a new topic in one update', async () => {
    const wider = { ...orderEvents, partitions: orderEvents.partitions + 4 };
    const added: ManagedTopic = { ...paymentEvents, name: 'audit-events', partitions: 3 };
    const result = await reconcileTopics(admin, [wider, paymentEvents, added]);
    expect(result).toEqual({
      created: ['audit-events'],
      partitionsIncreased: [{ topic: orderEvents.name, from: orderEvents.partitions, to: orderEvents.partitions + 4 }],
      configsUpdated: [],
      unchanged: [paymentEvents.name],
    });
    expect(await settledPartitions(orderEvents.name, orderEvents.partitions + 4)).toBe(orderEvents.partitions + 4);
    expect(await settledPartitions('audit-events', 3)).toBe(3);
  });

  it('refuses to lower partitions, naming the topic, and changes nothing else', async () => {
    const current = orderEvents.partitions + 4;
    const narrower = { ...orderEvents, partitions: 4 };
    const another: ManagedTopic = { ...paymentEvents, name: 'never-created', partitions: 1 };
    const run = reconcileTopics(admin, [narrower, { ...paymentEvents, partitions: paymentEvents.partitions + 1 }, another]);
    await expect(run).rejects.toThrow(TopicReconcileError);
    await expect(reconcileTopics(admin, [narrower])).rejects.toThrow(
      `topic ${orderEvents.name} has ${current} partitions and the spec asks for 4: Kafka cannot reduce partitions`);
    expect(await partitions(orderEvents.name)).toBe(current);
    expect(await partitions(paymentEvents.name)).toBe(paymentEvents.partitions);
    expect(await admin.listTopics()).not.toContain('never-created');
  });

  it('refuses to change a replication factor', async () => {
    await expect(reconcileTopics(admin, [{ ...paymentEvents, replicationFactor: 3 }])).rejects.toThrow(
      `topic ${paymentEvents.name} has replication factor 1 and the spec asks for 3`);
  });

  it('sets a managed config back to the spec after a change by hand, and leaves other configs alone', async () => {
    await admin.incrementalAlterConfigs({
      resources: [{
        resourceType: ConfigResourceTypes.TOPIC, resourceName: paymentEvents.name,
        configs: [
          { name: 'retention.ms', value: '1000', configOperation: IncrementalAlterConfigOperationTypes.SET },
          { name: 'cleanup.policy', value: 'compact', configOperation: IncrementalAlterConfigOperationTypes.SET },
        ],
      }],
    });
    const result = await reconcileTopics(admin, [paymentEvents]);
    expect(result.configsUpdated).toEqual([{ topic: paymentEvents.name, keys: ['retention.ms'] }]);
    expect(await config(paymentEvents.name, 'retention.ms')).toBe(paymentEvents.configs['retention.ms']);
    expect(await config(paymentEvents.name, 'cleanup.policy')).toBe('compact');
  });
});
