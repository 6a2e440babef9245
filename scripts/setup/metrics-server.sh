#!/usr/bin/env bash
# metrics-server, the release the `metrics-server` Helm chart runs (clusterAddons.metricsServer,
# chart 3.13.0: appVersion 0.8.0, image registry.k8s.io/metrics-server/metrics-server:v0.8.0),
# built from the Go module proxy (sigs.k8s.io/metrics-server, which serves v0.8.0) into
# .cache/metrics-server/bin for the local cluster's metrics-server Deployment
# (scripts/local-cluster/metrics-server.ts). As the release's Makefile builds it: static
# (CGO_ENABLED=0), -trimpath, and the version ldflags it sets on client-go's version package (tag,
# commit, build date), so `metrics-server --version` and the API's /version say v0.8.0. The proxy
# serves no commit for a version, so the tag's commit is written here, as the upstream tag names it.
# Idempotent and stamp-based: a no-op when the stamp matches this script and lib/install.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/setup/lib/install.sh

METRICS_SERVER=v0.8.0
METRICS_SERVER_COMMIT=d66279c6426c6581d9656fe3d42bc52db7c29597

root="$PWD/.cache/metrics-server"
bin="$root/bin"
stamp="$bin/.stamp"
want="$(cat "$0" scripts/setup/lib/install.sh | sha256sum | cut -d' ' -f1)"
if [ -x "$bin/metrics-server" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "setup: go is missing (metrics-server is built with it); install Go >= 1.24" >&2
  exit 1
fi

use_go_caches
started=$(date +%s)
echo "setup: building metrics-server $METRICS_SERVER into $bin (one-time; a few minutes on 2 cores)"

src="$root/src"
rm -rf "$src" "$bin.tmp"
mkdir -p "$src" "$bin" "$bin.tmp"

version_pkg=k8s.io/client-go/pkg/version
go_module_build "sigs.k8s.io/metrics-server@$METRICS_SERVER" ./cmd/metrics-server metrics-server "$src" "$bin.tmp" \
  "-X $version_pkg.gitVersion=$METRICS_SERVER -X $version_pkg.gitCommit=$METRICS_SERVER_COMMIT -X $version_pkg.buildDate=$(date -u +'%Y-%m-%dT%H:%M:%SZ')"

mv "$bin.tmp/metrics-server" "$bin/metrics-server"
rmdir "$bin.tmp"
rm -rf "$src"
# Not piped into head: with pipefail, a SIGPIPE of the binary would fail the script before the stamp.
built_version=$("$bin/metrics-server" --version)
echo "$built_version"
[ "${built_version%%$'\n'*}" = "$METRICS_SERVER" ] || { echo "setup: metrics-server --version says $built_version, not $METRICS_SERVER" >&2; exit 1; }
echo "$want" > "$stamp"
release_go_caches
echo "setup: metrics-server built in $(( $(date +%s) - started )) s: $bin/metrics-server"
