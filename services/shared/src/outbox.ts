/**
 * The transactional outbox (DESIGN.md §5, write path Service -> Database -> Kafka): a state
 * change and its event are written in one PostgreSQL transaction (`enqueue`), and a relay
 * publishes unsent rows to Kafka afterwards, so no event is lost while Kafka is down and none is
 * published for a change that rolled back. Delivery is at least once; consumers de-duplicate by
 * event id with `processOnce` in the transaction of their own effect.
 */
import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import { EVENT_SCHEMAS, assertValidEvent } from '../../events';
import type { EventEnvelope } from '../../events';
import { loadPlatformSpec } from '../../../lib/spec';
import type { KafkaProducer } from './kafka';

/**
 * The outbox migration, one source for every service: each service that publishes keeps a copy
 * as `migrations/NNN_outbox.sql` (node-pg-migrate SQL format), written with
 * `npx tsx -e "process.stdout.write(require('./services/shared/src/outbox').OUTBOX_MIGRATION_SQL)" > services/<svc>/migrations/NNN_outbox.sql`;
 * test/services/shared/outbox.test.ts fails when a copy differs.
 */
export const OUTBOX_MIGRATION_SQL = `-- Up Migration
-- The transactional outbox (services/shared/src/outbox.ts; generated from OUTBOX_MIGRATION_SQL, do not edit).
-- id orders publishing; an aggregate's rows are published in id order (message_key = order id).
CREATE TABLE outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id uuid NOT NULL,
  topic text NOT NULL,
  message_key text NOT NULL,
  event_type text NOT NULL,
  event jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  sent_at timestamptz,
  CONSTRAINT outbox_event_id_key UNIQUE (event_id)
);
-- The relay's scan: unsent rows in id order, and "is an earlier row of this key still unsent?".
CREATE INDEX outbox_unsent_idx ON outbox (id) WHERE sent_at IS NULL;
CREATE INDEX outbox_unsent_key_idx ON outbox (message_key, id) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent_at_idx ON outbox (sent_at) WHERE sent_at IS NOT NULL;

-- Consumers: events already applied (processOnce), kept longer than the topics' retention.
CREATE TABLE processed_events (
  event_id uuid PRIMARY KEY,
  processed_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE processed_events;
DROP TABLE outbox;
`;

/** Anything that runs a query: a pool client inside the caller's transaction. */
export type Queryable = Pick<PoolClient, 'query'>;

function topicForType(type: string): string {
  const entry = EVENT_SCHEMAS.find((s) => s.types.includes(type));
  if (!entry) throw new Error(`no topic publishes event type ${JSON.stringify(type)}`);
  return entry.topic;
}

/**
 * The relays are woken in process, by the transaction that wrote the rows, once it has
 * committed: the writer and its relay share a pool, and every replica runs both. Not by
 * LISTEN/NOTIFY: PgBouncer's transaction pooling, which the services connect through, does not
 * deliver notifications (the relay would wait for its poll), and NOTIFY serialises the commits
 * of every notifying transaction on one lock. A row whose writer died before the wake is picked
 * up by the next poll.
 */
const wroteEvents = new WeakSet<object>();
const commitListeners = new WeakMap<Pool, Set<() => void>>();

/** Calls `listener` after each commit on `pool` of a transaction that enqueued events; returns the unsubscribe. */
export function onOutboxCommit(pool: Pool, listener: () => void): () => void {
  let listeners = commitListeners.get(pool);
  if (!listeners) commitListeners.set(pool, (listeners = new Set()));
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

/**
 * Call when the transaction on `client` has ended (`committed`: whether by COMMIT): wakes the
 * pool's relays if it enqueued events. withTransaction does this itself.
 */
export function outboxTransactionEnded(pool: Pool, client: object, committed: boolean): void {
  if (!wroteEvents.delete(client) || !committed) return;
  for (const listener of commitListeners.get(pool) ?? []) listener();
}

/**
 * Writes `event` to the outbox in the caller's transaction (call between BEGIN and COMMIT on
 * the same client as the state change). The event is validated against its topic's schema
 * first, so an invalid event fails the transaction instead of reaching Kafka. Kafka key: orderId.
 */
export async function enqueue(client: Queryable, event: EventEnvelope): Promise<void> {
  const topic = topicForType(event.type);
  assertValidEvent(topic, event);
  await client.query(
    'INSERT INTO outbox (event_id, topic, message_key, event_type, event) VALUES ($1, $2, $3, $4, $5)',
    [event.eventId, topic, event.orderId, event.type, JSON.stringify(event)],
  );
  wroteEvents.add(client);
}

/**
 * Runs `effect` once per event id: records the id in processed_events in the caller's
 * transaction and runs `effect` only when it was new. Returns whether it ran (and its result).
 */
export async function processOnce<T>(client: Queryable, eventId: string, effect: (client: Queryable) => Promise<T>): Promise<{ processed: true; result: T } | { processed: false }> {
  const inserted = await client.query('INSERT INTO processed_events (event_id) VALUES ($1) ON CONFLICT (event_id) DO NOTHING RETURNING event_id', [eventId]);
  if (inserted.rowCount === 0) return { processed: false };
  return { processed: true, result: await effect(client) };
}

/**
 * BEGIN; fn(client); COMMIT — ROLLBACK on error. The client goes back to the pool either way;
 * the pool's relays are woken when the committed transaction enqueued events.
 */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    outboxTransactionEnded(pool, client, true);
    return result;
  } catch (err) {
    outboxTransactionEnded(pool, client, false);
    try {
      await client.query('ROLLBACK');
    } catch {
      broken = true;
    }
    throw err;
  } finally {
    // A connection that cannot even roll back is dropped rather than reused.
    client.release(broken ? true : undefined);
  }
}

