/**
 * Creates an environment's data tier in the emulator through the real SDK, under the names of
 * lib/spec/names.ts, the way the data-tier stacks would: writer + read replicas in a
 * restricted subnet group with a parameter group, security group and KMS key; an MSK cluster
 * with SASL/SCRAM; a Redis replication group; a backup vault.
 */
import { BackupClient, CreateBackupVaultCommand } from '@aws-sdk/client-backup';
import { CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateReplicationGroupCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { CreateClusterV2Command, KafkaClient } from '@aws-sdk/client-kafka';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateDBInstanceCommand, CreateDBInstanceReadReplicaCommand, CreateDBParameterGroupCommand, CreateDBSubnetGroupCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { loadPlatformSpec, resourceNames } from '../../lib/spec';
import type { EnvironmentName, ResourceNames } from '../../lib/spec';
import type { AwsFixture, FixtureRecoveryPoint } from './aws-fixture';

export interface SeededTier {
  readonly names: ResourceNames;
  readonly writerArn: string;
  readonly securityGroupId: string;
  readonly kmsKeyArn: string;
  readonly kafkaClusterArn: string;
  readonly saslScramBrokers: string;
}

export interface SeedOptions {
  /** Writer's BackupRetentionPeriod; 0 turns automated backups off. Default 7. */
  readonly backupRetentionDays?: number;
  /** Create the backup vault (registered with the fixture). Default true. */
  readonly backupVault?: boolean;
  /** Recovery points of the writer in the vault, by age in seconds. Default none. */
  readonly recoveryPointAgesSeconds?: readonly number[];
}

export async function seedDataTier(fixture: AwsFixture, envName: EnvironmentName, options: SeedOptions = {}): Promise<SeededTier> {
  const spec = loadPlatformSpec();
  const environment = spec.environments[envName];
  const region = environment.region;
  const names = resourceNames(spec, environment);

  const ec2 = new EC2Client({ region });
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: environment.network.vpcCidr }));
  const vpcId = vpc.Vpc!.VpcId!;
  const base = environment.network.vpcCidr.split('.').slice(0, 2).join('.');
  const subnets = await Promise.all(environment.availabilityZones.map((az, i) => ec2.send(new CreateSubnetCommand({
    VpcId: vpcId, CidrBlock: `${base}.${200 + i}.0/24`, AvailabilityZone: az,
  }))));
  const sg = await ec2.send(new CreateSecurityGroupCommand({ GroupName: `${names.prefix}-db`, Description: 'postgres', VpcId: vpcId }));
  const key = await new KMSClient({ region }).send(new CreateKeyCommand({ Description: `${names.prefix} data` }));

  const rds = new RDSClient({ region });
  await rds.send(new CreateDBSubnetGroupCommand({
    DBSubnetGroupName: names.dbSubnetGroup, DBSubnetGroupDescription: 'restricted zone',
    SubnetIds: subnets.map((s) => s.Subnet!.SubnetId!),
  }));
  await rds.send(new CreateDBParameterGroupCommand({
    DBParameterGroupName: names.dbParameterGroup,
    DBParameterGroupFamily: `postgres${spec.dataTier.postgres.engineMajorVersion}`, Description: 'postgres',
  }));
  const writer = await rds.send(new CreateDBInstanceCommand({
    DBInstanceIdentifier: names.dbInstance, Engine: 'postgres', DBInstanceClass: 'db.r6g.large', AllocatedStorage: 100,
    MasterUsername: 'platform', MasterUserPassword: 'not-a-real-password', Port: spec.dataTier.postgres.port,
    DBSubnetGroupName: names.dbSubnetGroup, DBParameterGroupName: names.dbParameterGroup,
    VpcSecurityGroupIds: [sg.GroupId!], StorageEncrypted: true, KmsKeyId: key.KeyMetadata!.Arn,
    BackupRetentionPeriod: options.backupRetentionDays ?? 7, MultiAZ: true,
  }));
  for (const replica of names.dbReplicas) {
    await rds.send(new CreateDBInstanceReadReplicaCommand({
      DBInstanceIdentifier: replica, SourceDBInstanceIdentifier: names.dbInstance,
    }));
  }

  const kafka = await new KafkaClient({ region }).send(new CreateClusterV2Command({
    ClusterName: names.mskCluster,
    Provisioned: {
      KafkaVersion: '3.8.x', NumberOfBrokerNodes: 3,
      BrokerNodeGroupInfo: { InstanceType: 'kafka.m5.large', ClientSubnets: subnets.map((s) => s.Subnet!.SubnetId!) },
      ClientAuthentication: { Sasl: { Scram: { Enabled: true } } },
    },
  }));
  const port = spec.dataTier.kafka.saslScramPort;
  const saslScramBrokers = [1, 2, 3]
    .map((n) => `b-${n}.${names.mskCluster}.abc123.c2.kafka.${region}.amazonaws.com:${port}`).join(',');
  fixture.setBootstrapBrokers(kafka.ClusterArn!, { saslScram: saslScramBrokers });

  await new ElastiCacheClient({ region }).send(new CreateReplicationGroupCommand({
    ReplicationGroupId: names.cacheReplicationGroup, ReplicationGroupDescription: 'redis', Engine: 'redis',
    CacheNodeType: 'cache.r6g.large', NumCacheClusters: 2, AutomaticFailoverEnabled: true, Port: spec.dataTier.redis.port,
  }));

  const writerArn = writer.DBInstance!.DBInstanceArn!;
  if (options.backupVault ?? true) {
    await new BackupClient({ region }).send(new CreateBackupVaultCommand({ BackupVaultName: names.backupVault }));
    const now = Date.now();
    fixture.setRecoveryPoints(names.backupVault, (options.recoveryPointAgesSeconds ?? [])
      .map((age): FixtureRecoveryPoint => ({ resourceArn: writerArn, creationDate: new Date(now - age * 1000) })));
  }
  return {
    names, writerArn, securityGroupId: sg.GroupId!, kmsKeyArn: key.KeyMetadata!.Arn!,
    kafkaClusterArn: kafka.ClusterArn!, saslScramBrokers,
  };
}
