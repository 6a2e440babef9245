import type { IConstruct } from 'constructs';
import { acknowledge } from './acknowledge';

/**
 * The findings every deploy-time Lambda of a custom resource raises (the topics and schema
 * handlers, the provider framework's function, AwsCustomResource's function), with the reason
 * each is acceptable there. One list, so the reasons stay the same wherever such a function is.
 * `extra` adds findings specific to one function (a wildcard on its own ARN, say).
 */
export function acknowledgeDeployTimeFunction(fn: IConstruct, extra: Readonly<Record<string, string>> = {}): void {
  const findings: Record<string, string> = {
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
      'The functions write their own logs; AWSLambdaBasicExecutionRole is the standard minimal policy for that.',
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]':
      'The functions run in the private subnets to reach the data tier; this is the AWS policy for a VPC-attached function\'s network interfaces.',
    'PCI.DSS.321-IAMNoInlinePolicy':
      'aws-cdk-lib writes each function\'s grants (this secret, this cluster, invoking this handler) as an inline policy of its own role, used by that function only.',
    'NIST.800.53.R5-IAMNoInlinePolicy':
      'aws-cdk-lib writes each function\'s grants (this secret, this cluster, invoking this handler) as an inline policy of its own role, used by that function only.',
    'NIST.800.53.R5-LambdaConcurrency':
      'Invoked only by CloudFormation during a deploy of this stack, one call at a time; a reservation would only idle capacity.',
    'NIST.800.53.R5-LambdaDLQ':
      'Invoked synchronously by the custom-resource framework, which reports failures to CloudFormation and rolls back; there is no async event to dead-letter.',
    'checkov:CKV_AWS_115':
      'Invoked only by CloudFormation during a deploy of this stack, one call at a time; a reservation would only idle capacity.',
    'checkov:CKV_AWS_116':
      'Invoked synchronously by the custom-resource framework, which reports failures to CloudFormation and rolls back; there is no async event to dead-letter.',
    'cfn-lint:W3005':
      'aws-cdk-lib renders an explicit DependsOn on the function\'s role beside the GetAtt; redundant but harmless, and not ours to edit.',
    'checkov:CKV_AWS_173':
      'The environments hold no secret (the provider\'s holds only the handler\'s ARN); Lambda encrypts them at rest with its service key.',
    ...extra,
  };
  for (const [id, reason] of Object.entries(findings)) acknowledge(fn, id, reason);
}
