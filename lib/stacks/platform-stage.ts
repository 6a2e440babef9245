import { Stage } from 'aws-cdk-lib';
import type { StageProps } from 'aws-cdk-lib';
import type { ILayerVersion } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
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
  }
}
