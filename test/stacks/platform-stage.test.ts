import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Testing } from 'cdk8s';
import { addPlatformCharts } from '../../charts/main';
import { loadPlatformSpec } from '../../lib/spec';
import { PlatformStage } from '../../lib/stacks/platform-stage';
import { testApp } from '../helpers/app';

const spec = loadPlatformSpec();
const environment = spec.environments.staging;
const app = testApp();
const stage = new PlatformStage(app, 'staging', {
  spec, environment,
  kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(app, 'Layer', 'arn:aws:lambda:us-east-1:222222222222:layer:kubectl:1'),
});
const cluster = Template.fromStack(stage.cluster);

describe('an environment stage', () => {
  it('holds one stack per layer, named from the spec, in the spec account and region', () => {
    expect([stage.network, stage.cluster].map((s) => [s.stackName, s.account, s.region])).toEqual([
      ['platform-staging-network', environment.account, environment.region],
      ['platform-staging-cluster', environment.account, environment.region],
    ]);
    expect(stage.cluster.dependencies).toContain(stage.network);
  });

  it('applies to the cluster exactly the manifests that dist/ renders for review', () => {
    const applied = Object.values(cluster.findResources('Custom::AWSCDK-EKS-KubernetesResource'))
      .map((r) => JSON.parse(r.Properties.Manifest as string))
      .filter((manifest: any[]) => manifest.some((m) => m.kind === 'Namespace'));
    const rendered = addPlatformCharts(Testing.app(), spec, environment).map((chart) => Testing.synth(chart));
    expect(applied).toHaveLength(rendered.length);
    // The handler adds a prune label to every object; apart from it the objects are the same.
    const withoutPruneLabel = (objects: any[]) => objects.map((o) => {
      const labels = Object.fromEntries(Object.entries(o.metadata.labels ?? {}).filter(([k]) => !k.startsWith('aws.cdk.eks/prune')));
      return { ...o, metadata: { ...o.metadata, labels } };
    });
    expect(applied.map(withoutPruneLabel)).toEqual(rendered);
  });
});
