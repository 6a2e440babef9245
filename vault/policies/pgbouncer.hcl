# Vault policy of PgBouncer (both pools): its auth_user's password and the RDS CA bundle.
# Generated from lib/spec by scripts/vault/generate-config.ts: edit the spec, not this file.
# Nothing else is allowed: Vault denies every path not listed.

path "database/static-creds/pgbouncer" {
  capabilities = ["read"]
}

path "kv/data/platform/rds-ca" {
  capabilities = ["read"]
}
