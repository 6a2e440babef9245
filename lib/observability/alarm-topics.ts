import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { DataKey } from '../constructs/shared/data-key';
import { SEVERITIES } from '../spec';
import type { NotificationSubscription, ObservabilitySpec, Severity } from '../spec';

export interface AlarmTopicsProps {
  /** `<project>-<env>`: topic names are `<prefix>-alarms-<severity>`. */
  readonly namePrefix: string;
  readonly notifications: ObservabilitySpec['notifications'][string];
}

/**
 * One KMS-encrypted SNS topic per severity of one environment, subscribed from the spec:
 * CloudWatch alarms (AWS side) and Alertmanager (in-cluster) publish to the same two topics.
 */
export class AlarmTopics extends Construct {
  readonly key: kms.Key;
  readonly topics: Readonly<Record<Severity, sns.Topic>>;

  constructor(scope: Construct, id: string, props: AlarmTopicsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new DataKey(this, 'Key', {
      alias: `${props.namePrefix}-alarms`,
      description: `${props.namePrefix}: alarm notification topics`,
    }).key;
    // CloudWatch publishes alarm state changes to the encrypted topics as itself; only alarms of
    // this account may use the key for that.
    this.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsPublishToEncryptedTopics',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }));
    const topics = {} as Record<Severity, sns.Topic>;
    for (const severity of SEVERITIES) {
      const topic = new sns.Topic(this, severity === 'critical' ? 'Critical' : 'Warning', {
        topicName: `${props.namePrefix}-alarms-${severity}`,
        displayName: `${props.namePrefix} ${severity} alarms`,
        masterKey: this.key,
        enforceSSL: true,
      });
      for (const subscription of props.notifications[severity]) topic.addSubscription(subscriptionOf(subscription));
      topics[severity] = topic;
    }
    this.topics = topics;
  }
}

function subscriptionOf(s: NotificationSubscription): sns.ITopicSubscription {
  return s.kind === 'email'
    ? new subscriptions.EmailSubscription(s.endpoint)
    : new subscriptions.UrlSubscription(s.endpoint, { protocol: sns.SubscriptionProtocol.HTTPS });
}
