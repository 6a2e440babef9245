/**
 * The database side of Vault's configuration, rendered from the spec: the PostgreSQL roles the
 * services log in as (Vault static roles: a fixed user whose password Vault rotates), Vault's
 * own connection to RDS, and the SQL the database bootstrap runs once as the RDS master user
 * (roles, databases). PgBouncer has no login of its own: its Vault Agent renders the services'
 * static credentials into its auth_file (charts/pgbouncer-chart.ts). docs/vault.md "Database".
 */
import { databaseUser, servicesWithSecret } from '../spec/topology';
import { durationSeconds } from '../spec';
import type { PlatformSpec } from '../spec';

/** Name of Vault's connection to the RDS primary (database/config/<name>). */
export const DATABASE_CONNECTION = 'postgres';
/**
 * The PostgreSQL role Vault connects as: CREATEROLE with ADMIN OPTION on the managed roles only,
 * never a superuser. Not RDS's master user: RDS rotates that password itself (docs/data-tier.md).
 */
export const VAULT_DATABASE_ADMIN = 'vault_admin';
/** Replaced by vault/bootstrap.sh with the RDS writer endpoint (a deploy-time value). */
export const DATABASE_HOST_PLACEHOLDER = '${DATABASE_HOST}';
/** Replaced by vault/bootstrap.sh with the port: the spec's, unless DATABASE_PORT says otherwise (tests). */
export const DATABASE_PORT_PLACEHOLDER = '${DATABASE_PORT}';
/** Where Vault serves a static role's current credentials (username, password, ttl). */
export const staticCredsPath = (role: string) => `database/static-creds/${role}`;

export interface StaticRole {
  /** Vault role name: the service; read at database/static-creds/<name>. */
  readonly name: string;
  /** The PostgreSQL login role (DATABASE_USER of the service). */
  readonly username: string;
  /** The database the role owns. */
  readonly database: string;
  readonly rotationSeconds: number;
}

/** One static role per service with a database (user `<svc>` with `-` as `_`), rotated as the spec says. */
export function staticRoles(spec: PlatformSpec): StaticRole[] {
  const rotation = durationSeconds(spec.vault.staticCredentialRotation.services);
  const roles = servicesWithSecret(spec, 'database').map((s) => {
    // The spec's checks pair secrets 'database' with services[].database.
    const database = s.database?.name;
    if (!database) throw new Error(`services: ${s.name} has secrets 'database' but no database`);
    return { name: s.name, username: databaseUser(s.name), database, rotationSeconds: rotation };
  });
  for (const role of roles) {
    if (role.username === VAULT_DATABASE_ADMIN) throw new Error(`services: "${role.name}" maps to the reserved PostgreSQL role ${VAULT_DATABASE_ADMIN}`);
  }
  return roles;
}

/** Vault paths of the credentials in PgBouncer's auth_file: each service with a database (lib/spec); the pgbouncer chart renders them, its Vault policy reads them. */
export function pgbouncerUserPaths(spec: PlatformSpec): string[] {
  const paths = staticRoles(spec).map((role) => staticCredsPath(role.name));
  if (paths.length === 0) throw new Error('services: no service has a database, so PgBouncer has no one to serve');
  return paths;
}

/** database/static-roles/<name>: Vault rotates the existing user's password with ALTER ROLE (plugin default). */
export function renderStaticRoles(spec: PlatformSpec): Record<string, { db_name: string; username: string; rotation_period: number }> {
  return Object.fromEntries(staticRoles(spec).map((role) => [`database/static-roles/${role.name}`, {
    db_name: DATABASE_CONNECTION,
    username: role.username,
    rotation_period: role.rotationSeconds,
  }]));
}

/**
 * database/config/<connection>: the RDS primary as `vault_admin`, whose password bootstrap sets
 * and Vault rotates at once (rotate-root), so no person knows it. sslmode=require: the nodes
 * carry no RDS CA bundle yet (docs/vault.md), so the link is encrypted but the server unverified.
 */
