/**
 * gRPC over mTLS with the harness CA: identity allow-list, refused certificates, certificate
 * rotation without restart, the health service, drain, and the health port's metrics.
 */
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { service as healthServiceDefinition } from 'grpc-health-check';
import { createTestCa, issueServiceCertificate } from '../../harness';
import type { IssuedCertificate, TestCa } from '../../harness';
import { UserServiceClient, UserServiceService } from '../../../services/proto/gen/user/v1/user';
import type { GetUserResponse } from '../../../services/proto/gen/user/v1/user';
import {
  GrpcServer, Metrics, ServiceError, Status, createClient, createClientCredentials, createLogger, hasStatus,
  runWithRequestContext, startHealthServer, unary,
} from '../../../services/shared/src';
import type { ClientCredentials, HealthServer, Logger, ServiceHandlers } from '../../../services/shared/src';

const HealthClient = grpc.makeClientConstructor(healthServiceDefinition, 'grpc.health.v1.Health');

/** Log lines, parsed, so tests can check what was (and was not) logged. */
function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      cb();
    },
  });
  return { logger: createLogger({ service: 'test', level: 'debug', destination }), lines };
}

function tlsOf(cert: IssuedCertificate, caFile: string) {
  return { certFile: cert.certFile, keyFile: cert.keyFile, caFile };
}

function healthCheck(port: number, creds: grpc.ChannelCredentials, service = ''): Promise<string> {
  const client = new HealthClient(`localhost:${port}`, creds, { 'grpc.use_local_subchannel_pool': 1 });
  return new Promise((resolve, reject) => {
    client.check({ service }, { deadline: new Date(Date.now() + 5000) }, (err: grpc.ServiceError | null, res: { status: string }) => {
      client.close();
      if (err) reject(err);
      else resolve(res.status);
    });
  });
}

/** One GetUser on a fresh connection; returns the error code (0 = OK) and the server certificate's serial. */
function callOnce(port: number, creds: grpc.ChannelCredentials, id = 'u1'): Promise<{ code: number; serial?: string; details?: string; response?: GetUserResponse }> {
  const client = new UserServiceClient(`localhost:${port}`, creds, { 'grpc.use_local_subchannel_pool': 1 });
  return new Promise((resolve) => {
    const call = client.getUser({ id }, new grpc.Metadata(), { deadline: new Date(Date.now() + 5000) }, (err, response) => {
      const serial = call.getAuthContext()?.sslPeerCertificate?.serialNumber;
      client.close();
      resolve(err ? { code: err.code, details: err.details, serial } : { code: Status.OK, serial, response });
    });
  });
}

function normalSerial(serial: string | undefined): string {
  return (serial ?? '').toUpperCase().replace(/^0+/, '');
}

let ca: TestCa;
let gateway: IssuedCertificate;
let gatewayCreds: ClientCredentials;
const releaseSlow: (() => void)[] = [];

function handlers(): ServiceHandlers<typeof UserServiceService> {
  return {
    async getUser(req, ctx) {
      if (req.id === 'slow') await new Promise<void>((resolve) => releaseSlow.push(resolve));
      return { user: { id: req.id, email: `${ctx.peer}@peer`, name: [ctx.requestId, ctx.subject ?? '', ctx.roles.join('+')].join('|'), createdAt: new Date(0) } };
    },
    async createUser() {
      throw new ServiceError(Status.ALREADY_EXISTS, 'email: taken');
    },
    async updateUser() {
      throw new Error('connection string postgres://secret@db leaked');
    },
    async listUsers() {
      return { users: [], nextPageToken: '' };
    },
    async deleteUser() {
      return {};
    },
  };
}

beforeAll(async () => {
  ca = await createTestCa();
  gateway = await issueServiceCertificate(ca, 'api-gateway');
  gatewayCreds = await createClientCredentials(tlsOf(gateway, ca.caFile), 'user-service');
});

afterAll(() => {
  gatewayCreds.certificates.close();
});

