/**
 * `ops endpoints <env>`: where the data tier answers. The RDS writer and replicas, the MSK
 * SASL/SCRAM bootstrap brokers (GetBootstrapBrokers: MSK has no CloudFormation attribute for
 * them) and the ElastiCache primary/reader endpoints.
 */
import { resourceNames } from '../../../lib/spec';
import { literal } from '../assembly';
import { OpsError, soleEnvironmentArg } from '../command';
import type { OpsCommand } from '../command';
import { templateReplicas } from '../data-tier-templates';
import { OfflinePlanBuilder } from '../offline-plan';
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
    const environment = soleEnvironmentArg(spec, args);
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
  offline(args, context) {
    const { spec, assembly } = context;
    const environment = soleEnvironmentArg(spec, args);
    const names = resourceNames(spec, environment);
    const plan = new OfflinePlanBuilder(context, 'endpoints', environment.name);
    const { writer, replicas } = templateReplicas(assembly, environment, names);
    plan.resource(writer, names.dbInstance);
    for (const r of replicas) plan.resource(r, String(r.properties.DBInstanceIdentifier));
    const kafka = plan.resource(assembly.named(environment.name, 'AWS::MSK::Cluster', 'ClusterName', names.mskCluster), names.mskCluster);
    const cache = plan.resource(assembly.named(environment.name, 'AWS::ElastiCache::ReplicationGroup', 'ReplicationGroupId', names.cacheReplicationGroup), names.cacheReplicationGroup);
    const port = (value: unknown) => String(literal(value) ?? '<port>');
    // The reads of run(), in its order: writer, each replica, the MSK cluster and its brokers, the replication group.
    plan.step({ region: writer.region, call: 'rds:DescribeDBInstances', target: names.dbInstance, kind: 'read', purpose: 'the writer\'s endpoint and the replicas it reports' });
    for (const r of replicas) plan.step({ region: r.region, call: 'rds:DescribeDBInstances', target: String(r.properties.DBInstanceIdentifier), kind: 'read', purpose: 'a reader endpoint' });
    plan.step({ region: kafka.region, call: 'kafka:ListClustersV2', target: names.mskCluster, params: { ClusterNameFilter: names.mskCluster }, kind: 'read', purpose: 'the cluster\'s ARN and state' });
    const clusterArn = plan.assigned(kafka, 'kafkaClusterArn', 'kafka:ListClustersV2');
    plan.step({ region: kafka.region, call: 'kafka:GetBootstrapBrokers', target: clusterArn, params: { ClusterArn: clusterArn }, kind: 'read', purpose: 'the SASL/SCRAM bootstrap brokers (no CloudFormation attribute)' });
    plan.step({ region: cache.region, call: 'elasticache:DescribeReplicationGroups', target: names.cacheReplicationGroup, params: { ReplicationGroupId: names.cacheReplicationGroup }, kind: 'read', purpose: 'primary and reader endpoints' });
    plan.unknown('writerEndpoint', `${names.dbInstance}'s address (port ${port(writer.properties.Port)} in the template), assigned by RDS`);
    plan.unknown('readerEndpoints', `the replicas' addresses (${replicas.map((r) => r.properties.DBInstanceIdentifier).join(', ')}), assigned by RDS`);
    plan.unknown('saslScramBootstrapBrokers', `the brokers' host:port list, assigned by MSK (none while the cluster is CREATING)`);
    plan.unknown('cacheEndpoints', `the primary/reader addresses of ${names.cacheReplicationGroup} (port ${port(cache.properties.Port)} in the template), assigned by ElastiCache`);
    return plan.build(`the data tier's endpoints in ${environment.region} (read-only)`);
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
