# Vault policy of user-service (User management, profiles).
# Generated from lib/spec by scripts/vault/generate-config.ts: edit the spec, not this file.
# Nothing else is allowed: Vault denies every path not listed.

path "database/static-creds/user-service" {
  capabilities = ["read"]
}

path "kv/data/services/user-service/redis" {
  capabilities = ["read"]
}
