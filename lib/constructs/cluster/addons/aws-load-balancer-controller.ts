import { Aws, Stack } from 'aws-cdk-lib';
import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { acknowledge } from '../../../compliance';
import { PodIdentityRole } from '../../shared/pod-identity-role';
import { installChart } from './addon';
import type { ClusterAddon } from './addon';
// The controller's official IAM policy, vendored verbatim from aws-cdk-lib 2.276.0
// (node_modules/aws-cdk-lib/aws-eks-v2/lib/addons/alb-iam_policy-v3.2.2.json, which AWS ships
// from kubernetes-sigs/aws-load-balancer-controller docs/install/iam_policy.json at v3.2.2).
// Re-vendor it from the controller's release when the chart version in the spec moves on.
import albControllerPolicy from './aws-load-balancer-controller-iam-policy.json';

/** Service account of the AWS Load Balancer Controller (the chart creates it with this name). */
export const ALB_CONTROLLER_SERVICE_ACCOUNT = 'aws-load-balancer-controller';

const REASON = 'The AWS Load Balancer Controller\'s official IAM policy: it manages load balancers it creates at run time, scoped by the elbv2.k8s.aws/cluster tag conditions.';

/**
 * The AWS Load Balancer Controller (`clusterAddons.awsLoadBalancerController`) and its Pod
 * Identity role. Installed first: its webhooks intercept Service and Pod creation.
 */
export const awsLoadBalancerController: ClusterAddon<eks.HelmChart> = {
  id: 'AwsLoadBalancerController',
  install({ scope, cluster, charts, clusterReady }) {
    const spec = charts.awsLoadBalancerController;
    const role = new PodIdentityRole(scope, 'AwsLoadBalancerControllerIdentity', {
      cluster,
      namespace: spec.namespace,
      serviceAccount: ALB_CONTROLLER_SERVICE_ACCOUNT,
      description: 'AWS Load Balancer Controller: manage ALBs/NLBs and target groups of the cluster',
      policyDocument: iam.PolicyDocument.fromJson(withPartition(albControllerPolicy)),
    });
    // The controller creates and tags load balancers whose names it cannot know in advance; the
    // official policy scopes the writes by the elbv2.k8s.aws/cluster tag conditions instead.
    for (const resource of [
      '*', 'arn:<AWS::Partition>:ec2:*:*:security-group/*',
      'arn:<AWS::Partition>:elasticloadbalancing:*:*:loadbalancer/app/*/*',
      'arn:<AWS::Partition>:elasticloadbalancing:*:*:loadbalancer/net/*/*',
      'arn:<AWS::Partition>:elasticloadbalancing:*:*:targetgroup/*/*',
      'arn:<AWS::Partition>:elasticloadbalancing:*:*:listener-rule/app/*/*/*',
      'arn:<AWS::Partition>:elasticloadbalancing:*:*:listener-rule/net/*/*/*',
      'arn:<AWS::Partition>:elasticloadbalancing:*:*:listener/app/*/*/*',
      'arn:<AWS::Partition>:elasticloadbalancing:*:*:listener/net/*/*/*',
    ]) {
      acknowledge(role.policy!, `AwsSolutions-IAM5[Resource::${resource}]`, REASON);
    }
    acknowledge(role.policy!, 'checkov:CKV_AWS_111', REASON);

    const chart = installChart(cluster, this.id, spec, {
      clusterName: cluster.clusterName,
      // Given explicitly so the controller never needs IMDS to find them.
      region: Stack.of(scope).region,
      vpcId: cluster.vpc.vpcId,
      serviceAccount: { create: true, name: ALB_CONTROLLER_SERVICE_ACCOUNT },
    }, {
      // Its webhooks intercept Service and Pod creation: the release is done only when they
      // answer, so charts installed after it do not fail on "no endpoints available".
      wait: true,
    });
    chart.node.addDependency(...clusterReady, role);
    return chart;
  },
};

/** The policy names the `aws` partition; ours may be aws-cn (cdk.json target partitions). */
function withPartition(policy: unknown): unknown {
  return JSON.parse(JSON.stringify(policy).replaceAll('"arn:aws:', `"arn:${Aws.PARTITION}:`));
}
