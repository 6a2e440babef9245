/**
 * bench/gateway: on loopback, (a) nginx (Debian package, one worker) proxying to a trivial
 * upstream (an nginx server block returning a fixed user JSON over kept-alive connections)
 * against (b) api-gateway serving an authenticated GET /v1/users/{id}: JWT verification,
 * Redis rate limit, Authorize (decision cache), gRPC over mTLS to user-service, Redis cache hit.
 * Load: wrk, fixed connections and duration, after a warm-up. Prints requests/s, p50, p99 and
 * the ratio b/a; then (c) the latency of (b) at half the rate (b) saturated at, offered at a
 * fixed rate, the latency a service sees below saturation (open-loop load by vegeta, see fixedRate).
 *
 * The services run as child processes on what production runs: the esbuild bundles of
 * `npm run build:services` (built first), `node --enable-source-maps build/services/<svc>/main.js`
 * configured by environment like a Deployment, so the gateway has its own event loop.
 * `--runner tsx` runs the TypeScript sources instead; `--profile <dir>` writes a V8 CPU profile
 * of api-gateway and user-service there (node --cpu-prof; summarise with bench/gateway/profile-summary.ts).
 *
 * `--node-flags='<flags>'` adds node options to the three services (a heap setting under trial).
 *
 *   npm run bench:gateway [-- --connections 50 --duration 10 --warmup 3 --runner bundle --profile <dir> --node-flags='<flags>']
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../../scripts/local-stack';
import { prepareStack } from '../../test/services/integration/stack';
import type { PreparedStack } from '../../test/services/integration/stack';
import { buildFor, cpuMeter, parseRunner, spawnService, waitReady } from '../lib/services';

interface Result { readonly rps: number; readonly p50Ms: number; readonly p99Ms: number; readonly errors: string; readonly requests: number }

function need(binary: string, pkg: string): void {
  if (spawnSync('sh', ['-c', `command -v ${binary}`]).status !== 0) {
    throw new Error(`${binary} not found; install it: apt-get install -y ${pkg} (or npm run setup)`);
  }
}

function toMs(value: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(value.trim());
  if (!m) throw new Error(`cannot read wrk latency ${JSON.stringify(value)}`);
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

/** Runs wrk (one thread: the machine's other cores serve) and parses --latency output. */
function wrk(url: string, connections: number, seconds: number, headers: Record<string, string>): Promise<Result> {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), url];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`wrk exited ${code}:\n${out}`));
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1];
      const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
      const p50 = /^\s+50%\s+(\S+)/m.exec(out)?.[1];
      const p99 = /^\s+99%\s+(\S+)/m.exec(out)?.[1];
      if (!rps || !p50 || !p99) return reject(new Error(`cannot parse wrk output:\n${out}`));
      const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1];
      const socketErrors = /Socket errors:.*$/m.exec(out)?.[0];
      resolve({ rps: Number(rps), p50Ms: toMs(p50), p99Ms: toMs(p99), errors: [non2xx ? `${non2xx} non-2xx` : '', socketErrors ?? ''].filter(Boolean).join('; '), requests });
    });
  });
}

/** vegeta, as scripts/setup/go-tools.sh installs it. */
const VEGETA = join(__dirname, '..', '..', '.cache', 'go', 'bin', 'vegeta');

/** What `vegeta report -type=json` prints (latencies in nanoseconds). */
interface VegetaReport {
  readonly latencies: { readonly '50th': number; readonly '99th': number };
  readonly requests: number;
  readonly rate: number;
  readonly status_codes: Record<string, number>;
  readonly errors: readonly string[] | null;
}

/**
 * p50/p99 at a fixed offered rate, open loop, measured by vegeta: request i is sent at start +
 * i/rate whatever the answers to earlier ones (vegeta starts another worker rather than wait for
 * one), over at most `connections` kept-alive connections, and a request that waits for a
 * connection counts the wait in its latency, so a stall is not hidden by sending less during it
 * (as wrk2 measures). A compiled client, so that the latencies it records hold no pauses of a
 * Node client's own garbage collection or timers.
 */
