import type { App, CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { EBS_CSI_CONTROLLER_SERVICE_ACCOUNT } from '../../lib/constructs/cluster/managed-addons';
import {
  ALB_CONTROLLER_SERVICE_ACCOUNT, FLUX_CONTROLLERS_NOT_INSTALLED, FLUX_ECR_PULL_ACTIONS, FLUX_SOURCE_CONTROLLER_SERVICE_ACCOUNT, GP3_STORAGE_CLASS,
} from '../../lib/constructs/cluster/addons';
import { ENVIRONMENT_NAMES, loadPlatformSpec } from '../../lib/spec';
import type { EnvironmentName, EnvironmentSpec } from '../../lib/spec';
import { ClusterStack } from '../../lib/stacks/cluster-stack';
import { zoneSubnets } from '../../lib/constructs/network/zoned-vpc';
import { NetworkStack } from '../../lib/stacks/network-stack';
import { testApp } from '../helpers/app';
import { normaliseTemplate } from '../helpers/normalise-template';

const spec = loadPlatformSpec();

type Json = any;
type Resource = { Type: string; Properties: Record<string, Json>; DependsOn?: string[]; DeletionPolicy?: string };

interface Synthesized {
  readonly app: App;
  readonly missing: string[];
  readonly network: NetworkStack;
  readonly stack: ClusterStack;
  readonly template: Template;
  readonly networkTemplate: Template;
}

// One app and one synth per environment for the whole file. A kubectl layer by ARN keeps the
// ~36 MB layer asset out of the test synth.
const synthesized = Object.fromEntries(ENVIRONMENT_NAMES.map((name) => {
  const environment = spec.environments[name];
  const app = testApp(); // cdk.json's context: the built-in CloudFormation validation runs here too
  const network = new NetworkStack(app, 'Network', { spec, environment });
  const kubectlLayer = lambda.LayerVersion.fromLayerVersionArn(
    app, 'KubectlLayer', `arn:aws:lambda:${environment.region}:${environment.account}:layer:kubectl:1`,
  );
  const stack = new ClusterStack(app, 'Cluster', { spec, environment, network, kubectlLayer });
  const assembly = app.synth();
  return [name, {
    app,
    missing: Object.keys(assembly.manifest.missing ?? {}),
    network,
    stack,
    template: Template.fromStack(stack),
    networkTemplate: Template.fromStack(network),
  }];
})) as Record<EnvironmentName, Synthesized>;

function resourcesOfType(name: EnvironmentName, type: string): [string, Resource][] {
  return Object.entries(synthesized[name].template.toJSON().Resources as Record<string, Resource>)
    .filter(([, r]) => r.Type === type);
}
function onlyResource(name: EnvironmentName, type: string, where: (r: Resource) => boolean = () => true): [string, Resource] {
  const found = resourcesOfType(name, type).filter(([, r]) => where(r));
  expect(found).toHaveLength(1);
  return found[0];
}
function logicalId(stack: NetworkStack | ClusterStack, construct: IConstruct): string {
  return stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
}
/** What a cross-stack reference (Fn::GetStackOutput, weak references) points at in the network stack. */
function networkValue(name: EnvironmentName, value: Json): unknown {
  const ref = value['Fn::GetStackOutput'];
  expect(ref).toBeDefined();
  expect(ref.StackName).toBe(synthesized[name].network.stackName);
  return synthesized[name].networkTemplate.toJSON().Outputs[ref.OutputName].Value;
}
function privateSubnetRefs(name: EnvironmentName) {
  const { network } = synthesized[name];
  return network.vpc.selectSubnets(zoneSubnets('private')).subnets
    .map((subnet) => ({ Ref: logicalId(network, subnet) }));
}
function securityGroupRef(name: EnvironmentName, zone: keyof NetworkStack['zones']) {
  const { network } = synthesized[name];
  return { 'Fn::GetAtt': [logicalId(network, network.zones[zone]), 'GroupId'] };
}
function helmChart(name: EnvironmentName, chart: string) {
  return onlyResource(name, 'Custom::AWSCDK-EKS-HelmChart', (r) => r.Properties.Chart === chart);
}
function chartValues(resource: Resource): Json {
  const values = resource.Properties.Values;
  if (typeof values === 'string') return JSON.parse(values);
  // Values with tokens are an Fn::Join; tokens become placeholders so the JSON still parses.
  const joined = (values['Fn::Join'][1] as unknown[]).map((part) => (typeof part === 'string' ? part : '<token>')).join('');
  return JSON.parse(joined);
}

describe('the architecture document is unchanged', () => {
  it('pins the node groups this stack is built from (spec §4)', () => {
    // Literal on purpose: a spec edit that breaks the architecture document must fail here.
    expect(spec.environments.production.cluster.nodeGroup).toMatchObject({ nodes: 10, instanceType: 'm5.xlarge' });
    expect(spec.environments.staging.cluster.nodeGroup).toMatchObject({ nodes: 3, instanceType: 'm5.large' });
  });
});

describe.each(ENVIRONMENT_NAMES)('%s cluster', (name) => {
  const env: EnvironmentSpec = spec.environments[name];
  const template = () => synthesized[name].template;
  const clusterId = () => logicalId(synthesized[name].stack, synthesized[name].stack.cluster);
  const nodegroup = () => onlyResource(name, 'AWS::EKS::Nodegroup')[1];

  it('is bound to the spec account and region and looks nothing up', () => {
    const { stack, missing } = synthesized[name];
    expect(stack.account).toBe(env.account);
    expect(stack.region).toBe(env.region);
    expect(stack.stackName).toBe(`${spec.project}-${name}-cluster`);
    expect(stack.terminationProtection).toBe(env.terminationProtection);
    expect(missing).toEqual([]);
    expect(stack.cluster).toBeInstanceOf(eks.Cluster);
  });

  it('runs the spec Kubernetes version behind a private endpoint', () => {
    template().hasResourceProperties('AWS::EKS::Cluster', {
      Name: `${spec.project}-${name}`,
      Version: env.cluster.kubernetesVersion,
      ResourcesVpcConfig: {
        EndpointPrivateAccess: true,
        EndpointPublicAccess: false,
      },
      ComputeConfig: { Enabled: false }, // not Auto Mode
      BootstrapSelfManagedAddons: false,
    });
  });

  it('places the control plane in the private tier', () => {
    const cluster = onlyResource(name, 'AWS::EKS::Cluster')[1];
    const subnets = cluster.Properties.ResourcesVpcConfig.SubnetIds.map((v: unknown) => networkValue(name, v));
    expect(subnets).toEqual(privateSubnetRefs(name));
  });

  it('opens the API endpoint to the VPN and the bastion only', () => {
    const cluster = onlyResource(name, 'AWS::EKS::Cluster')[1];
    const [controlPlaneGroup] = cluster.Properties.ResourcesVpcConfig.SecurityGroupIds;
    const rules = resourcesOfType(name, 'AWS::EC2::SecurityGroupIngress')
      .map(([, r]) => r.Properties)
      .filter((p) => JSON.stringify(p.GroupId) === JSON.stringify(controlPlaneGroup));
    expect(rules.map((p) => [p.FromPort, p.ToPort, networkValue(name, p.SourceSecurityGroupId)])).toEqual(
      expect.arrayContaining([[443, 443, securityGroupRef(name, 'vpn')], [443, 443, securityGroupRef(name, 'bastion')]]),
    );
    expect(rules).toHaveLength(2);
  });

  it('lets the VPN\'s clients out to the API: an egress rule on the VPN group (which otherwise stops at the DMZ)', () => {
    const cluster = onlyResource(name, 'AWS::EKS::Cluster')[1];
    const [controlPlaneGroup] = cluster.Properties.ResourcesVpcConfig.SecurityGroupIds;
    const egress = resourcesOfType(name, 'AWS::EC2::SecurityGroupEgress').map(([, r]) => r.Properties)
      .filter((p) => JSON.stringify(p.DestinationSecurityGroupId) === JSON.stringify(controlPlaneGroup));
    expect(egress.map((p) => [p.IpProtocol, p.FromPort, p.ToPort, networkValue(name, p.GroupId)])).toEqual(
      expect.arrayContaining([['tcp', 443, 443, securityGroupRef(name, 'vpn')]]),
    );
  });

  it('logs all five control-plane log types to a retained log group of the spec retention', () => {
    template().hasResourceProperties('AWS::EKS::Cluster', {
      Logging: {
        ClusterLogging: {
          EnabledTypes: ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'].map((type) => ({ Type: type })),
        },
      },
    });
    const [logGroupId, logGroup] = onlyResource(name, 'AWS::Logs::LogGroup',
      (r) => r.Properties.LogGroupName === `/aws/eks/${spec.project}-${name}/cluster`);
    expect(logGroup.Properties.RetentionInDays).toBe(env.cluster.controlPlaneLogRetentionDays);
    expect(logGroup.DeletionPolicy).toBe('Retain');
    expect(onlyResource(name, 'AWS::EKS::Cluster')[1].DependsOn).toContain(logGroupId);
  });

  it('envelope-encrypts secrets with a rotated, retained customer-managed key', () => {
    const [keyId, key] = onlyResource(name, 'AWS::KMS::Key', (r) => String(r.Properties.Description).includes('Kubernetes secrets'));
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.DeletionPolicy).toBe('Retain');
    template().hasResourceProperties('AWS::EKS::Cluster', {
      EncryptionConfig: [{ Provider: { KeyArn: { 'Fn::GetAtt': [keyId, 'Arn'] } }, Resources: ['secrets'] }],
    });
  });

  it('encrypts every log group, the library\'s too, with the stack\'s logs key', () => {
    const [logsKeyId] = onlyResource(name, 'AWS::KMS::Key', (r) => String(r.Properties.Description).includes('CloudWatch Logs'));
    const groups = resourcesOfType(name, 'AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThanOrEqual(3);
    for (const [, group] of groups) expect(group.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [logsKeyId, 'Arn'] });
  });

  it('grants the spec admin role cluster admin through an access entry (no aws-auth)', () => {
    template().hasResourceProperties('AWS::EKS::Cluster', {
      AccessConfig: { AuthenticationMode: 'API', BootstrapClusterCreatorAdminPermissions: false },
    });
    template().hasResourceProperties('AWS::EKS::AccessEntry', {
      ClusterName: { Ref: clusterId() },
      PrincipalArn: `arn:aws:iam::${env.account}:role/${env.cluster.adminRoleName}`,
      AccessPolicies: [{
        AccessScope: { Type: 'cluster' },
        PolicyArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy']] },
      }],
    });
  });

  it('gives the cluster role the VPC resource controller policy (security groups for pods)', () => {
    const cluster = onlyResource(name, 'AWS::EKS::Cluster')[1];
    const roleId = cluster.Properties.RoleArn['Fn::GetAtt'][0];
    const role = template().toJSON().Resources[roleId];
    expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toContain('AmazonEKSVPCResourceController');
  });

  it('has one managed node group of the spec instance type and fixed size', () => {
    const { Properties: props } = nodegroup();
    expect(resourcesOfType(name, 'AWS::EKS::Nodegroup')).toHaveLength(1);
    expect(props.InstanceTypes).toEqual([env.cluster.nodeGroup.instanceType]);
    expect(props.ScalingConfig).toEqual({
      MinSize: env.cluster.nodeGroup.nodes,
      DesiredSize: env.cluster.nodeGroup.nodes,
      MaxSize: env.cluster.nodeGroup.nodes,
    });
    expect(props.AmiType).toBe('AL2023_x86_64_STANDARD');
  });

  it('spreads the nodes over the private subnets of the three AZs', () => {
    const subnets = nodegroup().Properties.Subnets.map((v: unknown) => networkValue(name, v));
    expect(subnets).toEqual(privateSubnetRefs(name));
    const { network } = synthesized[name];
    const azs = network.vpc.selectSubnets(zoneSubnets('private')).availabilityZones;
    expect([...azs].sort()).toEqual([...env.availabilityZones].sort());
  });

  it('launches nodes with IMDSv2, an encrypted gp3 root volume and the workloads zone group', () => {
    const [templateId, launchTemplate] = onlyResource(name, 'AWS::EC2::LaunchTemplate');
    expect(nodegroup().Properties.LaunchTemplate).toEqual({
      Id: { Ref: templateId },
      Version: { 'Fn::GetAtt': [templateId, 'LatestVersionNumber'] },
    });
    const data = launchTemplate.Properties.LaunchTemplateData;
    expect(data.MetadataOptions).toEqual({ HttpTokens: 'required', HttpPutResponseHopLimit: 2 });
    expect(data.BlockDeviceMappings).toEqual([{
      DeviceName: '/dev/xvda',
      Ebs: { VolumeSize: env.cluster.nodeGroup.diskSizeGiB, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true },
    }]);
    const [workloads, clusterGroup] = data.SecurityGroupIds;
    expect(networkValue(name, workloads)).toEqual(securityGroupRef(name, 'workloads'));
    expect(clusterGroup).toEqual({ 'Fn::GetAtt': [clusterId(), 'ClusterSecurityGroupId'] });
    expect(data.SecurityGroupIds).toHaveLength(2);
    expect(data.IamInstanceProfile).toBeUndefined(); // a managed node group brings its own
  });

  it('installs the EKS managed add-ons at the default version for the cluster', () => {
    for (const addon of ['vpc-cni', 'coredns', 'kube-proxy', 'aws-ebs-csi-driver', 'eks-pod-identity-agent']) {
      const [, resource] = onlyResource(name, 'AWS::EKS::Addon', (r) => r.Properties.AddonName === addon);
      expect(resource.Properties.ClusterName).toEqual({ Ref: clusterId() });
      expect(resource.Properties.AddonVersion).toBeUndefined();
    }
    expect(resourcesOfType(name, 'AWS::EKS::Addon')).toHaveLength(5);
  });

  it('turns on pod ENIs and NetworkPolicy enforcement in the VPC CNI', () => {
    const [, cni] = onlyResource(name, 'AWS::EKS::Addon', (r) => r.Properties.AddonName === 'vpc-cni');
    expect(JSON.parse(cni.Properties.ConfigurationValues)).toMatchObject({ enableNetworkPolicy: 'true', env: { ENABLE_POD_ENI: 'true' } });
  });

  it('orders add-ons around the node group: networking before, Deployments after', () => {
    const addonId = (addon: string) => onlyResource(name, 'AWS::EKS::Addon', (r) => r.Properties.AddonName === addon)[0];
    const [nodegroupId, ng] = onlyResource(name, 'AWS::EKS::Nodegroup');
    expect(ng.DependsOn).toEqual(expect.arrayContaining(['vpc-cni', 'kube-proxy', 'eks-pod-identity-agent'].map(addonId)));
    for (const addon of ['coredns', 'aws-ebs-csi-driver']) {
      expect(template().toJSON().Resources[addonId(addon)].DependsOn).toContain(nodegroupId);
    }
  });

  it.each([
    ['AWS Load Balancer Controller', () => spec.clusterAddons.awsLoadBalancerController.namespace, ALB_CONTROLLER_SERVICE_ACCOUNT],
    ['EBS CSI driver', () => EBS_CSI_CONTROLLER_SERVICE_ACCOUNT.namespace, EBS_CSI_CONTROLLER_SERVICE_ACCOUNT.name],
  ])('binds a Pod Identity role to the %s service account', (_label, namespace, serviceAccount) => {
    const [, association] = onlyResource(name, 'AWS::EKS::PodIdentityAssociation',
      (r) => r.Properties.ServiceAccount === serviceAccount);
    expect(association.Properties.Namespace).toBe(namespace());
    expect(association.Properties.ClusterName).toEqual({ Ref: clusterId() });
    const role = template().toJSON().Resources[association.Properties.RoleArn['Fn::GetAtt'][0]];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([{
      Effect: 'Allow',
      Principal: { Service: 'pods.eks.amazonaws.com' },
      Action: ['sts:AssumeRole', 'sts:TagSession'],
    }]);
  });

  it('gives the controllers their official least-privilege policies', () => {
    const roleOf = (serviceAccount: string) => {
      const [, association] = onlyResource(name, 'AWS::EKS::PodIdentityAssociation',
        (r) => r.Properties.ServiceAccount === serviceAccount);
      return template().toJSON().Resources[association.Properties.RoleArn['Fn::GetAtt'][0]];
    };
    const ebs = roleOf(EBS_CSI_CONTROLLER_SERVICE_ACCOUNT.name);
    expect(JSON.stringify(ebs.Properties.ManagedPolicyArns)).toContain(':iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy');
    // Customer-managed, attached to this role alone (PCI DSS / NIST want no inline policies).
    const [, albPolicy] = onlyResource(name, 'AWS::IAM::ManagedPolicy',
      (r) => String(r.Properties.Description).includes(ALB_CONTROLLER_SERVICE_ACCOUNT));
    expect(roleOf(ALB_CONTROLLER_SERVICE_ACCOUNT).Properties.Policies).toBeUndefined();
    expect(albPolicy.Properties.Roles).toHaveLength(1);
    const alb = JSON.stringify(albPolicy.Properties.PolicyDocument);
    expect(alb).toContain('elasticloadbalancing:CreateLoadBalancer');
    expect(alb).toContain('aws:RequestTag/elbv2.k8s.aws/cluster');
    expect(alb).not.toContain('"arn:aws:'); // partition-neutral
  });

  it('installs every Helm add-on at the spec chart, repository, version and namespace', () => {
    for (const chart of Object.values(spec.clusterAddons)) {
      const [, resource] = helmChart(name, chart.chart);
      expect(resource.Properties).toMatchObject({
        ClusterName: { Ref: clusterId() },
        Repository: chart.repository,
        Version: chart.version,
        Namespace: chart.namespace,
        Release: chart.chart,
      });
    }
    expect(resourcesOfType(name, 'Custom::AWSCDK-EKS-HelmChart')).toHaveLength(Object.keys(spec.clusterAddons).length);
  });

  it('configures the AWS Load Balancer Controller for this cluster, region and VPC', () => {
    const [, alb] = helmChart(name, spec.clusterAddons.awsLoadBalancerController.chart);
    expect(alb.Properties.Wait).toBe(true);
    expect(chartValues(alb)).toEqual({
      clusterName: '<token>',
      region: env.region,
      vpcId: '<token>',
      serviceAccount: { create: true, name: ALB_CONTROLLER_SERVICE_ACCOUNT },
    });
    const parts = alb.Properties.Values['Fn::Join'][1] as unknown[];
    expect(parts).toContainEqual({ Ref: clusterId() });
    const vpcRef = parts.find((p) => typeof p === 'object' && p !== null && 'Fn::GetStackOutput' in p);
    expect(networkValue(name, vpcRef)).toEqual({ Ref: logicalId(synthesized[name].network, synthesized[name].network.vpc) });
  });

  it('installs cert-manager with its CRDs and Prometheus on the gp3 StorageClass', () => {
    expect(chartValues(helmChart(name, spec.clusterAddons.certManager.chart)[1])).toMatchObject({ crds: { enabled: true } });
    expect(chartValues(helmChart(name, spec.clusterAddons.prometheus.chart)[1])).toMatchObject({
      server: { persistentVolume: { enabled: true, storageClass: GP3_STORAGE_CLASS } },
    });
    const manifests = resourcesOfType(name, 'Custom::AWSCDK-EKS-KubernetesResource')
      .map(([id, r]) => [id, JSON.parse(r.Properties.Manifest)] as const);
    const storageClass = manifests.find(([, m]) => m[0].kind === 'StorageClass');
    expect(storageClass?.[1]).toEqual([expect.objectContaining({
      metadata: expect.objectContaining({ name: GP3_STORAGE_CLASS }),
      provisioner: 'ebs.csi.aws.com',
      parameters: { type: 'gp3', encrypted: 'true' },
    })]);
    expect(helmChart(name, spec.clusterAddons.prometheus.chart)[1].DependsOn).toContain(storageClass![0]);
  });

  it('installs Flux\'s source-controller and kustomize-controller only, at the release of gitops.fluxControllers, with its CRDs', () => {
    const [, flux] = helmChart(name, spec.clusterAddons.flux.chart);
    expect(flux.Properties.Wait).toBe(true);
    const values = chartValues(flux);
    expect(values).toEqual({
      installCRDs: true,
      sourceController: { create: true, tag: spec.gitops.fluxControllers, serviceAccount: { create: true } },
      kustomizeController: { create: true, tag: spec.gitops.fluxControllers },
      ...Object.fromEntries(FLUX_CONTROLLERS_NOT_INSTALLED.map((controller) => [controller, { create: false }])),
      // Its allow-all egress policy would undo the restricted-zone guard of the namespace.
      policies: { create: false },
    });
    // Every controller of the chart (charts/flux2/values.yaml of flux2 2.18.3) is named: none comes by default.
    expect(Object.keys(values).filter((key) => /Controller$|^sourceWatcher$/.test(key)).sort()).toEqual([
      'helmController', 'imageAutomationController', 'imageReflectionController', 'kustomizeController',
      'notificationController', 'sourceController', 'sourceWatcher',
    ]);
  });

  it('lets Flux\'s source-controller pull from the environment\'s config repository, and nothing else', () => {
    const [, association] = onlyResource(name, 'AWS::EKS::PodIdentityAssociation',
      (r) => r.Properties.ServiceAccount === FLUX_SOURCE_CONTROLLER_SERVICE_ACCOUNT);
    expect(association.Properties.Namespace).toBe(spec.clusterAddons.flux.namespace);
    const roleId = association.Properties.RoleArn['Fn::GetAtt'][0];
    const [policyId, policy] = onlyResource(name, 'AWS::IAM::ManagedPolicy',
      (r) => (r.Properties.Roles ?? []).some((role: Json) => role.Ref === roleId));
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      { Action: 'ecr:GetAuthorizationToken', Effect: 'Allow', Resource: '*' },
      {
        Action: [...FLUX_ECR_PULL_ACTIONS].sort(), Effect: 'Allow',
        // Built from the spec's names: no reference to the registry stack.
        Resource: `arn:${synthesized[name].stack.resolve(synthesized[name].stack.partition)}:ecr:${env.region}:${env.account}:repository/${spec.project}/${spec.gitops.repositoryName}`,
      },
    ]);
    expect(FLUX_ECR_PULL_ACTIONS.every((action) => /^ecr:(BatchGet|GetDownload|BatchCheck|Describe)/.test(action))).toBe(true);
    // The chart waits for the role: source-controller's first pull must find its identity.
    expect(helmChart(name, spec.clusterAddons.flux.chart)[1].DependsOn).toEqual(expect.arrayContaining([roleId, policyId]));
  });

  it('installs the other charts after the controller (its webhooks) and the controller after the nodes', () => {
    const [albId, alb] = helmChart(name, spec.clusterAddons.awsLoadBalancerController.chart);
    expect(alb.DependsOn).toContain(onlyResource(name, 'AWS::EKS::Nodegroup')[0]);
    for (const chart of [spec.clusterAddons.metricsServer, spec.clusterAddons.certManager, spec.clusterAddons.keda, spec.clusterAddons.prometheus, spec.clusterAddons.flux]) {
      expect(helmChart(name, chart.chart)[1].DependsOn).toContain(albId);
    }
  });

  it('runs the kubectl handler inside the VPC, in the private subnets', () => {
    const handlers = resourcesOfType(name, 'AWS::Lambda::Function')
      .filter(([, r]) => r.Properties.Description === 'onEvent handler for EKS kubectl resource provider');
    expect(handlers).toHaveLength(1);
    const subnets = handlers[0][1].Properties.VpcConfig.SubnetIds.map((v: unknown) => networkValue(name, v));
    expect(subnets).toEqual(privateSubnetRefs(name));
  });

  it('outputs the cluster name, ARN and the update-kubeconfig command', () => {
    template().hasOutput('ClusterName', { Value: { Ref: clusterId() } });
    template().hasOutput('ClusterArn', { Value: { 'Fn::GetAtt': [clusterId(), 'Arn'] } });
    template().hasOutput('UpdateKubeconfigCommand', {
      Value: {
        'Fn::Join': ['', [
          'aws eks update-kubeconfig --name ',
          { Ref: clusterId() },
          ` --region ${env.region} --role-arn arn:aws:iam::${env.account}:role/${env.cluster.adminRoleName}`,
        ]],
      },
    });
  });

  it('matches the snapshot', () => {
    expect(normaliseTemplate(template().toJSON())).toMatchSnapshot();
  });
});

describe('the kubectl layer', () => {
  it('fails naming the spec field when no layer exists for the Kubernetes version', () => {
    const environment = {
      ...spec.environments.staging,
      cluster: { ...spec.environments.staging.cluster, kubernetesVersion: '1.99' },
    };
    const app = testApp();
    const network = new NetworkStack(app, 'Network', { spec, environment });
    expect(() => new ClusterStack(app, 'Cluster', { spec, environment, network }))
      .toThrow(/environments\.staging\.cluster\.kubernetesVersion = "1\.99": no kubectl layer/);
  });

  it('defaults to the layer of the spec version', () => {
    // Construction only (no synth): the real layer is a ~36 MB asset.
    const environment = spec.environments.staging;
    const app = testApp();
    const network = new NetworkStack(app, 'Network', { spec, environment });
    const stack = new ClusterStack(app, 'Cluster', { spec, environment, network });
    const layer = stack.node.findChild('KubectlLayer') as lambda.LayerVersion;
    expect(layer).toBeInstanceOf(lambda.LayerVersion);
    const description = (layer.node.defaultChild as lambda.CfnLayerVersion).description;
    expect(description).toContain(`kubectl ${environment.cluster.kubernetesVersion}.`);
  });
});
