import { loadPlatformSpec, resourceNames, restoredDbInstanceName } from '../../lib/spec';

const spec = loadPlatformSpec();

describe('resourceNames (the data-tier naming contract of lib/spec/names.ts)', () => {
  it('derives every physical name from project + environment', () => {
    expect(resourceNames(spec, 'production')).toEqual({
      prefix: 'platform-production',
      dbInstance: 'platform-production-db',
      dbReplicas: ['platform-production-db-replica-1', 'platform-production-db-replica-2'],
      dbSubnetGroup: 'platform-production-db-restricted',
      dbParameterGroup: 'platform-production-postgres17',
      cacheReplicationGroup: 'platform-production-redis',
      mskCluster: 'platform-production-kafka',
      backupVault: 'platform-production-database',
      drBackupVault: 'platform-production-database-dr',
    });
    expect(resourceNames(spec, spec.environments.staging).dbInstance).toBe('platform-staging-db');
  });

  it('has one replica name per spec replica and stays within the AWS name limits', () => {
    for (const env of Object.values(spec.environments)) {
      const names = resourceNames(spec, env);
      expect(names.dbReplicas).toHaveLength(env.database.readReplicas);
      const rdsIds = [names.dbInstance, ...names.dbReplicas, restoredDbInstanceName(names, new Date('2026-11-01T12:30:45Z'))];
      for (const id of rdsIds) expect(id).toMatch(/^[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)$/);
      expect(names.cacheReplicationGroup.length).toBeLessThanOrEqual(40);
      expect(names.mskCluster.length).toBeLessThanOrEqual(64);
      expect(names.drBackupVault.length).toBeLessThanOrEqual(50);
    }
  });

  it('names a point-in-time restore by the UTC minute', () => {
    expect(restoredDbInstanceName(resourceNames(spec, 'staging'), new Date('2026-11-01T12:30:45+02:00')))
      .toBe('platform-staging-db-pitr-202611011030');
  });

  it('rejects an unknown environment', () => {
    expect(() => resourceNames(spec, 'qa')).toThrow('unknown environment "qa"');
  });
});
