/**
 * Findings on resources that aws-cdk-lib makes for its own machinery, acknowledged once here and
 * applied where that machinery appears.
 */
import { CfnResource, Lazy, Stack } from 'aws-cdk-lib';
import { CfnManagedPolicy } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { acknowledge } from './acknowledge';

/**
 * `restrictDefaultSecurityGroup: true` on a VPC: a one-shot custom resource that empties the
 * default security group's rules at deploy time (one provider per stack).
 */
export function acknowledgeRestrictDefaultSecurityGroup(scope: IConstruct): void {
  const stack = Stack.of(scope);
  const provider = stack.node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
  if (!provider) return;
  moveInlinePolicyToManaged(provider, scope);
  const findings: Record<string, string> = {
    'checkov:CKV_AWS_115': 'Runs once per deploy of this stack, called by CloudFormation; a concurrency reservation would only idle capacity.',
    'checkov:CKV_AWS_116': 'Called synchronously by CloudFormation, which gets the failure and rolls back; there is no async event to dead-letter.',
    'checkov:CKV_AWS_117': 'It calls only the EC2 API to revoke the default group\'s rules; outside the VPC it needs no NAT or endpoint and touches no VPC resource.',
    'cfn-lint:W3005': 'aws-cdk-lib renders an explicit DependsOn on the provider role beside the GetAtt; redundant but harmless, and not ours to edit.',
  };
  for (const [id, reason] of Object.entries(findings)) acknowledge(provider, id, reason);
}

/**
 * The provider's role carries its grant (revoke and authorize on the default group only) as an
 * inline policy, on a plain CfnResource that cdk-nag does not inspect, so no tool saw it. The
 * same statements go into a customer-managed policy attached to the role instead, which the
 * compliance packs do check; the custom resource waits for the attachment.
 */
function moveInlinePolicyToManaged(provider: IConstruct, vpc: IConstruct) {
  const role = provider.node.tryFindChild('Role');
  if (!(role instanceof CfnResource) || provider.node.tryFindChild('ManagedPolicy')) return;
  const stack = Stack.of(role);
  // The provider renders its statements when the stack is synthesized: read them then.
  const inline = (role as unknown as { _cfnProperties: { Policies?: unknown } })._cfnProperties;
  const document = Lazy.any({
    produce: () => {
      const policies = stack.resolve(inline.Policies) as Array<{ PolicyDocument: unknown }> | undefined;
      if (!policies || policies.length !== 1) throw new Error(`${role.node.path}: expected one inline policy to move, found ${policies?.length ?? 0}`);
      return policies[0]!.PolicyDocument;
    },
  });
  const managed = new CfnManagedPolicy(provider, 'ManagedPolicy', {
    description: 'Empties the VPC default security groups of this stack (CDK restrictDefaultSecurityGroup)',
    policyDocument: document,
    roles: [role.ref],
  });
  role.addPropertyDeletionOverride('Policies');
  const resource = vpc.node.tryFindChild('RestrictDefaultSecurityGroupCustomResource')?.node.defaultChild;
  if (resource instanceof CfnResource) resource.node.addDependency(managed);
}
