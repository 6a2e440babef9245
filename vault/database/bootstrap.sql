-- Database bootstrap of the platform (docs/vault.md "Database"): run once per environment, and
-- again after a service is added, as the RDS master user: psql -X -f vault/database/bootstrap.sql
-- Generated from lib/spec by scripts/vault/generate-config.ts: edit the spec, not this file.
\set ON_ERROR_STOP on
SET client_min_messages = warning;

-- Login roles of the services. No password: Vault's static roles set it when they are created
-- and rotate it from then on.
SELECT format('CREATE ROLE %I LOGIN', r.name) FROM (VALUES ('auth_service'), ('user_service'), ('payment_service'), ('order_service')) AS r(name)
  WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r.name) \gexec

-- Vault's connection user: may change the passwords of the roles above and nothing else.
-- NOINHERIT: membership (needed for ADMIN OPTION) must not hand it the services' privileges.
SELECT format('CREATE ROLE %I LOGIN NOINHERIT CREATEROLE', 'vault_admin')
  WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'vault_admin') \gexec
ALTER ROLE "vault_admin" LOGIN NOINHERIT CREATEROLE NOSUPERUSER NOCREATEDB NOREPLICATION;
DO $$
DECLARE
  r text;
  v16 boolean := current_setting('server_version_num')::int >= 160000;
  superuser boolean := (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user);
BEGIN
  FOREACH r IN ARRAY ARRAY['auth_service', 'user_service', 'payment_service', 'order_service'] LOOP
    -- PostgreSQL 16+ needs ADMIN OPTION (besides CREATEROLE) to change another role's password.
    IF v16 THEN
      EXECUTE format('GRANT %I TO %I WITH ADMIN OPTION, INHERIT FALSE, SET FALSE', r, 'vault_admin');
    ELSE
      EXECUTE format('GRANT %I TO %I WITH ADMIN OPTION', r, 'vault_admin');
    END IF;
    -- PostgreSQL 16+: a non-superuser (RDS's master) may make a role a database owner only if it can SET ROLE to it.
    IF v16 AND NOT superuser THEN
      EXECUTE format('GRANT %I TO CURRENT_USER WITH INHERIT FALSE, SET TRUE', r);
    END IF;
  END LOOP;
END $$;

-- One database per service, owned by its user (its migrations run as that user).
SELECT format('CREATE DATABASE %I OWNER %I', d.name, d.owner) FROM (VALUES ('auth', 'auth_service'), ('users', 'user_service'), ('payments', 'payment_service'), ('orders', 'order_service')) AS d(name, owner)
  WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = d.name) \gexec

-- auth: auth-service's database, its user's alone (PgBouncer logs in as that user).
ALTER DATABASE "auth" OWNER TO "auth_service";
REVOKE ALL ON DATABASE "auth" FROM PUBLIC;

-- users: user-service's database, its user's alone (PgBouncer logs in as that user).
ALTER DATABASE "users" OWNER TO "user_service";
REVOKE ALL ON DATABASE "users" FROM PUBLIC;

-- payments: payment-service's database, its user's alone (PgBouncer logs in as that user).
ALTER DATABASE "payments" OWNER TO "payment_service";
REVOKE ALL ON DATABASE "payments" FROM PUBLIC;

-- orders: order-service's database, its user's alone (PgBouncer logs in as that user).
ALTER DATABASE "orders" OWNER TO "order_service";
REVOKE ALL ON DATABASE "orders" FROM PUBLIC;
