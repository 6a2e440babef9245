import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { analyticsArtifactKey, analyticsSourceHash, artifactsBucketName } from '../../lib/analytics/artifact';
import { ENVIRONMENT_NAMES, loadPlatformSpec } from '../../lib/spec';
import type { EnvironmentName } from '../../lib/spec';
import { AnalyticsStack, WAREHOUSE_MIGRATIONS_DIR } from '../../lib/stacks/analytics-stack';
import { MessagingStack } from '../../lib/stacks/messaging-stack';
import { NetworkStack } from '../../lib/stacks/network-stack';
import { RegistryStack } from '../../lib/stacks/registry-stack';
import { testApp } from '../helpers/app';
import { normaliseTemplate } from '../helpers/normalise-template';
import {
  expectRestrictedSecurityGroup, expectRestrictedSubnets, expectStatefulResourcesPinned, isNetworkReference, ofType,
} from '../helpers/data-tier-stacks';
import { zoneSubnets } from '../../lib/constructs/network/zoned-vpc';

const spec = loadPlatformSpec();
const app = testApp();
const envs = Object.fromEntries(ENVIRONMENT_NAMES.map((name) => {
  const environment = spec.environments[name];
  const stage = new Stage(app, name);
  const network = new NetworkStack(stage, 'Network', { spec, environment });
  const messaging = new MessagingStack(stage, 'Messaging', { spec, environment, network });
  const registry = new RegistryStack(stage, 'Registry', { spec, environment });
  const analytics = new AnalyticsStack(stage, 'Analytics', { spec, environment, network, messaging, registry });
  return [name, { stage, network, messaging, registry, analytics }];
})) as Record<EnvironmentName, { stage: Stage; network: NetworkStack; messaging: MessagingStack; registry: RegistryStack; analytics: AnalyticsStack }>;
const assemblies = Object.fromEntries(ENVIRONMENT_NAMES.map((name) => [name, envs[name].stage.synth()]));

/** The same ids in both environments: a new id is a replacement (the data is gone). */
const STATEFUL = [
  ['WarehouseKey599C76DF', 'AWS::KMS::Key'],
  ['WarehouseNamespace78ED5B58', 'AWS::RedshiftServerless::Namespace'],
  ['WriterSecret4C3EB24E', 'AWS::SecretsManager::Secret'],
  ['LogEncryptionKeyA864C340', 'AWS::KMS::Key'],
  ['JobLogsLogGroup427CB44C', 'AWS::Logs::LogGroup'],
  ['JobStartLogsLogGroup0AF4101E', 'AWS::Logs::LogGroup'],
  ['WarehouseSchemaHandlerLogsLogGroup987FF114', 'AWS::Logs::LogGroup'],
  ['WarehouseSchemaProviderLogsLogGroup10E58CA5', 'AWS::Logs::LogGroup'],
] as const;

/** Every statement of every IAM policy of the template, flattened. */
function statements(template: Template): any[] {
  return ofType(template, 'AWS::IAM::Policy').flatMap(([, p]) => p.Properties!.PolicyDocument.Statement);
}

