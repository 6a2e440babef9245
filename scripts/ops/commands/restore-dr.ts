/**
 * `ops restore <env> --to <time | latest> --from dr --subnet-group <name> --security-group <sg>...`:
 * the region-loss recovery (docs/data-tier.md, step 2b). Restores the environment's database in
 * the DR region (spec.drRegion) from the newest copy in its DR backup vault
 * (`drBackupVault` of lib/spec/names.ts) created at or before --to, through AWS Backup.
 *
 * It never calls the primary region: the case it serves is a writer, or a whole region, that is
 * gone. The recovery point is matched on its ResourceArn (`arn:...:rds:<region>:<account>:db:<id>`
 * of the environment's writer identifier), not on a description of the writer.
 *
 * The restore metadata is the recovery point's own (GetRecoveryPointRestoreMetadata) with the
 * DR-region placement overridden: a new instance identifier (drRestoredDbInstanceName), the DB
 * subnet group and security groups given on the command line (the stacks create no database
 * network in the DR region, so there is no default to take), Multi-AZ, deletion protection, not
 * public. Values that name primary-region resources (AZ, parameter/option group, KMS key) are
 * dropped and listed. The KMS key is not chosen: RDS restores a snapshot with the snapshot's key,
 * which for the DR copy is the DR vault's key; the plan shows it.
 *
 * Dry run by default (the plan, nothing sent but reads); --execute sends one StartRestoreJob
 * with an idempotency token derived from the request, so a retried --execute does not start a
 * second job.
 */
import { createHash } from 'node:crypto';
import {
  BackupClient, DescribeRestoreJobCommand, GetRecoveryPointRestoreMetadataCommand, StartRestoreJobCommand,
} from '@aws-sdk/client-backup';
import type { RecoveryPointByBackupVault, StartRestoreJobCommandInput } from '@aws-sdk/client-backup';
import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeDBInstancesCommand, DescribeDBParameterGroupsCommand, DescribeDBSubnetGroupsCommand, RDSClient,
} from '@aws-sdk/client-rds';
import { durationSeconds, resourceNames } from '../../../lib/spec';
import type { EnvironmentSpec, ResourceNames } from '../../../lib/spec';
import { EXECUTE_FLAG, OpsError } from '../command';
import type { OpsArgs, OpsContext } from '../command';
import { partitionOf } from '../assembly';
import { formatAge, renderPlan, vaultRecoveryPoints } from '../data-tier';
import type { PlanStep } from '../data-tier';
import { OfflinePlanBuilder } from '../offline-plan';
import type { OfflineContext, OfflinePlan } from '../offline-plan';

/** Options only the DR restore takes (restore.ts rejects them without `--from dr`). */
export const DR_RESTORE_OPTIONS = {
  'subnet-group': { type: 'string' },
  'security-group': { type: 'string', multiple: true },
  'iam-role': { type: 'string' },
  'parameter-group': { type: 'string' },
} as const;

/**
 * AWS Backup's default service role: created in an account the first time AWS Backup is used
 * from the console, under the `service-role/` path. --iam-role overrides it.
 */
export const DEFAULT_RESTORE_ROLE = 'service-role/AWSBackupDefaultServiceRole';

/**
 * Identifier of the instance a DR restore creates: `<dbInstance>-dr-<yyyymmddhhmm>` (UTC minute
 * of the recovery point), e.g. `platform-production-db-dr-202611250400`. Never a name the
 * stacks own, and distinct from a point-in-time restore's `-pitr-` names.
 */
export function drRestoredDbInstanceName(names: ResourceNames, pointTime: Date): string {
  const stamp = pointTime.toISOString().slice(0, 16).replace(/[-:T]/g, '');
  return `${names.dbInstance}-dr-${stamp}`;
}

/** True when a recovery point's ResourceArn is the RDS instance `instanceId` (any region/account). */
export function isDbInstanceArn(arn: string | undefined, instanceId: string): boolean {
  const match = /^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:db:([^:]+)$/.exec(arn ?? '');
  return match?.[1] === instanceId;
}

/** Restore-metadata keys whose source values name primary-region resources: dropped, with why. */
const SOURCE_REGION_KEYS: Readonly<Record<string, string>> = {
  availabilityzone: 'an AZ of the source region (and Multi-AZ chooses its own)',
  availabilityzones: 'AZs of the source region',
  dbparametergroupname: 'a parameter group of the source region (--parameter-group sets one in the DR region)',
  optiongroupname: 'an option group of the source region',
  kmskeyid: 'a key of the source region; RDS restores with the DR copy\'s key',
};

