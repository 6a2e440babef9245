import { PlatformChart } from './lib/platform-chart';
import type { PlatformChartProps } from './lib/platform-chart';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s';
import type { Construct } from 'constructs';
import { durationSeconds, pgbouncerClientConnectionsPerPod, pgbouncerSizing } from '../lib/spec';
import type { ChartEnvironment, PlatformSpec } from '../lib/spec';
import { pgbouncerUserPaths, staticCredsPath, staticRoles } from '../lib/vault/database';
import { Certificate, CertificateSpecPrivateKeyAlgorithm, CertificateSpecPrivateKeyRotationPolicy, CertificateSpecUsages } from './imports/cert-manager.io';
import { pgbouncerNetworkPolicies } from './lib/network-policies';
import {
  containerSecurityContext, disruptionBudget, podSecurityContext, resources, tmpMount, tmpVolume, topologySpread,
  vaultAgentAnnotations, vaultTokenVolume,
} from './lib/pod';
import {
  PGBOUNCER_DATABASES_CONFIGMAP, PGBOUNCER_NAMESPACE, PGBOUNCER_READER, PGBOUNCER_WRITER, SERVICES_ISSUER,
  tlsSecretName, vaultAddress, VAULT_SECRETS_MOUNT,
} from '../lib/spec/topology';
import { goDuration } from './service-chart';


/** The exporter's login: a PgBouncer-only user (SHOW commands, stats_users), trusted on loopback only. */
export const PGBOUNCER_STATS_USER = 'pgbouncer_stats';
/**
 * How often the entrypoint looks for changed files PgBouncer reads on reload (our choice: far
 * below the daily password rotation, and a few `cat | cksum` of small files cost nothing).
 */
export const RELOAD_POLL_SECONDS = 10;

const CONFIG_DIR = '/etc/pgbouncer';
const TLS_DIR = `${CONFIG_DIR}/tls`;
const DATABASES_FILE = `${CONFIG_DIR}/databases/databases.ini`;
const USERLIST_FILE = 'userlist.txt';
const RDS_CA_FILE = 'rds-ca.pem';
/** Every file PgBouncer re-reads on SIGHUP that can change under a running pod (pgbouncer.ini is a subPath mount, which never changes). */
export const PGBOUNCER_RELOADED_FILES: readonly string[] = [
  `${VAULT_SECRETS_MOUNT}/${USERLIST_FILE}`, `${VAULT_SECRETS_MOUNT}/${RDS_CA_FILE}`,
  `${TLS_DIR}/tls.crt`, `${TLS_DIR}/tls.key`, `${TLS_DIR}/ca.crt`, DATABASES_FILE,
];
/** Label shared by both pools' pods (NetworkPolicy, PodDisruptionBudget per pool by name). */
const POOLER_LABEL = { 'app.kubernetes.io/component': 'connection-pooler' };

/**
 * The connection pooler of the spec ("PgBouncer with max 1000 connections", DESIGN.md §5): a
 * writer pool (RDS primary) and a reader pool (the read replicas), each a Deployment of the
 * environment's pooler count (pgbouncerSizing), transaction pooling, TLS from clients
 * (cert-manager) and to RDS (verify-full), credentials from Vault, with the Prometheus exporter
 * as a sidecar.
 */
