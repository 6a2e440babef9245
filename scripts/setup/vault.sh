#!/usr/bin/env bash
# A real Vault server (and CLI, and the Vault Agent of the local cluster's injector image) for the
# tests (scripts/local-stack/vault.ts; docs/vault.md "Tests"): HashiCorp publishes no Debian
# package and no npm or PyPI package of the server, so it is built from the Go module proxy.
# github.com/hashicorp/vault's module zip leaves out its nested modules (api, sdk, api/auth/*) and
# its go.mod replaces them with folders, so a small module of ours requires it, with a main that
# calls command.Run as Vault's own main.go does, and replaces:
#   - vault with a copy of its module zip whose two `minimal` add-on files are ours (below);
#   - api with v1.22.0, the auth helpers with v0.10.0 (their published versions that build);
#   - sdk with v0.19.0 from its module zip, plus three small compatibility changes made here at
#     build time (no published sdk is the copy Vault 1.20.4 was built with): GetCloudSQLAuthOptions
#     gets back its two-argument form (the MySQL plugin, which Vault's core still compiles in for
#     its test helpers), KeyType.IsPQC (transit) is added, and SystemView loses
#     GetRotationInformation, which Vault 1.20.4's core does not implement;
#   - the two forks Vault's go.mod names (99designs/keyring, ma314smith/signedxml).
# Built with Vault's own `minimal` build tag (plugins: approle, cert, jwt/oidc, userpass auth; kv,
# pki, ssh, transit, database secrets; storage: inmem and raft), plus what the project asks of
# Vault beyond it: kubernetes auth, the PostgreSQL database plugin, and `file` storage. Everything
# else of the full build's add-ons (the other auth methods, secrets engines, database plugins and
# storage backends, dynamodb among them) is left out, which takes most of the compile time away.
# Built with CGO_ENABLED=0 like the release, without the web UI (tag `ui`), stripped (-s -w).
# Idempotent and stamp-based: a no-op when the stamp matches this script. Cold: one `go build` of
# several minutes on 2 cores (measured figures in docs/vault.md); the Go caches are released once
# it is built (lib/install.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/setup/lib/install.sh

VAULT=v1.20.4
API=v1.22.0
SDK=v0.19.0
AUTH=v0.10.0

