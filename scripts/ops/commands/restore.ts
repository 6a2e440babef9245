/**
 * `ops restore <env> --to <ISO time | latest> [--from pitr|dr] [--execute]`.
 *
 * `--from dr` is the region-loss recovery from the DR backup vault: restore-dr.ts. Without it
 * (or `--from pitr`), this file: point-in-time restore of the
 * environment's writer to a NEW instance (named by restoredDbInstanceName of lib/spec/names.ts)
 * in the writer's restricted-zone subnet group, with the writer's parameter group, security
 * groups and instance class. The KMS key cannot be chosen for a same-region point-in-time
 * restore: RDS encrypts the new instance with the source's key, which --execute verifies.
 * The writer is left untouched; switching the services over is a separate, deliberate step.
 * Dry run by default: prints the exact API calls; acts only with --execute.
 */
import { RestoreDBInstanceToPointInTimeCommand } from '@aws-sdk/client-rds';
import type { RestoreDBInstanceToPointInTimeCommandInput } from '@aws-sdk/client-rds';
import { resourceNames, restoredDbInstanceName } from '../../../lib/spec';
import type { EnvironmentSpec, PlatformSpec, ResourceNames } from '../../../lib/spec';
import { literal } from '../assembly';
import { EXECUTE_FLAG, OpsError, soleEnvironmentArg } from '../command';
import type { OpsArgs, OpsCommand } from '../command';
import { dataTier, findDbInstance, renderPlan, requireWriter, restoreWindow } from '../data-tier';
import type { PlanStep } from '../data-tier';
import { templateReplicas } from '../data-tier-templates';
import { OfflinePlanBuilder } from '../offline-plan';
import type { OfflineContext, OfflinePlan } from '../offline-plan';
import { DR_RESTORE_OPTIONS, offlineDrRestore, renderDrRestore, runDrRestore } from './restore-dr';
import type { DrRestoreResult } from './restore-dr';

export interface PitrRestoreResult {
  readonly environment: string;
  readonly from: 'pitr';
  readonly mode: 'plan' | 'executed';
  readonly source: string;
  readonly target: string;
  readonly restoreTime: string;
  readonly window: { readonly earliest: string; readonly latest: string };
  readonly kmsKeyId: string | null;
  readonly plan: readonly PlanStep[];
  readonly after: {
    readonly status: string;
    readonly endpoint: string | null;
    readonly subnetGroup: string | null;
    readonly kmsKeyId: string | null;
  } | null;
  readonly nextSteps: readonly string[];
}

export type RestoreResult = PitrRestoreResult | DrRestoreResult;

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** Where a restore comes from: the writer's automated backups in its region, or the DR vault. */
const SOURCES = ['pitr', 'dr'] as const;

/** The arguments both sources share, checked before anything else (online and --offline). */
function restoreArgs(spec: PlatformSpec, args: OpsArgs): { environment: EnvironmentSpec; from: 'pitr' | 'dr'; to: string; latestRequested: boolean } {
  const environment = soleEnvironmentArg(spec, args);
  const from = args.values.from ?? 'pitr';
  if (typeof from !== 'string' || !(SOURCES as readonly string[]).includes(from)) {
    throw new OpsError(`--from "${String(from)}" is not a restore source: "pitr" (default: point in time, in ${environment.region}) or "dr" (the DR vault copy, in ${spec.drRegion.name})`);
  }
  const to = args.values.to;
  if (typeof to !== 'string' || to === '') {
    throw new OpsError('missing --to <time>: an ISO-8601 time with a zone (e.g. 2026-11-01T12:30:00Z) or "latest"');
  }
  const latestRequested = to === 'latest';
  if (!latestRequested && (!ISO_TIME.test(to) || Number.isNaN(Date.parse(to)))) {
    throw new OpsError(`--to "${to}" is not an ISO-8601 time with a zone (e.g. 2026-11-01T12:30:00Z) or "latest"`);
  }
  if (from === 'pitr') {
    // DR-only flags would be silently ignored by the in-region restore: refuse them instead.
    const drOnly = Object.keys(DR_RESTORE_OPTIONS).filter((name) => args.values[name] !== undefined);
    if (drOnly.length > 0) throw new OpsError(`${drOnly.map((n) => `--${n}`).join(', ')}: only with --from dr (the DR-region restore)`);
  }
  return { environment, from: from as 'pitr' | 'dr', to, latestRequested };
}

