import { CfnOutput } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as msk from 'aws-cdk-lib/aws-msk';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { DataKey } from '../constructs/shared/data-key';
import { KafkaCluster } from '../constructs/data/kafka-cluster';
import { KafkaTopics } from '../custom-resources/kafka-topics/topics-resource';
import { topicsFromSpec } from '../custom-resources/kafka-topics/topics';
import { resourceNames } from '../spec';
import type { KafkaTopicSpec } from '../spec';
import type { NetworkStack } from './network-stack';
import { PlatformStack } from './platform-stack';
import type { PlatformStackProps } from './platform-stack';
import { zoneSubnets } from '../constructs/network/zoned-vpc';


export interface MessagingStackProps extends PlatformStackProps {
  /** The environment's network: the brokers live in its restricted zone. */
  readonly network: Pick<NetworkStack, 'vpc' | 'zones'>;
}

/** The environment's Kafka (spec "Queue: Kafka"): Amazon MSK, and the topics the services use. */
export class MessagingStack extends PlatformStack {
  readonly encryptionKey: kms.Key;
  readonly cluster: msk.CfnCluster;
  readonly clusterArn: string;
  readonly scramSecret: secretsmanager.Secret;
  /** The topics of lib/spec; created and widened by `topicsResource` (docs/data-tier.md). */
  readonly topics: readonly KafkaTopicSpec[];
  /** `Custom::KafkaTopics`: the platform creates the topics, nobody does by hand. */
  readonly topicsResource: KafkaTopics;

  constructor(scope: Construct, id: string, props: MessagingStackProps) {
    const { network, ...stackProps } = props;
    super(scope, id, {
      description: `${props.spec.project} ${props.environment.name}: Amazon MSK cluster`,
      ...stackProps,
    });
    const { spec, environment } = props;
    const prefix = `${spec.project}-${environment.name}`;
    this.encryptionKey = new DataKey(this, 'KafkaKey', {
      alias: `${prefix}-kafka`,
      description: `${prefix}: MSK data at rest, SCRAM secret, broker logs`,
      forLogs: true,
    }).key;
    const kafka = new KafkaCluster(this, 'Kafka', {
      kafka: spec.dataTier.kafka,
      sizing: environment.messaging,
      clusterName: resourceNames(spec, environment).mskCluster,
      namePrefix: prefix,
      subnets: network.vpc.selectSubnets(zoneSubnets('restricted')),
      securityGroup: network.zones.restricted,
      encryptionKey: this.encryptionKey,
    });
    this.cluster = kafka.cluster;
    this.clusterArn = kafka.cluster.attrArn;
    this.scramSecret = kafka.scramSecret;
    this.topics = spec.dataTier.kafka.topics;
    this.topicsResource = new KafkaTopics(this, 'Topics', {
      namePrefix: prefix,
      topics: topicsFromSpec(spec),
      clusterArn: this.clusterArn,
      scramSecret: this.scramSecret,
      scramAssociation: kafka.scramSecretAssociation,
      vpc: network.vpc,
      // The private (workload) tier: a route to the AWS APIs through the NAT, and the brokers'
      // group admits it on the SASL/SCRAM port through the one rule KafkaTopics adds.
      subnets: zoneSubnets('private'),
      brokerSecurityGroup: network.zones.restricted,
      saslScramPort: spec.dataTier.kafka.saslScramPort,
      logsKey: this.encryptionKey,
      logRetentionDays: environment.messaging.logRetentionDays,
    });

    new CfnOutput(this, 'ClusterArn', { value: this.clusterArn });
    new CfnOutput(this, 'ScramSecretArn', { value: this.scramSecret.secretArn });
    new CfnOutput(this, 'BootstrapBrokersCommand', {
      description: 'Print the SASL/SCRAM and IAM bootstrap broker strings',
      value: `aws kafka get-bootstrap-brokers --region ${environment.region} --cluster-arn ${this.clusterArn}`,
    });
  }
}
