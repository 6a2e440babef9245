#!/usr/bin/env bash
# `npm run synth`: every stack of every environment to cdk.out/, every chart to dist/<env>/.
# Offline: no credentials, no lookups. Clean output directories first: CDK's validation
# hashes all of cdk.out, and stale files would make two synths differ.
set -euo pipefail
cd "$(dirname "$0")/.."
export CDK_DISABLE_VERSION_CHECK=true # the CLI would otherwise ask the npm registry for news
rm -rf cdk.out dist
cdk synth --quiet
tsx charts/main.ts dist
tsx scripts/synth-summary.ts cdk.out dist
