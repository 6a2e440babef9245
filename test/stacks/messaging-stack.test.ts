import { Template } from 'aws-cdk-lib/assertions';
import { kafkaServerProperties } from '../../lib/constructs/data/kafka-cluster';
import { topicsFromSpec } from '../../lib/custom-resources/kafka-topics/topics';
import { ENVIRONMENT_NAMES } from '../../lib/spec';
import type { EnvironmentName } from '../../lib/spec';
import {
  buildDataTier, expectRestrictedSecurityGroup, expectRestrictedSubnets, expectStatefulResourcesPinned, isNetworkReference, ofType,
  restrictedZoneIds,
} from '../helpers/data-tier-stacks';
import { normaliseTemplate } from '../helpers/normalise-template';
import { zoneSubnets } from '../../lib/constructs/network/zoned-vpc';

const { spec, envs } = buildDataTier();
const templates = Object.fromEntries(ENVIRONMENT_NAMES.map((n) => [n, Template.fromStack(envs[n].messaging)])) as Record<EnvironmentName, Template>;

/** Item 6: the same ids in both environments. */
const STATEFUL = [
  ['KafkaKeyB520D703', 'AWS::KMS::Key'],
  ['KafkaBrokerLogsLogGroup30764B14', 'AWS::Logs::LogGroup'],
  ['KafkaCluster21A1BE89', 'AWS::MSK::Cluster'],
  ['KafkaScramSecretFB545E5F', 'AWS::SecretsManager::Secret'],
  ['TopicsHandlerLogsLogGroup5E0E8F3C', 'AWS::Logs::LogGroup'],
  ['TopicsProviderLogsLogGroup959FF3DD', 'AWS::Logs::LogGroup'],
] as const;

