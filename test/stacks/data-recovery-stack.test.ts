import { Template } from 'aws-cdk-lib/assertions';
import { ENVIRONMENT_NAMES } from '../../lib/spec';
import type { EnvironmentName } from '../../lib/spec';
import { drBackupVaultName } from '../../lib/stacks/data-recovery-stack';
import { buildDataTier, expectStatefulResourcesPinned, ofType } from '../helpers/data-tier-stacks';
import { normaliseTemplate } from '../helpers/normalise-template';

const { spec, envs } = buildDataTier();
const templates = Object.fromEntries(ENVIRONMENT_NAMES.map((n) => [n, Template.fromStack(envs[n].dataRecovery)])) as Record<EnvironmentName, Template>;

const STATEFUL = [
  ['BackupKey1226E6A1', 'AWS::KMS::Key'],
  ['BackupVault68B95C06', 'AWS::Backup::BackupVault'],
] as const;

describe.each(ENVIRONMENT_NAMES)('%s DR-region data recovery', (name) => {
  const env = spec.environments[name];
  const { dataRecovery, assembly } = envs[name];
  const template = templates[name];

  it('is deployed in the DR region of the spec, protected, and looks nothing up', () => {
    expect([dataRecovery.stackName, dataRecovery.account, dataRecovery.region])
      .toEqual([`platform-${name}-datarecovery`, env.account, 'us-west-2']);
    expect(dataRecovery.region).toBe(spec.drRegion.name);
    expect(dataRecovery.availabilityZones).toEqual(spec.drRegion.availabilityZones);
    expect(dataRecovery.terminationProtection).toBe(true);
    expect(assembly.manifest.missing ?? []).toEqual([]);
  });

  it('holds a locked vault under its own rotating key, named as the primary region addresses it', () => {
    const keyId = dataRecovery.getLogicalId(dataRecovery.encryptionKey.node.defaultChild as any);
    const lock = spec.dataTier.backup.vaultLock;
    template.hasResource('AWS::Backup::BackupVault', {
      Properties: {
        BackupVaultName: drBackupVaultName(spec, env),
        EncryptionKeyArn: { 'Fn::GetAtt': [keyId, 'Arn'] },
        LockConfiguration: {
          MinRetentionDays: lock.minRetentionDays, MaxRetentionDays: lock.maxRetentionDays, ChangeableForDays: lock.changeableForDays,
        },
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    expect(dataRecovery.backupVaultArn).toBe(`arn:aws:backup:us-west-2:${env.account}:backup-vault:${drBackupVaultName(spec, env)}`);
    expect(ofType(template, 'AWS::Backup::BackupVault')).toHaveLength(1);
  });

  it('keeps every stateful resource under a pinned logical id, retained', () => {
    expectStatefulResourcesPinned(template, STATEFUL);
  });

  it('matches the snapshot', () => {
    expect(normaliseTemplate(template.toJSON())).toMatchSnapshot();
  });
});
