import type { CustomResource } from 'aws-cdk-lib';
import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { IConstruct } from 'constructs';
import { acknowledgeDeployTimeFunction } from '../../compliance';
import { addBundledProvider } from '../bundled-provider';
import type { ManagedTopic } from './topics';
import { toTopicProperty } from './topics';

/** What `resource.getAttString()` may read: MSK has no CloudFormation attribute for the brokers. */
export const TOPICS_RESOURCE_ATTRIBUTES = ['Topics', 'BootstrapBrokers', 'BootstrapBrokersSaslIam', 'Created', 'PartitionsIncreased', 'ConfigsUpdated'] as const;

export interface KafkaTopicsProps {
  /** `<project>-<env>`: names the functions and their log groups. */
  readonly namePrefix: string;
  readonly topics: readonly ManagedTopic[];
  readonly clusterArn: string;
  /** The SCRAM secret associated with the cluster; the handler reads it (and only it). */
  readonly scramSecret: secretsmanager.ISecret;
  /**
   * The SCRAM association: the handler's SCRAM login works only once it exists.
   */
  readonly scramAssociation: IConstruct;
  readonly vpc: ec2.IVpc;
  /** Where the functions run: subnets with a route to the AWS APIs (NAT) and to the brokers. */
  readonly subnets: ec2.SubnetSelection;
  /** The brokers' group: it gets one ingress rule, the SASL/SCRAM port from the handler's group. */
  readonly brokerSecurityGroup: ec2.ISecurityGroup;
  readonly saslScramPort: number;
  /** Encrypts the functions' log groups. */
  readonly logsKey: kms.IKey;
  readonly logRetentionDays: number;
}

/**
 * The platform's Kafka topics as a CloudFormation resource (`Custom::KafkaTopics`): a Lambda in
 * the VPC (behind aws-cdk-lib's custom-resource Provider) connects to the brokers over TLS with
 * SASL/SCRAM and creates or widens the topics of lib/spec. Deleting the resource or the stack
 * leaves the topics, and their data, in place.
 */
export class KafkaTopics extends Construct {
  readonly resource: CustomResource;
  readonly handler: lambda.Function;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: KafkaTopicsProps) {
    super(scope, id);
    const { namePrefix } = props;

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${namePrefix}: Kafka topics handler (brokers on SASL/SCRAM, AWS APIs on HTTPS)`,
      allowAllOutbound: false,
    });
    // Secrets Manager, MSK and Lambda APIs through the NAT (no interface endpoints for them).
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs over HTTPS');
    // Adds the egress rule here and the matching ingress rule on the brokers' group, both in this
    // stack: the only new path into the restricted zone, from this group, on this port.
    this.securityGroup.connections.allowTo(props.brokerSecurityGroup, ec2.Port.tcp(props.saslScramPort), 'Kafka topics handler to the brokers (SASL/SCRAM)');

    const { handler, framework, resource } = addBundledProvider(this, {
      functionName: `${namePrefix}-kafka-topics`,
      description: 'Creates the Kafka topics of lib/spec on the MSK cluster (custom resource)',
      bundleDir: __dirname,
      timeout: Duration.minutes(5),
      vpc: props.vpc,
      subnets: props.subnets,
      securityGroup: this.securityGroup,
      logsKey: props.logsKey,
      logRetentionDays: props.logRetentionDays,
      resourceType: 'Custom::KafkaTopics',
      properties: {
        ClusterArn: props.clusterArn,
        SecretArn: props.scramSecret.secretArn,
        Topics: props.topics.map(toTopicProperty),
        // The attributes the handler returns; listed so that adding one updates the resource
        // (CloudFormation re-invokes the handler only when a property changes).
        Attributes: [...TOPICS_RESOURCE_ATTRIBUTES],
      },
    });
    this.handler = handler;
    this.resource = resource;
    // Read of this one secret (and decrypt with its key, through Secrets Manager only).
    props.scramSecret.grantRead(this.handler);
    this.handler.addToRolePolicy(new iam.PolicyStatement({
      actions: ['kafka:GetBootstrapBrokers'],
      resources: [props.clusterArn],
    }));

    // SCRAM logins work once the secret is associated; the broker rule must exist before the call.
    this.resource.node.addDependency(props.scramAssociation, this.securityGroup);
    this.acknowledgeFindings([this.handler, framework]);
  }

  /** Findings on the two functions (and their roles): the handler and the provider's framework function. */
  private acknowledgeFindings(functions: IConstruct[]) {
    for (const fn of functions) {
      acknowledgeDeployTimeFunction(fn, {
        'AwsSolutions-IAM5[Resource::<TopicsHandler363E07A6.Arn>:*]':
          'The provider framework invokes any version of the handler function; the wildcard is the version suffix of that one ARN.',
      });
    }
  }
}
