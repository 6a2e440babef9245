/**
 * Rules of the services and the charts: unique names and ports, replica bounds, requests within
 * limits (globally and in each environment's own sizes), callees known, one database per service,
 * PgBouncer's connections fit the database, certificate renewal.
 */
import { cpuMillis, memoryMiB, parseDurationSeconds } from '../parse';
import { ENVIRONMENT_NAMES } from '../environments';
import { pgbouncerSizing } from '../sizing';
import { MIN_POOLER_REPLICAS } from '../schema/workloads';
import type { ContainerResourcesSpec, EnvironmentSpec, EnvironmentWorkloadsSpec, PlatformSpecFields as PlatformSpec } from '../schema';
import type { Report } from './report';

type Path = (string | number)[];

function checkResources(path: Path, r: ContainerResourcesSpec, issue: Report) {
  if (cpuMillis(r.requests.cpu) > cpuMillis(r.limits.cpu)) issue([...path, 'requests', 'cpu'], r.requests.cpu, `must be <= limits.cpu (${r.limits.cpu})`);
  if (memoryMiB(r.requests.memory) > memoryMiB(r.limits.memory)) {
    issue([...path, 'requests', 'memory'], r.requests.memory, `must be <= limits.memory (${r.limits.memory})`);
  }
}

/** PgBouncer runs two pools (charts/pgbouncer-chart.ts): the writer (RDS primary) and the reader (the replicas). */
export const PGBOUNCER_POOLS = 2;

/**
 * Each PgBouncer pod's max_client_conn in an environment: the spec's limit is for PgBouncer as a
 * whole, so it is shared by every replica of both pools.
 */
export function pgbouncerClientConnectionsPerPod(spec: Pick<PlatformSpec, 'dataTier' | 'workloads'>, environment: Pick<EnvironmentSpec, 'workloads'>): number {
  return Math.floor(spec.dataTier.pgbouncer.maxClientConnections / (PGBOUNCER_POOLS * pgbouncerSizing(spec, environment).replicas));
}

/** How many service databases PgBouncer serves: one per service with services[].database. */
export function serviceDatabaseCount(spec: Pick<PlatformSpec, 'services'>): number {
  return spec.services.filter((s) => s.database).length;
}

/** Server connections one PgBouncer pod may open: max_db_connections for each service database. */
export function pgbouncerServerConnectionsPerPod(spec: Pick<PlatformSpec, 'services' | 'workloads'>): number {
  return serviceDatabaseCount(spec) * spec.workloads.pgbouncer.maxDbConnections;
}

/** Seconds of a pod's grace period left for the process to exit after its drain. */
export const EXIT_HEADROOM_SECONDS = 10;

/**
 * The services' own drain (SHUTDOWN_GRACE_MS), in ms: the grace period less the endpoint drain
 * before it and the exit headroom after it.
 */
export function serviceShutdownGraceMs(spec: Pick<PlatformSpec, 'workloads'>): number {
  const { terminationGracePeriodSeconds, endpointDrainSeconds } = spec.workloads;
  return (terminationGracePeriodSeconds - endpointDrainSeconds - EXIT_HEADROOM_SECONDS) * 1000;
}

