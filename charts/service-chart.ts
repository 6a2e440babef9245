import * as k8s from 'cdk8s-plus-28/lib/imports/k8s';
import type { Construct } from 'constructs';
import { durationSeconds, serviceShutdownGraceMs, serviceSizing } from '../lib/spec';
import type { ChartEnvironment, PlatformSpec, ServiceSizing, ServiceSpec, VaultSecretKind } from '../lib/spec';
import { Certificate, CertificateSpecPrivateKeyAlgorithm, CertificateSpecPrivateKeyRotationPolicy, CertificateSpecUsages } from './imports/cert-manager.io';
import { ScaledObject } from './imports/keda.sh';
import {
  containerSecurityContext, disruptionBudget, podSecurityContext, resources, tmpMount, tmpVolume, topologySpread,
  vaultAgentAnnotations, vaultTokenVolume,
} from './lib/pod';
import {
  addrEnvName, CACHE_AUTH_USER, callersOf, DATA_ENDPOINTS_CONFIGMAP, databaseUser, generatedKeyPath, PAYMENT_PROVIDER_SECRET, PGBOUNCER_NAMESPACE, PGBOUNCER_READER, PGBOUNCER_WRITER,
  serviceByName, serviceDnsName, serviceDnsSans, serviceImage, SERVICES_ISSUER, TLS_MOUNT, tlsSecretName, vaultAddress,
  VAULT_SECRETS_MOUNT, zoneSubnetCidrs,
} from '../lib/spec/topology';
import { serviceNetworkPolicies } from './lib/network-policies';
import { PlatformChart } from './lib/platform-chart';
import type { PlatformChartProps } from './lib/platform-chart';

export interface ServiceChartProps extends PlatformChartProps {
  /** The service of spec.services this chart deploys. */
  readonly service: string;
  /** Tag of the service's image in its ECR repository (`-c services:imageTag=<tag>`). */
  readonly imageTag: string;
}

/** Prometheus server of the cluster (Helm release `prometheus` in its namespace); KEDA queries it. */
export const prometheusAddress = (spec: PlatformSpec) =>
  `http://prometheus-server.${spec.clusterAddons.prometheus.namespace}.svc.cluster.local`;

/**
 * One of the spec's services (DESIGN.md §4, services/README.md): ServiceAccount, Deployment
 * with the health/gRPC ports and probes, Service, mTLS Certificate, autoscaler from the spec's
 * table, PodDisruptionBudget and the NetworkPolicies of its zone. Namespace = service name.
 */
export class ServiceChart extends PlatformChart {
  readonly service: ServiceSpec;

