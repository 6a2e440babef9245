/**
 * The analytics Flink job end to end: real Kafka (KRaft, SASL_SSL SCRAM-SHA-512) and
 * real PostgreSQL standing in for the warehouse. A known event sequence (events.ts) is published,
 * the job runs bounded on a MiniCluster and the warehouse tables must hold exactly the rows worked
 * out by hand below; a second full replay with a fresh consumer group must leave them unchanged.
 */
import { compatibilityPartitioner } from '@platformatic/kafka';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { loadPlatformSpec } from '../../lib/spec';
import { ORDER_EVENTS_TOPIC, PAYMENT_EVENTS_TOPIC, validateEvent } from '../../services/events';
import { createKafkaProducer } from '../../services/shared/src';
import { createTestCa, startKafka, startPostgres } from '../harness';
import type { DatabaseAccess, KafkaServer, PostgresServer } from '../harness';
import { ORDERS, eventSequence } from './events';
import type { Published } from './events';
import { MIGRATIONS_DIR, buildAnalyticsJob, runAnalyticsJob, tail } from './job';
import type { PropertyGroups } from './job';
import { randomBytes } from 'node:crypto';
import { readMigrations } from '../../lib/custom-resources/warehouse-schema/migrations';
import { reconcileWarehouse } from '../../lib/custom-resources/warehouse-schema/runner';
import { PgExecutor } from '../custom-resources/warehouse-schema/pg-executor';

const spec = loadPlatformSpec().analytics;
const SCHEMA = spec.warehouse.schemaName;
const PARTITIONS = 3;
const JOB_TIMEOUT_MS = 240_000;

let kafka: KafkaServer | undefined;
let pg: PostgresServer | undefined;
let db: DatabaseAccess;
/** The warehouse admin (superuser of the stand-in): applies the migrations, reads the results. */
let client: Client;
/** The least-privilege user the job writes as, created by the production schema runner. */
const writer = { username: spec.warehouse.writerUsername, password: randomBytes(18).toString('base64url') };
let workDir: string;
let published: (Published & { partition: number; offset: number })[];

function partitionOf(key: string): number {
  return compatibilityPartitioner({ topic: '' }, Buffer.from(key)) % PARTITIONS;
}

function jobConfig(groupId: string): PropertyGroups {
  const quote = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return {
    kafka: {
      topics: spec.flink.topics.join(','),
      'group.id': groupId,
      bounded: 'latest',
      'bootstrap.servers': kafka!.bootstrap,
      'security.protocol': 'SASL_SSL',
      'sasl.mechanism': 'SCRAM-SHA-512',
      'sasl.jaas.config': `org.apache.kafka.common.security.scram.ScramLoginModule required username=${quote(kafka!.username)} password=${quote(kafka!.password)};`,
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': kafka!.caFile,
    },
    warehouse: {
      'jdbc.url': `jdbc:postgresql://${pg!.host}:${pg!.port}/${db.database}?sslmode=verify-full&sslrootcert=${encodeURIComponent(pg!.caFile)}`,
      user: writer.username,
      password: writer.password,
      schema: SCHEMA,
    },
    job: {
      'dedup.retention.hours': String(spec.flink.dedupRetentionHours),
      'watermark.max.out.of.orderness.seconds': String(spec.flink.maxOutOfOrdernessSeconds),
      'watermark.idle.timeout.seconds': String(spec.flink.idleTimeoutSeconds),
      'window.allowed.lateness.minutes': String(spec.flink.allowedLatenessMinutes),
      'local.checkpoint.interval.ms': '1000', // a few checkpoints (sink flushes) within the run
    },
  };
}

async function runJob(name: string, groups: PropertyGroups): Promise<void> {
  const run = await runAnalyticsJob(groups, workDir, name, JOB_TIMEOUT_MS);
  if (run.exitCode !== 0) throw new Error(`analytics job ${name} exited ${run.exitCode ?? run.signal}; last log lines:\n${tail(run.log)}`);
}

async function rows(sql: string): Promise<unknown[][]> {
  return (await client.query({ text: sql, rowMode: 'array' })).rows as unknown[][];
}

const ts = (column: string) => `to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS')`;

