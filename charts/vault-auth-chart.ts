import { PlatformChart } from './lib/platform-chart';
import type { PlatformChartProps } from './lib/platform-chart';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s';
import type { Construct } from 'constructs';
import { TOKEN_REVIEWER, tokenReviewerNamespace } from '../lib/spec/topology';


/**
 * One dedicated ServiceAccount bound to `system:auth-delegator` (TokenReview and
 * SubjectAccessReview, nothing else), with a `kubernetes.io/service-account-token` Secret that
 * the token controller fills with a non-expiring token. The workloads' own accounts get no
 * cluster-wide right: a compromised pod cannot probe other accounts' tokens.
 */
export class VaultAuthChart extends PlatformChart {
  constructor(scope: Construct, id: string, props: PlatformChartProps) {
    super(scope, id, props);
    const namespace = tokenReviewerNamespace(props.spec);
    new k8s.KubeServiceAccount(this, 'token-reviewer', {
      metadata: { name: TOKEN_REVIEWER.serviceAccount, namespace },
      // No pod runs as it: its only use is the token below, held by Vault.
      automountServiceAccountToken: false,
    });
    new k8s.KubeSecret(this, 'token-reviewer-token', {
      metadata: {
        name: TOKEN_REVIEWER.secret,
        namespace,
        annotations: { 'kubernetes.io/service-account.name': TOKEN_REVIEWER.serviceAccount },
      },
      type: 'kubernetes.io/service-account-token',
    });
    new k8s.KubeClusterRoleBinding(this, 'token-reviewer-auth-delegator', {
      metadata: { name: `${TOKEN_REVIEWER.serviceAccount}-auth-delegator` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
      subjects: [{ kind: 'ServiceAccount', name: TOKEN_REVIEWER.serviceAccount, namespace }],
    });
  }
}
