import { ArnFormat, CfnOutput } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { zoneSubnetCidrs } from '../spec/topology';
import type { Construct } from 'constructs';
import { MultiRegionKeyReplica } from '../constructs/vault/multi-region-key-replica';
import { StandbyVpc } from '../constructs/network/standby-vpc';
import type { VaultCluster } from '../constructs/vault/vault-cluster';
import { VaultNodeRole } from '../constructs/vault/vault-node-role';
import { VaultStorageTable } from '../constructs/vault/vault-storage-table';
import type { EnvironmentName } from '../spec';
import { vaultNames } from '../spec/vault-names';
import { PlatformStack } from './platform-stack';
import type { PlatformStackProps } from './platform-stack';
import type { NetworkStack } from './network-stack';
import type { VaultKeysStack } from './vault-keys-stack';
import { addVaultAuditLogs, addVaultNodes } from './vault-nodes';

export interface VaultStandbyStackProps extends PlatformStackProps {
  readonly keys: VaultKeysStack;
  /** The environment's network: the standby's VPC is peered with it. */
  readonly network: Pick<NetworkStack, 'vpc'>;
}

/**
 * Vault's standby in the DR region (DESIGN.md §7): replicas of the multi-region keys, a minimal
 * VPC, and a cluster of the primary's shape. Open source: kept at zero nodes on the global
 * table's replica, scaled up only by `ops vault-failover` once the primary is down (both on one
 * table must never be active at once). Enterprise: a running DR-replication secondary on its own table.
 */
export class VaultStandbyStack extends PlatformStack {
  readonly unsealKey: MultiRegionKeyReplica;
  readonly dataKey: MultiRegionKeyReplica;
  readonly vpc: StandbyVpc;
  readonly cluster: VaultCluster;
  /** Enterprise only: the standby's own storage table (DR replication fills it). */
  readonly table?: VaultStorageTable;
  /** Inter-region peering with the environment's VPC: after a failover its clients reach the standby. */
  readonly peering: ec2.CfnVPCPeeringConnection;

  constructor(scope: Construct, id: string, props: VaultStandbyStackProps) {
    // Stack props only: the stacks it builds on are ours to use, not Stack's.
    const { keys, network, ...stackProps } = props;
    super(scope, id, {
      description: `${props.spec.project} ${props.environment.name}: Vault standby in the DR region`,
      // Reads the primary key ARNs from VaultKeys (another region): CDK's SSM-backed export/import,
      // the one way to pass a value only known after the keys stack deploys, without a manual step.
      crossRegionReferences: true,
      ...stackProps,
      inDrRegion: true,
    });
    const { spec, environment } = props;
    const vault = spec.vault;
    const names = vaultNames(spec, environment.name);
    const enterprise = vault.enterpriseReplication;

    this.unsealKey = new MultiRegionKeyReplica(this, 'UnsealKey', {
      primaryKeyArn: keys.unsealKey.keyArn,
      description: `Vault auto-unseal (${environment.name}), replica`,
    });
    this.dataKey = new MultiRegionKeyReplica(this, 'DataKey', {
      primaryKeyArn: keys.dataKey.keyArn,
      description: `Vault storage table, secrets and audit logs (${environment.name}), replica`,
      logGroupNames: [names.auditLogGroup, names.standbyFlowLogGroup],
    });

    this.vpc = new StandbyVpc(this, 'Network', {
      cidr: vault.standbyVpc.cidrs[environment.name as EnvironmentName],
      natGateways: vault.standbyVpc.natGateways,
      subnetCidrMask: vault.standbyVpc.subnetCidrMask,
      availabilityZones: spec.drRegion.availabilityZones,
      flowLogRetentionDays: environment.network.flowLogRetentionDays,
      flowLogGroupName: names.standbyFlowLogGroup,
      flowLogKeyArn: this.dataKey.keyArn,
    });
    const audit = addVaultAuditLogs(this, vault, names, this.dataKey.keyArn);

    if (enterprise) {
      this.table = new VaultStorageTable(this, 'Storage', { tableName: names.standbyTable, encryptionKeyArn: this.dataKey.keyArn });
    }
    const tableName = enterprise ? names.standbyTable : names.table;
    // The secrets are replicas of the primary region's (created by VaultStack, same name, random suffix).
    const secretArn = (name: string) => this.formatArn({
      service: 'secretsmanager', resource: 'secret', resourceName: `${name}-??????`, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const role = new VaultNodeRole(this, 'NodeRole', {
      unsealKeyArn: this.unsealKey.keyArn,
      secretsKeyArn: this.dataKey.keyArn,
      tableArn: this.table?.table.tableArn ?? this.formatArn({ service: 'dynamodb', resource: 'table', resourceName: tableName }),
      auditLogGroup: audit.logGroup,
      secretArns: [secretArn(names.tlsSecret), ...(enterprise ? [secretArn(names.licenseSecret)] : [])],
    });

    // Requested from here (the accepter is the environment's VPC, same account: accepted without a
    // role): this stack deploys first, and the primary's routes back name this connection.
    this.peering = new ec2.CfnVPCPeeringConnection(this, 'PrimaryPeering', {
      vpcId: this.vpc.vpc.vpcId,
      peerVpcId: network.vpc.vpcId,
      peerRegion: environment.region,
    });
    const primaryClients = zoneSubnetCidrs(spec, environment).private;
    this.vpc.vpc.privateSubnets.forEach((subnet, i) => {
      primaryClients.forEach((cidr, j) => {
        new ec2.CfnRoute(this, `ToPrimary${i + 1}x${j + 1}`, {
          routeTableId: subnet.routeTable.routeTableId, destinationCidrBlock: cidr, vpcPeeringConnectionId: this.peering.ref,
        });
      });
    });

    this.cluster = addVaultNodes(this, vault, names, {
      vpc: this.vpc.vpc,
      role: role.role,
      tableName,
      unsealKeyId: this.unsealKey.keyId,
      licensed: enterprise,
      autoScalingGroupName: names.standbyAutoScalingGroup,
      loadBalancerName: names.standbyLoadBalancer,
      // Open source: zero until failover. Enterprise: a DR secondary must run to receive replication.
      minCapacity: enterprise ? vault.nodes : 0,
      // No clients in the DR region: after a failover the primary region's private zone (the
      // pods, the bastion) calls it over the peering, by address (no group can be named across regions).
      clients: [],
      cidrClients: primaryClients.map((cidr) => ({ name: `${environment.name} private zone`, cidr })),
      replicationPeers: enterprise ? [environment.network.vpcCidr] : [],
    });

    new ssm.StringParameter(this, 'StandbyAddress', {
      parameterName: names.standbyAddressParameter,
      description: 'Vault standby cluster address (published to the address parameter by ops vault-failover)',
      stringValue: `https://${this.cluster.loadBalancer.loadBalancerDnsName}:${vault.apiPort}`,
    });
    new CfnOutput(this, 'StandbyAutoScalingGroup', { value: names.standbyAutoScalingGroup });
  }
}
