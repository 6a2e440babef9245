# Vault policy of order-service (Order management).
# Generated from lib/spec by scripts/vault/generate-config.ts: edit the spec, not this file.
# Reads: database, broker credentials, nothing else.

path "database/creds/order-service" {
  capabilities = ["read"]
}

path "kv/data/services/order-service/kafka" {
  capabilities = ["read"]
}