root="$PWD/.cache/vault"
bin="$root/bin/vault"
stamp="$root/bin/.stamp"
want="$(cat "$0" scripts/setup/lib/install.sh | sha256sum | cut -d' ' -f1)"
if [ -x "$bin" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "setup: go is missing (Vault is built with it); run: sudo apt-get install -y golang-go, or install Go >= 1.25" >&2
  exit 1
fi

use_go_caches
started=$(date +%s)
echo "setup: building Vault $VAULT (minimal, plus the project's plugins) from the Go module proxy into $bin (one-time; several minutes on 2 cores)"

module="$root/module"
rm -rf "$module"
mkdir -p "$module" "$root/bin"
cd "$module"

cat > main.go <<'EOF'
// The vault binary of the tests: Vault's own main.
package main

import (
	"os"

	"github.com/hashicorp/vault/command"
)

func main() { os.Exit(command.Run(os.Args[1:])) }
EOF

cat > go.mod <<EOF
module platform.test/vault

go 1.25.0

require github.com/hashicorp/vault $VAULT

replace (
	github.com/99designs/keyring => github.com/Jeffail/keyring v1.2.3
	github.com/hashicorp/vault/api => github.com/hashicorp/vault/api $API
	github.com/hashicorp/vault/api/auth/approle => github.com/hashicorp/vault/api/auth/approle $AUTH
	github.com/hashicorp/vault/api/auth/kubernetes => github.com/hashicorp/vault/api/auth/kubernetes $AUTH
	github.com/hashicorp/vault/api/auth/userpass => github.com/hashicorp/vault/api/auth/userpass $AUTH
	github.com/hashicorp/vault => ./vault
	github.com/hashicorp/vault/sdk => ./sdk
	github.com/ma314smith/signedxml v1.1.1 => github.com/moov-io/signedxml v1.1.1
)
EOF

# The sdk from the proxy's module zip (unpacked and checksum-verified by go mod download), made
# writable, then patched. Each edit checks that it found its target, so a changed source fails here.
sdk_dir=$(go mod download -json "github.com/hashicorp/vault/sdk@$SDK" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$sdk_dir" ] || { echo "setup: could not download github.com/hashicorp/vault/sdk@$SDK" >&2; exit 1; }
cp -R "$sdk_dir" sdk
chmod -R u+w sdk

cloudsql=sdk/database/helper/connutil/cloudsql.go
grep -q 'func GetCloudSQLAuthOptions(credentials string, usePrivateIP bool, usePSC bool)' "$cloudsql" \
  && grep -q 'opts, err := GetCloudSQLAuthOptions(credentials, usePrivateIP, usePSC)' "$cloudsql" \
  || { echo "setup: $cloudsql is not what the compatibility patch expects" >&2; exit 1; }
sed -i -e 's/func GetCloudSQLAuthOptions(credentials string, usePrivateIP bool, usePSC bool)/func getCloudSQLAuthOptions(credentials string, usePrivateIP bool, usePSC bool)/' \
  -e 's/opts, err := GetCloudSQLAuthOptions(credentials, usePrivateIP, usePSC)/opts, err := getCloudSQLAuthOptions(credentials, usePrivateIP, usePSC)/' "$cloudsql"
cat > sdk/database/helper/connutil/cloudsql_compat.go <<'EOF'
package connutil

import "cloud.google.com/go/cloudsqlconn"

// GetCloudSQLAuthOptions in the two-argument form Vault 1.20.4's MySQL plugin calls (no PSC).
func GetCloudSQLAuthOptions(credentials string, usePrivateIP bool) ([]cloudsqlconn.Option, error) {
	return getCloudSQLAuthOptions(credentials, usePrivateIP, false)
}
EOF

grep -q 'KeyType_SLH_DSA' sdk/helper/keysutil/policy.go || { echo "setup: sdk/helper/keysutil/policy.go has no KeyType_SLH_DSA" >&2; exit 1; }
cat > sdk/helper/keysutil/pqc_compat.go <<'EOF'
package keysutil

// IsPQC reports the post-quantum key types (Enterprise-only), as Vault 1.20.4's transit asks.
func (kt KeyType) IsPQC() bool {
	switch kt {
	case KeyType_ML_DSA, KeyType_HYBRID, KeyType_SLH_DSA:
		return true
	}
	return false
}
EOF

# Vault 1.20.4's core implements no GetRotationInformation (a later addition to the sdk's
# SystemView interface): take it out of the interface, and let a plugin asking for it over gRPC
# get codes.Unimplemented from a system view that lacks it.
system_view=sdk/logical/system_view.go
grpc_system=sdk/plugin/grpc_system.go
grep -q '^	GetRotationInformation(ctx context.Context, req \*rotation.RotationInfoRequest) (\*rotation.RotationInfoResponse, error)$' "$system_view" \
  && grep -q '^	resp, err := s.impl.GetRotationInformation(ctx, cfgReq)$' "$grpc_system" \
  || { echo "setup: $system_view or $grpc_system is not what the compatibility patch expects" >&2; exit 1; }
sed -i -e '/^	\/\/ GetRotationInformation gets rotation information from the system/d' \
  -e '/^	GetRotationInformation(ctx context.Context, req \*rotation.RotationInfoRequest) (\*rotation.RotationInfoResponse, error)$/d' "$system_view"
sed -i 's/^	resp, err := s.impl.GetRotationInformation(ctx, cfgReq)$/	informer, ok := s.impl.(rotationInformer)\
	if !ok {\
		return nil, status.Error(codes.Unimplemented, "GetRotationInformation is not implemented by this Vault")\
	}\
	resp, err := informer.GetRotationInformation(ctx, cfgReq)/' "$grpc_system"
cat > sdk/plugin/rotation_compat.go <<'EOF'
package plugin

import (
	"context"

	"github.com/hashicorp/vault/sdk/rotation"
)

// rotationInformer: a system view that can tell a rotation job's schedule (not Vault 1.20.4's).
type rotationInformer interface {
	GetRotationInformation(ctx context.Context, req *rotation.RotationInfoRequest) (*rotation.RotationInfoResponse, error)
}
EOF

vault_json=$(go mod download -json "github.com/hashicorp/vault@$VAULT")
commit=$(sed -n 's/^[[:space:]]*"Hash": "\(.*\)",\{0,1\}$/\1/p' <<<"$vault_json")
vault_dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$vault_json")
[ -d "$vault_dir" ] || { echo "setup: could not download github.com/hashicorp/vault@$VAULT" >&2; exit 1; }
cp -R "$vault_dir" vault
chmod -R u+w vault

# Vault's `minimal` build tag leaves out the add-on plugins and storage backends (the full build's
# registry_full.go and commands_full.go) through two no-op functions, registry_min.go's
# extendAddonPlugins and commands_min.go's extendAddonHandlers. In the copy of the module, those
# two files get versions adding the add-ons the project uses, registered as the full build
# registers them: kubernetes auth, the PostgreSQL database plugin, and the `file` storage of
# scripts/local-stack/vault.ts. The checks stop the build if the no-op functions or the full
# build's registrations read otherwise.
registry_min=vault/helper/builtinplugins/registry_min.go
registry_full=vault/helper/builtinplugins/registry_full.go
commands_min=vault/command/commands_min.go
commands_full=vault/command/commands_full.go
grep -q '^func extendAddonPlugins(_ \*registry) {$' "$registry_min" \
  && grep -q '^	credKube "github.com/hashicorp/vault-plugin-auth-kubernetes"$' "$registry_full" \
  && grep -q '^			pluginconsts.AuthTypeKubernetes: {Factory: credKube.Factory},$' "$registry_full" \
  && grep -q '^	dbPostgres "github.com/hashicorp/vault/plugins/database/postgresql"$' "$registry_full" \
  && grep -q '^			"postgresql-database-plugin": *{Factory: dbPostgres.New},$' "$registry_full" \
  && grep -q '^func extendAddonHandlers(\*vaultHandlers) {$' "$commands_min" \
  && grep -q '^	physFile "github.com/hashicorp/vault/sdk/physical/file"$' "$commands_full" \
  && grep -q '^		"file": *physFile.NewFileBackend,$' "$commands_full" \
  || { echo "setup: Vault's registry_min.go/registry_full.go or commands_min.go/commands_full.go are not what the build expects" >&2; exit 1; }
cat > "$registry_min" <<'EOF'
//go:build minimal

package builtinplugins

import (
	credKube "github.com/hashicorp/vault-plugin-auth-kubernetes"
	"github.com/hashicorp/vault/helper/pluginconsts"
	dbPostgres "github.com/hashicorp/vault/plugins/database/postgresql"
)

// extendAddonPlugins: the add-on plugins the project uses (scripts/setup/vault.sh).
func extendAddonPlugins(reg *registry) {
	reg.credentialBackends[pluginconsts.AuthTypeKubernetes] = credentialBackend{Factory: credKube.Factory}
	reg.databasePlugins["postgresql-database-plugin"] = databasePlugin{Factory: dbPostgres.New}
}
EOF
cat > "$commands_min" <<'EOF'
//go:build minimal

package command

import (
	_ "github.com/hashicorp/vault/helper/builtinplugins"
	physFile "github.com/hashicorp/vault/sdk/physical/file"
)

// extendAddonHandlers: the add-on storage backend the project uses (scripts/setup/vault.sh).
func extendAddonHandlers(handlers *vaultHandlers) {
	handlers.physicalBackends["file"] = physFile.NewFileBackend
}
EOF

go build -tags minimal -trimpath -ldflags "-s -w -X github.com/hashicorp/vault/version.GitCommit=$commit" -o "$bin.tmp" .
mv "$bin.tmp" "$bin"
"$bin" version
echo "$want" > "$stamp"
cd "$root"
rm -rf "$module"
release_go_caches
echo "setup: Vault built in $(( $(date +%s) - started )) s: $bin"
