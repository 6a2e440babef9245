-- Database bootstrap of the platform (docs/vault.md "Database"): run once per environment, and
-- again after a service is added, as the RDS master user: psql -X -f vault/database/bootstrap.sql
-- Generated from lib/spec by scripts/vault/generate-config.ts: edit the spec, not this file.
\set ON_ERROR_STOP on
SET client_min_messages = warning;

-- Login roles of the services and of PgBouncer's auth_user. No password: Vault's static roles
-- set it when they are created and rotate it from then on.
SELECT format('CREATE ROLE %I LOGIN', r.name) FROM (VALUES ('auth_service'), ('user_service'), ('payment_service'), ('order_service'), ('pgbouncer')) AS r(name)
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
  FOREACH r IN ARRAY ARRAY['auth_service', 'user_service', 'payment_service', 'order_service', 'pgbouncer'] LOOP
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

-- auth: auth-service's database.
ALTER DATABASE "auth" OWNER TO "auth_service";
REVOKE ALL ON DATABASE "auth" FROM PUBLIC;
GRANT CONNECT ON DATABASE "auth" TO "pgbouncer", CURRENT_USER;
\connect "auth"
CREATE SCHEMA IF NOT EXISTS "pgbouncer";
-- A schema someone else created (the service, say) could hold a look-alike: refuse to use it.
DO $$
BEGIN
  IF (SELECT nspowner::regrole::text FROM pg_catalog.pg_namespace WHERE nspname = 'pgbouncer') <> quote_ident(current_user) THEN
    RAISE EXCEPTION 'schema pgbouncer in database auth is not owned by %: drop it and run the bootstrap again', current_user;
  END IF;
END $$;
REVOKE ALL ON SCHEMA "pgbouncer" FROM PUBLIC;
GRANT USAGE ON SCHEMA "pgbouncer" TO "pgbouncer";
-- PgBouncer's auth_query: the SCRAM verifier of this database's service user, no one else's
-- (not the master, not Vault's, not another service's). Runs as its owner (pg_shadow needs it);
-- a fixed search_path so no caller can shadow pg_catalog objects.
CREATE OR REPLACE FUNCTION pgbouncer.get_auth(username text)
  RETURNS TABLE (usename name, passwd text)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT s.usename, s.passwd FROM pg_catalog.pg_shadow AS s
  WHERE s.usename = username AND s.usename = 'auth_service' AND NOT s.usesuper
