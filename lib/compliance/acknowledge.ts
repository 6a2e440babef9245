/**
 * One way to acknowledge a finding of any validator, next to the resource it concerns:
 *
 *   acknowledge(bucket, 'AwsSolutions-S1', 'why this is acceptable')        // cdk-nag
 *   acknowledge(fn, 'CloudFormation-Validate::W3010', '...')                // CDK's built-in validation
 *   acknowledge(role, 'cfn-lint:W3005', '...')                               // cfn-lint over cdk.out
 *   acknowledge(logGroup, 'checkov:CKV_AWS_158', '...')                      // checkov over cdk.out
 *
 * cdk-nag and CDK's validation read `Validations.acknowledge`; cfn-lint and checkov read the
 * resource's template Metadata, which this writes for every CloudFormation resource under the
 * scope (an aspect, so resources added after the call are covered too). Every reason is kept in
 * the construct tree, where a test checks that none is empty or vague.
 */
import { Aspects, CfnResource, Validations } from 'aws-cdk-lib';
import type { IAspect } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Construct metadata type under which cfn-lint and checkov acknowledgements are recorded. */
export const TEMPLATE_ACKNOWLEDGEMENT_METADATA = 'platform:acknowledged-findings';

/** A reason must say why, not just that: at least this many characters. */
export const MIN_REASON_LENGTH = 30;

export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  if (reason.trim().length < MIN_REASON_LENGTH) {
    throw new Error(`acknowledge(${scope.node.path}, ${id}): the reason must say why, in at least ${MIN_REASON_LENGTH} characters`);
  }
  const [tool, check] = id.includes(':') && /^(cfn-lint|checkov):/.test(id) ? id.split(':', 2) : [undefined, id];
  if (tool === undefined) {
    Validations.of(scope).acknowledge({ id, reason });
    return;
  }
  scope.node.addMetadata(TEMPLATE_ACKNOWLEDGEMENT_METADATA, { [id]: reason });
  Aspects.of(scope).add(new TemplateAcknowledgement(tool as 'cfn-lint' | 'checkov', check, reason));
}

class TemplateAcknowledgement implements IAspect {
  constructor(
    private readonly tool: 'cfn-lint' | 'checkov',
    private readonly check: string,
    private readonly reason: string,
  ) {}

  visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node)) return;
    if (this.tool === 'cfn-lint') {
      const current = (node.getMetadata('cfn-lint') as { config?: { ignore_checks?: string[] } } | undefined) ?? {};
      const checks = new Set(current.config?.ignore_checks ?? []);
      checks.add(this.check);
      node.addMetadata('cfn-lint', { ...current, config: { ...current.config, ignore_checks: [...checks].sort() } });
    } else {
      const current = (node.getMetadata('checkov') as { skip?: { id: string; comment: string }[] } | undefined) ?? {};
      const skip = (current.skip ?? []).filter((s) => s.id !== this.check);
      skip.push({ id: this.check, comment: this.reason });
      node.addMetadata('checkov', { ...current, skip: skip.sort((a, b) => a.id.localeCompare(b.id)) });
    }
  }
}
