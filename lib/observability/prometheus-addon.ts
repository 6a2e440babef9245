/**
 * What the cluster's Prometheus add-on (the prometheus-community `prometheus` chart, lib/spec
 * clusterAddons.prometheus) gets from observability: the rules as serverFiles, and Alertmanager
 * routing every alert to the environment's SNS topic of its severity, signing with SigV4 as a
 * Pod Identity role that may only publish to those two topics.
 */
import { Stack } from 'aws-cdk-lib';
import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge } from '../compliance';
import { PodIdentityRole } from '../constructs/shared/pod-identity-role';
import { SEVERITIES } from '../spec';
import type { EnvironmentSpec, PlatformSpec, Severity } from '../spec';
import { prometheusRules } from './prometheus-rules';

/** Alertmanager's service account (the chart's alertmanager subchart creates it with this name). */
export const ALERTMANAGER_SERVICE_ACCOUNT = 'alertmanager';

/** An environment's alarm topic names: fixed, so the cluster stack needs no reference to the observability stack. */
export function alarmTopicName(spec: PlatformSpec, environment: EnvironmentSpec, severity: Severity): string {
  return `${spec.project}-${environment.name}-alarms-${severity}`;
}
/** The KMS alias of the topics' key (AlarmTopics creates it). */
export function alarmTopicsKeyAlias(spec: PlatformSpec, environment: EnvironmentSpec): string {
  return `alias/${spec.project}-${environment.name}-alarms`;
}

/** Alertmanager's configuration: critical and warning to their topics, resolutions too. */
export function alertmanagerConfig(environment: EnvironmentSpec, topicArn: (severity: Severity) => string) {
  const receiver = (severity: Severity) => ({
    name: severity,
    sns_configs: [{
      topic_arn: topicArn(severity),
      sigv4: { region: environment.region },
      send_resolved: true,
      subject: `[${environment.name}] {{ .Status | toUpper }} {{ .CommonLabels.alertname }}`,
      message: '{{ range .Alerts }}{{ .Annotations.summary }}\nRunbook: {{ .Annotations.runbook }}\nLabels: {{ range .Labels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}\n{{ end }}',
    }],
  });
  return {
    route: {
      receiver: 'warning',
      group_by: ['alertname', 'namespace'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
      routes: [{ matchers: ['severity="critical"'], receiver: 'critical' }],
    },
    // A service's error-rate alert already says what its latency alert would add.
    inhibit_rules: [{ source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ['alertname', 'namespace'] }],
    receivers: SEVERITIES.map(receiver),
  };
}

/** The chart values observability adds to the Prometheus add-on (merged over the add-on's own). */
export function prometheusAddonValues(spec: PlatformSpec, environment: EnvironmentSpec, topicArn: (severity: Severity) => string) {
  const rules = prometheusRules(spec);
  return {
    serverFiles: {
      'recording_rules.yml': rules.recording,
      'alerting_rules.yml': rules.alerting,
    },
    alertmanager: {
      enabled: true,
      serviceAccount: { create: true, name: ALERTMANAGER_SERVICE_ACCOUNT },
      config: alertmanagerConfig(environment, topicArn),
    },
  };
}

export interface AlertmanagerPublisherProps {
  readonly cluster: eks.ICluster;
  readonly spec: PlatformSpec;
  readonly environment: EnvironmentSpec;
  /** The Prometheus add-on's namespace. */
  readonly namespace: string;
}

/**
 * Alertmanager's Pod Identity role: sns:Publish on the environment's two alarm topics, and the
 * topics' KMS key through SNS only; and the add-on values that use it.
 */
export class AlertmanagerPublisher extends Construct {
  readonly identity: PodIdentityRole;
  readonly values: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: AlertmanagerPublisherProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const topicArn = (severity: Severity) => stack.formatArn({ service: 'sns', resource: alarmTopicName(props.spec, props.environment, severity) });
    const anyKey = stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' });
    this.identity = new PodIdentityRole(this, 'Identity', {
      cluster: props.cluster,
      namespace: props.namespace,
      serviceAccount: ALERTMANAGER_SERVICE_ACCOUNT,
      description: 'Alertmanager: publish alerts to the environment\'s alarm topics',
      policyDocument: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({ sid: 'PublishAlerts', actions: ['sns:Publish'], resources: SEVERITIES.map(topicArn) }),
          new iam.PolicyStatement({
            sid: 'EncryptForTheTopics',
            actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
            resources: [anyKey],
            conditions: {
              StringEquals: { 'kms:ViaService': `sns.${stack.region}.amazonaws.com` },
              'ForAnyValue:StringEquals': { 'kms:ResourceAliases': alarmTopicsKeyAlias(props.spec, props.environment) },
            },
          }),
        ],
      }),
    });
    acknowledge(this.identity.policy!, `AwsSolutions-IAM5[Resource::${anyKey}]`,
      'The topics\' key is created by the observability stack, which depends on this one; the grant is limited to the key carrying its alias and to use through SNS.');
    this.values = prometheusAddonValues(props.spec, props.environment, topicArn);
  }
}
