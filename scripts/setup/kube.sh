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
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/setup/lib/install.sh

KUBERNETES=v1.35.4
STAGING=v0.35.4
ETCD=v3.6.5
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
binaries=(etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
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
echo "setup: building etcd $ETCD and Kubernetes $KUBERNETES (control plane, node components, kubectl) from the Go module proxy into $bin (one-time; about half an hour on 2 cores)"

module="$root/module"
rm -rf "$module"
mkdir -p "$module"/cmd/{etcd,kube-apiserver,kube-controller-manager,kube-scheduler,kubelet,kube-proxy,kubectl} "$bin"
cd "$module"

{
  printf 'module platform.test/kube\n\ngo 1.25.0\n\ngodebug default=go1.25\n\n'
  printf 'require (\n\tgo.etcd.io/etcd/server/v3 %s\n\tk8s.io/kubernetes %s\n)\n\nreplace (\n' "$ETCD" "$KUBERNETES"
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
for b in "${binaries[@]}"; do mv "$tmp/$b" "$bin/$b"; done
rmdir "$tmp"
"$bin/kube-apiserver" --version
# Not piped into head: with pipefail, etcd's SIGPIPE would fail the script before the stamp.
etcd_version=$("$bin/etcd" --version)
echo "${etcd_version%%$'\n'*}"
echo "$want" > "$stamp"
release_go_caches
echo "setup: Kubernetes built in $(( $(date +%s) - started )) s: $bin"
