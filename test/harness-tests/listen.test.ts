// The data tier at an address of one's choosing (ServerOptions.listen), as the local cluster needs
// it: a second loopback address stands in for the restricted zone's. Each server answers there,
// over TLS verified against that address, and not on 127.0.0.1.
import { Admin } from '@platformatic/kafka';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { freePort, startKafka, startPostgres, startRedis } from '../harness';
import type { KafkaServer, PostgresServer, RedisServer } from '../harness';

const HOST = '127.0.0.2';

/** `connected`, or the error code of a plain TCP connect to host:port. */
function tcp(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => { socket.destroy(); resolve('connected'); });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

let pg: PostgresServer | undefined;
let redis: RedisServer | undefined;
let kafka: KafkaServer | undefined;
afterAll(() => Promise.all([pg?.dispose(), redis?.dispose(), kafka?.dispose()]));

describe('servers listen where ServerOptions.listen says', () => {
  test('PostgreSQL: its URLs name the address; TLS verifies against it; nothing on 127.0.0.1', async () => {
    const port = await freePort();
    pg = await startPostgres({ listen: { host: HOST, port, clients: ['10.30.16.0/20'] } });
    expect([pg.host, pg.port]).toEqual([HOST, port]);
    const db = await pg.createDatabase('orders');
    expect(new URL(db.url).host).toBe(`${HOST}:${port}`);
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      expect((await client.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows[0]!.ssl).toBe(true);
    } finally {
      await client.end();
    }
    const hba = readFileSync(`${pg.dir}/data/pg_hba.conf`, 'utf8');
    expect(hba).toContain(`hostssl all all ${HOST}/32 scram-sha-256`);
    expect(hba).toContain('hostssl all all 10.30.16.0/20 scram-sha-256');
    expect(await tcp('127.0.0.1', port)).toBe('ECONNREFUSED');
  });

  test('Redis: AUTH and PING over TLS at the address; nothing on 127.0.0.1', async () => {
    const port = await freePort();
    redis = await startRedis({ listen: { host: HOST, port } });
    expect([redis.host, redis.port]).toEqual([HOST, port]);
    const client = new Redis({
      host: redis.host, port: redis.port, username: redis.username, password: redis.password,
      tls: { ca: readFileSync(redis.caFile) }, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null,
    });
    try {
      await client.connect();
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
    expect(await tcp('127.0.0.1', port)).toBe('ECONNREFUSED');
  });

  test('Kafka: the SASL_SSL listener, advertised at the address; nothing on 127.0.0.1', async () => {
    const port = await freePort();
    kafka = await startKafka({ listen: { host: HOST, port }, topics: [{ name: 'order-events', partitions: 2 }] });
    expect(kafka.bootstrap).toBe(`${HOST}:${port}`);
    const admin = new Admin({
      clientId: 'harness-listen-test', bootstrapBrokers: [kafka.bootstrap], tls: { ca: readFileSync(kafka.caFile) },
      sasl: { mechanism: 'SCRAM-SHA-512', username: kafka.username, password: kafka.password }, connectTimeout: 5000, retries: 0,
    });
    try {
      const metadata = await admin.metadata({ topics: ['order-events'] });
      expect([...metadata.brokers.values()].map((b) => `${b.host}:${b.port}`)).toEqual([kafka.bootstrap]);
      expect(metadata.topics.get('order-events')?.partitionsCount).toBe(2);
    } finally {
      await admin.close();
    }
    expect(await tcp('127.0.0.1', port)).toBe('ECONNREFUSED');
  });
});