describe('mTLS server with allow-list', () => {
  let server: GrpcServer;
  let port: number;
  let health: HealthServer;
  let metrics: Metrics;
  let log: ReturnType<typeof capturingLogger>;
  let dependencyUp = true;

  beforeAll(async () => {
    log = capturingLogger();
    metrics = new Metrics();
    const serverCert = await issueServiceCertificate(ca, 'user-service');
    server = new GrpcServer({ tls: tlsOf(serverCert, ca.caFile), allowedPeers: ['api-gateway', 'auth-service'], logger: log.logger, metrics });
    server.addService(UserServiceService, handlers());
    port = await server.listen(0, '127.0.0.1');
    health = await startHealthServer({ port: 0, host: '127.0.0.1', registry: metrics.registry, logger: log.logger });
    health.addReadinessCheck('dependency', async () => {
      if (!dependencyUp) throw new Error('dependency down');
    });
  });

  afterAll(async () => {
    server.forceShutdown();
    await health.close();
  });

  test('an allowed peer calls successfully; request id, subject and roles propagate', async () => {
    const client = createClient(UserServiceClient, `localhost:${port}`, gatewayCreds.credentials);
    try {
      const res = await runWithRequestContext({ requestId: 'req-123', subject: 'user-42', roles: ['admin', 'user'] }, () => unary(client, 'getUser', { id: 'u1' }));
      expect(res.user).toMatchObject({ id: 'u1', email: 'api-gateway@peer', name: 'req-123|user-42|admin+user' });
      const explicit = await unary(client, 'getUser', { id: 'u2' }, { requestId: 'given-id', timeoutMs: 5000 });
      expect(explicit.user?.name).toBe('given-id||');
    } finally {
      client.close();
    }
  });

  test('the caller\'s certificate is decoded once per connection, not per call', async () => {
    const decode = jest.spyOn(TLSSocket.prototype, 'getPeerCertificate');
    const client = createClient(UserServiceClient, `localhost:${port}`, gatewayCreds.credentials, { 'grpc.use_local_subchannel_pool': 1 });
    try {
      for (let i = 0; i < 5; i++) expect((await unary(client, 'getUser', { id: `u${i}` })).user?.email).toBe('api-gateway@peer');
      // The server's side of the connection is the socket whose local port is the server's.
      expect(decode.mock.contexts.filter((socket) => (socket as TLSSocket).localPort === port)).toHaveLength(1);
    } finally {
      decode.mockRestore();
      client.close();
    }
  });

  test('a refused CN stays refused on every call of its connection', async () => {
    const order = await issueServiceCertificate(ca, 'order-service');
    const creds = await createClientCredentials(tlsOf(order, ca.caFile));
    const client = createClient(UserServiceClient, `localhost:${port}`, creds.credentials, { 'grpc.use_local_subchannel_pool': 1 });
    try {
      for (let i = 0; i < 3; i++) await expect(unary(client, 'getUser', { id: 'u1' })).rejects.toMatchObject({ code: Status.PERMISSION_DENIED });
    } finally {
      client.close();
      creds.certificates.close();
    }
  });

  test('a client without a certificate is refused', async () => {
    const noCert = grpc.credentials.createSsl(readFileSync(ca.caFile));
    const result = await callOnce(port, noCert);
    expect(result.code).toBe(Status.UNAVAILABLE);
  });

  test('a certificate from another CA is refused', async () => {
    const otherCa = await createTestCa();
    const impostor = await issueServiceCertificate(otherCa, 'api-gateway');
    const creds = grpc.credentials.createSsl(readFileSync(ca.caFile), readFileSync(impostor.keyFile), readFileSync(impostor.certFile));
    const result = await callOnce(port, creds);
    expect(result.code).toBe(Status.UNAVAILABLE);
  });

  test('a valid certificate whose CN is not allowed gets PERMISSION_DENIED', async () => {
    const order = await issueServiceCertificate(ca, 'order-service');
    const creds = await createClientCredentials(tlsOf(order, ca.caFile));
    try {
      const result = await callOnce(port, creds.credentials);
      expect(result.code).toBe(Status.PERMISSION_DENIED);
      expect(result.details).toContain('"order-service"');
    } finally {
      creds.certificates.close();
    }
  });

  test('the client refuses a server whose CN is not the expected service', async () => {
    const creds = await createClientCredentials(tlsOf(gateway, ca.caFile), 'payment-service');
    try {
      const result = await callOnce(port, creds.credentials);
      expect(result.code).toBe(Status.UNAVAILABLE);
    } finally {
      creds.certificates.close();
    }
  });

  test('ServiceError keeps its code; unexpected errors become INTERNAL without leaking', async () => {
    const client = createClient(UserServiceClient, `localhost:${port}`, gatewayCreds.credentials);
    try {
      await expect(unary(client, 'createUser', { email: 'a@b.c', name: 'A' })).rejects.toMatchObject({ code: Status.ALREADY_EXISTS, details: 'email: taken' });
      const err = await unary(client, 'updateUser', { id: 'x' }, { requestId: 'req-internal' }).catch((e: unknown) => e);
      expect(hasStatus(err, Status.INTERNAL)).toBe(true);
      expect((err as grpc.ServiceError).details).toBe('internal error (request id req-internal)');
      expect((err as grpc.ServiceError).details).not.toContain('secret');
      const logged = log.lines.find((l) => l.msg === 'unexpected error in handler');
      expect(logged).toMatchObject({ requestId: 'req-internal', level: 'error' });
      expect(JSON.stringify(logged)).toContain('postgres://secret@db leaked');
    } finally {
      client.close();
    }
  });

  test('grpc.health.v1 answers SERVING for the server and the service', async () => {
    expect(await healthCheck(port, gatewayCreds.credentials)).toBe('SERVING');
    expect(await healthCheck(port, gatewayCreds.credentials, 'user.v1.UserService')).toBe('SERVING');
  });

  test('health port: /livez, /readyz follows its checks, /metrics has the latency histogram per method', async () => {
    const base = `http://127.0.0.1:${health.port}`;
    expect((await fetch(`${base}/livez`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { dependency: 'ok' } });
    dependencyUp = false;
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: 'not ready', checks: { dependency: 'dependency down' } });
    dependencyUp = true;
    expect((await fetch(`${base}/nope`)).status).toBe(404);

    const text = await (await fetch(`${base}/metrics`)).text();
    const bucket = text.split('\n').find((l) => l.startsWith('grpc_server_handling_seconds_bucket{') && l.includes('le="0.2"')
      && l.includes('grpc_service="user.v1.UserService"') && l.includes('grpc_method="GetUser"') && l.includes('grpc_code="OK"'));
    expect(bucket).toBeDefined();
    expect(text).toMatch(/grpc_server_handling_seconds_count\{[^}]*grpc_method="CreateUser"[^}]*grpc_code="ALREADY_EXISTS"[^}]*\} 1/);
    expect(text).toMatch(/grpc_server_handling_seconds_count\{[^}]*grpc_method="GetUser"[^}]*grpc_code="PERMISSION_DENIED"[^}]*\} [1-9]/);
    expect(text).toContain('process_cpu_user_seconds_total');
  });
});

