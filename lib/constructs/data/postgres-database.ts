import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from '../../compliance';
import type { EnvironmentSpec, PlatformSpec } from '../../spec';
import { RetainedLogGroup } from '../shared/retained-log-group';
import { invalidProp } from '../shared/validation';

export interface PostgresDatabaseProps {
  /** The engine and its settings, the same in every environment (`dataTier.postgres` of the spec). */
  readonly engine: PlatformSpec['dataTier']['postgres'];
  /** This environment's instance class, storage, connections, replicas and retention (`environments.<env>.database`). */
  readonly sizing: EnvironmentSpec['database'];
  /** Physical identifier of the primary (lib/spec/names.ts: the ops CLI finds the instances by it). */
  readonly instanceIdentifier: string;
  /** Physical identifiers of the read replicas, one for each of `sizing.readReplicas`. */
  readonly replicaIdentifiers: readonly string[];
  /** The environment's AZs: replica i lands in the AZ after the (i)th, so readers survive an AZ loss. */
  readonly availabilityZones: readonly string[];
  readonly vpc: ec2.IVpc;
  /** The restricted zone's subnets (no route to the internet). */
  readonly subnets: ec2.SubnetSelection;
  /** The restricted zone's security group: it already admits PostgreSQL from workloads and bastion. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** Storage, Performance Insights, the master secret and the log groups. */
  readonly encryptionKey: kms.IKey;
}

/**
 * RDS for PostgreSQL: a Multi-AZ primary and the spec's read replicas, one per other AZ,
 * TLS-only, IAM authentication, master password generated and rotated by RDS in Secrets Manager.
 */
export class PostgresDatabase extends Construct {
  readonly primary: rds.DatabaseInstance;
  readonly replicas: readonly rds.DatabaseInstanceReadReplica[];
  /** The master user's secret, created and rotated by RDS (`manageMasterUserPassword`). */
  readonly secret: secretsmanager.ISecret;
  readonly parameterGroup: rds.ParameterGroup;

