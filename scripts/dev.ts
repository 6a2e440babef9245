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
 * A service is its lib/spec entry plus services/<name>/src/main.ts: ports, HTTP or gRPC, callees,
 * stores, tokens and generated keys all come from lib/spec (devPlan, serviceEnvironment).
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
import type { GeneratedKeySpec, PlatformSpec, ServiceSpec, VaultSecretKind } from '../lib/spec';
import { addrEnvName, generatedKeyPath, serviceByName, tokenSigner } from '../lib/spec/topology';
import { createTestCa, issueServiceCertificate, startKafka, startPostgres, startRedis, startStripeMock } from './local-stack';
import type { DatabaseAccess, KafkaServer, PostgresServer, RedisServer } from './local-stack';

const ROOT = resolve(__dirname, '..');
// Local only: nothing here is meant to be reached from another machine.
const LOOPBACK = '127.0.0.1';
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

/**
 * What `npm run dev` runs, from lib/spec alone and without starting anything: the services
 * (callees first), the local servers they need, their databases and generated keys, and the
 * dev tokens' issuer and audience. A service is its lib/spec entry plus services/<name>/src/main.ts.
 */
export interface DevPlan {
  readonly services: readonly PlannedService[];
  /** Services of lib/spec without a services/<name>/src/main.ts yet: not started. */
  readonly missing: readonly string[];
  /** Servers besides PostgreSQL, started only when a planned service holds that secret kind. */
  readonly servers: { readonly redis: boolean; readonly kafka: boolean; readonly stripe: boolean };
  /** One database per planned service with a database (lib/spec services[].database). */
  readonly databases: readonly { readonly service: string; readonly database: string }[];
  /** The generated keys the planned services read (services[].generatedKeys): random per run. */
  readonly generatedKeys: readonly { readonly service: string; readonly key: GeneratedKeySpec }[];
  /** Issuer and audience of the dev tokens, for the services with a part in them (services[].tokens). */
  readonly tokens: { readonly issuer: string; readonly audience: string } | undefined;
  /** The token signer holds the accounts and their roles: its CLI makes an admin. */
  readonly adminCli: { readonly service: string; readonly path: string } | undefined;
}

/** One service to start: its spec entry, entry point, secrets and the callees that run here. */
export interface PlannedService {
  readonly name: string;
  readonly spec: ServiceSpec;
  readonly entry: string;
  /** The spec's port serves HTTP (the edge service, HTTP_PORT) instead of gRPC (GRPC_PORT). */
  readonly http: boolean;
  readonly secrets: readonly VaultSecretKind[];
  /** Callees that run here, with their spec port. */
  readonly callees: readonly { name: string; port: number }[];
}

/**
 * Where the local servers listen and the files they wrote: plain data, so the environment of a
 * service is a function of the plan and these.
 */
export interface DevEndpoints {
  readonly caFile: string;
  readonly pg: Pick<PostgresServer, 'host' | 'port' | 'caFile'>;
  readonly redis?: Pick<RedisServer, 'host' | 'port' | 'caFile' | 'username' | 'passwordFile'>;
  readonly kafka?: Pick<KafkaServer, 'bootstrap' | 'caFile' | 'username' | 'passwordFile'>;
  readonly stripe?: { readonly url: string; readonly secretKeyFile: string };
  readonly databases: ReadonlyMap<string, Pick<DatabaseAccess, 'database' | 'user' | 'passwordFile'>>;
  /** The file of each generated key, by generatedKeyPath (`services/<service>/<path>`). */
  readonly generatedKeyFiles: ReadonlyMap<string, string>;
}

class DevError extends Error {}

const out = (line: string) => process.stdout.write(`${line}\n`);
const note = (line: string) => process.stderr.write(`dev: ${line}\n`);

