#!/usr/bin/env bash
# Regenerates charts/imports/ (typed constructs of the CRDs, DESIGN.md §4) from charts/crds
# with `cdk8s import`, offline. One combined file so that each API group's module holds every
# kind of that group (one import per file would overwrite the group's module).
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for crd in crds/*.yaml; do cat "$crd"; echo '---'; done > "$tmp/crds.yaml"
rm -rf imports
# CDK8S_CHECK_UPGRADE=false: the CLI's version check needs the network and only prints advice.
CDK8S_CHECK_UPGRADE=false npx cdk8s import "$tmp/crds.yaml" --language typescript --output imports
