import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Testing } from 'cdk8s';
import { zoneSubnetCidrs } from '../../lib/spec/topology';
import { addPlatformCharts } from '../../charts/main';
import { loadPlatformSpec } from '../../lib/spec';
import { PlatformStage } from '../../bin/platform-stage';
import { testApp } from '../helpers/app';
import { expectStatefulResourcesPinned } from '../helpers/data-tier-stacks';

const spec = loadPlatformSpec();
const environment = spec.environments.staging;
const app = testApp({ context: { 'services:imageTag': 'deadbeef' } });
const stage = new PlatformStage(app, 'staging', {
  spec, environment,
  kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(app, 'Layer', 'arn:aws:lambda:us-east-1:222222222222:layer:kubectl:1'),
});
const cluster = Template.fromStack(stage.cluster);
const manifests = Object.entries(cluster.findResources('Custom::AWSCDK-EKS-KubernetesResource'))
  .map(([id, r]) => ({ id, resource: r, objects: JSON.parse(JSON.stringify(stage.cluster.resolve(r.Properties.Manifest))) }));
/** The applied objects of one chart, as JSON text with CloudFormation intrinsics left in place. */
const chartManifest = (chart: string) => {
  const found = manifests.find((m) => m.id.startsWith(`EksClusterChart${chart.replace(/-/g, '')}`));
  if (!found) throw new Error(`no manifest for chart ${chart}: ${manifests.map((m) => m.id).join(', ')}`);
  return found;
};

