/**
 * Schema migrations with node-pg-migrate: SQL files (`-- Up Migration` / `-- Down Migration`)
 * from the service's migrations folder, one history table per service, and the library's
 * advisory lock so that replicas starting together apply each migration once.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runner } from 'node-pg-migrate';
import type { Pool } from 'pg';
import type { Logger } from 'pino';

export interface MigrateOptions {
  readonly pool: Pool;
  /** Folder of `NNN_name.sql` files, applied in name order. */
  readonly dir: string;
  /** e.g. `pgmigrations_user_service`: services sharing a database keep separate histories. */
  readonly migrationsTable: string;
  readonly logger: Logger;
}

/** Applies pending migrations; returns the names applied (empty when up to date). */
export async function runMigrations(options: MigrateOptions): Promise<string[]> {
  const { logger } = options;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(options.migrationsTable)) {
    throw new Error(`migrationsTable must be a lower-case SQL identifier (got ${JSON.stringify(options.migrationsTable)})`);
  }
  const client = await options.pool.connect();
  try {
    const applied = await runner({
      dbClient: client,
      dir: options.dir,
      direction: 'up',
      migrationsTable: options.migrationsTable,
      // Only SQL files are migrations; READMEs and the like are skipped.
      ignorePattern: '(\\..*)|(.*\\.(?!sql$)[^.]+)',
      checkOrder: true,
      singleTransaction: true,
      // Another replica holding the lock is migrating: wait for it instead of failing the start.
      advisoryLockMode: 'wait',
      logger: {
        debug: (msg: string) => logger.debug(msg),
        info: (msg: string) => logger.debug(msg),
        warn: (msg: string) => logger.warn(msg),
        error: (msg: string) => logger.error(msg),
      },
    });
    const names = applied.map((m) => m.name);
    logger.info({ applied: names, migrationsTable: options.migrationsTable }, names.length > 0 ? 'migrations applied' : 'schema up to date');
    return names;
  } finally {
    client.release();
  }
}

/**
 * A service's migrations folder: beside its bundle (build/services/<svc>/migrations, copied by
 * build:services) or, run from source, one level up from src/. `moduleDir` is the caller's __dirname.
 */
export function migrationsBeside(moduleDir: string): string {
  const candidates = [join(moduleDir, 'migrations'), join(moduleDir, '..', 'migrations')];
  const found = candidates.find((dir) => existsSync(dir));
  if (!found) throw new Error(`migrations folder not found (looked in ${candidates.join(', ')})`);
  return found;
}
