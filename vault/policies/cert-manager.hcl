# Vault policy of cert-manager's Vault issuer: signs the workloads' certificates with the services role.
# Generated from lib/spec by scripts/vault/generate-config.ts: edit the spec, not this file.
# Nothing else is allowed: Vault denies every path not listed.

path "pki/sign/services" {
  capabilities = ["create", "update"]
}
