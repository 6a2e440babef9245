import { Admin, Consumer, MessagesStreamModes, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startKafka, type KafkaServer } from '../harness';
import { KAFKA_VERSION, classArchive, clusterId, findJava, findKafkaLibs } from '../../scripts/local-stack/kafka';

const execFileAsync = promisify(execFile);

let kafka: KafkaServer;

function connection(password = kafka.password) {
  return {
    bootstrapBrokers: [kafka.bootstrap],
    tls: { ca: readFileSync(kafka.caFile) },
    sasl: { mechanism: 'SCRAM-SHA-512' as const, username: kafka.username, password },
    connectTimeout: 5000,
    retries: 0,
  };
}

function producer(password?: string): Producer<string, string, string, string> {
  return new Producer({ clientId: 'harness-test-producer', serializers: stringSerializers, ...connection(password) });
}

beforeAll(async () => {
  kafka = await startKafka({ topics: [{ name: 'orders.v1', partitions: 3 }] });
});

afterAll(async () => {
  await kafka?.dispose();
});

describe('startKafka', () => {
  test('the requested topic exists with its partitions; the listener is SASL_SSL on loopback', async () => {
    expect(kafka.bootstrap).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(readFileSync(kafka.passwordFile, 'utf8')).toBe(kafka.password);
    const admin = new Admin({ clientId: 'harness-test-admin', ...connection() });
    try {
      const metadata = await admin.metadata({ topics: ['orders.v1'] });
      expect(metadata.topics.get('orders.v1')?.partitionsCount).toBe(3);
    } finally {
      await admin.close();
    }
  });

  test('a message produced over SASL_SSL/SCRAM-SHA-512 is consumed back', async () => {
    const p = producer();
    try {
      await p.send({ messages: [{ topic: 'orders.v1', key: 'order-1', value: 'created', partition: 1 }] });
    } finally {
      await p.close();
    }
    const consumer = new Consumer({ clientId: 'harness-test-consumer', groupId: 'harness-test', deserializers: stringDeserializers, ...connection() });
    try {
      const stream = await consumer.consume({ topics: ['orders.v1'], mode: MessagesStreamModes.EARLIEST, sessionTimeout: 10000, heartbeatInterval: 500 });
      for await (const message of stream) {
        expect({ key: message.key, value: message.value, partition: message.partition }).toEqual({ key: 'order-1', value: 'created', partition: 1 });
        break;
      }
    } finally {
      await consumer.close(true);
    }
  });

  test('a wrong password is refused', async () => {
    const p = producer('wrong');
    try {
      await expect(p.send({ messages: [{ topic: 'orders.v1', key: 'k', value: 'v' }] })).rejects.toThrow();
      // The cause is the SCRAM exchange, not the network.
      const admin = new Admin({ clientId: 'harness-test-admin', ...connection('wrong') });
      const error = await admin.listTopics().then(() => undefined, (e: Error) => e);
      await admin.close();
      expect(JSON.stringify(error, Object.getOwnPropertyNames(error)) + String(error?.message)).toMatch(/SASL|authenticat/i);
    } finally {
      await p.close();
    }
  });

  test('topics are not created on use: producing to an unknown topic fails', async () => {
    // The client asks for auto-creation; the broker's auto.create.topics.enable=false refuses.
    const p = new Producer({ clientId: 'harness-test-producer', serializers: stringSerializers, autocreateTopics: true, ...connection() });
    try {
      await expect(p.send({ messages: [{ topic: 'no-such-topic', key: 'k', value: 'v' }] })).rejects.toThrow();
    } finally {
      await p.close();
    }
    const admin = new Admin({ clientId: 'harness-test-admin', ...connection() });
    try {
      expect(await admin.listTopics()).not.toContain('no-such-topic');
    } finally {
      await admin.close();
    }
  });

  test('stop refuses clients; start keeps bootstrap and data', async () => {
    const bootstrap = kafka.bootstrap;
    await kafka.stop();
    expect(kafka.pid).toBeUndefined();
    const down = new Admin({ clientId: 'harness-test-admin', ...connection() });
    const error = await down.listTopics().then(() => undefined, (e: Error) => e);
    await down.close();
    expect(error).toBeInstanceOf(Error);
    await kafka.start();
    expect(kafka.bootstrap).toBe(bootstrap);
    const admin = new Admin({ clientId: 'harness-test-admin', ...connection() });
    try {
      expect(await admin.listTopics()).toContain('orders.v1');
    } finally {
      await admin.close();
    }
  });

  test('the restarted broker maps the class-data archive a graceful stop leaves (written by it if it was the first)', () => {
    const args = readFileSync(`/proc/${kafka.pid}/cmdline`, 'utf8').split('\0');
    expect(args).toContainEqual(expect.stringMatching(/^-XX:SharedArchiveFile=.*\/class-archives\/[0-9a-f]{16}\.jsa$/));
    expect(args.some((a) => a.startsWith('-XX:ArchiveClassesAtExit'))).toBe(false);
  });

  test('createTopics validates its input naming the field, and skips existing topics', async () => {
    await expect(kafka.createTopics([{ name: 'bad topic', partitions: 1 }])).rejects.toThrow(/topics\[0\]\.name/);
    await expect(kafka.createTopics([{ name: 'ok', partitions: 0 }])).rejects.toThrow(/topics\[0\]\.partitions/);
    await kafka.createTopics([{ name: 'orders.v1', partitions: 3 }, { name: 'payments.v1', partitions: 2 }]);
    const admin = new Admin({ clientId: 'harness-test-admin', ...connection() });
    try {
      expect(await admin.listTopics()).toEqual(expect.arrayContaining(['orders.v1', 'payments.v1']));
    } finally {
      await admin.close();
    }
  });

  test('missing jars fail with one line naming them and the setup command', () => {
    expect(() => findKafkaLibs(KAFKA_VERSION, '/nonexistent/kafka')).toThrow(new RegExp(`^missing: Kafka ${KAFKA_VERSION.replace(/\./g, '\\.')} jars .*npm run setup`));
  });

  test('cluster ids never start with "-" (the storage tool would read one as an option)', () => {
    // 0xf8 encodes to '-' as the first base64url character: the first draw is refused.
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x01)];
    const id = clusterId(() => draws.shift() as Buffer);
    expect(id).toBe(Buffer.alloc(16, 0x01).toString('base64url'));
    expect(draws).toHaveLength(0);
    for (let i = 0; i < 2000; i++) expect(clusterId()).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });
});

