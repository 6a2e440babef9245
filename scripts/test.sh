#!/usr/bin/env bash
# `npm test [-- <jest arguments>]`: installs what the tests need (scripts/setup-tools.sh, idempotent),
# then typecheck, lint and jest, all on Node.js 24 (scripts/node.sh installs it when the system's
# node is another major).
#
# With no arguments (the whole suite, what CI runs), the tools only test/cluster/ needs are built in
# the background, at low priority, while typecheck, lint and every other suite run; test/cluster/
# runs last, once they are there. On a cold machine those builds take many minutes of CPU, and
# the other suites leave a good part of the two cores idle (servers starting, requests waiting).
# With arguments, everything is installed first and jest gets the arguments as they are.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/node.sh

if [ $# -gt 0 ]; then
  bash scripts/setup-tools.sh
  npm run typecheck
  npm run lint
  exec npx jest "$@"
fi

# scripts/setup/ names whose tools only the local cluster (scripts/local-cluster/, test/cluster/) uses.
cluster_only=(cluster cert-manager metrics-server keda prometheus vault-injector)

bash scripts/setup-tools.sh --except "${cluster_only[@]}"

mkdir -p .cache
cluster_log=.cache/setup-cluster-tools.log
# Its own process group (setsid), so that a failure here stops the builds too, not just their shell.
setsid nice -n 10 bash scripts/setup-tools.sh --only "${cluster_only[@]}" >"$cluster_log" 2>&1 &
cluster_pid=$!
trap 'kill -- -"$cluster_pid" 2>/dev/null || true' EXIT

npm run typecheck
npm run lint
npx jest --testPathIgnorePatterns '<rootDir>/test/cluster/'

echo "test: waiting for the local cluster's tools (log: $cluster_log)"
status=0
wait "$cluster_pid" || status=$?
trap - EXIT
cat "$cluster_log"
if [ "$status" != 0 ]; then
  echo "test: building the local cluster's tools failed with status $status; its output is above" >&2
  exit "$status"
fi
npx jest test/cluster/
