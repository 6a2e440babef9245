import { RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as redshift from 'aws-cdk-lib/aws-redshiftserverless';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from '../compliance';

/**
 * A retained, KMS-encrypted secret {"username","password"} for a warehouse user, with a password
 * Redshift accepts: upper, lower and digit required; ' " \ / @ and space refused.
 */
export function warehouseUserSecret(scope: Construct, id: string, props: { description: string; username: string; encryptionKey: kms.IKey }): secretsmanager.Secret {
  return new secretsmanager.Secret(scope, id, {
    description: props.description,
    encryptionKey: props.encryptionKey,
    removalPolicy: RemovalPolicy.RETAIN,
    generateSecretString: {
      secretStringTemplate: JSON.stringify({ username: props.username }),
      generateStringKey: 'password',
      passwordLength: 40,
      excludePunctuation: true,
      requireEachIncludedType: true,
    },
  });
}

export interface ServerlessWarehouseProps {
  readonly namespaceName: string;
  readonly workgroupName: string;
  readonly databaseName: string;
  readonly adminUsername: string;
  readonly port: number;
  readonly baseCapacityRpu: number;
  readonly maxCapacityRpu: number;
  /** Encrypts the data, the snapshots and the admin secret. */
  readonly encryptionKey: kms.IKey;
  readonly subnets: ec2.SelectedSubnets;
  readonly securityGroup: ec2.ISecurityGroup;
}

/**
 * Amazon Redshift Serverless (the spec's "Data Warehouse"): a namespace (data, KMS-encrypted,
 * audit logs exported) and its workgroup (compute) in private subnets, never publicly
 * accessible, TLS required, traffic forced through the VPC (enhanced VPC routing). Both are
 * retained: deleting the namespace deletes the data.
 */
export class ServerlessWarehouse extends Construct {
  readonly namespace: redshift.CfnNamespace;
  readonly workgroup: redshift.CfnWorkgroup;
  /** {"username","password"} of the admin user; the schema resource applies migrations with it. */
  readonly adminSecret: secretsmanager.Secret;
  readonly workgroupArn: string;
  readonly endpointAddress: string;

  constructor(scope: Construct, id: string, props: ServerlessWarehouseProps) {
    super(scope, id);
    this.adminSecret = warehouseUserSecret(this, 'AdminSecret', {
      description: `${props.namespaceName}: Redshift Serverless admin user`,
      username: props.adminUsername,
      encryptionKey: props.encryptionKey,
    });
    acknowledge(this.adminSecret, 'AwsSolutions-SMG4',
      'Rotating the admin password needs a rotation function inside the restricted zone; until it exists the admin is used only by the deploy-time schema resource, and the job writes as its own user.');
    for (const ruleId of ['NIST.800.53.R5-SecretsManagerRotationEnabled', 'PCI.DSS.321-SecretsManagerRotationEnabled']) {
      acknowledge(this.adminSecret, ruleId,
        'Rotating the admin password needs a rotation function inside the restricted zone; until it exists the admin is used only by the deploy-time schema resource.');
    }

    this.namespace = new redshift.CfnNamespace(this, 'Namespace', {
      namespaceName: props.namespaceName,
      dbName: props.databaseName,
      adminUsername: props.adminUsername,
      adminUserPassword: this.adminSecret.secretValueFromJson('password').unsafeUnwrap(),
      kmsKeyId: props.encryptionKey.keyArn,
      // Who connected, who ran what, and user changes: the warehouse's audit trail.
      logExports: ['userlog', 'connectionlog', 'useractivitylog'],
    });
    this.namespace.applyRemovalPolicy(RemovalPolicy.RETAIN);

    this.workgroup = new redshift.CfnWorkgroup(this, 'Workgroup', {
      workgroupName: props.workgroupName,
      namespaceName: props.namespaceName,
      baseCapacity: props.baseCapacityRpu,
      maxCapacity: props.maxCapacityRpu,
      port: props.port,
      publiclyAccessible: false,
      enhancedVpcRouting: true,
      subnetIds: props.subnets.subnetIds,
      securityGroupIds: [props.securityGroup.securityGroupId],
      configParameters: [
        { parameterKey: 'require_ssl', parameterValue: 'true' },
        { parameterKey: 'enable_user_activity_logging', parameterValue: 'true' },
      ],
    });
    this.workgroup.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.workgroup.addResourceDependency(this.namespace);
    this.workgroupArn = this.workgroup.attrWorkgroupWorkgroupArn;
    this.endpointAddress = this.workgroup.attrWorkgroupEndpointAddress;
  }
}
