import * as fs from 'node:fs';
import * as path from 'node:path';
import { CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';

const root = path.join(__dirname, '..', '..');
const cdkJson = JSON.parse(fs.readFileSync(path.join(root, 'cdk.json'), 'utf8'));

describe('cdk.json', () => {
  it('sets every feature flag the installed aws-cdk-lib recommends, to its recommended value', () => {
    const wrong = Object.entries(CURRENTLY_RECOMMENDED_FLAGS)
      .filter(([flag, value]) => JSON.stringify(cdkJson.context[flag]) !== JSON.stringify(value))
      .map(([flag, value]) => `${flag}: expected ${JSON.stringify(value)}, found ${JSON.stringify(cdkJson.context[flag])}`);
    expect(wrong).toEqual([]);
  });

  it('fails synth on CloudFormation validation findings', () => {
    expect(cdkJson.context['@aws-cdk/core:validateAgainstDefaultRules']).toBe(true);
  });

  it('runs the app transpiled ahead of time, without a type-check on the hot path, and the CLI without phoning home', () => {
    expect(cdkJson.app).toBe('node scripts/precompile.mjs bin/platform.ts');
    expect(cdkJson.context['cli-telemetry']).toBe(false);
    expect(cdkJson.notices).toBe(false);
  });
});
