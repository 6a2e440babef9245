import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Testing } from 'cdk8s';
import { chartTestApp } from '../helpers/chart-app';
import { zoneSubnetCidrs } from '../../lib/spec/topology';
import { addPlatformCharts } from '../../charts/main';
import { BINDING_PLACEHOLDERS, BINDING_VARIABLES, BINDINGS_CONFIGMAP } from '../../charts/lib/bindings-variables';
import { GP3_STORAGE_CLASS } from '../../lib/constructs/cluster/addons';
import { GITOPS_OBJECT_NAME } from '../../lib/spec/topology';
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
/** A manifest's objects; a CloudFormation reference inside (an Fn::Join part) becomes its JSON text. */
const manifestObjects = (manifest: unknown): any[] => {
  if (typeof manifest === 'string') return JSON.parse(manifest);
  const parts = (manifest as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p).replace(/"/g, "'"))).join(''));
};
const manifests = Object.entries(cluster.findResources('Custom::AWSCDK-EKS-KubernetesResource'))
  .map(([id, r]) => ({ id, resource: r, objects: manifestObjects(stage.cluster.resolve(r.Properties.Manifest)) }));
const gitopsObjects = () => manifests.find((m) => m.id.startsWith('EksClusterChartgitops'))!.objects as any[];
const bindingsConfigMap = () => {
  const found = manifests.find((m) => m.id.startsWith('EksClustermanifestGitopsBindings'))!;
  return { id: found.id, resource: { ...found, objects: found.objects as any[] } };
};

// The adoption deploy (docs/gitops.md): the same stage with -c gitops:retainAppliedCharts=true.
const adoptingApp = testApp({ context: { 'services:imageTag': 'deadbeef', 'gitops:retainAppliedCharts': 'true' } });
const adoptingStage = new PlatformStage(adoptingApp, 'staging', {
  spec, environment,
  kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(adoptingApp, 'Layer', 'arn:aws:lambda:us-east-1:222222222222:layer:kubectl:1'),
});
const adoptingCluster = Template.fromStack(adoptingStage.cluster);

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

  it('applies to the cluster only the bindings ConfigMap and the GitOps chart: Flux applies the workloads', () => {
    expect(manifests.map((m) => m.objects.map((o: any) => `${o.kind}/${o.metadata.name}`)).flat().sort()).toEqual([
      `ConfigMap/${BINDINGS_CONFIGMAP}`, `Kustomization/${GITOPS_OBJECT_NAME}`, `OCIRepository/${GITOPS_OBJECT_NAME}`, `StorageClass/${GP3_STORAGE_CLASS}`,
    ].sort());
    expect(manifests.filter((m) => m.id.startsWith('EksClusterChart')).map((m) => m.id)).toEqual([expect.stringMatching(/^EksClusterChartgitops/)]);
  });

  it('points Flux at the environment\'s config repository, at its revision, on the intervals of the spec', () => {
    const objects = gitopsObjects();
    const source = objects.find((o) => o.kind === 'OCIRepository');
    expect(source.metadata.namespace).toBe(spec.clusterAddons.flux.namespace);
    expect(source.spec).toMatchObject({
      url: `oci://${environment.account}.dkr.ecr.${environment.region}.amazonaws.com/platform/config`,
      ref: { tag: 'main' }, provider: 'aws', interval: '1m',
    });
    expect(environment.gitops.revision).toEqual({ branch: 'main' });
    const kustomization = objects.find((o) => o.kind === 'Kustomization');
    // gitops.driftInterval / retryInterval / applyTimeout (PT10M, PT2M, PT10M), within the configuration RTO (PT30M).
    expect([spec.gitops.sourceInterval, spec.gitops.driftInterval, spec.gitops.retryInterval, spec.gitops.applyTimeout, spec.disasterRecovery.configuration!.rto])
      .toEqual(['PT1M', 'PT10M', 'PT2M', 'PT10M', 'PT30M']);
    expect(kustomization.spec).toMatchObject({
      interval: '10m', retryInterval: '2m', timeout: '10m', prune: true, wait: true,
      sourceRef: { kind: 'OCIRepository', name: GITOPS_OBJECT_NAME },
      postBuild: { substituteFrom: [{ kind: 'ConfigMap', name: BINDINGS_CONFIGMAP }] },
    });
  });

  it('writes the deploy-time values into the ConfigMap Flux substitutes from: target group, RDS writer and replicas, cache, Kafka brokers, the DMZ group', () => {
    const configMap = bindingsConfigMap();
    expect(configMap.resource.objects[0].metadata).toMatchObject({ namespace: spec.clusterAddons.flux.namespace, labels: { 'reconcile.fluxcd.io/watch': 'Enabled' } });
    const text = JSON.stringify(configMap.resource.objects);
    // One value per variable of the rendered bindings chart, and nothing else.
    expect(Object.keys(configMap.resource.objects[0].data).sort()).toEqual([...BINDING_VARIABLES].sort());
    // Cross-stack references, resolved by CloudFormation at deploy time.
    for (const output of ['platform-staging-edge', 'PostgresPrimary', 'PostgresReplica1', 'PostgresReplica2', 'PrimaryEndPointAddress',
      'BootstrapBrokers', 'ZonesDmz']) {
      expect(text).toContain(output);
    }
    expect(text).toMatch(/PublishOutputFnGetAttZonesDmz\w+GroupId/);
  });

  it('applies the ConfigMap and the GitOps chart after every Helm add-on: Flux, and the CRDs and webhooks the workloads need', () => {
    const helm = Object.entries(cluster.findResources('Custom::AWSCDK-EKS-HelmChart'))
      .filter(([, r]) => ['cert-manager', 'keda', 'aws-load-balancer-controller', 'vault', 'flux2'].includes(r.Properties.Chart)).map(([id]) => id);
    expect(helm).toHaveLength(5);
    const gitops = manifests.find((m) => m.id.startsWith('EksClusterChartgitops'))!;
    const configMap = bindingsConfigMap();
    for (const id of helm) {
      expect(gitops.resource.DependsOn).toContain(id);
      expect(configMap.resource.resource.DependsOn).toContain(id);
    }
    // The Kustomization's substitution fails without its ConfigMap.
    expect(gitops.resource.DependsOn).toContain(configMap.id);
  });

  it('keeps, under -c gitops:retainAppliedCharts=true, the kubectl resources that applied the charts before, under their logical ids, retained', () => {
    const retained = Object.entries(adoptingCluster.findResources('Custom::AWSCDK-EKS-KubernetesResource'))
      .filter(([id]) => id.startsWith('EksClusterChart') && !id.startsWith('EksClusterChartgitops'));
    // The logical ids the cluster stack had when CDK applied the charts (a new id would be a
    // create plus a delete: kubectl delete of every workload).
    expect(retained.map(([id]) => id).sort()).toEqual([
      'EksClusterChartapigatewayBB8047DB', 'EksClusterChartauthservice0C13CEBB', 'EksClusterChartbindingsED7577F5',
      'EksClusterChartnamespaces536627A6', 'EksClusterChartorderservice1D853652', 'EksClusterChartpaymentserviceB7D3D40E',
      'EksClusterChartpgbouncerB4DB7136', 'EksClusterChartpkiF6124817', 'EksClusterChartuserservice061C9CD1', 'EksClusterChartvaultauthBD750E0A',
    ]);
    for (const [, resource] of retained) expect([resource.DeletionPolicy, resource.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    // Their manifests as CDK applied them (a changed manifest would be an update: a kubectl apply):
    // the charts of dist/ at the context's image tag, the bindings with the stacks' values.
    const byChart = Object.fromEntries(retained.map(([id, r]) => [id.replace(/^EksClusterChart/, '').replace(/[0-9A-F]{8}$/, ''), r]));
    const rendered = addPlatformCharts(chartTestApp(), spec, environment, { imageTag: 'deadbeef', bindings: BINDING_PLACEHOLDERS });
    for (const chart of rendered.filter((c) => c.node.id !== 'bindings')) {
      const applied = JSON.parse(byChart[chart.node.id.replace(/-/g, '')].Properties.Manifest as string) as any[];
      const withoutPruneLabel = applied.map((o) => {
        const labels = Object.fromEntries(Object.entries(o.metadata.labels ?? {}).filter(([k]) => !k.startsWith('aws.cdk.eks/prune')));
        return { ...o, metadata: { ...o.metadata, labels } };
      });
      expect(withoutPruneLabel).toEqual(Testing.synth(chart));
    }
    const bindingsText = JSON.stringify(adoptingStage.cluster.resolve(byChart.bindings.Properties.Manifest));
    expect(bindingsText).toContain('PostgresPrimary');
    expect(bindingsText).not.toContain('${');
    // The old order: the bindings and the workloads after the namespaces, the workloads after the bindings.
    for (const chart of ['pgbouncer', ...spec.services.map((s) => s.name)]) {
      expect(byChart[chart.replace(/-/g, '')].DependsOn).toEqual(expect.arrayContaining(['EksClusterChartnamespaces536627A6', 'EksClusterChartbindingsED7577F5']));
    }
    // The GitOps side is there as without the flag.
    expect(Object.keys(adoptingCluster.findResources('Custom::AWSCDK-EKS-KubernetesResource')).filter((id) => !retained.some(([r]) => r === id)).sort())
      .toEqual(manifests.map((m) => m.id).sort());
  });

  it('refuses a retainAppliedCharts value other than true or false, with one line', () => {
    expect(() => loadPlatformSpec({ context: (key) => (key === 'gitops:retainAppliedCharts' ? 'yes' : undefined), contextKeys: ['gitops:retainAppliedCharts'] }))
      .toThrow('context gitops:retainAppliedCharts = "yes": must be true or false');
    expect(() => loadPlatformSpec({ contextKeys: ['gitops:retainCharts'] })).toThrow(/gitops:retainCharts: unknown key; gitops takes gitops:retainAppliedCharts/);
  });

  it('gives the SecurityGroupPolicies effect: pod ENIs in the VPC CNI, probes through them, the VPC resource controller', () => {
    // Without these the API server accepts a SecurityGroupPolicy and nothing acts on it: the
    // DMZ pods would run with the node's groups.
    expect(addPlatformCharts(chartTestApp(), spec, environment).find((c) => c.node.id === 'bindings')!.toJson().map((o: any) => o.kind)).toContain('SecurityGroupPolicy');
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

  it('owns one immutable, scanned, KMS-encrypted, retained ECR repository per service, and the config repository', () => {
    const registry = Template.fromStack(stage.registry);
    const repositories = Object.values(registry.findResources('AWS::ECR::Repository'));
    expect(repositories.map((r) => r.Properties.RepositoryName).sort())
      .toEqual([...spec.services.map((s) => `platform/${s.name}`), 'platform/config'].sort());
    for (const repository of repositories) {
      expect(repository.Properties).toMatchObject({
        ImageScanningConfiguration: { ScanOnPush: true },
        EncryptionConfiguration: { EncryptionType: 'KMS' },
      });
      expect(repository.DeletionPolicy).toBe('Retain');
      if (repository.Properties.RepositoryName !== 'platform/config') expect(repository.Properties.ImageTagMutability).toBe('IMMUTABLE');
    }
  });

  it('lets a branch\'s artifact tag move (staging) and pins a commit\'s (production), keeping a bounded number of artifacts', () => {
    const production = new PlatformStage(testApp({ context: { 'services:imageTag': 'deadbeef' } }), 'production', {
      spec, environment: spec.environments.production,
      kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(app, 'ProductionLayer', 'arn:aws:lambda:us-east-1:111111111111:layer:kubectl:1'),
    });
    const config = (registry: Template) => Object.values(registry.findResources('AWS::ECR::Repository'))
      .find((r) => r.Properties.RepositoryName === 'platform/config')!;
    expect(spec.environments.staging.gitops.revision).toHaveProperty('branch');
    expect(spec.environments.production.gitops.revision).toHaveProperty('commit');
    expect(config(Template.fromStack(stage.registry)).Properties.ImageTagMutability).toBe('MUTABLE');
    const pinned = config(Template.fromStack(production.registry));
    expect(pinned.Properties.ImageTagMutability).toBe('IMMUTABLE');
    const rules = JSON.parse(pinned.Properties.LifecyclePolicy.LifecyclePolicyText).rules;
    expect(rules).toEqual([expect.objectContaining({ selection: expect.objectContaining({ countType: 'imageCountMoreThan', countNumber: 200 }) })]);
    expect(Template.fromStack(production.registry).toJSON().Outputs).toHaveProperty('ConfigRepositoryUri');
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
      ['ConfigRepository8FE0F38B', 'AWS::ECR::Repository'],
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