export function checkWorkloads(spec: PlatformSpec, issue: Report) {
  const { workloads: w } = spec;
  if (serviceShutdownGraceMs(spec) < 1000) {
    issue(['workloads', 'endpointDrainSeconds'], w.endpointDrainSeconds,
      `leaves the services no drain time: terminationGracePeriodSeconds (${w.terminationGracePeriodSeconds}) must be >= endpointDrainSeconds + ${EXIT_HEADROOM_SECONDS} s for the exit + 1 s`);
  }
  const names = spec.services.map((s) => s.name);
  const databaseOwners = new Map<string, string>();
  spec.services.forEach((s, i) => {
    const seen = new Set<string>();
    s.calls.forEach((callee, j) => {
      if (!names.includes(callee)) issue(['services', i, 'calls', j], callee, 'is not a service of the spec');
      if (callee === s.name) issue(['services', i, 'calls', j], callee, 'a service does not call itself over the network');
      if (seen.has(callee)) issue(['services', i, 'calls', j], callee, `${s.name} already calls it`);
      seen.add(callee);
    });
    // The database credentials (secrets 'database') and the database itself come together.
    if (s.secrets.includes('database') && !s.database) {
      issue(['services', i, 'secrets'], s.secrets, `has 'database' but ${s.name} has no database (services[].database)`);
    }
    if (s.database && !s.secrets.includes('database')) {
      issue(['services', i, 'database'], s.database, `has no 'database' in ${s.name}'s secrets: without credentials it cannot log in`);
    }
    if (s.database) {
      const other = databaseOwners.get(s.database.name);
      if (other) issue(['services', i, 'database', 'name'], s.database.name, `is also ${other}'s database: one database per service`);
      else databaseOwners.set(s.database.name, s.name);
    }
    checkResources(['services', i, 'resources'], s.resources, issue);
  });
  checkResources(['workloads', 'pgbouncer', 'resources'], w.pgbouncer.resources, issue);
  checkResources(['workloads', 'pgbouncer', 'exporterResources'], w.pgbouncer.exporterResources, issue);
  if (w.pgbouncer.defaultPoolSize > w.pgbouncer.maxDbConnections) {
    issue(['workloads', 'pgbouncer', 'defaultPoolSize'], w.pgbouncer.defaultPoolSize, `must be <= maxDbConnections (${w.pgbouncer.maxDbConnections})`);
  }
  checkPgBouncerConnections(spec, issue);
  for (const key of ENVIRONMENT_NAMES) {
    const own = spec.environments[key].workloads;
    if (own) checkEnvironmentWorkloads(spec, own, ['environments', key, 'workloads'], MIN_POOLER_REPLICAS, issue);
  }
  // One node: a pooler per pool is all it can spread, and a drain there interrupts nobody.
  checkEnvironmentWorkloads(spec, spec.localCluster.workloads, ['localCluster', 'workloads'], 1, issue);
  for (const key of ENVIRONMENT_NAMES) {
    // Each pool's replicas all reach one instance in the worst case (the writer; the reader pool's
    // hosts when one replica is down).
    const env = spec.environments[key];
    const replicas = pgbouncerSizing(spec, env).replicas;
    const needed = replicas * pgbouncerServerConnectionsPerPod(spec) + spec.dataTier.postgres.reservedConnections;
    if (needed > env.database.maxConnections) {
      issue(['environments', key, 'database', 'maxConnections'], env.database.maxConnections,
        `must be >= PgBouncer's server connections to one instance (${replicas} replicas x ${pgbouncerServerConnectionsPerPod(spec)}) + dataTier.postgres.reservedConnections (${spec.dataTier.postgres.reservedConnections}) = ${needed}`);
    }
  }
  const renewBefore = parseDurationSeconds(w.certificates.renewBefore);
  const lifetime = parseDurationSeconds(w.certificates.duration);
  if (renewBefore !== undefined && lifetime !== undefined && renewBefore >= lifetime) {
    issue(['workloads', 'certificates', 'renewBefore'], w.certificates.renewBefore, `must be shorter than duration (${w.certificates.duration})`);
  }
  const reserved = new Map<number, string>();
  spec.services.forEach((s) => { reserved.set(s.port, s.name); reserved.set(s.healthPort, s.name); });
  reserved.set(spec.dataTier.pgbouncer.port, 'dataTier.pgbouncer.port');
  const other = reserved.get(w.pgbouncer.exporterPort);
  if (other) issue(['workloads', 'pgbouncer', 'exporterPort'], w.pgbouncer.exporterPort, `port clash: also used by ${other}`);
}