describe.each(ENVIRONMENT_NAMES)('%s analytics', (name) => {
  const environment = spec.environments[name];
  const { analytics, network, messaging, registry } = envs[name];
  const template = Template.fromStack(analytics);
  const app_ = () => ofType(template, 'AWS::KinesisAnalyticsV2::Application')[0]![1].Properties!;
  const logicalId = (construct: { node: { defaultChild?: unknown } }) => analytics.getLogicalId(construct.node.defaultChild as any);

  it('is bound to the spec account and region, protected, and looks nothing up', () => {
    expect([analytics.stackName, analytics.account, analytics.region]).toEqual([`platform-${name}-analytics`, environment.account, environment.region]);
    expect(analytics.terminationProtection).toBe(true);
    expect(assemblies[name]!.manifest.missing ?? []).toEqual([]);
  });

  it('runs the job on the spec\'s Managed Flink runtime, from the jar the publish script uploads', () => {
    const props = app_();
    expect(props.RuntimeEnvironment).toBe(spec.analytics.flink.runtime);
    const code = props.ApplicationConfiguration.ApplicationCodeConfiguration;
    expect(code.CodeContentType).toBe('ZIPFILE');
    expect(code.CodeContent.S3ContentLocation.FileKey).toBe(analyticsArtifactKey());
    // The bucket is the registry stack's (named as scripts/analytics/publish.ts names it, below).
    expect(JSON.stringify(code.CodeContent.S3ContentLocation.BucketARN)).toContain(`platform-${name}-registry`);
    expect(JSON.stringify(code.CodeContent.S3ContentLocation.BucketARN)).toContain(registry.getLogicalId(registry.artifactsBucket.node.defaultChild as any));
  });

  it('checkpoints, snapshots, scales and reports as the spec says', () => {
    const config = app_().ApplicationConfiguration;
    expect(config.FlinkApplicationConfiguration).toEqual({
      CheckpointConfiguration: {
        ConfigurationType: 'CUSTOM', CheckpointingEnabled: true,
        CheckpointInterval: spec.analytics.flink.checkpointIntervalSeconds * 1000,
        MinPauseBetweenCheckpoints: spec.analytics.flink.minPauseBetweenCheckpointsSeconds * 1000,
      },
      ParallelismConfiguration: {
        ConfigurationType: 'CUSTOM', Parallelism: environment.analytics.flink.parallelism,
        ParallelismPerKPU: environment.analytics.flink.parallelismPerKpu, AutoScalingEnabled: environment.analytics.flink.autoScaling,
      },
      MonitoringConfiguration: { ConfigurationType: 'CUSTOM', LogLevel: 'INFO', MetricsLevel: 'OPERATOR' },
    });
    expect(config.ApplicationSnapshotConfiguration).toEqual({ SnapshotsEnabled: true });
    const logging = ofType(template, 'AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption');
    expect(logging).toHaveLength(1);
    expect(JSON.stringify(logging[0]![1].Properties)).toContain(':log-stream:');
    template.hasResourceProperties('AWS::Logs::LogStream', { LogStreamName: 'application' });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: `/aws/kinesis-analytics/platform-${name}-analytics`, RetentionInDays: environment.analytics.flink.logRetentionDays,
    });
  });

  it('applies the warehouse migrations of the repository before the job starts', () => {
    const [id, schema] = ofType(template, 'Custom::WarehouseSchema')[0]!;
    const files = fs.readdirSync(WAREHOUSE_MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort();
    expect(schema.Properties!.Migrations.map((m: { Version: string; Name: string }) => `${m.Version}_${m.Name}.sql`)).toEqual(files);
    expect(schema.Properties!).toMatchObject({
      Database: spec.analytics.warehouse.databaseName, SchemaName: spec.analytics.warehouse.schemaName,
      WriterUsername: spec.analytics.warehouse.writerUsername,
    });
    const [, application] = ofType(template, 'AWS::KinesisAnalyticsV2::Application')[0]!;
    expect((application as { DependsOn?: string[] }).DependsOn).toContain(id);
  });

  it('is started by the deploy that creates it, restoring the latest snapshot', () => {
    const [, start] = ofType(template, 'Custom::AWS')[0]!;
    const create = JSON.parse(JSON.stringify(start.Properties!.Create));
    expect(JSON.stringify(create)).toContain('StartApplication');
    expect(JSON.stringify(create)).toContain('RESTORE_FROM_LATEST_SNAPSHOT');
    expect(start.Properties!.Update).toBeUndefined();
  });

  it('reads the order and payment topics from MSK with IAM, via the brokers the topics resource reports', () => {
    const groups = Object.fromEntries(app_().ApplicationConfiguration.EnvironmentProperties.PropertyGroups
      .map((g: any) => [g.PropertyGroupId, g.PropertyMap]));
    expect(Object.keys(groups).sort()).toEqual(['job', 'kafka', 'warehouse']);
    expect(groups.kafka).toMatchObject({
      topics: 'order-events,payment-events',
      'group.id': spec.analytics.flink.consumerGroup,
      'security.protocol': 'SASL_SSL',
      'sasl.mechanism': 'AWS_MSK_IAM',
      'sasl.jaas.config': 'software.amazon.msk.auth.iam.IAMLoginModule required;',
    });
    const brokers = groups.kafka['bootstrap.servers'];
    expect(brokers['Fn::GetStackOutput'].StackName).toBe(messaging.stackName);
    expect(brokers['Fn::GetStackOutput'].OutputName).toMatch(/BootstrapBrokersSaslIam/);
    expect(groups.job).toEqual({
      'dedup.retention.hours': String(spec.analytics.flink.dedupRetentionHours),
      'watermark.max.out.of.orderness.seconds': String(spec.analytics.flink.maxOutOfOrdernessSeconds),
      'watermark.idle.timeout.seconds': String(spec.analytics.flink.idleTimeoutSeconds),
      'window.allowed.lateness.minutes': String(spec.analytics.flink.allowedLatenessMinutes),
    });
    expect(groups.warehouse).toMatchObject({ user: spec.analytics.warehouse.writerUsername, schema: spec.analytics.warehouse.schemaName });
    expect(JSON.stringify(groups.warehouse['jdbc.url'])).toMatch(/jdbc:redshift:\/\/.*:5439\/analytics\?ssl=true&sslmode=verify-full/);
    expect(analytics.resolve(groups.warehouse['password.secret.arn'])).toEqual({ Ref: logicalId(analytics.writerSecret) });
  });

  it('lets the job read exactly its topics and commit its own group, and nothing else on the cluster', () => {
    const kafka = statements(template).filter((s) => [s.Action].flat().some((a: string) => a.startsWith('kafka-cluster:')));
    const bySid = Object.fromEntries(kafka.map((s) => [s.Sid, s]));
    expect(Object.keys(bySid).sort()).toEqual(['CommitOffsetsOfItsGroup', 'ConnectToTheCluster', 'ReadTheEventTopics']);
    expect(bySid.ConnectToTheCluster.Action).toEqual(['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster']);
    expect(bySid.ReadTheEventTopics.Action).toEqual(['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData']);
    expect(bySid.CommitOffsetsOfItsGroup.Action).toEqual(['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup']);
    const text = JSON.stringify(bySid.ReadTheEventTopics.Resource);
    expect(bySid.ReadTheEventTopics.Resource).toHaveLength(2);
    expect(text).toContain(':topic/');
    for (const topic of spec.analytics.flink.topics) expect(text).toContain(`/${topic}`);
    expect(JSON.stringify(bySid.CommitOffsetsOfItsGroup.Resource)).toContain(`/${spec.analytics.flink.consumerGroup}`);
    // Never a wildcard action or resource on the cluster, never a write.
    expect(JSON.stringify(kafka)).not.toMatch(/kafka-cluster:\*|WriteData|CreateTopic|"\*"/);
  });

  it('gives the job role its jar, its log stream and the writer secret, not the admin secret', () => {
    const all = statements(template);
    const role = ofType(template, 'AWS::IAM::Role').find(([id]) => id.startsWith('JobRole'))![1];
    expect(role.Properties!.AssumeRolePolicyDocument.Statement).toEqual([expect.objectContaining({
      Principal: { Service: 'kinesisanalytics.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': environment.account } },
    })]);
    const jar = all.find((s) => s.Sid === 'ReadTheJar');
    expect(jar.Action).toEqual(['s3:GetObject', 's3:GetObjectVersion']);
    expect(JSON.stringify(jar.Resource)).toContain(`/${analyticsArtifactKey()}`);
    const jobPolicy = ofType(template, 'AWS::IAM::Policy').find(([id]) => id.startsWith('JobRoleDefaultPolicy'))![1];
    const jobSecretReads = jobPolicy.Properties!.PolicyDocument.Statement.filter((s: any) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
    expect(jobSecretReads.map((s: any) => s.Resource)).toEqual([{ Ref: logicalId(analytics.writerSecret) }]);
    // Only the deploy-time schema function reads the admin secret (Redshift's, found at deploy).
    const adminReaders = ofType(template, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties!.PolicyDocument).includes('namespace.adminPasswordSecretArn'))
      .map(([id]) => id);
    expect(adminReaders).toHaveLength(1);
    expect(adminReaders[0]).toMatch(/^WarehouseSchemaHandler/);
  });

  it('runs the job in the private subnets behind its own group: out to brokers, warehouse and HTTPS only', () => {
    const vpc = app_().ApplicationConfiguration.VpcConfigurations;
    expect(vpc).toHaveLength(1);
    const privateIds = network.vpc.selectSubnets(zoneSubnets('private')).subnets.map((s) => network.getLogicalId(s.node.defaultChild as any));
    expect(vpc[0].SubnetIds).toHaveLength(privateIds.length);
    for (const id of privateIds) expect(vpc[0].SubnetIds.filter((v: any) => isNetworkReference(v, network, id))).toHaveLength(1);
    expect(vpc[0].SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [logicalId(analytics.jobSecurityGroup), 'GroupId'] }]);

    const group = ofType(template, 'AWS::EC2::SecurityGroup').find(([id]) => id.startsWith('JobSecurityGroup'))![1];
    expect(group.Properties!.SecurityGroupIngress).toBeUndefined();
    expect(group.Properties!.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443, IpProtocol: 'tcp' })]);
    const ports = (type: string) => ofType(template, type).filter(([id]) => id.startsWith('JobSecurityGroup')).map(([, r]) => r.Properties!.FromPort).sort();
    const expected = [spec.analytics.warehouse.port, spec.dataTier.kafka.iamPort].sort();
    expect(ports('AWS::EC2::SecurityGroupEgress')).toEqual(expected);
    expect(ports('AWS::EC2::SecurityGroupIngress')).toEqual(expected);
    for (const [, rule] of ofType(template, 'AWS::EC2::SecurityGroupIngress')) {
      expectRestrictedSecurityGroup([rule.Properties!.GroupId], network);
      expect(rule.Properties!.SourceSecurityGroupId).toEqual({ 'Fn::GetAtt': [logicalId(analytics.jobSecurityGroup), 'GroupId'] });
    }
  });

  it('keeps the warehouse in the restricted subnets, private, TLS-only, KMS-encrypted, audited and retained', () => {
    const [, namespace] = ofType(template, 'AWS::RedshiftServerless::Namespace')[0]!;
    const [, workgroup] = ofType(template, 'AWS::RedshiftServerless::Workgroup')[0]!;
    expect(namespace.Properties).toMatchObject({
      NamespaceName: `platform-${name}-analytics`,
      DbName: spec.analytics.warehouse.databaseName,
      AdminUsername: spec.analytics.warehouse.adminUsername,
      KmsKeyId: { 'Fn::GetAtt': [logicalId(analytics.encryptionKey), 'Arn'] },
      LogExports: ['userlog', 'connectionlog', 'useractivitylog'],
    });
    // Redshift owns and rotates the admin password (its own secret, our key): none in the template.
    expect(namespace.Properties).toMatchObject({
      ManageAdminPassword: true, AdminPasswordSecretKmsKeyId: { 'Fn::GetAtt': [logicalId(analytics.encryptionKey), 'Arn'] },
    });
    expect(namespace.Properties!.AdminUserPassword).toBeUndefined();
    // Its ARN is read at deploy (no CloudFormation attribute gives it), with GetNamespace on this namespace only.
    const lookup = ofType(template, 'Custom::AWS').find(([id]) => id.startsWith('WarehouseAdminSecretLookup'))![1];
    const call = JSON.parse(JSON.stringify(lookup.Properties!.Create ?? lookup.Properties!.Update));
    expect(JSON.stringify(call)).toContain('GetNamespace');
    const lookupPolicy = ofType(template, 'AWS::IAM::Policy').find(([id]) => id.startsWith('WarehouseAdminSecretLookup'))![1];
    expect(lookupPolicy.Properties!.PolicyDocument.Statement).toEqual([{
      Action: 'redshift-serverless:GetNamespace', Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [ofType(template, 'AWS::RedshiftServerless::Namespace')[0]![0], 'Namespace.NamespaceArn'] },
    }]);
    expect(ofType(template, 'AWS::SecretsManager::Secret').map(([id]) => id)).toEqual([logicalId(analytics.writerSecret)]);
    expect(workgroup.Properties).toMatchObject({
      PubliclyAccessible: false, EnhancedVpcRouting: true, Port: spec.analytics.warehouse.port,
      BaseCapacity: environment.analytics.warehouse.baseCapacityRpu, MaxCapacity: environment.analytics.warehouse.maxCapacityRpu,
      ConfigParameters: expect.arrayContaining([{ ParameterKey: 'require_ssl', ParameterValue: 'true' }]),
    });
    expectRestrictedSubnets(workgroup.Properties!.SubnetIds, network);
    expectRestrictedSecurityGroup(workgroup.Properties!.SecurityGroupIds, network);
    for (const resource of [namespace, workgroup]) {
      expect([resource.DeletionPolicy, resource.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    }
    template.hasResourceProperties('AWS::SecretsManager::Secret', { KmsKeyId: { 'Fn::GetAtt': [logicalId(analytics.encryptionKey), 'Arn'] } });
  });

  it('keeps the logical ids of its stateful resources (a new id would replace them)', () => {
    expectStatefulResourcesPinned(template, STATEFUL);
  });

  it('matches the reviewed template', () => {
    // The jar key follows the Java sources (asserted above); the snapshot should not.
    const text = JSON.stringify(normaliseTemplate(template.toJSON())).replace(/analytics-job-[0-9a-f]{32}\.jar/g, 'analytics-job-[SOURCE_HASH].jar');
    expect(JSON.parse(text)).toMatchSnapshot();
  });
});

