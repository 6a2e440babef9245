import { RemovalPolicy, Token } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as redshift from 'aws-cdk-lib/aws-redshiftserverless';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { invalidProp } from '../shared/validation';

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
  /** {"username","password"} of the admin user, managed and rotated by Redshift; the schema resource applies migrations with it. */
  readonly adminSecret: secretsmanager.ISecret;
  readonly workgroupArn: string;
  readonly endpointAddress: string;

  constructor(scope: Construct, id: string, props: ServerlessWarehouseProps) {
    super(scope, id);
    if (props.baseCapacityRpu > props.maxCapacityRpu) {
      invalidProp(this, 'baseCapacityRpu', `= ${props.baseCapacityRpu}: above maxCapacityRpu (${props.maxCapacityRpu})`);
    }
    this.namespace = new redshift.CfnNamespace(this, 'Namespace', {
      namespaceName: props.namespaceName,
      dbName: props.databaseName,
      adminUsername: props.adminUsername,
      // Redshift keeps the admin password in a Secrets Manager secret of its own (encrypted with
      // our key) and rotates it itself: no rotation function, so no new path into the restricted zone.
      manageAdminPassword: true,
      adminPasswordSecretKmsKeyId: props.encryptionKey.keyArn,
      kmsKeyId: props.encryptionKey.keyArn,
      // Who connected, who ran what, and user changes: the warehouse's audit trail.
      logExports: ['userlog', 'connectionlog', 'useractivitylog'],
    });
    // {"username","password"}, what the Data API signs in with (the schema resource).
    this.adminSecret = secretsmanager.Secret.fromSecretCompleteArn(this, 'AdminSecret',
      Token.asString(this.namespace.getAtt('Namespace.AdminPasswordSecretArn')));
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