/** Keys this command always sets itself; the source's values are replaced (DBParameterGroupName too, with --parameter-group). */
const OVERRIDDEN_KEYS = ['DBInstanceIdentifier', 'DBSubnetGroupName', 'VpcSecurityGroupIds', 'MultiAZ', 'DeletionProtection', 'PubliclyAccessible'];

export interface DrRecoveryPoint {
  readonly arn: string;
  readonly resourceArn: string;
  readonly createdAt: string;
  /** Seconds between its creation and now. */
  readonly ageSeconds: number;
}

export interface DrRestoreResult {
  readonly environment: string;
  readonly from: 'dr';
  readonly mode: 'plan' | 'executed';
  readonly region: string;
  readonly vault: string;
  readonly source: string;
  readonly to: string;
  readonly target: string;
  readonly recoveryPoint: DrRecoveryPoint & {
    /** Seconds of writes between the point and --to: the data this restore loses. */
    readonly beforeToSeconds: number;
  };
  readonly rpo: { readonly rpo: string; readonly seconds: number; readonly withinRpo: boolean };
  /** The key the restored instance is encrypted with (the DR copy's); null when AWS does not report it. */
  readonly kmsKeyId: string | null;
  readonly iamRoleArn: string;
  readonly iamRoleDefault: boolean;
  readonly metadata: Readonly<Record<string, string>>;
  readonly dropped: readonly { readonly key: string; readonly value: string; readonly reason: string }[];
  readonly plan: readonly PlanStep[];
  readonly restoreJob: {
    readonly id: string;
    readonly status: string;
    readonly statusMessage: string | null;
    readonly createdResourceArn: string | null;
  } | null;
  readonly warnings: readonly string[];
  readonly nextSteps: readonly string[];
}

interface DrClients {
  readonly backup: BackupClient;
  readonly rds: RDSClient;
  readonly ec2: EC2Client;
}

