import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from '../../compliance';
import type { EnvironmentSpec, PlatformSpec } from '../../spec';
import { RetainedLogGroup } from '../shared/retained-log-group';
import { invalidProp } from '../shared/validation';

export interface CacheReplicationGroupProps {
  /** Engine, version and port, the same in every environment (`dataTier.redis` of the spec). */
  readonly engine: PlatformSpec['dataTier']['redis'];
  /** This environment's node type and retention (`environments.<env>.cache`). */
  readonly sizing: EnvironmentSpec['cache'];
  /** Physical replication group id (lib/spec/names.ts: the ops CLI finds it by it). */
  readonly replicationGroupId: string;
  /** What the group holds, for its description. */
  readonly description: string;
  /** Name of the Secrets Manager secret that holds the AUTH token. */
  readonly authSecretName: string;
  /** The primary goes in the first, one replica in each other (at least two: Multi-AZ failover). */
  readonly availabilityZones: readonly string[];
  /** The restricted zone's subnets, one per AZ. */
  readonly subnets: ec2.SelectedSubnets;
  /** The restricted zone's group: it already admits the cache port from workloads, gateway and bastion. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** At-rest encryption, the AUTH token secret and the log groups. */
  readonly encryptionKey: kms.IKey;
}

/**
 * The spec's cache (Valkey or Redis OSS, per `dataTier.redis.engine`): one primary and one replica
 * in each other AZ with automatic Multi-AZ failover, TLS required, AUTH token from Secrets Manager.
 */
export class CacheReplicationGroup extends Construct {
  readonly replicationGroup: elasticache.CfnReplicationGroup;
  readonly authSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: CacheReplicationGroupProps) {
    super(scope, id);
    const { encryptionKey, sizing } = props;
    const cache = props.engine;
    const name = props.replicationGroupId;
    if (props.availabilityZones.length < 2) {
      invalidProp(this, 'availabilityZones', `= [${props.availabilityZones.join(', ')}]: Multi-AZ automatic failover needs a replica in a second AZ`);
    }

    this.authSecret = new secretsmanager.Secret(this, 'AuthToken', {
      secretName: props.authSecretName,
      description: `${name}: AUTH token clients send after the TLS handshake`,
      encryptionKey,
      // ElastiCache accepts 16-128 printable characters without @, " or /.
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledgeNoRotation(this.authSecret);

    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'Subnets', {
      description: `${name}: restricted zone`,
      subnetIds: props.subnets.subnetIds,
    });
    // A snapshotted group may be restored into it: keep it with the data.
    subnetGroup.applyRemovalPolicy(RemovalPolicy.RETAIN);

    const logs = (['slow-log', 'engine-log'] as const).map((logType) => ({
      logType,
      group: new RetainedLogGroup(this, `Logs-${logType}`, {
        logGroupName: `/aws/elasticache/${name}/${logType}`,
        retentionDays: sizing.logRetentionDays,
        encryptionKey,
      }).logGroup,
    }));

    const azs = props.availabilityZones;
    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'ReplicationGroup', {
      replicationGroupId: name,
      replicationGroupDescription: props.description,
      engine: cache.engine,
      engineVersion: cache.engineVersion,
      cacheNodeType: sizing.nodeType,
      port: cache.port,
      // The primary in the first AZ and one replica in each other AZ.
      numCacheClusters: azs.length,
      preferredCacheClusterAZs: [...azs],
      multiAzEnabled: true,
      automaticFailoverEnabled: true,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [props.securityGroup.securityGroupId],
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      atRestEncryptionEnabled: true,
      kmsKeyId: encryptionKey.keyArn,
      authToken: this.authSecret.secretValue.unsafeUnwrap(), // a {{resolve:secretsmanager}} reference, never the value
      snapshotRetentionLimit: sizing.snapshotRetentionDays,
      // The spec pins the engine version; upgrades are a reviewed spec change.
      autoMinorVersionUpgrade: false,
      logDeliveryConfigurations: logs.map(({ logType, group }) => ({
        logType,
        logFormat: 'json',
        destinationType: 'cloudwatch-logs',
        destinationDetails: { cloudWatchLogsDetails: { logGroup: group.logGroupName } },
      })),
    });
    this.replicationGroup.applyRemovalPolicy(RemovalPolicy.SNAPSHOT);
    for (const { group } of logs) this.replicationGroup.node.addDependency(group);
    // The LogGroup reference already orders them, but CloudFormation does not know that the
    // log group must exist before ElastiCache starts delivering: keep the explicit dependency.
    acknowledge(this.replicationGroup, 'cfn-lint:W3005',
      'The explicit DependsOn on the log groups restates what the Ref implies; kept so a refactor to names-only delivery cannot race the log groups.');
    Validations.of(this.replicationGroup).acknowledge({
      id: 'NIST.800.53.R5-ElastiCacheRedisClusterAutomaticBackup',
      reason: 'The cache holds derived data (read-path copies, rate-limit counters) rebuilt from PostgreSQL, the system of record with its own backups; snapshots are kept for the spec days (environment.cache.snapshotRetentionDays) to speed a restart, not as records.',
    });
    Validations.of(this.replicationGroup).acknowledge({
      id: 'AwsSolutions-AEC5',
      reason: 'The cache listens on the spec port 6379 (lib/spec); the restricted security group admits only workloads, the gateway and the bastion, and clients need TLS plus the AUTH token.',
    });
  }
}

/** Rotating the AUTH token needs a coordinated ModifyReplicationGroup (ROTATE, then SET) with the clients. */
function acknowledgeNoRotation(secret: Construct) {
  for (const id of ['AwsSolutions-SMG4', 'NIST.800.53.R5-SecretsManagerRotationEnabled']) {
    Validations.of(secret).acknowledge({
      id,
      reason: 'The AUTH token is rotated by the documented runbook (docs/data-tier.md): ModifyReplicationGroup with AuthTokenUpdateStrategy ROTATE keeps old and new tokens valid while clients reload, then SET; a Lambda rotation would need a new network path into the restricted zone.',
    });
  }
}