  constructor(scope: Construct, id: string, props: ServiceChartProps) {
    // Chart props only: which service and its image tag are ours to use, not Chart's.
    const { service: serviceName, imageTag, ...chartProps } = props;
    const service = serviceByName(props.spec, serviceName);
    super(scope, id, { ...chartProps, namespace: service.name, labels: { 'platform/zone': service.zone } });
    this.service = service;
    const { spec, environment } = props;
    const name = service.name;
    const sizing = serviceSizing(spec, environment, name);
    const selector = { 'app.kubernetes.io/name': name };
    const secrets = service.secrets;
    // The edge serves HTTPS to the load balancer, the others gRPC (services[].exposes).
    const isEdge = service.exposes === 'edge';

    new k8s.KubeServiceAccount(this, 'service-account', {
      metadata: { name },
      // Only the projected `vault`-audience token is mounted; the API token is not needed.
      automountServiceAccountToken: false,
    });

    new Certificate(this, 'certificate', {
      metadata: { name },
      spec: {
        secretName: tlsSecretName(name),
        commonName: name,
        dnsNames: serviceDnsSans(name),
        // Server for its callers and client for its callees: one identity, CN = service name.
        usages: [CertificateSpecUsages.SERVER_AUTH, CertificateSpecUsages.CLIENT_AUTH, CertificateSpecUsages.DIGITAL_SIGNATURE],
        duration: goDuration(spec.workloads.certificates.duration),
        renewBefore: goDuration(spec.workloads.certificates.renewBefore),
        privateKey: {
          algorithm: CertificateSpecPrivateKeyAlgorithm.ECDSA,
          size: 256,
          rotationPolicy: CertificateSpecPrivateKeyRotationPolicy.ALWAYS,
        },
        issuerRef: { name: SERVICES_ISSUER, kind: 'ClusterIssuer', group: 'cert-manager.io' },
      },
    });

    const ports: k8s.ContainerPort[] = [
      { name: isEdge ? 'https' : 'grpc', containerPort: service.port, protocol: 'TCP' },
      { name: 'health', containerPort: service.healthPort, protocol: 'TCP' },
    ];
    const probe = (path: string, periodSeconds: number, failureThreshold: number): k8s.Probe => ({
      httpGet: { path, port: k8s.IntOrString.fromString('health') },
      periodSeconds, failureThreshold, timeoutSeconds: 2,
    });

    new k8s.KubeDeployment(this, 'deployment', {
      metadata: {
        name,
        labels: selector,
        annotations: {
          'checkov.io/skip1': 'CKV_K8S_43=The tag is the commit in an ECR repository with immutable tags: it names one digest for good.',
          // kube-score knows HPAs, not KEDA: the ScaledObject owns the count (at least minReplicas).
          ...(service.autoscaling.trigger.type === 'latency' ? { 'kube-score/ignore': 'deployment-replicas' } : {}),
        },
      },
      spec: {
        // No replicas: the autoscaler owns the count (DESIGN.md §8).
        revisionHistoryLimit: 5,
        selector: { matchLabels: selector },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(0), maxSurge: k8s.IntOrString.fromString('25%') } },
        template: {
          metadata: {
            labels: { ...selector, 'platform/zone': service.zone },
            annotations: {
              'prometheus.io/scrape': 'true',
              'prometheus.io/port': String(service.healthPort),
              'prometheus.io/path': '/metrics',
              ...vaultAgentAnnotations({ role: name, vaultAddress: vaultAddress(spec), secrets: vaultSecrets(service, secrets) }),
            },
          },
          spec: {
            serviceAccountName: name,
            automountServiceAccountToken: false,
            securityContext: podSecurityContext,
            terminationGracePeriodSeconds: spec.workloads.terminationGracePeriodSeconds,
            topologySpreadConstraints: topologySpread(selector),
            containers: [{
              name,
              image: serviceImage(spec, environment, name, imageTag),
              imagePullPolicy: 'Always',
              ports,
              env: serviceEnv(spec, environment, service, secrets),
              resources: resources(sizing.resources),
              securityContext: containerSecurityContext,
              // Plaintext health port: the kubelet cannot present a client certificate (DESIGN.md §5).
              startupProbe: probe('/livez', 2, 30),
              livenessProbe: probe('/livez', 10, 3),
              readinessProbe: probe(service.readinessPath, 5, 2),
              volumeMounts: [{ name: 'tls', mountPath: TLS_MOUNT, readOnly: true }, tmpMount],
            }],
            volumes: [
              // cert-manager's Secret: tls.crt, tls.key, ca.crt; the kubelet refreshes the files on
              // renewal and the gRPC file watcher reloads them (services/README.md).
              { name: 'tls', secret: { secretName: tlsSecretName(name), defaultMode: 0o440 } },
              vaultTokenVolume(durationSeconds(spec.vault.kubernetesTokenTtl)),
              tmpVolume,
            ],
          },
        },
      },
    });

    // gRPC keeps long-lived HTTP/2 connections: a headless Service so clients resolve every pod
    // and balance round_robin (DESIGN.md §5). The edge's Service is the TargetGroupBinding's.
    new k8s.KubeService(this, 'service', {
      metadata: { name, labels: selector },
      spec: {
        ...(isEdge ? { type: 'ClusterIP' } : { clusterIp: 'None' }),
        selector,
        ports: [
          { name: ports[0]!.name, port: service.port, targetPort: k8s.IntOrString.fromString(ports[0]!.name!), protocol: 'TCP' },
          { name: 'health', port: service.healthPort, targetPort: k8s.IntOrString.fromString('health'), protocol: 'TCP' },
        ],
      },
    });

    disruptionBudget(this, 'disruption-budget', name, name, selector);
    addAutoscaler(this, spec, service, sizing);
    serviceNetworkPolicies(this, { spec, environment, service, selector });
  }
}

/**
 * The spec's autoscaling row: a CPU HPA, or a KEDA ScaledObject for the latency trigger
 * (DESIGN.md §7), between the environment's bounds.
 */
