# Vault policy of payment-service (Payment processing).
# Generated from lib/spec by scripts/vault/generate-config.ts: edit the spec, not this file.
# Nothing else is allowed: Vault denies every path not listed.

path "database/static-creds/payment-service" {
  capabilities = ["read"]
}

path "kv/data/services/payment-service/kafka" {
  capabilities = ["read"]
}

path "kv/data/services/payment-service/stripe" {
  capabilities = ["read"]
}
