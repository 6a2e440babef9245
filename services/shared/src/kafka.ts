/**
 * Kafka clients (MSK) from the environment contract: SASL/SCRAM-SHA-512 over TLS only, never
 * plaintext. The producer is idempotent (acks=all, one request in flight per broker, broker-side
 * de-duplication of retries) and partitions by key with Java's murmur2 so every client of the
 * topic agrees on an aggregate's partition. The SCRAM password is read from its mounted file for
 * every new connection, so a rotated secret is used without a restart.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import {
  Admin, Consumer, MessagesStreamFallbackModes, MessagesStreamModes, Producer, compatibilityPartitioner,
  stringDeserializers, stringSerializers,
} from '@platformatic/kafka';
import type { BaseOptions, Message, MessagesStream } from '@platformatic/kafka';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';
import type { KafkaConfig } from './config';

export type KafkaProducer = Producer<string, string, string, string>;
export type KafkaConsumer = Consumer<string, string, string, string>;
export type KafkaMessage = Message<string, string, string, string>;
export type { Admin as KafkaAdmin };

export interface KafkaClientOptions {
  /** Shown in broker logs and quotas, e.g. `order-service-outbox`. */
  readonly clientId: string;
  /** Time to open a TCP+TLS+SASL connection (default 5 s). */
  readonly connectTimeoutMs?: number;
  /** Per request (default 10 s): above the broker's own 30 s produce timeout would hide a dead broker. */
  readonly requestTimeoutMs?: number;
  /**
   * Retries of one operation inside the client (default 3, 250 ms apart). Callers that must not
   * give up (the outbox relay) retry on their own with backoff, so this stays small: a stopped
   * broker surfaces as an error within seconds instead of a promise that never settles.
   */
  readonly retries?: number;
  readonly retryDelayMs?: number;
}

function tlsOptions(config: KafkaConfig): TlsOptions {
  // Without KAFKA_CA_FILE Node's bundled public roots verify MSK's certificates.
  return {
    rejectUnauthorized: true,
    ...(config.KAFKA_CA_FILE ? { ca: readFileSync(config.KAFKA_CA_FILE, 'utf8') } : {}),
  };
}

/** Options every client shares: brokers, TLS, SCRAM, timeouts. */
export function kafkaBaseOptions(config: KafkaConfig, options: KafkaClientOptions): BaseOptions {
  return {
    clientId: options.clientId,
    bootstrapBrokers: [...config.KAFKA_BROKERS],
    tls: tlsOptions(config),
    sasl: {
      mechanism: 'SCRAM-SHA-512',
      username: config.KAFKA_SASL_USERNAME,
      password: async () => (await readFile(config.KAFKA_SASL_PASSWORD_FILE, 'utf8')).trim(),
    },
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    requestTimeout: options.requestTimeoutMs ?? 10_000,
    timeout: options.requestTimeoutMs ?? 10_000,
    retries: options.retries ?? 3,
    retryDelay: options.retryDelayMs ?? 250,
    // Topics come from lib/spec and are created by the platform, never by a typo in a client.
    autocreateTopics: false,
  };
}

/** An idempotent producer (acks=all) with string keys and values. */
export function createKafkaProducer(config: KafkaConfig, options: KafkaClientOptions): KafkaProducer {
  return new Producer<string, string, string, string>({
    ...kafkaBaseOptions(config, options),
    idempotent: true,
    acks: -1,
    // Same partition for a key as the Java client's default partitioner.
    partitioner: compatibilityPartitioner,
    serializers: stringSerializers,
  });
}

export interface KafkaConsumerOptions extends KafkaClientOptions {
  readonly groupId: string;
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
}

/** A group consumer with string keys and values; offsets are committed by the caller. */
export function createKafkaConsumer(config: KafkaConfig, options: KafkaConsumerOptions): KafkaConsumer {
  return new Consumer<string, string, string, string>({
    ...kafkaBaseOptions(config, options),
    groupId: options.groupId,
    // 10 s (Kafka's former default): a replica that died, or the member from before a broker
    // restart, hands its partitions over in seconds rather than half a minute.
    sessionTimeout: options.sessionTimeoutMs ?? 10_000,
    heartbeatInterval: options.heartbeatIntervalMs ?? 3_000,
    deserializers: stringDeserializers,
    // Commit after the effect is stored, never before (at-least-once; consumers de-duplicate).
    autocommit: false,
  });
}

export function createKafkaAdmin(config: KafkaConfig, options: KafkaClientOptions): Admin {
  return new Admin(kafkaBaseOptions(config, options));
}

/**
 * Readiness: the cluster answers a metadata request for `topics` and every one exists.
 * Uses the given client's own connections, so it proves what that client can reach.
 */
