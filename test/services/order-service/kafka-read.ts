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
  const consumer = createKafkaConsumer(kafkaConfig(kafka), { clientId: 'test-reader', groupId: `test-reader-${randomUUID()}` });
  const messages: ReadMessage[] = [];
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', maxWaitTime: 200 });
  try {
    await new Promise<void>((resolve, reject) => {
      let settle: NodeJS.Timeout | undefined;
      const giveUp = setTimeout(() => reject(new Error(`gave up reading ${topic}: ${messages.length} messages so far`)), options.giveUpMs ?? 90_000);
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
