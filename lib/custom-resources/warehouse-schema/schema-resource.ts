import type { CustomResource } from 'aws-cdk-lib';
import { Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { IDependable } from 'constructs';
import { acknowledgeDeployTimeFunction } from '../../compliance';
import { addBundledProvider } from '../bundled-provider';
import type { Migration } from './migrations';
import { readMigrations, toMigrationProperty } from './migrations';

/** A Secrets Manager secret and the KMS key it is encrypted with (the handler decrypts through Secrets Manager). */
export interface SecretWithKey {
  readonly secret: secretsmanager.ISecret;
  readonly key: kms.IKey;
}

export interface WarehouseSchemaProps {
  /** `<project>-<env>`: names the functions and their log groups. */
  readonly namePrefix: string;
  /** The Redshift Serverless workgroup the Data API sends the SQL to. */
  readonly workgroupName: string;
  /** Its ARN (`arn:...:redshift-serverless:<region>:<account>:workgroup/<id>`): the Data API calls are allowed on it alone. */
  readonly workgroupArn: string;
  readonly databaseName: string;
  readonly schemaName: string;
  /** The admin user's secret ({"username","password"}): the Data API runs the migrations as this user. */
  readonly adminSecret: SecretWithKey;
  /** The writer's secret ({"username","password"}): the handler creates the user or sets its password. */
  readonly writerSecret: SecretWithKey;
  readonly writerUsername: string;
  /** Folder of `NNN_description.sql` files, read at synth (bad names, gaps and duplicates fail it). */
  readonly migrationsDir: string;
  readonly vpc: ec2.IVpc;
  /** Where the functions run: subnets with a route to the AWS APIs through the NAT. */
  readonly subnets: ec2.SubnetSelection;
  /** The functions' group; by default one that allows only HTTPS out. */
  readonly securityGroup?: ec2.ISecurityGroup;
  /** Encrypts the functions' log groups. */
  readonly logsKey: kms.IKey;
  readonly logRetentionDays: number;
  /** What must exist before the first call, e.g. the CfnWorkgroup (and the namespace). */
  readonly dependencies?: readonly IDependable[];
}

/**
 * The `Migrations` property is in the template (reviewers read the SQL in the diff) and in every
 * event, twice on Update (old and new properties): this cap keeps both far below CloudFormation's
 * 1 MB template and Lambda's event payload limits. Our choice.
 */
export const MAX_MIGRATIONS_PROPERTY_BYTES = 100_000;

/** A secret's ARN for a policy: the full ARN, or the partial one with Secrets Manager's 6-character suffix. */
function secretPolicyArn(secret: secretsmanager.ISecret): string {
  return secret.secretFullArn ?? `${secret.secretArn}-??????`;
}

/**
 * The warehouse schema as a CloudFormation resource (`Custom::WarehouseSchema`): a Lambda in the
 * VPC (behind aws-cdk-lib's custom-resource Provider) applies the SQL migrations of
 * `migrationsDir` through the Redshift Data API at deploy time and keeps the writer user and its
 * grants in place. Deleting the resource or the stack leaves the schema, data and user alone.
 */
export class WarehouseSchema extends Construct {
  readonly resource: CustomResource;
  readonly handler: lambda.Function;
  readonly securityGroup: ec2.ISecurityGroup;
  /** The migrations read at synth, in version order. */
  readonly migrations: readonly Migration[];

  constructor(scope: Construct, id: string, props: WarehouseSchemaProps) {
    super(scope, id);
    const { namePrefix } = props;
    this.migrations = readMigrations(props.migrationsDir);
    const migrationsProperty = this.migrations.map(toMigrationProperty);
    const size = Buffer.byteLength(JSON.stringify(migrationsProperty));
    if (size > MAX_MIGRATIONS_PROPERTY_BYTES) {
      throw new Error(`WarehouseSchema ${this.node.path}: the migrations in ${props.migrationsDir} are ${size} bytes as properties, above ${MAX_MIGRATIONS_PROPERTY_BYTES}`);
    }

    if (props.securityGroup) {
      this.securityGroup = props.securityGroup;
    } else {
      const group = new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc: props.vpc,
        description: `${namePrefix}: warehouse schema handler (Redshift Data API and Secrets Manager over HTTPS)`,
        allowAllOutbound: false,
      });
      // The Data API, Secrets Manager and Lambda APIs through the NAT; nothing connects to Redshift directly.
      group.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs over HTTPS');
      this.securityGroup = group;
    }

    const { handler, framework, resource } = addBundledProvider(this, {
      functionName: `${namePrefix}-warehouse-schema`,
      description: 'Applies the warehouse SQL migrations and the writer user through the Redshift Data API (custom resource)',
      bundleDir: __dirname,
      // A Serverless workgroup resuming from zero takes a minute; the handler cancels its
      // statement 30 s before this runs out.
      timeout: Duration.minutes(10),
      vpc: props.vpc,
      subnets: props.subnets,
      securityGroup: this.securityGroup,
      logsKey: props.logsKey,
      logRetentionDays: props.logRetentionDays,
      resourceType: 'Custom::WarehouseSchema',
      properties: {
        WorkgroupName: props.workgroupName,
        Database: props.databaseName,
        SchemaName: props.schemaName,
        AdminSecretArn: props.adminSecret.secret.secretArn,
        WriterSecretArn: props.writerSecret.secret.secretArn,
        WriterUsername: props.writerUsername,
        Migrations: migrationsProperty,
      },
    });
    this.handler = handler;
    this.resource = resource;
    this.grantHandler(props);
    for (const dependency of props.dependencies ?? []) this.resource.node.addDependency(dependency);
    this.acknowledgeFindings(this.handler, framework);
  }

  /** Least privilege: the Data API on this workgroup, statements it started, the two secrets and their keys. */
  private grantHandler(props: WarehouseSchemaProps) {
    const stack = Stack.of(this);
    this.handler.addToRolePolicy(new iam.PolicyStatement({
      sid: 'RunSqlOnTheWorkgroup',
      actions: ['redshift-data:BatchExecuteStatement', 'redshift-data:ExecuteStatement'],
      resources: [props.workgroupArn],
    }));
    // These actions take no resource; the condition limits them to statements this role ran
    // (as AmazonRedshiftDataFullAccess does).
    this.handler.addToRolePolicy(new iam.PolicyStatement({
      sid: 'FollowOwnStatements',
      actions: ['redshift-data:DescribeStatement', 'redshift-data:GetStatementResult', 'redshift-data:CancelStatement'],
      resources: ['*'],
      conditions: { StringEquals: { 'redshift-data:statement-owner-iam-userid': '${aws:userid}' } },
    }));
    // The Data API reads the admin secret with the caller's permissions; the handler reads the writer's.
    this.handler.addToRolePolicy(new iam.PolicyStatement({
      sid: 'ReadTheTwoSecrets',
      actions: ['secretsmanager:GetSecretValue'],
      resources: [secretPolicyArn(props.adminSecret.secret), secretPolicyArn(props.writerSecret.secret)],
    }));
    const keys = [...new Set([props.adminSecret.key.keyArn, props.writerSecret.key.keyArn])];
    this.handler.addToRolePolicy(new iam.PolicyStatement({
      sid: 'DecryptTheSecretsThroughSecretsManager',
      actions: ['kms:Decrypt'],
      resources: keys,
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` } },
    }));
  }

  /** Findings on the two functions (and their roles): the handler and the provider's framework function. */
  private acknowledgeFindings(handler: lambda.Function, framework: lambda.Function) {
    const stack = Stack.of(this);
    const handlerLogicalId = stack.resolve(stack.getLogicalId(handler.node.defaultChild as lambda.CfnFunction)) as string;
    const handlerOnly: Record<string, string> = {
      'AwsSolutions-IAM5[Resource::*]':
        'DescribeStatement, GetStatementResult and CancelStatement take no resource ARN (statement ids exist only at run time); the condition redshift-data:statement-owner-iam-userid = ${aws:userid} limits them to statements this role started.',
      'checkov:CKV_AWS_111':
        'The only write without a resource ARN is CancelStatement, which the statement-owner condition limits to statements this role started.',
      'checkov:CKV_AWS_356':
        'DescribeStatement, GetStatementResult and CancelStatement take no resource ARN; the statement-owner condition limits them to statements this role started.',
    };
    const frameworkOnly: Record<string, string> = {
      [`AwsSolutions-IAM5[Resource::<${handlerLogicalId}.Arn>:*]`]:
        'The provider framework invokes any version of the handler function; the wildcard is the version suffix of that one ARN.',
    };
    acknowledgeDeployTimeFunction(handler, handlerOnly);
    acknowledgeDeployTimeFunction(framework, frameworkOnly);
  }
}
