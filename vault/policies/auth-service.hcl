# Vault policy of auth-service (Authentication, authorization).
# Generated from lib/spec by scripts/vault/generate-config.ts: edit the spec, not this file.
# Reads: cache credentials, nothing else.

path "kv/data/services/auth-service/redis" {
  capabilities = ["read"]
}
