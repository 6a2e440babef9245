# Vault policy of api-gateway (Request routing, rate limiting).
# Generated from lib/spec by scripts/vault/generate-config.ts: edit the spec, not this file.
# Reads: cache credentials, nothing else.

path "kv/data/services/api-gateway/redis" {
  capabilities = ["read"]
}
