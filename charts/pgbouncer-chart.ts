import { Chart } from 'cdk8s';
import type { ChartProps } from 'cdk8s';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s';
import type { Construct } from 'constructs';
import { durationSeconds } from '../lib/spec';
import type { EnvironmentSpec, PlatformSpec } from '../lib/spec';
import { Certificate, CertificateSpecPrivateKeyAlgorithm, CertificateSpecPrivateKeyRotationPolicy, CertificateSpecUsages } from './imports/cert-manager.io';
import { pgbouncerNetworkPolicies } from './lib/network-policies';
import {
  containerSecurityContext, disruptionBudget, podSecurityContext, resources, tmpMount, tmpVolume, topologySpread,
  vaultAgentAnnotations, vaultTokenVolume,
} from './lib/pod';
import {
  PGBOUNCER_DATABASES_CONFIGMAP, PGBOUNCER_NAMESPACE, PGBOUNCER_READER, PGBOUNCER_WRITER, SERVICES_ISSUER,
  tlsSecretName, vaultAddress, VAULT_SECRETS_MOUNT,
} from './lib/topology';
import { goDuration } from './service-chart';

export interface PgBouncerChartProps extends ChartProps {
  readonly spec: PlatformSpec;
  readonly environment: EnvironmentSpec;
}

/** PgBouncer's own login for auth_query, and the exporter's stats login (loopback only). */
export const PGBOUNCER_AUTH_USER = 'pgbouncer';
export const PGBOUNCER_STATS_USER = 'pgbouncer_stats';
/** Label shared by both pools' pods (NetworkPolicy, PodDisruptionBudget per pool by name). */
const POOLER_LABEL = { 'app.kubernetes.io/component': 'connection-pooler' };

/**
 * The connection pooler of the spec ("PgBouncer with max 1000 connections", DESIGN.md §5): a
 * writer pool (RDS primary) and a reader pool (the read replicas), each a Deployment of
 * `workloads.pgbouncer.replicas`, transaction pooling, TLS from clients (cert-manager) and to
 * RDS (verify-full), credentials from Vault, with the Prometheus exporter as a sidecar.
 */
export class PgBouncerChart extends Chart {
  constructor(scope: Construct, id: string, props: PgBouncerChartProps) {
    super(scope, id, {
      ...props,
      namespace: PGBOUNCER_NAMESPACE,
      labels: { 'app.kubernetes.io/part-of': props.spec.project, 'platform/environment': props.environment.name, 'platform/zone': 'private' },
    });
    const { spec } = props;

    new k8s.KubeServiceAccount(this, 'service-account', { metadata: { name: PGBOUNCER_WRITER }, automountServiceAccountToken: false });
    new k8s.KubeConfigMap(this, 'config', {
      metadata: { name: 'pgbouncer-config' },
      data: { 'pgbouncer.ini': pgbouncerIni(spec), 'pg_hba.conf': pgHba() },
    });
    new Certificate(this, 'certificate', {
      metadata: { name: PGBOUNCER_WRITER },
      spec: {
        secretName: tlsSecretName(PGBOUNCER_WRITER),
        commonName: PGBOUNCER_WRITER,
        // Both pools' names: clients verify-full against the host they dial (services/README.md).
        dnsNames: [PGBOUNCER_WRITER, PGBOUNCER_READER].flatMap((pool) => [pool, `${pool}.${PGBOUNCER_NAMESPACE}.svc`, `${pool}.${PGBOUNCER_NAMESPACE}.svc.cluster.local`]),
        usages: [CertificateSpecUsages.SERVER_AUTH, CertificateSpecUsages.DIGITAL_SIGNATURE],
        duration: goDuration(spec.workloads.certificates.duration),
        renewBefore: goDuration(spec.workloads.certificates.renewBefore),
        privateKey: { algorithm: CertificateSpecPrivateKeyAlgorithm.ECDSA, size: 256, rotationPolicy: CertificateSpecPrivateKeyRotationPolicy.ALWAYS },
        issuerRef: { name: SERVICES_ISSUER, kind: 'ClusterIssuer', group: 'cert-manager.io' },
      },
    });

    for (const pool of [PGBOUNCER_WRITER, PGBOUNCER_READER]) this.pool(props, pool);
    pgbouncerNetworkPolicies(this, spec, props.environment, POOLER_LABEL);
  }

