/**
 * `ops promote-replica <env> <replica-id> [--execute]`: promote one of the environment's read
 * replicas to a standalone instance (the documented recovery when the writer is lost).
 * Dry run by default: prints the exact API calls; acts only with --execute.
 */
import { ModifyDBInstanceCommand, PromoteReadReplicaCommand } from '@aws-sdk/client-rds';
import { resourceNames } from '../../../lib/spec';
import type { EnvironmentSpec, PlatformSpec, ResourceNames } from '../../../lib/spec';
import { literal } from '../assembly';
import { EXECUTE_FLAG, environmentArg, OpsError } from '../command';
import type { OpsArgs, OpsCommand } from '../command';
import { dataTier, findDbInstance, listReplicas, renderPlan, sourceIdentifier } from '../data-tier';
import type { PlanStep } from '../data-tier';
import { OfflinePlanBuilder } from '../offline-plan';
import { templateReplicas } from '../data-tier-templates';

export interface PromoteResult {
  readonly environment: string;
  readonly mode: 'plan' | 'executed';
  readonly replica: string;
  readonly formerSource: string;
  readonly plan: readonly PlanStep[];
  /**
   * After --execute: the instance as RDS describes it once the calls returned. Promotion is
   * asynchronous: RDS may still list the source (status modifying) for some minutes.
   */
  readonly after: { readonly status: string; readonly source: string | null; readonly endpoint: string | null } | null;
  readonly nextSteps: readonly string[];
}

function promoteArgs(spec: PlatformSpec, args: OpsArgs): { environment: EnvironmentSpec; names: ResourceNames; replicaId: string } {
  const environment = environmentArg(spec, args);
  const replicaId = args.positionals[1];
  if (args.positionals.length > 2) throw new OpsError(`unexpected argument "${args.positionals[2]}"`);
  const names = resourceNames(spec, environment);
  if (!replicaId) throw new OpsError(`missing replica id (one of ${names.dbReplicas.join(', ')})`);
  return { environment, names, replicaId };
}

/**
 * Keep the writer's backup retention (automated backups start on the promoted instance).
 * (7 days when neither has backups on: our choice, the promoted writer must be recoverable.)
 */
function promotionRetention(writer: number | undefined, replica: number | undefined): number {
  return writer || replica || 7;
}

/** The promotion's API calls, online and --offline; the new writer is guarded against deletion like the stacks guard the old one. */
function promotionPlan(replicaId: string, retention: number): PlanStep[] {
  return [
    {
      service: 'rds', action: 'PromoteReadReplica',
      parameters: { DBInstanceIdentifier: replicaId, BackupRetentionPeriod: retention },
    },
    {
      service: 'rds', action: 'ModifyDBInstance',
      parameters: { DBInstanceIdentifier: replicaId, DeletionProtection: true, ApplyImmediately: true },
    },
  ];
}

function promotionNextSteps(environment: EnvironmentSpec, names: ResourceNames, replicaId: string): string[] {
  return [
    `point the services' database endpoint at ${replicaId} (PgBouncer config), then check with \`npm run ops -- endpoints ${environment.name}\``,
    `the other replicas still follow ${names.dbInstance}; recreate them from ${replicaId} once it is the writer`,
  ];
}

