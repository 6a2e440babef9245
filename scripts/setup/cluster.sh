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
#   policies with, so that is built. CoreDNS is built with only the plugins of COREDNS_PLUGINS,
#   chosen as upstream documents it (plugin.cfg, then its generator of core/plugin/zplugin.go and
#   core/dnsserver/zdirectives.go): all of plugin.cfg adds route53, azure, clouddns, etcd, dnstap,
#   trace, geoip and their SDKs, about a third of CoreDNS's compile time (the kubernetes plugin's
#   client-go and k8s.io/api are most of the rest).
# - pause, the pod sandbox's process, compiled static from scripts/local-cluster/pause.c.
# Idempotent and stamp-based: a no-op when the stamp matches this script, lib/install.sh and pause.c.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/setup/lib/install.sh

COREDNS=v1.15.0
KUBE_ROUTER=v2.6.3-k3s1
# The plugins of the local cluster's Corefile (scripts/local-cluster/components.ts, which checks
# its Corefile against this line); whoami and log, the Corefile CoreDNS falls back to without
# -conf; metadata, prometheus and transfer, which the kubernetes plugin imports (so they are in the
# binary anyway; listed, they are directives too). They run in plugin.cfg's order, which the cut keeps.
COREDNS_PLUGINS="errors health ready kubernetes hosts cache whoami log metadata prometheus transfer"

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

# CoreDNS: plugin.cfg cut to COREDNS_PLUGINS (each must be there: a renamed plugin fails the
# build here, not at the cluster's start), then upstream's generator of the import and directive
# lists (`go generate coredns.go` runs it, and also owners_generate.go, whose output is the chaos
# plugin's, which is not built).
prepare_module() {
  [ "$1" = coredns ] || return 0
  local p
  for p in $COREDNS_PLUGINS; do
    grep -q "^$p:" plugin.cfg || { echo "setup: CoreDNS $COREDNS's plugin.cfg has no plugin $p" >&2; exit 1; }
  done
  grep -E "^($(echo $COREDNS_PLUGINS | tr ' ' '|')):" plugin.cfg > plugin.cfg.kept
  mv plugin.cfg.kept plugin.cfg
  go run directives_generate.go
}
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
# Exactly COREDNS_PLUGINS and nothing else (-plugins prints one name a line).
built=$("$bin/coredns" -plugins | sed '/^$/d' | sort | tr '\n' ' ')
wanted=$(printf '%s\n' $COREDNS_PLUGINS | sort | tr '\n' ' ')
[ "$built" = "$wanted" ] || { echo "setup: CoreDNS was built with plugins: $built; wanted: $wanted" >&2; exit 1; }
router_version=$("$bin/kube-router" --version 2>&1)
echo "${router_version%%$'\n'*}"
echo "$want" > "$stamp"
release_go_caches
echo "setup: cluster runtime pieces built in $(( $(date +%s) - started )) s: $bin"
