/**
 * `ops endpoints <env>`: where the data tier answers. The RDS writer and replicas, the MSK
 * SASL/SCRAM bootstrap brokers (GetBootstrapBrokers: MSK has no CloudFormation attribute for
 * them) and the ElastiCache primary/reader endpoints.
 */
import { environmentArg, OpsError } from '../command';
import type { OpsCommand } from '../command';
import {
  dataTier, findKafkaCluster, findReplicationGroup, kafkaBootstrapBrokers, listReplicas, requireWriter,
} from '../data-tier';

export interface EndpointsResult {
  readonly environment: string;
  readonly region: string;
  readonly database: {
    readonly writer: string;
    readonly readers: readonly { id: string; endpoint: string | null; status: string }[];
  };
  readonly kafka: {
    readonly cluster: string;
    readonly state: string;
    /** Comma-separated host:port list of the SASL/SCRAM listener; null while MSK has none (e.g. CREATING). */
    readonly saslScramBootstrapBrokers: string | null;
  };
  readonly cache: {
    readonly replicationGroup: string;
    /** Cluster mode disabled: primary and reader endpoints. Cluster mode enabled: the configuration endpoint. */
    readonly primary: string | null;
    readonly reader: string | null;
    readonly configuration: string | null;
  };
}

const hostPort = (e?: { Address?: string; Port?: number }) => (e?.Address ? `${e.Address}:${e.Port ?? ''}` : null);

export const endpointsCommand: OpsCommand<EndpointsResult> = {
  name: 'endpoints',
  summary: 'RDS writer/reader, MSK SASL/SCRAM bootstrap brokers and ElastiCache endpoints of an environment',
  usage: 'endpoints <env>',
  async run(args, { spec }) {
    const environment = environmentArg(spec, args);
    if (args.positionals.length > 1) throw new OpsError(`unexpected argument "${args.positionals[1]}"`);
    const tier = dataTier(spec, environment);
    const { names } = tier;

    const writer = await requireWriter(tier);
    const replicas = await listReplicas(tier, writer);

    const cluster = await findKafkaCluster(tier);
    if (!cluster?.ClusterArn) {
      throw new OpsError(`no MSK cluster found for ${environment.name} (expected cluster ${names.mskCluster} in ${environment.region})`);
    }
    const brokers = await kafkaBootstrapBrokers(tier, cluster.ClusterArn);

    const group = await findReplicationGroup(tier);
    if (!group) {
      throw new OpsError(`no ElastiCache replication group found for ${environment.name} (expected ${names.cacheReplicationGroup} in ${environment.region})`);
    }
    const nodeGroup = group.NodeGroups?.[0];

    return {
      environment: environment.name,
      region: environment.region,
      database: {
        writer: hostPort(writer.Endpoint) ?? `(no endpoint yet: ${writer.DBInstanceStatus})`,
        readers: replicas.filter((r) => r.instance).map(({ id, instance }) => ({
          id, endpoint: hostPort(instance?.Endpoint), status: instance?.DBInstanceStatus ?? 'unknown',
        })),
      },
      kafka: {
        cluster: cluster.ClusterName ?? names.mskCluster,
        state: cluster.State ?? 'unknown',
        saslScramBootstrapBrokers: brokers.BootstrapBrokerStringSaslScram || null,
      },
      cache: {
        replicationGroup: group.ReplicationGroupId ?? names.cacheReplicationGroup,
        primary: hostPort(nodeGroup?.PrimaryEndpoint),
        reader: hostPort(nodeGroup?.ReaderEndpoint),
        configuration: hostPort(group.ConfigurationEndpoint),
      },
    };
  },
  render(r) {
    const lines = [
      `${r.environment} (${r.region})`,
      `postgres writer   ${r.database.writer}`,
      ...r.database.readers.map((reader) => `postgres reader   ${reader.endpoint ?? '(none)'}  [${reader.id}, ${reader.status}]`),
      `kafka sasl/scram  ${r.kafka.saslScramBootstrapBrokers ?? `(none: cluster ${r.kafka.cluster} is ${r.kafka.state})`}`,
    ];
    if (r.cache.configuration) lines.push(`redis config      ${r.cache.configuration}`);
    if (r.cache.primary) lines.push(`redis primary     ${r.cache.primary}`);
    if (r.cache.reader) lines.push(`redis reader      ${r.cache.reader}`);
    if (!r.cache.configuration && !r.cache.primary) lines.push(`redis             (no endpoint yet: ${r.cache.replicationGroup})`);
    return lines.join('\n');
  },
};
