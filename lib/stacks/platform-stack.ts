import { Aspects, Stack, Tags, Validations } from 'aws-cdk-lib';
import type { IAspect, StackProps } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { CfnLogGroup } from 'aws-cdk-lib/aws-logs';
import type { Construct, IConstruct } from 'constructs';
import { DataKey } from '../constructs/shared/data-key';
import type { EnvironmentSpec, PlatformSpec } from '../spec';

export interface PlatformStackProps extends Omit<StackProps, 'env'> {
  readonly spec: PlatformSpec;
  readonly environment: EnvironmentSpec;
  /**
   * Deploy this stack in the spec's disaster-recovery region (`spec.drRegion`) instead of the
   * environment's region: standby and backup-copy targets.
   */
  readonly inDrRegion?: boolean;
}

/**
 * Base of every stack: account, region and AZs come from the spec, never from a lookup.
 */
export abstract class PlatformStack extends Stack {
  readonly spec: PlatformSpec;
  /** This stack's environment in the spec (`Stack.environment` is CDK's aws://account/region). */
  readonly envSpec: EnvironmentSpec;
  /** The AZs this stack uses: the environment's, or the DR region's. */
  readonly availabilityZoneNames: readonly string[];
  private logEncryptionKey?: kms.Key;

  protected constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, {
      ...props,
      stackName: props.stackName ?? `${props.spec.project}-${props.environment.name}-${id.toLowerCase()}`,
      env: {
        account: props.environment.account,
        region: props.inDrRegion ? props.spec.drRegion.name : props.environment.region,
      },
      terminationProtection: props.terminationProtection ?? props.environment.terminationProtection,
    });
    this.spec = props.spec;
    this.envSpec = props.environment;
    this.availabilityZoneNames = props.inDrRegion ? props.spec.drRegion.availabilityZones : props.environment.availabilityZones;
    Tags.of(this).add('project', props.spec.project);
    Tags.of(this).add('environment', props.environment.name);
    Validations.of(this).acknowledge({
      id: 'CloudFormation-Validate::W3010',
      reason: 'AZ names are pinned in lib/spec on purpose: synth must be offline and deterministic (DESIGN.md §3), so they cannot come from Fn::GetAZs or a lookup.',
    });
  }

  /**
   * The key this stack's log groups are encrypted with, created on first use. Every log group
   * of a stack that has asked for it is encrypted with it, library-made ones included (an aspect
   * fills in the key where a construct did not set one).
   */
  get logsKey(): kms.IKey {
    if (!this.logEncryptionKey) {
      this.logEncryptionKey = new DataKey(this, 'LogEncryption', {
        alias: `${this.stackName}-logs`,
        description: `${this.stackName}: CloudWatch Logs encryption of this stack's log groups`,
        forLogs: true,
      }).key;
      Aspects.of(this).add(new EncryptLogGroups(this.logEncryptionKey));
    }
    return this.logEncryptionKey;
  }

  /**
   * An environment-bound stack would otherwise look its AZs up (a context query that
   * needs credentials and writes `dummy1a` placeholders offline).
   */
  override get availabilityZones(): string[] {
    return [...this.availabilityZoneNames];
  }
}

class EncryptLogGroups implements IAspect {
  constructor(private readonly key: kms.IKey) {}

  visit(node: IConstruct): void {
    if (node instanceof CfnLogGroup && node.kmsKeyId === undefined) node.kmsKeyId = this.key.keyArn;
  }
}
