import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

/** AWS managed rule groups on every web ACL of the edge, evaluated in this order. */
export const MANAGED_RULE_GROUPS = [
  'AWSManagedRulesAmazonIpReputationList',
  'AWSManagedRulesCommonRuleSet',
  'AWSManagedRulesKnownBadInputsRuleSet',
  'AWSManagedRulesSQLiRuleSet',
] as const;

export interface ManagedRulesWebAclProps {
  /** CLOUDFRONT (must be created in us-east-1) or REGIONAL (ALB, API Gateway, ...). */
  readonly scope: 'CLOUDFRONT' | 'REGIONAL';
  /** Prefix of the ACL, metric and log group names, e.g. platform-production-cloudfront. */
  readonly name: string;
  /** Requests per client IP per 5 minutes before the rate rule blocks. */
  readonly rateLimitPer5Minutes: number;
  readonly logRetentionDays: number;
  /** Encrypts the log group; its policy must let CloudWatch Logs use it. */
  readonly logEncryptionKey: kms.IKey;
}

/**
 * A WAFv2 web ACL: AWS managed rule groups plus a per-IP rate rule, logging to CloudWatch
 * Logs with the Authorization header redacted (it carries the client's JWT).
 */
export class ManagedRulesWebAcl extends Construct {
  readonly webAcl: wafv2.CfnWebACL;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ManagedRulesWebAclProps) {
    super(scope, id);
    const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName,
    });

    const rateRule: wafv2.CfnWebACL.RuleProperty = {
      name: 'RateLimitPerIp',
      priority: 0,
      action: { block: {} },
      statement: { rateBasedStatement: { aggregateKeyType: 'IP', limit: props.rateLimitPer5Minutes, evaluationWindowSec: 300 } },
      visibilityConfig: visibility(`${props.name}-rate-limit`),
    };
    const managedRules = MANAGED_RULE_GROUPS.map((groupName, i): wafv2.CfnWebACL.RuleProperty => ({
      name: groupName,
      priority: i + 1,
      overrideAction: { none: {} },
      statement: { managedRuleGroupStatement: { vendorName: 'AWS', name: groupName } },
      visibilityConfig: visibility(`${props.name}-${groupName}`),
    }));

    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name: props.name,
      scope: props.scope,
      defaultAction: { allow: {} },
      rules: [rateRule, ...managedRules],
      visibilityConfig: visibility(props.name),
    });

    // WAF delivers only to log groups named aws-waf-logs-*.
    const logGroupName = `aws-waf-logs-${props.name}`;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName,
      retention: props.logRetentionDays as logs.RetentionDays,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      // WAF rejects the log group ARN with the trailing :* that Fn::GetAtt returns.
      logDestinationConfigs: [Stack.of(this).formatArn({
        service: 'logs', resource: 'log-group', resourceName: logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      })],
      redactedFields: [{ singleHeader: { Name: 'authorization' } }],
    }).node.addDependency(this.logGroup);
  }
}
