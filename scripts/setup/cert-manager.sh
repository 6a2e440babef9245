#!/usr/bin/env bash
# cert-manager's controller for the local cluster and its test (scripts/local-cluster/cert-manager.ts),
# built from the Go module proxy (DESIGN.md §8) into .cache/cert-manager/bin, with the
# CustomResourceDefinitions of the same release in .cache/cert-manager/crds. The proxy serves the
# root module github.com/cert-manager/cert-manager but not the nested module of the upstream
# command, so scripts/local-cluster/cert-manager/ holds a main of our own over the root module's
# packages, with its go.mod and go.sum: the version that go.mod requires is the one built (the one
# place it is written; the test holds it equal to the spec's clusterAddons.certManager). Static,
# -trimpath, stripped, the version stamped as the release does. The CRDs are the module's
# deploy/crds of the cert-manager.io group (charts/crds lacks CertificateRequest, which the
# controller needs); the acme.cert-manager.io ones are left out with the ACME controllers.
# Idempotent and stamp-based: a no-op when the stamp matches this script, lib/install.sh and the module.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/setup/lib/install.sh

module=scripts/local-cluster/cert-manager
version=$(sed -n 's/^[[:space:]]*github\.com\/cert-manager\/cert-manager \(v[^[:space:]]*\)$/\1/p' "$module/go.mod")
[ -n "$version" ] || { echo "setup: $module/go.mod requires no github.com/cert-manager/cert-manager version" >&2; exit 1; }

root="$PWD/.cache/cert-manager"
bin="$root/bin"
crds="$root/crds"
stamp="$root/.stamp"
want="$(cat "$0" scripts/setup/lib/install.sh "$module/go.mod" "$module/go.sum" "$module"/*.go | sha256sum | cut -d' ' -f1)"
if [ -x "$bin/cert-manager-controller" ] && [ -d "$crds" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "setup: go is missing (cert-manager's controller is built with it); install Go >= 1.25" >&2
  exit 1
fi

use_go_caches
# go.mod and go.sum as committed decide every dependency: a build never rewrites them.
export GOFLAGS="${GOFLAGS/-mod=mod/-mod=readonly}"
started=$(date +%s)
echo "setup: building cert-manager's controller $version into $bin (one-time; several minutes on 2 cores)"

rm -rf "$bin.tmp" "$crds.tmp"
mkdir -p "$bin" "$bin.tmp" "$crds.tmp"
(
  cd "$module"
  go build -trimpath -ldflags "-s -w -X github.com/cert-manager/cert-manager/pkg/util.AppVersion=$version" \
    -o "$bin.tmp/cert-manager-controller" .
  dir=$(go list -m -f '{{.Dir}}' github.com/cert-manager/cert-manager)
  cp "$dir"/deploy/crds/cert-manager.io_*.yaml "$crds.tmp/"
)
chmod 644 "$crds.tmp"/*.yaml
mv "$bin.tmp/cert-manager-controller" "$bin/cert-manager-controller"
rmdir "$bin.tmp"
rm -rf "$crds"
mv "$crds.tmp" "$crds"
# Not piped into head: with pipefail, a SIGPIPE of the binary would fail the script before the stamp.
built=$("$bin/cert-manager-controller" -version)
echo "$built"
[ "$built" = "cert-manager-controller $version" ] || { echo "setup: the built controller reports '$built', not $version" >&2; exit 1; }
echo "$want" > "$stamp"
release_go_caches
echo "setup: cert-manager's controller built in $(( $(date +%s) - started )) s: $bin, its CRDs in $crds"
