/**
 * Findings on resources that aws-cdk-lib makes for its own machinery, acknowledged once here and
 * applied where that machinery appears.
 */
import { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { acknowledge } from './acknowledge';

/**
 * `restrictDefaultSecurityGroup: true` on a VPC: a one-shot custom resource that empties the
 * default security group's rules at deploy time (one provider per stack).
 */
export function acknowledgeRestrictDefaultSecurityGroup(scope: IConstruct): void {
  const provider = Stack.of(scope).node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
  if (!provider) return;
  const findings: Record<string, string> = {
    'checkov:CKV_AWS_115': 'Runs once per deploy of this stack, called by CloudFormation; a concurrency reservation would only idle capacity.',
    'checkov:CKV_AWS_116': 'Called synchronously by CloudFormation, which gets the failure and rolls back; there is no async event to dead-letter.',
    'checkov:CKV_AWS_117': 'It calls only the EC2 API to revoke the default group\'s rules; outside the VPC it needs no NAT or endpoint and touches no VPC resource.',
    'cfn-lint:W3005': 'aws-cdk-lib renders an explicit DependsOn on the provider role beside the GetAtt; redundant but harmless, and not ours to edit.',
  };
  for (const [id, reason] of Object.entries(findings)) acknowledge(provider, id, reason);
}