function addAutoscaler(scope: Construct, spec: PlatformSpec, service: ServiceSpec, { minReplicas, maxReplicas }: ServiceSizing) {
  const trigger = service.autoscaling.trigger;
  const target = { apiVersion: 'apps/v1', kind: 'Deployment', name: service.name };
  if (trigger.type === 'cpu') {
    new k8s.KubeHorizontalPodAutoscalerV2(scope, 'autoscaler', {
      metadata: { name: service.name },
      spec: {
        scaleTargetRef: target,
        minReplicas,
        maxReplicas,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: trigger.targetUtilizationPercent } } }],
      },
    });
    return;
  }
  const quantile = trigger.percentile / 100;
  new ScaledObject(scope, 'autoscaler', {
    metadata: { name: service.name },
    spec: {
      scaleTargetRef: target,
      minReplicaCount: minReplicas,
      maxReplicaCount: maxReplicas,
      advanced: {
        horizontalPodAutoscalerConfig: {
          name: service.name,
          // Latency spikes are short: scale in slowly so a burst does not flap the replicas.
          behavior: { scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Max' } },
        },
      },
      triggers: [
        {
          type: 'prometheus',
          name: 'latency',
          metricType: 'Value',
          metadata: {
            serverAddress: prometheusAddress(spec),
            // p95 of the service's own gRPC handling time (services/README.md), health checks excluded.
            query: `histogram_quantile(${quantile}, sum by (le) (rate(grpc_server_handling_seconds_bucket{namespace="${service.name}",grpc_service!="grpc.health.v1.Health"}[2m])))`,
            threshold: String(trigger.thresholdMs / 1000),
          },
        },
        { type: 'cpu', name: 'cpu', metricType: 'Utilization', metadata: { value: String(trigger.cpuTargetUtilizationPercent) } },
      ],
    },
  });
}

/**
 * Secrets the Vault Agent renders for a service, from its secret kinds (services[].secrets) and its
 * generated keys (docs/vault.md paths).
 */
function vaultSecrets(service: ServiceSpec, kinds: readonly VaultSecretKind[]) {
  const name = service.name;
  const files: Array<{ file: string; path: string; template: string }> = [];
  if (kinds.includes('database')) {
    // Static role: a fixed user (DATABASE_USER) whose password Vault rotates (docs/workloads.md).
    const path = `database/static-creds/${name}`;
    files.push({ file: 'database-password', path, template: `{{- with secret "${path}" -}}{{ .Data.password }}{{- end -}}` });
  }
  if (kinds.includes('cache')) {
    const path = `kv/data/services/${name}/redis`;
    files.push({ file: 'redis-password', path, template: `{{- with secret "${path}" -}}{{ .Data.data.password }}{{- end -}}` });
  }
  if (kinds.includes('broker')) {
    const path = `kv/data/services/${name}/kafka`;
    files.push({ file: 'kafka-password', path, template: `{{- with secret "${path}" -}}{{ .Data.data.password }}{{- end -}}` });
  }
  if (kinds.includes('payment-provider')) {
    // Put there by an operator, never generated (docs/vault.md "Payment provider key").
    const path = `kv/data/services/${name}/${PAYMENT_PROVIDER_SECRET.name}`;
    files.push({
      file: PAYMENT_PROVIDER_SECRET.file, path,
      template: `{{- with secret "${path}" -}}{{ .Data.data.${PAYMENT_PROVIDER_SECRET.field} }}{{- end -}}`,
    });
  }
  for (const key of service.generatedKeys) {
    const path = `kv/data/${generatedKeyPath(name, key)}`;
    files.push({ file: key.file, path, template: `{{- with secret "${path}" -}}{{ .Data.data.${key.field} }}{{- end -}}` });
  }
  return files;
}