export class PgBouncerChart extends PlatformChart {
  constructor(scope: Construct, id: string, props: PlatformChartProps) {
    super(scope, id, { ...props, namespace: PGBOUNCER_NAMESPACE, labels: { 'platform/zone': 'private' } });
    const { spec } = props;

    new k8s.KubeServiceAccount(this, 'service-account', { metadata: { name: PGBOUNCER_WRITER }, automountServiceAccountToken: false });
    new k8s.KubeConfigMap(this, 'config', {
      metadata: { name: 'pgbouncer-config' },
      data: { 'pgbouncer.ini': pgbouncerIni(spec, props.environment), 'pg_hba.conf': pgHba() },
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

  private pool(props: PlatformChartProps, name: string) {
    const { spec } = props;
    const cfg = spec.workloads.pgbouncer;
    const sizing = pgbouncerSizing(spec, props.environment);
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
        replicas: sizing.replicas,
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
                    // auth_file: every service's current static credentials (see userlistTemplate).
                    // The annotation names one path; the template reads them all.
                    file: USERLIST_FILE,
                    path: pgbouncerUserPaths(spec)[0]!,
                    template: userlistTemplate(spec),
                  },
                  {
                    // The RDS CA bundle of the region (public; Vault keeps it so the image need not).
                    file: RDS_CA_FILE,
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
                // Reload on change (userlist after a rotation, certificates after a renewal); SIGTERM
                // becomes SIGINT, PgBouncer's drain-then-exit. See pgbouncerEntrypoint.
                command: ['/bin/sh', '-c'],
                args: [pgbouncerEntrypoint({ config: `${CONFIG_DIR}/pgbouncer.ini`, watch: PGBOUNCER_RELOADED_FILES, pollSeconds: RELOAD_POLL_SECONDS })],
                ports: [{ name: 'postgres', containerPort: port, protocol: 'TCP' }],
                resources: resources(sizing.resources),
                securityContext: containerSecurityContext,
                startupProbe: { ...probe(2), failureThreshold: 30 },
                livenessProbe: probe(10),
                readinessProbe: probe(5),
                volumeMounts: [
                  { name: 'config', mountPath: `${CONFIG_DIR}/pgbouncer.ini`, subPath: 'pgbouncer.ini', readOnly: true },
                  { name: 'config', mountPath: `${CONFIG_DIR}/pg_hba.conf`, subPath: 'pg_hba.conf', readOnly: true },
                  { name: 'databases', mountPath: `${CONFIG_DIR}/databases`, readOnly: true },
                  { name: 'tls', mountPath: TLS_DIR, readOnly: true },
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
                resources: resources(sizing.exporterResources),
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
  const lines = spec.services.flatMap((s) => (s.database ? [s.database.name] : [])).sort()
    .map((db) => `${db} = host=${hosts} port=${spec.dataTier.postgres.port} dbname=${db}`);
  return `${lines.join('\n')}\n`;
}

const quoteAuthField = (value: string) => `"${value.replace(/"/g, '""')}"`;

/**
 * The Vault Agent (consul-template) template of PgBouncer's auth_file: one line per service,
 * `"<DATABASE_USER>" "<password>"`, plus the exporter's stats user.
 *
 * Plaintext passwords, not SCRAM verifiers: PgBouncer uses the auth_file twice, to check the
 * client's SCRAM login and to log in to RDS as that user. From a SCRAM secret it can do the
 * second only if the secret is byte-identical to RDS's (same salt and iterations), which Vault's
 * static-creds cannot give (Vault sets the password; PostgreSQL salts it) and pg_shadow, which
 * RDS does not let us read, was the only source of (pgbouncer.org/config.html, "Authentication
 * file format"). So the file holds the passwords, in the agent's in-memory volume only.
 * A `"` would end the field: PgBouncer's format doubles it.
 */
export function userlistTemplate(spec: PlatformSpec): string {
  const roles = staticRoles(spec);
  if (roles.some((role) => role.username === PGBOUNCER_STATS_USER)) {
    throw new Error(`services: a service's database user is "${PGBOUNCER_STATS_USER}", the PgBouncer exporter's login`);
  }
  const lines = roles.map((role) =>
    `{{ with secret "${staticCredsPath(role.name)}" }}${quoteAuthField(role.username)} "{{ .Data.password | replaceAll \`"\` \`""\` }}"{{ end }}`);
  // trust (pg_hba.conf) still needs the user in the auth_file; the empty password is never checked.
  return [...lines, `${quoteAuthField(PGBOUNCER_STATS_USER)} ""`, ''].join('\n');
}

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * The PgBouncer container's entrypoint: PgBouncer in the background, SIGTERM turned into SIGINT
 * (drain, then exit), and a loop that sends SIGHUP when any watched file's content changes.
 *
 * Why a loop in this container: PgBouncer re-reads auth_file and its TLS files on SIGHUP, and
 * only its parent can signal it without sharing the pod's process namespace. The Vault Agent's
 * `agent-inject-command` runs in the agent's container, so it would need
 * shareProcessNamespace, which lets each container read the others' /proc (the agent's Vault
 * token included), and a kill/pkill in the agent image. The loop needs nothing writable
 * (state in a shell variable), so it works under the read-only root filesystem, and it covers
 * both the Vault Agent's re-renders (atomic renames) and the kubelet's Secret/ConfigMap updates.
 */
export function pgbouncerEntrypoint(options: { config: string; watch: readonly string[]; pollSeconds: number }): string {
  if (!Number.isInteger(options.pollSeconds) || options.pollSeconds < 1) {
    throw new Error(`pollSeconds = ${options.pollSeconds}: must be a whole number of seconds >= 1`);
  }
  if (options.watch.length === 0) throw new Error('watch: names no file, so nothing would ever be reloaded');
  const files = options.watch.map(shellQuote).join(' ');
  return [
    // Taken before PgBouncer starts, so a change during its start-up is not missed.
    `state() { cat ${files} 2>/dev/null | cksum; }`,
    'last=$(state)',
    `pgbouncer ${shellQuote(options.config)} & pid=$!`,
    "trap 'kill -INT $pid' TERM",
    `( while sleep ${options.pollSeconds}; do now=$(state); if [ "$now" != "$last" ]; then last=$now; kill -HUP $pid; fi; done ) &`,
    // The first wait returns early when the trap fires; wait again for the drain to finish.
    'wait $pid; code=$?',
    'if kill -0 $pid 2>/dev/null; then wait $pid; code=$?; fi',
    'exit $code',
  ].join('\n');
}

/** pgbouncer.ini of both pools in an environment (the `[databases]` section is the pool's own file, `%include`d). */
export function pgbouncerIni(spec: PlatformSpec, environment: ChartEnvironment): string {
  const cfg = spec.workloads.pgbouncer;
  const settings: Array<[string, string | number]> = [
    ['listen_addr', '0.0.0.0'],
    ['listen_port', spec.dataTier.pgbouncer.port],
    ['unix_socket_dir', ''],
    ['pidfile', ''],
    ['logfile', ''],
    // hba: SCRAM for every client over the network (pg_hba.conf), and the loopback-only trust
    // of the exporter's stats login, which auth_type = scram-sha-256 could not express.
    ['auth_type', 'hba'],
    ['auth_hba_file', `${CONFIG_DIR}/pg_hba.conf`],
    // The services' logins (userlistTemplate): no auth_query, RDS's master cannot read pg_shadow.
    ['auth_file', `${VAULT_SECRETS_MOUNT}/${USERLIST_FILE}`],
    ['stats_users', PGBOUNCER_STATS_USER],
    ['pool_mode', 'transaction'],
    // The spec's limit is PgBouncer's as a whole: every pod of both pools takes its share.
    ['max_client_conn', pgbouncerClientConnectionsPerPod(spec, environment)],
    ['default_pool_size', cfg.defaultPoolSize],
    ['max_db_connections', cfg.maxDbConnections],
    ['server_round_robin', 1],
    // Transaction pooling: session state does not survive; clients set no startup options.
    ['ignore_startup_parameters', 'extra_float_digits,options'],
    ['client_tls_sslmode', 'require'],
    ['client_tls_cert_file', `${TLS_DIR}/tls.crt`],
    ['client_tls_key_file', `${TLS_DIR}/tls.key`],
    ['client_tls_ca_file', `${TLS_DIR}/ca.crt`],
    ['server_tls_sslmode', 'verify-full'],
    ['server_tls_ca_file', `${VAULT_SECRETS_MOUNT}/${RDS_CA_FILE}`],
  ];
  return [
    '[databases]',
    // The pool's database entries (writer: RDS primary; reader: the replicas, round robin).
    `%include ${DATABASES_FILE}`,
    '',
    '[pgbouncer]',
    ...settings.map(([key, value]) => `${key} = ${value}`),
    '',
  ].join('\n');
}

export function pgHba(): string {
  return [
    // The exporter, in the same pod, for SHOW STATS only (stats_users).
    `hostssl pgbouncer ${PGBOUNCER_STATS_USER} 127.0.0.1/32 trust`,
    `host all ${PGBOUNCER_STATS_USER} 0.0.0.0/0 reject`,
    // Everyone else over TLS with SCRAM.
    'hostssl all all 0.0.0.0/0 scram-sha-256',
    '',
  ].join('\n');
}
