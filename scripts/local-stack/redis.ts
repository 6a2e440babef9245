// Redis from Debian's redis-server: TLS port only (plaintext port 0), an ACL user with a password
// for the services (the `default` user is off), no persistence while running. stop() saves a
// snapshot and start() loads it, so data survives a stop/start like a restarted node's would.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { createTestCa, issueServiceCertificate } from './ca';
import {
  ManagedProcess, createClientUser, disposeOnce, freePort, missingError, setUpInTempDir, startOnFreePorts, waitReady,
} from './process';
import type { RedisServer, ServerOptions } from './types';

const READY_TIMEOUT_MS = 30000;
const USERNAME = 'platform';

/** redis-server on the search path (default PATH, then Debian's /usr/bin). */
export function findRedisServer(searchPath = `${process.env.PATH ?? ''}:/usr/bin`): string {
  for (const dir of searchPath.split(':')) {
    if (dir && existsSync(join(dir, 'redis-server'))) return join(dir, 'redis-server');
  }
  throw missingError('redis-server', 'Debian package redis-server');
}

function encodeCommand(args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
}

/**
 * Sends AUTH and one command over TLS and returns the raw replies. A few lines of RESP keep the
 * harness's own probes free of a client library's reconnect logic.
 */
function authenticatedCommand(host: string, port: number, ca: string, username: string, password: string, args: string[], timeoutMs = 5000): Promise<string> {
  return new Promise((resolveReply, reject) => {
    const socket = connect({ host, port, ca });
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply from Redis on ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolveReply(data);
    };
    socket.once('secureConnect', () => socket.write(encodeCommand(['AUTH', username, password]) + encodeCommand(args)));
    socket.on('data', (chunk) => {
      data += chunk.toString('utf8');
      // Two complete simple replies (AUTH's, then the command's) end the exchange.
      if ((data.match(/\r\n/g) ?? []).length >= 2) finish();
    });
    socket.once('error', (error) => finish(error));
    socket.once('close', () => finish());
  });
}

export async function startRedis(opts: ServerOptions = {}): Promise<RedisServer> {
  const binary = findRedisServer();
  return setUpInTempDir('redis', (dir) => setUp(dir, binary, opts));
}

async function setUp(dir: string, binary: string, opts: ServerOptions): Promise<RedisServer> {
  const ca = opts.ca ?? (await createTestCa({ dir: join(dir, 'ca') }));
  const caPem = ca.caPem;
  const host = opts.listen?.host ?? '127.0.0.1';
  const cert = await issueServiceCertificate(ca, 'redis', undefined, [host]);
  const dataDir = join(dir, 'data');
  await mkdir(dataDir);
  const secretsDir = join(dir, 'secrets');
  await mkdir(secretsDir, { mode: 0o700 });
  const username = opts.username ?? USERNAME;
  const user = await createClientUser(secretsDir, username);
  const { password } = user;
  const configFile = join(dir, 'redis.conf');
  const logFile = join(dir, 'redis.log');

  let port = 0;
  const writeConfig = (): Promise<void> => writeFile(configFile, [
    '# written by scripts/local-stack/redis.ts',
    `bind ${host}`,
    'port 0',
    `tls-port ${port}`,
    `tls-cert-file ${cert.certFile}`,
    `tls-key-file ${cert.keyFile}`,
    `tls-ca-cert-file ${ca.caFile}`,
    // Services authenticate with the ACL user; mTLS to Redis is not part of the contract.
    'tls-auth-clients no',
    `dir ${dataDir}`,
    'dbfilename dump.rdb',
    // No snapshots or AOF while running (speed); stop() saves once explicitly.
    'save ""',
    'appendonly no',
    'daemonize no',
    'logfile ""',
    'loglevel notice',
    // One user (the default one only when it is the client's, as with an ElastiCache AUTH token).
    ...(username === 'default' ? [] : ['user default off']),
    // Full rights within the server, like an ElastiCache RBAC user with ~* &* +@all.
    `user ${username} on >${password} ~* &* +@all`,
    '',
  ].join('\n'));

  const proc = new ManagedProcess({ name: 'Redis', command: binary, args: [configFile], cwd: dir, logFile, orphanDir: dir });
  const command = (args: string[]): Promise<string> => authenticatedCommand(host, port, caPem, username, password, args);

  const start = async (): Promise<void> => {
    if (proc.running) return;
    proc.start();
    await waitReady(proc, async () => (await command(['PING'])).startsWith('+OK\r\n+PONG'), {
      timeoutMs: READY_TIMEOUT_MS, intervalMs: 50, what: `AUTH and PING over TLS on ${host}:${port}`,
    });
  };

  await startOnFreePorts(proc, async () => {
    port = opts.listen?.port ?? (await freePort());
    await writeConfig();
  }, start);

  const stop = async (): Promise<void> => {
    if (!proc.running) return;
    try {
      // SHUTDOWN SAVE writes dump.rdb even with `save ""`; start() loads it.
      await command(['SHUTDOWN', 'SAVE']);
    } catch {
      // Not reachable: fall back to the signal below.
    }
    await proc.stop('SIGTERM', 10000);
  };

  return {
    host,
    port,
    caFile: ca.caFile,
    ...user,
    dir,
    get pid() {
      return proc.runningPid;
    },
    stop,
    start,
    dispose: disposeOnce(dir, () => proc.stop('SIGKILL')),
  };
}