  private pool(props: PgBouncerChartProps, name: string) {
    const { spec } = props;
    const cfg = spec.workloads.pgbouncer;
    const port = spec.dataTier.pgbouncer.port;
    const selector = { 'app.kubernetes.io/name': name };
    const probe = (periodSeconds: number): k8s.Probe => ({ tcpSocket: { port: k8s.IntOrString.fromString('postgres') }, periodSeconds, failureThreshold: 3, timeoutSeconds: 2 });
    new k8s.KubeDeployment(this, `${name}-deployment`, {
      metadata: {
        name,
        labels: selector,
        // PgBouncer has no health endpoint: both probes can only check that the port accepts.
        annotations: {
          'kube-score/ignore': 'pod-probes-identical',
          // Digests are pinned in lib/spec (workloads.pgbouncer.image accepts @sha256:) once read
          // from the registry; until then the exact release tag is the pin.
          'checkov.io/skip1': 'CKV_K8S_43=Third-party images pinned to an exact release tag in lib/spec; a digest is appended there when verified.',
        },
      },
      spec: {
        replicas: cfg.replicas,
        revisionHistoryLimit: 5,
        selector: { matchLabels: selector },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(0), maxSurge: k8s.IntOrString.fromNumber(1) } },
        template: {
          metadata: {
            labels: { ...selector, ...POOLER_LABEL },
            annotations: {
              'prometheus.io/scrape': 'true',
              'prometheus.io/port': String(cfg.exporterPort),
              'prometheus.io/path': '/metrics',
              ...vaultAgentAnnotations({
                role: PGBOUNCER_WRITER,
                vaultAddress: vaultAddress(spec),
                secrets: [
                  {
                    // auth_file: PgBouncer's own login (auth_query looks every other user up in PostgreSQL).
                    file: 'userlist.txt',
                    path: `database/static-creds/${PGBOUNCER_AUTH_USER}`,
                    template: `{{- with secret "database/static-creds/${PGBOUNCER_AUTH_USER}" -}}"${PGBOUNCER_AUTH_USER}" "{{ .Data.password }}"{{- end }}\n"${PGBOUNCER_STATS_USER}" ""\n`,
                  },
                  {
                    // The RDS CA bundle of the region (public; Vault keeps it so the image need not).
                    file: 'rds-ca.pem',
                    path: 'kv/data/platform/rds-ca',
                    template: '{{- with secret "kv/data/platform/rds-ca" -}}{{ .Data.data.bundle }}{{- end -}}',
                  },
                ],
              }),
            },
          },
          spec: {
            serviceAccountName: PGBOUNCER_WRITER,
            automountServiceAccountToken: false,
            securityContext: podSecurityContext,
            terminationGracePeriodSeconds: spec.workloads.terminationGracePeriodSeconds,
            topologySpreadConstraints: topologySpread(selector),
            containers: [
              {
                name: 'pgbouncer',
                image: cfg.image,
                imagePullPolicy: 'Always',
                // PgBouncer re-reads its TLS files only on reload: SIGHUP hourly picks up
                // cert-manager's renewals; SIGTERM becomes SIGINT, PgBouncer's drain-then-exit.
                command: ['/bin/sh', '-c'],
                args: [
                  'pgbouncer /etc/pgbouncer/pgbouncer.ini & pid=$!; '
                  + 'trap \'kill -INT $pid\' TERM; '
                  + '( while sleep 3600; do kill -HUP $pid; done ) & '
                  + 'wait $pid; wait $pid',
                ],
                ports: [{ name: 'postgres', containerPort: port, protocol: 'TCP' }],
                resources: resources(cfg.resources),
                securityContext: containerSecurityContext,
                startupProbe: { ...probe(2), failureThreshold: 30 },
                livenessProbe: probe(10),
                readinessProbe: probe(5),
                volumeMounts: [
                  { name: 'config', mountPath: '/etc/pgbouncer/pgbouncer.ini', subPath: 'pgbouncer.ini', readOnly: true },
                  { name: 'config', mountPath: '/etc/pgbouncer/pg_hba.conf', subPath: 'pg_hba.conf', readOnly: true },
                  { name: 'databases', mountPath: '/etc/pgbouncer/databases', readOnly: true },
                  { name: 'tls', mountPath: '/etc/pgbouncer/tls', readOnly: true },
                  tmpMount,
                ],
              },
              {
                name: 'exporter',
                image: cfg.exporterImage,
                imagePullPolicy: 'Always',
                args: [
                  // Loopback stats login, trusted by pg_hba.conf for 127.0.0.1 only.
                  `--pgBouncer.connectionString=postgres://${PGBOUNCER_STATS_USER}@127.0.0.1:${port}/pgbouncer?sslmode=require`,
                  `--web.listen-address=:${cfg.exporterPort}`,
                ],
                ports: [{ name: 'metrics', containerPort: cfg.exporterPort, protocol: 'TCP' }],
                resources: resources(cfg.exporterResources),
                securityContext: containerSecurityContext,
                livenessProbe: { httpGet: { path: '/metrics', port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 30, timeoutSeconds: 5 },
                readinessProbe: { httpGet: { path: '/metrics', port: k8s.IntOrString.fromString('metrics') }, periodSeconds: 15, timeoutSeconds: 5 },
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: 'pgbouncer-config' } },
              // The pool's [databases] section: RDS endpoints known at deploy time (bindings chart).
              { name: 'databases', configMap: { name: PGBOUNCER_DATABASES_CONFIGMAP, items: [{ key: `${name}.ini`, path: 'databases.ini' }] } },
              { name: 'tls', secret: { secretName: tlsSecretName(PGBOUNCER_WRITER), defaultMode: 0o440 } },
              vaultTokenVolume(durationSeconds(spec.vault.kubernetesTokenTtl)),
              tmpVolume,
            ],
          },
        },
      },
    });
    new k8s.KubeService(this, `${name}-service`, {
      metadata: { name, labels: selector },
      spec: {
        type: 'ClusterIP',
        selector,
        ports: [{ name: 'postgres', port, targetPort: k8s.IntOrString.fromString('postgres'), protocol: 'TCP' }],
      },
    });
    disruptionBudget(this, `${name}-disruption-budget`, PGBOUNCER_NAMESPACE, name, selector);
  }
}

