import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as flink from 'aws-cdk-lib/aws-kinesisanalyticsv2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeDeployTimeFunction } from '../../compliance';
import { RetainedLogGroup } from '../shared/retained-log-group';

/** The construct id of the one function every AwsCustomResource of a stack shares. */
const AWS_CUSTOM_RESOURCE_SINGLETON = 'AWS679f53fac002430cb0da5b7982bd2287';

export interface FlinkApplicationProps {
  readonly applicationName: string;
  /** Managed Flink runtime, e.g. FLINK-2_2 (lib/spec analytics.flink.runtime). */
  readonly runtime: string;
  /** The job's jar: an object the application reads with its role (and the bucket's key). */
  readonly code: { readonly bucket: s3.IBucket; readonly key: string; readonly encryptionKey: kms.IKey };
  /** Runtime properties the job reads (KinesisAnalyticsRuntime.getApplicationProperties()). */
  readonly propertyGroups: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly parallelism: { readonly initial: number; readonly perKpu: number; readonly autoScaling: boolean };
  readonly checkpoints: { readonly intervalSeconds: number; readonly minPauseSeconds: number };
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly logRetentionDays: number;
  readonly logsKey: kms.IKey;
}

/**
 * An Amazon Managed Service for Apache Flink application running a jar from S3 inside the VPC:
 * checkpoints and snapshots on, parallelism and autoscaling as given, logs and metrics to
 * CloudWatch, its own execution role (grants beyond code and logs are the caller's, see
 * `role`), and started once it exists (CloudFormation only creates it in the READY state).
 */
export class FlinkApplication extends Construct {
  readonly application: flink.CfnApplication;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly applicationArn: string;

