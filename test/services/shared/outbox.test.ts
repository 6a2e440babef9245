/**
 * The transactional outbox against real PostgreSQL and Kafka (SASL_SSL, SCRAM-SHA-512) from the
 * harness: enqueue in the caller's transaction, the relay's per-key order (also with two relays
 * racing), its wake by its writers' commits, schema validation, processOnce de-duplication, and
 * the one-source migration.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { Pool } from 'pg';
import { Registry } from 'prom-client';
import { createTestCa, startKafka, startPostgres } from '../../harness';
import type { DatabaseAccess, KafkaServer, PostgresServer, TestCa } from '../../harness';
import { ORDER_EVENTS_TOPIC, PAYMENT_EVENTS_TOPIC, newEvent, topicOf, validateEvent } from '../../../services/events';
import {
  OUTBOX_MIGRATION_SQL, OutboxRelay, createKafkaProducer, defaultProcessedRetentionMs, createLogger, enqueue, pingKafka, processOnce, runMigrations, withTransaction,
} from '../../../services/shared/src';
import { kafkaConfig, readTopic } from '../order-service/kafka-read';
import { loadPlatformSpec } from '../../../lib/spec';

const ROOT = resolve(__dirname, '..', '..', '..');
const silent = createLogger({ service: 'outbox-test', level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

let ca: TestCa;
let pg: PostgresServer;
let kafka: KafkaServer;
let db: DatabaseAccess;
let pool: Pool;

beforeAll(async () => {
  ca = await createTestCa();
  [pg, kafka] = await Promise.all([
    startPostgres({ ca }),
    startKafka({ ca, topics: [topicOf('order-service'), topicOf('payment-service')] }),
  ]);
  db = await pg.createDatabase('outbox');
  pool = new Pool({ connectionString: db.url, max: 10 });
  // As the services' pools do (shared/src/postgres.ts): an idle connection the server closes
  // is replaced, not a crash; the assertions below are about what was published.
  pool.on('error', () => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'outbox-migrations-'));
  writeFileSync(join(dir, '001_outbox.sql'), OUTBOX_MIGRATION_SQL);
  try {
    await runMigrations({ pool, dir, migrationsTable: 'pgmigrations_outbox_test', logger: silent });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

afterAll(async () => {
  await pool?.end();
  await Promise.all([pg?.dispose(), kafka?.dispose()]);
});

function created(orderId: string, n: number) {
  return newEvent('order.created', orderId, {
    userId: '00000000-0000-4000-8000-000000000001', status: 'pending',
    total: { amount: `${n}.00`, currency: 'USD' }, items: [{ productId: `p${n}`, quantity: 1, unitPrice: { amount: `${n}.00`, currency: 'USD' } }],
  });
}

function relay(registry = new Registry(), batchSize?: number): OutboxRelay {
  return new OutboxRelay({
    pool, registry, logger: silent, batchSize, pollIntervalMs: 100,
    createProducer: () => createKafkaProducer(kafkaConfig(kafka), { clientId: 'outbox-test' }),
  });
}

async function unsent(): Promise<number> {
  const { rows } = await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM outbox WHERE sent_at IS NULL');
  return Number(rows[0]!.n);
}

describe('the outbox migration has one source', () => {
  test('every service copy equals OUTBOX_MIGRATION_SQL; order-service has one', () => {
    const copies = readdirSync(join(ROOT, 'services'))
      .map((svc) => join(ROOT, 'services', svc, 'migrations'))
      .filter((dir) => existsSync(dir))
      .flatMap((dir) => readdirSync(dir).filter((f) => /^\d+_outbox\.sql$/.test(f)).map((f) => join(dir, f)));
    expect(copies.some((f) => f.includes(join('order-service', 'migrations')))).toBe(true);
    for (const file of copies) expect({ file, sql: readFileSync(file, 'utf8') }).toEqual({ file, sql: OUTBOX_MIGRATION_SQL });
  });
});

describe('enqueue', () => {
  test('writes in the caller\'s transaction: a rollback leaves no row', async () => {
    const event = created(randomUUID(), 1);
    await expect(withTransaction(pool, async (client) => {
      await enqueue(client, event);
      throw new Error('the state change failed');
    })).rejects.toThrow('the state change failed');
    const { rowCount } = await pool.query('SELECT 1 FROM outbox WHERE event_id = $1', [event.eventId]);
    expect(rowCount).toBe(0);
  });

  test('rejects an event its schema does not accept, naming the field', async () => {
    const bad = { ...created(randomUUID(), 1), orderId: 'not-a-uuid' };
    await expect(withTransaction(pool, (client) => enqueue(client, bad))).rejects.toThrow('orderId: must match format "uuid"');
    const wrongMoney = newEvent('order.paid', randomUUID(), { userId: randomUUID(), status: 'paid', total: { amount: '1.234', currency: 'USD' }, paymentEventId: randomUUID() });
    await expect(withTransaction(pool, (client) => enqueue(client, wrongMoney))).rejects.toThrow('payload.total.amount: must match pattern');
  });
});

describe('OutboxRelay', () => {
  test('publishes every row to its topic keyed by order id, in order per key, and marks them sent', async () => {
    const probe = createKafkaProducer(kafkaConfig(kafka), { clientId: 'ping' });
    await pingKafka(probe, [ORDER_EVENTS_TOPIC, PAYMENT_EVENTS_TOPIC]);
    await expect(pingKafka(probe, ['no-such-topic'])).rejects.toThrow();
    await probe.close();
    const orders = Array.from({ length: 5 }, () => randomUUID());
    const expected = new Map<string, string[]>(orders.map((o) => [o, []]));
    // Interleaved across orders, several events per order, some in one transaction.
    for (let round = 0; round < 6; round++) {
      await withTransaction(pool, async (client) => {
        for (const orderId of orders) {
          const event = created(orderId, round + 1);
          await enqueue(client, event);
          expected.get(orderId)!.push(event.eventId);
        }
      });
    }
    const paymentEvent = newEvent('payment.captured', orders[0]!, { paymentId: 'pay_1', amount: { amount: '1.00', currency: 'USD' } });
    await withTransaction(pool, (client) => enqueue(client, paymentEvent));

    const registry = new Registry();
    const r = relay(registry, 7);
    r.start();
    try {
      const messages = await readTopic(kafka, ORDER_EVENTS_TOPIC, (m) => m.length >= 30);
      expect(messages).toHaveLength(30);
      for (const orderId of orders) {
        const mine = messages.filter((m) => m.key === orderId);
        expect(mine.map((m) => (m.value as { eventId: string }).eventId)).toEqual(expected.get(orderId));
        expect(new Set(mine.map((m) => m.partition)).size).toBe(1);
      }
      for (const m of messages) {
        expect(validateEvent(ORDER_EVENTS_TOPIC, m.value)).toEqual([]);
        expect(m.headers['event-id']).toBe((m.value as { eventId: string }).eventId);
      }
      const payments = await readTopic(kafka, PAYMENT_EVENTS_TOPIC, (m) => m.length >= 1);
      expect(payments.map((m) => [m.key, m.value])).toEqual([[orders[0], paymentEvent]]);
      expect(await unsent()).toBe(0);
      const lag = await registry.getSingleMetric('outbox_publish_lag_seconds')!.get();
      const count = (topic: string) => lag.values.find((v) => (v as { metricName?: string }).metricName === 'outbox_publish_lag_seconds_count' && v.labels.topic === topic)?.value;
      expect([count(ORDER_EVENTS_TOPIC), count(PAYMENT_EVENTS_TOPIC)]).toEqual([30, 1]);
      const pending = await registry.getSingleMetric('outbox_pending')!.get();
      expect(pending.values.every((v) => v.value === 0)).toBe(true);
    } finally {
      await r.stop();
    }
  });

  test('two relays racing keep every key in order and lose nothing', async () => {
    const orders = Array.from({ length: 20 }, () => randomUUID());
    const expected = new Map<string, string[]>(orders.map((o) => [o, []]));
    const relays = [relay(new Registry(), 3), relay(new Registry(), 5)];
    relays.forEach((r) => r.start());
    try {
      // Written while both relays run, so claims interleave with writes.
      for (let round = 0; round < 5; round++) {
        await Promise.all(orders.map((orderId) => withTransaction(pool, async (client) => {
          const event = created(orderId, round + 1);
          await enqueue(client, event);
          expected.get(orderId)!.push(event.eventId);
        })));
      }
      const isFresh = (m: { key: string }) => expected.has(m.key);
      const fresh = (await readTopic(kafka, ORDER_EVENTS_TOPIC, (m) => m.filter(isFresh).length >= 100)).filter(isFresh);
      for (const orderId of orders) {
        const ids = fresh.filter((m) => m.key === orderId).map((m) => (m.value as { eventId: string }).eventId);
        // At least once: a duplicate may only repeat an id already seen, never reorder.
        const firstSeen = ids.filter((id, i) => ids.indexOf(id) === i);
        expect(firstSeen).toEqual(expected.get(orderId));
      }
    } finally {
      await Promise.all(relays.map((r) => r.stop()));
    }
    expect(await unsent()).toBe(0);
  });
});

describe('the relay is woken by its writers\' commits', () => {
  test('a commit on its pool wakes it at once; a rollback, or a write through another pool (another replica), waits for its poll', async () => {
    // A poll far beyond the test's budget: whatever is published in time was woken by a commit.
    const r = new OutboxRelay({
      pool, registry: new Registry(), logger: silent, pollIntervalMs: 600_000,
      createProducer: () => createKafkaProducer(kafkaConfig(kafka), { clientId: 'outbox-wake-test' }),
    });
    const other = new Pool({ connectionString: db.url, max: 2 });
    other.on('error', () => undefined);
    const isSent = async (eventId: string) => (await pool.query('SELECT 1 FROM outbox WHERE event_id = $1 AND sent_at IS NOT NULL', [eventId])).rowCount === 1;
    r.start();
    try {
      // Its first pass is done (it reached PostgreSQL and Kafka); now it sleeps until woken.
      for (let i = 0; i < 600 && !r.isHealthy; i++) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(r.isHealthy).toBe(true);

      const elsewhere = created(randomUUID(), 1);
      await withTransaction(other, (client) => enqueue(client, elsewhere));
      const rolledBack = created(randomUUID(), 2);
      await expect(withTransaction(pool, async (client) => {
        await enqueue(client, rolledBack);
        throw new Error('abandoned');
      })).rejects.toThrow('abandoned');
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expect(await isSent(elsewhere.eventId)).toBe(false);

      const here = created(randomUUID(), 3);
      await withTransaction(pool, (client) => enqueue(client, here));
      const wanted = new Set([here.eventId, elsewhere.eventId]);
      const seen = await readTopic(kafka, ORDER_EVENTS_TOPIC, (m) => m.filter((x) => wanted.has((x.value as { eventId: string }).eventId)).length >= 2);
      const ids = seen.map((x) => (x.value as { eventId: string }).eventId);
      expect(ids).toEqual(expect.arrayContaining([here.eventId, elsewhere.eventId]));
      expect(ids).not.toContain(rolledBack.eventId);
      expect([await isSent(here.eventId), await isSent(elsewhere.eventId)]).toEqual([true, true]);
    } finally {
      await r.stop();
      await other.end();
    }
  });
});

describe('processed_events retention', () => {
  test('the relay deletes de-duplication rows older than the spec\'s longest topic retention + 1 day, and keeps newer ones', async () => {
    const retentionMs = defaultProcessedRetentionMs();
    const hours = Math.max(...loadPlatformSpec().dataTier.kafka.topics.map((t) => t.retentionHours));
    expect(retentionMs).toBe((hours + 24) * 3600_000);
    const [old, recent] = [randomUUID(), randomUUID()];
    await pool.query(`INSERT INTO processed_events (event_id, processed_at) VALUES
      ($1, now() - make_interval(secs => $3)), ($2, now() - make_interval(secs => $4))`,
    [old, recent, retentionMs / 1000 + 60, retentionMs / 1000 - 3600]);
    const r = relay();
    r.start();
    try {
      let left: string[] = [];
      for (let i = 0; i < 100; i++) {
        left = (await pool.query<{ event_id: string }>('SELECT event_id FROM processed_events WHERE event_id = ANY($1)', [[old, recent]])).rows.map((x) => x.event_id);
        if (!left.includes(old)) break;
        await new Promise((done) => setTimeout(done, 100));
      }
      expect(left).toEqual([recent]);
    } finally {
      await r.stop();
    }
  });
});

describe('processOnce', () => {
  test('runs the effect once per event id, in the caller\'s transaction', async () => {
    await pool.query('CREATE TABLE IF NOT EXISTS effects (event_id uuid, n int)');
    const eventId = randomUUID();
    const apply = () => withTransaction(pool, (client) => processOnce(client, eventId, async (c) => {
      await c.query('INSERT INTO effects VALUES ($1, 1)', [eventId]);
      return 'applied';
    }));
    expect(await apply()).toEqual({ processed: true, result: 'applied' });
    expect(await apply()).toEqual({ processed: false });
    // A failed effect rolls back its processed_events row too: the redelivery applies it.
    const other = randomUUID();
    await expect(withTransaction(pool, (client) => processOnce(client, other, () => Promise.reject(new Error('down'))))).rejects.toThrow('down');
    expect(await withTransaction(pool, (client) => processOnce(client, other, () => Promise.resolve(1)))).toEqual({ processed: true, result: 1 });
    const { rows } = await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM effects WHERE event_id = $1', [eventId]);
    expect(rows[0]!.n).toBe('1');
  });
});
