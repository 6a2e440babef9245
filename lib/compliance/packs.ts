/**
 * The compliance packs every stack is checked against at synth (cdk-nag 3.x as CDK
 * validation plugins): AWS Solutions, PCI DSS 3.2.1 (the platform processes payments) and
 * NIST 800-53 rev 5. A finding fails synth unless acknowledged next to its resource.
 */
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { AwsSolutionsChecks, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';

export function compliancePacks(scope: IConstruct) {
  return [new AwsSolutionsChecks(scope), new PCIDSS321Checks(scope), new NIST80053R5Checks(scope)];
}

export function applyCompliancePacks(scope: IConstruct): void {
  Validations.of(scope).addPlugins(...compliancePacks(scope));
}