function fixedRate(url: string, connections: number, seconds: number, rate: number, headers: Record<string, string>): Promise<Result> {
  const attackArgs = ['attack', `-rate=${rate}/1s`, `-duration=${seconds}s`, `-max-connections=${connections}`, '-keepalive',
    ...Object.entries(headers).map(([k, v]) => `-header=${k}: ${v}`)];
  const exited = (child: ChildProcess) => new Promise<number | null>((done, fail) => {
    child.once('error', fail);
    child.once('close', (code) => done(code));
  });
  const attack = spawn(VEGETA, attackArgs, { stdio: ['pipe', 'pipe', 'inherit'] });
  const report = spawn(VEGETA, ['report', '-type=json'], { stdio: ['pipe', 'pipe', 'inherit'] });
  attack.stdout.pipe(report.stdin);
  attack.stdin.end(`GET ${url}\n`);
  let out = '';
  report.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  return Promise.all([exited(attack), exited(report)]).then(([attackCode, reportCode]) => {
    if (attackCode !== 0 || reportCode !== 0) throw new Error(`vegeta exited ${attackCode} (attack) / ${reportCode} (report):\n${out}`);
    let r: VegetaReport;
    try {
      r = JSON.parse(out) as VegetaReport;
    } catch {
      throw new Error(`cannot parse vegeta report:\n${out}`);
    }
    const non2xx = Object.entries(r.status_codes).filter(([code]) => !code.startsWith('2') && code !== '0').reduce((n, [, count]) => n + count, 0);
    const errors = new Set(r.errors ?? []);
    return {
      rps: r.rate, p50Ms: r.latencies['50th'] / 1e6, p99Ms: r.latencies['99th'] / 1e6, requests: r.requests,
      errors: [non2xx ? `${non2xx} non-2xx` : '', errors.size ? `errors: ${[...errors].slice(0, 3).join('; ')}` : ''].filter(Boolean).join('; '),
    };
  });
}