/** `[databases]` of one pool: each service database on the given hosts (bindings chart renders it). */
export function pgbouncerDatabases(spec: PlatformSpec, hosts: string): string {
  const lines = Object.values(spec.workloads.databaseNames).sort()
    .map((db) => `${db} = host=${hosts} port=${spec.dataTier.postgres.port} dbname=${db}`);
  return `${lines.join('\n')}\n`;
}

function pgbouncerIni(spec: PlatformSpec): string {
  const cfg = spec.workloads.pgbouncer;
  const settings: Array<[string, string | number]> = [
    ['listen_addr', '0.0.0.0'],
    ['listen_port', spec.dataTier.pgbouncer.port],
    ['unix_socket_dir', ''],
    ['pidfile', ''],
    ['logfile', ''],
    ['auth_type', 'hba'],
    ['auth_hba_file', '/etc/pgbouncer/pg_hba.conf'],
    ['auth_file', `${VAULT_SECRETS_MOUNT}/userlist.txt`],
    ['auth_user', PGBOUNCER_AUTH_USER],
    // Every service user is looked up in PostgreSQL (Vault rotates their passwords there).
    ['auth_query', 'SELECT usename, passwd FROM pgbouncer.get_auth($1)'],
    ['stats_users', PGBOUNCER_STATS_USER],
    ['pool_mode', 'transaction'],
    ['max_client_conn', spec.dataTier.pgbouncer.maxClientConnections],
    ['default_pool_size', cfg.defaultPoolSize],
    ['max_db_connections', cfg.maxDbConnections],
    ['server_round_robin', 1],
    // Transaction pooling: session state does not survive; clients set no startup options.
    ['ignore_startup_parameters', 'extra_float_digits,options'],
    ['client_tls_sslmode', 'require'],
    ['client_tls_cert_file', '/etc/pgbouncer/tls/tls.crt'],
    ['client_tls_key_file', '/etc/pgbouncer/tls/tls.key'],
    ['client_tls_ca_file', '/etc/pgbouncer/tls/ca.crt'],
    ['server_tls_sslmode', 'verify-full'],
    ['server_tls_ca_file', `${VAULT_SECRETS_MOUNT}/rds-ca.pem`],
  ];
  return [
    '[databases]',
    // The pool's database entries (writer: RDS primary; reader: the replicas, round robin).
    '%include /etc/pgbouncer/databases/databases.ini',
    '',
    '[pgbouncer]',
    ...settings.map(([key, value]) => `${key} = ${value}`),
    '',
  ].join('\n');
}

function pgHba(): string {
  return [
    // The exporter, in the same pod, for SHOW STATS only (stats_users).
    `hostssl pgbouncer ${PGBOUNCER_STATS_USER} 127.0.0.1/32 trust`,
    `host all ${PGBOUNCER_STATS_USER} 0.0.0.0/0 reject`,
    // Everyone else over TLS with SCRAM.
    'hostssl all all 0.0.0.0/0 scram-sha-256',
    '',
  ].join('\n');
}
