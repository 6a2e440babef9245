// The PgBouncer exporter stand-in: the two flags the chart passes, as prometheus-community's
// exporter reads them, and what one scrape serves from the admin console's answers (given here as
// PgBouncer 1.18 words them; test/cluster/platform.suite.ts scrapes it against a real PgBouncer).
import { exporterRegistry, parseFlags } from '../../scripts/local-cluster/pgbouncer-exporter';
import { renderLocalCharts } from '../../scripts/local-cluster/platform';
import { loadPlatformSpec, localEnvironment } from '../../lib/spec';

const spec = loadPlatformSpec();

it("reads the chart's own exporter arguments", () => {
  const deployment = renderLocalCharts(spec, localEnvironment(spec)).find((o) => o.kind === 'Deployment' && o.metadata.name === 'pgbouncer')!;
  const exporter = (deployment.spec?.template?.spec?.containers as { name: string; args?: string[] }[]).find((c) => c.name === 'exporter')!;
  expect(parseFlags(exporter.args!)).toEqual({
    connectionString: 'postgres://pgbouncer_stats@127.0.0.1:6432/pgbouncer?sslmode=require',
    listen: { host: undefined, port: spec.workloads.pgbouncer.exporterPort },
  });
});

it('takes a host in the listen address, and refuses a missing connection string or a bad address by name', () => {
  expect(parseFlags(['--pgBouncer.connectionString=postgres://u@h:1/pgbouncer', '--web.listen-address=127.0.0.1:9200']).listen).toEqual({ host: '127.0.0.1', port: 9200 });
  expect(() => parseFlags(['--web.listen-address=:9127'])).toThrow(/--pgBouncer\.connectionString/);
  expect(() => parseFlags(['--pgBouncer.connectionString=postgres://u@h:1/pgbouncer', '--web.listen-address=9127'])).toThrow(/--web\.listen-address=9127/);
});

it('serves each scrape from one query of each list: a dropped pool disappears, an unreachable console is pgbouncer_up 0', async () => {
  const answers: Record<string, Record<string, string | number | null>[]>[] = [
    {
      'SHOW DATABASES': [{ name: 'users', host: '10.30.34.10', port: 5432, database: 'users', force_user: null, pool_mode: null, current_connections: 3, max_connections: 40 }],
      'SHOW POOLS': [{ database: 'users', user: 'user_service', cl_active: 2, cl_waiting: 1, sv_active: 1, sv_idle: 2, sv_used: 0 }],
    },
    { 'SHOW DATABASES': [], 'SHOW POOLS': [] },
  ];
  const asked: string[] = [];
  let scrape = 0;
  const registry = exporterRegistry(async (sql) => {
    asked.push(sql);
    const answer = answers[scrape]?.[sql];
    if (!answer) throw new Error('connection refused');
    return answer;
  });

  const first = await registry.metrics();
  expect(asked).toEqual(['SHOW DATABASES', 'SHOW POOLS']);
  expect(first).toMatch(/^pgbouncer_up 1$/m);
  expect(first).toContain('pgbouncer_databases_current_connections{name="users",host="10.30.34.10",port="5432",database="users",force_user="",pool_mode=""} 3');
  expect(first).toContain('pgbouncer_databases_max_connections{name="users",host="10.30.34.10",port="5432",database="users",force_user="",pool_mode=""} 40');
  expect(first).toContain('pgbouncer_pools_client_waiting_connections{database="users",user="user_service"} 1');

  scrape = 1;
  const second = await registry.metrics();
  expect(second).toMatch(/^pgbouncer_up 1$/m);
  expect(second).not.toContain('user_service');

  scrape = 2;
  expect(await registry.metrics()).toMatch(/^pgbouncer_up 0$/m);
});