/** One environment's own sizes (environments.<env>.workloads, localCluster.workloads), at `at`. */
function checkEnvironmentWorkloads(spec: PlatformSpec, workloads: EnvironmentWorkloadsSpec, at: Path, minPoolers: number, issue: Report) {
  const services = workloads.services;
  if (services) {
    const path = [...at, 'services'];
    for (const field of ['minReplicas', 'edgeMinReplicas'] as const) {
      const floor = services[field];
      if (floor !== undefined && floor > services.maxReplicas) issue([...path, field], floor, `must be <= maxReplicas (${services.maxReplicas})`);
    }
    checkResources([...path, 'resources'], services.resources, issue);
  }
  const pgbouncer = workloads.pgbouncer;
  if (!pgbouncer) return;
  const path = [...at, 'pgbouncer'];
  if (pgbouncer.replicas < minPoolers) {
    issue([...path, 'replicas'], pgbouncer.replicas, `must be >= ${minPoolers} (one pooler must survive a disruption)`);
  }
  checkResources([...path, 'resources'], pgbouncer.resources, issue);
  checkResources([...path, 'exporterResources'], pgbouncer.exporterResources, issue);
  checkEnvironmentPoolers(spec, workloads, [...path, 'replicas'], issue);
}

/**
 * The global PgBouncer sizes: every pod gets a share of the spec's client limit, and a pod never
 * holds more server than client connections.
 */
function checkPgBouncerConnections(spec: PlatformSpec, issue: Report) {
  const { replicas, maxDbConnections } = spec.workloads.pgbouncer;
  const clientsPerPod = pgbouncerClientConnectionsPerPod(spec, {});
  const serversPerPod = pgbouncerServerConnectionsPerPod(spec);
  if (clientsPerPod < 1) {
    issue(['dataTier', 'pgbouncer', 'maxClientConnections'], spec.dataTier.pgbouncer.maxClientConnections,
      `is shared by ${PGBOUNCER_POOLS} pools x ${replicas} replicas: must be at least one per PgBouncer pod`);
  } else if (serversPerPod > clientsPerPod) {
    issue(['workloads', 'pgbouncer', 'maxDbConnections'], maxDbConnections,
      `times the ${serviceDatabaseCount(spec)} databases (${serversPerPod}) must be <= each PgBouncer pod's share of dataTier.pgbouncer.maxClientConnections (${clientsPerPod}): a pool never holds more server than client connections`);
  }
}

/** The same for an environment's own pooler count (the global limits held, so only it can be at fault). */
function checkEnvironmentPoolers(spec: PlatformSpec, workloads: EnvironmentWorkloadsSpec, at: Path, issue: Report) {
  const replicas = pgbouncerSizing(spec, { workloads }).replicas;
  const clientsPerPod = pgbouncerClientConnectionsPerPod(spec, { workloads });
  const serversPerPod = pgbouncerServerConnectionsPerPod(spec);
  if (clientsPerPod < serversPerPod) {
    issue(at, replicas,
      `leaves each PgBouncer pod ${clientsPerPod} of dataTier.pgbouncer.maxClientConnections (shared by ${PGBOUNCER_POOLS} pools x ${replicas} replicas), fewer than its ${serversPerPod} server connections (workloads.pgbouncer.maxDbConnections x ${serviceDatabaseCount(spec)} databases)`);
  }
}

/** No two services (or a service and PgBouncer) share a port. */
export function checkPorts(spec: PlatformSpec, issue: Report) {
  const seen = new Map<number, string>();
  const claim = (value: number, owner: string, path: (string | number)[]) => {
    const other = seen.get(value);
    if (other !== undefined) issue(path, value, `port clash: also used by ${other}`);
    else seen.set(value, owner);
  };
  spec.services.forEach((svc, i) => {
    claim(svc.port, `services[${i}].port (${svc.name})`, ['services', i, 'port']);
    claim(svc.healthPort, `services[${i}].healthPort (${svc.name})`, ['services', i, 'healthPort']);
  });
  claim(spec.dataTier.pgbouncer.port, 'dataTier.pgbouncer.port', ['dataTier', 'pgbouncer', 'port']);
}

