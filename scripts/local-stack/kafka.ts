// Kafka from the Apache Kafka distribution's jars (Maven Central, scripts/setup/servers.sh), as a
// single-node KRaft broker+controller: SASL_SSL with SCRAM-SHA-512 for clients on one free port (or `listen`),
// a plaintext controller listener on another (127.0.0.1 only), no topic auto-creation, SCRAM
// users written at format time (kafka.tools.StorageTool --add-scram).
import { Admin, FindCoordinatorKeyTypes } from '@platformatic/kafka';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { createTestCa, issueServiceCertificate } from './ca';
import {
  HarnessError, ManagedProcess, REPO_ROOT, cacheDir, createClientUser, disposeOnce, freePort, missingError, randomSecret,
  setUpInTempDir, startOnFreePorts, waitReady,
} from './process';
import type { ExitInfo } from './process';
import type { KafkaServer, KafkaServerOptions, KafkaTopic } from './types';

const execFileAsync = promisify(execFile);

const POM = join(REPO_ROOT, 'scripts', 'setup', 'kafka', 'pom.xml');
const READY_TIMEOUT_MS = 90000;
const USERNAME = 'platform';
const BROKER_USER = 'broker';
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

/** The Kafka version the setup script fetches: read from its pom, the one place it is written. */
export const KAFKA_VERSION: string = (() => {
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(POM, 'utf8'));
  if (!match) throw new HarnessError(`${POM}: no <kafka.version>`);
  return match[1];
})();

/** The folder of the broker's jars, checked complete (the setup script's stamp). */
export function findKafkaLibs(version = KAFKA_VERSION, root = cacheDir('kafka')): string {
  const libs = join(root, version, 'libs');
  if (!existsSync(join(libs, '.pom.sha256')) || !existsSync(join(libs, `kafka_2.13-${version}.jar`))) {
    throw missingError(`Kafka ${version} jars`, `no ${libs}`);
  }
  return libs;
}

export function findJava(): string {
  const candidates = [process.env.JAVA_HOME && join(process.env.JAVA_HOME, 'bin', 'java'), '/usr/bin/java']
    .concat((process.env.PATH ?? '').split(':').filter(Boolean).map((d) => join(d, 'java')));
  for (const candidate of candidates) if (candidate && existsSync(candidate)) return candidate;
  throw missingError('java (17 or newer)', 'Debian package openjdk-17-jre-headless');
}

/**
 * A KRaft cluster id: 16 random bytes, base64url without padding (Kafka's Uuid format). Like
 * Kafka's own Uuid.randomUuid(), never one that starts with '-': the storage tool's argument
 * parser would read it as an option ("--cluster-id: expected one argument"), 1 time in 64.
 */