function stringFlag(args: OpsArgs, name: string): string | undefined {
  const value = args.values[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw new OpsError(`--${name} needs a value`);
  return value.trim();
}

async function listDrPoints(clients: DrClients, vault: string, region: string): Promise<RecoveryPointByBackupVault[]> {
  try {
    return await vaultRecoveryPoints(clients.backup, { BackupVaultName: vault, ByResourceType: 'RDS' });
  } catch (error) {
    if (error instanceof Error && error.name === 'ResourceNotFoundException') {
      throw new OpsError(`DR backup vault ${vault} not found in ${region} (deployed by the DataRecovery stack)`);
    }
    throw error;
  }
}

/** The DB subnet group's VPC; an OpsError naming --subnet-group when it does not exist. */
async function subnetGroupVpc(clients: DrClients, name: string, region: string): Promise<string | undefined> {
  try {
    const found = await clients.rds.send(new DescribeDBSubnetGroupsCommand({ DBSubnetGroupName: name }));
    return found.DBSubnetGroups?.[0]?.VpcId;
  } catch (error) {
    if (error instanceof Error && error.name === 'DBSubnetGroupNotFoundFault') {
      throw new OpsError(`--subnet-group: DB subnet group "${name}" not found in ${region}`);
    }
    throw error;
  }
}

async function instanceExists(clients: DrClients, id: string): Promise<boolean> {
  try {
    const found = await clients.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
    return (found.DBInstances?.length ?? 0) > 0;
  } catch (error) {
    if (error instanceof Error && ['DBInstanceNotFoundFault', 'DBInstanceNotFound'].includes(error.name)) return false;
    throw error;
  }
}

/** The DR restore's own flags, checked before any call: the operator learns everything missing at once. */
function drRestoreFlags(args: OpsArgs, region: string): { subnetGroup: string; securityGroups: string[]; parameterGroup?: string; roleFlag?: string } {
  const subnetGroup = stringFlag(args, 'subnet-group');
  const securityGroups = ((args.values['security-group'] as string[] | undefined) ?? [])
    .flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  const missing = [
    ...(subnetGroup ? [] : [`--subnet-group <DB subnet group in ${region}>`]),
    ...(securityGroups.length > 0 ? [] : [`--security-group <sg-id in ${region}, repeatable>`]),
  ];
  if (!subnetGroup || missing.length > 0) {
    throw new OpsError(`--from dr needs ${missing.join(' and ')}: the stacks create no database network in the DR region`);
  }
  const badGroup = securityGroups.find((g) => !/^sg-[0-9a-f]{8,17}$/.test(g));
  if (badGroup) throw new OpsError(`--security-group "${badGroup}" is not a security group id (sg-...)`);
  const parameterGroup = stringFlag(args, 'parameter-group');
  const roleFlag = stringFlag(args, 'iam-role');
  if (roleFlag?.startsWith('arn:') && !/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(roleFlag)) {
    throw new OpsError(`--iam-role "${roleFlag}" is not an IAM role ARN (arn:<partition>:iam::<account>:role/<name>) or a role name`);
  }
  return { subnetGroup, securityGroups, parameterGroup, roleFlag };
}

/** The role AWS Backup restores as: --iam-role's ARN, or the named (default) role in the vault's account. */
function drRestoreRoleArn(roleFlag: string | undefined, partition: string, account: string): string {
  return roleFlag?.startsWith('arn:') ? roleFlag : `arn:${partition}:iam::${account}:role/${roleFlag ?? DEFAULT_RESTORE_ROLE}`;
}

/** The recovery point's restore metadata with the DR-region placement overridden; source-region values dropped, with why. */
function drRestoreMetadata(source: Record<string, string>, placement: { target: string; subnetGroup: string; securityGroups: string[]; parameterGroup?: string }): {
  metadata: Record<string, string>; dropped: { key: string; value: string; reason: string }[];
} {
  const { parameterGroup } = placement;
  const dropped: { key: string; value: string; reason: string }[] = [];
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(source)) {
    const lower = key.toLowerCase();
    // AWS Backup reads metadata keys case-insensitively: compare them that way.
    if (OVERRIDDEN_KEYS.some((k) => k.toLowerCase() === lower) || (parameterGroup && lower === 'dbparametergroupname')) continue;
    const reason = SOURCE_REGION_KEYS[lower];
    if (reason) dropped.push({ key, value, reason });
    else metadata[key] = value;
  }
  Object.assign(metadata, {
    DBInstanceIdentifier: placement.target,
    DBSubnetGroupName: placement.subnetGroup,
    VpcSecurityGroupIds: JSON.stringify(placement.securityGroups),
    MultiAZ: 'true',
    DeletionProtection: 'true',
    PubliclyAccessible: 'false',
    ...(parameterGroup ? { DBParameterGroupName: parameterGroup } : {}),
  });
  return { metadata, dropped };
}

function drRestorePlan(input: StartRestoreJobCommandInput): PlanStep[] {
  return [{ service: 'backup', action: 'StartRestoreJob', parameters: { ...input } }];
}

function noParameterGroupWarning(region: string, names: ResourceNames): string {
  return `no --parameter-group: the instance gets ${region}'s default group for the engine, without ${names.dbParameterGroup}'s settings; create a copy in ${region} and modify the instance to it`;
}

function drAfterSteps(environment: EnvironmentSpec, region: string, target: string, pointCreatedAt: string): string[] {
  return [
    `wait for ${target}: aws rds wait db-instance-available --region ${region} --db-instance-identifier ${target}`,
    `bring it to the platform's settings: aws rds modify-db-instance --region ${region} --db-instance-identifier ${target} --backup-retention-period ${environment.database.backupRetentionDays} --manage-master-user-password --enable-performance-insights --apply-immediately`,
    `repoint the platform at it (docs/ops.md, "After a DR restore"), then record the data-loss window (${pointCreatedAt} .. the outage)`,
  ];
}

