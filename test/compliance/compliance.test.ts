/**
 * Every stack of every environment against the compliance packs (cdk-nag 3.x: AWS Solutions,
 * PCI DSS 3.2.1, NIST 800-53 rev 5), and every acknowledged finding, of any validator, has a
 * reason a reviewer can judge.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { acknowledge, applyCompliancePacks, compliancePacks, MIN_REASON_LENGTH, TEMPLATE_ACKNOWLEDGEMENT_METADATA } from '../../lib/compliance';
import { ENVIRONMENT_NAMES, loadPlatformSpec } from '../../lib/spec';
import { PlatformStage } from '../../bin/platform-stage';
import { testApp } from '../helpers/app';

const spec = loadPlatformSpec();
const app = testApp();
for (const name of ENVIRONMENT_NAMES) {
  new PlatformStage(app, name, {
    spec, environment: spec.environments[name],
    // The packs check the layer's use, not its bytes: skip the 36 MB asset.
    kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(app, `${name}KubectlLayer`, `arn:aws:lambda:us-east-1:${spec.environments[name].account}:layer:kubectl:1`),
  });
}
// Synthesize first: aspects (IMDSv2 launch templates, log-group encryption) run at synth, and
// the packs must see what CloudFormation will get.
app.synth();

function allConstructs(root: IConstruct): IConstruct[] {
  return [root, ...root.node.children.flatMap(allConstructs)];
}

describe.each(compliancePacks(app).map((pack) => [pack.name, pack] as const))('%s', (_, pack) => {
  it('finds nothing unacknowledged in any stack', () => {
    const violations = pack.validateScope(app).violations.flatMap((v) =>
      v.violatingResources.map((r) => `${v.ruleName} @ ${r.constructPath}: ${v.description.split(' - ')[0]}`));
    expect(violations).toEqual([]);
  });
});

describe('IAM roles', () => {
  it('carry no inline policy anywhere, the library\'s own custom-resource providers included (the packs do not inspect those roles)', () => {
    const inline = app.node.findAll().filter((c): c is Stack => c instanceof Stack).flatMap((stack) => {
      type Resources = Record<string, { Type: string; Properties?: { Policies?: unknown } }>;
      const resources = ((stack as unknown as { _toCloudFormation(): { Resources?: Resources } })._toCloudFormation().Resources ?? {}) as Resources;
      return Object.entries(resources).filter(([, r]) => r.Type === 'AWS::IAM::Role' && r.Properties?.Policies !== undefined)
        .map(([id]) => `${stack.stackName}/${id}`);
    });
    expect(inline).toEqual([]);
  });
});

describe('acknowledged findings', () => {
  const acknowledgements = allConstructs(app).flatMap((construct) => construct.node.metadata
    .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY || entry.type === TEMPLATE_ACKNOWLEDGEMENT_METADATA)
    .flatMap((entry) => Object.entries(entry.data as Record<string, string>)
      .map(([id, reason]) => ({ path: construct.node.path, id, reason }))));

  it('exist, so this test checks something', () => {
    expect(acknowledgements.length).toBeGreaterThan(10);
  });

  it('each say why, in a sentence a reviewer can judge', () => {
    const weak = acknowledgements.filter(({ reason }) => typeof reason !== 'string'
      || reason.trim().length < MIN_REASON_LENGTH
      || /^(todo|tbd|n\/a|none|ok|fine|ignore|suppress(ed)?|false positive)\.?$/i.test(reason.trim()));
    expect(weak).toEqual([]);
  });
});

describe('the packs at synth', () => {
  it('fail a synth that has an unacknowledged finding, naming the rule and the construct', () => {
    // A bare app with the packs, as bin/platform.ts registers them, and one careless bucket.
    const bare = testApp();
    applyCompliancePacks(bare);
    const stack = new Stack(bare, 'Careless', { env: { account: '111111111111', region: 'us-east-1' } });
    new s3.Bucket(stack, 'Plain');
    expect(() => bare.synth()).toThrow(/AwsSolutions-S1[\s\S]*Careless\/Plain/);
  });

  it('let the same synth through once the finding is acknowledged with a reason', () => {
    const bare = testApp();
    applyCompliancePacks(bare);
    const stack = new Stack(bare, 'Careful', { env: { account: '111111111111', region: 'us-east-1' } });
    const bucket = new s3.Bucket(stack, 'Plain', {
      enforceSSL: true, versioned: true, encryption: s3.BucketEncryption.KMS_MANAGED, blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    });
    const reason = 'A fixture bucket of this test: it is never deployed, so logging and replication have nothing to protect.';
    for (const id of ['AwsSolutions-S1', 'PCI.DSS.321-S3BucketLoggingEnabled', 'NIST.800.53.R5-S3BucketLoggingEnabled',
      'PCI.DSS.321-S3BucketReplicationEnabled', 'NIST.800.53.R5-S3BucketReplicationEnabled',
      'PCI.DSS.321-S3DefaultEncryptionKMS', 'NIST.800.53.R5-S3DefaultEncryptionKMS']) {
      acknowledge(bucket, id, reason);
    }
    expect(() => bare.synth()).not.toThrow();
  });
});
