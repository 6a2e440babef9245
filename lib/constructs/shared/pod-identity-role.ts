import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface PodIdentityRoleProps {
  readonly cluster: eks.ICluster;
  /** Namespace of the Kubernetes service account the role is bound to. */
  readonly namespace: string;
  /** Name of the service account; it need not exist yet (Helm charts and add-ons create theirs). */
  readonly serviceAccount: string;
  /**
   * The role's description.
   * @default `Pod Identity role of <namespace>/<serviceAccount>`
   */
  readonly description?: string;
  /**
   * The role's permissions, attached as a customer-managed policy of this role alone.
   * @default - no policy of its own
   */
  readonly policyDocument?: iam.PolicyDocument;
  /**
   * Managed policies attached to the role.
   * @default - none
   */
  readonly managedPolicies?: iam.IManagedPolicy[];
}

/**
 * An IAM role for one Kubernetes service account through EKS Pod Identity, and the
 * association that binds them.
 *
 * Pod Identity rather than IRSA: no OIDC provider per cluster, and the trust policy does not
 * embed the cluster's issuer URL, so the role survives a cluster replacement. The
 * eks-pod-identity-agent add-on must run on the nodes (ManagedAddons installs it).
 */
export class PodIdentityRole extends Construct {
  readonly role: iam.Role;
  readonly policy?: iam.ManagedPolicy;
  readonly association: eks.CfnPodIdentityAssociation;

  constructor(scope: Construct, id: string, props: PodIdentityRoleProps) {
    super(scope, id);

    this.role = new iam.Role(this, 'Role', {
      // Pod Identity needs sts:TagSession besides sts:AssumeRole: the agent tags the session
      // with the cluster, namespace and service account (usable in ABAC conditions).
      assumedBy: new iam.SessionTagsPrincipal(new iam.ServicePrincipal('pods.eks.amazonaws.com')),
      description: props.description ?? `Pod Identity role of ${props.namespace}/${props.serviceAccount}`,
      managedPolicies: props.managedPolicies,
    });
    if (props.policyDocument) {
      // Managed rather than inline: PCI DSS / NIST 800-53 checks want policies as their own
      // versioned objects.
      this.policy = new iam.ManagedPolicy(this, 'Policy', {
        description: `Permissions of ${props.namespace}/${props.serviceAccount}`,
        document: props.policyDocument,
        roles: [this.role],
      });
    }

    this.association = new eks.CfnPodIdentityAssociation(this, 'Association', {
      clusterName: props.cluster.clusterName,
      namespace: props.namespace,
      serviceAccount: props.serviceAccount,
      roleArn: this.role.roleArn,
    });
  }
}
