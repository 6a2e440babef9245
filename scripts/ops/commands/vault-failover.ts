/**
 * `npm run ops -- vault-failover <env> [--execute] [--primary-unreachable]`: fails Vault over to
 * the DR-region standby (DESIGN.md §7, docs/vault.md). Plans by default: checks what it can
 * read and prints the ordered API calls; acts only with --execute.
 *
 * Open source (one global table): the primary must be stopped before the standby starts, since
 * both clusters would otherwise hold the HA lock of one last-writer-wins table. Order:
 *   1. primary ASG: suspend Launch, scale to 0, wait for no instances
 *   2. DR table replica: ACTIVE, replicating from the primary region
 *   3. standby ASG: scale to the spec's node count, wait InService
 *   4. move the cluster's name of Vault (a CNAME in the environment's private zone, which the
 *      `vault` ExternalName Service aliases) to the standby's load balancer
 *   5. publish the standby's address in the address SSM parameter (DR region, then primary)
 * Enterprise (DR replication): the same, with the standby already running and a manual promote.
 */
import {
  AutoScalingClient, DescribeAutoScalingGroupsCommand, SuspendProcessesCommand, UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import type { AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ChangeResourceRecordSetsCommand, ListHostedZonesByNameCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { durationSeconds } from '../../../lib/spec';
import type { PlatformSpec } from '../../../lib/spec';
import { vaultNames } from '../../../lib/spec/vault-names';
import type { VaultNames } from '../../../lib/spec/vault-names';
import { describeAwsError, environmentArg, EXECUTE_FLAG, OpsError } from '../command';
import type { OpsCommand } from '../command';
import { literal, templateString } from '../assembly';
import { OfflinePlanBuilder } from '../offline-plan';

export interface VaultFailoverClients {
  autoScaling(region: string): AutoScalingClient;
  dynamoDb(region: string): DynamoDBClient;
  ssm(region: string): SSMClient;
  /** Route 53 is global (its API answers from us-east-1). */
  route53(): Route53Client;
}

export interface VaultFailoverDeps {
  readonly clients?: VaultFailoverClients;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Seconds between polls while waiting (the wait itself is bounded by the spec's secrets RTO). */
  readonly pollSeconds?: number;
}

export type StepStatus = 'planned' | 'done' | 'checked' | 'manual' | 'failed-ignored';

export interface FailoverStep {
  readonly order: number;
  readonly region: string;
  /** service:Action, as in IAM and CloudTrail. */
  readonly call: string;
  readonly target: string;
  readonly params?: Record<string, unknown>;
  readonly purpose: string;
  status: StepStatus;
  note?: string;
}

export interface FailoverResult {
  readonly environment: string;
  readonly mode: 'plan' | 'execute';
  readonly enterpriseReplication: boolean;
  readonly rtoSeconds: number;
  readonly primary: { readonly region: string; readonly autoScalingGroup: string; readonly instances: number | 'unreachable' };
  readonly standby: { readonly region: string; readonly autoScalingGroup: string; readonly table: string; readonly address: string };
  /** The cluster's name of Vault: the record the failover moves, and where it pointed when read. */
  readonly dns: { readonly name: string; readonly zoneId?: string; readonly target?: string };
  readonly steps: FailoverStep[];
}

const defaultClients: VaultFailoverClients = {
  autoScaling: (region) => new AutoScalingClient({ region }),
  dynamoDb: (region) => new DynamoDBClient({ region }),
  ssm: (region) => new SSMClient({ region }),
  route53: () => new Route53Client({ region: 'us-east-1' }),
};

async function describeGroup(client: AutoScalingClient, name: string): Promise<AutoScalingGroup | undefined> {
  const out = await client.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
  return out.AutoScalingGroups?.[0];
}

type StepDefinition = Omit<FailoverStep, 'order' | 'status' | 'note'>;

/** The read-only checks, in the order the run makes them (plan, --execute and --offline alike). */
export function failoverChecks(names: VaultNames, enterprise: boolean) {
  const standbyTable = enterprise ? names.standbyTable : names.table;
  return {
    describePrimary: {
      region: names.primaryRegion, call: 'autoscaling:DescribeAutoScalingGroups', target: names.primaryAutoScalingGroup,
      purpose: 'is the primary cluster still running?',
    },
    describeTable: {
      region: names.standbyRegion, call: 'dynamodb:DescribeTable', target: standbyTable,
      purpose: enterprise ? 'the DR secondary\'s own storage is ACTIVE' : 'the global table\'s DR replica is ACTIVE and replicating from the primary region',
    },
    describeStandby: {
      region: names.standbyRegion, call: 'autoscaling:DescribeAutoScalingGroups', target: names.standbyAutoScalingGroup,
      purpose: 'the standby group exists',
    },
    getAddress: {
      region: names.standbyRegion, call: 'ssm:GetParameter', target: names.standbyAddressParameter, purpose: 'the standby\'s address',
    },
    findZone: {
      region: 'global', call: 'route53:ListHostedZonesByName', target: names.privateZone,
      purpose: 'the private zone holding the cluster\'s name of Vault',
    },
    /** Made once the zone is found. */
    readRecord: { region: 'global', call: 'route53:ListResourceRecordSets', target: names.dnsName, purpose: 'where the cluster\'s name of Vault points now' },
  } satisfies Record<string, StepDefinition>;
}

/**
 * The failover's calls in their safe order, given the standby's address (and its host name,
 * which the cluster's name of Vault is moved to). promote is Enterprise's manual step; scaleUp
 * the open-source start of the standby.
 */
export function failoverActions(spec: PlatformSpec, names: VaultNames, standby: { address: string; host: string }): {
  suspend: StepDefinition; scaleDown: StepDefinition; waitDown: StepDefinition; promote?: StepDefinition; scaleUp?: StepDefinition;
  waitUp: StepDefinition; moveName: StepDefinition; publishDr: StepDefinition; publishPrimary: StepDefinition;
} {
  const enterprise = spec.vault.enterpriseReplication;
  const nodes = spec.vault.nodes;
  const { address, host } = standby;
  return {
    suspend: {
      region: names.primaryRegion, call: 'autoscaling:SuspendProcesses', target: names.primaryAutoScalingGroup,
      params: { ScalingProcesses: ['Launch'] }, purpose: 'no relaunch of primary nodes, even by a stack deploy resetting MinSize',
    },
    scaleDown: {
      region: names.primaryRegion, call: 'autoscaling:UpdateAutoScalingGroup', target: names.primaryAutoScalingGroup,
      params: { MinSize: 0, DesiredCapacity: 0 }, purpose: 'stop the primary cluster (releases the HA lock)',
    },
    waitDown: {
      region: names.primaryRegion, call: 'autoscaling:DescribeAutoScalingGroups', target: names.primaryAutoScalingGroup,
      params: { until: 'no instances' }, purpose: 'never two active clusters on one storage',
    },
    ...(enterprise ? {
      promote: {
        region: names.standbyRegion, call: 'vault:sys/replication/dr/secondary/promote', target: names.standbyLoadBalancer,
        params: { dr_operation_token: '<generated from the recovery keys: docs/vault.md>' }, purpose: 'promote the DR secondary to primary',
      },
    } : {
      scaleUp: {
        region: names.standbyRegion, call: 'autoscaling:UpdateAutoScalingGroup', target: names.standbyAutoScalingGroup,
        params: { MinSize: nodes, MaxSize: nodes, DesiredCapacity: nodes }, purpose: 'start the standby cluster on the replica',
      },
    }),
    waitUp: {
      region: names.standbyRegion, call: 'autoscaling:DescribeAutoScalingGroups', target: names.standbyAutoScalingGroup,
      params: { until: `${nodes} InService` }, purpose: 'the standby nodes are up (they auto-unseal with the replica key)',
    },
    moveName: {
      region: 'global', call: 'route53:ChangeResourceRecordSets', target: names.dnsName,
      params: { Action: 'UPSERT', Type: 'CNAME', Value: host, TTL: spec.vault.dnsTtlSeconds },
      purpose: `the cluster's clients (the vault ExternalName Service) follow within the record's TTL (${spec.vault.dnsTtlSeconds} s)`,
    },
    publishDr: {
      region: names.standbyRegion, call: 'ssm:PutParameter', target: names.addressParameter,
      params: { Value: address, Overwrite: true, Type: 'String' }, purpose: 'clients in the DR region find the new active cluster',
    },
    publishPrimary: {
      region: names.primaryRegion, call: 'ssm:PutParameter', target: names.addressParameter,
      params: { Value: address, Overwrite: true, Type: 'String' }, purpose: 'clients still in the primary region follow (best effort when it is down)',
    },
  };
}

export function createVaultFailover(deps: VaultFailoverDeps = {}): OpsCommand<FailoverResult> {
  const clients = deps.clients ?? defaultClients;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const pollMs = (deps.pollSeconds ?? 10) * 1000;

  return {
    name: 'vault-failover',
    summary: 'Fail Vault over to the DR-region standby (plans; --execute acts)',
    usage: 'vault-failover <env> [--execute] [--primary-unreachable]',
    options: { [EXECUTE_FLAG]: { type: 'boolean' }, 'primary-unreachable': { type: 'boolean' } },

    async run(args, { spec, log }) {
      const environment = environmentArg(spec, args);
      const execute = args.values[EXECUTE_FLAG] === true;
      const primaryUnreachable = args.values['primary-unreachable'] === true;
      const names = vaultNames(spec, environment.name);
      const enterprise = spec.vault.enterpriseReplication;
      const nodes = spec.vault.nodes;
      const rtoSeconds = durationSeconds(spec.disasterRecovery.secrets.rto);
      const deadline = Date.now() + rtoSeconds * 1000;
      const primaryAs = clients.autoScaling(names.primaryRegion);
      const standbyAs = clients.autoScaling(names.standbyRegion);
      const standbyTable = enterprise ? names.standbyTable : names.table;

      const steps: FailoverStep[] = [];
      const step = (s: Omit<FailoverStep, 'order' | 'status'>, status: StepStatus = 'planned') => {
        const full: FailoverStep = { order: steps.length + 1, status, ...s };
        steps.push(full);
        return full;
      };
      /** Runs a call against the primary region; when the operator says it is down, failures are noted, not fatal. */
      const onPrimary = async <T>(s: FailoverStep, call: () => Promise<T>): Promise<T | undefined> => {
        try {
          return await call();
        } catch (error) {
          const described = describeAwsError(error);
          if (!primaryUnreachable || described === undefined) throw error;
          s.status = 'failed-ignored';
          s.note = `--primary-unreachable: ${described}`;
          return undefined;
        }
      };
      const waitFor = async (what: string, done: () => Promise<boolean>) => {
        for (;;) {
          if (await done()) return;
          if (Date.now() + pollMs > deadline) throw new OpsError(`gave up waiting for ${what}: the secrets RTO budget (${rtoSeconds} s) is spent`);
          log(`waiting for ${what}...`);
          await sleep(pollMs);
        }
      };

      // --- Read-only checks (plan and execute) -------------------------------------------------
      const checks = failoverChecks(names, enterprise);
      const describePrimary = step(checks.describePrimary);
      let primaryInstances: number | 'unreachable' = 'unreachable';
      const primaryGroup = await onPrimary(describePrimary, async () => {
        const group = await describeGroup(primaryAs, names.primaryAutoScalingGroup);
        if (!group) throw new OpsError(`primary Auto Scaling group ${names.primaryAutoScalingGroup} not found in ${names.primaryRegion}`);
        return group;
      });
      if (primaryGroup) {
        primaryInstances = primaryGroup.Instances?.length ?? 0;
        describePrimary.status = 'checked';
        describePrimary.note = `${primaryInstances} instance(s), desired ${primaryGroup.DesiredCapacity}`;
      }

      const describeTable = step(checks.describeTable);
      let table;
      try {
        table = (await clients.dynamoDb(names.standbyRegion).send(new DescribeTableCommand({ TableName: standbyTable }))).Table;
      } catch (error) {
        if ((error as Error).name === 'ResourceNotFoundException') {
          throw new OpsError(`standby table ${standbyTable} not found in ${names.standbyRegion}: nothing to fail over to`);
        }
        throw error;
      }
      if (table?.TableStatus !== 'ACTIVE') throw new OpsError(`standby table ${standbyTable} is ${table?.TableStatus}, not ACTIVE`);
      if (!enterprise) {
        const fromPrimary = table.Replicas?.find((r) => r.RegionName === names.primaryRegion);
        if (!fromPrimary) {
          throw new OpsError(`standby table ${standbyTable} in ${names.standbyRegion} is not a replica of ${names.primaryRegion}: not a global table, its data may be stale`);
        }
        if (fromPrimary.ReplicaStatus !== 'ACTIVE' && !primaryUnreachable) {
          throw new OpsError(`replication from ${names.primaryRegion} is ${fromPrimary.ReplicaStatus}; pass --primary-unreachable if that region is down`);
        }
        describeTable.note = `ACTIVE; ${names.primaryRegion} replica ${fromPrimary.ReplicaStatus}`;
      } else {
        describeTable.note = 'ACTIVE';
      }
      describeTable.status = 'checked';

      const describeStandby = step(checks.describeStandby, 'checked');
      const standbyGroup = await describeGroup(standbyAs, names.standbyAutoScalingGroup);
      if (!standbyGroup) throw new OpsError(`standby Auto Scaling group ${names.standbyAutoScalingGroup} not found in ${names.standbyRegion}`);
      describeStandby.note = `${standbyGroup.Instances?.length ?? 0} instance(s), desired ${standbyGroup.DesiredCapacity}`;

      const getAddress = step(checks.getAddress, 'checked');
      const standbySsm = clients.ssm(names.standbyRegion);
      let address: string;
      try {
        address = (await standbySsm.send(new GetParameterCommand({ Name: names.standbyAddressParameter }))).Parameter?.Value ?? '';
      } catch (error) {
        if ((error as Error).name === 'ParameterNotFound') throw new OpsError(`parameter ${names.standbyAddressParameter} not found in ${names.standbyRegion}`);
        throw error;
      }
      getAddress.note = address;

      // The name the cluster's clients use (docs/vault.md): a CNAME in the environment's private zone.
      const route53 = clients.route53();
      const findZone = step(checks.findZone);
      const zoneId = await onPrimary(findZone, async () => {
        const zones = (await route53.send(new ListHostedZonesByNameCommand({ DNSName: names.privateZone }))).HostedZones ?? [];
        const zone = zones.find((z) => z.Name === `${names.privateZone}.` && z.Config?.PrivateZone);
        if (!zone?.Id) throw new OpsError(`private hosted zone ${names.privateZone} not found: the Vault stack creates it`);
        return zone.Id.replace(/^\/hostedzone\//, '');
      });
      let dnsTarget: string | undefined;
      if (zoneId) {
        findZone.status = 'checked';
        findZone.note = zoneId;
        const readRecord = step(checks.readRecord, 'checked');
        const sets = (await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: names.dnsName, StartRecordType: 'CNAME', MaxItems: 1 }))).ResourceRecordSets ?? [];
        dnsTarget = sets.find((r) => r.Name === `${names.dnsName}.` && r.Type === 'CNAME')?.ResourceRecords?.[0]?.Value;
        readRecord.note = dnsTarget ?? 'no record yet';
      }
      const standbyHost = address ? new URL(address).hostname : '';

      // --- The failover (planned; executed with --execute) -------------------------------------
      const actions = failoverActions(spec, names, { address, host: standbyHost });
      const suspend = step(actions.suspend);
      const scaleDown = step(actions.scaleDown);
      const waitDown = step(actions.waitDown);
      const promote = actions.promote && step(actions.promote, 'manual');
      const scaleUp = actions.scaleUp && step(actions.scaleUp);
      const waitUp = step(actions.waitUp);
      const moveName = step(actions.moveName);
      const publishDr = step(actions.publishDr);
      const publishPrimary = step(actions.publishPrimary);

      if (execute) {
        log(`failing Vault of ${environment.name} over to ${names.standbyRegion}`);
        await onPrimary(suspend, () => primaryAs.send(new SuspendProcessesCommand({
          AutoScalingGroupName: names.primaryAutoScalingGroup, ScalingProcesses: ['Launch'],
        })));
        if (suspend.status === 'planned') suspend.status = 'done';
        await onPrimary(scaleDown, () => primaryAs.send(new UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: names.primaryAutoScalingGroup, MinSize: 0, DesiredCapacity: 0,
        })));
        if (scaleDown.status === 'planned') scaleDown.status = 'done';
        await onPrimary(waitDown, () => waitFor('the primary nodes to terminate', async () =>
          ((await describeGroup(primaryAs, names.primaryAutoScalingGroup))?.Instances ?? []).length === 0));
        if (waitDown.status === 'planned') waitDown.status = 'done';
        if (promote) log(`MANUAL: promote the DR secondary now (step ${promote.order}); then re-run to publish the address`);
        if (scaleUp) {
          await standbyAs.send(new UpdateAutoScalingGroupCommand({
            AutoScalingGroupName: names.standbyAutoScalingGroup, MinSize: nodes, MaxSize: nodes, DesiredCapacity: nodes,
          }));
          scaleUp.status = 'done';
        }
        await waitFor(`${nodes} standby nodes InService`, async () =>
          ((await describeGroup(standbyAs, names.standbyAutoScalingGroup))?.Instances ?? [])
            .filter((i) => i.LifecycleState === 'InService').length >= nodes);
        waitUp.status = 'done';
        if (!zoneId) throw new OpsError(`cannot move ${names.dnsName}: private hosted zone ${names.privateZone} not found`);
        await onPrimary(moveName, () => route53.send(new ChangeResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          ChangeBatch: {
            Comment: `ops vault-failover: ${environment.name} to ${names.standbyRegion}`,
            Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: names.dnsName, Type: 'CNAME', TTL: spec.vault.dnsTtlSeconds, ResourceRecords: [{ Value: standbyHost }] } }],
          },
        })));
        if (moveName.status === 'planned') moveName.status = 'done';
        await standbySsm.send(new PutParameterCommand({ Name: names.addressParameter, Value: address, Overwrite: true, Type: 'String' }));
        publishDr.status = 'done';
        await onPrimary(publishPrimary, () => clients.ssm(names.primaryRegion).send(new PutParameterCommand({
          Name: names.addressParameter, Value: address, Overwrite: true, Type: 'String',
        })));
        if (publishPrimary.status === 'planned') publishPrimary.status = 'done';
      }

      return {
        environment: environment.name,
        mode: execute ? 'execute' : 'plan',
        enterpriseReplication: enterprise,
        rtoSeconds,
        primary: { region: names.primaryRegion, autoScalingGroup: names.primaryAutoScalingGroup, instances: primaryInstances },
        standby: { region: names.standbyRegion, autoScalingGroup: names.standbyAutoScalingGroup, table: standbyTable, address },
        dns: { name: names.dnsName, ...(zoneId ? { zoneId } : {}), ...(dnsTarget ? { target: dnsTarget } : {}) },
        steps,
      };
    },

    offline(args, context) {
      const { spec, assembly } = context;
      const environment = environmentArg(spec, args);
      const names = vaultNames(spec, environment.name);
      const enterprise = spec.vault.enterpriseReplication;
      const plan = new OfflinePlanBuilder(context, 'vault-failover', environment.name);
      /** The template resource of a name, deployed where the names contract says (else cdk.out and the spec disagree). */
      const find = (type: string, property: string, name: string, region: string, label = name) => {
        const r = assembly.named(environment.name, type, property, name);
        if (r.region !== region) throw new OpsError(`${type} ${name} is deployed to ${r.region} in ${assembly.dir}, not ${region}: re-run \`npm run synth\``);
        return plan.resource(r, label);
      };
      const checks = failoverChecks(names, enterprise);
      find('AWS::AutoScaling::AutoScalingGroup', 'AutoScalingGroupName', names.primaryAutoScalingGroup, names.primaryRegion);
      const table = enterprise
        ? find('AWS::DynamoDB::Table', 'TableName', names.standbyTable, names.standbyRegion)
        : find('AWS::DynamoDB::GlobalTable', 'TableName', names.table, names.primaryRegion);
      const replicaRegions = ((table.properties.Replicas ?? []) as { Region?: unknown }[]).map((r) => r.Region);
      if (!enterprise && !replicaRegions.includes(names.standbyRegion)) {
        throw new OpsError(`global table ${names.table} has no replica in ${names.standbyRegion} in ${assembly.dir}: nothing to fail over to`);
      }
      find('AWS::AutoScaling::AutoScalingGroup', 'AutoScalingGroupName', names.standbyAutoScalingGroup, names.standbyRegion);
      const standbyAddress = find('AWS::SSM::Parameter', 'Name', names.standbyAddressParameter, names.standbyRegion);
      const zone = find('AWS::Route53::HostedZone', 'Name', `${names.privateZone}.`, names.primaryRegion, names.privateZone);
      find('AWS::Route53::RecordSet', 'Name', `${names.dnsName}.`, names.primaryRegion, names.dnsName);
      find('AWS::SSM::Parameter', 'Name', names.addressParameter, names.primaryRegion);

      // The standby's address as its stack builds it: https://<its load balancer's DNS name>:<port>.
      const address = templateString(standbyAddress.properties.Value, (logicalId, attribute) => {
        const target = assembly.referenced(standbyAddress, { Ref: logicalId });
        if (target) plan.resource(target, String(literal(target.properties.Name) ?? logicalId));
        return plan.unknown('standbyLoadBalancerDnsName', `${attribute ?? 'Ref'} of ${logicalId} (${target?.type ?? 'resource'}) of ${standbyAddress.stackName}, assigned by AWS; online: ssm:GetParameter ${names.standbyAddressParameter}`);
      }) ?? plan.unknown('standbyAddress', `the value of ${names.standbyAddressParameter}; online: ssm:GetParameter`);
      const host = /^https?:\/\/(<[^>]+>|[^/:]+)/.exec(address)?.[1] ?? plan.unknown('standbyHost', `the host of ${names.standbyAddressParameter}'s value`);
      plan.unknown('primaryInstances', `how many primary nodes run now (${names.primaryAutoScalingGroup}); online: autoscaling:DescribeAutoScalingGroups`);
      plan.unknown('tableReplicaStatus', enterprise
        ? `TableStatus of ${names.standbyTable}; online: dynamodb:DescribeTable`
        : `TableStatus of ${names.table} in ${names.standbyRegion} and its ${names.primaryRegion} replica's ReplicaStatus (replication lag is the achieved RPO); online: dynamodb:DescribeTable`);
      plan.assigned(zone, 'hostedZoneId', 'route53:ListHostedZonesByName');
      plan.unknown('currentVaultTarget', `where ${names.dnsName} points now; online: route53:ListResourceRecordSets`);

      for (const check of Object.values(checks)) plan.step({ ...check, kind: 'read' });
      for (const [key, action] of Object.entries(failoverActions(spec, names, { address, host }))) {
        if (action) plan.step({ ...action, kind: key === 'promote' ? 'manual' : 'change' });
      }
      plan.note(`the waits are bounded by the secrets RTO: ${durationSeconds(spec.disasterRecovery.secrets.rto)} s (spec disasterRecovery.secrets.rto)`);
      plan.note(`with the primary region down, --primary-unreachable lets the ${names.primaryRegion} and Route 53 calls fail without stopping the failover`);
      return plan.build(`fail Vault over from ${names.primaryRegion} to the standby in ${names.standbyRegion}`);
    },

    render(result) {
      const head = result.mode === 'plan'
        ? `Vault failover plan for ${result.environment} (nothing changed; re-run with --execute):`
        : `Vault failover of ${result.environment} executed:`;
      return [head, ...result.steps.map((s) => {
        const params = s.params ? ` ${JSON.stringify(s.params)}` : '';
        return `  ${String(s.order).padStart(2)}. [${s.status}] ${s.region} ${s.call} ${s.target}${params} - ${s.purpose}${s.note ? ` (${s.note})` : ''}`;
      }), `  RTO budget: ${result.rtoSeconds} s (spec disasterRecovery.secrets.rto)`].join('\n');
    },
  };
}

export const vaultFailoverCommand = createVaultFailover();
