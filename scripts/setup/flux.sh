#!/usr/bin/env bash
# The GitOps reconciler for the tests (test/harness/flux.ts): Flux's source-controller and
# kustomize-controller at the versions the cluster add-on deploys, an OCI registry (CNCF
# distribution) standing in for ECR on loopback, and oras to push the rendered manifests as an
# artifact, all built from the Go module proxy (DESIGN.md §8) into .cache/flux/bin.
# Each is its upstream module built as published: a copy of the proxy's checksum-verified module
# dir with its own main. The Flux controllers replace their `api` submodule with a folder the
# module zip does not hold: the published api module of the same release is used instead.
# The registry's main blank-imports every storage driver (s3-aws, azure, gcs with their cloud
# SDKs), the storage middlewares, the auth schemes and the pull-through proxy; the harness's and
# the local cluster's registry configs use none of them but the filesystem driver, so its main is
# cut to REGISTRY_IMPORTS before the build.
# Idempotent and stamp-based: a no-op when the stamp matches this script.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/setup/lib/install.sh

# source-controller and kustomize-controller of one Flux release: the spec's gitops.fluxControllers
FLUX_CONTROLLERS=$(sed -n "s/^ *fluxControllers: '\(v[0-9.]*\)',.*/\1/p" lib/spec/platform.ts)
[ -n "$FLUX_CONTROLLERS" ] || { echo "setup: no gitops.fluxControllers: 'v<x.y.z>' line in lib/spec/platform.ts" >&2; exit 1; }
# The proxy does not serve fluxcd/pkg/artifact v0.18.3 (source-controller v1.9.6's); v0.18.0, the
# same minor, is served and compiles against it.
ARTIFACT_PKG=v0.18.0
DISTRIBUTION=v3.1.2
ORAS=v1.3.6
# What cmd/registry/main.go keeps of its blank imports of the module's own packages: the driver of
# the configs test/harness/flux.ts and scripts/local-cluster/index.ts write (storage: filesystem).
REGISTRY_IMPORTS="registry/storage/driver/filesystem"

root="$PWD/.cache/flux"
bin="$root/bin"
stamp="$bin/.stamp"
want="$(cat "$0" scripts/setup/lib/install.sh | sha256sum | cut -d' ' -f1) $FLUX_CONTROLLERS"
binaries=(source-controller kustomize-controller registry oras)
present=1
for b in "${binaries[@]}"; do [ -x "$bin/$b" ] || present=; done
if [ -n "$present" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "setup: go is missing (the Flux controllers are built with it); install Go >= 1.26" >&2
  exit 1
fi

use_go_caches
started=$(date +%s)
echo "setup: building Flux source-controller and kustomize-controller $FLUX_CONTROLLERS, registry $DISTRIBUTION and oras $ORAS from the Go module proxy into $bin (one-time; several minutes on 2 cores)"

src="$root/src"
rm -rf "$src" "$bin.tmp"
mkdir -p "$src" "$bin" "$bin.tmp"

# The controllers' go.mod replaces their api submodule with a folder the module zip lacks.
prepare_module() {
  if [ "$1" = source-controller ] || [ "$1" = kustomize-controller ]; then
    go mod edit -dropreplace "github.com/fluxcd/$1/api"
  fi
  if [ "$1" = source-controller ]; then
    go mod edit -replace "github.com/fluxcd/pkg/artifact=github.com/fluxcd/pkg/artifact@$ARTIFACT_PKG"
  fi
  if [ "$1" = registry ]; then
    # Each kept import must be there: a moved package fails here, not when a test starts the registry.
    local main=cmd/registry/main.go module=github.com/distribution/distribution/v3 p line
    for p in $REGISTRY_IMPORTS; do
      grep -qxF "	_ \"$module/$p\"" "$main" || { echo "setup: $main of registry $DISTRIBUTION has no import of $p" >&2; exit 1; }
    done
    while IFS= read -r line; do
      if [[ $line == "	_ \"$module/"* ]]; then
        p=${line#*\"$module/}
        [[ " $REGISTRY_IMPORTS " == *" ${p%\"} "* ]] || continue
      fi
      printf '%s\n' "$line"
    done < "$main" > "$main.kept"
    mv "$main.kept" "$main"
  fi
}
go_module_build "github.com/fluxcd/source-controller@$FLUX_CONTROLLERS" . source-controller "$src" "$bin.tmp"
go_module_build "github.com/fluxcd/kustomize-controller@$FLUX_CONTROLLERS" . kustomize-controller "$src" "$bin.tmp"
go_module_build "github.com/distribution/distribution/v3@$DISTRIBUTION" ./cmd/registry registry "$src" "$bin.tmp"
go_module_build "oras.land/oras@$ORAS" ./cmd/oras oras "$src" "$bin.tmp"

for b in "${binaries[@]}"; do mv "$bin.tmp/$b" "$bin/$b"; done
rmdir "$bin.tmp"
rm -rf "$src"
# Not piped into head: with pipefail, a SIGPIPE of oras would fail the script before the stamp.
oras_version=$("$bin/oras" version)
echo "${oras_version%%$'\n'*}"
echo "$want" > "$stamp"
release_go_caches
echo "setup: Flux controllers, registry and oras built in $(( $(date +%s) - started )) s: $bin"
