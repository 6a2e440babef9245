/**
 * The database side of Vault's configuration, rendered from the spec: the PostgreSQL roles the
 * services and PgBouncer log in as (Vault static roles: a fixed user whose password Vault
 * rotates), Vault's own connection to RDS, and the SQL the database bootstrap runs once as the
 * RDS master user (roles, databases, PgBouncer's auth_query function). docs/vault.md "Database".
 */
import { databaseUser } from '../../charts/lib/topology';
import { PGBOUNCER_AUTH_USER } from '../../charts/pgbouncer-chart';
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
/** Schema and function PgBouncer's auth_query calls (charts/pgbouncer-chart.ts `auth_query`). */
export const AUTH_QUERY_SCHEMA = 'pgbouncer';
export const AUTH_QUERY_FUNCTION = `${AUTH_QUERY_SCHEMA}.get_auth`;

export interface StaticRole {
  /** Vault role name: the service (or `pgbouncer`); read at database/static-creds/<name>. */
  readonly name: string;
  /** The PostgreSQL login role (DATABASE_USER of the service). */
  readonly username: string;
  /** The database the role owns (services only; PgBouncer's auth_user owns none). */
  readonly database?: string;
  readonly rotationSeconds: number;
}

/** One static role per service with a database (user `<svc>` with `-` as `_`), plus PgBouncer's auth_user. */
export function staticRoles(spec: PlatformSpec): StaticRole[] {
  const rotation = spec.vault.staticCredentialRotation;
  const services = spec.services.filter((s) => spec.vault.serviceSecrets[s.name]?.includes('database')).map((s) => {
    const database = spec.workloads.databaseNames[s.name];
    if (!database) throw new Error(`workloads.databaseNames: no database for ${s.name} (vault.serviceSecrets gives it one)`);
    return { name: s.name, username: databaseUser(s.name), database, rotationSeconds: durationSeconds(rotation.services) };
  });
  if (services.some((r) => r.name === PGBOUNCER_AUTH_USER || r.username === PGBOUNCER_AUTH_USER)) {
    throw new Error(`services: the name "${PGBOUNCER_AUTH_USER}" is PgBouncer's auth_user and cannot be a service`);
  }
  const roles = [...services, { name: PGBOUNCER_AUTH_USER, username: PGBOUNCER_AUTH_USER, rotationSeconds: durationSeconds(rotation.pgbouncer) }];
  for (const role of roles) {
    if (role.username === VAULT_DATABASE_ADMIN) throw new Error(`services: "${role.name}" maps to the reserved PostgreSQL role ${VAULT_DATABASE_ADMIN}`);
  }
  return roles;
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
      connection_url: `postgresql://{{username}}:{{password}}@${DATABASE_HOST_PLACEHOLDER}:${spec.dataTier.postgres.port}/postgres?sslmode=require`,
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
 * without passwords (Vault's static roles set them), Vault's admin role, one database per service
 * owned by its user, and in each database `pgbouncer.get_auth(username)`: a SECURITY DEFINER
 * function returning the SCRAM verifier of that database's service user only, executable by
 * `pgbouncer` alone. Not a migration: the services migrate as their own user, which must not be
 * able to read password verifiers or replace the function.
 */
export function renderDatabaseBootstrapSql(spec: PlatformSpec): string {
  const roles = staticRoles(spec);
  const logins = roles.map((r) => r.username);
  const databases = roles.filter((r): r is StaticRole & { database: string } => r.database !== undefined);
  const values = (rows: string[][]) => rows.map((row) => `(${row.map(literal).join(', ')})`).join(', ');
  const array = `ARRAY[${logins.map(literal).join(', ')}]`;
  const lines = [
    '-- Database bootstrap of the platform (docs/vault.md "Database"): run once per environment, and',
    '-- again after a service is added, as the RDS master user: psql -X -f vault/database/bootstrap.sql',
    '-- Generated from lib/spec by scripts/vault/generate-config.ts: edit the spec, not this file.',
    '\\set ON_ERROR_STOP on',
    'SET client_min_messages = warning;',
    '',
    '-- Login roles of the services and of PgBouncer\'s auth_user. No password: Vault\'s static roles',
    '-- set it when they are created and rotate it from then on.',
    `SELECT format('CREATE ROLE %I LOGIN', r.name) FROM (VALUES ${values(logins.map((l) => [l]))}) AS r(name)`,
    '  WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r.name) \\gexec',
    '',
    `-- Vault's connection user: may change the passwords of the roles above and nothing else.`,
    `-- NOINHERIT: membership (needed for ADMIN OPTION) must not hand it the services' privileges.`,
    `SELECT format('CREATE ROLE %I LOGIN NOINHERIT CREATEROLE', ${literal(VAULT_DATABASE_ADMIN)})`,
    `  WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = ${literal(VAULT_DATABASE_ADMIN)}) \\gexec`,
    `ALTER ROLE ${ident(VAULT_DATABASE_ADMIN)} LOGIN NOINHERIT CREATEROLE NOSUPERUSER NOCREATEDB NOREPLICATION;`,
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
    '    -- PostgreSQL 16+: a non-superuser (RDS\'s master) may make a role a database owner only if it can SET ROLE to it.',
    '    IF v16 AND NOT superuser THEN',
    "      EXECUTE format('GRANT %I TO CURRENT_USER WITH INHERIT FALSE, SET TRUE', r);",
    '    END IF;',
    '  END LOOP;',
    'END $$;',
    '',
    '-- One database per service, owned by its user (its migrations run as that user).',
    `SELECT format('CREATE DATABASE %I OWNER %I', d.name, d.owner) FROM (VALUES ${values(databases.map((d) => [d.database, d.username]))}) AS d(name, owner)`,
    '  WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = d.name) \\gexec',
  ];
  for (const db of databases) {
    lines.push(
      '',
      `-- ${db.database}: ${db.name}'s database.`,
      `ALTER DATABASE ${ident(db.database)} OWNER TO ${ident(db.username)};`,
      `REVOKE ALL ON DATABASE ${ident(db.database)} FROM PUBLIC;`,
      `GRANT CONNECT ON DATABASE ${ident(db.database)} TO ${ident(PGBOUNCER_AUTH_USER)}, CURRENT_USER;`,
      `\\connect ${ident(db.database)}`,
      `CREATE SCHEMA IF NOT EXISTS ${ident(AUTH_QUERY_SCHEMA)};`,
      '-- A schema someone else created (the service, say) could hold a look-alike: refuse to use it.',
      'DO $$',
      'BEGIN',
      `  IF (SELECT nspowner::regrole::text FROM pg_catalog.pg_namespace WHERE nspname = ${literal(AUTH_QUERY_SCHEMA)}) <> quote_ident(current_user) THEN`,
      `    RAISE EXCEPTION 'schema ${AUTH_QUERY_SCHEMA} in database ${db.database} is not owned by %: drop it and run the bootstrap again', current_user;`,
      '  END IF;',
      'END $$;',
      `REVOKE ALL ON SCHEMA ${ident(AUTH_QUERY_SCHEMA)} FROM PUBLIC;`,
      `GRANT USAGE ON SCHEMA ${ident(AUTH_QUERY_SCHEMA)} TO ${ident(PGBOUNCER_AUTH_USER)};`,
      '-- PgBouncer\'s auth_query: the SCRAM verifier of this database\'s service user, no one else\'s',
      '-- (not the master, not Vault\'s, not another service\'s). Runs as its owner (pg_shadow needs it);',
      '-- a fixed search_path so no caller can shadow pg_catalog objects.',
      `CREATE OR REPLACE FUNCTION ${AUTH_QUERY_FUNCTION}(username text)`,
      '  RETURNS TABLE (usename name, passwd text)',
      '  LANGUAGE sql STABLE SECURITY DEFINER',
      '  SET search_path = pg_catalog, pg_temp',
      'AS $fn$',
      '  SELECT s.usename, s.passwd FROM pg_catalog.pg_shadow AS s',
      `  WHERE s.usename = username AND s.usename = ${literal(db.username)} AND NOT s.usesuper`,
      '$fn$;',
      `REVOKE ALL ON FUNCTION ${AUTH_QUERY_FUNCTION}(text) FROM PUBLIC;`,
      `GRANT EXECUTE ON FUNCTION ${AUTH_QUERY_FUNCTION}(text) TO ${ident(PGBOUNCER_AUTH_USER)};`,
      '-- RDS does not let its master user read pg_shadow: say so rather than fail at the first login.',
      'DO $$',
      'BEGIN',
      "  IF NOT has_table_privilege('pg_catalog.pg_shadow', 'SELECT') THEN",
      `    RAISE WARNING '${AUTH_QUERY_FUNCTION} in database ${db.database}: % cannot read pg_shadow, so PgBouncer''s auth_query will fail (docs/vault.md "Database")', current_user;`,
      '  END IF;',
      'END $$;',
    );
  }
  lines.push('');
  return lines.join('\n');
}
