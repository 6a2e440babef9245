/**
 * Test helper: reads a topic from the beginning with a fresh consumer group until `count`
 * messages arrived (or `moreWithinMs` passed without a new one after that, to catch extras).
 */
import { randomUUID } from 'node:crypto';
import { createKafkaConsumer } from '../../../services/shared/src';
import type { KafkaConfig, KafkaMessage } from '../../../services/shared/src';
import type { KafkaServer } from '../../harness';

export function kafkaConfig(kafka: KafkaServer): KafkaConfig {
  return {
    KAFKA_BROKERS: [kafka.bootstrap], KAFKA_SASL_USERNAME: kafka.username,
    KAFKA_SASL_PASSWORD_FILE: kafka.passwordFile, KAFKA_CA_FILE: kafka.caFile,
  };
}

export interface ReadMessage {
  key: string;
  value: unknown;
  partition: number;
  offset: bigint;
  headers: Record<string, string>;
}

/**
 * Collects messages until `until(messages)` is true, then keeps reading for `settleMs` more so
 * that duplicates or extras would show. Gives up (throws) after `giveUpMs`: a safety net so a
 * broken relay fails the test instead of hanging it.
 */
export async function readTopic(kafka: KafkaServer, topic: string, until: (messages: ReadMessage[]) => boolean, options: { settleMs?: number; giveUpMs?: number } = {}): Promise<ReadMessage[]> {
  const deadline = Date.now() + (options.giveUpMs ?? 90_000);
  const { consumer, stream } = await joinGroup(kafka, topic, deadline);
  const messages: ReadMessage[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let settle: NodeJS.Timeout | undefined;
      const giveUp = setTimeout(() => reject(new Error(`gave up reading ${topic}: ${messages.length} messages so far`)), Math.max(0, deadline - Date.now()));
      const finish = () => {
        clearTimeout(giveUp);
        resolve();
      };
      stream.on('data', (m: KafkaMessage) => {
        messages.push({
          key: m.key, value: JSON.parse(m.value) as unknown, partition: m.partition, offset: m.offset,
          headers: Object.fromEntries([...m.headers].map(([k, v]) => [String(k), String(v)])),
        });
        if (!settle && until(messages)) settle = setTimeout(finish, options.settleMs ?? 500);
      });
      stream.on('error', reject);
    });
    return messages;
  } finally {
    await stream.close().catch(() => undefined);
    await new Promise<void>((resolve) => consumer.close(true, () => resolve()));
  }
}

/**
 * A fresh consumer joined to a fresh group. Right after a broker (re)start the group coordinator
 * may still be loading and answer JoinGroup with a retriable error more times than the client's
 * own retries cover: join again with a new consumer until the deadline, then give the last error.
 */
async function joinGroup(kafka: KafkaServer, topic: string, deadline: number) {
  for (let attempt = 1; ; attempt++) {
    const consumer = createKafkaConsumer(kafkaConfig(kafka), { clientId: 'test-reader', groupId: `test-reader-${randomUUID()}` });
    try {
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest', maxWaitTime: 200 });
      return { consumer, stream };
    } catch (err) {
      await new Promise<void>((resolve) => consumer.close(true, () => resolve()));
      if (Date.now() >= deadline) throw new Error(`could not join a consumer group on ${topic} after ${attempt} attempts`, { cause: err });
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