export function clusterId(random: () => Buffer = () => randomBytes(16)): string {
  for (;;) {
    const id = random().toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * Class-data sharing for the broker's JVM: its classes mapped from an archive instead of loaded
 * and verified from the jars at every start, which takes about 1.5 s of CPU off each broker start
 * on the 2-core machine. An archive fits only the JVM build, jars and flags that wrote it (a
 * damaged one crashes the JVM), so its name hashes them, and it is written once per machine by
 * the first broker that stops gracefully (JDK 17's dynamic archive, -XX:ArchiveClassesAtExit)
 * under a name of its own, checked with -Xshare:on, then renamed into place.
 */
export interface ClassArchive {
  /** The JVM flags now: write the archive at exit, use it, or none (a write that failed). */
  readonly jvmArgs: readonly string[];
  /** True while this broker is the one to write it: stop it gracefully. */
  readonly writing: boolean;
  /** After the broker's exit: the archive it wrote, checked, into place (or discarded). */
  finish(exit: ExitInfo | undefined): Promise<void>;
}

export function classArchive(java: string, libs: string, jvmFlags: readonly string[], root = join(dirname(libs), 'class-archives')): ClassArchive {
  const javaFile = realpathSync(java);
  const { size, mtimeMs } = statSync(javaFile);
  const key = createHash('sha256')
    .update(JSON.stringify([javaFile, size, mtimeMs, readFileSync(join(libs, '.pom.sha256'), 'utf8'), jvmFlags]))
    .digest('hex').slice(0, 16);
  const file = join(root, `${key}.jsa`);
  const partial = `${file}.${process.pid}-${randomBytes(4).toString('hex')}`;
  let writing = !existsSync(file);
  if (writing) mkdirSync(root, { recursive: true });
  return {
    get jvmArgs() {
      if (writing) return [`-XX:ArchiveClassesAtExit=${partial}`];
      return existsSync(file) ? [`-XX:SharedArchiveFile=${file}`] : [];
    },
    get writing() {
      return writing;
    },
    finish: async (exit) => {
      if (!writing) return;
      writing = false;
      try {
        // Killed (SIGKILL, or the stop's timeout): the archive may be cut short.
        if (!exit || exit.signal !== null || !(await stat(partial).catch(() => undefined))?.size) return;
        await execFileAsync(java, [...jvmFlags, `-XX:SharedArchiveFile=${partial}`, '-Xshare:on', '-cp', `${libs}/*`, '-version']);
        await rename(partial, file);
      } catch {
        // Not usable: the next broker starts without one and writes another.
      } finally {
        await rm(partial, { force: true });
      }
    },
  };
}

function validateTopics(topics: KafkaTopic[], where: string): void {
  if (!Array.isArray(topics)) throw new HarnessError(`${where}: topics must be an array`);
  topics.forEach((t, i) => {
    if (!t || typeof t.name !== 'string' || !TOPIC_NAME.test(t.name) || t.name === '.' || t.name === '..') {
      throw new HarnessError(`${where}: topics[${i}].name ${JSON.stringify(t?.name)} is not a valid topic name`);
    }
    if (!Number.isInteger(t.partitions) || t.partitions < 1) {
      throw new HarnessError(`${where}: topics[${i}].partitions must be a positive integer, got ${String(t.partitions)}`);
    }
  });
}

/** JAAS values are quoted strings: our generated passwords are base64url, but stay safe. */
function jaasQuote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export async function startKafka(opts: KafkaServerOptions = {}): Promise<KafkaServer> {
  validateTopics(opts.topics ?? [], 'startKafka');
  const libs = findKafkaLibs();
  const java = findJava();
  return setUpInTempDir('kafka', (dir) => setUp(dir, libs, java, opts));
}

async function setUp(dir: string, libs: string, java: string, opts: KafkaServerOptions): Promise<KafkaServer> {
  const ca = opts.ca ?? (await createTestCa({ dir: join(dir, 'ca') }));
  const host = opts.listen?.host ?? '127.0.0.1';
  const cert = await issueServiceCertificate(ca, 'kafka', undefined, [host]);
  const secretsDir = join(dir, 'secrets');
  await mkdir(secretsDir, { mode: 0o700 });
  const username = opts.username ?? USERNAME;
  const user = await createClientUser(secretsDir, username);
  const { password } = user;
  const brokerPassword = randomSecret();
  // Kafka's PEM keystore: private key (PKCS#8) and certificate chain in one file.
  const keystore = join(secretsDir, 'kafka-keystore.pem');
  await writeFile(keystore, cert.keyPem + cert.certPem, { mode: 0o600 });
  const dataDir = join(dir, 'data');
  const configFile = join(dir, 'server.properties');
  const log4jFile = join(dir, 'log4j.properties');
  const logFile = join(dir, 'kafka.log');

  await writeFile(log4jFile, [
    'log4j.rootLogger=WARN, stdout',
    'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
    'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
    // The start and stop lines, to read in the log when something goes wrong.
    'log4j.logger.kafka.server.KafkaRaftServer=INFO',
    'log4j.logger.kafka.server.BrokerServer=INFO',
    '',
  ].join('\n'));

  let port = 0;
  let controllerPort = 0;
  const writeConfig = (): Promise<void> => writeFile(configFile, [
    '# written by scripts/local-stack/kafka.ts',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=SASL_SSL://${host}:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=SASL_SSL://${host}:${port}`,
    'listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=SASL_SSL',
    'sasl.enabled.mechanisms=SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512',
    `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=${jaasQuote(BROKER_USER)} password=${jaasQuote(brokerPassword)};`,
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${keystore}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${ca.caFile}`,
    'ssl.client.auth=none',
    'ssl.endpoint.identification.algorithm=https',
    `log.dirs=${dataDir}`,
    'auto.create.topics.enable=false',
    'num.partitions=1',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    'offsets.topic.replication.factor=1',
    // Few internal partitions: creating the default 50 takes seconds on a 2-core machine.
    'offsets.topic.num.partitions=3',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=3',
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n'));

  // Start time matters more than peak throughput: the C1 compiler alone halved start and restart
  // times on the 2-core machine (C2's compiler threads compete with the broker's start).
  const jvmFlags = ['-Xms128m', '-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true'];
  const archive = classArchive(java, libs, jvmFlags);
  const jvmArgs = [...jvmFlags, `-Dlog4j.configuration=file:${log4jFile}`, '-cp', `${libs}/*`];
  // Mutable: once this broker has written the class archive, a restart uses it instead.
  const brokerArgs = [...archive.jvmArgs, ...jvmArgs, 'kafka.Kafka', configFile];
  const proc = new ManagedProcess({ name: 'Kafka', command: java, args: brokerArgs, cwd: dir, logFile, orphanDir: dir });
  const finishArchive = async (): Promise<void> => {
    if (!archive.writing) return;
    await archive.finish(proc.exitInfo);
    brokerArgs.splice(0, 1, ...archive.jvmArgs);
  };

  const admin = (): Admin => new Admin({
    clientId: 'platform-test-harness',
    bootstrapBrokers: [`${host}:${port}`],
    tls: { ca: ca.caPem },
    sasl: { mechanism: 'SCRAM-SHA-512', username, password },
    connectTimeout: 5000,
    requestTimeout: 10000,
    retries: 0,
  });

  const start = async (): Promise<void> => {
    if (proc.running) return;
    proc.start();
    await waitReady(proc, async () => {
      const client = admin();
      try {
        await client.listTopics();
        // Consumers need the group coordinator (__consumer_offsets), created on first request:
        // ready means a service's consumer can join a group at once.
        await client.findCoordinator({ keyType: FindCoordinatorKeyTypes.GROUP, keys: ['platform-test-harness'] });
        return true;
      } finally {
        await client.close().catch(() => undefined);
      }
    }, { timeoutMs: READY_TIMEOUT_MS, intervalMs: 250, what: `listTopics and the group coordinator over SASL_SSL on ${host}:${port}` });
  };

  await startOnFreePorts(proc, async () => {
    port = opts.listen?.port ?? (await freePort());
    do controllerPort = await freePort(); while (controllerPort === port);
    await writeConfig();
    await rm(dataDir, { recursive: true, force: true });
    // The storage tool shares the broker's classes too, once the archive exists.
    const format = await runFormat(java, archive.writing ? jvmArgs : [...archive.jvmArgs, ...jvmArgs], configFile, [
      `SCRAM-SHA-512=[name=${BROKER_USER},password=${brokerPassword}]`,
      `SCRAM-SHA-512=[name=${username},password=${password}]`,
    ], logFile);
    if (format !== 0) {
      throw new HarnessError(`Kafka storage format failed (exit ${format}); last lines of ${logFile}:\n${(await readFile(logFile, 'utf8')).split('\n').slice(-20).join('\n')}`);
    }
  }, start);

  const createTopics = async (topics: KafkaTopic[]): Promise<void> => {
    validateTopics(topics, 'createTopics');
    if (topics.length === 0) return;
    const client = admin();
    try {
      const existing = new Set(await client.listTopics());
      const wanted = topics.filter((t) => !existing.has(t.name));
      if (wanted.length === 0) return;
      // One request per topic: the client's createTopics takes one partition count per call.
      for (const t of wanted) await client.createTopics({ topics: [t.name], partitions: t.partitions, replicas: 1 });
    } finally {
      await client.close().catch(() => undefined);
    }
  };

  try {
    await createTopics(opts.topics ?? []);
  } catch (error) {
    await proc.stop('SIGKILL');
    throw error;
  }

  return {
    bootstrap: `${host}:${port}`,
    caFile: ca.caFile,
    ...user,
    dir,
    get pid() {
      return proc.runningPid;
    },
    createTopics,
    // Controlled shutdown, as a broker leaving for maintenance; port and data are kept.
    stop: async () => {
      await proc.stop('SIGTERM', 30000);
      await finishArchive();
    },
    start,
    // The data is deleted anyway: no controlled shutdown needed, unless the JVM writes the class archive at exit.
    dispose: disposeOnce(dir, async () => {
      await proc.stop(archive.writing ? 'SIGTERM' : 'SIGKILL', 30000);
      await finishArchive();
    }),
  };
}

/** kafka-storage.sh format, through its class, appending its output to the log. */
async function runFormat(java: string, jvmArgs: string[], configFile: string, scram: string[], logFile: string): Promise<number> {
  const cluster = clusterId();
  const proc = new ManagedProcess({
    name: 'Kafka storage format',
    command: java,
    args: [...jvmArgs, 'kafka.tools.StorageTool', 'format', '-t', cluster, '-c', configFile, ...scram.flatMap((s) => ['--add-scram', s])],
    logFile,
    keepAlive: true,
  });
  proc.start();
  const exit = await proc.waitExit();
  if (proc.spawnError) throw new HarnessError(`could not run ${java}: ${proc.spawnError.message}`);
  return exit.code ?? 1;
}