export interface OutboxRelayOptions {
  readonly pool: Pool;
  /** Makes a producer; called again after a failed send (a fresh idempotent producer session). */
  readonly createProducer: () => KafkaProducer;
  readonly logger: Logger;
  readonly registry: Registry;
  /** Rows per Kafka request (default 200). */
  readonly batchSize?: number;
  /**
   * Poll interval (default 1000 ms): the relay is woken at once by the commits of its pool's
   * writers; the poll finds rows whose writer died between its commit and the wake.
   */
  readonly pollIntervalMs?: number;
  /** Backoff while Kafka or PostgreSQL fails: from min, doubling, up to max (default 200 ms .. 5 s). */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** A send not acknowledged by then counts as failed (default 30 s). */
  readonly sendTimeoutMs?: number;
  /** Sent rows are deleted after this long (default 24 h); kept a while for inspection. */
  readonly retentionMs?: number;
  /**
   * processed_events rows are deleted after this long: longer than any topic keeps a message
   * (a redelivery older than that cannot happen). Default: the spec's longest topic retention + 1 day.
   */
  readonly processedRetentionMs?: number;
}

/** The longest retention of the spec's topics, plus a day. */
export function defaultProcessedRetentionMs(): number {
  const hours = Math.max(...loadPlatformSpec().dataTier.kafka.topics.map((t) => t.retentionHours));
  return (hours + 24) * 3600_000;
}

// Lag buckets: from a healthy few ms up to minutes of Kafka outage.
const LAG_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
const PRUNE_EVERY_MS = 60_000;

interface OutboxRow {
  id: string;
  topic: string;
  message_key: string;
  event_id: string;
  event_type: string;
  event: unknown;
  created_at: Date;
}

