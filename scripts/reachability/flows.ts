/**
 * What must be open and what must stay closed, derived from lib/spec, never listed by hand:
 * every edge of the architecture (edge, calls, stores, Vault, analytics, operator access, the
 * payment provider) is a required flow; the zone table is a set of forbidden-flow rules.
 * The mapping from the spec's names to synthesized endpoints (which construct is the ALB, which
 * pods are a service's) lives here, in `Locator`.
 */
import { MONITORING, PGBOUNCER_NAMESPACE, PGBOUNCER_READER, PGBOUNCER_WRITER, paymentProviderPort, servicesWithSecret } from '../../lib/spec/topology';
import type { EnvironmentSpec, PlatformSpec, VaultSecretKind } from '../../lib/spec';
import type { AddOnPod, Model } from './model';
import type { Endpoint, PortSpec } from './types';
import { tcp, udp } from './types';

export interface RequiredFlow {
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly port: PortSpec;
  /** The spec's reason, e.g. `services[].calls: api-gateway -> auth-service`. */
  readonly why: string;
}

/** A part of the architecture the spec names but the synthesized output lacks. */
export interface MissingEndpoint { readonly what: string; readonly why: string }

/** The pods the charts name as peers without rendering them, and every add-on namespace's pods. */
export function addOnPods(spec: PlatformSpec): AddOnPod[] {
  const namespaces = [...new Set(['kube-system', ...Object.values(spec.clusterAddons).map((a) => a.namespace)])].sort();
  return [
    { namespace: 'kube-system', workload: 'coredns', labels: { 'k8s-app': 'kube-dns' }, ports: [udp(53, 'dns'), tcp(53, 'dns-tcp')] },
    { namespace: spec.clusterAddons.prometheus.namespace, workload: 'prometheus-server', labels: { ...MONITORING.podLabels }, ports: [tcp(9090, 'http')] },
    // Any other pod of an add-on (controllers, webhooks): what the add-on namespaces' policies allow it.
    ...namespaces.map((namespace) => ({ namespace, workload: '*', labels: {}, ports: [] })),
  ];
}

/** Finds the synthesized endpoints the spec's architecture names. */
export class Locator {
  constructor(readonly model: Model, readonly spec: PlatformSpec, readonly environment: EnvironmentSpec) {}

  private find(predicate: (e: Endpoint) => boolean): Endpoint[] {
    return this.model.endpoints.filter(predicate);
  }

  private get primaryRegion() { return this.environment.region; }

