#!/usr/bin/env bash
# The Prometheus server the `prometheus` Helm chart runs (clusterAddons.prometheus, chart 27.45.0:
# appVersion v3.7.3, image quay.io/prometheus/prometheus), built from the Go module proxy into
# .cache/prometheus/bin for the local cluster's Prometheus server (scripts/local-cluster/prometheus.ts),
# which KEDA asks for payment-service's latency. Debian's prometheus (scripts/setup/servers.sh,
# for promtool) cannot stand in: it is built without Kubernetes service discovery, which the
# chart's `kubernetes-pods` job needs. Prometheus publishes its Go module,
# github.com/prometheus/prometheus, at v0.3MM.P for v3.M.P: v0.307.3 is v3.7.3. As the release's
# .promu.yml builds it: static (CGO_ENABLED=0), -trimpath, the `netgo` tag and the version ldflags
# on prometheus/common's version package (version, the tag's commit, branch, build user and
# date), so `prometheus --version` says 3.7.3 at that commit; the `builtinassets` tag is left out,
# as the web UI's assets are built by npm and not in the module (the API serves without them).
# The proxy serves no commit for a version, so the tag's commit is written here, as the upstream
# tag names it.
# Idempotent and stamp-based: a no-op when the stamp matches this script and lib/install.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/setup/lib/install.sh

PROMETHEUS=v3.7.3
PROMETHEUS_MODULE=v0.307.3
PROMETHEUS_COMMIT=0a41f0000705c69ab8e0f9a723fc73e39ed62b07

root="$PWD/.cache/prometheus"
bin="$root/bin"
stamp="$bin/.stamp"
want="$(cat "$0" scripts/setup/lib/install.sh | sha256sum | cut -d' ' -f1)"
if [ -x "$bin/prometheus" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "setup: go is missing (Prometheus is built with it); install Go >= 1.24" >&2
  exit 1
fi

use_go_caches
started=$(date +%s)
echo "setup: building Prometheus $PROMETHEUS into $bin (one-time; several minutes on 2 cores)"

src="$root/src"
rm -rf "$src" "$bin.tmp"
mkdir -p "$src" "$bin" "$bin.tmp"

version_pkg=github.com/prometheus/common/version
prepare_module() {
  # .promu.yml's tags for Linux, but for builtinassets (see above).
  export GOFLAGS="$GOFLAGS -tags=netgo"
}
go_module_build "github.com/prometheus/prometheus@$PROMETHEUS_MODULE" ./cmd/prometheus prometheus "$src" "$bin.tmp" \
  "-X $version_pkg.Version=${PROMETHEUS#v} -X $version_pkg.Revision=$PROMETHEUS_COMMIT -X $version_pkg.Branch=HEAD -X $version_pkg.BuildUser=$(id -un)@$(hostname) -X $version_pkg.BuildDate=$(date -u +%Y%m%d-%H:%M:%S)"

mv "$bin.tmp/prometheus" "$bin/prometheus"
rmdir "$bin.tmp"
rm -rf "$src"
# Not piped into head: with pipefail, a SIGPIPE of the binary would fail the script before the stamp.
built_version=$("$bin/prometheus" --version)
echo "$built_version"
case "${built_version%%$'\n'*}" in
  "prometheus, version ${PROMETHEUS#v} (branch: HEAD, revision: $PROMETHEUS_COMMIT)") ;;
  *) echo "setup: prometheus --version says $built_version, not ${PROMETHEUS#v} at $PROMETHEUS_COMMIT" >&2; exit 1 ;;
esac
echo "$want" > "$stamp"
release_go_caches
echo "setup: Prometheus built in $(( $(date +%s) - started )) s: $bin/prometheus"
