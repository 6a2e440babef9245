/**
 * The PgBouncer exporter of the local cluster, in place of prometheus-community's
 * pgbouncer_exporter (the chart's `exporter` container): the Go module proxy serves no version of
 * it, and quay.io cannot be reached. It takes the same two flags the chart passes, logs in to
 * PgBouncer's admin console as the stats user, and serves on every scrape the series of the
 * upstream collector that the platform's alerting rules read (SHOW DATABASES, SHOW POOLS), with
 * the upstream names and labels, plus `pgbouncer_up`. Bundled by esbuild into the image
 * (scripts/local-cluster/workload-images.ts).
 */
import { createServer } from 'node:http';
import { Client } from 'pg';
import { Gauge, Registry } from 'prom-client';

interface Flags {
  readonly connectionString: string;
  readonly listen: { host?: string; port: number };
}

export function parseFlags(argv: readonly string[]): Flags {
  const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const connectionString = value('pgBouncer.connectionString');
  const address = value('web.listen-address') ?? ':9127';
  const match = /^(.*):(\d{1,5})$/.exec(address);
  if (!connectionString) throw new Error('--pgBouncer.connectionString=postgres://user@host:port/pgbouncer is required');
  if (!match) throw new Error(`--web.listen-address=${address}: expected [host]:port`);
  return { connectionString, listen: { host: match[1] || undefined, port: Number(match[2]) } };
}

/** libpq's sslmode=require: encrypted, the certificate not verified (the console is on loopback). */
function clientOptions(connectionString: string) {
  const url = new URL(connectionString);
  const sslmode = url.searchParams.get('sslmode');
  url.searchParams.delete('sslmode');
  return {
    connectionString: url.toString(),
    ssl: sslmode && sslmode !== 'disable' ? { rejectUnauthorized: sslmode === 'verify-full' || sslmode === 'verify-ca' } : false,
    connectionTimeoutMillis: 5000,
  };
}

type Row = Record<string, string | number | null>;

const DATABASE_LABELS = ['name', 'host', 'port', 'database', 'force_user', 'pool_mode'] as const;
const POOL_LABELS = ['database', 'user'] as const;
const DATABASE_SERIES = { current_connections: 'current_connections', max_connections: 'max_connections' } as const;
const POOL_SERIES = {
  client_active_connections: 'cl_active', client_waiting_connections: 'cl_waiting',
  server_active_connections: 'sv_active', server_idle_connections: 'sv_idle', server_used_connections: 'sv_used',
} as const;

export function exporterRegistry(query: (sql: string) => Promise<Row[]>): Registry {
  const registry = new Registry();
  // The registry collects every metric at once: the first collect of a scrape queries both lists
  // (once) and sets every gauge, reset first so that a dropped pool disappears; the others wait for it.
  let scrape: Promise<void> | undefined;
  const refresh = async () => {
    scrape ??= (async () => {
      for (const { gauge } of [...databases, ...pools]) gauge.reset();
      try {
        for (const row of await query('SHOW DATABASES')) {
          for (const { column, gauge } of databases) gauge.set(Object.fromEntries(DATABASE_LABELS.map((k) => [k, label(row, k)])), Number(row[column] ?? 0));
        }
        for (const row of await query('SHOW POOLS')) {
          for (const { column, gauge } of pools) gauge.set(Object.fromEntries(POOL_LABELS.map((k) => [k, label(row, k)])), Number(row[column] ?? 0));
        }
        up.set(1);
      } catch {
        up.set(0);
      }
    })().finally(() => { scrape = undefined; });
    await scrape;
  };
  const gauge = (name: string, help: string, labelNames: readonly string[] = []) => new Gauge({ name, help, labelNames, registers: [registry], collect: refresh });
  const databases = Object.entries(DATABASE_SERIES).map(([series, column]) => ({ column, gauge: gauge(`pgbouncer_databases_${series}`, `SHOW DATABASES ${column}`, DATABASE_LABELS) }));
  const pools = Object.entries(POOL_SERIES).map(([series, column]) => ({ column, gauge: gauge(`pgbouncer_pools_${series}`, `SHOW POOLS ${column}`, POOL_LABELS) }));
  const up = gauge('pgbouncer_up', 'Whether the last scrape reached PgBouncer');
  const label = (row: Row, key: string) => String(row[key] ?? '');
  return registry;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const query = async (sql: string): Promise<Row[]> => {
    const client = new Client(clientOptions(flags.connectionString));
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.query<Row>(sql)).rows;
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  const registry = exporterRegistry(query);
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
    );
  });
  server.listen(flags.listen.port, flags.listen.host);
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  });
}
