/**
 * `npm run dev`: the services on this machine against real local servers (scripts/local-stack,
 * the ones the integration tests start too).
 *
 * Starts a throwaway CA, PostgreSQL (one database per service, non-superuser roles), Redis,
 * Kafka with the spec's topics (when a service needs a broker) and stripe-mock (when a service
 * holds the `payment-provider` secret), then each service as its own process (`src/main.ts` under tsx) with the
 * environment of services/README.md on the spec's well-known ports, callees first. Prints the
 * URLs and a `ready` line; Ctrl-C or SIGTERM stops the services (gracefully), then the servers,
 * and removes every temp dir.
 *
 * A service is one entry in SERVICES: ports, callees, database, cache and broker come from lib/spec.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { loadPlatformSpec } from '../lib/spec';
import type { PlatformSpec, ServiceSpec } from '../lib/spec';
import { createTestCa, issueServiceCertificate, startKafka, startPostgres, startRedis, startStripeMock } from './local-stack';
import type { DatabaseAccess, KafkaServer, PostgresServer, RedisServer, StripeMockServer, TestCa } from './local-stack';

const ROOT = resolve(__dirname, '..');
// Local only: nothing here is meant to be reached from another machine.
const LOOPBACK = '127.0.0.1';
// choice: the dev tokens' issuer and audience; any fixed pair shared by gateway and auth works.
const JWT_ENV = { JWT_ISSUER: 'http://auth-service.dev.local', JWT_AUDIENCE: 'platform-api' } as const;
// A first start compiles each service with tsx and runs its migrations.
const READY_TIMEOUT_MS = 120_000;
// SHUTDOWN_GRACE_MS defaults to 20 s and a service exits 1 on its own 2 s after it: wait past that.
const STOP_TIMEOUT_MS = 25_000;

/**
 * stripe-mock answers every PaymentIntent with its bundled fixture, a decline; this one
 * authorises like a real test card, so payments made locally capture (also used by the
 * integration stack).
 */
export const STRIPE_AUTHORIZING_FIXTURES = { payment_intent: { status: 'requires_capture', last_payment_error: null } } as const;

/** What a service needs beyond what lib/spec says about it. */
interface DevService {
  /** A service of lib/spec `services`; its folder is services/<name>. */
  readonly name: string;
  /** The spec's port is public HTTP (HTTP_PORT) instead of gRPC (GRPC_PORT). */
  readonly http?: boolean;
  readonly env?: (ctx: DevContext) => Record<string, string>;
}

// In any order: services start callees first, by lib/spec `workloads.calls`.
const SERVICES: readonly DevService[] = [
  { name: 'user-service' },
  { name: 'auth-service', env: (ctx) => ({ ...JWT_ENV, AUTH_KEY_ENCRYPTION_KEY_FILE: ctx.kekFile }) },
  { name: 'order-service' },
  { name: 'payment-service' },
  { name: 'api-gateway', http: true, env: () => ({ ...JWT_ENV, HTTP_HOST: LOOPBACK }) },
];

interface DevContext {
  readonly ca: TestCa;
  readonly pg: PostgresServer;
  readonly redis?: RedisServer;
  readonly kafka?: KafkaServer;
  readonly stripe?: { readonly server: StripeMockServer; readonly secretKeyFile: string };
  readonly databases: ReadonlyMap<string, DatabaseAccess>;
  readonly kekFile: string;
}

/** A resolved service: the table entry with its spec and entry point. */
interface Planned {
  readonly dev: DevService;
  readonly spec: ServiceSpec;
  readonly entry: string;
  readonly secrets: readonly string[];
  /** Callees that run here, with their spec port. */
  readonly callees: readonly { name: string; port: number }[];
}

class DevError extends Error {}

const out = (line: string) => process.stdout.write(`${line}\n`);
const note = (line: string) => process.stderr.write(`dev: ${line}\n`);

