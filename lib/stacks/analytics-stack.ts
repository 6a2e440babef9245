import * as path from 'node:path';
import { CfnOutput, Fn } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { analyticsArtifactKey } from '../analytics/artifact';
import { acknowledge, acknowledgeDeployTimeFunction } from '../compliance';
import { DataKey } from '../constructs/shared/data-key';
import { FlinkApplication } from '../constructs/analytics/flink-application';
import { ServerlessWarehouse, warehouseUserSecret } from '../constructs/analytics/serverless-warehouse';
import { WarehouseSchema } from '../custom-resources/warehouse-schema/schema-resource';
import type { MessagingStack } from './messaging-stack';
import type { NetworkStack } from './network-stack';
import { PlatformStack } from './platform-stack';
import type { PlatformStackProps } from './platform-stack';
import type { RegistryStack } from './registry-stack';
import { zoneSubnets } from '../constructs/network/zoned-vpc';


/** The warehouse's SQL migrations (analytics/warehouse/migrations/NNN_*.sql), applied at deploy. */
export const WAREHOUSE_MIGRATIONS_DIR = path.resolve(__dirname, '..', '..', 'analytics', 'warehouse', 'migrations');

/** The IAM SASL login of MSK's client library (software.amazon.msk:aws-msk-iam-auth, in the jar). */
const MSK_IAM_CLIENT = {
  'security.protocol': 'SASL_SSL',
  'sasl.mechanism': 'AWS_MSK_IAM',
  'sasl.jaas.config': 'software.amazon.msk.auth.iam.IAMLoginModule required;',
  'sasl.client.callback.handler.class': 'software.amazon.msk.auth.iam.IAMClientCallbackHandler',
} as const;

export interface AnalyticsStackProps extends PlatformStackProps {
  readonly network: Pick<NetworkStack, 'vpc' | 'zones'>;
  /** The brokers and topics the job reads. */
  readonly messaging: Pick<MessagingStack, 'clusterArn' | 'topicsResource'>;
  /** The artifacts bucket the job's jar is published to (`npm run analytics:publish`). */
  readonly registry: Pick<RegistryStack, 'artifactsBucket' | 'artifactsKey'>;
}

/**
 * The spec's Data Flow "Analytics: Kafka -> Flink -> Data Warehouse" (docs/analytics.md): the
 * analytics job (analytics/) on Amazon Managed Service for Apache Flink in the private zone,
 * reading the order and payment events from MSK with IAM, writing aggregates to Amazon
 * Redshift Serverless in the restricted zone as a least-privilege user.
 */
export class AnalyticsStack extends PlatformStack {
  readonly encryptionKey: kms.Key;
  readonly warehouse: ServerlessWarehouse;
  /** {"username","password"} of the user the job writes as. */
  readonly writerSecret: secretsmanager.Secret;
  readonly job: FlinkApplication;
  /** Applies the migrations and keeps the writer user (Custom::WarehouseSchema). */
  readonly schema: WarehouseSchema;
  readonly jobSecurityGroup: ec2.SecurityGroup;
  /** The admin user's secret, created and rotated by Redshift (manageAdminPassword). */
  readonly adminSecretArn: string;

