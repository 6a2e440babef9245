/**
 * A small HTTP front for moto on loopback, for the few AWS operations moto's server does not
 * implement (or answers in a form the SDK rejects). The SDK talks to this front through
 * AWS_ENDPOINT_URL; every request it does not own is forwarded to moto byte for byte.
 *
 * Owned here, and nothing else:
 *  - Kafka GetBootstrapBrokers (GET /v1/clusters/{arn}/bootstrap-brokers): not in moto.
 *    Answers what the test registered for that cluster ARN, else NotFoundException like MSK.
 *  - Backup ListRecoveryPointsByBackupVault (GET /backup-vaults/{name}/recovery-points/):
 *    not in moto. Answers the recovery points the test registered for that vault (filtered by
 *    resourceArn and resourceType), else ResourceNotFoundException like AWS for a missing vault.
 *    ARNs are in the region the request was signed for.
 *  - Backup GetRecoveryPointRestoreMetadata (GET /backup-vaults/{name}/recovery-points/{arn}/
 *    restore-metadata): not in moto. Answers the restore metadata registered with that point
 *    (ResourceNotFoundException for a point not in that vault).
 *  - Backup StartRestoreJob (PUT /restore-jobs): not in moto. Records the job (recovery point,
 *    metadata, role, idempotency token: `restoreJobs`); a repeated token returns the first job,
 *    as AWS does. For a recovery point that is an RDS snapshot ARN it then really restores: it
 *    calls moto's RestoreDBInstanceFromDBSnapshot in the snapshot's region with the metadata
 *    (DBInstanceIdentifier, DBSubnetGroupName, VpcSecurityGroupIds as a JSON array, MultiAZ,
 *    DeletionProtection, PubliclyAccessible, DBInstanceClass, Port, DBParameterGroupName,
 *    OptionGroupName, AvailabilityZone, EnableIAMDatabaseAuthentication, StorageType,
 *    CopyTagsToSnapshot; keys case-insensitive, as AWS Backup reads them), and the job is
 *    COMPLETED with CreatedResourceArn, or FAILED with moto's error as StatusMessage. AWS runs
 *    the job asynchronously; here it has finished when the call returns. The role is recorded,
 *    not checked (moto's IAM is not consulted).
 *  - Backup DescribeRestoreJob (GET /restore-jobs/{id}): not in moto. Answers the recorded job.
 *  - CloudWatch GetMetricData (POST, X-Amz-Target GraniteServiceVersion20100801.GetMetricData,
 *    AWS JSON 1.0 — the protocol of the installed @aws-sdk/client-cloudwatch): moto answers this
 *    protocol with a 404 HTML page. Answers the datapoints the test registered per metric and
 *    dimension (already one per period, as CloudWatch returns them), inside [StartTime,
 *    EndTime), newest first unless ScanBy says otherwise; an unknown metric has no datapoints,
 *    as in CloudWatch.
 *  - Kafka ListClustersV2/DescribeClusterV2 responses (forwarded to moto) get a "Z" appended to
 *    `creationTime`: moto writes a naive local timestamp, which the SDK's RFC 3339 parser
 *    rejects. Nothing else in the body is touched.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RDSClient, RestoreDBInstanceFromDBSnapshotCommand } from '@aws-sdk/client-rds';
import type { RestoreDBInstanceFromDBSnapshotCommandInput } from '@aws-sdk/client-rds';

export interface FixtureRecoveryPoint {
  readonly resourceArn: string;
  readonly creationDate: Date;
  readonly status?: 'COMPLETED' | 'PARTIAL' | 'DELETING' | 'EXPIRED';
  /** Default `arn:aws:backup:<region>:123456789012:recovery-point:fixture-<vault>-<n>`; an RDS snapshot ARN makes it restorable. */
  readonly recoveryPointArn?: string;
  /** Default RDS. */
  readonly resourceType?: string;
  readonly encryptionKeyArn?: string;
  /** What GetRecoveryPointRestoreMetadata answers for this point (default: none). */
  readonly restoreMetadata?: Readonly<Record<string, string>>;
}