export function planServices(spec: PlatformSpec, table: readonly DevService[] = SERVICES, exists: (path: string) => boolean = existsSync): { planned: Planned[]; missing: string[] } {
  const present: Planned[] = [];
  const missing: string[] = [];
  for (const dev of table) {
    const svc = spec.services.find((s) => s.name === dev.name);
    if (!svc) throw new DevError(`scripts/dev.ts SERVICES: ${dev.name} is not a service of lib/spec`);
    const entry = join(ROOT, 'services', dev.name, 'src', 'main.ts');
    if (!exists(entry)) {
      missing.push(dev.name);
      continue;
    }
    const secrets = (spec.vault.serviceSecrets as Record<string, readonly string[] | undefined>)[dev.name] ?? [];
    const callees = (spec.workloads.calls[dev.name] ?? []).map((name) => ({ name, port: spec.services.find((s) => s.name === name)?.port ?? 0 }));
    present.push({ dev, spec: svc, entry, secrets, callees });
  }
  // Callees before callers (lib/spec workloads.calls); callees not running here are left out.
  const names = new Set(present.map((p) => p.dev.name));
  const ordered: Planned[] = [];
  const visit = (p: Planned, path: string[]) => {
    if (ordered.includes(p)) return;
    if (path.includes(p.dev.name)) throw new DevError(`lib/spec workloads.calls has a cycle: ${[...path, p.dev.name].join(' -> ')}`);
    for (const callee of p.callees) {
      const c = present.find((q) => q.dev.name === callee.name);
      if (c) visit(c, [...path, p.dev.name]);
    }
    ordered.push(p);
  };
  present.forEach((p) => visit(p, []));
  return { planned: ordered.map((p) => ({ ...p, callees: p.callees.filter((c) => names.has(c.name)) })), missing };
}

/** `user-service` -> `USER_SERVICE_ADDR` (services/README.md). */
export function addrVar(callee: string): string {
  return `${callee.toUpperCase().replace(/-/g, '_')}_ADDR`;
}

/** Fails when the port is taken on any local address (what the services bind). */
function checkPortFree(port: number, what: string): Promise<void> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => {
      reject(new DevError(err.code === 'EADDRINUSE'
        ? `port ${port} (${what}) is already in use: stop what listens there (another npm run dev?) and try again`
        : `port ${port} (${what}): ${err.message}`));
    });
    srv.listen(port, () => srv.close(() => resolvePort()));
  });
}

function environment(p: Planned, ctx: DevContext, logLevel: string, tls: { certFile: string; keyFile: string }): Record<string, string> {
  const env: Record<string, string> = {
    LOG_LEVEL: logLevel,
    HEALTH_PORT: String(p.spec.healthPort),
    [p.dev.http ? 'HTTP_PORT' : 'GRPC_PORT']: String(p.spec.port),
    TLS_CERT_FILE: tls.certFile,
    TLS_KEY_FILE: tls.keyFile,
    TLS_CA_FILE: ctx.ca.caFile,
  };
  for (const callee of p.callees) {
    // localhost: the name the harness's certificates carry.
    env[addrVar(callee.name)] = `localhost:${callee.port}`;
  }
  if (p.secrets.includes('database')) {
    const db = ctx.databases.get(p.dev.name)!;
    Object.assign(env, {
      DATABASE_HOST: ctx.pg.host, DATABASE_PORT: String(ctx.pg.port), DATABASE_NAME: db.database,
      DATABASE_USER: db.user, DATABASE_PASSWORD_FILE: db.passwordFile, DATABASE_CA_FILE: ctx.pg.caFile,
    });
  }
  if (p.secrets.includes('cache') && ctx.redis) {
    Object.assign(env, {
      REDIS_HOST: ctx.redis.host, REDIS_PORT: String(ctx.redis.port), REDIS_TLS: 'true', REDIS_CA_FILE: ctx.redis.caFile,
      REDIS_USERNAME: ctx.redis.username, REDIS_PASSWORD_FILE: ctx.redis.passwordFile,
    });
  }
  if (p.secrets.includes('broker') && ctx.kafka) {
    Object.assign(env, {
      KAFKA_BROKERS: ctx.kafka.bootstrap, KAFKA_SASL_USERNAME: ctx.kafka.username,
      KAFKA_SASL_PASSWORD_FILE: ctx.kafka.passwordFile, KAFKA_CA_FILE: ctx.kafka.caFile,
    });
  }
  if (p.secrets.includes('payment-provider') && ctx.stripe) {
    Object.assign(env, { STRIPE_API_BASE: ctx.stripe.server.url, STRIPE_SECRET_KEY_FILE: ctx.stripe.secretKeyFile });
  }
  return { ...env, ...p.dev.env?.(ctx) };
}