  cloudFront() { return this.find((e) => e.kind === 'cloudfront'); }
  /** The internet-facing load balancer of the edge stack. */
  edgeLoadBalancer() { return this.find((e) => e.kind === 'load-balancer' && e.internetFacing === true && e.region === this.primaryRegion); }
  vpn() { return this.find((e) => e.kind === 'client-vpn'); }
  bastion() { return this.find((e) => e.kind === 'instance' && /\/Bastion\//.test(e.id)); }
  clusterApi() { return this.find((e) => e.kind === 'cluster-api'); }
  nodeGroups() { return this.find((e) => e.kind === 'node-group'); }
  pods(namespace: string, workload?: string) {
    return this.find((e) => e.kind === 'pod' && e.pod!.namespace === namespace && (workload === undefined ? e.pod!.workload !== '*' : e.pod!.workload === workload));
  }
  /** Pods the charts render (not the add-ons'). */
  chartPods() { return this.find((e) => e.kind === 'pod' && e.pod!.source === 'charts'); }
  servicePods(name: string) { return this.pods(name, name); }
  databaseWriter() { return this.find((e) => e.role === 'database-writer'); }
  databaseReplicas() { return this.find((e) => e.role === 'database-replica'); }
  cache() { return this.find((e) => e.kind === 'cache'); }
  kafka() { return this.find((e) => e.kind === 'kafka'); }
  warehouse() { return this.find((e) => e.kind === 'warehouse'); }
  flink() { return this.find((e) => e.kind === 'flink'); }
  topicsHandler() { return this.find((e) => e.kind === 'lambda' && /\/Topics\/Handler$/.test(e.id)); }
  /** The topics custom resource's functions: the handler and its provider, which share one group. */
  topicsFunctions() { return this.find((e) => e.kind === 'lambda' && /\/Messaging\/Topics\//.test(e.id)); }
  /** Vault's load balancer and nodes: the primary (environment's region) and the standby (DR region). */
  vaultLoadBalancer(site: 'primary' | 'standby') {
    return this.find((e) => e.kind === 'load-balancer' && /\/Vault(Standby)?\//.test(e.id) && this.site(e) === site);
  }
  vaultNodes(site: 'primary' | 'standby') {
    return this.find((e) => e.kind === 'auto-scaling-group' && /\/Vault(Standby)?\//.test(e.id) && this.site(e) === site);
  }
  private site(e: Endpoint) { return e.region === this.primaryRegion ? 'primary' : 'standby'; }
  kubeDns() { return this.pods('kube-system', 'coredns'); }
  prometheus() { return this.pods(this.spec.clusterAddons.prometheus.namespace, 'prometheus-server'); }

  /** The spec's services' pods, and PgBouncer's: every workload with a Vault agent. */
  vaultClients(): Endpoint[] {
    return [
      ...this.spec.services.flatMap((s) => this.servicePods(s.name)),
      ...this.pods(PGBOUNCER_NAMESPACE, PGBOUNCER_WRITER), ...this.pods(PGBOUNCER_NAMESPACE, PGBOUNCER_READER),
    ];
  }

  /**
   * The workloads that own a store (spec: services[].secrets, analytics): who may reach the
   * restricted zone besides the bastion.
   */
  owners(store: Endpoint, port: PortSpec): Endpoint[] {
    const { spec } = this;
    const kind = (k: VaultSecretKind) => servicesWithSecret(spec, k).flatMap((s) => this.servicePods(s.name));
    switch (store.kind) {
      // PgBouncer is PostgreSQL's one client: both pools (a reader pool reaching the writer
      // stays inside the store's owner).
      case 'database': return [...this.pods(PGBOUNCER_NAMESPACE, PGBOUNCER_WRITER), ...this.pods(PGBOUNCER_NAMESPACE, PGBOUNCER_READER)];
      case 'cache': return kind('cache');
      case 'kafka':
        if (port.port === spec.dataTier.kafka.saslScramPort) return [...kind('broker'), ...this.topicsFunctions()];
        if (port.port === spec.dataTier.kafka.iamPort && spec.analytics.flink.kafkaAuthentication === 'iam') return this.flink();
        return [];
      case 'warehouse': return this.flink();
      default: return [];
    }
  }
}

/** Every flow the spec makes necessary, with its reason. Missing endpoints are reported, not skipped. */
export function requiredFlows(locator: Locator): { flows: RequiredFlow[]; missing: MissingEndpoint[] } {
  const { spec } = locator;
  const flows: RequiredFlow[] = [];
  const missing: MissingEndpoint[] = [];
  const need = (what: string, why: string, found: Endpoint[]) => {
    if (found.length === 0) missing.push({ what, why });
    return found;
  };
  const add = (from: Endpoint[], to: Endpoint[], ports: PortSpec[], why: string) => {
    for (const f of from) for (const t of to) for (const port of ports) flows.push({ from: f, to: t, port, why });
  };

  // The edge: client -> CloudFront -> ALB -> the service exposed at the edge (spec "System Overview").
  const edge = spec.services.find((s) => s.exposes === 'edge');
  const alb = need('the edge load balancer', 'spec "System Overview": CloudFront -> Load Balancer', locator.edgeLoadBalancer());
  add(need('CloudFront', 'spec "System Overview": Client -> CloudFront', locator.cloudFront()), alb, [tcp(443)], 'edge: CloudFront -> ALB (HTTPS)');
  if (edge) {
    add(alb, need(`${edge.name} pods`, 'spec "System Overview": Load Balancer -> API Gateway', locator.servicePods(edge.name)),
      [tcp(edge.port), tcp(edge.healthPort)], `edge: ALB -> ${edge.name} (traffic and health checks)`);
  }

  // Operators (spec.operatorAccess): the VPN into the DMZ, the bastion into the restricted zone.
  const vpn = locator.vpn();
  const bastion = locator.bastion();
  const operator = (entry: 'vpn' | 'bastion', from: Endpoint[]) => {
    const reaches = new Set(spec.operatorAccess[entry]);
    const why = (what: string) => `operatorAccess.${entry}: ${what}`;
    if (reaches.size) need(entry === 'vpn' ? 'the Client VPN' : 'the bastion', `operatorAccess.${entry}`, from);
    if (reaches.has('dmz')) for (const s of spec.services.filter((x) => x.zone === 'dmz')) add(from, locator.servicePods(s.name), [tcp(s.port)], why(`the DMZ (${s.name})`));
    if (reaches.has('cluster-api')) add(from, need('the EKS API', why('cluster-api'), locator.clusterApi()), [tcp(443)], why('the cluster API (kubectl)'));
    if (reaches.has('vault')) {
      add(from, need('Vault\'s load balancer', why('vault'), locator.vaultLoadBalancer('primary')), [tcp(spec.vault.apiPort)], why('Vault'));
      add(from, locator.vaultLoadBalancer('standby'), [tcp(spec.vault.apiPort)], why('Vault after a failover (the DR-region standby)'));
    }
    if (reaches.has('restricted')) {
      const data = spec.dataTier;
      add(from, locator.databaseWriter(), [tcp(data.postgres.port)], why('the restricted zone (PostgreSQL writer)'));
      add(from, locator.databaseReplicas(), [tcp(data.postgres.port)], why('the restricted zone (PostgreSQL replicas)'));
      add(from, locator.cache(), [tcp(data.redis.port)], why('the restricted zone (cache)'));
      add(from, locator.kafka(), [tcp(data.kafka.saslScramPort), tcp(data.kafka.iamPort)], why('the restricted zone (Kafka)'));
      add(from, locator.warehouse(), [tcp(spec.analytics.warehouse.port)], why('the restricted zone (warehouse)'));
    }
  };
  operator('vpn', vpn);
  operator('bastion', bastion);

  // The cluster itself: kubelets <-> API server; DNS and probes for every pod.
  const nodes = need('the EKS node group', 'cluster', locator.nodeGroups());
  const api = locator.clusterApi();
  add(nodes, api, [tcp(443)], 'cluster: kubelet -> API server');
  add(api, nodes, [tcp(10250)], 'cluster: API server -> kubelet (logs, exec, metrics)');
  const dns = locator.kubeDns();
  for (const pod of locator.chartPods()) {
    add([pod], dns, [udp(53), tcp(53)], 'cluster: DNS (CoreDNS)');
    // Probes on every container port the charts give a probe (health ports, PgBouncer's port, the exporter).
    add(nodes, [pod], (pod.listens ?? []).filter((p) => p.name === 'health' || p.name === 'postgres' || p.name === 'metrics'), 'cluster: kubelet probes');
  }
  for (const s of spec.services) add(locator.prometheus(), locator.servicePods(s.name), [tcp(s.healthPort)], `metrics: Prometheus scrapes ${s.name}`);
  add(locator.prometheus(), [...locator.pods(PGBOUNCER_NAMESPACE, PGBOUNCER_WRITER), ...locator.pods(PGBOUNCER_NAMESPACE, PGBOUNCER_READER)],
    [tcp(spec.workloads.pgbouncer.exporterPort)], 'metrics: Prometheus scrapes PgBouncer\'s exporter');

  // Service calls (services[].calls, gRPC over mTLS).
  for (const { name: caller, calls } of spec.services) {
    for (const callee of calls) {
      const port = spec.services.find((s) => s.name === callee)!.port;
      add(need(`${caller} pods`, 'services[].calls', locator.servicePods(caller)), need(`${callee} pods`, 'services[].calls', locator.servicePods(callee)),
        [tcp(port)], `services[].calls: ${caller} -> ${callee}`);
    }
  }

  // Stores (services[].secrets): databases through PgBouncer, cache, broker.
  const writerPool = need('PgBouncer\'s writer pool', 'dataTier.pgbouncer', locator.pods(PGBOUNCER_NAMESPACE, PGBOUNCER_WRITER));
  const readerPool = locator.pods(PGBOUNCER_NAMESPACE, PGBOUNCER_READER);
  const pgbouncerPort = tcp(spec.dataTier.pgbouncer.port);
  for (const s of spec.services) {
    const kinds = s.secrets;
    const pods = locator.servicePods(s.name);
    if (kinds.includes('database')) {
      add(pods, writerPool, [pgbouncerPort], `services[].secrets: ${s.name} has a database (PgBouncer, writer pool)`);
      if (s.database?.replicaReads) add(pods, readerPool, [pgbouncerPort], `services[].database.replicaReads: ${s.name} reads the replicas (PgBouncer, reader pool)`);
    }
    if (kinds.includes('cache')) add(pods, need('the cache', 'services[].secrets cache', locator.cache()), [tcp(spec.dataTier.redis.port)], `services[].secrets: ${s.name} uses the cache`);
    if (kinds.includes('broker')) add(pods, need('the Kafka brokers', 'services[].secrets broker', locator.kafka()), [tcp(spec.dataTier.kafka.saslScramPort)], `services[].secrets: ${s.name} publishes to Kafka (SASL/SCRAM)`);
    if (kinds.includes('payment-provider')) add(pods, [locator.model.internet], [tcp(paymentProviderPort(spec))], `workloads.paymentProvider: ${s.name} calls ${spec.workloads.paymentProvider.apiBase}`);
  }
  const postgres = tcp(spec.dataTier.postgres.port);
  add(writerPool, need('the PostgreSQL writer', 'dataTier.postgres', locator.databaseWriter()), [postgres], 'dataTier: PgBouncer writer pool -> RDS primary');
  add(readerPool, locator.databaseReplicas(), [postgres], 'dataTier: PgBouncer reader pool -> RDS read replicas');
  add(locator.topicsHandler(), locator.kafka(), [tcp(spec.dataTier.kafka.saslScramPort)], 'dataTier.kafka.topics: the topics custom resource creates them on the brokers');

  // Analytics: Kafka -> Flink -> warehouse (spec Data Flow), and the AWS APIs the job signs in with.
  const flink = need('the Flink application', 'analytics.flink', locator.flink());
  add(flink, locator.kafka(), [tcp(spec.dataTier.kafka.iamPort)], `analytics.flink.kafkaAuthentication: ${spec.analytics.flink.kafkaAuthentication}`);
  add(flink, need('the warehouse', 'analytics.warehouse', locator.warehouse()), [tcp(spec.analytics.warehouse.port)], 'analytics: Flink -> warehouse');
  for (const service of ['sts', 'secretsmanager']) add(flink, flink.map((f) => locator.model.awsApi(service, f.region)), [tcp(443)], `analytics: the job calls ${service}`);

  // Vault: every workload's agent, the load balancers, the nodes, their AWS APIs.
  const clients = locator.vaultClients();
  const apiPort = tcp(spec.vault.apiPort);
  for (const site of ['primary', 'standby'] as const) {
    const lb = need(`Vault's ${site} load balancer`, 'vault', locator.vaultLoadBalancer(site));
    const nodesAt = need(`Vault's ${site} nodes`, 'vault', locator.vaultNodes(site));
    const when = site === 'primary' ? '' : ' (after a failover)';
    add(clients, lb, [apiPort], `services[].secrets: the pods' Vault agents${when}`);
    add(lb, nodesAt, [apiPort], `vault: load balancer -> nodes${when}`);
    add(nodesAt, nodesAt, [tcp(spec.vault.clusterPort)], `vault: request forwarding among nodes${when}`);
    for (const node of nodesAt) {
      for (const service of spec.vault.awsApis) add([node], [locator.model.awsApi(service, node.region)], [tcp(443)], `vault.awsApis: ${service}${when}`);
      add([node], [locator.model.internet], [tcp(new URL(spec.vault.packageRepository).port ? Number(new URL(spec.vault.packageRepository).port) : 443)], `vault.packageRepository: ${spec.vault.packageRepository}${when}`);
    }
  }
  return { flows, missing };
}

/**
 * The zone table as rules: a flow between two endpoints that these rules do not allow must be
 * closed. Returns the rule a flow breaks, or undefined when it may be open.
 *   internet   -> only the public zone
 *   DMZ        <- only the VPN and the load balancer in front of it (plus the node's kubelet and
 *                 Prometheus on the health port)
 *   restricted <- only the bastion and the workloads that own the store (the node group, whose
 *                 groups those workloads' pods carry, with them)
 *   VPN        -> only what operatorAccess.vpn lists; public zone -> only its load balancers' targets
 *   pods       -> the internet only for the payment provider
 */
export function forbiddenBy(locator: Locator, from: Endpoint, to: Endpoint, port: PortSpec): string | undefined {
  const { spec, model } = locator;
  if (from === to) return undefined;
  if (from.zone === 'internet' && to.zone !== 'public' && to.kind !== 'internet' && to.kind !== 'aws-api') {
    return 'the internet reaches only the public zone';
  }
  if (to.zone === 'dmz' && to.kind === 'pod') {
    const service = spec.services.find((s) => s.name === to.pod!.workload);
    const behindLb = model.loadBalancerTargets.some((t) => t.loadBalancer === from && t.target === to && t.ports.some((p) => p.port === port.port));
    const vpnOk = from.kind === 'client-vpn' && spec.operatorAccess.vpn.includes('dmz') && port.port === service?.port;
    const opsOk = port.port === service?.healthPort && (from.kind === 'node-group' || locator.prometheus().includes(from));
    if (!behindLb && !vpnOk && !opsOk) return 'the DMZ admits only the VPN and the load balancer in front of it';
  }
  if (to.zone === 'restricted' && !['vpc-endpoint', 'nat-gateway'].includes(to.kind)) {
    const owners = locator.owners(to, port);
    const bastionOk = from.kind === 'instance' && locator.bastion().includes(from) && spec.operatorAccess.bastion.includes('restricted');
    // The node group's groups are its pods' (those without a group of their own): it carries their access.
    const carrier = from.kind === 'node-group' && owners.some((o) => o.kind === 'pod' && o.groupsFrom?.startsWith('node group'));
    if (!owners.includes(from) && !bastionOk && !carrier) return 'the restricted zone admits only the bastion and the workloads that own the store';
  }
  if (from.kind === 'client-vpn') {
    const reaches = new Set(spec.operatorAccess.vpn);
    const ok = (reaches.has('dmz') && to.zone === 'dmz' && to.kind === 'pod')
      || (reaches.has('cluster-api') && to.kind === 'cluster-api' && port.port === 443)
      || (reaches.has('vault') && locator.vaultLoadBalancer('primary').concat(locator.vaultLoadBalancer('standby')).includes(to))
      || (reaches.has('restricted') && to.zone === 'restricted');
    if (!ok) return `the VPN reaches only ${[...reaches].join(', ')} (operatorAccess.vpn)`;
  }
  if (from.zone === 'public' && from.kind === 'load-balancer'
    && !model.loadBalancerTargets.some((t) => t.loadBalancer === from && t.target === to)) {
    return 'the public zone reaches only the targets of its load balancers';
  }
  if (to.kind === 'internet' && from.kind === 'pod' && from.pod!.source === 'charts') {
    const service = spec.services.find((s) => s.name === from.pod!.workload && from.pod!.namespace === s.name);
    const provider = service && service.secrets.includes('payment-provider') && port.port === paymentProviderPort(spec);
    if (!provider) return 'only the payment provider\'s clients reach the internet (workloads.paymentProvider)';
  }
  return undefined;
}

/** The ports a forbidden-flow sweep tries on a destination: what it listens on, or what its groups admit. */
export function candidatePorts(to: Endpoint, spec: PlatformSpec): PortSpec[] {
  if (to.kind === 'internet') return [tcp(443), tcp(80), tcp(paymentProviderPort(spec))].filter((p, i, a) => a.findIndex((q) => q.port === p.port) === i);
  if (to.listens) return [...to.listens];
  const ports = new Map<string, PortSpec>();
  for (const group of to.groups) {
    for (const rule of group.ingress) {
      if (rule.protocol !== 'tcp' && rule.protocol !== 'udp') continue;
      const port: PortSpec = { protocol: rule.protocol, port: rule.from };
      ports.set(`${port.protocol}/${port.port}`, port);
    }
  }
  return [...ports.values()];
}
