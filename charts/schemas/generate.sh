#!/usr/bin/env bash
# Regenerates charts/schemas/ (run after a Kubernetes version bump in lib/spec, a CRD update in
# charts/crds, or a chart that renders a new kind). Needs the PyPI registry once; the output
# is checked in and the tests need no network. The kubernetes-validate release matching the
# cluster's minor version carries that version's schemas.
set -euo pipefail
cd "$(dirname "$0")/../.."
version=$(npx tsx -e "import { loadPlatformSpec } from './lib/spec'; console.log(loadPlatformSpec().environments.production.cluster.kubernetesVersion)")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
bash scripts/setup/python-tools.sh
.cache/venv/bin/pip download --quiet --no-deps --disable-pip-version-check "kubernetes-validate==${version}.0" -d "$tmp"
(cd "$tmp" && python3 -m zipfile -e ./*.whl unpacked)
npx tsx charts/schemas/generate.ts "$tmp/unpacked/kubernetes_validate/kubernetes-json-schema/v${version}.0-local-strict"