async function startNginx(stack: PreparedStack, body: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-nginx-'));
  const [proxyPort, upstreamPort] = await Promise.all([freePort(), freePort()]);
  const conf = `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream trivial { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${upstreamPort};
    location / { default_type application/json; return 200 '${body.replace(/'/g, '')}'; }
  }
  server {
    listen 127.0.0.1:${proxyPort};
    location / { proxy_pass http://trivial; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`;
  await writeFile(join(dir, 'nginx.conf'), conf);
  const child = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'inherit'] });
  stack.onDispose(async () => {
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGQUIT');
    });
    await rm(dir, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${proxyPort}/v1/users/x`;
  await waitReady(url, 'nginx', child);
  return url;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      connections: { type: 'string', default: '50' }, duration: { type: 'string', default: '10' }, warmup: { type: 'string', default: '3' },
      runner: { type: 'string', default: 'bundle' }, profile: { type: 'string' }, 'node-flags': { type: 'string', default: '' },
    },
  });
  const runner = parseRunner(values.runner);
  const profileDir = values.profile ? resolve(values.profile) : undefined;
  const nodeFlags = values['node-flags'].split(/\s+/).filter(Boolean);
  const badFlag = nodeFlags.find((f) => !f.startsWith('--'));
  if (badFlag) throw new Error(`--node-flags takes node options (each starting with --), got ${JSON.stringify(badFlag)}`);
  const connections = Number(values.connections);
  const duration = Number(values.duration);
  const warmup = Number(values.warmup);
  for (const [k, v] of Object.entries({ connections, duration, warmup })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer, got ${JSON.stringify(values[k as keyof typeof values])}`);
  }
  need('nginx', 'nginx');
  need('wrk', 'wrk');
  if (!existsSync(VEGETA)) throw new Error(`${VEGETA} not found; install it: bash scripts/setup/go-tools.sh (or npm run setup)`);
  await buildFor(runner, ['user-service', 'auth-service', 'api-gateway'], 'bench:gateway');

  process.stderr.write('bench:gateway: starting PostgreSQL, Redis, user-service, auth-service, api-gateway...\n');
  const stack = await prepareStack({
    logLevel: 'warn',
    // The bench measures the limiter's cost, not its refusals.
    gatewayEnv: { RATE_LIMIT_AUTHENTICATED: '1000000000', RATE_LIMIT_ANONYMOUS: '1000000000' },
  });
  const stop = () => { void stack.dispose().finally(() => process.exit(130)); };
  process.once('SIGINT', stop);
  try {
    const [httpPort, healthPort] = await Promise.all([freePort(), freePort()]);
    const users = spawnService(stack, 'user-service', stack.env['user-service'], { runner, nodeFlags, ...(profileDir ? { profileDir } : {}) });
    await waitReady(`http://127.0.0.1:${stack.env['user-service'].HEALTH_PORT}/readyz`, 'user-service', users);
    const auth = spawnService(stack, 'auth-service', stack.env['auth-service'], { runner, nodeFlags });
    await waitReady(`http://127.0.0.1:${stack.env['auth-service'].HEALTH_PORT}/readyz`, 'auth-service', auth);
    const gateway = spawnService(stack, 'api-gateway', { ...stack.env['api-gateway'], HTTP_PORT: String(httpPort), HEALTH_PORT: String(healthPort) }, { runner, nodeFlags, ...(profileDir ? { profileDir } : {}) });
    await waitReady(`http://127.0.0.1:${healthPort}/readyz`, 'api-gateway', gateway);
    const base = `http://127.0.0.1:${httpPort}`;

    const email = `bench-${Date.now()}@example.com`;
    const password = 'benchmark password';
    const post = (path: string, body: object) => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const signup = await post('/v1/auth/signup', { email, password, name: 'Bench' });
    if (signup.status !== 201) throw new Error(`sign-up failed: ${signup.status} ${await signup.text()}`);
    const { userId } = (await signup.json()) as { userId: string };
    const login = await post('/v1/auth/login', { email, password });
    if (login.status !== 200) throw new Error(`login failed: ${login.status} ${await login.text()}`);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const userUrl = `${base}/v1/users/${userId}`;
    const auth0 = { Authorization: `Bearer ${accessToken}` };
    const first = await fetch(userUrl, { headers: auth0 });
    const profile = await first.text();
    if (first.status !== 200) throw new Error(`GET /v1/users/{id} failed: ${first.status} ${profile}`);

    const nginxUrl = await startNginx(stack, profile);

    process.stderr.write(`bench:gateway: ${connections} connections, ${duration} s each after a ${warmup} s warm-up (wrk, 1 thread)\n`);
    await wrk(nginxUrl, connections, warmup, {});
    const a = await wrk(nginxUrl, connections, duration, {});
    await wrk(userUrl, connections, warmup, auth0);
    const cpu = cpuMeter({ 'api-gateway': gateway, 'user-service': users, 'auth-service': auth });
    const b = await wrk(userUrl, connections, duration, auth0);
    const cpuPerRequest = cpu.perUnit(b.requests);
    const halfRate = Math.max(1, Math.round(b.rps / 2));
    const c = await fixedRate(userUrl, connections, duration, halfRate, auth0);

    const row = (name: string, r: Result) => `${name.padEnd(48)} ${r.rps.toFixed(0).padStart(10)} ${r.p50Ms.toFixed(2).padStart(9)} ${r.p99Ms.toFixed(2).padStart(9)}  ${r.errors}`;
    process.stdout.write([
      '',
      `${'target'.padEnd(48)} ${'req/s'.padStart(10)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)}`,
      row('(a) nginx -> trivial upstream', a),
      row('(b) api-gateway GET /v1/users/{id} (full path)', b),
      row(`(c) (b) at half its rate, ${halfRate} req/s offered`, c),
      '',
      `(b) CPU per request, ms: ${cpuPerRequest}`,
      `ratio b/a: throughput ${(b.rps / a.rps).toFixed(3)}, p50 ${(b.p50Ms / a.p50Ms).toFixed(1)}x, p99 ${(b.p99Ms / a.p99Ms).toFixed(1)}x`,
      `machine: ${(await import('node:os')).cpus().length} CPUs, load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}, Node ${process.version}; every process on one host; services run as ${runner === 'bundle' ? 'esbuild bundles' : 'TypeScript via tsx'}${nodeFlags.length ? ` with ${nodeFlags.join(' ')}` : ''}`,
      '',
    ].join('\n'));
  } finally {
    process.off('SIGINT', stop);
    await stack.dispose();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:gateway failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