/** The point-in-time restore request: a new instance placed like the writer, in the restricted subnets. */
function pitrRestoreInput(names: ResourceNames, r: {
  target: string; latestRequested: boolean; restoreTime: Date | string; subnetGroup: string; parameterGroup?: string;
  securityGroups: string[]; instanceClass?: string; multiAZ?: boolean;
}): RestoreDBInstanceToPointInTimeCommandInput {
  const restoreTime = typeof r.restoreTime === 'string' ? r.restoreTime : r.restoreTime.toISOString();
  return {
    SourceDBInstanceIdentifier: names.dbInstance,
    TargetDBInstanceIdentifier: r.target,
    ...(r.latestRequested ? { UseLatestRestorableTime: true } : { RestoreTime: new Date(restoreTime) }),
    DBSubnetGroupName: r.subnetGroup,
    ...(r.parameterGroup ? { DBParameterGroupName: r.parameterGroup } : {}),
    VpcSecurityGroupIds: r.securityGroups,
    DBInstanceClass: r.instanceClass,
    MultiAZ: r.multiAZ,
    PubliclyAccessible: false,
    DeletionProtection: true,
    CopyTagsToSnapshot: true,
    Tags: [
      { Key: 'platform:restored-from', Value: names.dbInstance },
      { Key: 'platform:restore-time', Value: restoreTime },
    ],
  };
}

function pitrPlan(input: RestoreDBInstanceToPointInTimeCommandInput): PlanStep[] {
  return [{
    service: 'rds', action: 'RestoreDBInstanceToPointInTime',
    parameters: { ...input, ...(input.RestoreTime ? { RestoreTime: input.RestoreTime.toISOString() } : {}) },
  }];
}

function pitrNextSteps(environment: EnvironmentSpec, names: ResourceNames, target: string): string[] {
  return [
    `wait for ${target} to be available (\`npm run ops -- endpoints ${environment.name}\` lists the writer only; describe ${target})`,
    `verify the data, then point the services (PgBouncer) at ${target}; ${names.dbInstance} is left untouched`,
  ];
}

