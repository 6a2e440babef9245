import { Stack } from 'aws-cdk-lib';
import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { acknowledge } from '../../../compliance';
import { PodIdentityRole } from '../../shared/pod-identity-role';
import { installChart } from './addon';
import type { ClusterAddon } from './addon';

/** Service account of Flux's source-controller (the chart creates it with this name). */
export const FLUX_SOURCE_CONTROLLER_SERVICE_ACCOUNT = 'source-controller';

/** The Flux controllers the chart would install that GitOps here does not use (docs/gitops.md). */
export const FLUX_CONTROLLERS_NOT_INSTALLED = [
  'helmController', 'imageAutomationController', 'imageReflectionController', 'notificationController', 'sourceWatcher',
] as const;

/** What source-controller does with the environment's config repository: pull, nothing else. */
export const FLUX_ECR_PULL_ACTIONS = ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:DescribeImages', 'ecr:GetDownloadUrlForLayer'];

/**
 * Flux (`clusterAddons.flux`): source-controller and kustomize-controller only, at the release
 * gitops.fluxControllers names (the one the tests build and run), with the Flux CRDs. The
 * GitOps chart CDK applies after it points them at the environment's config repository.
 *
 * source-controller signs in to ECR with its Pod Identity (OCIRepository `provider: aws`): the
 * role may pull from that one repository, named from the spec, so the cluster stack needs no
 * reference to the registry stack. No KMS permission: ECR decrypts a KMS-encrypted repository's
 * layers through the grant it holds on the key, not with the caller's permissions (the nodes
 * pull the services' images from the same key the same way).
 */
export const flux: ClusterAddon<eks.HelmChart> = {
  id: 'Flux',
  install({ scope, cluster, charts, gitops }) {
    const spec = charts.flux;
    const stack = Stack.of(scope);
    const repositoryArn = stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: gitops.configRepositoryName });
    const role = new PodIdentityRole(scope, 'FluxSourceControllerIdentity', {
      cluster,
      namespace: spec.namespace,
      serviceAccount: FLUX_SOURCE_CONTROLLER_SERVICE_ACCOUNT,
      description: `Flux source-controller: pull the rendered manifests from ${gitops.configRepositoryName}`,
      policyDocument: new iam.PolicyDocument({
        statements: [
          // A registry-wide call: ECR's sign-in has no resource to scope it to.
          new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
          new iam.PolicyStatement({ actions: FLUX_ECR_PULL_ACTIONS, resources: [repositoryArn] }),
        ],
      }),
    });
    acknowledge(role.policy!, 'AwsSolutions-IAM5[Resource::*]',
      'ecr:GetAuthorizationToken supports no resource-level permissions (IAM service authorization reference); it returns a registry sign-in token only, every read is scoped to the config repository.');

    const chart = installChart(cluster, this.id, spec, {
      installCRDs: true,
      ...Object.fromEntries(FLUX_CONTROLLERS_NOT_INSTALLED.map((controller) => [controller, { create: false }])),
      sourceController: { create: true, tag: gitops.fluxControllers, serviceAccount: { create: true } },
      kustomizeController: { create: true, tag: gitops.fluxControllers },
      // The chart's allow-egress policy admits all egress from every pod of the namespace, which
      // would undo the namespaces chart's restricted-zone guard there (NetworkPolicies add up).
      policies: { create: false },
    }, {
      // The GitOps objects CDK applies next need the CRDs served.
      wait: true,
    });
    chart.node.addDependency(role);
    return chart;
  },
};