/** The environment contract of services/README.md, wired from the spec, Vault and cert-manager. */
function serviceEnv(spec: PlatformSpec, environment: ChartEnvironment, service: ServiceSpec, kinds: readonly VaultSecretKind[]): k8s.EnvVar[] {
  const name = service.name;
  const env: k8s.EnvVar[] = [
    { name: 'LOG_LEVEL', value: 'info' },
    service.exposes === 'edge' ? { name: 'HTTP_PORT', value: String(service.port) } : { name: 'GRPC_PORT', value: String(service.port) },
    { name: 'HEALTH_PORT', value: String(service.healthPort) },
    // Keep serving while the endpoint's removal reaches every kube-proxy, then drain within what
    // is left of the pod's grace period, with time to spare for the exit.
    { name: 'ENDPOINT_DRAIN_MS', value: String(spec.workloads.endpointDrainSeconds * 1000) },
    { name: 'SHUTDOWN_GRACE_MS', value: String(serviceShutdownGraceMs(spec)) },
    { name: 'TLS_CERT_FILE', value: `${TLS_MOUNT}/tls.crt` },
    { name: 'TLS_KEY_FILE', value: `${TLS_MOUNT}/tls.key` },
    { name: 'TLS_CA_FILE', value: `${TLS_MOUNT}/ca.crt` },
  ];
  if (service.exposes === 'edge') {
    // The ALB's target group speaks HTTPS to the pods (lib/constructs/edge/api-load-balancer.ts), and
    // X-Forwarded-For is believed only from the ALB's (public) subnets, for per-client limits.
    env.push({ name: 'HTTP_TLS', value: 'true' });
    env.push({ name: 'TRUSTED_PROXY_CIDRS', value: zoneSubnetCidrs(spec, environment).public.join(',') });
  }
  const callers = callersOf(spec, name);
  if (service.exposes === 'grpc') env.push({ name: 'GRPC_ALLOWED_PEERS', value: callers.join(',') });
  for (const callee of service.calls) {
    const port = serviceByName(spec, callee).port;
    env.push({ name: addrEnvName(callee), value: `dns:///${serviceDnsName(callee)}:${port}` });
  }
  if (service.tokens) {
    // Tokens are issued for, and by, the environment's public name (docs/edge.md).
    env.push({ name: 'JWT_ISSUER', value: `https://${environment.edge.domainName}` });
    env.push({ name: 'JWT_AUDIENCE', value: environment.edge.domainName });
  }
  for (const key of service.generatedKeys) env.push({ name: key.env, value: `${VAULT_SECRETS_MOUNT}/${key.file}` });
  const pgbouncerPort = String(spec.dataTier.pgbouncer.port);
  if (kinds.includes('database') && service.database) {
    env.push(
      { name: 'DATABASE_HOST', value: `${PGBOUNCER_WRITER}.${PGBOUNCER_NAMESPACE}.svc.cluster.local` },
      { name: 'DATABASE_PORT', value: pgbouncerPort },
      { name: 'DATABASE_NAME', value: service.database.name },
      { name: 'DATABASE_USER', value: databaseUser(name) },
      { name: 'DATABASE_PASSWORD_FILE', value: `${VAULT_SECRETS_MOUNT}/database-password` },
      // PgBouncer's certificate comes from the same issuer as ours.
      { name: 'DATABASE_CA_FILE', value: `${TLS_MOUNT}/ca.crt` },
    );
    if (service.database.replicaReads) {
      env.push(
        { name: 'DATABASE_READ_HOST', value: `${PGBOUNCER_READER}.${PGBOUNCER_NAMESPACE}.svc.cluster.local` },
        { name: 'DATABASE_READ_PORT', value: pgbouncerPort },
      );
    }
  }
  const fromEndpoints = (key: string): k8s.EnvVar => ({ name: key, valueFrom: { configMapKeyRef: { name: DATA_ENDPOINTS_CONFIGMAP, key } } });
  if (kinds.includes('cache')) {
    env.push(
      fromEndpoints('REDIS_HOST'),
      { name: 'REDIS_PORT', value: String(spec.dataTier.redis.port) },
      { name: 'REDIS_TLS', value: 'true' },
      { name: 'REDIS_USERNAME', value: CACHE_AUTH_USER },
      { name: 'REDIS_PASSWORD_FILE', value: `${VAULT_SECRETS_MOUNT}/redis-password` },
    );
  }
  if (kinds.includes('broker')) {
    env.push(
      fromEndpoints('KAFKA_BROKERS'),
      { name: 'KAFKA_SASL_USERNAME', value: spec.dataTier.kafka.scramUsername },
      { name: 'KAFKA_SASL_PASSWORD_FILE', value: `${VAULT_SECRETS_MOUNT}/kafka-password` },
    );
  }
  if (kinds.includes('payment-provider')) {
    env.push(
      { name: 'STRIPE_API_BASE', value: spec.workloads.paymentProvider.apiBase },
      { name: 'STRIPE_SECRET_KEY_FILE', value: `${VAULT_SECRETS_MOUNT}/${PAYMENT_PROVIDER_SECRET.file}` },
    );
  }
  return env;
}

/** cert-manager durations are Go durations: PT720H -> 720h. */
export function goDuration(iso: string): string {
  const seconds = durationSeconds(iso);
  return seconds % 3600 === 0 ? `${seconds / 3600}h` : seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;
}

