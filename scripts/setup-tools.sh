#!/usr/bin/env bash
# Installs what the tests need beyond `npm ci`, idempotently (DESIGN.md §6): each script in
# scripts/setup/ installs one kind of tool and takes well under a second when all is present.
# Run by `npm test` before jest; `npm run setup` runs it alone.
set -euo pipefail
cd "$(dirname "$0")/.."
for step in scripts/setup/*.sh; do
  bash "$step"
done