/** A StartRestoreJob call as the fixture received it, and what became of it. */
export interface FixtureRestoreJob {
  readonly RestoreJobId: string;
  readonly AccountId: string;
  readonly RecoveryPointArn: string;
  readonly BackupVaultArn?: string;
  readonly IamRoleArn?: string;
  readonly ResourceType?: string;
  readonly IdempotencyToken?: string;
  readonly Metadata: Readonly<Record<string, string>>;
  readonly CreationDate: number;
  CompletionDate?: number;
  Status: 'PENDING' | 'RUNNING' | 'COMPLETED' | 'ABORTED' | 'FAILED';
  StatusMessage?: string;
  CreatedResourceArn?: string;
}

export interface FixtureDatapoint {
  readonly timestamp: Date;
  readonly value: number;
}

/** A CloudWatch metric with one dimension, e.g. AWS/RDS ReplicaLag of one DBInstanceIdentifier. */
export interface FixtureMetric {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimension: { readonly name: string; readonly value: string };
}

const metricKey = (m: FixtureMetric) => `${m.namespace}|${m.metricName}|${m.dimension.name}=${m.dimension.value}`;

export interface AwsFixture {
  readonly endpoint: string;
  /** The environment for the SDK: moto's, with AWS_ENDPOINT_URL pointing here. */
  readonly env: Record<string, string>;
  setBootstrapBrokers(clusterArn: string, brokers: { saslScram?: string; tls?: string; iam?: string }): void;
  setRecoveryPoints(vault: string, points: readonly FixtureRecoveryPoint[]): void;
  setMetricData(metric: FixtureMetric, datapoints: readonly FixtureDatapoint[]): void;
  /** StartRestoreJob calls received, in order (one per job: a repeated idempotency token adds none). */
  readonly restoreJobs: readonly FixtureRestoreJob[];
  /** Forgets what the test registered (moto's own state is reset separately). */
  reset(): void;
  /** Operations served here so far, e.g. `kafka:GetBootstrapBrokers`. */
  readonly served: string[];
  stop(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, body: unknown, errorType?: string, contentType = 'application/json') {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  res.end(text);
}

const FIXTURE_ACCOUNT = '123456789012';

/** The region a request was signed for (SigV4 credential scope), as AWS routes it. */
function signedRegion(req: http.IncomingMessage): string {
  const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(String(req.headers.authorization ?? ''));
  return scope?.[1] ?? 'us-east-1';
}

function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', reject);
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>);
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}

/** AWS Backup's RDS restore metadata (string values, keys case-insensitive) as moto's restore input. */
function rdsRestoreInput(snapshotArn: string, metadata: Readonly<Record<string, string>>): RestoreDBInstanceFromDBSnapshotCommandInput {
  const get = (key: string) => Object.entries(metadata).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
  const bool = (key: string) => (get(key) === undefined ? undefined : get(key)!.toLowerCase() === 'true');
  const groups = get('VpcSecurityGroupIds');
  return {
    DBSnapshotIdentifier: snapshotArn,
    DBInstanceIdentifier: get('DBInstanceIdentifier'),
    DBSubnetGroupName: get('DBSubnetGroupName'),
    VpcSecurityGroupIds: groups === undefined ? undefined : JSON.parse(groups) as string[],
    MultiAZ: bool('MultiAZ'),
    DeletionProtection: bool('DeletionProtection'),
    PubliclyAccessible: bool('PubliclyAccessible'),
    DBInstanceClass: get('DBInstanceClass'),
    Port: get('Port') === undefined ? undefined : Number(get('Port')),
    DBParameterGroupName: get('DBParameterGroupName'),
    OptionGroupName: get('OptionGroupName'),
    AvailabilityZone: get('AvailabilityZone'),
    EnableIAMDatabaseAuthentication: bool('EnableIAMDatabaseAuthentication'),
    StorageType: get('StorageType'),
    CopyTagsToSnapshot: bool('CopyTagsToSnapshot'),
  };
}

