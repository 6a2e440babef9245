# Vault policy of auth-service (Authentication, authorization).
# Generated from lib/spec by scripts/vault/generate-config.ts: edit the spec, not this file.
# Nothing else is allowed: Vault denies every path not listed.

path "database/static-creds/auth-service" {
  capabilities = ["read"]
}

path "kv/data/services/auth-service/redis" {
  capabilities = ["read"]
}

path "kv/data/services/auth-service/signing" {
  capabilities = ["read"]
}
