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
 *    byResourceArn), else ResourceNotFoundException like AWS for a missing vault.
 *  - Kafka ListClustersV2/DescribeClusterV2 responses (forwarded to moto) get a "Z" appended to
 *    `creationTime`: moto writes a naive local timestamp, which the SDK's RFC 3339 parser
 *    rejects. Nothing else in the body is touched.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FixtureRecoveryPoint {
  readonly resourceArn: string;
  readonly creationDate: Date;
  readonly status?: 'COMPLETED' | 'PARTIAL' | 'DELETING' | 'EXPIRED';
}

export interface AwsFixture {
  readonly endpoint: string;
  /** The environment for the SDK: moto's, with AWS_ENDPOINT_URL pointing here. */
  readonly env: Record<string, string>;
  setBootstrapBrokers(clusterArn: string, brokers: { saslScram?: string; tls?: string; iam?: string }): void;
  setRecoveryPoints(vault: string, points: readonly FixtureRecoveryPoint[]): void;
  /** Forgets what the test registered (moto's own state is reset separately). */
  reset(): void;
  /** Operations served here so far, e.g. `kafka:GetBootstrapBrokers`. */
  readonly served: string[];
  stop(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, body: unknown, errorType?: string) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  res.end(text);
}

export async function startAwsFixture(moto: { endpoint: string; env: Record<string, string> }): Promise<AwsFixture> {
  const target = new URL(moto.endpoint);
  const brokers = new Map<string, { saslScram?: string; tls?: string; iam?: string }>();
  const vaults = new Map<string, readonly FixtureRecoveryPoint[]>();
  const served: string[] = [];

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
      const vault = decodeURIComponent(recovery[1]);
      const points = vaults.get(vault);
      if (!points) return send(res, 400, { Message: `Backup vault ${vault} not found`, Code: 'ResourceNotFoundException' }, 'ResourceNotFoundException');
      const byResource = url.searchParams.get('resourceArn');
      return send(res, 200, {
        RecoveryPoints: points.filter((p) => !byResource || p.resourceArn === byResource).map((p, i) => ({
          RecoveryPointArn: `arn:aws:backup:us-east-1:123456789012:recovery-point:fixture-${vault}-${i + 1}`,
          BackupVaultName: vault,
          ResourceArn: p.resourceArn,
          ResourceType: 'RDS',
          Status: p.status ?? 'COMPLETED',
          CreationDate: p.creationDate.getTime() / 1000,
          CompletionDate: p.creationDate.getTime() / 1000 + 60,
        })),
      });
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
    reset: () => { brokers.clear(); vaults.clear(); served.length = 0; },
    served,
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
