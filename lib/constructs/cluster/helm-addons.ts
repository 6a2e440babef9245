import { Aws, Stack } from 'aws-cdk-lib';
import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { IDependable } from 'constructs';
import type { EnvironmentSpec, HelmChartSpec, PlatformSpec } from '../../spec';
import { AlertmanagerPublisher } from '../../observability/prometheus-addon';
import { acknowledge } from '../../compliance';
import { PodIdentityRole } from '../shared/pod-identity-role';
// The controller's official IAM policy, vendored verbatim from aws-cdk-lib 2.276.0
// (node_modules/aws-cdk-lib/aws-eks-v2/lib/addons/alb-iam_policy-v3.2.2.json, which AWS ships
// from kubernetes-sigs/aws-load-balancer-controller docs/install/iam_policy.json at v3.2.2).
// Re-vendor it from the controller's release when the chart version in the spec moves on.
import albControllerPolicy from './policies/aws-load-balancer-controller-iam-policy.json';

export interface HelmAddonsProps {
  readonly cluster: eks.Cluster;
  readonly charts: PlatformSpec['clusterAddons'];
  /** What must be running before any chart installs: nodes, CoreDNS, the Pod Identity agent. */
  readonly clusterReady: readonly IDependable[];
  /** The EBS CSI driver, which provisions the volumes of the gp3 StorageClass. */
  readonly storageReady: readonly IDependable[];
  /** Rules and Alertmanager routing for the Prometheus add-on (lib/observability); none: Prometheus only feeds KEDA. */
  readonly observability?: { readonly spec: PlatformSpec; readonly environment: EnvironmentSpec };
}

/** Service account of the AWS Load Balancer Controller (the chart creates it with this name). */
export const ALB_CONTROLLER_SERVICE_ACCOUNT = 'aws-load-balancer-controller';
/** The StorageClass this construct creates for EBS gp3 volumes. */
export const GP3_STORAGE_CLASS = 'gp3';

/**
 * In-cluster add-ons installed with Helm through the cluster's kubectl handler: AWS Load
 * Balancer Controller, metrics-server, cert-manager, KEDA and Prometheus. Charts, repositories,
 * versions and namespaces come from the spec's `clusterAddons`.
 */
export class HelmAddons extends Construct {
  readonly awsLoadBalancerController: eks.HelmChart;
  readonly awsLoadBalancerControllerRole: PodIdentityRole;
  readonly metricsServer: eks.HelmChart;
  readonly certManager: eks.HelmChart;
  readonly keda: eks.HelmChart;
  readonly prometheus: eks.HelmChart;
  readonly gp3StorageClass: eks.KubernetesManifest;

  constructor(scope: Construct, id: string, props: HelmAddonsProps) {
    super(scope, id);
    const { cluster, charts } = props;

    const alb = charts.awsLoadBalancerController;
    this.awsLoadBalancerControllerRole = new PodIdentityRole(this, 'AwsLoadBalancerControllerIdentity', {
      cluster,
      namespace: alb.namespace,
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
      acknowledge(this.awsLoadBalancerControllerRole.policy!, `AwsSolutions-IAM5[Resource::${resource}]`,
        'The AWS Load Balancer Controller\'s official IAM policy: it manages load balancers it creates at run time, scoped by the elbv2.k8s.aws/cluster tag conditions.');
    }
    acknowledge(this.awsLoadBalancerControllerRole.policy!, 'checkov:CKV_AWS_111',
      'The AWS Load Balancer Controller\'s official IAM policy: it manages load balancers it creates at run time, scoped by the elbv2.k8s.aws/cluster tag conditions.');
    this.awsLoadBalancerController = this.chart('AwsLoadBalancerController', cluster, alb, {
      clusterName: cluster.clusterName,
      // Given explicitly so the controller never needs IMDS to find them.
      region: Stack.of(this).region,
      vpcId: cluster.vpc.vpcId,
      serviceAccount: { create: true, name: ALB_CONTROLLER_SERVICE_ACCOUNT },
    }, {
      // Its webhooks intercept Service and Pod creation: the release is done only when they
      // answer, so charts installed after it do not fail on "no endpoints available".
      wait: true,
    });
    this.awsLoadBalancerController.node.addDependency(...props.clusterReady, this.awsLoadBalancerControllerRole);

    this.metricsServer = this.chart('MetricsServer', cluster, charts.metricsServer);
    this.certManager = this.chart('CertManager', cluster, charts.certManager, {
      crds: { enabled: true },
    });
    this.keda = this.chart('Keda', cluster, charts.keda);

    // The EBS CSI driver provisions, EKS ships no gp3 class. Default class so that a PVC without
    // a class gets an encrypted gp3 volume too.
    this.gp3StorageClass = cluster.addManifest('Gp3StorageClass', {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: {
        name: GP3_STORAGE_CLASS,
        annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
      },
      provisioner: 'ebs.csi.aws.com',
      parameters: { type: 'gp3', encrypted: 'true' },
      // Bind where the pod lands, so the volume is created in that pod's AZ.
      volumeBindingMode: 'WaitForFirstConsumer',
      allowVolumeExpansion: true,
      reclaimPolicy: 'Delete',
    });
    this.gp3StorageClass.node.addDependency(...props.storageReady);

    // The services' recording and alerting rules, and Alertmanager publishing to the alarm topics.
    const alerting = props.observability
      ? new AlertmanagerPublisher(this, 'Alertmanager', { cluster, ...props.observability, namespace: charts.prometheus.namespace })
      : undefined;
    this.prometheus = this.chart('Prometheus', cluster, charts.prometheus, {
      server: {
        // The chart's default scrape config already includes the `kubernetes-pods` job, which
        // scrapes every pod annotated prometheus.io/scrape: "true" (port/path from annotations).
        persistentVolume: { enabled: true, storageClass: GP3_STORAGE_CLASS },
      },
      // This Prometheus also feeds KEDA's latency trigger (DESIGN.md §7); nothing pushes metrics.
      alertmanager: { enabled: false },
      'prometheus-pushgateway': { enabled: false },
      ...alerting?.values,
    });
    this.prometheus.node.addDependency(this.gp3StorageClass);
    if (alerting) this.prometheus.node.addDependency(alerting.identity.association);

    // Everything after the controller: its webhooks must answer before other charts create
    // Services, and on delete the controller must outlive them to remove their load balancers.
    for (const chart of [this.metricsServer, this.certManager, this.keda, this.prometheus]) {
      chart.node.addDependency(this.awsLoadBalancerController);
    }
  }

  private chart(
    id: string,
    cluster: eks.Cluster,
    chart: HelmChartSpec,
    values?: Record<string, unknown>,
    options: Pick<eks.HelmChartOptions, 'wait'> = {},
  ): eks.HelmChart {
    return cluster.addHelmChart(id, {
      chart: chart.chart,
      repository: chart.repository,
      version: chart.version,
      namespace: chart.namespace,
      // A readable, stable release name instead of the construct-path default.
      release: chart.chart,
      createNamespace: true,
      values,
      ...options,
    });
  }
}

/** The policy names the `aws` partition; ours may be aws-cn (cdk.json target partitions). */
function withPartition(policy: unknown): unknown {
  return JSON.parse(JSON.stringify(policy).replaceAll('"arn:aws:', `"arn:${Aws.PARTITION}:`));
}