export const promoteReplicaCommand: OpsCommand<PromoteResult> = {
  name: 'promote-replica',
  summary: 'promote a read replica to a standalone instance (dry run unless --execute)',
  usage: 'promote-replica <env> <replica-id> [--execute]',
  options: { [EXECUTE_FLAG]: { type: 'boolean' } },
  async run(args, { spec, log }) {
    const { environment, replicaId } = promoteArgs(spec, args);
    const tier = dataTier(spec, environment);
    const { names } = tier;

    // The writer may be gone (that is when one promotes); the replica must still name it as source.
    const writer = await findDbInstance(tier, names.dbInstance);
    const known = writer ? (await listReplicas(tier, writer)).filter((r) => r.instance).map((r) => r.id) : names.dbReplicas;
    const replica = await findDbInstance(tier, replicaId);
    if (!replica) {
      throw new OpsError(`unknown replica "${replicaId}": no RDS instance of that name in ${environment.region} (replicas of ${environment.name}: ${known.join(', ') || 'none'})`);
    }
    const source = sourceIdentifier(replica);
    if (!source) {
      throw new OpsError(`${replicaId} is not a read replica (already standalone); nothing to promote`);
    }
    if (source !== names.dbInstance) {
      throw new OpsError(`${replicaId} replicates from ${source}, not from ${environment.name}'s writer ${names.dbInstance}; refusing to promote another environment's replica`);
    }
    if (replica.DBInstanceStatus !== 'available') {
      throw new OpsError(`${replicaId} is ${replica.DBInstanceStatus}; RDS promotes only an available replica`);
    }

    const retention = promotionRetention(writer?.BackupRetentionPeriod, replica.BackupRetentionPeriod);
    const plan = promotionPlan(replicaId, retention);
    const nextSteps = promotionNextSteps(environment, names, replicaId);
    const base = { environment: environment.name, replica: replicaId, formerSource: source, plan, nextSteps };
    if (args.values[EXECUTE_FLAG] !== true) return { ...base, mode: 'plan', after: null };

    log(`promoting ${replicaId} (${environment.name}) ...`);
    await tier.rds.send(new PromoteReadReplicaCommand({ DBInstanceIdentifier: replicaId, BackupRetentionPeriod: retention }));
    await tier.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: replicaId, DeletionProtection: true, ApplyImmediately: true }));
    const after = await findDbInstance(tier, replicaId);
    return {
      ...base,
      mode: 'executed',
      after: {
        status: after?.DBInstanceStatus ?? 'unknown',
        source: after ? sourceIdentifier(after) ?? null : null,
        endpoint: after?.Endpoint?.Address ? `${after.Endpoint.Address}:${after.Endpoint.Port ?? ''}` : null,
      },
    };
  },
  offline(args, context) {
    const { environment, names, replicaId } = promoteArgs(context.spec, args);
    const plan = new OfflinePlanBuilder(context, 'promote-replica', environment.name);
    const { writer, replicas } = templateReplicas(context.assembly, environment, names);
    plan.resource(writer, names.dbInstance);
    const replica = replicas.find((r) => r.properties.DBInstanceIdentifier === replicaId);
    if (!replica) {
      throw new OpsError(`unknown replica "${replicaId}": the templates hold no read replica of ${names.dbInstance} by that name (replicas of ${environment.name}: ${replicas.map((r) => r.properties.DBInstanceIdentifier).join(', ') || 'none'})`);
    }
    plan.resource(replica, replicaId);
    plan.unknown('replicaStatus', `${replicaId}'s DBInstanceStatus (RDS promotes only an available replica); online: rds:DescribeDBInstances`);
    plan.unknown('replicaSource', `whether ${replicaId} still replicates from ${names.dbInstance}; online: rds:DescribeDBInstances (ReadReplicaSourceDBInstanceIdentifier)`);
    plan.unknown('replicaLag', `how far ${replicaId} is behind ${names.dbInstance}: writes not yet replicated are lost by the promotion; online: \`npm run ops -- dr-status ${environment.name}\` (cloudwatch:GetMetricData ReplicaLag)`);
    plan.unknown('writerBackupRetention', `the writer's current BackupRetentionPeriod (it may be gone); the plan uses the template's ${String(literal(writer.properties.BackupRetentionPeriod))} d; online: rds:DescribeDBInstances`);
    plan.step({ region: writer.region, call: 'rds:DescribeDBInstances', target: names.dbInstance, kind: 'read', purpose: 'the writer\'s backup retention, kept by the promoted instance' });
    plan.step({ region: replica.region, call: 'rds:DescribeDBInstances', target: replicaId, kind: 'read', purpose: `must be an available replica of ${names.dbInstance}` });
    const retention = promotionRetention(Number(literal(writer.properties.BackupRetentionPeriod) ?? 0), undefined);
    plan.changes(replica.region, promotionPlan(replicaId, retention), (s) => String(s.parameters.DBInstanceIdentifier));
    for (const next of promotionNextSteps(environment, names, replicaId)) plan.note(`then: ${next}`);
    return plan.build(`promote ${replicaId} (replica of ${names.dbInstance}) to a standalone instance`);
  },
  render(r) {
    const head = r.mode === 'plan'
      ? `PLAN (dry run, nothing changed; re-run with --${EXECUTE_FLAG} to act): promote ${r.replica} (replica of ${r.formerSource}) in ${r.environment}`
      : `EXECUTED: promotion of ${r.replica} in ${r.environment} requested; RDS reports ${r.after?.status}${r.after?.source ? ` (source ${r.after.source} listed until the promotion completes; watch dr-status)` : ', standalone'}${r.after?.endpoint ? `, endpoint ${r.after.endpoint}` : ''}`;
    return [head, ...renderPlan(r.plan), 'next:', ...r.nextSteps.map((s) => `  - ${s}`)].join('\n');
  },
};
