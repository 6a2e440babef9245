/**
 * The `WarehouseSchema` construct (lib/custom-resources/warehouse-schema/schema-resource.ts) on a small stack: the
 * custom resource carries the migrations (SQL included) and depends on the workgroup, the handler
 * holds exactly the least-privilege statements, runs in the given private subnets with HTTPS-only
 * egress, logs to retained encrypted groups, and leaves no unacknowledged compliance finding.
 * Bad migration folders and oversized migrations fail the synth.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as redshiftserverless from 'aws-cdk-lib/aws-redshiftserverless';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { compliancePacks } from '../../../lib/compliance';
import { loadPlatformSpec } from '../../../lib/spec';
import { readMigrations, toMigrationProperty } from '../../../lib/custom-resources/warehouse-schema/migrations';
import { MAX_MIGRATIONS_PROPERTY_BYTES, WarehouseSchema } from '../../../lib/custom-resources/warehouse-schema/schema-resource';
import type { WarehouseSchemaProps } from '../../../lib/custom-resources/warehouse-schema/schema-resource';
import { testApp } from '../../helpers/app';
import { zoneSubnets } from '../../../lib/constructs/network/zoned-vpc';

const spec = loadPlatformSpec();
const warehouse = spec.analytics.warehouse;
const fixtures = path.join(__dirname, 'fixtures');

function smallStack() {
  const app = testApp();
  const stack = new Stack(app, 'Analytics', { env: { account: '123456789012', region: 'us-east-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    natGateways: 1,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
      { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ],
  });
  const logsKey = new kms.Key(stack, 'LogsKey', { enableKeyRotation: true });
  const secretsKey = new kms.Key(stack, 'SecretsKey', { enableKeyRotation: true });
  const adminSecret = new secretsmanager.Secret(stack, 'AdminSecret', { encryptionKey: secretsKey });
  const writerSecret = new secretsmanager.Secret(stack, 'WriterSecret', { encryptionKey: secretsKey });
  const namespace = new redshiftserverless.CfnNamespace(stack, 'Namespace', { namespaceName: 'platform-staging-analytics' });
  const workgroup = new redshiftserverless.CfnWorkgroup(stack, 'Workgroup', { workgroupName: 'platform-staging-analytics', namespaceName: namespace.namespaceName });
  workgroup.node.addDependency(namespace);
  const props: WarehouseSchemaProps = {
    namePrefix: 'platform-staging',
    workgroupName: workgroup.workgroupName,
    workgroupArn: workgroup.attrWorkgroupWorkgroupArn,
    databaseName: warehouse.databaseName,
    schemaName: warehouse.schemaName,
    adminSecret: { secret: adminSecret, key: secretsKey },
    writerSecret: { secret: writerSecret, key: secretsKey },
    writerUsername: warehouse.writerUsername,
    migrationsDir: path.join(fixtures, 'valid'),
    vpc,
    subnets: zoneSubnets('private'),
    logsKey,
    logRetentionDays: spec.environments.staging.analytics.flink.logRetentionDays,
    dependencies: [workgroup],
  };
  return { app, stack, vpc, props, workgroup, adminSecret, writerSecret, secretsKey, logsKey };
}

describe('WarehouseSchema', () => {
  const built = smallStack();
  const schema = new WarehouseSchema(built.stack, 'WarehouseSchema', built.props);
  const template = Template.fromStack(built.stack);
  const json = template.toJSON() as { Resources: Record<string, { Type: string; Properties: any; DependsOn?: string[] }> };
  const id = (c: { node: { defaultChild?: unknown } } | unknown) => built.stack.getLogicalId((c as any).node.defaultChild ?? c);
  const handlerId = id(schema.handler);
  const handlerRole = json.Resources[handlerId].Properties.Role['Fn::GetAtt'][0] as string;

  it('carries the migrations, SQL included, and the names in its properties', () => {
    const [, resource] = Object.entries(json.Resources).find(([, r]) => r.Type === 'Custom::WarehouseSchema')!;
    const expected = readMigrations(path.join(fixtures, 'valid')).map(toMigrationProperty);
    expect(resource.Properties).toEqual({
      ServiceToken: expect.anything(),
      WorkgroupName: 'platform-staging-analytics',
      Database: warehouse.databaseName,
      SchemaName: warehouse.schemaName,
      AdminSecretArn: { Ref: id(built.adminSecret) },
      WriterSecretArn: { Ref: id(built.writerSecret) },
      WriterUsername: warehouse.writerUsername,
      Migrations: expected,
    });
    expect(resource.Properties.Migrations[0].Statements[1]).toContain("COMMENT ON TABLE analytics.order_facts IS 'orders; one row each, it''s upserted'");
    expect(schema.migrations.map((m) => m.version)).toEqual(['001', '002']);
  });

  it('is created after the workgroup', () => {
    const [, resource] = Object.entries(json.Resources).find(([, r]) => r.Type === 'Custom::WarehouseSchema')!;
    expect(resource.DependsOn).toContain(built.stack.getLogicalId(built.workgroup));
  });

  it('gives the handler exactly the least-privilege statements', () => {
    const policies = Object.values(json.Resources).filter((r) => r.Type === 'AWS::IAM::Policy'
      && r.Properties.Roles.some((role: { Ref: string }) => role.Ref === handlerRole));
    expect(policies).toHaveLength(1);
    expect(policies[0].Properties.PolicyDocument.Statement).toEqual([
      {
        Sid: 'RunSqlOnTheWorkgroup', Effect: 'Allow',
        Action: ['redshift-data:BatchExecuteStatement', 'redshift-data:ExecuteStatement'],
        Resource: { 'Fn::GetAtt': [built.stack.getLogicalId(built.workgroup), 'Workgroup.WorkgroupArn'] },
      },
      {
        Sid: 'FollowOwnStatements', Effect: 'Allow',
        Action: ['redshift-data:CancelStatement', 'redshift-data:DescribeStatement', 'redshift-data:GetStatementResult'],
        Resource: '*',
        Condition: { StringEquals: { 'redshift-data:statement-owner-iam-userid': '${aws:userid}' } },
      },
      {
        Sid: 'ReadTheTwoSecrets', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue',
        Resource: [{ Ref: id(built.adminSecret) }, { Ref: id(built.writerSecret) }],
      },
      {
        Sid: 'DecryptTheSecretsThroughSecretsManager', Effect: 'Allow', Action: 'kms:Decrypt',
        Resource: { 'Fn::GetAtt': [id(built.secretsKey), 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } },
      },
    ]);
    const all = JSON.stringify(json.Resources);
    expect(all).not.toContain('redshift-serverless:GetCredentials');
    expect(all).not.toContain('redshift-data:*');
  });

  it('runs the handler on Node 24 in the given private subnets, HTTPS out only', () => {
    const fn = json.Resources[handlerId].Properties;
    expect(fn.Runtime).toBe('nodejs24.x');
    expect(fn.Handler).toBe('index.handler');
    const privateSubnets = built.vpc.selectSubnets(zoneSubnets('private')).subnets.map((s) => ({ Ref: id(s) }));
    expect(fn.VpcConfig.SubnetIds).toEqual(privateSubnets);
    expect(fn.VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [id(schema.securityGroup), 'GroupId'] }]);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Description: 'AWS APIs over HTTPS' }],
    });
    expect(template.findResources('AWS::EC2::SecurityGroupIngress')).toEqual({});
    // The provider's framework function runs in the same subnets.
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'platform-staging-warehouse-schema-provider',
      VpcConfig: { SubnetIds: privateSubnets },
    });
  });

  it('logs both functions to retained, encrypted groups with the retention given', () => {
    for (const name of ['platform-staging-warehouse-schema', 'platform-staging-warehouse-schema-provider']) {
      template.hasResource('AWS::Logs::LogGroup', {
        Properties: {
          LogGroupName: `/aws/lambda/${name}`,
          RetentionInDays: spec.environments.staging.analytics.flink.logRetentionDays,
          KmsKeyId: { 'Fn::GetAtt': [id(built.logsKey), 'Arn'] },
        },
        DeletionPolicy: 'Retain',
      });
    }
  });

  it('leaves no unacknowledged finding of the compliance packs on its resources', () => {
    const findings = compliancePacks(built.app).flatMap((pack) => pack.validateScope(built.app).violations)
      .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} @ ${r.constructPath}`));
    // The packs do run here: the bare test VPC and secrets (not ours) have findings.
    expect(findings.some((line) => line.includes('/Vpc/') || line.includes('Secret'))).toBe(true);
    expect(findings.filter((line) => line.includes('/WarehouseSchema/'))).toEqual([]);
  });
});

describe('WarehouseSchema synth checks', () => {
  it('fails the synth on a gap or a duplicate in the folder, naming the file', () => {
    for (const [folder, message] of [
      ['gap', '003_create_t3.sql: expected version 002 here'],
      ['duplicate', '001_create_other.sql: version 001 is also used by 001_create_order_facts.sql'],
    ]) {
      const { stack, props } = smallStack();
      expect(() => new WarehouseSchema(stack, 'WarehouseSchema', { ...props, migrationsDir: path.join(fixtures, folder) })).toThrow(message);
    }
  });

  it('refuses migrations too large to carry as properties', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warehouse-big-'));
    try {
      const column = (i: number) => `  column_with_a_long_name_${i} VARCHAR(256)`;
      const table = (t: number) => `CREATE TABLE analytics.t${t} (\n${Array.from({ length: 100 }, (_, i) => column(i)).join(',\n')}\n);\n`;
      fs.writeFileSync(path.join(dir, '001_big.sql'), Array.from({ length: 30 }, (_, t) => table(t)).join(''));
      const { stack, props } = smallStack();
      expect(() => new WarehouseSchema(stack, 'WarehouseSchema', { ...props, migrationsDir: dir }))
        .toThrow(new RegExp(`as properties, above ${MAX_MIGRATIONS_PROPERTY_BYTES}$`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('carries the real migrations folder (analytics/warehouse/migrations) well within the size cap', () => {
    const { stack, props } = smallStack();
    const realDir = path.join(__dirname, '..', '..', '..', 'analytics', 'warehouse', 'migrations');
    const schema = new WarehouseSchema(stack, 'WarehouseSchema', { ...props, migrationsDir: realDir });
    const property = schema.migrations.map(toMigrationProperty);
    expect(property.length).toBeGreaterThan(0);
    expect(Buffer.byteLength(JSON.stringify(property))).toBeLessThan(MAX_MIGRATIONS_PROPERTY_BYTES / 4);
    Template.fromStack(stack).hasResourceProperties('Custom::WarehouseSchema', { Migrations: property });
  });

  it('uses a security group it is given instead of making one', () => {
    const { stack, props, vpc } = smallStack();
    const group = new ec2.SecurityGroup(stack, 'Given', { vpc, allowAllOutbound: false });
    const schema = new WarehouseSchema(stack, 'WarehouseSchema', { ...props, securityGroup: group });
    expect(schema.securityGroup).toBe(group);
    expect(schema.node.tryFindChild('SecurityGroup')).toBeUndefined();
  });
});
