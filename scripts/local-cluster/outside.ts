// What the local cluster's workloads reach outside it, at the host addresses that stand for the
// spec's zones (plan.ts): the data tier (PostgreSQL, Redis, Kafka of the harness, in place of RDS,
// ElastiCache and MSK) on the spec's ports in the restricted zone, Vault (the harness's, TLS) at
// its load balancer's address in the private zone, and the payment provider (stripe-mock behind a
// TLS terminator with a certificate for the provider's host name) on the internet address. One
// CA signs them all: it stands for the public roots and the Vault CA of AWS, and the images and
// Vault's clients are told to trust it.
import { once } from 'node:events';
import { connect } from 'node:net';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { createServer } from 'node:tls';
import { STRIPE_AUTHORIZING_FIXTURES } from '../dev';
import type { ChartEnvironment, PlatformSpec } from '../../lib/spec';
import { CACHE_AUTH_USER, paymentProviderPort } from '../../lib/spec/topology';
import { vaultDnsName } from '../../lib/spec/vault-names';
import { startVault } from '../local-stack/vault';
import type { VaultServer } from '../local-stack/vault';
import { createTestCa, startKafka, startPostgres, startRedis, startStripeMock } from '../local-stack';
import type { KafkaServer, PostgresServer, RedisServer, StripeMockServer, TestCa } from '../local-stack';
import { OUTSIDE } from './plan';
import type { ClusterNetworkPlan } from './network';

/** The Service Vault's clients in the cluster use (the charts' `vault.hashicorp.com/service`). */
export const IN_CLUSTER_VAULT_NAME = 'vault.vault.svc.cluster.local';

export interface OutsideServers {
  /** Signs every server certificate here; the workloads trust it as they trust AWS's. */
  readonly ca: TestCa;
  readonly postgres: PostgresServer;
  readonly redis: RedisServer;
  readonly kafka: KafkaServer;
  readonly vault: VaultServer;
  readonly provider: StripeMockServer;
  /** The names CoreDNS must answer for these (Vault's, the provider's). */
  readonly dnsHosts: Readonly<Record<string, string>>;
  dispose(): Promise<void>;
}

/** Names and addresses CoreDNS answers for the outside servers; known before any of them starts. */
export function outsideDnsHosts(spec: PlatformSpec, environment: ChartEnvironment, plan: ClusterNetworkPlan): Record<string, string> {
  return {
    [vaultDnsName(spec, environment.name)]: plan.outsideAddresses[OUTSIDE.vault]!,
    [new URL(spec.workloads.paymentProvider.apiBase).hostname]: plan.outsideAddresses[OUTSIDE.internet]!,
  };
}

/** TLS on `host:port` with a certificate for `name`, each connection piped to a local HTTP port. */
async function startTlsTerminator(ca: TestCa, name: string, host: string, port: number, upstream: number): Promise<Server> {
  const cert = await ca.issue({ commonName: name, dnsNames: [name] });
  const server = createServer({ cert: cert.certPem, key: cert.keyPem, minVersion: 'TLSv1.2' }, (socket) => {
    const backend = connect({ host: '127.0.0.1', port: upstream });
    socket.pipe(backend).pipe(socket);
    const close = () => { socket.destroy(); backend.destroy(); };
    socket.on('error', close);
    backend.on('error', close);
  });
  server.listen(port, host);
  await once(server, 'listening');
  return server;
}

/**
 * Starts the servers of the data tier, Vault and the provider at the plan's outside addresses
 * (which exist once the cluster's network does) on the spec's ports. PostgreSQL admits the pod
 * range, where PgBouncer runs; the Redis and Kafka users are the ones the charts log in as.
 */
export async function startOutsideServers(spec: PlatformSpec, environment: ChartEnvironment, plan: ClusterNetworkPlan, dir: string): Promise<OutsideServers> {
  const dataTier = plan.outsideAddresses[OUTSIDE.dataTier]!;
  const internet = plan.outsideAddresses[OUTSIDE.internet]!;
  const ca = await createTestCa({ dir: join(dir, 'outside-ca') });
  const started: { dispose(): Promise<void> }[] = [];
  const track = async <T extends { dispose(): Promise<void> }>(server: Promise<T>): Promise<T> => {
    const s = await server;
    started.push(s);
    return s;
  };
  let terminator: Server | undefined;
  const dispose = async () => {
    terminator?.close();
    await Promise.allSettled(started.map((s) => s.dispose()));
    await ca.dispose();
  };
  try {
    const { dataTier: tier } = spec;
    const [postgres, redis, kafka, vault, provider] = await Promise.all([
      track(startPostgres({ ca, listen: { host: dataTier, port: tier.postgres.port, clients: [plan.podCidr] } })),
      track(startRedis({ ca, listen: { host: dataTier, port: tier.redis.port }, username: CACHE_AUTH_USER })),
      track(startKafka({
        ca, listen: { host: dataTier, port: tier.kafka.saslScramPort }, username: tier.kafka.scramUsername,
        topics: tier.kafka.topics.map((t) => ({ name: t.name, partitions: t.partitions })),
      })),
      track(startVault({
        ca, listen: { host: plan.outsideAddresses[OUTSIDE.vault]!, port: spec.vault.apiPort },
        dnsNames: [IN_CLUSTER_VAULT_NAME, vaultDnsName(spec, environment.name)],
      })),
      track(startStripeMock({ fixtures: STRIPE_AUTHORIZING_FIXTURES })),
    ]);
    terminator = await startTlsTerminator(ca, new URL(spec.workloads.paymentProvider.apiBase).hostname, internet, paymentProviderPort(spec), provider.port);
    return { ca, postgres, redis, kafka, vault, provider, dnsHosts: outsideDnsHosts(spec, environment, plan), dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}
