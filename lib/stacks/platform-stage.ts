import { Stage } from 'aws-cdk-lib';
import { App as Cdk8sApp } from 'cdk8s';
import type { StageProps } from 'aws-cdk-lib';
import type { ILayerVersion } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { addPlatformCharts } from '../../charts/main';
import type { EnvironmentSpec, PlatformSpec } from '../spec';
import { ClusterStack } from './cluster-stack';
import { NetworkStack } from './network-stack';

export interface PlatformStageProps extends Omit<StageProps, 'env'> {
  readonly spec: PlatformSpec;
  readonly environment: EnvironmentSpec;
  /** Tests pass a layer by ARN so synth skips the ~36 MB kubectl layer asset. */
  readonly kubectlLayer?: ILayerVersion;
}

/** One environment of the platform: every stack of every layer, wired by construct props. */
export class PlatformStage extends Stage {
  readonly network: NetworkStack;
  readonly cluster: ClusterStack;

  constructor(scope: Construct, id: string, props: PlatformStageProps) {
    super(scope, id, { env: { account: props.environment.account, region: props.environment.region } });
    const { spec, environment } = props;
    this.network = new NetworkStack(this, 'Network', { spec, environment });
    this.cluster = new ClusterStack(this, 'Cluster', {
      spec, environment, network: this.network, kubectlLayer: props.kubectlLayer,
    });
    // The workloads' one definition: the chart objects rendered to dist/<env>/ are the ones
    // applied to the cluster (a cdk8s chart must be scoped to a cdk8s App, DESIGN.md §8).
    for (const chart of addPlatformCharts(new Cdk8sApp(), spec, environment)) {
      this.cluster.cluster.addCdk8sChart(`Chart-${chart.node.id}`, chart);
    }
  }
}
