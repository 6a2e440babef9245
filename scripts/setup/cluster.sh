#!/usr/bin/env bash
# The single-node cluster's runtime and network (scripts/local-cluster/), beside the Kubernetes
# binaries of scripts/setup/kube.sh:
# - Debian's containerd and runc (CRI v1), the CNI plugins (bridge, host-local, portmap,
#   loopback), iptables, ipset and conntrack (kube-proxy and the policy enforcer), umoci and
#   skopeo (images built without a registry or a Docker engine), busybox-static (the shell of the
#   PgBouncer and Vault agent images, scripts/local-cluster/workload-images.ts).
# - Built from the Go module proxy (DESIGN.md §8) into .cache/cluster/bin: CoreDNS (Service names)
#   and kube-router as the NetworkPolicy enforcer. The proxy serves upstream kube-router only at
#   v2.1.0, for which security flaws are reported; k3s's fork of a later release
#   (k3s-io/kube-router, whose go.mod keeps the upstream module path) is what k3s itself enforces
#   policies with, so that is built.
# - pause, the pod sandbox's process, compiled static from scripts/local-cluster/pause.c.
# Idempotent and stamp-based: a no-op when the stamp matches this script, lib/install.sh and pause.c.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/setup/lib/install.sh

COREDNS=v1.15.0
KUBE_ROUTER=v2.6.3-k3s1

# --- Debian packages --------------------------------------------------------------------------
missing=()
command -v containerd >/dev/null 2>&1 || missing+=(containerd)
command -v runc >/dev/null 2>&1 || missing+=(runc)
[ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
command -v iptables >/dev/null 2>&1 || [ -x /usr/sbin/iptables ] || missing+=(iptables)
command -v ipset >/dev/null 2>&1 || [ -x /usr/sbin/ipset ] || missing+=(ipset)
command -v conntrack >/dev/null 2>&1 || [ -x /usr/sbin/conntrack ] || missing+=(conntrack)
command -v umoci >/dev/null 2>&1 || missing+=(umoci)
[ -x /bin/busybox ] || missing+=(busybox-static)
command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || missing+=(iproute2)
command -v gcc >/dev/null 2>&1 || missing+=(gcc libc6-dev)

# containerd's package would start the system daemon; the harness runs its own.
if [ ${#missing[@]} -gt 0 ]; then apt_install scripts/setup/cluster.sh "${missing[@]}"; fi

# --- Built binaries ---------------------------------------------------------------------------
root="$PWD/.cache/cluster"
bin="$root/bin"
stamp="$bin/.stamp"
want="$(cat "$0" scripts/setup/lib/install.sh scripts/local-cluster/pause.c | sha256sum | cut -d' ' -f1)"
binaries=(coredns kube-router pause)
present=1
for b in "${binaries[@]}"; do [ -x "$bin/$b" ] || present=; done
if [ -n "$present" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "setup: go is missing (CoreDNS and kube-router are built with it); install Go >= 1.25" >&2
  exit 1
fi

use_go_caches
started=$(date +%s)
echo "setup: building CoreDNS $COREDNS, kube-router $KUBE_ROUTER and pause into $bin (one-time; a few minutes on 2 cores)"

src="$root/src"
rm -rf "$src" "$bin.tmp"
mkdir -p "$src" "$bin" "$bin.tmp"

go_module_build "github.com/coredns/coredns@$COREDNS" . coredns "$src" "$bin.tmp"
go_module_build "github.com/k3s-io/kube-router/v2@$KUBE_ROUTER" ./cmd/kube-router kube-router "$src" "$bin.tmp" \
  "-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER"
gcc -static -O2 -Wall -Werror -o "$bin.tmp/pause" scripts/local-cluster/pause.c
strip "$bin.tmp/pause"

for b in "${binaries[@]}"; do mv "$bin.tmp/$b" "$bin/$b"; done
rmdir "$bin.tmp"
rm -rf "$src"
# Not piped into head: with pipefail, a SIGPIPE of the binary would fail the script before the stamp.
coredns_version=$("$bin/coredns" -version)
echo "${coredns_version%%$'\n'*}"
router_version=$("$bin/kube-router" --version 2>&1)
echo "${router_version%%$'\n'*}"
echo "$want" > "$stamp"
release_go_caches
echo "setup: cluster runtime pieces built in $(( $(date +%s) - started )) s: $bin"
