# Vault policy of payment-service (Payment processing).
# Generated from lib/spec by scripts/vault/generate-config.ts: edit the spec, not this file.
# Reads: database credentials, nothing else.

path "database/creds/payment-service" {
  capabilities = ["read"]
}