export async function pingKafka(client: Producer<string, string, string, string> | Consumer<string, string, string, string> | Admin, topics: readonly string[]): Promise<void> {
  const metadata = await client.metadata({ topics: [...topics], forceUpdate: true });
  const missing = topics.filter((t) => !metadata.topics.has(t));
  if (missing.length > 0) throw new Error(`Kafka topics missing: ${missing.join(', ')}`);
}

export interface EventConsumerOptions extends KafkaConsumerOptions {
  readonly topics: readonly string[];
  readonly logger: Logger;
  /**
   * Applies one message. Throwing means "try again": the message is retried with backoff and
   * its offset is not committed, so nothing is skipped while, say, PostgreSQL is down. A message
   * that can never be applied (malformed) must be handled (logged, counted) and not thrown.
   */
  readonly handle: (message: KafkaMessage) => Promise<void | ConsumeOutcome>;
  /** Counts every handled message in `kafka_consumer_messages_total{topic,outcome}` (returned outcome; none = processed). */
  readonly registry?: Registry;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Longest wait of one fetch when the topic is idle (default 1 s): also bounds stop(). */
  readonly maxWaitTimeMs?: number;
}

/** What handling a message did: applied it, recognised a redelivery (de-duplicated), or skipped it as invalid. */
export type ConsumeOutcome = 'processed' | 'duplicate' | 'invalid';

class Stopped extends Error {}

/**
 * Consumes `topics` as a group member, one message at a time in partition order, committing each
 * offset after its effect is stored (at least once; handlers de-duplicate with processOnce).
 * Survives Kafka restarts: a failed consumer is closed and a new one joins after a backoff,
 * resuming from the committed offsets.
 */
export class EventConsumer {
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private running: Promise<void> | undefined;
  private stopped = false;
  private stream: MessagesStream<string, string, string, string> | undefined;
  private wake: (() => void) | undefined;
  private healthy = false;
  private readonly handled: Counter<'topic' | 'outcome'> | undefined;

  constructor(private readonly config: KafkaConfig, private readonly options: EventConsumerOptions) {
    this.minBackoffMs = options.minBackoffMs ?? 200;
    this.maxBackoffMs = options.maxBackoffMs ?? 5000;
    this.handled = options.registry && new Counter({
      name: 'kafka_consumer_messages_total',
      help: 'Consumed messages by topic and outcome (processed, duplicate: an event id seen before, invalid: skipped).',
      labelNames: ['topic', 'outcome'],
      registers: [options.registry],
    });
  }

  start(): void {
    if (this.running || this.stopped) return;
    this.running = this.loop();
  }

  /** Readiness: a consumer is joined and fetching. */
  get isHealthy(): boolean {
    return this.healthy;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.stream?.close().catch(() => undefined);
    await this.running;
  }

  private async loop(): Promise<void> {
    const { logger } = this.options;
    let backoff = this.minBackoffMs;
    let failing = false;
    while (!this.stopped) {
      const consumer = createKafkaConsumer(this.config, this.options);
      try {
        const stream = await consumer.consume({
          topics: [...this.options.topics],
          // A new group starts at the beginning: events written before the first start count.
          mode: MessagesStreamModes.COMMITTED,
          fallbackMode: MessagesStreamFallbackModes.EARLIEST,
          maxWaitTime: this.options.maxWaitTimeMs ?? 1000,
        });
        this.stream = stream;
        if (this.stopped) break;
        this.healthy = true;
        if (failing) logger.info('Kafka consumer recovered');
        failing = false;
        backoff = this.minBackoffMs;
        for await (const message of stream as AsyncIterable<KafkaMessage>) {
          await this.handleWithRetry(message);
          await message.commit();
          if (this.stopped) break;
        }
      } catch (err) {
        if (err instanceof Stopped || this.stopped) break;
        this.healthy = false;
        if (!failing) logger.warn({ err }, 'Kafka consumer failed; rejoining with backoff');
        failing = true;
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, this.maxBackoffMs);
      } finally {
        this.healthy = false;
        await this.stream?.close().catch(() => undefined);
        this.stream = undefined;
        // Forced: a dead broker must not hold the loop; the group rebalances after the session timeout.
        await new Promise<void>((resolve) => consumer.close(true, () => resolve()));
      }
    }
  }

  private async handleWithRetry(message: KafkaMessage): Promise<void> {
    let backoff = this.minBackoffMs;
    for (let attempt = 1; ; attempt++) {
      if (this.stopped) throw new Stopped();
      try {
        const outcome = await this.options.handle(message);
        this.handled?.inc({ topic: message.topic, outcome: outcome ?? 'processed' });
        return;
      } catch (err) {
        if (attempt === 1) {
          this.options.logger.warn({ err, topic: message.topic, partition: message.partition, offset: String(message.offset) }, 'handling a Kafka message failed; retrying');
        }
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, this.maxBackoffMs);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}