export function devPlan(spec: PlatformSpec, exists: (path: string) => boolean = existsSync): DevPlan {
  const present: PlannedService[] = [];
  const missing: string[] = [];
  for (const svc of spec.services) {
    const entry = join(ROOT, 'services', svc.name, 'src', 'main.ts');
    if (!exists(entry)) {
      missing.push(svc.name);
      continue;
    }
    const secrets = svc.secrets;
    const callees = svc.calls.map((name) => ({ name, port: serviceByName(spec, name).port }));
    present.push({ name: svc.name, spec: svc, entry, http: svc.exposes === 'edge', secrets, callees });
  }
  // Callees before callers (lib/spec services[].calls); callees not running here are left out.
  const names = new Set(present.map((p) => p.name));
  const ordered: PlannedService[] = [];
  const visit = (p: PlannedService, path: string[]) => {
    if (ordered.includes(p)) return;
    if (path.includes(p.name)) throw new DevError(`lib/spec services[].calls has a cycle: ${[...path, p.name].join(' -> ')}`);
    for (const callee of p.callees) {
      const c = present.find((q) => q.name === callee.name);
      if (c) visit(c, [...path, p.name]);
    }
    ordered.push(p);
  };
  present.forEach((p) => visit(p, []));
  const services = ordered.map((p) => ({ ...p, callees: p.callees.filter((c) => names.has(c.name)) }));
  const needs = (kind: VaultSecretKind) => services.some((p) => p.secrets.includes(kind));
  const databases = services.filter((p) => p.secrets.includes('database')).map((p) => {
    const database = p.spec.database?.name;
    if (!database) throw new DevError(`lib/spec services[].database is missing for ${p.name}`);
    return { service: p.name, database };
  });
  const signer = tokenSigner(spec);
  const cli = signer && join(ROOT, 'services', signer.name, 'src', 'cli.ts');
  return {
    services, missing,
    servers: { redis: needs('cache'), kafka: needs('broker'), stripe: needs('payment-provider') },
    databases,
    generatedKeys: services.flatMap((p) => p.spec.generatedKeys.map((key) => ({ service: p.name, key }))),
    // choice: any fixed pair shared by the signer and the verifiers works locally.
    tokens: signer ? { issuer: `http://${signer.name}.dev.local`, audience: `${spec.project}-api` } : undefined,
    adminCli: signer && cli && names.has(signer.name) && databases.some((d) => d.service === signer.name) && exists(cli)
      ? { service: signer.name, path: cli } : undefined,
  };
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

/** The environment of services/README.md for one planned service, on the local servers. */
export function serviceEnvironment(plan: DevPlan, p: PlannedService, ctx: DevEndpoints, logLevel: string, tls: { certFile: string; keyFile: string }): Record<string, string> {
  const env: Record<string, string> = {
    LOG_LEVEL: logLevel,
    HEALTH_PORT: String(p.spec.healthPort),
    [p.http ? 'HTTP_PORT' : 'GRPC_PORT']: String(p.spec.port),
    TLS_CERT_FILE: tls.certFile,
    TLS_KEY_FILE: tls.keyFile,
    TLS_CA_FILE: ctx.caFile,
  };
  // Local only: the HTTP port is not meant to be reached from another machine.
  if (p.http) env.HTTP_HOST = LOOPBACK;
  for (const callee of p.callees) {
    // localhost: the name the harness's certificates carry.
    env[addrEnvName(callee.name)] = `localhost:${callee.port}`;
  }
  if (p.spec.tokens && plan.tokens) Object.assign(env, { JWT_ISSUER: plan.tokens.issuer, JWT_AUDIENCE: plan.tokens.audience });
  for (const key of p.spec.generatedKeys) {
    const file = ctx.generatedKeyFiles.get(generatedKeyPath(p.name, key));
    if (!file) throw new DevError(`no file for ${p.name}'s generated key ${key.path}`);
    env[key.env] = file;
  }
  if (p.secrets.includes('database')) {
    const db = ctx.databases.get(p.name);
    if (!db) throw new DevError(`no database for ${p.name}`);
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
    Object.assign(env, { STRIPE_API_BASE: ctx.stripe.url, STRIPE_SECRET_KEY_FILE: ctx.stripe.secretKeyFile });
  }
  return env;
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

function summary(plan: DevPlan, ctx: DevEndpoints): string[] {
  const lines: string[] = [''];
  for (const p of plan.services) {
    const health = `http://${LOOPBACK}:${p.spec.healthPort}`;
    const main = p.http ? `http://${LOOPBACK}:${p.spec.port}` : `grpc localhost:${p.spec.port} (mTLS)`;
    lines.push(`  ${p.name.padEnd(16)} ${main.padEnd(34)} health ${health}/readyz  metrics ${health}/metrics`);
  }
  const gateway = plan.services.find((p) => p.http);
  if (gateway) {
    const url = `http://${LOOPBACK}:${gateway.spec.port}`;
    lines.push('', `  OpenAPI:  ${url}/openapi.json`,
      `  sign up:  curl -s -X POST ${url}/v1/auth/signup -H 'content-type: application/json' \\`,
      `              -d '{"email":"ada@example.com","password":"correct horse battery","name":"Ada"}'`);
  }
  const adminDb = plan.adminCli && ctx.databases.get(plan.adminCli.service);
  if (plan.adminCli && adminDb) {
    lines.push('', '  make an admin (after signing up):',
      `    DATABASE_HOST=${ctx.pg.host} DATABASE_PORT=${ctx.pg.port} DATABASE_NAME=${adminDb.database} DATABASE_USER=${adminDb.user} \\`,
      `    DATABASE_PASSWORD_FILE=${adminDb.passwordFile} DATABASE_CA_FILE=${ctx.pg.caFile} \\`,
      `    npx tsx ${relative(process.cwd(), plan.adminCli.path) || relative(ROOT, plan.adminCli.path)} grant-role --email ada@example.com --role admin`);
  }
  lines.push('', `  PostgreSQL 127.0.0.1:${ctx.pg.port}, Redis 127.0.0.1:${ctx.redis?.port ?? '-'}${ctx.kafka ? `, Kafka ${ctx.kafka.bootstrap}` : ''} (TLS, CA ${ctx.caFile})`);
  if (ctx.stripe) lines.push(`  stripe-mock ${ctx.stripe.url} (payments authorise and capture; pay with "paymentMethod": "pm_card_visa")`);
  lines.push('');
  return lines;
}

async function main(): Promise<number> {
  const spec = loadPlatformSpec();
  const logLevel = process.env.LOG_LEVEL ?? 'info';
  const plan = devPlan(spec);
  const { services: planned, missing } = plan;
  if (missing.length > 0) note(`not started (no src/main.ts yet): ${missing.join(', ')}`);
  if (planned.length === 0) throw new DevError('no service to start');

  // Before anything starts: a busy well-known port is the usual failure (a previous run).
  for (const p of planned) {
    await checkPortFree(p.spec.port, `${p.name} ${p.http ? 'HTTP' : 'gRPC'}`);
    await checkPortFree(p.spec.healthPort, `${p.name} health`);
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
    const ca = await createTestCa();
    cleanups.push(() => rm(ca.dir, { recursive: true, force: true }));
    note('starting PostgreSQL and Redis');
    const [pg, redis] = await Promise.all([
      startPostgres({ ca }),
      plan.servers.redis ? startRedis({ ca }) : undefined,
    ]);
    cleanups.push(() => pg.dispose());
    if (redis) cleanups.push(() => redis.dispose());
    let kafka: KafkaServer | undefined;
    if (plan.servers.kafka) {
      note('starting Kafka');
      // Topics are never auto-created (as on MSK): the spec's, with its partition counts.
      kafka = await startKafka({ ca, topics: spec.dataTier.kafka.topics.map((t) => ({ name: t.name, partitions: t.partitions })) });
      cleanups.push(() => kafka!.dispose());
    }
    let stripe: DevEndpoints['stripe'];
    if (plan.servers.stripe) {
      note('starting stripe-mock');
      const server = await startStripeMock({ fixtures: STRIPE_AUTHORIZING_FIXTURES });
      cleanups.push(() => server.dispose());
      const secretKeyFile = join(ca.dir, 'stripe-secret-key');
      // stripe-mock accepts any test-mode key of Stripe's shape (this is the one in Stripe's docs).
      await writeFile(secretKeyFile, 'sk_test_4eC39HqLyjWDarjtT1zdp7dc\n', { mode: 0o600 });
      stripe = { url: server.url, secretKeyFile };
    }
    const databases = new Map<string, DatabaseAccess>();
    for (const { service, database } of plan.databases) databases.set(service, await pg.createDatabase(database));
    // Each generated key, random per run (as vault/bootstrap.sh generates it once per environment).
    const generatedKeyFiles = new Map<string, string>();
    for (const { service, key } of plan.generatedKeys) {
      const file = join(ca.dir, `${service}-${key.path}-${key.file}`);
      await writeFile(file, `${randomBytes(key.bytes).toString('base64')}\n`, { mode: 0o600 });
      generatedKeyFiles.set(generatedKeyPath(service, key), file);
    }
    const ctx: DevEndpoints = { caFile: ca.caFile, pg, redis, kafka, stripe, databases, generatedKeyFiles };

    const width = Math.max(...planned.map((p) => p.name.length));
    for (const p of planned) {
      if (stopping) break;
      const cert = await issueServiceCertificate(ca, p.name);
      note(`starting ${p.name}`);
      const proc = ServiceProcess.start(p.name, p.entry, serviceEnvironment(plan, p, ctx, logLevel, cert), width);
      processes.push(proc);
      await waitUntilReady(proc, p.spec);
    }
    if (!stopping) {
      for (const line of summary(plan, ctx)) out(line);
      out(`ready: ${planned.map((p) => p.name).join(', ')} (Ctrl-C stops everything)`);
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