export function renderDatabaseConnection(spec: PlatformSpec): Record<string, Record<string, unknown>> {
  return {
    [`database/config/${DATABASE_CONNECTION}`]: {
      plugin_name: 'postgresql-database-plugin',
      allowed_roles: staticRoles(spec).map((r) => r.name),
      connection_url: `postgresql://{{username}}:{{password}}@${DATABASE_HOST_PLACEHOLDER}:${DATABASE_PORT_PLACEHOLDER}/postgres?sslmode=require`,
      username: VAULT_DATABASE_ADMIN,
      password_authentication: 'scram-sha-256',
      verify_connection: true,
    },
  };
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

/**
 * The database bootstrap (psql, as the RDS master user or a superuser; idempotent): login roles
 * without passwords (Vault's static roles set them), Vault's admin role, and one database per
 * service owned by its user. Nothing reads password verifiers: PgBouncer gets the services'
 * passwords from Vault, not from pg_shadow, which RDS's master user cannot read. Not a
 * migration: the services migrate as their own user, which must not manage other roles.
 */
export function renderDatabaseBootstrapSql(spec: PlatformSpec): string {
  const roles = staticRoles(spec);
  const logins = roles.map((r) => r.username);
  const values = (rows: string[][]) => rows.map((row) => `(${row.map(literal).join(', ')})`).join(', ');
  const array = `ARRAY[${logins.map(literal).join(', ')}]`;
  const lines = [
    '-- Database bootstrap of the platform (docs/vault.md "Database"): run once per environment, and',
    '-- again after a service is added, as the RDS master user: psql -X -f vault/database/bootstrap.sql',
    '-- Generated from lib/spec by scripts/vault/generate-config.ts: edit the spec, not this file.',
    '\\set ON_ERROR_STOP on',
    'SET client_min_messages = warning;',
    '',
    '-- Login roles of the services. No password: Vault\'s static roles set it when they are created',
    '-- and rotate it from then on.',
    `SELECT format('CREATE ROLE %I LOGIN', r.name) FROM (VALUES ${values(logins.map((l) => [l]))}) AS r(name)`,
    '  WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r.name) \\gexec',
    '',
    `-- Vault's connection user: may change the passwords of the roles above and nothing else.`,
    `-- NOINHERIT: membership (needed for ADMIN OPTION) must not hand it the services' privileges.`,
    `SELECT format('CREATE ROLE %I LOGIN NOINHERIT CREATEROLE', ${literal(VAULT_DATABASE_ADMIN)})`,
    `  WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = ${literal(VAULT_DATABASE_ADMIN)}) \\gexec`,
    '-- Only the attributes the current user may set: RDS\'s master is no superuser, and PostgreSQL 16+',
    '-- lets only a superuser write SUPERUSER, REPLICATION or BYPASSRLS, even to switch them off. A role',
    '-- that carries one of them (made by a superuser earlier) is an error, not something to keep.',
    'DO $$',
    'DECLARE',
    `  admin text := ${literal(VAULT_DATABASE_ADMIN)};`,
    '  superuser boolean := (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user);',
    '  role pg_catalog.pg_roles%ROWTYPE;',
    'BEGIN',
    "  EXECUTE format('ALTER ROLE %I LOGIN NOINHERIT CREATEROLE NOCREATEDB', admin);",
    '  IF superuser THEN',
    "    EXECUTE format('ALTER ROLE %I NOSUPERUSER NOREPLICATION NOBYPASSRLS', admin);",
    '  END IF;',
    '  SELECT * INTO role FROM pg_catalog.pg_roles WHERE rolname = admin;',
    '  IF role.rolsuper OR role.rolreplication OR role.rolbypassrls THEN',
    "    RAISE EXCEPTION 'role % has SUPERUSER, REPLICATION or BYPASSRLS, which only a superuser can remove: run ALTER ROLE % NOSUPERUSER NOREPLICATION NOBYPASSRLS as one', admin, admin;",
    '  END IF;',
    'END $$;',
    'DO $$',
    'DECLARE',
    '  r text;',
    "  v16 boolean := current_setting('server_version_num')::int >= 160000;",
    '  superuser boolean := (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user);',
    'BEGIN',
    `  FOREACH r IN ARRAY ${array} LOOP`,
    '    -- PostgreSQL 16+ needs ADMIN OPTION (besides CREATEROLE) to change another role\'s password.',
    '    IF v16 THEN',
    `      EXECUTE format('GRANT %I TO %I WITH ADMIN OPTION, INHERIT FALSE, SET FALSE', r, ${literal(VAULT_DATABASE_ADMIN)});`,
    '    ELSE',
    `      EXECUTE format('GRANT %I TO %I WITH ADMIN OPTION', r, ${literal(VAULT_DATABASE_ADMIN)});`,
    '    END IF;',
    '    -- A non-superuser (RDS\'s master) may make a role a database owner, and act as that owner',
    '    -- below, only as a member of it. PostgreSQL 16+: SET, but no INHERIT of its privileges.',
    '    IF v16 AND NOT superuser THEN',
    "      EXECUTE format('GRANT %I TO CURRENT_USER WITH INHERIT FALSE, SET TRUE', r);",
    '    ELSIF NOT superuser THEN',
    "      EXECUTE format('GRANT %I TO CURRENT_USER', r);",
    '    END IF;',
    '  END LOOP;',
    'END $$;',
    '',
    '-- The services\' statement timeout, as their roles\' default: PgBouncer refuses it as a startup',
    '-- parameter, and a SET would outlive the transaction on a pooled server connection.',
    ...logins.map((l) => `ALTER ROLE ${ident(l)} SET statement_timeout = ${literal(`${spec.dataTier.postgres.serviceStatementTimeoutSeconds}s`)};`),
    '',
    '-- One database per service, owned by its user (its migrations run as that user).',
    `SELECT format('CREATE DATABASE %I OWNER %I', d.name, d.owner) FROM (VALUES ${values(roles.map((d) => [d.database, d.username]))}) AS d(name, owner)`,
    '  WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = d.name) \\gexec',
  ];
  for (const db of roles) {
    lines.push(
      '',
      `-- ${db.database}: ${db.name}'s database, its user's alone (PgBouncer logs in as that user).`,
      `ALTER DATABASE ${ident(db.database)} OWNER TO ${ident(db.username)};`,
      // As the owner: PUBLIC's CONNECT and TEMPORARY are the owner's grants, and a REVOKE by anyone
      // else (RDS's master, a member without INHERIT) revokes nothing, with only a warning.
      `SET ROLE ${ident(db.username)};`,
      `REVOKE ALL ON DATABASE ${ident(db.database)} FROM PUBLIC;`,
      'RESET ROLE;',
    );
  }
  lines.push('');
  return lines.join('\n');
}