describe('certificate rotation and drain', () => {
  test('a rotated server certificate is served without restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rotation-'));
    const first = await issueServiceCertificate(ca, 'user-service');
    const tls = { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), caFile: ca.caFile, refreshIntervalMs: 100 };
    copyFileSync(first.certFile, tls.certFile);
    copyFileSync(first.keyFile, tls.keyFile);
    const { logger } = capturingLogger();
    const server = new GrpcServer({ tls, allowedPeers: ['api-gateway'], logger, metrics: new Metrics({ defaultMetrics: false }) });
    server.addService(UserServiceService, handlers());
    const port = await server.listen(0, '127.0.0.1');
    try {
      const before = await callOnce(port, gatewayCreds.credentials);
      expect(before.code).toBe(Status.OK);
      expect(normalSerial(before.serial)).toBe(normalSerial(new X509Certificate(readFileSync(first.certFile)).serialNumber));

      const second = await issueServiceCertificate(ca, 'user-service');
      const secondSerial = normalSerial(new X509Certificate(readFileSync(second.certFile)).serialNumber);
      expect(secondSerial).not.toBe(normalSerial(before.serial));
      // Replace the files the way a kubelet secret update does: new content renamed into place.
      writeFileSync(join(dir, 'tls.key.new'), readFileSync(second.keyFile));
      writeFileSync(join(dir, 'tls.crt.new'), readFileSync(second.certFile));
      renameSync(join(dir, 'tls.key.new'), tls.keyFile);
      renameSync(join(dir, 'tls.crt.new'), tls.certFile);

      // Wait (bounded) for the watcher's next read; each attempt opens a new connection.
      let served = '';
      for (let attempt = 0; attempt < 100 && served !== secondSerial; attempt++) {
        await new Promise((r) => setTimeout(r, 100));
        const result = await callOnce(port, gatewayCreds.credentials);
        if (result.code === Status.OK) served = normalSerial(result.serial);
      }
      expect(served).toBe(secondSerial);
    } finally {
      server.forceShutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('drain: health turns NOT_SERVING, new calls are refused, the in-flight call completes', async () => {
    const serverCert = await issueServiceCertificate(ca, 'user-service');
    const { logger } = capturingLogger();
    const server = new GrpcServer({ tls: tlsOf(serverCert, ca.caFile), allowedPeers: ['api-gateway'], logger, metrics: new Metrics({ defaultMetrics: false }) });
    server.addService(UserServiceService, handlers());
    const port = await server.listen(0, '127.0.0.1');
    const client = createClient(UserServiceClient, `localhost:${port}`, gatewayCreds.credentials);
    try {
      expect(await healthCheck(port, gatewayCreds.credentials)).toBe('SERVING');
      const slow = unary(client, 'getUser', { id: 'slow' }, { timeoutMs: 60_000 });
      for (let i = 0; i < 200 && server.inFlightCalls === 0; i++) await new Promise((r) => setTimeout(r, 25));
      expect(server.inFlightCalls).toBe(1);

      const drained = server.drain(60_000);
      expect(server.isDraining).toBe(true);
      expect(await healthCheck(port, gatewayCreds.credentials)).toBe('NOT_SERVING');
      await expect(unary(client, 'getUser', { id: 'new' })).rejects.toMatchObject({ code: Status.UNAVAILABLE, details: 'server is shutting down' });

      releaseSlow.splice(0).forEach((release) => release());
      await expect(slow).resolves.toMatchObject({ user: { id: 'slow' } });
      await drained;
      expect(server.inFlightCalls).toBe(0);
      // Closed: a new connection cannot be made.
      expect((await callOnce(port, gatewayCreds.credentials)).code).toBe(Status.UNAVAILABLE);
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});
