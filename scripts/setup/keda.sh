#!/usr/bin/env bash
# KEDA, the release the `keda` Helm chart runs (clusterAddons.keda, chart 2.20.2: appVersion
# 2.20.2, images ghcr.io/kedacore/keda and ghcr.io/kedacore/keda-metrics-apiserver), built from
# the Go module proxy (github.com/kedacore/keda/v2, which serves v2.20.2) into .cache/keda/bin for
# the local cluster's KEDA Deployments (scripts/local-cluster/keda.ts): the operator (cmd/operator,
# the image's /keda) and the metrics API server (cmd/adapter, /keda-adapter). As the release's
# Makefile and Dockerfiles build them: static (CGO_ENABLED=0), -trimpath, and the version ldflags
# it sets on KEDA's version package (Version without the tag's `v`, as the release workflow passes
# it, and the commit), which both log at start. The proxy serves no commit for a version,
# so the tag's commit is written here, as the upstream tag names it. The release's
# CustomResourceDefinitions (the module's config/crd/bases, all six: the operator watches every
# kind of them) go to .cache/keda/crds.
# Idempotent and stamp-based: a no-op when the stamp matches this script and lib/install.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/setup/lib/install.sh

KEDA=v2.20.2
KEDA_COMMIT=68a5b5028f35b22d50597c69819ab32c4e92f21a

root="$PWD/.cache/keda"
bin="$root/bin"
crds="$root/crds"
stamp="$root/.stamp"
want="$(cat "$0" scripts/setup/lib/install.sh | sha256sum | cut -d' ' -f1)"
if [ -x "$bin/keda" ] && [ -x "$bin/keda-adapter" ] && [ -d "$crds" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "setup: go is missing (KEDA is built with it); install Go >= 1.26" >&2
  exit 1
fi

use_go_caches
started=$(date +%s)
echo "setup: building KEDA $KEDA (operator and metrics API server) into $bin (one-time; several minutes on 2 cores)"

src="$root/src"
rm -rf "$src" "$bin.tmp" "$crds.tmp"
mkdir -p "$src" "$bin" "$bin.tmp" "$crds.tmp"

version_pkg=github.com/kedacore/keda/v2/version
ldflags="-X $version_pkg.GitCommit=$KEDA_COMMIT -X $version_pkg.Version=${KEDA#v}"
go_module_build "github.com/kedacore/keda/v2@$KEDA" ./cmd/operator keda "$src" "$bin.tmp" "$ldflags"
go_module_build "github.com/kedacore/keda/v2@$KEDA" ./cmd/adapter keda-adapter "$src" "$bin.tmp" "$ldflags"
cp "$src"/keda/config/crd/bases/*.yaml "$crds.tmp/"
chmod 644 "$crds.tmp"/*.yaml
[ "$(ls "$crds.tmp" | wc -l)" = 6 ] || { echo "setup: KEDA $KEDA's config/crd/bases holds $(ls "$crds.tmp" | wc -l) CRDs, not 6" >&2; exit 1; }

# The linker set the version package's variables: -X skips a name it does not find, and the tag's
# commit is in no source, so it is in each binary only if the setting took. (Neither binary prints
# its version without a cluster to connect to, and with -trimpath the toolchain records no
# -ldflags in the build information.)
for binary in keda keda-adapter; do
  grep -q -a -F "$KEDA_COMMIT" "$bin.tmp/$binary" || { echo "setup: $binary does not carry KEDA's commit $KEDA_COMMIT: its version ldflags did not take" >&2; exit 1; }
done

mv "$bin.tmp/keda" "$bin.tmp/keda-adapter" "$bin/"
rmdir "$bin.tmp"
rm -rf "$crds" "$src"
mv "$crds.tmp" "$crds"
echo "$want" > "$stamp"
release_go_caches
echo "setup: KEDA built in $(( $(date +%s) - started )) s: $bin/keda, $bin/keda-adapter, its CRDs in $crds"
