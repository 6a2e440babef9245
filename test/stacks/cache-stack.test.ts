import { Template } from 'aws-cdk-lib/assertions';
import { ENVIRONMENT_NAMES } from '../../lib/spec';
import type { EnvironmentName } from '../../lib/spec';
import {
  buildDataTier, expectRestrictedSecurityGroup, expectRestrictedSubnets, expectStatefulResourcesPinned, ofType,
} from '../helpers/data-tier-stacks';
import { normaliseTemplate } from '../helpers/normalise-template';

const { spec, envs } = buildDataTier();
const templates = Object.fromEntries(ENVIRONMENT_NAMES.map((n) => [n, Template.fromStack(envs[n].cache)])) as Record<EnvironmentName, Template>;

/** Item 6: the same ids in both environments (the stack's construct tree does not depend on the environment). */
const STATEFUL = [
  ['CacheKey55377725', 'AWS::KMS::Key'],
  ['CacheAuthToken04672416', 'AWS::SecretsManager::Secret'],
  ['CacheLogsslowlogLogGroupA73C5010', 'AWS::Logs::LogGroup'],
  ['CacheLogsenginelogLogGroupBB25EA33', 'AWS::Logs::LogGroup'],
  ['CacheReplicationGroupBFE59FF3', 'AWS::ElastiCache::ReplicationGroup'],
] as const;

describe.each(ENVIRONMENT_NAMES)('%s cache', (name) => {
  const env = spec.environments[name];
  const { cache, network, assembly } = envs[name];
  const template = templates[name];
  const group = () => ofType(template, 'AWS::ElastiCache::ReplicationGroup')[0][1];
  const keyArn = () => ({ 'Fn::GetAtt': [cache.getLogicalId(cache.encryptionKey.node.defaultChild as any), 'Arn'] });

  it('is bound to the spec account and region, protected, and looks nothing up', () => {
    expect([cache.stackName, cache.account, cache.region]).toEqual([`platform-${name}-cache`, env.account, env.region]);
    expect(cache.terminationProtection).toBe(true);
    expect(assembly.manifest.missing ?? []).toEqual([]);
  });

  it('runs the spec engine with one primary and one replica in each other AZ, failing over automatically', () => {
    expect(spec.dataTier.redis.engine).toBe('valkey');
    expect(group().Properties).toMatchObject({
      Engine: spec.dataTier.redis.engine,
      EngineVersion: spec.dataTier.redis.engineVersion,
      CacheNodeType: env.cache.nodeType,
      Port: spec.dataTier.redis.port,
      NumCacheClusters: env.availabilityZones.length,
      PreferredCacheClusterAZs: [...env.availabilityZones],
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
    });
    template.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 1);
  });

  it('encrypts in transit (required) and at rest with the CMK, and takes its AUTH token from Secrets Manager', () => {
    const secretId = cache.getLogicalId(cache.authSecret.node.defaultChild as any);
    expect(group().Properties).toMatchObject({
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
      AtRestEncryptionEnabled: true,
      KmsKeyId: keyArn(),
    });
    expect(JSON.stringify(group().Properties!.AuthToken)).toMatch(new RegExp(`resolve:secretsmanager:.*${secretId}|"Ref":"${secretId}"`));
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: keyArn(),
      GenerateSecretString: { ExcludePunctuation: true, PasswordLength: 64 },
    });
  });

  it('lives in the restricted subnets behind the restricted zone group, opening nothing new', () => {
    const [[subnetGroupId, subnetGroup]] = ofType(template, 'AWS::ElastiCache::SubnetGroup');
    expectRestrictedSubnets(subnetGroup.Properties!.SubnetIds, network);
    expect(group().Properties!.CacheSubnetGroupName).toEqual({ Ref: subnetGroupId });
    expectRestrictedSecurityGroup(group().Properties!.SecurityGroupIds, network);
    expect(ofType(template, 'AWS::EC2::SecurityGroupIngress')).toEqual([]);
  });

  it('keeps snapshots for the spec days and snapshots the group on delete or replacement', () => {
    expect(group().Properties!.SnapshotRetentionLimit).toBe(env.cache.snapshotRetentionDays);
    expect([group().DeletionPolicy, group().UpdateReplacePolicy]).toEqual(['Snapshot', 'Snapshot']);
  });

  it('delivers slow and engine logs to encrypted, retained log groups', () => {
    const deliveries = group().Properties!.LogDeliveryConfigurations.map((d: any) => d.LogType).sort();
    expect(deliveries).toEqual(['engine-log', 'slow-log']);
    for (const [, logGroup] of ofType(template, 'AWS::Logs::LogGroup')) {
      expect(logGroup.Properties).toMatchObject({ RetentionInDays: env.cache.logRetentionDays, KmsKeyId: keyArn() });
    }
  });

  it('keeps every stateful resource under a pinned logical id, retained or snapshotted', () => {
    expectStatefulResourcesPinned(template, STATEFUL);
  });

  it('matches the snapshot', () => {
    expect(normaliseTemplate(template.toJSON())).toMatchSnapshot();
  });
});