$fn$;
REVOKE ALL ON FUNCTION pgbouncer.get_auth(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgbouncer.get_auth(text) TO "pgbouncer";
-- RDS does not let its master user read pg_shadow: say so rather than fail at the first login.
DO $$
BEGIN
  IF NOT has_table_privilege('pg_catalog.pg_shadow', 'SELECT') THEN
    RAISE WARNING 'pgbouncer.get_auth in database auth: % cannot read pg_shadow, so PgBouncer''s auth_query will fail (docs/vault.md "Database")', current_user;
  END IF;
END $$;

-- users: user-service's database.
ALTER DATABASE "users" OWNER TO "user_service";
REVOKE ALL ON DATABASE "users" FROM PUBLIC;
GRANT CONNECT ON DATABASE "users" TO "pgbouncer", CURRENT_USER;
\connect "users"
CREATE SCHEMA IF NOT EXISTS "pgbouncer";
-- A schema someone else created (the service, say) could hold a look-alike: refuse to use it.
DO $$
BEGIN
  IF (SELECT nspowner::regrole::text FROM pg_catalog.pg_namespace WHERE nspname = 'pgbouncer') <> quote_ident(current_user) THEN
    RAISE EXCEPTION 'schema pgbouncer in database users is not owned by %: drop it and run the bootstrap again', current_user;
  END IF;
END $$;
REVOKE ALL ON SCHEMA "pgbouncer" FROM PUBLIC;
GRANT USAGE ON SCHEMA "pgbouncer" TO "pgbouncer";
-- PgBouncer's auth_query: the SCRAM verifier of this database's service user, no one else's
-- (not the master, not Vault's, not another service's). Runs as its owner (pg_shadow needs it);
-- a fixed search_path so no caller can shadow pg_catalog objects.
CREATE OR REPLACE FUNCTION pgbouncer.get_auth(username text)
  RETURNS TABLE (usename name, passwd text)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT s.usename, s.passwd FROM pg_catalog.pg_shadow AS s
  WHERE s.usename = username AND s.usename = 'user_service' AND NOT s.usesuper
$fn$;
REVOKE ALL ON FUNCTION pgbouncer.get_auth(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgbouncer.get_auth(text) TO "pgbouncer";
-- RDS does not let its master user read pg_shadow: say so rather than fail at the first login.
DO $$
BEGIN
  IF NOT has_table_privilege('pg_catalog.pg_shadow', 'SELECT') THEN
    RAISE WARNING 'pgbouncer.get_auth in database users: % cannot read pg_shadow, so PgBouncer''s auth_query will fail (docs/vault.md "Database")', current_user;
  END IF;
END $$;

-- payments: payment-service's database.
ALTER DATABASE "payments" OWNER TO "payment_service";
REVOKE ALL ON DATABASE "payments" FROM PUBLIC;
GRANT CONNECT ON DATABASE "payments" TO "pgbouncer", CURRENT_USER;
\connect "payments"
CREATE SCHEMA IF NOT EXISTS "pgbouncer";
-- A schema someone else created (the service, say) could hold a look-alike: refuse to use it.
DO $$
BEGIN
  IF (SELECT nspowner::regrole::text FROM pg_catalog.pg_namespace WHERE nspname = 'pgbouncer') <> quote_ident(current_user) THEN
    RAISE EXCEPTION 'schema pgbouncer in database payments is not owned by %: drop it and run the bootstrap again', current_user;
  END IF;
END $$;
REVOKE ALL ON SCHEMA "pgbouncer" FROM PUBLIC;
GRANT USAGE ON SCHEMA "pgbouncer" TO "pgbouncer";
-- PgBouncer's auth_query: the SCRAM verifier of this database's service user, no one else's
-- (not the master, not Vault's, not another service's). Runs as its owner (pg_shadow needs it);
-- a fixed search_path so no caller can shadow pg_catalog objects.
CREATE OR REPLACE FUNCTION pgbouncer.get_auth(username text)
  RETURNS TABLE (usename name, passwd text)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT s.usename, s.passwd FROM pg_catalog.pg_shadow AS s
  WHERE s.usename = username AND s.usename = 'payment_service' AND NOT s.usesuper
$fn$;
REVOKE ALL ON FUNCTION pgbouncer.get_auth(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgbouncer.get_auth(text) TO "pgbouncer";
-- RDS does not let its master user read pg_shadow: say so rather than fail at the first login.
DO $$
BEGIN
  IF NOT has_table_privilege('pg_catalog.pg_shadow', 'SELECT') THEN
    RAISE WARNING 'pgbouncer.get_auth in database payments: % cannot read pg_shadow, so PgBouncer''s auth_query will fail (docs/vault.md "Database")', current_user;
  END IF;
END $$;

-- orders: order-service's database.
ALTER DATABASE "orders" OWNER TO "order_service";
REVOKE ALL ON DATABASE "orders" FROM PUBLIC;
GRANT CONNECT ON DATABASE "orders" TO "pgbouncer", CURRENT_USER;
\connect "orders"
CREATE SCHEMA IF NOT EXISTS "pgbouncer";
-- A schema someone else created (the service, say) could hold a look-alike: refuse to use it.
DO $$
BEGIN
  IF (SELECT nspowner::regrole::text FROM pg_catalog.pg_namespace WHERE nspname = 'pgbouncer') <> quote_ident(current_user) THEN
    RAISE EXCEPTION 'schema pgbouncer in database orders is not owned by %: drop it and run the bootstrap again', current_user;
  END IF;
END $$;
REVOKE ALL ON SCHEMA "pgbouncer" FROM PUBLIC;
GRANT USAGE ON SCHEMA "pgbouncer" TO "pgbouncer";
-- PgBouncer's auth_query: the SCRAM verifier of this database's service user, no one else's
-- (not the master, not Vault's, not another service's). Runs as its owner (pg_shadow needs it);
-- a fixed search_path so no caller can shadow pg_catalog objects.
CREATE OR REPLACE FUNCTION pgbouncer.get_auth(username text)
  RETURNS TABLE (usename name, passwd text)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT s.usename, s.passwd FROM pg_catalog.pg_shadow AS s
  WHERE s.usename = username AND s.usename = 'order_service' AND NOT s.usesuper
$fn$;
REVOKE ALL ON FUNCTION pgbouncer.get_auth(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgbouncer.get_auth(text) TO "pgbouncer";
-- RDS does not let its master user read pg_shadow: say so rather than fail at the first login.
DO $$
BEGIN
  IF NOT has_table_privilege('pg_catalog.pg_shadow', 'SELECT') THEN
    RAISE WARNING 'pgbouncer.get_auth in database orders: % cannot read pg_shadow, so PgBouncer''s auth_query will fail (docs/vault.md "Database")', current_user;
  END IF;
END $$;
