import { Stack, Validations } from 'aws-cdk-lib';
import type { CfnElement } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge } from '../../compliance';

export interface VaultNodeRoleProps {
  /** The auto-unseal key (this region's copy of the multi-region key). */
  readonly unsealKeyArn: string;
  /** The key that encrypts the TLS/license secrets (decrypt through Secrets Manager only). */
  readonly secretsKeyArn: string;
  /** The storage table of this cluster, in this region. */
  readonly tableArn: string;
  readonly auditLogGroup: logs.LogGroup;
  /** Secret ARNs (or `name-??????` patterns) the node reads at boot. */
  readonly secretArns: readonly string[];
}

/**
 * The instance role of a Vault node, least privilege: unseal with one key, read and write one
 * table, ship audit logs to one log group, read its TLS (and license) secret, and register with
 * SSM Session Manager (the only shell path; no SSH).
 */
export class VaultNodeRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: VaultNodeRoleProps) {
    super(scope, id);
    const region = Stack.of(this).region;
    const document = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'AutoUnseal',
          actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:DescribeKey'],
          resources: [props.unsealKeyArn],
        }),
        new iam.PolicyStatement({
          sid: 'StorageTable',
          actions: [
            'dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem',
            'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem',
          ],
          resources: [props.tableArn],
        }),
        new iam.PolicyStatement({
          sid: 'AuditLogs',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
          resources: [props.auditLogGroup.logGroupArn, `${props.auditLogGroup.logGroupArn}:log-stream:*`],
        }),
        new iam.PolicyStatement({
          sid: 'BootSecrets',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [...props.secretArns],
        }),
        new iam.PolicyStatement({
          sid: 'BootSecretsKey',
          actions: ['kms:Decrypt'],
          resources: [props.secretsKeyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` } },
        }),
        new iam.PolicyStatement({
          sid: 'SessionManager',
          actions: [
            'ssm:UpdateInstanceInformation', 'ssmmessages:CreateControlChannel', 'ssmmessages:CreateDataChannel',
            'ssmmessages:OpenControlChannel', 'ssmmessages:OpenDataChannel', 'ec2messages:AcknowledgeMessage',
            'ec2messages:DeleteMessage', 'ec2messages:FailMessage', 'ec2messages:GetEndpoint', 'ec2messages:GetMessages',
            'ec2messages:SendReply',
          ],
          resources: ['*'],
        }),
      ],
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'Vault node: auto-unseal key, storage table, audit log group, boot secrets',
    });
    // A customer-managed policy, not inline (PCI DSS / NIST IAMNoInlinePolicy).
    const policy = new iam.ManagedPolicy(this, 'Policy', { document, roles: [this.role], description: 'Vault node permissions' });
    const logGroupId = Stack.of(this).getLogicalId(props.auditLogGroup.node.defaultChild as CfnElement);
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logGroupId}.Arn>:log-stream:*]`,
      reason: 'The log streams of the one audit log group: the agent names a stream per instance id, unknown until launch.',
    });
    acknowledge(policy, 'checkov:CKV_AWS_111',
      'Every write is scoped to one resource (the unseal key, the storage table, the audit log group) except Session Manager\'s ssmmessages/ec2messages actions, which support no resource-level permissions.');
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'SSM Session Manager (ssm:UpdateInstanceInformation, ssmmessages:*, ec2messages:*) supports no resource-level permissions; the statement lists the exact actions, as AmazonSSMManagedInstanceCore would grant them.',
    });
  }
}