  constructor(scope: Construct, id: string, props: PostgresDatabaseProps) {
    super(scope, id);
    const { vpc, subnets, securityGroup, encryptionKey, availabilityZones } = props;
    const pg = props.engine;
    const db = props.sizing;
    const name = props.instanceIdentifier;
    if (props.replicaIdentifiers.length !== db.readReplicas) {
      invalidProp(this, 'replicaIdentifiers', `= [${props.replicaIdentifiers.join(', ')}]: one identifier per read replica, and sizing.readReplicas = ${db.readReplicas}`);
    }
    if (db.readReplicas > 0 && availabilityZones.length < 2) {
      invalidProp(this, 'availabilityZones', `= [${availabilityZones.join(', ')}]: the read replicas need an AZ other than the primary's`);
    }
    const engine = rds.DatabaseInstanceEngine.postgres({
      version: rds.PostgresEngineVersion.of(pg.engineVersion, pg.engineMajorVersion),
    });

    this.parameterGroup = new rds.ParameterGroup(this, 'Parameters', {
      engine,
      description: `${name}: TLS only, connections logged`,
      parameters: {
        'rds.force_ssl': '1',
        // Pinned from the spec, which checks that PgBouncer's server connections fit in it.
        max_connections: String(db.maxConnections),
        // Who connected and when: audit evidence for the payment data (PCI DSS 10.2).
        log_connections: '1',
        log_disconnections: '1',
      },
    });
    // Retained replicas keep using the subnet group, so it must outlive the stack too.
    const subnetGroup = new rds.SubnetGroup(this, 'Subnets', {
      vpc, vpcSubnets: subnets, description: `${name}: restricted zone`, removalPolicy: RemovalPolicy.RETAIN,
    });
    const monitoringRole = new iam.Role(this, 'MonitoringRole', {
      assumedBy: new iam.ServicePrincipal('monitoring.rds.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonRDSEnhancedMonitoringRole')],
    });
    Validations.of(monitoringRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
      reason: 'The AWS-managed enhanced monitoring policy only lets RDS write its OS metrics to its own log group; AWS maintains it as RDS changes.',
    });

    const instanceType = new ec2.InstanceType(db.instanceClass.replace(/^db\./, ''));
    // Shared by the primary and the replicas, so a replica promoted in a failover behaves the same.
    const common: rds.DatabaseInstanceNewProps & { instanceType: ec2.InstanceType } = {
      instanceType,
      vpc,
      subnetGroup,
      securityGroups: [securityGroup],
      port: pg.port,
      storageType: rds.StorageType.GP3,
      maxAllocatedStorage: db.maxAllocatedStorageGiB,
      parameterGroup: this.parameterGroup,
      iamAuthentication: true,
      enablePerformanceInsights: true,
      performanceInsightRetention: pg.performanceInsightsRetentionDays as rds.PerformanceInsightRetention,
      performanceInsightEncryptionKey: encryptionKey,
      monitoringInterval: Duration.seconds(pg.monitoringIntervalSeconds),
      monitoringRole,
      cloudwatchLogsExports: [...pg.logExports],
      // The spec pins the minor version: an automatic upgrade would make the template lie.
      autoMinorVersionUpgrade: false,
      deletionProtection: true,
      publiclyAccessible: false,
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
    };

    this.primary = new rds.DatabaseInstance(this, 'Primary', {
      ...common,
      instanceIdentifier: name,
      engine,
      multiAz: true,
      allocatedStorage: db.allocatedStorageGiB,
      // Replicas inherit the source's encryption and key (CloudFormation rejects setting it on them).
      storageEncryptionKey: encryptionKey,
      // RDS generates the password into Secrets Manager (encrypted with our key) and rotates it
      // itself: no rotation Lambda, so no new network path into the restricted zone.
      credentials: rds.Credentials.fromUsername(pg.masterUsername, { encryptionKey }),
      manageMasterUserPassword: true,
      backupRetention: Duration.days(db.backupRetentionDays),
      copyTagsToSnapshot: true,
      removalPolicy: RemovalPolicy.SNAPSHOT,
    });
    this.secret = this.primary.secret!;
    this.retainLogs(this.primary, name, props);
    Validations.of(this.primary).acknowledge({
      id: 'AwsSolutions-RDS11',
      reason: 'PostgreSQL listens on the spec port 5432 (lib/spec); the restricted security group admits only workloads and the bastion, so a non-default port would add no protection.',
    });
    acknowledgePinnedMinor(this.primary);

    this.replicas = Array.from({ length: db.readReplicas }, (_, i) => {
      const replicaName = props.replicaIdentifiers[i]!;
      const replica = new rds.DatabaseInstanceReadReplica(this, `Replica${i + 1}`, {
        ...common,
        instanceIdentifier: replicaName,
        sourceDatabaseInstance: this.primary,
        // Spread over the AZs after the first, so readers survive the loss of any one AZ.
        availabilityZone: availabilityZones[(i + 1) % availabilityZones.length],
        // A replica holds no data of its own and RDS cannot take a final snapshot of one: keep it.
        removalPolicy: RemovalPolicy.RETAIN,
      });
      this.retainLogs(replica, replicaName, props);
      Validations.of(replica).acknowledge({
        id: 'AwsSolutions-RDS11',
        reason: 'Same port as the primary (spec 5432), behind the restricted security group.',
      });
      for (const id of ['AwsSolutions-RDS3', 'NIST.800.53.R5-RDSMultiAZSupport']) {
        Validations.of(replica).acknowledge({
          id,
          reason: 'A read replica is single-AZ by design: the replicas sit in the other AZs than the Multi-AZ primary, so reads survive an AZ loss; high availability of writes is the primary\'s Multi-AZ standby.',
        });
      }
      for (const id of ['AwsSolutions-RDS13', 'NIST.800.53.R5-RDSInstanceBackupEnabled', 'NIST.800.53.R5-RDSInBackupPlan']) {
        Validations.of(replica).acknowledge({
          id,
          reason: 'Backups of a replica would copy the primary\'s data a second time: the primary keeps automated backups (point-in-time restore) and the hourly AWS Backup plan with a DR-region copy, and `ops promote-replica` turns automated backups on (the writer\'s retention) as it promotes one.',
        });
      }
      for (const id of ['AwsSolutions-RDS2', 'PCI.DSS.321-RDSStorageEncrypted', 'NIST.800.53.R5-RDSStorageEncrypted', 'checkov:CKV_AWS_16']) {
        acknowledge(replica, id,
          'A same-region read replica is encrypted with its source\'s KMS key by RDS itself; CloudFormation rejects StorageEncrypted/KmsKeyId beside SourceDBInstanceIdentifier (cfn-lint E3020), so the template cannot say it.');
      }
      acknowledge(replica, 'checkov:CKV_AWS_157',
        'A read replica is single-AZ by design: the replicas sit in the other AZs than the Multi-AZ primary, so reads survive an AZ loss; high availability of writes is the primary\'s Multi-AZ standby.');
      acknowledgePinnedMinor(replica);
      return replica;
    });
  }

  /** RDS writes exported logs to /aws/rds/instance/<id>/<log>: create them first, encrypted and kept. */
  private retainLogs(instance: rds.DatabaseInstanceBase, instanceId: string, props: PostgresDatabaseProps) {
    for (const log of props.engine.logExports) {
      const group = new RetainedLogGroup(this, `Logs-${instanceId}-${log}`, {
        logGroupName: `/aws/rds/instance/${instanceId}/${log}`,
        retentionDays: props.sizing.logRetentionDays,
        encryptionKey: props.encryptionKey,
      });
      instance.node.addDependency(group);
    }
  }
}

function acknowledgePinnedMinor(instance: Construct) {
  Validations.of(instance).acknowledge({
      id: 'PCI.DSS.321-RDSAutomaticMinorVersionUpgradeEnabled',
      reason: 'The minor version is pinned in lib/spec (dataTier.postgres.engineVersion) and upgraded by a reviewed change; RDS auto-upgrades would drift from the template.',
  });
}