describe('the spec fixes the broker settings and topics', () => {
  it('asks for explicit topics, three copies and two in sync', () => {
    expect(kafkaServerProperties(spec.dataTier.kafka)).toMatchObject({
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
    // The one rule this stack adds to the brokers' group is the topics handler's (below).
    expect(ofType(template, 'AWS::EC2::SecurityGroupIngress')).toHaveLength(1);
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
    const [[logId, logGroup]] = ofType(template, 'AWS::Logs::LogGroup').filter(([id]) => id.startsWith('KafkaBrokerLogs'));
    expect(logGroup.Properties).toMatchObject({ RetentionInDays: env.messaging.logRetentionDays, KmsKeyId: keyArn() });
    expect(cluster()[1].Properties!.LoggingInfo).toEqual({ BrokerLogs: { CloudWatchLogs: { Enabled: true, LogGroup: { Ref: logId } } } });
  });

  describe('Custom::KafkaTopics (the platform creates the topics)', () => {
    const topicsResource = () => ofType(template, 'Custom::KafkaTopics');
    const id = (c: any) => messaging.getLogicalId(c.node.defaultChild);
    const handlerId = () => id(messaging.topicsResource.handler);
    const sgId = () => id(messaging.topicsResource.securityGroup);
    const functions = () => ofType(template, 'AWS::Lambda::Function');

    it('creates the spec topics with its partitions, replication factor, retention and min.insync.replicas', () => {
      expect(topicsResource()).toHaveLength(1);
      const [, resource] = topicsResource()[0];
      expect(resource.Properties!.Topics).toEqual(kafka.topics.map((t) => ({
        Name: t.name,
        Partitions: t.partitions,
        ReplicationFactor: kafka.defaultReplicationFactor,
        Configs: { 'retention.ms': String(t.retentionHours * 60 * 60 * 1000), 'min.insync.replicas': String(kafka.minInsyncReplicas) },
      })));
      expect(resource.Properties!.Topics.map((t: any) => t.Name)).toContain('order-events');
      expect(topicsFromSpec(spec).map((t) => t.name)).toEqual(kafka.topics.map((t) => t.name));
      expect(resource.Properties).toMatchObject({
        ClusterArn: { 'Fn::GetAtt': [cluster()[0], 'Arn'] },
        SecretArn: { Ref: messaging.getLogicalId(messaging.scramSecret.node.defaultChild as any) },
      });
      // SCRAM works only once the secret is associated; the broker rule must exist before the call.
      const dependsOn = (resource as any).DependsOn as string[];
      expect(dependsOn).toEqual(expect.arrayContaining([
        ofType(template, 'AWS::MSK::BatchScramSecret')[0][0], ofType(template, 'AWS::EC2::SecurityGroupIngress')[0][0],
      ]));
    });

    it('runs the handler on Node 24 in the private subnets, behind its own group, and the provider too', () => {
      expect(functions()).toHaveLength(2);
      const privateSubnets = network.vpc.selectSubnets(zoneSubnets('private')).subnets
        .map((s) => network.getLogicalId(s.node.defaultChild as any));
      for (const [, fn] of functions()) {
        const vpc = fn.Properties!.VpcConfig;
        expect(vpc.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [sgId(), 'GroupId'] }]);
        expect(vpc.SubnetIds).toHaveLength(privateSubnets.length);
        for (const subnet of privateSubnets) expect(vpc.SubnetIds.filter((v: any) => isNetworkReference(v, network, subnet))).toHaveLength(1);
      }
      const handler = template.toJSON().Resources[handlerId()];
      expect(handler.Properties).toMatchObject({ Runtime: 'nodejs24.x', Handler: 'index.handler', FunctionName: `platform-${name}-kafka-topics` });
    });

    it('opens exactly one path into the restricted zone: SASL/SCRAM from the handler group', () => {
      const [[, ingress]] = ofType(template, 'AWS::EC2::SecurityGroupIngress');
      expect(ingress.Properties).toMatchObject({
        IpProtocol: 'tcp', FromPort: kafka.saslScramPort, ToPort: kafka.saslScramPort,
        SourceSecurityGroupId: { 'Fn::GetAtt': [sgId(), 'GroupId'] },
      });
      expect(isNetworkReference(ingress.Properties!.GroupId, network, restrictedZoneIds(network).securityGroup)).toBe(true);
      const [[, egress]] = ofType(template, 'AWS::EC2::SecurityGroupEgress');
      expect(egress.Properties).toMatchObject({ IpProtocol: 'tcp', FromPort: kafka.saslScramPort, ToPort: kafka.saslScramPort });
      expect(isNetworkReference(egress.Properties!.DestinationSecurityGroupId, network, restrictedZoneIds(network).securityGroup)).toBe(true);
      const group = template.toJSON().Resources[sgId()];
      expect(group.Properties.SecurityGroupEgress).toEqual([
        { CidrIp: '0.0.0.0/0', Description: 'AWS APIs over HTTPS', FromPort: 443, IpProtocol: 'tcp', ToPort: 443 },
      ]);
      expect(group.Properties.SecurityGroupIngress).toBeUndefined();
    });

    it('lets the handler read only the SCRAM secret, decrypt only through Secrets Manager, and get only this cluster\'s brokers', () => {
      const roleId = id(messaging.topicsResource.handler.role);
      const policies = ofType(template, 'AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p.Properties!.Roles) === JSON.stringify([{ Ref: roleId }]));
      expect(policies).toHaveLength(1);
      expect(policies[0][1].Properties!.PolicyDocument.Statement).toEqual([
        { Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Effect: 'Allow', Resource: { Ref: messaging.getLogicalId(messaging.scramSecret.node.defaultChild as any) } },
        { Action: 'kafka:GetBootstrapBrokers', Effect: 'Allow', Resource: { 'Fn::GetAtt': [cluster()[0], 'Arn'] } },
      ]);
      const [[, key]] = ofType(template, 'AWS::KMS::Key');
      const grants = key.Properties!.KeyPolicy.Statement.filter((st: any) => JSON.stringify(st.Principal).includes(roleId));
      expect(grants).toEqual([{
        Action: 'kms:Decrypt', Effect: 'Allow', Resource: '*',
        Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${env.region}.amazonaws.com` } },
        Principal: { AWS: { 'Fn::GetAtt': [roleId, 'Arn'] } },
      }]);
    });

    it('logs both functions to encrypted, retained log groups with the stack retention', () => {
      for (const [, fn] of functions()) {
        const logId = fn.Properties!.LoggingConfig.LogGroup.Ref;
        const logGroup = template.toJSON().Resources[logId];
        expect(logGroup).toMatchObject({
          Type: 'AWS::Logs::LogGroup', DeletionPolicy: 'Retain',
          Properties: { RetentionInDays: env.messaging.logRetentionDays, KmsKeyId: keyArn() },
        });
      }
    });
  });

  it('keeps every stateful resource under a pinned logical id, retained', () => {
    expectStatefulResourcesPinned(template, STATEFUL);
    expect([cluster()[1].DeletionPolicy, cluster()[1].UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
  });

  it('matches the snapshot', () => {
    expect(normaliseTemplate(template.toJSON())).toMatchSnapshot();
  });
});
