/**
 * `ops promote-replica <env> <replica-id> [--execute]`: promote one of the environment's read
 * replicas to a standalone instance (the documented recovery when the writer is lost).
 * Dry run by default: prints the exact API calls; acts only with --execute.
 */
import { ModifyDBInstanceCommand, PromoteReadReplicaCommand } from '@aws-sdk/client-rds';
import { EXECUTE_FLAG, environmentArg, OpsError } from '../command';
import type { OpsCommand } from '../command';
import { dataTier, findDbInstance, listReplicas, renderPlan, sourceIdentifier } from '../data-tier';
import type { PlanStep } from '../data-tier';

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

export const promoteReplicaCommand: OpsCommand<PromoteResult> = {
  name: 'promote-replica',
  summary: 'promote a read replica to a standalone instance (dry run unless --execute)',
  usage: 'promote-replica <env> <replica-id> [--execute]',
  options: { [EXECUTE_FLAG]: { type: 'boolean' } },
  async run(args, { spec, log }) {
    const environment = environmentArg(spec, args);
    const replicaId = args.positionals[1];
    if (args.positionals.length > 2) throw new OpsError(`unexpected argument "${args.positionals[2]}"`);
    const tier = dataTier(spec, environment);
    const { names } = tier;
    if (!replicaId) throw new OpsError(`missing replica id (one of ${names.dbReplicas.join(', ')})`);

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

    // Keep the writer's backup retention (automated backups start on the promoted instance),
    // and guard the new writer against deletion like the stacks guard the old one.
    // (7 days when neither has backups on: our choice, the promoted writer must be recoverable.)
    const retention = writer?.BackupRetentionPeriod || replica.BackupRetentionPeriod || 7;
    const plan: PlanStep[] = [
      {
        service: 'rds', action: 'PromoteReadReplica',
        parameters: { DBInstanceIdentifier: replicaId, BackupRetentionPeriod: retention },
      },
      {
        service: 'rds', action: 'ModifyDBInstance',
        parameters: { DBInstanceIdentifier: replicaId, DeletionProtection: true, ApplyImmediately: true },
      },
    ];
    const nextSteps = [
      `point the services' database endpoint at ${replicaId} (PgBouncer config), then check with \`npm run ops -- endpoints ${environment.name}\``,
      `the other replicas still follow ${names.dbInstance}; recreate them from ${replicaId} once it is the writer`,
    ];
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
  render(r) {
    const head = r.mode === 'plan'
      ? `PLAN (dry run, nothing changed; re-run with --${EXECUTE_FLAG} to act): promote ${r.replica} (replica of ${r.formerSource}) in ${r.environment}`
      : `EXECUTED: promotion of ${r.replica} in ${r.environment} requested; RDS reports ${r.after?.status}${r.after?.source ? ` (source ${r.after.source} listed until the promotion completes; watch dr-status)` : ', standalone'}${r.after?.endpoint ? `, endpoint ${r.after.endpoint}` : ''}`;
    return [head, ...renderPlan(r.plan), 'next:', ...r.nextSteps.map((s) => `  - ${s}`)].join('\n');
  },
};