/** GET `/readyz` on the health port: true on 200. */
function isReady(port: number, path: string): Promise<boolean> {
  return new Promise((resolveReady) => {
    const req = request({ host: LOOPBACK, port, path, timeout: 2_000 }, (res) => {
      res.resume();
      resolveReady(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolveReady(false));
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One service process; its output goes to ours, each line prefixed by its name. */
class ServiceProcess {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private done = false;

  private constructor(readonly name: string, readonly child: ChildProcess) {
    this.exited = new Promise((resolveExit) => {
      child.once('exit', (code, signal) => {
        this.done = true;
        resolveExit({ code, signal });
      });
    });
  }

  get running(): boolean {
    return !this.done;
  }

  static start(name: string, entry: string, env: Record<string, string>, prefixWidth: number): ServiceProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', entry], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group: a Ctrl-C in the terminal reaches only this script, which then stops
      // each service once (a second signal would make a service skip its drain).
      detached: true,
    });
    const prefix = `${name.padEnd(prefixWidth)} | `;
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => out(prefix + line));
    }
    // Should this script be killed outright, the watchdog ends the service (checked every second).
    spawn('/bin/sh', ['-c', 'while kill -0 "$1" 2>/dev/null && kill -0 "-$2" 2>/dev/null; do sleep 1; done; kill -0 "$1" 2>/dev/null || kill -KILL "-$2" 2>/dev/null; exit 0',
      'dev-watchdog', String(process.pid), String(child.pid)], { stdio: 'ignore', detached: true }).unref();
    return new ServiceProcess(name, child);
  }

  private signal(sig: NodeJS.Signals): void {
    if (!this.running || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, sig);
    } catch {
      // already gone
    }
  }

  /** SIGTERM (the service drains), then SIGKILL if it outlives its grace period. */
  async stop(): Promise<boolean> {
    if (!this.running) return (await this.exited).code === 0;
    this.signal('SIGTERM');
    const timer = setTimeout(() => {
      note(`${this.name} did not stop within ${STOP_TIMEOUT_MS} ms: killing it`);
      this.signal('SIGKILL');
    }, STOP_TIMEOUT_MS);
    const { code } = await this.exited;
    clearTimeout(timer);
    return code === 0;
  }
}

async function waitUntilReady(proc: ServiceProcess, spec: ServiceSpec): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!proc.running) {
      const { code, signal } = await proc.exited;
      throw new DevError(`${proc.name} exited during start (${signal ?? `code ${code}`}); its output is above`);
    }
    if (await isReady(spec.healthPort, spec.readinessPath)) return;
    await sleep(250);
  }
  throw new DevError(`${proc.name} was not ready on http://${LOOPBACK}:${spec.healthPort}${spec.readinessPath} within ${READY_TIMEOUT_MS / 1000} s`);
}

function summary(planned: readonly Planned[], ctx: DevContext): string[] {
  const lines: string[] = [''];
  for (const p of planned) {
    const health = `http://${LOOPBACK}:${p.spec.healthPort}`;
    const main = p.dev.http ? `http://${LOOPBACK}:${p.spec.port}` : `grpc localhost:${p.spec.port} (mTLS)`;
    lines.push(`  ${p.dev.name.padEnd(16)} ${main.padEnd(34)} health ${health}/readyz  metrics ${health}/metrics`);
  }
  const gateway = planned.find((p) => p.dev.http);
  if (gateway) {
    const url = `http://${LOOPBACK}:${gateway.spec.port}`;
    lines.push('', `  OpenAPI:  ${url}/openapi.json`,
      `  sign up:  curl -s -X POST ${url}/v1/auth/signup -H 'content-type: application/json' \\`,
      `              -d '{"email":"ada@example.com","password":"correct horse battery","name":"Ada"}'`);
  }
  const authDb = ctx.databases.get('auth-service');
  if (authDb && planned.some((p) => p.dev.name === 'auth-service')) {
    lines.push('', '  make an admin (after signing up):',
      `    DATABASE_HOST=${ctx.pg.host} DATABASE_PORT=${ctx.pg.port} DATABASE_NAME=${authDb.database} DATABASE_USER=${authDb.user} \\`,
      `    DATABASE_PASSWORD_FILE=${authDb.passwordFile} DATABASE_CA_FILE=${ctx.pg.caFile} \\`,
      `    npx tsx ${relative(process.cwd(), join(ROOT, 'services/auth-service/src/cli.ts')) || 'services/auth-service/src/cli.ts'} grant-role --email ada@example.com --role admin`);
  }
  lines.push('', `  PostgreSQL 127.0.0.1:${ctx.pg.port}, Redis 127.0.0.1:${ctx.redis?.port ?? '-'}${ctx.kafka ? `, Kafka ${ctx.kafka.bootstrap}` : ''} (TLS, CA ${ctx.ca.caFile})`);
  if (ctx.stripe) lines.push(`  stripe-mock ${ctx.stripe.server.url} (payments authorise and capture; pay with "paymentMethod": "pm_card_visa")`);
  lines.push('');
  return lines;
}

