import { Stage } from 'aws-cdk-lib';
import type { App } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { ENVIRONMENT_NAMES, loadPlatformSpec } from '../../lib/spec';
import type { EnvironmentName, PlatformSpec } from '../../lib/spec';
import { CacheStack } from '../../lib/stacks/cache-stack';
import { DatabaseStack } from '../../lib/stacks/database-stack';
import { DataRecoveryStack } from '../../lib/stacks/data-recovery-stack';
import { MessagingStack } from '../../lib/stacks/messaging-stack';
import { NetworkStack } from '../../lib/stacks/network-stack';
import { testApp } from './app';
import { zoneSubnets } from '../../lib/constructs/network/zoned-vpc';

export type Resources = Record<string, { Type: string; Properties?: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;

export interface DataTierEnvironment {
  readonly stage: Stage;
  readonly assembly: CloudAssembly;
  readonly network: NetworkStack;
  readonly dataRecovery: DataRecoveryStack;
  readonly database: DatabaseStack;
  readonly cache: CacheStack;
  readonly messaging: MessagingStack;
}

/**
 * The data tier of both environments, built as the app builds it (one Stage per environment,
 * the network passed as a construct prop), synthesized once.
 */
export function buildDataTier(): { spec: PlatformSpec; app: App; envs: Record<EnvironmentName, DataTierEnvironment> } {
  const spec = loadPlatformSpec();
  const app = testApp();
  const envs = Object.fromEntries(ENVIRONMENT_NAMES.map((name) => {
    const environment = spec.environments[name];
    const stage = new Stage(app, name);
    const network = new NetworkStack(stage, 'Network', { spec, environment });
    const dataRecovery = new DataRecoveryStack(stage, 'DataRecovery', { spec, environment });
    const database = new DatabaseStack(stage, 'Database', { spec, environment, network, dataRecovery });
    const cache = new CacheStack(stage, 'Cache', { spec, environment, network });
    const messaging = new MessagingStack(stage, 'Messaging', { spec, environment, network });
    return [name, { stage, network, dataRecovery, database, cache, messaging } as Omit<DataTierEnvironment, 'assembly'>];
  })) as Record<EnvironmentName, Omit<DataTierEnvironment, 'assembly'>>;
  app.synth();
  for (const name of ENVIRONMENT_NAMES) (envs[name] as { assembly?: CloudAssembly }).assembly = envs[name].stage.synth();
  return { spec, app, envs: envs as Record<EnvironmentName, DataTierEnvironment> };
}

export function resourcesOf(template: Template): Resources {
  return template.toJSON().Resources as Resources;
}

export function ofType(template: Template, type: string): Array<[string, Resources[string]]> {
  return Object.entries(resourcesOf(template)).filter(([, r]) => r.Type === type);
}

/** The resource types whose replacement or deletion loses data or the keys to it. */
export const STATEFUL_TYPES = [
  'AWS::RDS::DBInstance', 'AWS::ElastiCache::ReplicationGroup', 'AWS::MSK::Cluster', 'AWS::KMS::Key',
  'AWS::SecretsManager::Secret', 'AWS::Backup::BackupVault', 'AWS::Logs::LogGroup', 'AWS::ECR::Repository',
  'AWS::RedshiftServerless::Namespace',
] as const;

/**
 * Item 6 of the data-tier issue: every stateful resource is in `pins` (so a refactor that renames
 * one, i.e. replaces it, fails here naming it) and is kept on delete and on replacement.
 */
export function expectStatefulResourcesPinned(template: Template, pins: ReadonlyArray<readonly [string, string]>) {
  const resources = resourcesOf(template);
  const problems: string[] = [];
  for (const [logicalId, type] of pins) {
    const resource = resources[logicalId];
    if (!resource) {
      problems.push(`${type} ${logicalId} is gone: a new logical id means CloudFormation REPLACES it (data loss). Restore the id (overrideLogicalId) or migrate deliberately.`);
    } else if (resource.Type !== type) {
      problems.push(`${logicalId} is now ${resource.Type}, was ${type}`);
    }
  }
  const pinned = new Set(pins.map(([id]) => id));
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (!(STATEFUL_TYPES as readonly string[]).includes(resource.Type)) continue;
    if (!pinned.has(logicalId)) problems.push(`stateful ${resource.Type} ${logicalId} is not pinned: add it to the test's list`);
    for (const policy of ['DeletionPolicy', 'UpdateReplacePolicy'] as const) {
      if (!['Retain', 'Snapshot'].includes(resource[policy] ?? 'Delete')) {
        problems.push(`${resource.Type} ${logicalId} has ${policy} ${resource[policy] ?? 'Delete'}: must be Retain or Snapshot`);
      }
    }
  }
  expect(problems).toEqual([]);
}

/** Does this template value read `logicalId` of the network stack (a weak cross-stack reference)? */
export function isNetworkReference(value: any, network: NetworkStack, logicalId: string): boolean {
  const output = value?.['Fn::GetStackOutput'];
  return output !== undefined && output.StackName === network.stackName
    && new RegExp(`^PublishOutput(Ref|FnGetAtt)${logicalId}`).test(output.OutputName);
}

/** Logical ids (in the network stack) of the restricted zone's subnets and security group. */
export function restrictedZoneIds(network: NetworkStack): { subnets: string[]; securityGroup: string } {
  return {
    subnets: network.vpc.selectSubnets(zoneSubnets('restricted')).subnets
      .map((s) => network.getLogicalId(s.node.defaultChild as any)),
    securityGroup: network.getLogicalId(network.zones.restricted.node.defaultChild as any),
  };
}

export function expectRestrictedSubnets(subnetIds: any[], network: NetworkStack) {
  const { subnets } = restrictedZoneIds(network);
  expect(subnetIds).toHaveLength(subnets.length);
  for (const id of subnets) expect(subnetIds.filter((v) => isNetworkReference(v, network, id))).toHaveLength(1);
}

export function expectRestrictedSecurityGroup(groupIds: any[], network: NetworkStack) {
  expect(groupIds).toHaveLength(1);
  expect(isNetworkReference(groupIds[0], network, restrictedZoneIds(network).securityGroup)).toBe(true);
}
