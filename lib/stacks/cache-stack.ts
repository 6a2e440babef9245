import { CfnOutput } from 'aws-cdk-lib';
import type * as elasticache from 'aws-cdk-lib/aws-elasticache';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { CacheReplicationGroup } from '../constructs/data/cache-replication-group';
import { DataKey } from '../constructs/shared/data-key';
import { resourceNames } from '../spec';
import type { NetworkStack } from './network-stack';
import { PlatformStack } from './platform-stack';
import type { PlatformStackProps } from './platform-stack';
import { zoneSubnets } from '../constructs/network/zoned-vpc';

export interface CacheStackProps extends PlatformStackProps {
  /** The environment's network: the cache lives in its restricted zone. */
  readonly network: Pick<NetworkStack, 'vpc' | 'zones'>;
}

/** The environment's cache (spec "Cache: Redis"; Valkey, see lib/spec): read-path hits, gateway rate limits. */
export class CacheStack extends PlatformStack {
  readonly encryptionKey: kms.Key;
  readonly replicationGroup: elasticache.CfnReplicationGroup;
  /** The AUTH token clients present (a plain secret string). */
  readonly authSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: CacheStackProps) {
    const { network, ...stackProps } = props;
    super(scope, id, {
      description: `${props.spec.project} ${props.environment.name}: ElastiCache ${props.spec.dataTier.redis.engine} replication group`,
      ...stackProps,
    });
    const { spec, environment } = props;
    const prefix = `${spec.project}-${environment.name}`;
    this.encryptionKey = new DataKey(this, 'CacheKey', {
      alias: `${prefix}-cache`,
      description: `${prefix}: cache at rest, AUTH token, logs`,
      forLogs: true,
    }).key;
    const cache = new CacheReplicationGroup(this, 'Cache', {
      engine: spec.dataTier.redis,
      sizing: environment.cache,
      replicationGroupId: resourceNames(spec, environment).cacheReplicationGroup,
      description: `${spec.project} ${environment.name}: sessions, cache, gateway rate limits`,
      authSecretName: `${spec.project}/${environment.name}/cache-auth-token`,
      availabilityZones: environment.availabilityZones,
      subnets: network.vpc.selectSubnets(zoneSubnets('restricted')),
      securityGroup: network.zones.restricted,
      encryptionKey: this.encryptionKey,
    });
    this.replicationGroup = cache.replicationGroup;
    this.authSecret = cache.authSecret;

    new CfnOutput(this, 'PrimaryEndpoint', { value: this.replicationGroup.attrPrimaryEndPointAddress });
    new CfnOutput(this, 'ReaderEndpoint', { value: this.replicationGroup.attrReaderEndPointAddress });
    new CfnOutput(this, 'AuthSecretArn', { value: this.authSecret.secretArn });
  }
}