async function main(): Promise<number> {
  const spec = loadPlatformSpec();
  const logLevel = process.env.LOG_LEVEL ?? 'info';
  const { planned, missing } = planServices(spec);
  if (missing.length > 0) note(`not started (no src/main.ts yet): ${missing.join(', ')}`);
  if (planned.length === 0) throw new DevError('no service to start');

  // Before anything starts: a busy well-known port is the usual failure (a previous run).
  for (const p of planned) {
    await checkPortFree(p.spec.port, `${p.dev.name} ${p.dev.http ? 'HTTP' : 'gRPC'}`);
    await checkPortFree(p.spec.healthPort, `${p.dev.name} health`);
  }

  const cleanups: (() => Promise<unknown>)[] = [];
  const processes: ServiceProcess[] = [];
  let stopping: Promise<number> | undefined;
  let failed = false;
  const stopAll = (reason: string): Promise<number> => {
    stopping ??= (async () => {
      note(`${reason}: stopping`);
      let clean = !failed;
      for (const proc of [...processes].reverse()) {
        if (!(await proc.stop())) clean = false;
      }
      for (const fn of cleanups.splice(0).reverse()) {
        await fn().catch((err: unknown) => {
          clean = false;
          note(`cleanup failed: ${err instanceof Error ? err.message : String(err)}`);
        });
      }
      note(clean ? 'stopped' : 'stopped with errors');
      return clean ? 0 : 1;
    })();
    return stopping;
  };
  let onStopped!: (code: number) => void;
  const finished = new Promise<number>((r) => {
    onStopped = r;
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (stopping) note(`${sig} again: already stopping`);
      else void stopAll(sig).then(onStopped);
    });
  }

  try {
    const needs = (secret: string) => planned.some((p) => p.secrets.includes(secret));
    const ca = await createTestCa();
    cleanups.push(() => rm(ca.dir, { recursive: true, force: true }));
    note('starting PostgreSQL and Redis');
    const [pg, redis] = await Promise.all([
      startPostgres({ ca }),
      needs('cache') ? startRedis({ ca }) : undefined,
    ]);
    cleanups.push(() => pg.dispose());
    if (redis) cleanups.push(() => redis.dispose());
    let kafka: KafkaServer | undefined;
    if (needs('broker')) {
      note('starting Kafka');
      // Topics are never auto-created (as on MSK): the spec's, with its partition counts.
      kafka = await startKafka({ ca, topics: spec.dataTier.kafka.topics.map((t) => ({ name: t.name, partitions: t.partitions })) });
      cleanups.push(() => kafka!.dispose());
    }
    let stripe: DevContext['stripe'];
    if (needs('payment-provider')) {
      note('starting stripe-mock');
      const server = await startStripeMock({ fixtures: STRIPE_AUTHORIZING_FIXTURES });
      cleanups.push(() => server.dispose());
      const secretKeyFile = join(ca.dir, 'stripe-secret-key');
      // stripe-mock accepts any test-mode key of Stripe's shape (this is the one in Stripe's docs).
      await writeFile(secretKeyFile, 'sk_test_4eC39HqLyjWDarjtT1zdp7dc\n', { mode: 0o600 });
      stripe = { server, secretKeyFile };
    }
    const databases = new Map<string, DatabaseAccess>();
    for (const p of planned.filter((q) => q.secrets.includes('database'))) {
      const name = spec.workloads.databaseNames[p.dev.name];
      if (!name) throw new DevError(`lib/spec workloads.databaseNames has no database for ${p.dev.name}`);
      databases.set(p.dev.name, await pg.createDatabase(name));
    }
    const kekFile = join(ca.dir, 'auth-kek');
    await writeFile(kekFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const ctx: DevContext = { ca, pg, redis, kafka, stripe, databases, kekFile };

    const width = Math.max(...planned.map((p) => p.dev.name.length));
    for (const p of planned) {
      if (stopping) break;
      const cert = await issueServiceCertificate(ca, p.dev.name);
      note(`starting ${p.dev.name}`);
      const proc = ServiceProcess.start(p.dev.name, p.entry, environment(p, ctx, logLevel, cert), width);
      processes.push(proc);
      await waitUntilReady(proc, p.spec);
    }
    if (!stopping) {
      for (const line of summary(planned, ctx)) out(line);
      out(`ready: ${planned.map((p) => p.dev.name).join(', ')} (Ctrl-C stops everything)`);
      // A service that dies on its own takes the session down: a half-running stack misleads.
      for (const proc of processes) {
        void proc.exited.then(({ code, signal }) => {
          if (stopping) return;
          failed = true;
          void stopAll(`${proc.name} exited (${signal ?? `code ${code}`})`).then(onStopped);
        });
      }
    }
  } catch (err) {
    failed = true;
    note(err instanceof Error ? err.message : String(err));
    return stopAll('start failed');
  }
  return finished;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      note(err instanceof Error ? err.message : String(err));
      process.exit(1);
    },
  );
}