describe('the network zones and the warehouse', () => {
  it('admit the bastion to the warehouse port, and no cluster workload', () => {
    const network = Template.fromStack(envs.staging.network);
    const rules = ofType(network, 'AWS::EC2::SecurityGroupIngress').filter(([, r]) => r.Properties!.FromPort === spec.analytics.warehouse.port);
    expect(rules.map(([, r]) => r.Properties!.Description)).toEqual(['bastion to the Redshift warehouse']);
  });
});

describe('the registry\'s artifacts bucket', () => {
  it('is private, SSL-only, versioned, KMS-encrypted, logged and retained', () => {
    const registry = Template.fromStack(envs.production.registry);
    const bucket = ofType(registry, 'AWS::S3::Bucket').find(([id]) => id.startsWith('Artifacts') && !id.includes('AccessLogs'))![1];
    expect(bucket.Properties).toMatchObject({
      BucketName: artifactsBucketName(spec, spec.environments.production),
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [expect.objectContaining({ ServerSideEncryptionByDefault: expect.objectContaining({ SSEAlgorithm: 'aws:kms' }) })] },
      LoggingConfiguration: expect.objectContaining({ LogFilePrefix: 'artifacts/' }),
    });
    expect(bucket.DeletionPolicy).toBe('Retain');
  });
});

