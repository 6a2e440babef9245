#!/usr/bin/env bash
# `npm test [-- <jest arguments>]`: installs what the tests need (scripts/setup-tools.sh, idempotent),
# then typecheck, lint and jest, all on Node.js 24 (scripts/node.sh installs it when the system's
# node is another major).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/node.sh
bash scripts/setup-tools.sh
npm run typecheck
npm run lint
exec npx jest "$@"
