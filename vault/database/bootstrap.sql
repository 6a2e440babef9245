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
-- Only the attributes the current user may set: RDS's master is no superuser, and PostgreSQL 16+
-- lets only a superuser write SUPERUSER, REPLICATION or BYPASSRLS, even to switch them off. A role
-- that carries one of them (made by a superuser earlier) is an error, not something to keep.
DO $$
DECLARE
  admin text := 'vault_admin';
  superuser boolean := (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user);
  role pg_catalog.pg_roles%ROWTYPE;
BEGIN
  EXECUTE format('ALTER ROLE %I LOGIN NOINHERIT CREATEROLE NOCREATEDB', admin);
  IF superuser THEN
    EXECUTE format('ALTER ROLE %I NOSUPERUSER NOREPLICATION NOBYPASSRLS', admin);
  END IF;
  SELECT * INTO role FROM pg_catalog.pg_roles WHERE rolname = admin;
  IF role.rolsuper OR role.rolreplication OR role.rolbypassrls THEN
    RAISE EXCEPTION 'role % has SUPERUSER, REPLICATION or BYPASSRLS, which only a superuser can remove: run ALTER ROLE % NOSUPERUSER NOREPLICATION NOBYPASSRLS as one', admin, admin;
  END IF;
END $$;
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
    -- A non-superuser (RDS's master) may make a role a database owner, and act as that owner
    -- below, only as a member of it. PostgreSQL 16+: SET, but no INHERIT of its privileges.
    IF v16 AND NOT superuser THEN
      EXECUTE format('GRANT %I TO CURRENT_USER WITH INHERIT FALSE, SET TRUE', r);
    ELSIF NOT superuser THEN
      EXECUTE format('GRANT %I TO CURRENT_USER', r);
    END IF;
  END LOOP;
END $$;

-- The services' statement timeout, as their roles' default: PgBouncer refuses it as a startup
-- parameter, and a SET would outlive the transaction on a pooled server connection.
ALTER ROLE "auth_service" SET statement_timeout = '10s';
ALTER ROLE "user_service" SET statement_timeout = '10s';
ALTER ROLE "payment_service" SET statement_timeout = '10s';
ALTER ROLE "order_service" SET statement_timeout = '10s';

-- One database per service, owned by its user (its migrations run as that user).
SELECT format('CREATE DATABASE %I OWNER %I', d.name, d.owner) FROM (VALUES ('auth', 'auth_service'), ('users', 'user_service'), ('payments', 'payment_service'), ('orders', 'order_service')) AS d(name, owner)
  WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = d.name) \gexec

-- auth: auth-service's database, its user's alone (PgBouncer logs in as that user).
ALTER DATABASE "auth" OWNER TO "auth_service";
SET ROLE "auth_service";
REVOKE ALL ON DATABASE "auth" FROM PUBLIC;
RESET ROLE;

-- users: user-service's database, its user's alone (PgBouncer logs in as that user).
ALTER DATABASE "users" OWNER TO "user_service";
SET ROLE "user_service";
REVOKE ALL ON DATABASE "users" FROM PUBLIC;
RESET ROLE;

-- payments: payment-service's database, its user's alone (PgBouncer logs in as that user).
ALTER DATABASE "payments" OWNER TO "payment_service";
SET ROLE "payment_service";
REVOKE ALL ON DATABASE "payments" FROM PUBLIC;
RESET ROLE;

-- orders: order-service's database, its user's alone (PgBouncer logs in as that user).
ALTER DATABASE "orders" OWNER TO "order_service";
SET ROLE "order_service";
REVOKE ALL ON DATABASE "orders" FROM PUBLIC;
RESET ROLE;
