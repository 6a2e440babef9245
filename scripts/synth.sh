#!/usr/bin/env bash
# `npm run synth [-- <cdk synth arguments>]`: every stack of every environment to cdk.out/, every
# chart to dist/<env>/. Offline: no credentials, no lookups. Arguments reach both the CDK app and
# the chart renderer (`-c services:imageTag=<sha>`, `-c staging:account=<id>`).
#
# Both are written to a fresh folder beside them and swapped in only when everything succeeded:
# a failed synth leaves the last good cdk.out/ and dist/ in place (and says so), and the new
# output never mixes with stale files (CDK's validation hashes all of cdk.out).
# SYNTH_OUTDIR=<dir> puts cdk.out/ and dist/ under <dir> instead of the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/node.sh
export CDK_DISABLE_VERSION_CHECK=true # the CLI would otherwise ask the npm registry for news

out=${SYNTH_OUTDIR:-.}
mkdir -p "$out"
stage=$(mktemp -d "$out/.synth.XXXXXX")
charts=
trap '[ -z "$charts" ] || kill "$charts" 2>/dev/null || true; rm -rf "$stage"' EXIT
kept() {
  local what=()
  [ -d "$out/cdk.out" ] && what+=("$out/cdk.out")
  [ -d "$out/dist" ] && what+=("$out/dist")
  if [ ${#what[@]} -gt 0 ]; then echo "synth failed: ${what[*]} still hold the last good output" >&2
  else echo "synth failed: nothing was written" >&2; fi
  exit 1
}

# The app (cdk.json's command), the charts and the summary run from JavaScript transpiled into
# build/js/ by scripts/precompile.mjs, not under a TypeScript loader. The charts render beside
# the CDK app (they share nothing but the spec they read): on two cores the wall time is the
# longer of the two, not their sum. The charts' runner transpiles what changed while the CLI
# starts (a second); the app's runner then finds it done.
node scripts/precompile.mjs charts/main.ts "$stage/dist" "$@" &
charts=$!
cdk_ok=true
node_modules/.bin/cdk synth --quiet --output "$stage/cdk.out" "$@" || cdk_ok=false
charts_ok=true
wait "$charts" || charts_ok=false
charts=
$cdk_ok && $charts_ok || kept

# Swap: the old output goes only once the new one is complete.
for part in cdk.out dist; do
  rm -rf "${out:?}/$part.old"
  if [ -e "$out/$part" ]; then mv "$out/$part" "$out/$part.old"; fi
  mv "$stage/$part" "$out/$part"
  rm -rf "${out:?}/$part.old"
done
node scripts/precompile.mjs scripts/synth-summary.ts "$out/cdk.out" "$out/dist"