/** Every table as text, in key order: what a replay must not change. */
async function snapshot(): Promise<Record<string, string[]>> {
  const tables = ['raw_events', 'rejected_events', 'revenue_per_minute', 'revenue_per_hour', 'payment_outcomes_per_minute',
    'payment_outcomes_per_hour', 'order_funnel', 'order_funnel_latency_hourly'];
  const result: Record<string, string[]> = {};
  for (const table of tables) {
    result[table] = (await client.query(`SELECT row_to_json(t)::text AS r FROM ${SCHEMA}.${table} t ORDER BY 1`)).rows.map((r: { r: string }) => r.r);
  }
  return result;
}

beforeAll(async () => {
  // First run on a machine: Maven fetches the job's dependencies (minutes); afterwards a hash check.
  await buildAnalyticsJob();
  workDir = await mkdtemp(join(tmpdir(), 'platform-test-analytics-'));
  const ca = await createTestCa();
  [kafka, pg] = await Promise.all([
    startKafka({ ca, topics: spec.flink.topics.map((name) => ({ name, partitions: PARTITIONS })) }),
    startPostgres({ ca }),
  ]);
  db = await pg.createDatabase(spec.warehouse.databaseName);
  const adminUrl = new URL(pg.superuserUrl);
  adminUrl.pathname = `/${db.database}`;
  client = new Client({ connectionString: adminUrl.toString() });
  await client.connect();
  // Redshift has no CONNECT privilege (any user may connect); the harness revokes it from PUBLIC.
  await client.query(`GRANT CONNECT ON DATABASE ${db.database} TO PUBLIC`);
  // What Custom::WarehouseSchema does at deploy: the repository's migrations, then the writer user
  // with its grants; the job then writes with exactly those privileges.
  const reconciled = await reconcileWarehouse(new PgExecutor(client), {
    schema: SCHEMA, migrations: readMigrations(MIGRATIONS_DIR), writer,
  });
  expect(reconciled).toEqual({ applied: ['001', '002'], unchanged: [], writer: 'created' });

  const sequence = eventSequence((key) => (partitionOf(key) + 1) % PARTITIONS);
  const offsets = new Map<string, number>();
  published = sequence.map((p) => {
    const partition = p.partition ?? partitionOf(p.key);
    const slot = `${p.topic}/${partition}`;
    const offset = offsets.get(slot) ?? 0; // fresh topics, no transactions: offsets count from 0
    offsets.set(slot, offset + 1);
    return { ...p, partition, offset };
  });
  // The events are the services' real events: each passes its topic's schema.
  for (const p of published) if (p.event) expect([p.topic, validateEvent(p.topic, p.event)]).toEqual([p.topic, []]);

  const producer = createKafkaProducer({
    KAFKA_BROKERS: [kafka.bootstrap], KAFKA_SASL_USERNAME: kafka.username, KAFKA_SASL_PASSWORD_FILE: kafka.passwordFile, KAFKA_CA_FILE: kafka.caFile,
  }, { clientId: 'analytics-e2e' });
  try {
    // One at a time, in order: the sequence's order is the test's event-time order.
    for (const p of published) await producer.send({ messages: [{ topic: p.topic, key: p.key, value: p.value, partition: p.partition }] });
  } finally {
    await new Promise<void>((resolve) => producer.close(true, () => resolve()));
  }
}, 1_200_000);

