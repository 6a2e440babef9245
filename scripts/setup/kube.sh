#!/usr/bin/env bash
# A real Kubernetes for the tests, built from the Go module proxy (DESIGN.md §8) into
# .cache/kube/bin: etcd, kube-apiserver, kube-controller-manager and kubectl for the control plane
# of test/harness/kube-apiserver.ts; kube-scheduler, kubelet and kube-proxy for the single-node
# cluster of scripts/local-cluster/ (its runtime and network pieces: scripts/setup/cluster.sh).
# k8s.io/kubernetes is not meant to be required as a module: its go.mod replaces its 31 staging
# modules (k8s.io/api, client-go, ...) with folders, so a module of ours requires it and pins each
# to the published v0.<minor>.<patch> of the same release; etcd's server at the 3.6 version
# Kubernetes pins. The mains are the upstream ones (command constructors and cli.Run). One
# `go build` for all seven, CGO_ENABLED=0, -trimpath, stripped, with the version stamped as the
# release does. Idempotent and stamp-based: a no-op when the stamp matches this script.
#
# metrics-server, the release the `metrics-server` Helm chart runs (clusterAddons.metricsServer,
# chart 3.13.0: appVersion 0.8.0, image registry.k8s.io/metrics-server/metrics-server:v0.8.0),
# for the local cluster's metrics-server Deployment (scripts/local-cluster/metrics-server.ts), is
# built here too, in the same module: it is an API server made of the same Kubernetes libraries,
# which this module has just compiled, so it costs its own 29 packages instead of a whole
# separate build of those libraries (about 570 s on a cold 2-core machine). The difference from
# the release: it links Kubernetes' libraries at this module's v0.35.4 instead of its go.mod's
# v0.33.2 (the same API; its code is unchanged); its requirements in turn raise a few of
# Kubernetes' own dependencies by a minor or patch version (golang.org/x/time v0.9.0 -> v0.11.0,
# the otlptrace exporters v1.34.0 -> v1.35.0, go-openapi/jsonreference v0.20.2 -> v0.21.0,
# go-spew and x/exp to later commits). It gets the version ldflags the release's Makefile
# sets on client-go's version package (tag, commit, build date), so `metrics-server --version`
# and the API's /version say v0.8.0. The proxy serves no commit for a version, so the tag's
# commit is written here, as the upstream tag names it.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/setup/lib/install.sh

KUBERNETES=v1.35.4
STAGING=v0.35.4
ETCD=v3.6.5
METRICS_SERVER=v0.8.0
METRICS_SERVER_COMMIT=d66279c6426c6581d9656fe3d42bc52db7c29597
staging=(
  api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider cluster-bootstrap
  code-generator component-base component-helpers controller-manager cri-api cri-client csi-translation-lib
  dynamic-resource-allocation endpointslice externaljwt kms kube-aggregator kube-controller-manager kube-proxy
  kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission sample-apiserver sample-cli-plugin
  sample-controller
)

root="$PWD/.cache/kube"
bin="$root/bin"
stamp="$bin/.stamp"
want="$(cat "$0" scripts/setup/lib/install.sh | sha256sum | cut -d' ' -f1)"
binaries=(etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl metrics-server)
present=1
for b in "${binaries[@]}"; do [ -x "$bin/$b" ] || present=; done
if [ -n "$present" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "setup: go is missing (the Kubernetes control plane is built with it); install Go >= 1.25" >&2
  exit 1
fi

use_go_caches
started=$(date +%s)
echo "setup: building etcd $ETCD, Kubernetes $KUBERNETES (control plane, node components, kubectl) and metrics-server $METRICS_SERVER from the Go module proxy into $bin (one-time; about half an hour on 2 cores)"

module="$root/module"
rm -rf "$module"
mkdir -p "$module"/cmd/{etcd,kube-apiserver,kube-controller-manager,kube-scheduler,kubelet,kube-proxy,kubectl} "$bin"
cd "$module"

{
  printf 'module platform.test/kube\n\ngo 1.25.0\n\ngodebug default=go1.25\n\n'
  printf 'require (\n\tgo.etcd.io/etcd/server/v3 %s\n\tk8s.io/kubernetes %s\n\tsigs.k8s.io/metrics-server %s\n)\n\nreplace (\n' "$ETCD" "$KUBERNETES" "$METRICS_SERVER"
  for s in "${staging[@]}"; do printf '\tk8s.io/%s => k8s.io/%s %s\n' "$s" "$s" "$STAGING"; done
  printf ')\n'
} > go.mod

cat > cmd/etcd/main.go <<'EOF'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
# The Kubernetes components: each main is its upstream command constructor run by cli.Run.
# component_main <binary> <app package> <constructor call> [another standard import]
component_main() {
  {
    printf 'package main\n\nimport (\n'
    if [ -n "${4:-}" ]; then printf '\t"%s"\n' "$4"; fi
    printf '\t"os"\n\n\t"k8s.io/component-base/cli"\n\t"%s"\n)\n\n' "$2"
    printf 'func main() { os.Exit(cli.Run(%s)) }\n' "$3"
  } > "cmd/$1/main.go"
}
component_main kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver/app 'app.NewAPIServerCommand()'
component_main kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager/app 'app.NewControllerManagerCommand()'
component_main kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler/app 'app.NewSchedulerCommand()'
component_main kubelet k8s.io/kubernetes/cmd/kubelet/app 'app.NewKubeletCommand(context.Background())' context
component_main kube-proxy k8s.io/kubernetes/cmd/kube-proxy/app 'app.NewProxyCommand()'
cat > cmd/kubectl/main.go <<'EOF'
package main

import (
	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"
)

func main() {
	if err := cli.RunNoErrOutput(cmd.NewDefaultKubectlCommand()); err != nil {
		util.CheckErr(err)
	}
}
EOF

minor=${KUBERNETES#v1.}
minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$KUBERNETES -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done
tmp="$bin.tmp"
rm -rf "$tmp"
go build -trimpath -ldflags "$ldflags" -o "$tmp/" ./cmd/...
version_pkg=k8s.io/client-go/pkg/version
go build -trimpath -ldflags "-s -w -X $version_pkg.gitVersion=$METRICS_SERVER -X $version_pkg.gitCommit=$METRICS_SERVER_COMMIT -X $version_pkg.buildDate=$(date -u +'%Y-%m-%dT%H:%M:%SZ')" \
  -o "$tmp/metrics-server" sigs.k8s.io/metrics-server/cmd/metrics-server
for b in "${binaries[@]}"; do mv "$tmp/$b" "$bin/$b"; done
rmdir "$tmp"
"$bin/kube-apiserver" --version
# Not piped into head: with pipefail, a SIGPIPE of the binary would fail the script before the stamp.
metrics_server_version=$("$bin/metrics-server" --version)
echo "metrics-server $metrics_server_version"
[ "${metrics_server_version%%$'\n'*}" = "$METRICS_SERVER" ] || { echo "setup: metrics-server --version says $metrics_server_version, not $METRICS_SERVER" >&2; exit 1; }
# Not piped into head: with pipefail, etcd's SIGPIPE would fail the script before the stamp.
etcd_version=$("$bin/etcd" --version)
echo "${etcd_version%%$'\n'*}"
echo "$want" > "$stamp"
release_go_caches
echo "setup: Kubernetes and metrics-server built in $(( $(date +%s) - started )) s: $bin"
