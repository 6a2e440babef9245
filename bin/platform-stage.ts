import { RemovalPolicy, Stage } from 'aws-cdk-lib';
import type { CfnResource, StageProps } from 'aws-cdk-lib';
import { App as Cdk8sApp } from 'cdk8s';
import type { Chart } from 'cdk8s';
import type { ILayerVersion } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { PlatformBindings } from '../charts/bindings-chart';
import { GitopsChart } from '../charts/gitops-chart';
import { bindingsConfigMap, bindingsVariables } from '../charts/lib/bindings-variables';
import { addPlatformCharts } from '../charts/main';
import { imageTagFrom, retainAppliedChartsFrom } from '../lib/spec';
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

/** Construct id of the GitOps chart: part of its manifest resource's logical id. */
const GITOPS_CHART_ID = 'gitops';

export interface PlatformStageProps extends Omit<StageProps, 'env'> {
  readonly spec: PlatformSpec;
  readonly environment: EnvironmentSpec;
  /** Tests pass a layer by ARN so synth skips the ~36 MB kubectl layer asset. */
  readonly kubectlLayer?: ILayerVersion;
}

/**
 * One environment of the platform: every stack of every layer, wired by construct props, and the
 * GitOps reconciler's source and bindings applied to its cluster. It sits in bin/ beside the app
 * because it is the one module that puts lib/ (the stacks) and charts/ (the workloads) together;
 * charts/ builds on lib/, never back.
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
    this.applyGitops(props);
  }

  /**
   * What CDK still applies to the cluster (docs/gitops.md): the deploy-time values as the
   * platform-bindings ConfigMap and the GitOps chart that points Flux at the environment's
   * artifact of dist/<env>/. Flux applies the workloads, the bindings chart among them, with the
   * ConfigMap's values substituted. Both after every add-on: Flux (its CRDs), and the CRDs and
   * webhooks the workloads need (cert-manager, KEDA, TargetGroupBinding), so a first
   * reconciliation finds them served. With `-c gitops:retainAppliedCharts=true`, the charts CDK
   * applied before are kept in the template, retained (retainAppliedCharts).
   */
  private applyGitops(props: PlatformStageProps) {
    const { spec, environment } = props;
    const cluster = this.cluster.cluster;
    const addOns = this.cluster.helmAddons.charts;
    const bindings: PlatformBindings = {
      databaseWriterHost: this.database.instance.dbInstanceEndpointAddress,
      databaseReaderHosts: this.database.replicas.map((replica) => replica.dbInstanceEndpointAddress),
      cacheHost: this.cache.replicationGroup.attrPrimaryEndPointAddress,
      // MSK gives its bootstrap brokers through an API call only (no CloudFormation attribute);
      // the topics custom resource makes that call anyway and returns them.
      kafkaBootstrapBrokers: this.messaging.topicsResource.resource.getAttString('BootstrapBrokers'),
      apiGatewayTargetGroupArn: this.edge.apiGatewayTargetGroup.targetGroupArn,
      dmzSecurityGroupId: this.network.zones.dmz.securityGroupId,
    };

    const variables = cluster.addManifest('GitopsBindings', bindingsConfigMap(spec.clusterAddons.flux.namespace, bindingsVariables(bindings)));
    variables.node.addDependency(...addOns);
    const gitops = cluster.addCdk8sChart(`Chart-${GITOPS_CHART_ID}`, new GitopsChart(new Cdk8sApp(), GITOPS_CHART_ID, { spec, environment }));
    // The Kustomization fails without the ConfigMap it substitutes from.
    gitops.node.addDependency(...addOns, variables);

    if (retainAppliedChartsFrom((key) => this.node.tryGetContext(key))) this.retainAppliedCharts(props, bindings);
  }

  /**
   * The adoption deploy (docs/gitops.md): the kubectl resources that applied the charts before
   * Flux did, under their logical ids and with their manifests of then (the bindings with the
   * stacks' values, not the variables), and their order, now with a Retain deletion policy.
   * Deployed once, CloudFormation records the policy without touching the objects; the next
   * deploy, without the flag, removes the resources without deleting what they applied, which
   * Flux owns by then.
   */
  private retainAppliedCharts(props: PlatformStageProps, bindings: PlatformBindings) {
    const { spec, environment } = props;
    const cluster = this.cluster.cluster;
    const imageTag = imageTagFrom((key) => this.node.tryGetContext(key), process.env);
    const [namespaces, bindingsChart, ...workloads] = addPlatformCharts(new Cdk8sApp(), spec, environment, { imageTag, bindings });
    const apply = (chart: Chart) => {
      const manifest = cluster.addCdk8sChart(`Chart-${chart.node.id}`, chart);
      (manifest.node.defaultChild as CfnResource).applyRemovalPolicy(RemovalPolicy.RETAIN);
      return manifest;
    };
    const namespacesManifest = apply(namespaces!);
    namespacesManifest.node.addDependency(...this.cluster.helmAddons.charts);
    const bindingsManifest = apply(bindingsChart!);
    bindingsManifest.node.addDependency(namespacesManifest);
    for (const chart of workloads) apply(chart).node.addDependency(namespacesManifest, bindingsManifest);
  }
}
