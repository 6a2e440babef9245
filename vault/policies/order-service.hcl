# Vault policy of order-service (Order management).
# Generated from lib/spec by scripts/vault/generate-config.ts: edit the spec, not this file.
# Nothing else is allowed: Vault denies every path not listed.

path "database/static-creds/order-service" {
  capabilities = ["read"]
}

path "kv/data/services/order-service/kafka" {
  capabilities = ["read"]
}
