/** The EKS cluster of each environment and the add-ons installed into it. */
import { z } from 'zod';
import { iamRoleName, instanceType, kebabName, logRetentionDays, positiveInt } from './common';

const nodeGroup = z.strictObject({
  instanceType,
  nodes: positiveInt,
  diskSizeGiB: z.number().int().min(20).max(16384),
});

/** environments.<name>.cluster */
export const environmentCluster = z.strictObject({
  kubernetesVersion: z.string().regex(/^1\.\d{2}$/, 'must be a Kubernetes minor version such as 1.35'),
  nodeGroup,
  /** The IAM role (in the environment's account) operators assume for cluster admin. */
  adminRoleName: iamRoleName,
  controlPlaneLogRetentionDays: logRetentionDays,
});

export const helmChart = z.strictObject({
  chart: z.string().min(1),
  repository: z.string().url(),
  version: z.string().regex(/^v?\d+\.\d+\.\d+$/, 'must be an exact chart version such as 1.2.3'),
  namespace: kebabName,
});
export type HelmChartSpec = z.infer<typeof helmChart>;

export const clusterAddons = z.strictObject({
  awsLoadBalancerController: helmChart,
  metricsServer: helmChart,
  certManager: helmChart,
  keda: helmChart,
  prometheus: helmChart,
  /** The Vault Agent injector (docs/vault.md): renders secrets into the pods; no Vault server in-cluster. */
  vaultInjector: helmChart,
  /** Flux's source-controller and kustomize-controller: the GitOps reconciler of the workloads (docs/gitops.md). */
  flux: helmChart,
});