describe('an environment stage', () => {
  it('holds one stack per layer, named from the spec, in the spec account and region', () => {
    expect([stage.network, stage.cluster, stage.registry, stage.analytics].map((s) => [s.stackName, s.account, s.region])).toEqual([
      ['platform-staging-network', environment.account, environment.region],
      ['platform-staging-cluster', environment.account, environment.region],
      ['platform-staging-registry', environment.account, environment.region],
      ['platform-staging-analytics', environment.account, environment.region],
    ]);
    expect(stage.cluster.dependencies).toContain(stage.network);
    // The jar is published to the registry's bucket before the analytics stack names it.
    expect(stage.analytics.dependencies).toEqual(expect.arrayContaining([stage.network, stage.messaging, stage.registry]));
  });

  it('applies to the cluster exactly the manifests that dist/ renders for review, at the image tag of the context', () => {
    const rendered = addPlatformCharts(Testing.app(), spec, environment, { imageTag: 'deadbeef' });
    for (const chart of rendered) {
      const applied = JSON.parse(chartManifest(chart.node.id).resource.Properties.Manifest as string) as any[];
      // The handler adds a prune label to every object; apart from it the objects are the same.
      const withoutPruneLabel = applied.map((o) => {
        const labels = Object.fromEntries(Object.entries(o.metadata.labels ?? {}).filter(([k]) => !k.startsWith('aws.cdk.eks/prune')));
        return { ...o, metadata: { ...o.metadata, labels } };
      });
      expect(withoutPruneLabel).toEqual(Testing.synth(chart));
    }
    const gateway = JSON.parse(chartManifest('api-gateway').resource.Properties.Manifest as string) as any[];
    expect(gateway.find((o) => o.kind === 'Deployment').spec.template.spec.containers[0].image).toMatch(/platform\/api-gateway:deadbeef$/);
  });

  it('applies the workload charts after the namespaces, and those after the CRDs\' Helm charts', () => {
    const namespaces = chartManifest('namespaces');
    for (const chart of ['vault-auth', 'pki', 'pgbouncer', 'api-gateway', 'payment-service', 'bindings']) {
      expect(chartManifest(chart).resource.DependsOn).toContain(namespaces.id);
    }
    const helm = Object.entries(cluster.findResources('Custom::AWSCDK-EKS-HelmChart'))
      .filter(([, r]) => ['cert-manager', 'keda', 'aws-load-balancer-controller', 'vault'].includes(r.Properties.Chart)).map(([id]) => id);
    expect(helm).toHaveLength(4);
    for (const id of helm) expect(namespaces.resource.DependsOn).toContain(id);
  });

  it('binds the deploy-time values: target group, RDS writer and replicas, cache, Kafka brokers, the DMZ group', () => {
    const text = JSON.stringify(chartManifest('bindings').objects);
    expect(text).toContain('TargetGroupBinding');
    // Cross-stack references, resolved by CloudFormation at deploy time.
    for (const output of ['platform-staging-edge', 'PostgresPrimary', 'PostgresReplica1', 'PostgresReplica2', 'PrimaryEndPointAddress',
      'BootstrapBrokers', 'ZonesDmz']) {
      expect(text).toContain(output);
    }
    // The DMZ group of the network stack, on the gateway's pods (SecurityGroupPolicy).
    expect(text).toMatch(/"kind\\?":\\?"SecurityGroupPolicy\\?"/);
    expect(text).toMatch(/PublishOutputFnGetAttZonesDmz\w+GroupId/);
  });

  it('applies the workloads after the bindings: a pod gets its SecurityGroupPolicy\'s group only if the policy was there first', () => {
    const bindings = chartManifest('bindings');
    for (const chart of ['pgbouncer', ...spec.services.map((s) => s.name)]) {
      expect(chartManifest(chart).resource.DependsOn).toContain(bindings.id);
    }
  });

  it('gives the SecurityGroupPolicies effect: pod ENIs in the VPC CNI, probes through them, the VPC resource controller', () => {
    // Without these the API server accepts a SecurityGroupPolicy and nothing acts on it: the
    // DMZ pods would run with the node's groups.
    expect(JSON.stringify(chartManifest('bindings').objects)).toMatch(/"kind\\?":\\?"SecurityGroupPolicy\\?"/);
    const cni = Object.values(cluster.findResources('AWS::EKS::Addon')).find((r) => r.Properties.AddonName === 'vpc-cni')!;
    expect(JSON.parse(cni.Properties.ConfigurationValues)).toMatchObject({
      env: { ENABLE_POD_ENI: 'true' }, init: { env: { DISABLE_TCP_EARLY_DEMUX: 'true' } },
    });
    // The control plane's role (pod identities are assumed by pods.eks.amazonaws.com instead).
    const clusterRoles = Object.values(cluster.findResources('AWS::IAM::Role'))
      .filter((r) => r.Properties.AssumeRolePolicyDocument.Statement.some((st: any) => st.Principal?.Service === 'eks.amazonaws.com'));
    expect(clusterRoles.map((r) => JSON.stringify(r.Properties.ManagedPolicyArns))).toEqual([expect.stringContaining('AmazonEKSVPCResourceController')]);
  });

  it('installs the Vault Agent injector only, pointed at the in-cluster Vault name', () => {
    const injector = Object.values(cluster.findResources('Custom::AWSCDK-EKS-HelmChart')).find((r) => r.Properties.Chart === 'vault')!;
    expect(injector.Properties).toMatchObject({ Version: spec.clusterAddons.vaultInjector.version, Namespace: spec.clusterAddons.vaultInjector.namespace });
    const values = JSON.parse(injector.Properties.Values);
    expect(values).toMatchObject({ server: { enabled: false }, injector: { enabled: true } });
    expect(values.global.externalVaultAddr).toBe(`https://vault.vault.svc.cluster.local:${spec.vault.apiPort}`);
  });

  it('owns one immutable, scanned, KMS-encrypted, retained ECR repository per service', () => {
    const registry = Template.fromStack(stage.registry);
    const repositories = Object.values(registry.findResources('AWS::ECR::Repository'));
    expect(repositories.map((r) => r.Properties.RepositoryName).sort()).toEqual(spec.services.map((s) => `platform/${s.name}`).sort());
    for (const repository of repositories) {
      expect(repository.Properties).toMatchObject({
        ImageTagMutability: 'IMMUTABLE', ImageScanningConfiguration: { ScanOnPush: true },
        EncryptionConfiguration: { EncryptionType: 'KMS' },
      });
      expect(repository.DeletionPolicy).toBe('Retain');
    }
  });

  it('keeps the logical ids of the image repositories and their key (a new id would replace them)', () => {
    expectStatefulResourcesPinned(Template.fromStack(stage.registry), [
      ['ImagesKey6E3F8F97', 'AWS::KMS::Key'],
      ['ArtifactsKey99FD090B', 'AWS::KMS::Key'],
      ['RepositoryapigatewayFBC7E6A6', 'AWS::ECR::Repository'],
      ['RepositoryauthserviceD14A995D', 'AWS::ECR::Repository'],
      ['RepositoryuserserviceB44BE5C4', 'AWS::ECR::Repository'],
      ['Repositorypaymentservice49C9D258', 'AWS::ECR::Repository'],
      ['Repositoryorderservice671A2BB5', 'AWS::ECR::Repository'],
    ]);
  });

  it('computes the zone subnets the NetworkPolicies name exactly as the network stack allocates them', () => {
    const subnets = Object.values(Template.fromStack(stage.network).findResources('AWS::EC2::Subnet'));
    const byZone = (zone: string) => subnets
      .filter((s) => s.Properties.Tags.some((t: any) => t.Key === 'aws-cdk:subnet-name' && t.Value === zone))
      .map((s) => s.Properties.CidrBlock).sort();
    const computed = zoneSubnetCidrs(spec, environment);
    for (const zone of ['public', 'dmz', 'private', 'restricted'] as const) {
      expect(byZone(zone)).toEqual([...computed[zone]].sort());
    }
  });
});
