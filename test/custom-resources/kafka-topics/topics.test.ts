/**
 * The custom resource's topic list: from lib/spec to the template and back through the
 * handler's validation (CloudFormation hands numbers over as strings), and the handler's
 * Delete, which must leave the topics alone (it makes no AWS or Kafka call at all).
 */
import { handler } from '../../../lib/custom-resources/kafka-topics/handler';
import { parseTopicProperties, toTopicProperty, topicsFromSpec } from '../../../lib/custom-resources/kafka-topics/topics';
import { loadPlatformSpec } from '../../../lib/spec';

const spec = loadPlatformSpec();

describe('topic properties', () => {
  it('round-trips the spec topics, with numbers as CloudFormation sends them (strings)', () => {
    const topics = topicsFromSpec(spec);
    const asCfn = JSON.parse(JSON.stringify(topics.map(toTopicProperty)), (_k, v) => (typeof v === 'number' ? String(v) : v));
    expect(parseTopicProperties(asCfn)).toEqual(topics);
    expect(topics.find((t) => t.name === 'order-events')).toEqual({
      name: 'order-events',
      partitions: spec.dataTier.kafka.topics.find((t) => t.name === 'order-events')!.partitions,
      replicationFactor: spec.dataTier.kafka.defaultReplicationFactor,
      configs: { 'retention.ms': String(168 * 3_600_000), 'min.insync.replicas': String(spec.dataTier.kafka.minInsyncReplicas) },
    });
  });

  it('rejects bad input naming the field', () => {
    expect(() => parseTopicProperties('order-events')).toThrow('Topics must be a list');
    expect(() => parseTopicProperties([{ Name: 'a b', Partitions: 1, ReplicationFactor: 1 }])).toThrow('Topics[0].Name must be a Kafka topic name');
    expect(() => parseTopicProperties([{ Name: 'a', Partitions: '0', ReplicationFactor: 1 }])).toThrow('Topics[0].Partitions must be a positive integer, got "0"');
    expect(() => parseTopicProperties([{ Name: 'a', Partitions: 1, ReplicationFactor: 1.5 }])).toThrow('Topics[0].ReplicationFactor must be a positive integer');
    expect(() => parseTopicProperties([{ Name: 'a', Partitions: 1, ReplicationFactor: 1 }, { Name: 'a', Partitions: 1, ReplicationFactor: 1 }]))
      .toThrow('Topics[1].Name "a" appears twice');
    expect(() => parseTopicProperties([{ Name: 'a', Partitions: 1, ReplicationFactor: 1, Configs: { 'retention.ms': {} } }]))
      .toThrow('Topics[0].Configs.retention.ms must be a string');
  });
});

describe('handler', () => {
  it('keeps the topics on Delete: answers with the same physical id and touches nothing', async () => {
    // No endpoint, no credentials, no broker: any AWS or Kafka call would fail this test.
    await expect(handler({
      RequestType: 'Delete', PhysicalResourceId: 'arn:aws:kafka:us-east-1:1:cluster/x/y/topics',
      ResourceProperties: { ClusterArn: 'arn:aws:kafka:us-east-1:1:cluster/x/y', SecretArn: 's', Topics: [] },
    })).resolves.toEqual({ PhysicalResourceId: 'arn:aws:kafka:us-east-1:1:cluster/x/y/topics' });
  });

  it('rejects a Create with bad properties before any call, naming the field', async () => {
    await expect(handler({ RequestType: 'Create', ResourceProperties: { ClusterArn: '' } })).rejects.toThrow('ClusterArn must be a non-empty string');
    await expect(handler({ RequestType: 'Create', ResourceProperties: { ClusterArn: 'arn:c', SecretArn: 's', Topics: [{ Name: 'x', Partitions: -1, ReplicationFactor: 3 }] } }))
      .rejects.toThrow('Topics[0].Partitions must be a positive integer');
  });
});