export async function runDrRestore(args: OpsArgs, { spec, log }: OpsContext, environment: EnvironmentSpec, to: string): Promise<DrRestoreResult> {
  const region = spec.drRegion.name;
  const names = resourceNames(spec, environment);

  const { subnetGroup, securityGroups, parameterGroup, roleFlag } = drRestoreFlags(args, region);

  const latest = to === 'latest';
  const now = new Date();
  const toTime = latest ? now : new Date(to);
  if (toTime > now) throw new OpsError(`--to ${toTime.toISOString()} is in the future`);
  const rpoSeconds = durationSeconds(spec.disasterRecovery.database.rpo);

  const clients: DrClients = {
    backup: new BackupClient({ region }), rds: new RDSClient({ region }), ec2: new EC2Client({ region }),
  };
  const vault = names.drBackupVault;
  const candidates = (await listDrPoints(clients, vault, region))
    .filter((p) => p.Status === 'COMPLETED' && p.CreationDate && p.RecoveryPointArn && isDbInstanceArn(p.ResourceArn, names.dbInstance))
    .sort((a, b) => b.CreationDate!.getTime() - a.CreationDate!.getTime());
  const chosen = candidates.find((p) => p.CreationDate! <= toTime);
  if (!chosen) {
    const newest = candidates[0];
    throw new OpsError(newest
      ? `no recovery point of ${names.dbInstance} in ${vault} (${region}) was created no later than --to ${toTime.toISOString()}; the oldest is ${candidates[candidates.length - 1].CreationDate!.toISOString()}, the newest ${newest.CreationDate!.toISOString()} (${newest.RecoveryPointArn})`
      : `${vault} (${region}) holds no completed recovery point of ${names.dbInstance}: nothing to restore (check the copy jobs of the backup plan)`);
  }
  const pointArn = chosen.RecoveryPointArn!;
  const createdAt = chosen.CreationDate!;
  const ageSeconds = Math.max(0, Math.round((now.getTime() - createdAt.getTime()) / 1000));
  const beforeToSeconds = Math.max(0, Math.round((toTime.getTime() - createdAt.getTime()) / 1000));
  const withinRpo = beforeToSeconds <= rpoSeconds;

  // The role lives in the account that holds the vault (the recovery point's account).
  const [, partition, , , account] = pointArn.split(':');
  const iamRoleArn = drRestoreRoleArn(roleFlag, partition, account);

  const target = drRestoredDbInstanceName(names, createdAt);
  if (await instanceExists(clients, target)) {
    throw new OpsError(`${target} already exists in ${region}: this recovery point was already restored; use it, or delete it to restore again`);
  }
  const vpc = await subnetGroupVpc(clients, subnetGroup, region);
  const groups = await clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: securityGroups }));
  for (const group of groups.SecurityGroups ?? []) {
    if (vpc && group.VpcId !== vpc) {
      throw new OpsError(`--security-group ${group.GroupId} is in ${group.VpcId}, not in ${vpc} of DB subnet group ${subnetGroup}`);
    }
  }
  if (parameterGroup) {
    const notFound = new OpsError(`--parameter-group: DB parameter group "${parameterGroup}" not found in ${region}`);
    try {
      const found = await clients.rds.send(new DescribeDBParameterGroupsCommand({ DBParameterGroupName: parameterGroup }));
      // AWS raises DBParameterGroupNotFound; an emulator may answer an empty list instead.
      if ((found.DBParameterGroups?.length ?? 0) === 0) throw notFound;
    } catch (error) {
      if (error instanceof Error && ['DBParameterGroupNotFound', 'DBParameterGroupNotFoundFault'].includes(error.name)) throw notFound;
      throw error;
    }
  }

  const source = await clients.backup.send(new GetRecoveryPointRestoreMetadataCommand({ BackupVaultName: vault, RecoveryPointArn: pointArn }));
  const { metadata, dropped } = drRestoreMetadata(source.RestoreMetadata ?? {}, { target, subnetGroup, securityGroups, parameterGroup });
  const request: Omit<StartRestoreJobCommandInput, 'IdempotencyToken'> = {
    RecoveryPointArn: pointArn, ResourceType: 'RDS', IamRoleArn: iamRoleArn, Metadata: metadata,
  };
  // Same request, same token: a retried --execute within AWS Backup's window starts no second job.
  const idempotencyToken = createHash('sha256').update(JSON.stringify(request)).digest('hex').slice(0, 32);
  const input: StartRestoreJobCommandInput = { ...request, IdempotencyToken: idempotencyToken };

  const warnings: string[] = [];
  if (!withinRpo) {
    warnings.push(`the recovery point is ${formatAge(beforeToSeconds)} older than --to, more than the RPO (${formatAge(rpoSeconds)}): that much data is lost; check the copy jobs into ${vault}`);
  }
  if (!parameterGroup) warnings.push(noParameterGroupWarning(region, names));
  const kmsKeyId = chosen.EncryptionKeyArn ?? null;
  const follow = `aws backup describe-restore-job --region ${region} --restore-job-id`;
  const base = {
    environment: environment.name, from: 'dr' as const, region, vault, source: names.dbInstance,
    to: latest ? 'latest' : toTime.toISOString(), target,
    recoveryPoint: { arn: pointArn, resourceArn: chosen.ResourceArn!, createdAt: createdAt.toISOString(), ageSeconds, beforeToSeconds },
    rpo: { rpo: spec.disasterRecovery.database.rpo, seconds: rpoSeconds, withinRpo },
    kmsKeyId, iamRoleArn, iamRoleDefault: roleFlag === undefined, metadata, dropped,
    plan: drRestorePlan(input),
    warnings,
  };
  const afterSteps = drAfterSteps(environment, region, target, createdAt.toISOString());
  if (args.values[EXECUTE_FLAG] !== true) {
    return {
      ...base, mode: 'plan', restoreJob: null,
      nextSteps: [`re-run with --${EXECUTE_FLAG} to start the restore job, then follow it with \`${follow} <id>\``, ...afterSteps],
    };
  }

  log(`starting the restore of ${pointArn} as ${target} in ${region} ...`);
  const started = await clients.backup.send(new StartRestoreJobCommand(input));
  const jobId = started.RestoreJobId;
  if (!jobId) throw new OpsError('StartRestoreJob returned no RestoreJobId');
  const job = await clients.backup.send(new DescribeRestoreJobCommand({ RestoreJobId: jobId }));
  return {
    ...base,
    mode: 'executed',
    restoreJob: {
      id: jobId, status: job.Status ?? 'UNKNOWN', statusMessage: job.StatusMessage ?? null, createdResourceArn: job.CreatedResourceArn ?? null,
    },
    nextSteps: [`follow the job: ${follow} ${jobId}`, ...afterSteps],
  };
}

