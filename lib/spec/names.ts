/**
 * Physical names of the data tier, derived from project + environment: the contract between
 * the data-tier stacks (which give their resources these names) and the ops CLI (which finds
 * the resources by them). Deterministic, so no lookup, export or hand-written string is needed
 * on either side. Plain data, no AWS dependency (see schema/index.ts).
 *
 * Limits honoured: RDS identifiers <= 63 chars, letters/digits/hyphens, no "--", no trailing
 * hyphen; ElastiCache replication group ids <= 40 chars; MSK cluster names <= 64 chars;
 * Backup vault names <= 50 chars.
 */
import type { EnvironmentSpec, PlatformSpec } from './schema';

export interface ResourceNames {
  /** Prefix of every name below: `<project>-<environment>`. */
  readonly prefix: string;
  /** RDS PostgreSQL writer (DBInstanceIdentifier), e.g. `platform-production-db`. */
  readonly dbInstance: string;
  /** RDS read replicas, one per `environment.database.readReplicas`: `<dbInstance>-replica-<n>`, n from 1. */
  readonly dbReplicas: readonly string[];
  /** DB subnet group over the restricted zone's subnets. */
  readonly dbSubnetGroup: string;
  /** DB parameter group of the writer and replicas. */
  readonly dbParameterGroup: string;
  /** ElastiCache Redis replication group id, e.g. `platform-production-redis`. */
  readonly cacheReplicationGroup: string;
  /** MSK cluster name, e.g. `platform-production-kafka`. */
  readonly mskCluster: string;
  /** AWS Backup vault (in-region) holding the database's recovery points, e.g. `platform-production-database`. */
  readonly backupVault: string;
  /** Its copy in the DR region (spec.drRegion), e.g. `platform-production-database-dr`. */
  readonly drBackupVault: string;
}

export function resourceNames(spec: PlatformSpec, environment: EnvironmentSpec | string): ResourceNames {
  const envName = typeof environment === 'string' ? environment : environment.name;
  const env = spec.environments[envName as keyof PlatformSpec['environments']];
  if (!env) throw new Error(`unknown environment "${envName}"`);
  const prefix = `${spec.project}-${env.name}`;
  const dbInstance = `${prefix}-db`;
  return {
    prefix,
    dbInstance,
    dbReplicas: Array.from({ length: env.database.readReplicas }, (_, i) => `${dbInstance}-replica-${i + 1}`),
    dbSubnetGroup: `${prefix}-db-restricted`,
    dbParameterGroup: `${prefix}-postgres${spec.dataTier.postgres.engineMajorVersion}`,
    cacheReplicationGroup: `${prefix}-redis`,
    mskCluster: `${prefix}-kafka`,
    backupVault: `${prefix}-database`,
    drBackupVault: `${prefix}-database-dr`,
  };
}

/**
 * Identifier of the new instance a point-in-time restore creates:
 * `<dbInstance>-pitr-<yyyymmddhhmm>` (UTC minute of the restore time), e.g.
 * `platform-production-db-pitr-202611011230`. Never equal to a name the stacks own.
 */
export function restoredDbInstanceName(names: ResourceNames, restoreTime: Date): string {
  const stamp = restoreTime.toISOString().slice(0, 16).replace(/[-:T]/g, '');
  return `${names.dbInstance}-pitr-${stamp}`;
}
