import { ENVIRONMENT_NAMES } from '../../lib/spec';
import { zoneSubnetCidrs } from '../../lib/spec/topology';
import {
  pgbouncerDatabases, pgbouncerEntrypoint, PGBOUNCER_RELOADED_FILES, RELOAD_POLL_SECONDS, userlistTemplate,
} from '../../charts/pgbouncer-chart';
import { staticRoles } from '../../lib/vault/database';
import type { PlatformSpec } from '../../lib/spec';
import { findObject, renderEnvironment, spec } from './helpers';

const ini = (text: string) => Object.fromEntries(text.split('\n')
  .map((line) => /^(\w+) = (.*)$/.exec(line)).filter((m): m is RegExpExecArray => m !== null).map((m) => [m[1], m[2]]));

describe.each(ENVIRONMENT_NAMES)('%s pgbouncer chart', (envName) => {
  const objects = renderEnvironment(envName).pgbouncer!;
  const config = findObject(objects, 'ConfigMap', 'pgbouncer-config').data;
  const settings = ini(config['pgbouncer.ini']);

  it('admits the spec\'s 1000 client connections in total, over every pod of both pools; transaction pooling', () => {
    // Both pools' Deployments mount the same pgbouncer.ini: the cap is per pod, the spec's is PgBouncer's.
    const pods = objects.filter((o) => o.kind === 'Deployment').map((d) => d.spec.replicas as number);
    expect(pods).toHaveLength(2);
    const total = pods.reduce((sum, replicas) => sum + replicas * Number(settings.max_client_conn), 0);
    expect(total).toBe(spec.dataTier.pgbouncer.maxClientConnections);
    expect(total).toBe(1000);
    expect(settings.pool_mode).toBe('transaction');
    expect(Number(settings.listen_port)).toBe(spec.dataTier.pgbouncer.port);
  });

  it('opens no more server connections to one database instance than its max_connections leaves after the reserved ones', () => {
    const databases = pgbouncerDatabases(spec, 'host').trim().split('\n').length;
    const perPod = databases * Number(settings.max_db_connections);
    // A pool's pods all reach the writer (writer pool), or one replica in the worst case (reader pool).
    const replicas = findObject(objects, 'Deployment', 'pgbouncer').spec.replicas as number;
    expect(perPod).toBeLessThanOrEqual(Number(settings.max_client_conn));
    expect(replicas * perPod + spec.dataTier.postgres.reservedConnections).toBeLessThanOrEqual(spec.environments[envName].database.maxConnections);
  });

  it('requires TLS from clients and verifies RDS', () => {
    expect(settings.client_tls_sslmode).toBe('require');
    expect(settings.server_tls_sslmode).toBe('verify-full');
    expect(config['pg_hba.conf']).toContain('hostssl all all 0.0.0.0/0 scram-sha-256');
    expect(config['pg_hba.conf']).not.toMatch(/^host all all/m);
  });

  it('runs a writer and a reader pool, each with at least two replicas, a PDB and the exporter', () => {
    for (const pool of ['pgbouncer', 'pgbouncer-reader']) {
      const deployment = findObject(objects, 'Deployment', pool);
      expect(deployment.spec.replicas).toBe(spec.workloads.pgbouncer.replicas);
      expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
      const containers = deployment.spec.template.spec.containers;
      expect(containers.map((c: any) => c.image)).toEqual([spec.workloads.pgbouncer.image, spec.workloads.pgbouncer.exporterImage]);
      for (const c of containers) expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
      const databases = deployment.spec.template.spec.volumes.find((v: any) => v.name === 'databases');
      expect(databases.configMap).toEqual({ name: 'pgbouncer-databases', items: [{ key: `${pool}.ini`, path: 'databases.ini' }] });
      expect(findObject(objects, 'PodDisruptionBudget', pool).spec.maxUnavailable).toBe(1);
      expect(findObject(objects, 'Service', pool).spec.ports[0].port).toBe(spec.dataTier.pgbouncer.port);
      expect(deployment.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(spec.workloads.pgbouncer.exporterPort));
    }
  });

  it("authenticates from an auth_file of the services' static credentials, not auth_query", () => {
    for (const pool of ['pgbouncer', 'pgbouncer-reader']) {
      const annotations = findObject(objects, 'Deployment', pool).spec.template.metadata.annotations;
      const template: string = annotations['vault.hashicorp.com/agent-inject-template-userlist.txt'];
      expect(template).toBe(userlistTemplate(spec));
      expect(template.split('\n')).toEqual([
        ...staticRoles(spec).map((r) => `{{ with secret "database/static-creds/${r.name}" }}"${r.username}" "{{ .Data.password | replaceAll \`"\` \`""\` }}"{{ end }}`),
        '"pgbouncer_stats" ""', '',
      ]);
      expect(annotations['vault.hashicorp.com/agent-inject-secret-userlist.txt']).toBe(`database/static-creds/${staticRoles(spec)[0]!.name}`);
    }
    expect(staticRoles(spec).map((r) => r.username)).toEqual(['auth_service', 'user_service', 'payment_service', 'order_service']);
    expect(settings.auth_file).toBe('/vault/secrets/userlist.txt');
    expect(settings.auth_type).toBe('hba');
    expect(settings.auth_query).toBeUndefined();
    expect(settings.auth_user).toBeUndefined();
    expect(settings.server_tls_ca_file).toBe('/vault/secrets/rds-ca.pem');
  });

  it('reloads PgBouncer when a file it re-reads changes, with no hourly reload besides', () => {
    for (const pool of ['pgbouncer', 'pgbouncer-reader']) {
      const deployment = findObject(objects, 'Deployment', pool);
      const container = deployment.spec.template.spec.containers[0];
      expect(container.command).toEqual(['/bin/sh', '-c']);
      expect(container.args).toEqual([pgbouncerEntrypoint({ config: '/etc/pgbouncer/pgbouncer.ini', watch: PGBOUNCER_RELOADED_FILES, pollSeconds: RELOAD_POLL_SECONDS })]);
      const script: string = container.args[0];
      expect(script).toContain(`while sleep ${RELOAD_POLL_SECONDS};`);
      expect(script.match(/kill -HUP/g)).toHaveLength(1);
      expect(script).not.toContain('3600');
      // Every watched file is one a container of this pod mounts.
      const mounts: string[] = deployment.spec.template.spec.containers[0].volumeMounts.map((m: any) => m.mountPath);
      for (const file of PGBOUNCER_RELOADED_FILES) {
        expect(script).toContain(`'${file}'`);
        if (!file.startsWith('/vault/secrets/')) expect(mounts.some((m) => file.startsWith(`${m}/`))).toBe(true);
      }
      // No process namespace shared with the Vault Agent (its token stays out of PgBouncer's reach).
      expect(deployment.spec.template.spec.shareProcessNamespace).toBeUndefined();
    }
    expect(PGBOUNCER_RELOADED_FILES).toEqual(expect.arrayContaining(['/vault/secrets/userlist.txt', '/etc/pgbouncer/tls/tls.crt', '/etc/pgbouncer/tls/tls.key']));
  });

  it('refuses an entrypoint that could never reload, and a service user that is the exporter\'s', () => {
    expect(() => pgbouncerEntrypoint({ config: '/c', watch: ['/f'], pollSeconds: 0 })).toThrow('pollSeconds = 0: must be a whole number of seconds >= 1');
    expect(() => pgbouncerEntrypoint({ config: '/c', watch: [], pollSeconds: 5 })).toThrow('watch: names no file');
    // order-service renamed: its entry keeps its database and credentials.
    const withClash = { ...spec, services: spec.services.map((s) => (s.name === 'order-service' ? { ...s, name: 'pgbouncer-stats' } : s)) } as PlatformSpec;
    expect(() => userlistTemplate(withClash)).toThrow('services: a service\'s database user is "pgbouncer_stats", the PgBouncer exporter\'s login');
  });

  it('has one pool entry per service database', () => {
    expect(pgbouncerDatabases(spec, 'w.example')).toBe([
      'auth = host=w.example port=5432 dbname=auth', 'orders = host=w.example port=5432 dbname=orders',
      'payments = host=w.example port=5432 dbname=payments', 'users = host=w.example port=5432 dbname=users', '',
    ].join('\n'));
  });

  it('admits only services with a database and reaches only PostgreSQL and Vault', () => {
    const ingress = findObject(objects, 'NetworkPolicy', 'pgbouncer-ingress').spec.ingress[0];
    expect(ingress.from.map((p: any) => p.namespaceSelector.matchLabels['kubernetes.io/metadata.name']))
      .toEqual(['auth-service', 'order-service', 'payment-service', 'user-service']);
    const egress = findObject(objects, 'NetworkPolicy', 'pgbouncer-egress').spec.egress;
    const zones = zoneSubnetCidrs(spec, spec.environments[envName]);
    expect(egress[0]).toEqual({ to: zones.restricted.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: 'TCP', port: spec.dataTier.postgres.port }] });
    expect(egress[1].ports).toEqual([{ protocol: 'TCP', port: spec.vault.apiPort }]);
  });
});