describe('classArchive (the broker JVM\'s class-data archive)', () => {
  const java = findJava();
  const libs = findKafkaLibs();
  // Not the harness's flags: an archive of its own, in a folder of this test.
  const flags = ['-XX:+UseSerialGC', '-Xmx256m'];
  let root: string;
  const archive = (extra: string[] = []) => classArchive(java, libs, [...flags, ...extra], root);
  /** A JVM that loads broker classes and exits by itself. */
  const kafkaVersion = async (jvmArgs: readonly string[]) => (await execFileAsync(java, [...jvmArgs, ...flags, '-cp', `${libs}/*`, 'kafka.Kafka', '--version'])).stdout;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'platform-test-class-archive-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test('is written by the first JVM that exits by itself, checked, then mapped by the next', async () => {
    const first = archive();
    expect(first.writing).toBe(true);
    expect(first.jvmArgs).toEqual([expect.stringMatching(/^-XX:ArchiveClassesAtExit=/)]);
    expect(await kafkaVersion(first.jvmArgs)).toContain(KAFKA_VERSION);
    await first.finish({ code: 0, signal: null });
    const [file, ...others] = readdirSync(root);
    expect([file, others]).toEqual([expect.stringMatching(/^[0-9a-f]{16}\.jsa$/), []]);
    expect(first.writing).toBe(false);
    expect(first.jvmArgs).toEqual([`-XX:SharedArchiveFile=${join(root, file!)}`]);

    const next = archive();
    expect([next.writing, next.jvmArgs]).toEqual([false, first.jvmArgs]);
    // -Xshare:on: the JVM refuses to start rather than run without the archive.
    expect(await kafkaVersion([...next.jvmArgs, '-Xshare:on'])).toContain(KAFKA_VERSION);
    // Other flags, another archive.
    expect(archive(['-Xms64m']).writing).toBe(true);
  });

  test('is discarded when the JVM was killed or the file does not map, and the next broker writes one', async () => {
    const killed = archive();
    await kafkaVersion(killed.jvmArgs);
    await killed.finish({ code: null, signal: 'SIGKILL' });
    expect(readdirSync(root)).toEqual([]);
    expect(killed.jvmArgs).toEqual([]);

    const damaged = archive();
    const partial = damaged.jvmArgs[0]!.split('=')[1]!;
    writeFileSync(partial, randomBytes(100_000));
    await damaged.finish({ code: 0, signal: null });
    expect(readdirSync(root)).toEqual([]);
    expect(archive().writing).toBe(true);
  });
});