export async function startAwsFixture(moto: { endpoint: string; env: Record<string, string> }): Promise<AwsFixture> {
  const target = new URL(moto.endpoint);
  const brokers = new Map<string, { saslScram?: string; tls?: string; iam?: string }>();
  const vaults = new Map<string, readonly FixtureRecoveryPoint[]>();
  const served: string[] = [];
  const metrics = new Map<string, readonly FixtureDatapoint[]>();
  const restoreJobs: FixtureRestoreJob[] = [];
  const recoveryPointArn = (vault: string, point: FixtureRecoveryPoint, index: number, region: string) =>
    point.recoveryPointArn ?? `arn:aws:backup:${region}:${FIXTURE_ACCOUNT}:recovery-point:fixture-${vault}-${index + 1}`;
  const vaultArn = (vault: string, region: string) => `arn:aws:backup:${region}:${FIXTURE_ACCOUNT}:backup-vault:${vault}`;
  /** The registered point with this ARN (in any vault), with its vault. */
  const findPoint = (arn: string, region: string) => {
    for (const [vault, points] of vaults) {
      const index = points.findIndex((p, i) => recoveryPointArn(vault, p, i, region) === arn);
      if (index >= 0) return { vault, point: points[index] };
    }
    return undefined;
  };

  const startRestoreJob = async (body: Record<string, unknown>, region: string, res: http.ServerResponse) => {
    const pointArn = body.RecoveryPointArn;
    const metadata = body.Metadata as Record<string, string> | undefined;
    if (typeof pointArn !== 'string' || !metadata || typeof metadata !== 'object') {
      return send(res, 400, { Message: 'RecoveryPointArn and Metadata are required', Code: 'MissingParameterValueException' }, 'MissingParameterValueException');
    }
    const token = typeof body.IdempotencyToken === 'string' ? body.IdempotencyToken : undefined;
    const repeated = token ? restoreJobs.find((j) => j.IdempotencyToken === token) : undefined;
    if (repeated) return send(res, 200, { RestoreJobId: repeated.RestoreJobId });
    const found = findPoint(pointArn, region);
    if (!found) {
      return send(res, 400, { Message: `Recovery point ${pointArn} not found`, Code: 'ResourceNotFoundException' }, 'ResourceNotFoundException');
    }
    const job: FixtureRestoreJob = {
      RestoreJobId: randomUUID().toUpperCase(),
      AccountId: FIXTURE_ACCOUNT,
      RecoveryPointArn: pointArn,
      BackupVaultArn: vaultArn(found.vault, region),
      IamRoleArn: typeof body.IamRoleArn === 'string' ? body.IamRoleArn : undefined,
      ResourceType: typeof body.ResourceType === 'string' ? body.ResourceType : undefined,
      IdempotencyToken: token,
      Metadata: { ...metadata },
      CreationDate: Date.now() / 1000,
      Status: 'RUNNING',
    };
    restoreJobs.push(job);
    const snapshot = /^arn:aws[a-z-]*:rds:([a-z0-9-]+):\d{12}:snapshot:/.exec(pointArn);
    if (!snapshot) {
      Object.assign(job, { Status: 'FAILED', StatusMessage: 'the fixture restores RDS snapshot recovery points only', CompletionDate: Date.now() / 1000 });
    } else {
      const rds = new RDSClient({
        region: snapshot[1], endpoint: moto.endpoint,
        credentials: { accessKeyId: moto.env.AWS_ACCESS_KEY_ID ?? 'testing', secretAccessKey: moto.env.AWS_SECRET_ACCESS_KEY ?? 'testing' },
      });
      try {
        const restored = await rds.send(new RestoreDBInstanceFromDBSnapshotCommand(rdsRestoreInput(pointArn, metadata)));
        Object.assign(job, { Status: 'COMPLETED', CreatedResourceArn: restored.DBInstance?.DBInstanceArn, CompletionDate: Date.now() / 1000 });
      } catch (error) {
        Object.assign(job, { Status: 'FAILED', StatusMessage: `${(error as Error).name}: ${(error as Error).message}`, CompletionDate: Date.now() / 1000 });
      } finally {
        rds.destroy();
      }
    }
    return send(res, 200, { RestoreJobId: job.RestoreJobId });
  };

  interface MetricQuery {
    Id: string;
    MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions?: { Name: string; Value: string }[] } };
  }
  const getMetricData = (body: { MetricDataQueries?: MetricQuery[]; StartTime?: number; EndTime?: number; ScanBy?: string }) => {
    // AWS JSON 1.0 timestamps are epoch seconds.
    const start = (body.StartTime ?? 0) * 1000;
    const end = (body.EndTime ?? Number.MAX_SAFE_INTEGER / 1000) * 1000;
    const ascending = body.ScanBy === 'TimestampAscending';
    return {
      MetricDataResults: (body.MetricDataQueries ?? []).map((q) => {
        const metric = q.MetricStat?.Metric;
        const dimension = metric?.Dimensions?.[0];
        const points = metric && dimension
          ? [...(metrics.get(metricKey({ namespace: metric.Namespace, metricName: metric.MetricName, dimension: { name: dimension.Name, value: dimension.Value } })) ?? [])]
            .filter((p) => p.timestamp.getTime() >= start && p.timestamp.getTime() < end)
            .sort((a, b) => (ascending ? 1 : -1) * (a.timestamp.getTime() - b.timestamp.getTime()))
          : [];
        return {
          Id: q.Id, Label: metric?.MetricName ?? q.Id, StatusCode: 'Complete',
          Timestamps: points.map((p) => p.timestamp.getTime() / 1000), Values: points.map((p) => p.value),
        };
      }),
      Messages: [],
    };
  };

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, patchKafkaTimes: boolean) => {
    const upstream = http.request({
      host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers,
    }, (answer) => {
      if (!patchKafkaTimes) {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
          .replace(/("creationTime":\s*"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)"/g, '$1Z"');
        const headers = { ...answer.headers, 'content-length': String(Buffer.byteLength(body)) };
        delete headers['transfer-encoding'];
        res.writeHead(answer.statusCode ?? 502, headers);
        res.end(body);
      });
    });
    upstream.on('error', (error) => send(res, 502, { message: `fixture: moto unreachable: ${error.message}` }));
    req.pipe(upstream);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fixture');
    if (req.method === 'POST' && req.headers['x-amz-target'] === 'GraniteServiceVersion20100801.GetMetricData') {
      served.push('cloudwatch:GetMetricData');
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => send(res, 200, getMetricData(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')), undefined, 'application/x-amz-json-1.0'));
      return;
    }
    const bootstrap = /^\/v1\/clusters\/(.+)\/bootstrap-brokers$/.exec(url.pathname);
    if (req.method === 'GET' && bootstrap) {
      served.push('kafka:GetBootstrapBrokers');
      const arn = decodeURIComponent(bootstrap[1]);
      const known = brokers.get(arn);
      if (!known) return send(res, 404, { message: `Cluster ${arn} not found` }, 'NotFoundException');
      return send(res, 200, {
        ...(known.tls ? { bootstrapBrokerStringTls: known.tls } : {}),
        ...(known.saslScram ? { bootstrapBrokerStringSaslScram: known.saslScram } : {}),
        ...(known.iam ? { bootstrapBrokerStringSaslIam: known.iam } : {}),
      });
    }
    const recovery = /^\/backup-vaults\/([^/]+)\/recovery-points\/?$/.exec(url.pathname);
    if (req.method === 'GET' && recovery) {
      served.push('backup:ListRecoveryPointsByBackupVault');
      const region = signedRegion(req);
      const vault = decodeURIComponent(recovery[1]);
      const points = vaults.get(vault);
      if (!points) return send(res, 400, { Message: `Backup vault ${vault} not found`, Code: 'ResourceNotFoundException' }, 'ResourceNotFoundException');
      const byResource = url.searchParams.get('resourceArn');
      const byType = url.searchParams.get('resourceType');
      return send(res, 200, {
        RecoveryPoints: points.map((p, i) => ({ p, arn: recoveryPointArn(vault, p, i, region) }))
          .filter(({ p }) => (!byResource || p.resourceArn === byResource) && (!byType || (p.resourceType ?? 'RDS') === byType))
          .map(({ p, arn }) => ({
            RecoveryPointArn: arn,
            BackupVaultName: vault,
            BackupVaultArn: vaultArn(vault, region),
            ResourceArn: p.resourceArn,
            ResourceType: p.resourceType ?? 'RDS',
            Status: p.status ?? 'COMPLETED',
            CreationDate: p.creationDate.getTime() / 1000,
            CompletionDate: p.creationDate.getTime() / 1000 + 60,
            ...(p.encryptionKeyArn ? { EncryptionKeyArn: p.encryptionKeyArn, IsEncrypted: true } : {}),
          })),
      });
    }
    const metadata = /^\/backup-vaults\/([^/]+)\/recovery-points\/([^/]+)\/restore-metadata$/.exec(url.pathname);
    if (req.method === 'GET' && metadata) {
      served.push('backup:GetRecoveryPointRestoreMetadata');
      const region = signedRegion(req);
      const vault = decodeURIComponent(metadata[1]);
      const arn = decodeURIComponent(metadata[2]);
      const found = findPoint(arn, region);
      if (!found || found.vault !== vault) {
        return send(res, 400, { Message: `Recovery point ${arn} not found in vault ${vault}`, Code: 'ResourceNotFoundException' }, 'ResourceNotFoundException');
      }
      return send(res, 200, {
        BackupVaultArn: vaultArn(vault, region), RecoveryPointArn: arn,
        ResourceType: found.point.resourceType ?? 'RDS', RestoreMetadata: found.point.restoreMetadata ?? {},
      });
    }
    if (req.method === 'PUT' && url.pathname === '/restore-jobs') {
      served.push('backup:StartRestoreJob');
      const region = signedRegion(req);
      readJson(req).then((body) => startRestoreJob(body, region, res))
        .catch((error: Error) => send(res, 400, { Message: error.message, Code: 'InvalidParameterValueException' }, 'InvalidParameterValueException'));
      return;
    }
    const job = /^\/restore-jobs\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && job) {
      served.push('backup:DescribeRestoreJob');
      const id = decodeURIComponent(job[1]);
      const known = restoreJobs.find((j) => j.RestoreJobId === id);
      if (!known) return send(res, 400, { Message: `Restore job ${id} not found`, Code: 'ResourceNotFoundException' }, 'ResourceNotFoundException');
      // DescribeRestoreJob reports neither the metadata nor the token (GetRestoreJobMetadata would).
      const description: Record<string, unknown> = { ...known };
      delete description.Metadata;
      delete description.IdempotencyToken;
      return send(res, 200, description);
    }
    const kafkaCluster = req.method === 'GET' && /^\/(api\/v2|v1)\/clusters(\/[^/]+)?\/?$/.test(url.pathname);
    return forward(req, res, kafkaCluster);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    env: { ...moto.env, AWS_ENDPOINT_URL: endpoint },
    setBootstrapBrokers: (arn, value) => { brokers.set(arn, value); },
    setRecoveryPoints: (vault, points) => { vaults.set(vault, points); },
    setMetricData: (metric, datapoints) => { metrics.set(metricKey(metric), datapoints); },
    restoreJobs,
    reset: () => { brokers.clear(); vaults.clear(); metrics.clear(); restoreJobs.length = 0; served.length = 0; },
    served,
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