  constructor(scope: Construct, id: string, props: FlinkApplicationProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('kinesisanalytics.amazonaws.com', {
        // Only this account's applications may assume it (confused-deputy guard).
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: `${props.applicationName}: execution role of the Managed Flink application`,
    });
    this.applicationArn = stack.formatArn({ service: 'kinesisanalytics', resource: 'application', resourceName: props.applicationName });

    this.logGroup = new RetainedLogGroup(this, 'Logs', {
      logGroupName: `/aws/kinesis-analytics/${props.applicationName}`,
      retentionDays: props.logRetentionDays,
      encryptionKey: props.logsKey,
    }).logGroup;
    const logStream = new logs.LogStream(this, 'LogStream', { logGroup: this.logGroup, logStreamName: 'application' });
    const logStreamArn = stack.formatArn({
      service: 'logs', resource: 'log-group', resourceName: `${this.logGroup.logGroupName}:log-stream:${logStream.logStreamName}`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    // The code: this one object (any of its versions), decrypted through S3 only.
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ReadTheJar',
      actions: ['s3:GetObject', 's3:GetObjectVersion'],
      resources: [props.code.bucket.arnForObjects(props.code.key)],
    }));
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'DecryptTheJar',
      actions: ['kms:Decrypt'],
      resources: [props.code.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
    }));
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'WriteApplicationLogs',
      actions: ['logs:PutLogEvents', 'logs:DescribeLogStreams'],
      resources: [this.logGroup.logGroupArn, logStreamArn],
    }));
    const anyLogGroup = stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'FindLogGroups', actions: ['logs:DescribeLogGroups'], resources: [anyLogGroup] }));
    // Managed Flink creates its network interfaces in the subnets with the execution role:
    // EC2 offers no resource-level scoping for these calls (managed-flink/latest/java/vpc-permissions).
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'VpcNetworkInterfaces',
      actions: [
        'ec2:DescribeVpcs', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups', 'ec2:DescribeDhcpOptions',
        'ec2:CreateNetworkInterface', 'ec2:CreateNetworkInterfacePermission', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface',
      ],
      resources: ['*'],
    }));

    const subnetIds = props.vpc.selectSubnets(props.subnets).subnetIds;
    this.application = new flink.CfnApplication(this, 'Application', {
      applicationName: props.applicationName,
      applicationDescription: `${props.applicationName}: the platform's analytics job (analytics/)`,
      runtimeEnvironment: props.runtime,
      serviceExecutionRole: this.role.roleArn,
      applicationConfiguration: {
        applicationCodeConfiguration: {
          codeContentType: 'ZIPFILE',
          codeContent: { s3ContentLocation: { bucketArn: props.code.bucket.bucketArn, fileKey: props.code.key } },
        },
        environmentProperties: {
          propertyGroups: Object.entries(props.propertyGroups).map(([propertyGroupId, propertyMap]) => ({ propertyGroupId, propertyMap: { ...propertyMap } })),
        },
        flinkApplicationConfiguration: {
          checkpointConfiguration: {
            configurationType: 'CUSTOM',
            checkpointingEnabled: true,
            checkpointInterval: props.checkpoints.intervalSeconds * 1000,
            minPauseBetweenCheckpoints: props.checkpoints.minPauseSeconds * 1000,
          },
          parallelismConfiguration: {
            configurationType: 'CUSTOM',
            parallelism: props.parallelism.initial,
            parallelismPerKpu: props.parallelism.perKpu,
            autoScalingEnabled: props.parallelism.autoScaling,
          },
          monitoringConfiguration: { configurationType: 'CUSTOM', logLevel: 'INFO', metricsLevel: 'OPERATOR' },
        },
        // Snapshots on stop and update: a new jar resumes the de-duplication and window state.
        applicationSnapshotConfiguration: { snapshotsEnabled: true },
        // A job that fails to start after an update goes back to the previous version.
        applicationSystemRollbackConfiguration: { rollbackEnabled: true },
        vpcConfigurations: [{ subnetIds, securityGroupIds: [props.securityGroup.securityGroupId] }],
      },
    });
    // The role's grants (its default policy) must exist before the service validates the
    // configuration with it; the role itself is already referenced.
    this.application.node.addDependency(this.role.node.findChild('DefaultPolicy'));

    const logging = new flink.CfnApplicationCloudWatchLoggingOption(this, 'Logging', {
      applicationName: this.application.ref,
      cloudWatchLoggingOption: { logStreamArn },
    });

    this.startOnCreate(props, [logging]);

    acknowledge(this.role, 'AwsSolutions-IAM5[Resource::*]',
      'The EC2 network-interface calls Managed Flink makes for a VPC application have no resource-level scoping (managed-flink/latest/java/vpc-permissions).');
    acknowledge(this.role, `AwsSolutions-IAM5[Resource::${anyLogGroup}]`,
      'logs:DescribeLogGroups lists log groups account-wide by design; it reads names only, the writes are scoped to the job\'s own stream.');
    acknowledge(this.role, 'checkov:CKV_AWS_111',
      'The unconstrained writes are the ENI calls Managed Flink makes for a VPC application (no resource-level scoping exists); every other write names its resource.');
    acknowledge(this.role, 'checkov:CKV_AWS_109',
      'ec2:CreateNetworkInterfacePermission lets Managed Flink attach the job\'s ENIs in the VPC; it grants no IAM permissions (managed-flink/latest/java/vpc-permissions).');
    for (const ruleId of ['PCI.DSS.321-IAMNoInlinePolicy', 'NIST.800.53.R5-IAMNoInlinePolicy']) {
      acknowledge(this.role, ruleId, 'The execution role\'s grants (its jar, its log stream, its topics, its secret) are an inline policy of this one role, used by this application only.');
    }
  }

  /**
   * CloudFormation creates the application READY; StartApplication (restoring from the latest
   * snapshot, which is none the first time) runs it. Later deploys update the running job in
   * place (the service snapshots and restarts it), so only the first creation needs a start.
   */
  private startOnCreate(props: FlinkApplicationProps, after: Construct[]) {
    const functionName = `${props.applicationName}-start`;
    const start = new cr.AwsCustomResource(this, 'Start', {
      onCreate: {
        service: 'KinesisAnalyticsV2',
        action: 'StartApplication',
        parameters: {
          ApplicationName: props.applicationName,
          RunConfiguration: { ApplicationRestoreConfiguration: { ApplicationRestoreType: 'RESTORE_FROM_LATEST_SNAPSHOT' } },
        },
        physicalResourceId: cr.PhysicalResourceId.of(`${props.applicationName}/start`),
        // Already running (started by hand before this resource existed): nothing to do.
        ignoreErrorCodesMatching: 'ResourceInUseException',
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([new iam.PolicyStatement({
        actions: ['kinesisanalytics:StartApplication'],
        resources: [this.applicationArn],
      })]),
      installLatestAwsSdk: false,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      functionName,
      logGroup: new RetainedLogGroup(this, 'StartLogs', {
        logGroupName: `/aws/lambda/${functionName}`,
        retentionDays: props.logRetentionDays,
        encryptionKey: props.logsKey,
      }).logGroup,
    });
    start.node.addDependency(this.application, ...after);
    // AwsCustomResource's function is a singleton of the stack; its findings are the usual ones.
    const singleton = Stack.of(this).node.tryFindChild(AWS_CUSTOM_RESOURCE_SINGLETON);
    if (!singleton) throw new Error(`AwsCustomResource no longer creates ${AWS_CUSTOM_RESOURCE_SINGLETON}: update FlinkApplication's acknowledgements`);
    acknowledgeDeployTimeFunction(singleton);
    acknowledgeDeployTimeFunction(start);
  }
}
