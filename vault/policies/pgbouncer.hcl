# Vault policy of PgBouncer (both pools): every service's static database credentials (its auth_file) and the RDS CA bundle.
# Generated from lib/spec by scripts/vault/generate-config.ts: edit the spec, not this file.
# Nothing else is allowed: Vault denies every path not listed.

path "database/static-creds/auth-service" {
  capabilities = ["read"]
}

path "database/static-creds/user-service" {
  capabilities = ["read"]
}

path "database/static-creds/payment-service" {
  capabilities = ["read"]
}

path "database/static-creds/order-service" {
  capabilities = ["read"]
}

path "kv/data/platform/rds-ca" {
  capabilities = ["read"]
}
