import { CfnOutput, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { replicaKeyArn } from '../constructs/vault/multi-region-key';
import type { VaultCluster } from '../constructs/vault/vault-cluster';
import { VaultNodeRole } from '../constructs/vault/vault-node-role';
import { VaultStorageTable } from '../constructs/vault/vault-storage-table';
import { vaultNames } from '../spec/vault-names';
import { vaultServerCertificateNames } from '../vault/pki';
import type { NetworkStack } from './network-stack';
import { PlatformStack } from './platform-stack';
import type { PlatformStackProps } from './platform-stack';
import type { VaultKeysStack } from './vault-keys-stack';
import type { VaultStandbyStack } from './vault-standby-stack';
import { addVaultAuditLogs, addVaultNodes } from './vault-nodes';
import { zoneSubnets } from '../constructs/network/zoned-vpc';

/**
 * Who calls Vault: the zones of the workloads with Vault secrets (every service; PgBouncer is a
 * private-zone workload) and the bastion when spec.operatorAccess gives it Vault.
 */
export function vaultClients(spec: PlatformStackProps['spec'], network: Pick<NetworkStack, 'zones'>) {
  const zones = new Set(spec.services.filter((s) => s.secrets.length > 0).map((s) => s.zone));
  return [
    { name: 'private workloads', group: network.zones.workloads },
    ...(zones.has('dmz') ? [{ name: 'DMZ workloads', group: network.zones.dmz }] : []),
    ...(spec.operatorAccess.bastion.includes('vault') ? [{ name: 'bastion', group: network.zones.bastion }] : []),
  ];
}

export interface VaultStackProps extends PlatformStackProps {
  readonly network: NetworkStack;
  readonly keys: VaultKeysStack;
  /** Deployed first: the replicated table and secrets need its replica keys in the DR region. */
  readonly standby: VaultStandbyStack;
}

/**
 * Vault's primary cluster (DESIGN.md §7) in the environment's region: 3 nodes over the 3 AZs in
 * the private zone behind an internal NLB, on the DynamoDB storage table (a global table with a
 * replica in the DR region, open source) with KMS auto-unseal, audit logs in CloudWatch, and the
 * TLS secret (replicated to the DR region) the nodes boot from.
 */
export class VaultStack extends PlatformStack {
  readonly table: VaultStorageTable;
  readonly tlsSecret: secretsmanager.Secret;
  readonly cluster: VaultCluster;
  readonly privateZone: route53.PrivateHostedZone;

  constructor(scope: Construct, id: string, props: VaultStackProps) {
    // Stack props only: the stacks it builds on are ours to use, not Stack's.
    const { network, keys, standby, ...stackProps } = props;
    super(scope, id, {
      description: `${props.spec.project} ${props.environment.name}: Vault primary cluster`,
      // Its routes to the standby name the peering connection the DR-region stack creates.
      crossRegionReferences: true,
      ...stackProps,
    });
    const { spec, environment } = props;
    const vault = spec.vault;
    const names = vaultNames(spec, environment.name);
    const enterprise = vault.enterpriseReplication;
    const dr = spec.drRegion.name;
    this.addStackDependency(standby, 'the DR-region replica keys encrypt the table and secret replicas');
    const drDataKeyArn = replicaKeyArn(this, dr, keys.dataKey.keyId);

    this.table = new VaultStorageTable(this, 'Storage', {
      tableName: names.table,
      encryptionKeyArn: keys.dataKey.keyArn,
      // Open source: the storage itself replicates to the standby. Enterprise: DR replication does.
      replicas: enterprise ? [] : [{ region: dr, encryptionKeyArn: drDataKeyArn }],
    });

    const secret = (id: string, secretName: string, description: string) => {
      const s = new secretsmanager.Secret(this, id, {
        secretName,
        description,
        encryptionKey: kms.Key.fromKeyArn(this, `${id}Key`, keys.dataKey.keyArn),
        replicaRegions: [{ region: dr, encryptionKey: kms.Key.fromKeyArn(this, `${id}ReplicaKey`, drDataKeyArn) }],
        // A placeholder: the real value is put out of band (docs/vault.md); nodes wait for it.
        generateSecretString: { secretStringTemplate: JSON.stringify({ status: 'put the value: docs/vault.md' }), generateStringKey: 'placeholder' },
        removalPolicy: RemovalPolicy.RETAIN,
      });
      for (const rule of ['AwsSolutions-SMG4', 'NIST.800.53.R5-SecretsManagerRotationEnabled', 'PCI.DSS.321-SecretsManagerRotationEnabled']) {
        Validations.of(s).acknowledge({
          id: rule,
          reason: 'Issued out of band (TLS: by our CA; license: by HashiCorp) and renewed by the runbook in docs/vault.md; no Lambda can rotate it.',
        });
      }
      return s;
    };
    this.tlsSecret = secret('TlsSecret', names.tlsSecret, 'Vault listener TLS: {"ca","certificate","privateKey"} PEMs');
    const license = enterprise ? secret('LicenseSecret', names.licenseSecret, 'Vault Enterprise license') : undefined;

    const audit = addVaultAuditLogs(this, vault, names, keys.dataKey.keyArn);
    const role = new VaultNodeRole(this, 'NodeRole', {
      unsealKeyArn: keys.unsealKey.keyArn,
      secretsKeyArn: keys.dataKey.keyArn,
      tableArn: this.table.table.tableArn,
      auditLogGroup: audit.logGroup,
      secretArns: [this.tlsSecret.secretArn, ...(license ? [license.secretArn] : [])],
    });

    this.cluster = addVaultNodes(this, vault, names, {
      vpc: network.vpc,
      role: role.role,
      tableName: names.table,
      unsealKeyId: keys.unsealKey.keyId,
      licensed: license !== undefined,
      autoScalingGroupName: names.primaryAutoScalingGroup,
      loadBalancerName: names.primaryLoadBalancer,
      minCapacity: vault.nodes,
      clients: vaultClients(spec, network),
      replicationPeers: enterprise ? [vault.standbyVpc.cidrs[environment.name as keyof typeof vault.standbyVpc.cidrs]] : [],
    });

    // The name the cluster's clients use (the `vault` ExternalName Service aliases it): a record in
    // the environment's private zone, pointing at the active cluster's load balancer. A failover
    // moves it to the standby's (`ops vault-failover`), which the peering below makes reachable.
    this.privateZone = new route53.PrivateHostedZone(this, 'PrivateZone', {
      zoneName: names.privateZone,
      vpc: network.vpc,
      comment: `${spec.project} ${environment.name}: private names inside the VPC (Vault's, moved by a failover)`,
    });
    new route53.CnameRecord(this, 'VaultRecord', {
      zone: this.privateZone,
      recordName: names.dnsName,
      domainName: this.cluster.loadBalancer.loadBalancerDnsName,
      ttl: Duration.seconds(vault.dnsTtlSeconds),
      comment: 'The active Vault cluster; ops vault-failover moves it to the standby',
    });
    // Routes to the DR-region standby over the peering its stack requests: the private zone's
    // subnets (the pods, the bastion) reach its load balancer once the failover has moved the name.
    const standbyCidr = vault.standbyVpc.cidrs[environment.name as keyof typeof vault.standbyVpc.cidrs];
    network.vpc.selectSubnets(zoneSubnets('private')).subnets.forEach((subnet, i) => {
      new ec2.CfnRoute(this, `ToVaultStandby${i + 1}`, {
        routeTableId: subnet.routeTable.routeTableId,
        destinationCidrBlock: standbyCidr,
        vpcPeeringConnectionId: standby.peering.ref,
      });
    });

    if (spec.operatorAccess.bastion.includes('vault')) {
      // The bastion's egress to the standby (no group can be named across regions).
      new ec2.CfnSecurityGroupEgress(this, 'BastionToVaultStandby', {
        groupId: network.zones.bastion.securityGroupId,
        ipProtocol: 'tcp', fromPort: vault.apiPort, toPort: vault.apiPort, cidrIp: standbyCidr,
        description: 'bastion to the Vault standby (after a failover)',
      });
    }

    new ssm.StringParameter(this, 'Address', {
      parameterName: names.addressParameter,
      description: 'Vault address clients use (ops vault-failover points it at the standby)',
      stringValue: `https://${this.cluster.loadBalancer.loadBalancerDnsName}:${vault.apiPort}`,
    });
    new CfnOutput(this, 'AutoScalingGroup', { value: names.primaryAutoScalingGroup });
    // The names the certificate put into the TLS secret must carry (vault/tls/issue.sh issues it
    // so): this NLB, the standby's, and the in-cluster `vault` Service the workloads dial.
    const certificateNames = vaultServerCertificateNames(spec);
    new CfnOutput(this, 'TlsCertificateNames', {
      description: `Subject alternative names the certificate in ${names.tlsSecret} must carry (docs/vault.md)`,
      value: [...certificateNames.dns.map((d) => `DNS:${d}`), ...certificateNames.ip.map((i) => `IP:${i}`)].join(','),
    });
  }
}
