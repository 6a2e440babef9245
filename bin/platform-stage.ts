import { Stage } from 'aws-cdk-lib';
import { App as Cdk8sApp } from 'cdk8s';
import type { StageProps } from 'aws-cdk-lib';
import type { ILayerVersion } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { addBindingsChart, addPlatformCharts } from '../charts/main';
import { imageTagFrom } from '../lib/spec';
import type { EnvironmentSpec, PlatformSpec } from '../lib/spec';
import { AnalyticsStack } from '../lib/stacks/analytics-stack';
import { CacheStack } from '../lib/stacks/cache-stack';
import { ClusterStack } from '../lib/stacks/cluster-stack';
import { DatabaseStack } from '../lib/stacks/database-stack';
import { DataRecoveryStack } from '../lib/stacks/data-recovery-stack';
import { EdgeStack } from '../lib/stacks/edge-stack';
import { MessagingStack } from '../lib/stacks/messaging-stack';
import { NetworkStack } from '../lib/stacks/network-stack';
import { ObservabilityStack } from '../lib/stacks/observability-stack';
import { RegistryStack } from '../lib/stacks/registry-stack';
import { VaultKeysStack } from '../lib/stacks/vault-keys-stack';
import { VaultStack } from '../lib/stacks/vault-stack';
import { VaultStandbyStack } from '../lib/stacks/vault-standby-stack';

export interface PlatformStageProps extends Omit<StageProps, 'env'> {
  readonly spec: PlatformSpec;
  readonly environment: EnvironmentSpec;
  /** Tests pass a layer by ARN so synth skips the ~36 MB kubectl layer asset. */
  readonly kubectlLayer?: ILayerVersion;
}

/**
 * One environment of the platform: every stack of every layer, wired by construct props, and the
 * charts applied to its cluster. It sits in bin/ beside the app because it is the one module that
 * puts lib/ (the stacks) and charts/ (the workloads) together; charts/ builds on lib/, never back.
 */
export class PlatformStage extends Stage {
  readonly network: NetworkStack;
  readonly cluster: ClusterStack;
  /** Vault (DESIGN.md §7): keys, then the DR-region standby (replica keys), then the primary. */
  readonly vaultKeys: VaultKeysStack;
  readonly vaultStandby: VaultStandbyStack;
  readonly vault: VaultStack;
  readonly edge: EdgeStack;
  /** Data tier: the DR-region backup vault, then the database that copies into it. */
  readonly dataRecovery: DataRecoveryStack;
  readonly database: DatabaseStack;
  readonly cache: CacheStack;
  readonly messaging: MessagingStack;
  /** The services' ECR repositories and the artifacts bucket of the analytics jar. */
  readonly registry: RegistryStack;
  /** Kafka -> Flink -> Data Warehouse. */
  readonly analytics: AnalyticsStack;
  /** Alarms, notification topics and the dashboard of everything above (docs/observability.md). */
  readonly observability: ObservabilityStack;

  constructor(scope: Construct, id: string, props: PlatformStageProps) {
    super(scope, id, { env: { account: props.environment.account, region: props.environment.region } });
    const { spec, environment } = props;
    this.network = new NetworkStack(this, 'Network', { spec, environment });
    this.vaultKeys = new VaultKeysStack(this, 'VaultKeys', { spec, environment });
    this.vaultStandby = new VaultStandbyStack(this, 'VaultStandby', {
      spec, environment, inDrRegion: true, keys: this.vaultKeys, network: this.network,
    });
    this.vault = new VaultStack(this, 'Vault', { spec, environment, network: this.network, keys: this.vaultKeys, standby: this.vaultStandby });
    this.edge = new EdgeStack(this, 'Edge', { spec, environment, network: this.network });
    this.dataRecovery = new DataRecoveryStack(this, 'DataRecovery', { spec, environment });
    this.database = new DatabaseStack(this, 'Database', { spec, environment, network: this.network, dataRecovery: this.dataRecovery });
    this.cache = new CacheStack(this, 'Cache', { spec, environment, network: this.network });
    this.messaging = new MessagingStack(this, 'Messaging', { spec, environment, network: this.network });
    this.cluster = new ClusterStack(this, 'Cluster', {
      spec, environment, network: this.network, kubectlLayer: props.kubectlLayer,
    });
    this.registry = new RegistryStack(this, 'Registry', { spec, environment });
    this.analytics = new AnalyticsStack(this, 'Analytics', {
      spec, environment, network: this.network, messaging: this.messaging, registry: this.registry,
    });
    this.observability = new ObservabilityStack(this, 'Observability', {
      spec, environment, network: this.network, edge: this.edge, vault: this.vault, cluster: this.cluster,
    });
    this.applyCharts(props);
  }

  /**
   * The workloads' one definition: the chart objects rendered to dist/<env>/ are the ones
   * applied to the cluster (a cdk8s chart must be scoped to a cdk8s App, DESIGN.md §8), plus the
   * bindings chart of deploy-time values they refer to by name (docs/workloads.md).
   */
  private applyCharts(props: PlatformStageProps) {
    const { spec, environment } = props;
    const cluster = this.cluster.cluster;
    const imageTag = imageTagFrom((key) => this.node.tryGetContext(key), process.env);
    // The CRDs (cert-manager, KEDA, TargetGroupBinding) and the webhooks the charts rely on.
    // (SecurityGroupPolicy's CRD and webhook come with EKS's VPC resource controller.)
    // And every add-on namespace, where the namespaces chart closes the restricted zone.
    const prerequisites = this.cluster.helmAddons.charts;

    const [namespaces, ...workloads] = addPlatformCharts(new Cdk8sApp(), spec, environment, { imageTag });
    const namespacesManifest = cluster.addCdk8sChart(`Chart-${namespaces!.node.id}`, namespaces!);
    namespacesManifest.node.addDependency(...prerequisites);
    const workloadManifests = workloads.map((chart) => {
      const manifest = cluster.addCdk8sChart(`Chart-${chart.node.id}`, chart);
      manifest.node.addDependency(namespacesManifest);
      return manifest;
    });

    const bindings = addBindingsChart(new Cdk8sApp(), spec, environment, {
      databaseWriterHost: this.database.instance.dbInstanceEndpointAddress,
      databaseReaderHosts: this.database.replicas.map((replica) => replica.dbInstanceEndpointAddress),
      cacheHost: this.cache.replicationGroup.attrPrimaryEndPointAddress,
      // MSK gives its bootstrap brokers through an API call only (no CloudFormation attribute);
      // the topics custom resource makes that call anyway and returns them.
      kafkaBootstrapBrokers: this.messaging.topicsResource.resource.getAttString('BootstrapBrokers'),
      apiGatewayTargetGroupArn: this.edge.apiGatewayTargetGroup.targetGroupArn,
      dmzSecurityGroupId: this.network.zones.dmz.securityGroupId,
    });
    const bindingsManifest = cluster.addCdk8sChart(`Chart-${bindings.node.id}`, bindings);
    bindingsManifest.node.addDependency(namespacesManifest);
    // The workloads after the bindings: a pod gets its SecurityGroupPolicy's group only when the
    // policy exists at the pod's creation, and pods mount the bindings' ConfigMaps.
    for (const manifest of workloadManifests) manifest.node.addDependency(bindingsManifest);
  }
}