/** Replica bounds and unique names of the services. */
export function checkServices(spec: PlatformSpec, issue: Report) {
  spec.services.forEach((svc, i) => {
    if (svc.autoscaling.minReplicas > svc.autoscaling.maxReplicas) {
      issue(['services', i, 'autoscaling', 'minReplicas'], svc.autoscaling.minReplicas,
        `must be <= maxReplicas (${svc.autoscaling.maxReplicas}) of service ${svc.name}`);
    }
  });
  const names = new Set<string>();
  spec.services.forEach((svc, i) => {
    if (names.has(svc.name)) issue(['services', i, 'name'], svc.name, 'duplicate service name');
    names.add(svc.name);
  });
}

/**
 * What the services' entries say about each other: one edge service, in the DMZ, called by no one;
 * the latency trigger only on gRPC services; one token signer for the verifiers, which call it;
 * a service's generated keys distinct.
 */
export function checkServiceRoles(spec: PlatformSpec, issue: Report) {
  const edges = spec.services.map((s, i) => ({ s, i })).filter(({ s }) => s.exposes === 'edge');
  if (edges.length === 0) {
    issue(['services'], spec.services.map((s) => s.name), "has no service with exposes 'edge': the edge's load balancer needs one to front");
  }
  edges.slice(1).forEach(({ s, i }) => {
    issue(['services', i, 'exposes'], s.exposes, `only one service is the edge (services[${edges[0]!.i}] ${edges[0]!.s.name} is)`);
  });
  for (const { s, i } of edges) {
    // The load balancer's security group reaches the DMZ only (lib/constructs/network/security-zones.ts).
    if (s.zone !== 'dmz') issue(['services', i, 'zone'], s.zone, `must be dmz: ${s.name} is the edge service, and the load balancer reaches the DMZ only`);
    spec.services.forEach((caller, k) => {
      caller.calls.forEach((callee, j) => {
        if (callee === s.name) issue(['services', k, 'calls', j], callee, `is the edge service: it serves HTTPS to the load balancer, not gRPC to ${caller.name}`);
      });
    });
  }
  spec.services.forEach((s, i) => {
    if (s.autoscaling.trigger.type === 'latency' && s.exposes !== 'grpc') {
      issue(['services', i, 'autoscaling', 'trigger', 'type'], 'latency', `reads the gRPC server's handling time: ${s.name} exposes ${s.exposes}, not grpc`);
    }
  });
  const signers = spec.services.map((s, i) => ({ s, i })).filter(({ s }) => s.tokens === 'sign');
  signers.slice(1).forEach(({ s, i }) => {
    issue(['services', i, 'tokens'], s.tokens, `only one service signs the tokens (services[${signers[0]!.i}] ${signers[0]!.s.name} does)`);
  });
  const signer = signers[0]?.s;
  spec.services.forEach((s, i) => {
    if (s.tokens !== 'verify') return;
    if (!signer) {
      issue(['services', i, 'tokens'], s.tokens, `${s.name} verifies tokens, but no service signs them (tokens: 'sign')`);
    } else if (!s.calls.includes(signer.name)) {
      issue(['services', i, 'calls'], s.calls,
        `must include ${signer.name}: ${s.name} verifies tokens with the signer's key set, which it fetches over gRPC`);
    }
  });
  spec.services.forEach((s, i) => {
    for (const field of ['path', 'file', 'env'] as const) {
      const seen = new Set<string>();
      s.generatedKeys.forEach((key, j) => {
        if (seen.has(key[field])) issue(['services', i, 'generatedKeys', j, field], key[field], `duplicate generated key ${field} of ${s.name}`);
        seen.add(key[field]);
      });
    }
  });
}