function offlinePitrRestore(context: OfflineContext, environment: EnvironmentSpec, to: string, latestRequested: boolean): OfflinePlan {
  const { assembly } = context;
  const names = resourceNames(context.spec, environment);
  const plan = new OfflinePlanBuilder(context, 'restore', environment.name);
  const { writer } = templateReplicas(assembly, environment, names);
  plan.resource(writer, names.dbInstance);
  const region = writer.region;
  /** A name the template fixes, else the physical id CloudFormation assigns to the resource it references. */
  const placed = (property: string, unknownName: string) => {
    const value = writer.properties[property];
    const known = literal(value);
    if (known !== undefined) return String(known);
    const referenced = assembly.referenced(writer, value);
    return referenced
      ? plan.assigned(referenced, unknownName, `rds:DescribeDBInstances ${names.dbInstance} (${property})`)
      : plan.unknown(unknownName, `${property} of ${names.dbInstance}; online: rds:DescribeDBInstances`);
  };
  const subnetGroup = placed('DBSubnetGroupName', 'dbSubnetGroupName');
  const parameterGroup = placed('DBParameterGroupName', 'dbParameterGroupName');
  const groups = (writer.properties.VPCSecurityGroups ?? []) as unknown[];
  const securityGroups = groups.map((g) => String(literal(g) ?? plan.unknown('writerSecurityGroupIds',
    `the writer's security group ids (created by another stack, ids assigned by AWS); online: rds:DescribeDBInstances ${names.dbInstance} (VpcSecurityGroups)`)));
  const restoreTime = latestRequested
    ? plan.unknown('latestRestorableTime', `${names.dbInstance}'s LatestRestorableTime (about 5 minutes behind now); online: rds:DescribeDBInstances`)
    : new Date(to);
  const target = typeof restoreTime === 'string'
    ? plan.unknown('restoreTarget', `the new instance's identifier: ${names.dbInstance}-pitr-<UTC minute of latestRestorableTime> (restoredDbInstanceName)`)
    : restoredDbInstanceName(names, restoreTime);
  plan.unknown('restoreWindow', `${names.dbInstance}'s point-in-time window (earliest .. latest restorable time): --to must lie inside it; online: rds:DescribeDBInstanceAutomatedBackups`);
  plan.unknown('targetExists', `whether ${typeof restoreTime === 'string' ? 'the target' : target} already exists (a restore to that minute was made); online: rds:DescribeDBInstances`);
  const key = assembly.referenced(writer, writer.properties.KmsKeyId);
  if (key) plan.assigned(key, 'kmsKeyArn', `rds:DescribeDBInstances ${names.dbInstance} (KmsKeyId); the restore inherits the writer's key`);

  plan.step({ region, call: 'rds:DescribeDBInstances', target: names.dbInstance, kind: 'read', purpose: 'the writer\'s placement (subnet group, parameter group, security groups, class, Multi-AZ) and key' });
  plan.step({ region, call: 'rds:DescribeDBInstanceAutomatedBackups', target: names.dbInstance, kind: 'read', purpose: 'the restore window (rds:DescribeDBSnapshots of the automated snapshots when RDS reports none)' });
  plan.step({ region, call: 'rds:DescribeDBInstances', target, kind: 'read', purpose: 'the target must not exist yet' });
  const input = pitrRestoreInput(names, {
    target, latestRequested, restoreTime, subnetGroup, parameterGroup, securityGroups,
    instanceClass: literal(writer.properties.DBInstanceClass) as string | undefined,
    multiAZ: literal(writer.properties.MultiAZ) as boolean | undefined,
  });
  plan.changes(region, pitrPlan(input), (s) => String(s.parameters.TargetDBInstanceIdentifier));
  for (const next of pitrNextSteps(environment, names, target)) plan.note(`then: ${next}`);
  return plan.build(`restore ${names.dbInstance} to ${latestRequested ? 'its latest restorable time' : new Date(to).toISOString()} as a new instance, in ${region}`);
}