  constructor(scope: Construct, id: string, props: AnalyticsStackProps) {
    const { network, messaging, registry, ...stackProps } = props;
    super(scope, id, {
      description: `${props.spec.project} ${props.environment.name}: analytics (Managed Flink job, Redshift Serverless warehouse)`,
      ...stackProps,
    });
    const { spec, environment } = props;
    const { analytics } = spec;
    const envAnalytics = environment.analytics;
    const prefix = `${spec.project}-${environment.name}`;
    const warehousePort = analytics.warehouse.port;

    this.encryptionKey = new DataKey(this, 'WarehouseKey', {
      alias: `${prefix}-warehouse`,
      description: `${prefix}: Redshift Serverless data and snapshots, warehouse secrets`,
    }).key;

    // The job's network identity: out to the brokers (IAM port), the warehouse and the AWS APIs
    // (STS for the MSK IAM login, Secrets Manager) through the NAT; nothing may connect to it.
    this.jobSecurityGroup = new ec2.SecurityGroup(this, 'JobSecurityGroup', {
      vpc: network.vpc,
      description: 'private zone: the analytics Flink job (brokers, warehouse and AWS APIs only)',
      allowAllOutbound: false,
    });
    this.jobSecurityGroup.connections.allowTo(network.zones.restricted, ec2.Port.tcp(spec.dataTier.kafka.iamPort), 'analytics job to Kafka (IAM)');
    this.jobSecurityGroup.connections.allowTo(network.zones.restricted, ec2.Port.tcp(warehousePort), 'analytics job to the warehouse');
    this.jobSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs (STS, Secrets Manager) through the NAT');

    this.warehouse = new ServerlessWarehouse(this, 'Warehouse', {
      namespaceName: `${prefix}-analytics`,
      workgroupName: `${prefix}-analytics`,
      databaseName: analytics.warehouse.databaseName,
      adminUsername: analytics.warehouse.adminUsername,
      port: warehousePort,
      baseCapacityRpu: envAnalytics.warehouse.baseCapacityRpu,
      maxCapacityRpu: envAnalytics.warehouse.maxCapacityRpu,
      encryptionKey: this.encryptionKey,
      subnets: network.vpc.selectSubnets(zoneSubnets('restricted')),
      securityGroup: network.zones.restricted,
    });

    this.writerSecret = warehouseUserSecret(this, 'WriterSecret', {
      description: `${prefix}: warehouse user ${analytics.warehouse.writerUsername} (the analytics job)`,
      username: analytics.warehouse.writerUsername,
      encryptionKey: this.encryptionKey,
    });
    acknowledge(this.writerSecret, 'AwsSolutions-SMG4',
      'A new password reaches Redshift on the next deploy (the schema resource ALTERs the user from this secret), not by a rotation function: docs/analytics.md.');
    for (const ruleId of ['NIST.800.53.R5-SecretsManagerRotationEnabled', 'PCI.DSS.321-SecretsManagerRotationEnabled']) {
      acknowledge(this.writerSecret, ruleId,
        'A new password reaches Redshift on the next deploy (the schema resource ALTERs the user from this secret), not by a rotation function: docs/analytics.md.');
    }

    const flink = analytics.flink;
    this.job = new FlinkApplication(this, 'Job', {
      applicationName: `${prefix}-analytics`,
      runtime: flink.runtime,
      code: { bucket: registry.artifactsBucket, key: analyticsArtifactKey(), encryptionKey: registry.artifactsKey },
      propertyGroups: {
        kafka: {
          'bootstrap.servers': messaging.topicsResource.resource.getAttString('BootstrapBrokersSaslIam'),
          topics: flink.topics.join(','),
          'group.id': flink.consumerGroup,
          ...MSK_IAM_CLIENT,
        },
        warehouse: {
          // The Redshift driver verifies the workgroup's certificate (Amazon's CA, in the driver).
          'jdbc.url': `jdbc:redshift://${this.warehouse.endpointAddress}:${warehousePort}/${analytics.warehouse.databaseName}?ssl=true&sslmode=verify-full`,
          user: analytics.warehouse.writerUsername,
          'password.secret.arn': this.writerSecret.secretArn,
          schema: analytics.warehouse.schemaName,
        },
        job: {
          'dedup.retention.hours': String(flink.dedupRetentionHours),
          'watermark.max.out.of.orderness.seconds': String(flink.maxOutOfOrdernessSeconds),
          'watermark.idle.timeout.seconds': String(flink.idleTimeoutSeconds),
          'window.allowed.lateness.minutes': String(flink.allowedLatenessMinutes),
        },
      },
      parallelism: { initial: envAnalytics.flink.parallelism, perKpu: envAnalytics.flink.parallelismPerKpu, autoScaling: envAnalytics.flink.autoScaling },
      checkpoints: { intervalSeconds: flink.checkpointIntervalSeconds, minPauseSeconds: flink.minPauseBetweenCheckpointsSeconds },
      vpc: network.vpc,
      subnets: zoneSubnets('private'),
      securityGroup: this.jobSecurityGroup,
      logRetentionDays: envAnalytics.flink.logRetentionDays,
      logsKey: this.logsKey,
    });
    // Redshift keeps the admin password in a secret it manages and rotates (manageAdminPassword);
    // CloudFormation has no attribute for that secret's ARN, so one GetNamespace at deploy reads it
    // (through the stack's AwsCustomResource function, which the job's start created).
    const namespaceLookup = new cr.AwsCustomResource(this, 'WarehouseAdminSecretLookup', {
      onUpdate: {
        service: 'RedshiftServerless',
        action: 'GetNamespace',
        parameters: { namespaceName: this.warehouse.namespace.namespaceName },
        physicalResourceId: cr.PhysicalResourceId.of(`${prefix}-analytics/admin-secret`),
        outputPaths: ['namespace.adminPasswordSecretArn'],
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([new iam.PolicyStatement({
        actions: ['redshift-serverless:GetNamespace'],
        resources: [this.warehouse.namespace.attrNamespaceNamespaceArn],
      })]),
      installLatestAwsSdk: false,
      vpc: network.vpc,
      vpcSubnets: zoneSubnets('private'),
    });
    namespaceLookup.node.addDependency(this.warehouse.namespace);
    acknowledgeDeployTimeFunction(namespaceLookup);
    this.adminSecretArn = namespaceLookup.getResponseField('namespace.adminPasswordSecretArn');
    const adminSecret = secretsmanager.Secret.fromSecretCompleteArn(this, 'WarehouseAdminSecret', this.adminSecretArn);

    this.schema = new WarehouseSchema(this, 'WarehouseSchema', {
      namePrefix: prefix,
      workgroupName: this.warehouse.workgroup.workgroupName,
      workgroupArn: this.warehouse.workgroupArn,
      databaseName: analytics.warehouse.databaseName,
      schemaName: analytics.warehouse.schemaName,
      adminSecret: { secret: adminSecret, key: this.encryptionKey },
      writerSecret: { secret: this.writerSecret, key: this.encryptionKey },
      writerUsername: analytics.warehouse.writerUsername,
      migrationsDir: WAREHOUSE_MIGRATIONS_DIR,
      vpc: network.vpc,
      // Through the NAT to the Data API; the function never connects to the warehouse itself.
      subnets: zoneSubnets('private'),
      logsKey: this.logsKey,
      logRetentionDays: envAnalytics.flink.logRetentionDays,
      dependencies: [this.warehouse.workgroup],
    });

    this.grantTopicsRead(messaging.clusterArn, flink.topics, flink.consumerGroup);
    this.writerSecret.grantRead(this.job.role);
    // The job starts once its tables and its user exist.
    this.job.application.node.addDependency(this.schema.resource);

    new CfnOutput(this, 'ApplicationName', { value: this.job.application.ref });
    new CfnOutput(this, 'WarehouseEndpoint', { value: this.warehouse.endpointAddress });
    new CfnOutput(this, 'WriterSecretArn', { value: this.writerSecret.secretArn });
    new CfnOutput(this, 'AdminSecretArn', { description: 'Managed and rotated by Redshift', value: this.adminSecretArn });
  }

  /**
   * MSK IAM access control: connect to this cluster, read these topics, commit offsets of this
   * group, nothing else. Topic and group ARNs share the cluster ARN's name and UUID
   * (arn:...:cluster/<name>/<uuid> -> arn:...:topic/<name>/<uuid>/<topic>).
   */
  private grantTopicsRead(clusterArn: string, topics: readonly string[], group: string) {
    const parts = Fn.split('/', clusterArn, 3);
    const clusterName = Fn.select(1, parts);
    const clusterUuid = Fn.select(2, parts);
    const arnOf = (kind: 'topic' | 'group', name: string) =>
      `arn:${this.partition}:kafka:${this.region}:${this.account}:${kind}/${clusterName}/${clusterUuid}/${name}`;
    const role = this.job.role;
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ConnectToTheCluster',
      actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'],
      resources: [clusterArn],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ReadTheEventTopics',
      actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
      resources: topics.map((topic) => arnOf('topic', topic)),
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'CommitOffsetsOfItsGroup',
      actions: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'],
      resources: [arnOf('group', group)],
    }));
  }
}
