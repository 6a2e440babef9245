// Bundles handler.ts into one ESM file, index.mjs, in the directory given as argv[2].
// Run by ../bundled-provider.ts at synth (a child process, as lib/custom-resources/kafka-topics/bundle.mjs).
// Deterministic: same sources, same bytes (lib/bundling/node-bundle.mts). The Lambda runtime
// provides client-redshift-data and client-secrets-manager with the rest of the AWS SDK v3.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleLambdaHandler, bundleOutdirArg } from '../../bundling/node-bundle.mts';

await bundleLambdaHandler(path.dirname(fileURLToPath(import.meta.url)), bundleOutdirArg());
