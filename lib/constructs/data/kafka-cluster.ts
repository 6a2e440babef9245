import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as msk from 'aws-cdk-lib/aws-msk';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { EnvironmentSpec, PlatformSpec } from '../../spec';
import { RetainedLogGroup } from '../shared/retained-log-group';
import { invalidProp } from '../shared/validation';

type KafkaSpec = PlatformSpec['dataTier']['kafka'];

export interface KafkaClusterProps {
  /** Version, brokers per AZ, replication, SCRAM user, the same in every environment (`dataTier.kafka`). */
  readonly kafka: KafkaSpec;
  /** This environment's broker type, storage and log retention (`environments.<env>.messaging`). */
  readonly sizing: EnvironmentSpec['messaging'];
  /** Physical cluster name (lib/spec/names.ts: the ops CLI finds the cluster by it). */
  readonly clusterName: string;
  /** Prefix of the configuration, broker log group and SCRAM secret names, e.g. platform-production. */
  readonly namePrefix: string;
  /** The restricted zone's subnets, one per AZ: brokers are spread evenly over them. */
  readonly subnets: ec2.SelectedSubnets;
  /** The restricted zone's group: it already admits 9096 (SCRAM) and 9098 (IAM) from workloads and bastion. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** MSK-dedicated key: data at rest, the SCRAM secret (MSK rejects the default Secrets Manager key) and the broker logs. */
  readonly encryptionKey: kms.IKey;
}

/** The broker properties the spec fixes: no topic appears by accident, and acks=all means two copies. */
export function kafkaServerProperties(kafka: KafkaSpec): Record<string, string> {
  return {
    'auto.create.topics.enable': 'false',
    'default.replication.factor': String(kafka.defaultReplicationFactor),
    'min.insync.replicas': String(kafka.minInsyncReplicas),
    // A lagging replica must never become leader: that would silently drop acknowledged events.
    'unclean.leader.election.enable': 'false',
  };
}

/**
 * Amazon MSK (provisioned, KRaft): brokers spread over the restricted subnets, TLS only, SASL/SCRAM
 * and IAM client authentication, KMS at rest, broker logs to CloudWatch.
 */
export class KafkaCluster extends Construct {
  readonly cluster: msk.CfnCluster;
  readonly configuration: msk.CfnConfiguration;
  /** The SCRAM credentials of `dataTier.kafka.scramUsername` ({"username","password"}). */
  readonly scramSecret: secretsmanager.Secret;
  /** Associates `scramSecret` with the cluster: whatever logs in with it waits for this. */
  readonly scramSecretAssociation: msk.CfnBatchScramSecret;

  constructor(scope: Construct, id: string, props: KafkaClusterProps) {
    super(scope, id);
    const { kafka, sizing, encryptionKey } = props;
    const name = props.namePrefix;
    const subnetCount = props.subnets.subnetIds.length;
    if (subnetCount < 2 || subnetCount > 3) {
      invalidProp(this, 'subnets', `has ${subnetCount} subnet${subnetCount === 1 ? '' : 's'}: MSK spreads the brokers over 2 or 3 client subnets in distinct AZs`);
    }

    this.configuration = new msk.CfnConfiguration(this, 'Configuration', {
      name: `${name}-kafka`,
      description: 'Topics are created from lib/spec only; replication and durability from lib/spec',
      kafkaVersionsList: [kafka.version],
      serverProperties: Object.entries(kafkaServerProperties(kafka)).map(([k, v]) => `${k}=${v}`).join('\n'),
    });
    // The cluster is retained on delete and keeps pointing at its configuration.
    this.configuration.applyRemovalPolicy(RemovalPolicy.RETAIN);

    const brokerLogs = new RetainedLogGroup(this, 'BrokerLogs', {
      logGroupName: `/aws/msk/${name}/broker`,
      retentionDays: sizing.logRetentionDays,
      encryptionKey,
    }).logGroup;

    this.cluster = new msk.CfnCluster(this, 'Cluster', {
      clusterName: props.clusterName,
      kafkaVersion: kafka.version,
      numberOfBrokerNodes: kafka.brokersPerAz * props.subnets.subnetIds.length,
      brokerNodeGroupInfo: {
        instanceType: sizing.brokerInstanceType,
        clientSubnets: props.subnets.subnetIds,
        securityGroups: [props.securityGroup.securityGroupId],
        storageInfo: { ebsStorageInfo: { volumeSize: sizing.brokerStorageGiB } },
        connectivityInfo: { publicAccess: { type: 'DISABLED' } },
      },
      clientAuthentication: {
        sasl: { scram: { enabled: true }, iam: { enabled: true } },
        unauthenticated: { enabled: false },
      },
      encryptionInfo: {
        encryptionAtRest: { dataVolumeKmsKeyId: encryptionKey.keyArn },
        encryptionInTransit: { clientBroker: 'TLS', inCluster: true },
      },
      configurationInfo: { arn: this.configuration.attrArn, revision: this.configuration.attrLatestRevisionRevision },
      loggingInfo: { brokerLogs: { cloudWatchLogs: { enabled: true, logGroup: brokerLogs.logGroupName } } },
      enhancedMonitoring: 'PER_BROKER',
    });
    // MSK has no final snapshot: the cluster (and its data volumes) stay until deleted by hand.
    this.cluster.applyRemovalPolicy(RemovalPolicy.RETAIN);

    this.scramSecret = new secretsmanager.Secret(this, 'ScramSecret', {
      // MSK only associates secrets whose name starts with AmazonMSK_.
      secretName: `AmazonMSK_${name}-${kafka.scramUsername}`,
      description: `${name}: SASL/SCRAM credentials of ${kafka.scramUsername}`,
      encryptionKey,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: kafka.scramUsername }),
        generateStringKey: 'password',
        passwordLength: 48,
        excludePunctuation: true,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const ruleId of ['AwsSolutions-SMG4', 'NIST.800.53.R5-SecretsManagerRotationEnabled']) {
      Validations.of(this.scramSecret).acknowledge({
        id: ruleId,
        reason: 'SCRAM credentials are rotated by the documented runbook (docs/data-tier.md): services move to IAM auth or a second user first; a rotation Lambda would need a new network path into the restricted zone.',
      });
    }
    this.scramSecretAssociation = new msk.CfnBatchScramSecret(this, 'ScramSecretAssociation', {
      clusterArn: this.cluster.attrArn,
      secretArnList: [this.scramSecret.secretArn],
    });
  }
}
