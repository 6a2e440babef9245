#!/usr/bin/env bash
# The Vault Agent injector (vault-k8s) the `vault` Helm chart runs (clusterAddons.vaultInjector,
# docs/local-cluster.md): built from the Go module proxy into .cache/vault-injector/bin, static
# (CGO_ENABLED=0) like the release image's binary, for the local cluster's injector Deployment
# (scripts/local-cluster/vault-injector.ts) and its test. The proxy serves the module at v1.6.2
# (later tags are refused), so that is built; its `version` prints what the release's ldflags set.
# Idempotent and stamp-based: a no-op when the stamp matches this script and lib/install.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/setup/lib/install.sh

VAULT_K8S=v1.6.2

root="$PWD/.cache/vault-injector"
bin="$root/bin"
stamp="$bin/.stamp"
want="$(cat "$0" scripts/setup/lib/install.sh | sha256sum | cut -d' ' -f1)"
if [ -x "$bin/vault-k8s" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "setup: go is missing (the Vault Agent injector is built with it); install Go >= 1.25" >&2
  exit 1
fi

use_go_caches
started=$(date +%s)
echo "setup: building the Vault Agent injector (vault-k8s $VAULT_K8S) into $bin (one-time; a few minutes on 2 cores)"

src="$root/src"
rm -rf "$src" "$bin.tmp"
mkdir -p "$src" "$bin" "$bin.tmp"

go_module_build "github.com/hashicorp/vault-k8s@$VAULT_K8S" . vault-k8s "$src" "$bin.tmp" \
  "-X github.com/hashicorp/vault-k8s/version.Version=$VAULT_K8S"

mv "$bin.tmp/vault-k8s" "$bin/vault-k8s"
rmdir "$bin.tmp"
rm -rf "$src"
# Not piped into head: with pipefail, a SIGPIPE of the binary would fail the script before the stamp.
injector_version=$("$bin/vault-k8s" version)
echo "${injector_version%%$'\n'*}"
echo "$want" > "$stamp"
release_go_caches
echo "setup: Vault Agent injector built in $(( $(date +%s) - started )) s: $bin/vault-k8s"