afterAll(async () => {
  await client?.end();
  await Promise.all([kafka?.dispose(), pg?.dispose()]);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('analytics job against Kafka and PostgreSQL', () => {
  test('a bounded run writes exactly the expected warehouse rows', async () => {
    await runJob('first', jobConfig(`${spec.flink.consumerGroup}-e2e-first`));

    // Raw events: one row per distinct event id, with where it was read (the original copy's
    // coordinates, except for C's creation, whose copies sit in two partitions).
    const valid = published.filter((p) => p.event && !p.duplicate);
    const raw = await rows(`SELECT event_id, topic, type, order_id, ${ts('occurred_at')}, schema_version, payload, kafka_partition, kafka_offset FROM ${SCHEMA}.raw_events ORDER BY event_id`);
    expect(raw).toHaveLength(new Set(published.filter((p) => p.event).map((p) => p.event!.eventId)).size);
    const crossPartition = published.find((p) => p.duplicate && p.partition !== partitionOf(p.key))!;
    expect(raw).toEqual(valid.sort((a, b) => a.event!.eventId.localeCompare(b.event!.eventId)).map((p) => {
      const e = p.event!;
      const coordinates = e.eventId === crossPartition.event!.eventId ? [expect.any(Number), expect.any(String)] : [p.partition, String(p.offset)];
      return [e.eventId, p.topic, e.type, e.orderId, e.occurredAt.slice(0, 19), 1, JSON.stringify(e.payload), ...coordinates];
    }));
    const crossRow = raw.find((r) => r[0] === crossPartition.event!.eventId)!;
    const copies = published.filter((p) => p.event?.eventId === crossPartition.event!.eventId).map((p) => [p.partition, String(p.offset)]);
    expect(copies).toContainEqual([crossRow[7], crossRow[8]]);

    // Rejected records, by their Kafka coordinates.
    const malformed = published.filter((p) => !p.event);
    expect(await rows(`SELECT topic, kafka_partition, kafka_offset::int, kafka_timestamp IS NOT NULL, reason, raw_value FROM ${SCHEMA}.rejected_events ORDER BY topic, kafka_partition, kafka_offset`)).toEqual([
      [ORDER_EVENTS_TOPIC, malformed[0]!.partition, malformed[0]!.offset, true, expect.stringMatching(/^not valid JSON: /), '{"eventId": "not json'],
      [PAYMENT_EVENTS_TOPIC, malformed[1]!.partition, malformed[1]!.offset, true, 'schemaVersion: unknown schema version 2 (known: [1])', malformed[1]!.value],
    ]);

    // Orders and money per currency: minute buckets, then hours (worked out from events.ts).
    const revenue = (table: string) => rows(`SELECT ${ts('bucket_start')}, currency, orders::int, order_value::text, captured::text, refunded::text FROM ${SCHEMA}.${table} ORDER BY bucket_start, currency`);
    expect(await revenue('revenue_per_minute')).toEqual([
      ['2026-01-01T10:00:00', 'EUR', 1, '25.00', '0.00', '0.00'], // created B (its duplicate not counted)
      ['2026-01-01T10:00:00', 'USD', 1, '19.99', '19.99', '0.00'], // created A (after its paid), captured A
      ['2026-01-01T10:01:00', 'EUR', 0, '0.00', '25.00', '0.00'], // captured B (the failed attempt is not revenue)
      ['2026-01-01T10:01:00', 'JPY', 1, '3000.00', '3000.00', '0.00'], // created C (copy in another partition not counted), captured C
      ['2026-01-01T10:02:00', 'EUR', 1, '7.25', '0.00', '0.00'], // created F, arrived late
      ['2026-01-01T10:02:00', 'USD', 1, '5.50', '0.00', '0.00'], // created D
      ['2026-01-01T10:03:00', 'USD', 0, '0.00', '5.50', '0.00'], // captured D
      ['2026-01-01T10:05:00', 'USD', 1, '100.00', '100.00', '0.00'], // created and captured E
      ['2026-01-01T10:06:00', 'USD', 0, '0.00', '0.00', '5.00'], // refund of A
      ['2026-01-01T11:25:00', 'USD', 1, '10.00', '10.00', '0.00'], // created and captured G
      ['2026-01-01T11:40:00', 'EUR', 0, '0.00', '0.00', '25.00'], // refund of B
    ]);
    expect(await revenue('revenue_per_hour')).toEqual([
      ['2026-01-01T10:00:00', 'EUR', 2, '32.25', '25.00', '0.00'],
      ['2026-01-01T10:00:00', 'JPY', 1, '3000.00', '3000.00', '0.00'],
      ['2026-01-01T10:00:00', 'USD', 3, '125.49', '125.49', '5.00'],
      ['2026-01-01T11:00:00', 'EUR', 0, '0.00', '0.00', '25.00'],
      ['2026-01-01T11:00:00', 'USD', 1, '10.00', '10.00', '0.00'],
    ]);

    // Payment outcomes: captured vs failed; refunds and authorisations are no outcome.
    const outcomes = (table: string) => rows(`SELECT ${ts('bucket_start')}, succeeded::int, failed::int, success_rate::text FROM ${SCHEMA}.${table} ORDER BY bucket_start`);
    expect(await outcomes('payment_outcomes_per_minute')).toEqual([
      ['2026-01-01T10:00:00', 1, 0, '1.0000'],
      ['2026-01-01T10:01:00', 2, 1, '0.6667'], // B failed then captured, C authorised and captured
      ['2026-01-01T10:02:00', 0, 2, '0.0000'], // D failed twice
      ['2026-01-01T10:03:00', 1, 0, '1.0000'],
      ['2026-01-01T10:05:00', 1, 0, '1.0000'],
      ['2026-01-01T10:06:00', 0, 0, null], // only A's refund
      ['2026-01-01T11:25:00', 1, 0, '1.0000'],
      ['2026-01-01T11:40:00', 0, 0, null], // only B's refund
    ]);
    expect(await outcomes('payment_outcomes_per_hour')).toEqual([
      ['2026-01-01T10:00:00', 5, 3, '0.6250'],
      ['2026-01-01T11:00:00', 1, 0, '1.0000'],
    ]);

    // The funnel per order, whatever order its stages arrived in.
    expect(await rows(`SELECT order_id, ${ts('created_at')}, ${ts('paid_at')}, ${ts('fulfilled_at')}, created_to_paid_ms::int, paid_to_fulfilled_ms::int, created_to_fulfilled_ms::int FROM ${SCHEMA}.order_funnel ORDER BY order_id`)).toEqual([
      [ORDERS.A, '2026-01-01T10:00:10', '2026-01-01T10:00:30', '2026-01-01T11:20:00', 20_000, 4_770_000, 4_790_000],
      [ORDERS.B, '2026-01-01T10:00:50', '2026-01-01T10:01:21', '2026-01-01T11:10:00', 31_000, 4_119_000, 4_150_000],
      [ORDERS.C, '2026-01-01T10:01:30', '2026-01-01T10:01:52', '2026-01-01T12:05:00', 22_000, 7_388_000, 7_410_000],
      [ORDERS.D, '2026-01-01T10:02:10', '2026-01-01T10:03:31', null, 81_000, null, null],
      [ORDERS.E, '2026-01-01T10:05:00', '2026-01-01T10:05:12', null, 12_000, null, null],
      [ORDERS.F, '2026-01-01T10:02:30', null, null, null, null, null], // cancelled: no later stage
      [ORDERS.G, '2026-01-01T11:25:00', '2026-01-01T11:26:00', null, 60_000, null, null],
    ]);

    // The hourly funnel latency view (PERCENTILE_CONT, linear interpolation).
    expect(await rows(`SELECT ${ts('hour_start')}, step, orders::int, avg_ms::text, p50_ms::text, p95_ms::text FROM ${SCHEMA}.order_funnel_latency_hourly ORDER BY hour_start, step`)).toEqual([
      // A 20 s, B 31 s, C 22 s, D 81 s, E 12 s: p95 = 31000 + 0.8 * (81000 - 31000)
      ['2026-01-01T10:00:00', 'created_to_fulfilled', 3, '5450000.0', '4790000.0', '7148000.0'],
      ['2026-01-01T10:00:00', 'created_to_paid', 5, '33200.0', '22000.0', '71000.0'],
      ['2026-01-01T10:00:00', 'paid_to_fulfilled', 3, '5425666.7', '4770000.0', '7126200.0'],
      ['2026-01-01T11:00:00', 'created_to_paid', 1, '60000.0', '60000.0', '60000.0'],
    ]);
  }, JOB_TIMEOUT_MS + 60_000);

  test('a full replay with a fresh consumer group leaves the warehouse unchanged', async () => {
    const before = await snapshot();
    expect(before.raw_events!.length).toBeGreaterThan(0);
    await runJob('replay', jobConfig(`${spec.flink.consumerGroup}-e2e-replay`));
    const after = await snapshot();
    // C's creation exists in two partitions: either copy may be read first, so its Kafka coordinates may differ.
    const crossPartition = published.find((p) => p.duplicate && p.partition !== partitionOf(p.key))!.event!.eventId;
    const withoutCoordinates = (rowsText: string[]) => rowsText.map((r) => {
      const row = JSON.parse(r) as Record<string, unknown>;
      if (row.event_id === crossPartition) {
        delete row.kafka_partition;
        delete row.kafka_offset;
      }
      return JSON.stringify(row);
    });
    expect({ ...after, raw_events: withoutCoordinates(after.raw_events!) }).toEqual({ ...before, raw_events: withoutCoordinates(before.raw_events!) });
  }, JOB_TIMEOUT_MS + 60_000);

  test('a config without a required key stops the job with one line naming it', async () => {
    const groups = jobConfig('unused');
    delete groups.job!['dedup.retention.hours'];
    const run = await runAnalyticsJob(groups, workDir, 'bad-config', 60_000);
    expect(run.exitCode).toBe(2);
    expect(run.log.trim()).toBe("analytics config: property group 'job' key 'dedup.retention.hours' is required");
  }, 90_000);
});
