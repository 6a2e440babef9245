import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import type { AppProps } from 'aws-cdk-lib';

/** cdk.json's context (feature flags, validation), so tests synthesize what `cdk synth` does. */
export const CDK_CONTEXT: Record<string, unknown> = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8'),
).context;

export function testApp(props: AppProps = {}): App {
  return new App({ ...props, context: { ...CDK_CONTEXT, ...props.context } });
}
