#!/usr/bin/env node
/**
 * The CDK app: one Stage per environment of the spec, nothing else.
 * Offline by construction: accounts, regions and AZs come from lib/spec.
 */
import { App } from 'aws-cdk-lib';
import { applyCompliancePacks } from '../lib/compliance';
import { ENVIRONMENT_NAMES, loadPlatformSpec, PlatformSpecError } from '../lib/spec';
import { receiveCliEnvironment } from './cli-environment';
import { PlatformStage } from './platform-stage';

// Started ahead of the CDK CLI by `npm run synth`: the CLI's environment arrives now (no-op otherwise).
receiveCliEnvironment();
const app = new App();
let spec;
try {
  spec = loadPlatformSpec({
    context: (key) => app.node.tryGetContext(key), contextKeys: Object.keys(app.node.getAllContext()), env: process.env,
  });
} catch (error) {
  if (!(error instanceof PlatformSpecError)) throw error;
  // One clear message naming the field, not a stack trace.
  console.error(error.message);
  process.exit(1);
}
for (const name of ENVIRONMENT_NAMES) {
  new PlatformStage(app, name, { spec, environment: spec.environments[name] });
}
// cdk-nag packs as validation plugins: a finding fails synth unless acknowledged (docs/compliance.md).
applyCompliancePacks(app);
app.synth();
