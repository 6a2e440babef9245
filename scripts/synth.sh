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
# The FIFO through which the app receives the CLI's environment (below), outside the output folder.
handoff=$(mktemp -d "${TMPDIR:-/tmp}/platform-synth.XXXXXX")
charts= app=
trap 'for job in $charts $app; do kill "$job" 2>/dev/null || true; done; rm -rf "$stage" "$handoff"' EXIT
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
# longer of the two, not their sum. Both runners transpile what changed since the last run (half
# a second for every source; each file is written atomically, so running both at once is safe).
node scripts/precompile.mjs charts/main.ts "$stage/dist" "$@" &
charts=$!

# The app starts now too, not once the CLI has started (a second and more): it loads its modules
# meanwhile, then waits for the environment the CLI runs its app with (bin/cli-environment.ts).
# The CLI's app command here is scripts/app-relay.mjs, which hands that environment over and
# returns the app's status, recorded below when the app exits. The CLI still decides the context
# and the output folder, and reads the assembly afterwards as it would after its own app.
mkfifo "$handoff/environment"
(
  runner=
  trap '[ -z "$runner" ] || { kill "$runner" 2>/dev/null; wait "$runner"; }; exit 143' TERM
  PLATFORM_APP_HANDOFF=$handoff node scripts/precompile.mjs bin/platform.ts &
  runner=$!
  status=0
  wait "$runner" || status=$?
  echo "$status" >"$handoff/status.tmp"
  mv "$handoff/status.tmp" "$handoff/status"
) &
app=$!

cdk_ok=true
PLATFORM_APP_HANDOFF=$handoff node_modules/.bin/cdk synth --quiet --output "$stage/cdk.out" \
  --app 'node scripts/app-relay.mjs' "$@" || cdk_ok=false
# A CLI that failed before it ran the relay leaves the app waiting for an environment.
[ -e "$handoff/status" ] || kill "$app" 2>/dev/null || true
wait "$app" || true
app=
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