/** `restore --from dr --offline`: the same request, with the recovery point and its metadata as unknowns. */
export function offlineDrRestore(args: OpsArgs, context: OfflineContext, environment: EnvironmentSpec, to: string): OfflinePlan {
  const { spec, assembly } = context;
  const region = spec.drRegion.name;
  const names = resourceNames(spec, environment);
  const { subnetGroup, securityGroups, parameterGroup, roleFlag } = drRestoreFlags(args, region);
  const plan = new OfflinePlanBuilder(context, 'restore --from dr', environment.name);
  const vault = plan.resource(assembly.named(environment.name, 'AWS::Backup::BackupVault', 'BackupVaultName', names.drBackupVault), names.drBackupVault);
  if (vault.region !== region) {
    throw new OpsError(`${names.drBackupVault} is deployed to ${vault.region} in ${assembly.dir}, not the DR region ${region}: re-run \`npm run synth\``);
  }
  const writer = plan.resource(assembly.named(environment.name, 'AWS::RDS::DBInstance', 'DBInstanceIdentifier', names.dbInstance), names.dbInstance);
  const toText = to === 'latest' ? 'now' : new Date(to).toISOString();
  const pointArn = plan.unknown('recoveryPointArn', `the newest COMPLETED copy of ${names.dbInstance} (${writer.stackName}, ${writer.region}) in ${names.drBackupVault} created no later than ${toText}; online: backup:ListRecoveryPointsByBackupVault`);
  plan.unknown('recoveryPointAge', `how much older than --to the recovery point is (the data lost), against the RPO ${spec.disasterRecovery.database.rpo}; online: its CreationDate`);
  const target = plan.unknown('restoreTarget', `the new instance's identifier: ${names.dbInstance}-dr-<UTC minute the recovery point was created> (drRestoredDbInstanceName)`);
  plan.unknown('restoreMetadata', `the recovery point's own restore metadata (engine, class, storage...; source-region AZ, groups and key dropped); online: backup:GetRecoveryPointRestoreMetadata`);
  plan.unknown('idempotencyToken', 'sha256 of the full request (recovery point and metadata included)');
  plan.unknown('placementChecks', `whether --subnet-group ${subnetGroup} exists in ${region} and the security groups are in its VPC; online: rds:DescribeDBSubnetGroups, ec2:DescribeSecurityGroups`);
  const key = assembly.referenced(vault, vault.properties.EncryptionKeyArn);
  if (key) plan.assigned(key, 'drVaultKeyArn', `the recovery point's EncryptionKeyArn (the restored instance is encrypted with it)`);

  plan.step({ region, call: 'backup:ListRecoveryPointsByBackupVault', target: names.drBackupVault, params: { ByResourceType: 'RDS' }, kind: 'read', purpose: `the copies of ${names.dbInstance}, newest first` });
  plan.step({ region, call: 'rds:DescribeDBInstances', target, kind: 'read', purpose: 'the target must not exist yet' });
  plan.step({ region, call: 'rds:DescribeDBSubnetGroups', target: subnetGroup, kind: 'read', purpose: 'the subnet group exists; its VPC' });
  plan.step({ region, call: 'ec2:DescribeSecurityGroups', target: securityGroups.join(','), kind: 'read', purpose: 'the security groups are in that VPC' });
  if (parameterGroup) plan.step({ region, call: 'rds:DescribeDBParameterGroups', target: parameterGroup, kind: 'read', purpose: 'the parameter group exists' });
  plan.step({ region, call: 'backup:GetRecoveryPointRestoreMetadata', target: pointArn, kind: 'read', purpose: 'the restore metadata to start from' });

  const { metadata } = drRestoreMetadata({}, { target, subnetGroup, securityGroups, parameterGroup });
  const iamRoleArn = drRestoreRoleArn(roleFlag, partitionOf(vault.region), vault.account);
  plan.changes(region, drRestorePlan({
    RecoveryPointArn: pointArn, ResourceType: 'RDS', IamRoleArn: iamRoleArn,
    Metadata: { '(from the recovery point)': plan.placeholder('restoreMetadata'), ...metadata },
    IdempotencyToken: plan.placeholder('idempotencyToken'),
  }), () => pointArn);
  if (!parameterGroup) plan.note(noParameterGroupWarning(region, names));
  plan.note(`the restore role ${iamRoleArn} is in the vault's account ${vault.account}${roleFlag === undefined ? ' (default; --iam-role to change)' : ''}`);
  for (const next of drAfterSteps(environment, region, target, plan.unknown('recoveryPointCreatedAt', 'the recovery point\'s CreationDate'))) plan.note(`then: ${next}`);
  return plan.build(`restore ${names.dbInstance} in ${region} from ${names.drBackupVault} as a new instance (region-loss recovery)`);
}

