import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Template } from 'aws-cdk-lib/assertions';
import { loadPlatformSpec } from '../lib/spec';
import { PlatformStage } from '../lib/stacks/platform-stage';
import { testApp } from '../test/helpers/app';
const spec = loadPlatformSpec();
const app = testApp();
const stage = new PlatformStage(app, 'production', { spec, environment: spec.environments.production,
  kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(app, 'Layer', 'arn:aws:lambda:us-east-1:111111111111:layer:kubectl:1') });
const t = Template.fromStack(stage.observability).toJSON();
const types: Record<string, number> = {};
for (const r of Object.values<any>(t.Resources)) types[r.Type] = (types[r.Type] ?? 0) + 1;
console.log(types);
const alarms = Object.values<any>(t.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
console.log(JSON.stringify(alarms[0], null, 1).slice(0, 1500));
console.log(alarms.map((a) => a.Properties.AlarmName).join('\n'));
