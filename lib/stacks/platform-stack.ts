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
   * @default false
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

  /**
   * `props` is this class's props and Stack's; a subclass takes its own (the stacks it builds on)
   * out of its props before it passes them here, so Stack only ever sees StackProps.
   */
  protected constructor(scope: Construct, id: string, props: PlatformStackProps) {
    const { spec, environment, inDrRegion, ...stackProps } = props;
    super(scope, id, {
      ...stackProps,
      stackName: stackProps.stackName ?? `${spec.project}-${environment.name}-${id.toLowerCase()}`,
      env: {
        account: environment.account,
        region: inDrRegion ? spec.drRegion.name : environment.region,
      },
      terminationProtection: stackProps.terminationProtection ?? environment.terminationProtection,
    });
    this.spec = spec;
    this.envSpec = environment;
    this.availabilityZoneNames = inDrRegion ? spec.drRegion.availabilityZones : environment.availabilityZones;
    Tags.of(this).add('project', spec.project);
    Tags.of(this).add('environment', environment.name);
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