export function renderDrRestore(r: DrRestoreResult): string {
  const head = r.mode === 'plan'
    ? `PLAN (dry run, nothing changed; re-run with --${EXECUTE_FLAG} to act): restore ${r.source} from ${r.vault} (${r.region}) as ${r.target}`
    : `EXECUTED: restore job ${r.restoreJob?.id} ${r.restoreJob?.status}${r.restoreJob?.statusMessage ? ` (${r.restoreJob.statusMessage})` : ''}: ${r.source} from ${r.vault} (${r.region}) as ${r.target}`;
  const point = r.recoveryPoint;
  return [
    head,
    `recovery point ${point.arn}`,
    `  created ${point.createdAt} (${formatAge(point.ageSeconds)} ago; ${formatAge(point.beforeToSeconds)} before --to ${r.to}; RPO ${formatAge(r.rpo.seconds)}: ${r.rpo.withinRpo ? 'within' : 'EXCEEDED'})`,
    `  of ${point.resourceArn}`,
    `kms key ${r.kmsKeyId ?? '(not reported)'} (the DR copy's key: RDS restores a snapshot with its own key, it cannot be chosen)`,
    `iam role ${r.iamRoleArn}${r.iamRoleDefault ? ' (default; --iam-role to change)' : ''}`,
    ...(r.dropped.length > 0 ? ['dropped from the source metadata:', ...r.dropped.map((d) => `  ${d.key}=${d.value}: ${d.reason}`)] : []),
    ...renderPlan(r.plan),
    ...(r.restoreJob?.createdResourceArn ? [`created ${r.restoreJob.createdResourceArn}`] : []),
    ...(r.warnings.length > 0 ? ['warnings', ...r.warnings.map((w) => `  - ${w}`)] : []),
    'next:', ...r.nextSteps.map((s) => `  - ${s}`),
  ].join('\n');
}
