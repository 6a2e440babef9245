# Vault policy of api-gateway (Request routing, rate limiting).
# Generated from lib/spec by scripts/vault/generate-config.ts: edit the spec, not this file.
# Nothing else is allowed: Vault denies every path not listed.

path "kv/data/services/api-gateway/redis" {
  capabilities = ["read"]
}
