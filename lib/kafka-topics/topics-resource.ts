import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { AssetHashType, CustomResource, DockerImage, Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { IConstruct } from 'constructs';
import { acknowledge } from '../compliance';
import { RetainedLogGroup } from '../constructs/retained-log-group';
import type { ManagedTopic } from './topics';
import { toTopicProperty } from './topics';

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

/** Where bundle.mjs writes the handler; a local esbuild, no Docker (DESIGN.md §3). */
function bundledHandlerCode(): lambda.Code {
  const script = path.join(__dirname, 'bundle.mjs');
  return lambda.Code.fromAsset(__dirname, {
    // The bundle pulls in node_modules: hash what is shipped, not this folder.
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Only used if local bundling were declined; it never is (tryBundle fails loudly instead).
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22-alpine'),
      local: {
        tryBundle(outputDir: string) {
          const run = spawnSync(process.execPath, [script, outputDir], { stdio: ['ignore', 'inherit', 'inherit'] });
          if (run.status !== 0) throw new Error(`bundling ${script} failed (exit ${run.status ?? run.signal})`);
          return true;
        },
      },
    },
  });
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

    const handlerName = `${namePrefix}-kafka-topics`;
    const providerName = `${namePrefix}-kafka-topics-provider`;
    const logGroup = (logId: string, functionName: string) => new RetainedLogGroup(this, logId, {
      logGroupName: `/aws/lambda/${functionName}`,
      retentionDays: props.logRetentionDays,
      encryptionKey: props.logsKey,
    }).logGroup;

    this.handler = new lambda.Function(this, 'Handler', {
      functionName: handlerName,
      description: 'Creates the Kafka topics of lib/spec on the MSK cluster (custom resource)',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      code: bundledHandlerCode(),
      handler: 'index.handler',
      memorySize: 256,
      timeout: Duration.minutes(5),
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      logGroup: logGroup('HandlerLogs', handlerName),
    });
    // Read of this one secret (and decrypt with its key, through Secrets Manager only).
    props.scramSecret.grantRead(this.handler);
    this.handler.addToRolePolicy(new iam.PolicyStatement({
      actions: ['kafka:GetBootstrapBrokers'],
      resources: [props.clusterArn],
    }));

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.handler,
      providerFunctionName: providerName,
      logGroup: logGroup('ProviderLogs', providerName),
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
    });

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::KafkaTopics',
      properties: {
        ClusterArn: props.clusterArn,
        SecretArn: props.scramSecret.secretArn,
        Topics: props.topics.map(toTopicProperty),
      },
    });
    // SCRAM logins work once the secret is associated; the broker rule must exist before the call.
    this.resource.node.addDependency(props.scramAssociation, this.securityGroup);
    this.acknowledgeFindings([this.handler, provider.node.findChild('framework-onEvent')]);
  }

  /** Findings on the two functions (and their roles): the handler and the provider's framework function. */
  private acknowledgeFindings(functions: IConstruct[]) {
    const findings: Record<string, string> = {
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
        'The functions write their own logs; AWSLambdaBasicExecutionRole is the standard minimal policy for that.',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]':
        'The functions run in the private subnets to reach the brokers; this is the AWS policy for a VPC-attached function\'s network interfaces.',
      'AwsSolutions-IAM5[Resource::<TopicsHandler363E07A6.Arn>:*]':
        'The provider framework invokes any version of the handler function; the wildcard is the version suffix of that one ARN.',
      'PCI.DSS.321-IAMNoInlinePolicy':
        'aws-cdk-lib writes each function\'s grants (this secret, this cluster, invoking this handler) as an inline policy of its own role, used by that function only.',
      'NIST.800.53.R5-IAMNoInlinePolicy':
        'aws-cdk-lib writes each function\'s grants (this secret, this cluster, invoking this handler) as an inline policy of its own role, used by that function only.',
      'NIST.800.53.R5-LambdaConcurrency':
        'Invoked only by CloudFormation during a deploy of this stack, one call at a time; a reservation would only idle capacity.',
      'NIST.800.53.R5-LambdaDLQ':
        'Invoked synchronously by the custom-resource framework, which reports failures to CloudFormation and rolls back; there is no async event to dead-letter.',
      'checkov:CKV_AWS_115':
        'Invoked only by CloudFormation during a deploy of this stack, one call at a time; a reservation would only idle capacity.',
      'checkov:CKV_AWS_116':
        'Invoked synchronously by the custom-resource framework, which reports failures to CloudFormation and rolls back; there is no async event to dead-letter.',
      'cfn-lint:W3005':
        'aws-cdk-lib renders an explicit DependsOn on the function\'s role beside the GetAtt; redundant but harmless, and not ours to edit.',
      'checkov:CKV_AWS_173':
        'The environments hold no secret (the provider\'s holds only the handler\'s ARN); Lambda encrypts them at rest with its service key.',
    };
    for (const fn of functions) {
      for (const [id, reason] of Object.entries(findings)) acknowledge(fn, id, reason);
    }
  }
}