describe('the artifact key', () => {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'artifact-'));
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(project, file)), { recursive: true });
    fs.writeFileSync(path.join(project, file), text);
  };
  afterAll(() => fs.rmSync(project, { recursive: true, force: true }));

  it('follows the job\'s sources and nothing else', () => {
    write('pom.xml', '<project/>');
    write('src/main/java/Job.java', 'class Job {}');
    const first = analyticsArtifactKey(project);
    expect(first).toMatch(/^analytics\/analytics-job-[0-9a-f]{32}\.jar$/);
    expect(analyticsArtifactKey(project)).toBe(first);
    write('src/test/java/JobTest.java', 'class JobTest {}');
    write('target/analytics-job.jar', 'bytes');
    expect(analyticsArtifactKey(project)).toBe(first);
    write('src/main/java/Job.java', 'class Job { int x; }');
    expect(analyticsArtifactKey(project)).not.toBe(first);
    write('src/main/java/Job.java', 'class Job {}');
    expect(analyticsArtifactKey(project)).toBe(first);
    // A renamed file is a different source tree even with the same bytes.
    fs.renameSync(path.join(project, 'src/main/java/Job.java'), path.join(project, 'src/main/java/Job2.java'));
    expect(analyticsArtifactKey(project)).not.toBe(first);
  });

  it('is the repository\'s sources\' hash, and fails naming the missing project', () => {
    expect(analyticsArtifactKey()).toBe(`analytics/analytics-job-${analyticsSourceHash().slice(0, 32)}.jar`);
    expect(() => analyticsArtifactKey(path.join(project, 'nothing'))).toThrow(/pom\.xml is missing/);
  });
});