/**
 * Publishes unsent outbox rows to Kafka, keyed by aggregate, and marks them sent. Several
 * replicas can run it: rows are claimed with FOR UPDATE SKIP LOCKED, and a row is published only
 * when no earlier unsent row of its key is held by another replica, so per-key order holds.
 * While Kafka or PostgreSQL is down it backs off and retries; nothing is skipped or reordered.
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly sendTimeoutMs: number;
  private readonly retentionMs: number;
  private producer: KafkaProducer | undefined;
  private unsubscribe: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private woken = false;
  private lastPrune = 0;
  private readonly processedRetentionMs: number;
  private healthy = false;
  readonly pendingGauge: Gauge<'topic'>;
  private readonly publishedTopics = new Set<string>();
  private readonly lagSeconds: Histogram<'topic'>;
  private readonly publishedTotal: Counter<'topic'>;
  private readonly errorsTotal: Counter;

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = options.batchSize ?? 200;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.minBackoffMs = options.minBackoffMs ?? 200;
    this.maxBackoffMs = options.maxBackoffMs ?? 5000;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 30_000;
    this.retentionMs = options.retentionMs ?? 24 * 3600_000;
    this.processedRetentionMs = options.processedRetentionMs ?? defaultProcessedRetentionMs();
    const pool = options.pool;
    const published = this.publishedTopics;
    this.pendingGauge = new Gauge({
      name: 'outbox_pending',
      help: 'Outbox rows not yet acknowledged by Kafka, by topic.',
      labelNames: ['topic'],
      registers: [options.registry],
      async collect() {
        // Read at scrape time, so the figure is right even while the relay is stuck.
        try {
          const { rows } = await pool.query<{ topic: string; n: string }>('SELECT topic, count(*)::text AS n FROM outbox WHERE sent_at IS NULL GROUP BY topic');
          this.reset();
          // An explicit 0 for the topics this relay publishes to: an empty backlog is a series too.
          for (const topic of published) this.set({ topic }, 0);
          for (const row of rows) this.set({ topic: row.topic }, Number(row.n));
        } catch {
          // PostgreSQL down: keep the last figure rather than failing the whole scrape.
        }
      },
    });
    this.lagSeconds = new Histogram({
      name: 'outbox_publish_lag_seconds',
      help: 'Outbox-to-Kafka lag: from the row\'s creation to the broker\'s acknowledgement, by topic.',
      labelNames: ['topic'],
      buckets: LAG_BUCKETS_SECONDS,
      registers: [options.registry],
    });
    this.publishedTotal = new Counter({ name: 'outbox_published_total', help: 'Outbox rows published to Kafka, by topic.', labelNames: ['topic'], registers: [options.registry] });
    this.errorsTotal = new Counter({ name: 'outbox_publish_errors_total', help: 'Failed relay passes (Kafka or PostgreSQL unavailable).', registers: [options.registry] });
  }

  /** Starts the relay loop (idempotent). */
  start(): void {
    if (this.running || this.stopped) return;
    this.unsubscribe = onOutboxCommit(this.options.pool, () => this.notify());
    this.running = this.loop();
  }

  /** Readiness: the last pass reached both PostgreSQL and Kafka. */
  get isHealthy(): boolean {
    return this.healthy;
  }

  /** Publishes now instead of at the next poll. */
  notify(): void {
    this.woken = true;
    this.wake?.();
  }

  /** Stops after the current pass (its rows are either sent and marked or left unsent). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.unsubscribe?.();
    await this.running;
    await this.closeProducer();
  }

  /**
   * One pass: claims up to batchSize publishable rows, sends them, marks them sent, commits.
   * Returns how many rows were published. Throws when PostgreSQL or Kafka fails (rows stay unsent).
   */
  async publishBatch(): Promise<number> {
    const client = await this.options.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      // Claim unsent rows; skip those another replica holds. Then drop any row whose key has an
      // earlier unsent row outside this claim (held elsewhere): publishing it would overtake.
      const { rows } = await client.query<OutboxRow>(
        `WITH claimed AS (
           SELECT id, topic, message_key, event_id, event_type, event, created_at
           FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
         )
         SELECT c.* FROM claimed c
         WHERE NOT EXISTS (
           SELECT 1 FROM outbox o
           WHERE o.sent_at IS NULL AND o.message_key = c.message_key AND o.id < c.id
             AND o.id NOT IN (SELECT id FROM claimed)
         )
         ORDER BY c.id`,
        [this.batchSize],
      );
      if (rows.length === 0) {
        await client.query('COMMIT');
        return 0;
      }
      const producer = (this.producer ??= this.options.createProducer());
      await this.withTimeout(producer.send({
        messages: rows.map((row) => ({
          topic: row.topic,
          key: row.message_key,
          value: JSON.stringify(row.event),
          headers: { 'event-id': row.event_id, 'event-type': row.event_type },
        })),
      }));
      const ackedAt = Date.now();
      await client.query('UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
      await client.query('COMMIT');
      for (const row of rows) {
        this.lagSeconds.observe({ topic: row.topic }, Math.max(0, ackedAt - row.created_at.getTime()) / 1000);
        this.publishedTotal.inc({ topic: row.topic });
        this.publishedTopics.add(row.topic);
      }
      return rows.length;
    } catch (err) {
      // Sent but not marked (COMMIT lost) means a duplicate later, which consumers absorb.
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw err;
    } finally {
      client.release(broken ? true : undefined);
    }
  }

  private async withTimeout<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        promise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`Kafka did not acknowledge within ${this.sendTimeoutMs} ms`)), this.sendTimeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async loop(): Promise<void> {
    const { logger } = this.options;
    let backoff = this.minBackoffMs;
    let failing = false;
    while (!this.stopped) {
      try {
        this.woken = false;
        let published: number;
        let total = 0;
        // Drain: keep going while full batches come back.
        do {
          published = await this.publishBatch();
          total += published;
        } while (published === this.batchSize && !this.stopped);
        this.healthy = true;
        if (failing) logger.info({ published: total }, 'outbox relay recovered');
        failing = false;
        backoff = this.minBackoffMs;
        await this.prune();
        if (!this.woken) await this.sleep(this.pollIntervalMs);
      } catch (err) {
        this.healthy = false;
        this.errorsTotal.inc();
        // Logged once per outage, then quietly retried: a Kafka restart is expected weather.
        if (!failing) logger.warn({ err }, 'outbox relay pass failed; retrying with backoff');
        failing = true;
        // A failed send may leave the idempotent session's sequence numbers unknown: start afresh.
        await this.closeProducer();
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, this.maxBackoffMs);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  private async closeProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    // Forced: in-flight requests to a dead broker are abandoned (their rows stay unsent).
    if (producer) await new Promise<void>((resolve) => producer.close(true, () => resolve()));
  }

  private async prune(): Promise<void> {
    const now = Date.now();
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    await this.options.pool.query(
      `DELETE FROM outbox WHERE id IN (
         SELECT id FROM outbox WHERE sent_at < now() - make_interval(secs => $1) ORDER BY sent_at LIMIT 5000
       )`,
      [this.retentionMs / 1000],
    );
    await this.options.pool.query(
      `DELETE FROM processed_events WHERE event_id IN (
         SELECT event_id FROM processed_events WHERE processed_at < now() - make_interval(secs => $1) LIMIT 5000
       )`,
      [this.processedRetentionMs / 1000],
    );
  }
}
