import { Template } from 'aws-cdk-lib/assertions';
import { kafkaServerProperties } from '../../lib/constructs/kafka-cluster';
import { ENVIRONMENT_NAMES } from '../../lib/spec';
import type { EnvironmentName } from '../../lib/spec';
import {
  buildDataTier, expectRestrictedSecurityGroup, expectRestrictedSubnets, expectStatefulResourcesPinned, ofType,
} from '../helpers/data-tier-stacks';
import { normaliseTemplate } from '../helpers/normalise-template';

const { spec, envs } = buildDataTier();
const templates = Object.fromEntries(ENVIRONMENT_NAMES.map((n) => [n, Template.fromStack(envs[n].messaging)])) as Record<EnvironmentName, Template>;

/** Item 6: the same ids in both environments. */
const STATEFUL = [
  ['KafkaKeyB520D703', 'AWS::KMS::Key'],
  ['KafkaBrokerLogsLogGroup30764B14', 'AWS::Logs::LogGroup'],
  ['KafkaCluster21A1BE89', 'AWS::MSK::Cluster'],
  ['KafkaScramSecretFB545E5F', 'AWS::SecretsManager::Secret'],
] as const;

describe('the spec fixes the broker settings and topics', () => {
  it('asks for explicit topics, three copies and two in sync', () => {
    expect(kafkaServerProperties(spec)).toMatchObject({
      'auto.create.topics.enable': 'false', 'default.replication.factor': '3', 'min.insync.replicas': '2',
    });
    expect(spec.dataTier.kafka.topics.map((t) => t.name)).toEqual(expect.arrayContaining(['order-events', 'payment-events']));
  });
});

describe.each(ENVIRONMENT_NAMES)('%s messaging', (name) => {
  const env = spec.environments[name];
  const kafka = spec.dataTier.kafka;
  const { messaging, network, assembly } = envs[name];
  const template = templates[name];
  const cluster = () => ofType(template, 'AWS::MSK::Cluster')[0];
  const keyArn = () => ({ 'Fn::GetAtt': [messaging.getLogicalId(messaging.encryptionKey.node.defaultChild as any), 'Arn'] });

  it('is bound to the spec account and region, protected, and looks nothing up', () => {
    expect([messaging.stackName, messaging.account, messaging.region]).toEqual([`platform-${name}-messaging`, env.account, env.region]);
    expect(messaging.terminationProtection).toBe(true);
    expect(assembly.manifest.missing ?? []).toEqual([]);
    expect(messaging.topics).toEqual(kafka.topics);
  });

  it('runs one broker per AZ in the restricted subnets behind the restricted zone group', () => {
    const props = cluster()[1].Properties!;
    expect(props.KafkaVersion).toBe(kafka.version);
    expect(props.NumberOfBrokerNodes).toBe(kafka.brokersPerAz * env.availabilityZones.length);
    expect(props.NumberOfBrokerNodes).toBe(3);
    // MSK spreads brokers evenly over the client subnets: one subnet per AZ gives one broker per AZ.
    expectRestrictedSubnets(props.BrokerNodeGroupInfo.ClientSubnets, network);
    expectRestrictedSecurityGroup(props.BrokerNodeGroupInfo.SecurityGroups, network);
    expect(props.BrokerNodeGroupInfo).toMatchObject({
      InstanceType: env.messaging.brokerInstanceType,
      StorageInfo: { EBSStorageInfo: { VolumeSize: env.messaging.brokerStorageGiB } },
      ConnectivityInfo: { PublicAccess: { Type: 'DISABLED' } },
    });
    expect(ofType(template, 'AWS::EC2::SecurityGroupIngress')).toEqual([]);
  });

  it('authenticates clients with SASL/SCRAM and IAM only, over TLS only, and encrypts at rest with the CMK', () => {
    expect(cluster()[1].Properties).toMatchObject({
      ClientAuthentication: { Sasl: { Scram: { Enabled: true }, Iam: { Enabled: true } }, Unauthenticated: { Enabled: false } },
      EncryptionInfo: {
        EncryptionAtRest: { DataVolumeKMSKeyId: keyArn() },
        EncryptionInTransit: { ClientBroker: 'TLS', InCluster: true },
      },
    });
  });

  it('associates an AmazonMSK_ SCRAM secret encrypted with the MSK key', () => {
    const secretId = messaging.getLogicalId(messaging.scramSecret.node.defaultChild as any);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: `AmazonMSK_platform-${name}-${kafka.scramUsername}`,
      KmsKeyId: keyArn(),
      GenerateSecretString: { SecretStringTemplate: JSON.stringify({ username: kafka.scramUsername }), GenerateStringKey: 'password' },
    });
    template.hasResourceProperties('AWS::MSK::BatchScramSecret', {
      ClusterArn: { 'Fn::GetAtt': [cluster()[0], 'Arn'] },
      SecretArnList: [{ Ref: secretId }],
    });
  });

  it('applies a configuration with the spec broker properties', () => {
    const [[configId, config]] = ofType(template, 'AWS::MSK::Configuration');
    const lines = String(config.Properties!.ServerProperties).split('\n');
    expect(lines).toEqual(expect.arrayContaining([
      'auto.create.topics.enable=false',
      `min.insync.replicas=${kafka.minInsyncReplicas}`,
      `default.replication.factor=${kafka.defaultReplicationFactor}`,
    ]));
    expect(config.Properties!.KafkaVersionsList).toEqual([kafka.version]);
    expect(cluster()[1].Properties!.ConfigurationInfo).toEqual({
      Arn: { 'Fn::GetAtt': [configId, 'Arn'] }, Revision: { 'Fn::GetAtt': [configId, 'LatestRevision.Revision'] },
    });
  });

  it('sends broker logs to an encrypted, retained log group', () => {
    const [[logId, logGroup]] = ofType(template, 'AWS::Logs::LogGroup');
    expect(logGroup.Properties).toMatchObject({ RetentionInDays: env.messaging.logRetentionDays, KmsKeyId: keyArn() });
    expect(cluster()[1].Properties!.LoggingInfo).toEqual({ BrokerLogs: { CloudWatchLogs: { Enabled: true, LogGroup: { Ref: logId } } } });
  });

  it('keeps every stateful resource under a pinned logical id, retained', () => {
    expectStatefulResourcesPinned(template, STATEFUL);
    expect([cluster()[1].DeletionPolicy, cluster()[1].UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
  });

  it('matches the snapshot', () => {
    expect(normaliseTemplate(template.toJSON())).toMatchSnapshot();
  });
});
