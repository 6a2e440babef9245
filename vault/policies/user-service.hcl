# Vault policy of user-service (User management, profiles).
# Generated from lib/spec by scripts/vault/generate-config.ts: edit the spec, not this file.
# Reads: database, cache credentials, nothing else.

path "database/creds/user-service" {
  capabilities = ["read"]
}

path "kv/data/services/user-service/redis" {
  capabilities = ["read"]
}