export const restoreCommand: OpsCommand<RestoreResult> = {
  name: 'restore',
  summary: 'restore the database to a new instance: point in time in-region, or --from dr in the DR region (dry run unless --execute)',
  usage: 'restore <env> --to <ISO time with zone | latest> [--from pitr | --from dr --subnet-group <name> --security-group <sg-id>... [--iam-role <role>] [--parameter-group <name>]] [--execute]',
  options: { to: { type: 'string' }, from: { type: 'string' }, ...DR_RESTORE_OPTIONS, [EXECUTE_FLAG]: { type: 'boolean' } },
  async run(args, context) {
    const { spec, log } = context;
    const { environment, from, to, latestRequested } = restoreArgs(spec, args);
    if (from === 'dr') return runDrRestore(args, context, environment, to);
    const tier = dataTier(spec, environment);
    const { names } = tier;
    const writer = await requireWriter(tier);
    const window = await restoreWindow(tier, writer);
    if (!window.earliest || !window.latest) {
      throw new OpsError(`${names.dbInstance} has no point-in-time restore window (automated backups off or none taken yet)`);
    }
    const windowText = `${window.earliest.toISOString()} .. ${window.latest.toISOString()}`;
    const restoreTime = latestRequested ? window.latest : new Date(to);
    if (restoreTime < window.earliest || restoreTime > window.latest) {
      throw new OpsError(`--to ${restoreTime.toISOString()} is outside the restore window of ${names.dbInstance} (${windowText})`);
    }

    const target = restoredDbInstanceName(names, restoreTime);
    if (await findDbInstance(tier, target)) {
      throw new OpsError(`${target} already exists: a restore to this minute was already made; delete it or pick another time`);
    }
    const subnetGroup = writer.DBSubnetGroup?.DBSubnetGroupName;
    const parameterGroup = writer.DBParameterGroups?.[0]?.DBParameterGroupName;
    const securityGroups = (writer.VpcSecurityGroups ?? []).map((g) => g.VpcSecurityGroupId).filter((id): id is string => !!id);
    if (!subnetGroup) throw new OpsError(`${names.dbInstance} reports no DB subnet group; cannot place the restore in the restricted subnets`);

    const input = pitrRestoreInput(names, {
      target, latestRequested, restoreTime, subnetGroup, parameterGroup, securityGroups,
      instanceClass: writer.DBInstanceClass, multiAZ: writer.MultiAZ,
    });
    const base = {
      environment: environment.name, from: 'pitr' as const, source: names.dbInstance, target, restoreTime: restoreTime.toISOString(),
      window: { earliest: window.earliest.toISOString(), latest: window.latest.toISOString() },
      kmsKeyId: writer.KmsKeyId ?? null, plan: pitrPlan(input),
      nextSteps: pitrNextSteps(environment, names, target),
    };
    if (args.values[EXECUTE_FLAG] !== true) return { ...base, mode: 'plan', after: null };

    log(`restoring ${names.dbInstance} to ${restoreTime.toISOString()} as ${target} ...`);
    await tier.rds.send(new RestoreDBInstanceToPointInTimeCommand(input));
    const after = await findDbInstance(tier, target);
    if (writer.KmsKeyId && after?.KmsKeyId && after.KmsKeyId !== writer.KmsKeyId) {
      throw new OpsError(`${target} was created but encrypted with ${after.KmsKeyId}, not the writer's key ${writer.KmsKeyId}; investigate before use`);
    }
    return {
      ...base,
      mode: 'executed',
      after: {
        status: after?.DBInstanceStatus ?? 'unknown',
        endpoint: after?.Endpoint?.Address ? `${after.Endpoint.Address}:${after.Endpoint.Port ?? ''}` : null,
        subnetGroup: after?.DBSubnetGroup?.DBSubnetGroupName ?? null,
        kmsKeyId: after?.KmsKeyId ?? null,
      },
    };
  },
  offline(args, context) {
    const { environment, from, to, latestRequested } = restoreArgs(context.spec, args);
    return from === 'dr' ? offlineDrRestore(args, context, environment, to) : offlinePitrRestore(context, environment, to, latestRequested);
  },
  // A DR restore job that AWS reports failed at once (e.g. a role it cannot assume) is printed in full, exit 1.
  exitCode: (r) => (r.from === 'dr' && r.restoreJob && ['FAILED', 'ABORTED'].includes(r.restoreJob.status) ? 1 : 0),
  render(result) {
    if (result.from === 'dr') return renderDrRestore(result);
    const r = result;
    const head = r.mode === 'plan'
      ? `PLAN (dry run, nothing changed; re-run with --${EXECUTE_FLAG} to act): restore ${r.source} to ${r.restoreTime} as ${r.target}`
      : `EXECUTED: restoring ${r.source} to ${r.restoreTime} as ${r.target}; now ${r.after?.status}${r.after?.endpoint ? `, endpoint ${r.after.endpoint}` : ''}`;
    return [
      head,
      `restore window ${r.window.earliest} .. ${r.window.latest}`,
      `kms key ${r.kmsKeyId ?? '(unencrypted source)'} (inherited from the source)`,
      ...renderPlan(r.plan),
      'next:', ...r.nextSteps.map((s) => `  - ${s}`),
    ].join('\n');
  },
};
