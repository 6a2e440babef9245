# Vault policy of auth-service (Authentication, authorization).
# Generated from lib/spec by scripts/vault/generate-config.ts: edit the spec, not this file.
# Reads: database, cache credentials, nothing else.

path "database/creds/auth-service" {
  capabilities = ["read"]
}

path "kv/data/services/auth-service/redis" {
  capabilities = ["read"]
}
