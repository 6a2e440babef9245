/**
 * gRPC server over mTLS (services/README.md "Identities and certificates"): client
 * certificates from our CA are required, the caller's certificate CN must be in the
 * allow-list, certificates are re-read from disk, every call is timed into
 * grpc_server_handling_seconds, and grpc.health.v1.Health reports SERVING until the drain.
 */
import { randomUUID } from 'node:crypto';
import { TLSSocket } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from './db-errors';
import { runWithRequestContext } from './logger';
import type { Metrics } from './metrics';
import { watchCertificates } from './tls';
import type { TlsFiles, WatchedCertificates } from './tls';

export const Status = grpc.status;

/** An error a handler throws on purpose: its code and message reach the caller. */
export class ServiceError extends Error {
  constructor(readonly code: grpc.status, message: string) {
    super(message);
    this.name = 'ServiceError';
  }
}

/** INVALID_ARGUMENT naming the field: `email: must be a valid e-mail address`. */
export function invalidArgument(field: string, problem: string): ServiceError {
  return new ServiceError(grpc.status.INVALID_ARGUMENT, `${field}: ${problem}`);
}

export interface CallContext {
  readonly requestId: string;
  /** The end user on whose behalf the call is made (x-subject, set by the gateway), if any. */
  readonly subject: string | undefined;
  readonly roles: readonly string[];
  readonly deadline: grpc.Deadline | undefined;
  /** Aborted when the caller cancels or the deadline passes. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** The calling workload: its certificate's CN (already checked against the allow-list). */
  readonly peer: string;
  readonly metadata: grpc.Metadata;
}

export type UnaryHandler<Req, Res> = (request: Req, ctx: CallContext) => Promise<Res>;

type MethodTypes<M> = M extends { requestDeserialize: (b: Buffer) => infer Req; responseSerialize: (v: infer Res) => Buffer } ? [Req, Res] : never;

/** Async handlers for every method of a ts-proto service definition. */
export type ServiceHandlers<S> = { [K in keyof S]: UnaryHandler<MethodTypes<S[K]>[0], MethodTypes<S[K]>[1]> };

export interface GrpcServerOptions {
  readonly tls: TlsFiles;
  /** Certificate CNs allowed to call this server's services. */
  readonly allowedPeers: readonly string[];
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Extra grpc-js channel options (tests shorten timers). */
  readonly channelOptions?: grpc.ServerOptions;
}

// A request id travels into logs: keep it to a sane, printable token.
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function firstMetadata(md: grpc.Metadata, key: string): string | undefined {
  const value = md.get(key)[0];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * The TLS connection a call arrived on, when grpc-js (1.14: ServerUnaryCallImpl.call.stream)
 * lets us reach it; undefined otherwise, and the CN is then read per call.
 */
export function callConnection(call: grpc.ServerUnaryCall<unknown, unknown>): TLSSocket | undefined {
  const socket = (call as unknown as { call?: { stream?: { session?: { socket?: unknown } } } }).call?.stream?.session?.socket;
  return socket instanceof TLSSocket ? socket : undefined;
}

// getAuthContext() decodes the whole peer certificate (fingerprints included) on every call, a
// fifth of a small call's CPU; the certificate of a TLS connection is fixed at its handshake,
// (HTTP/2 refuses TLS renegotiation), so its CN is read once per connection.
const connectionPeers = new WeakMap<TLSSocket, string | undefined>();

function peerCommonName(call: grpc.ServerUnaryCall<unknown, unknown>): string | undefined {
  const connection = callConnection(call);
  if (connection && connectionPeers.has(connection)) return connectionPeers.get(connection);
  const cn = call.getAuthContext()?.sslPeerCertificate?.subject?.CN as string | string[] | undefined;
  const name = Array.isArray(cn) ? cn[0] : cn;
  if (connection) connectionPeers.set(connection, name);
  return name;
}

export class GrpcServer {
  readonly health = new HealthImplementation({ '': 'NOT_SERVING' });
  private readonly server: grpc.Server;
  private readonly allowed: ReadonlySet<string>;
  private readonly serviceNames: string[] = [];
  private certificates: WatchedCertificates | undefined;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private draining = false;
  private drainPromise: Promise<void> | undefined;

  constructor(private readonly options: GrpcServerOptions) {
    if (options.allowedPeers.length === 0) throw new Error('allowedPeers must name at least one identity');
    this.allowed = new Set(options.allowedPeers);
    this.server = new grpc.Server({
      // Clients balance round_robin over a headless Service; recycling connections lets them
      // re-resolve DNS and spread onto pods added by the autoscaler.
      'grpc.max_connection_age_ms': 5 * 60_000,
      'grpc.max_connection_age_grace_ms': 30_000,
      'grpc.keepalive_permit_without_calls': 1,
      ...options.channelOptions,
    });
    this.health.addToServer(this.server);
  }

  /** Registers a ts-proto service (e.g. `UserServiceService`) with async handlers. */
  addService<S extends grpc.ServiceDefinition>(definition: S, handlers: ServiceHandlers<S>): void {
    const implementation: grpc.UntypedServiceImplementation = {};
    let serviceName = '';
    for (const [key, method] of Object.entries(definition)) {
      const [, service, name] = /^\/([^/]+)\/([^/]+)$/.exec(method.path) ?? [];
      if (!service || !name) throw new Error(`unexpected method path ${method.path}`);
      if (method.requestStream || method.responseStream) throw new Error(`${method.path}: only unary methods are supported`);
      serviceName = service;
      const handler = (handlers as Record<string, UnaryHandler<unknown, unknown>>)[key];
      if (typeof handler !== 'function') throw new Error(`no handler for ${method.path}`);
      implementation[key] = this.wrap(service, name, handler) as grpc.UntypedHandleCall;
    }
    this.server.addService(definition, implementation);
    this.serviceNames.push(serviceName);
    this.health.setStatus(serviceName, 'NOT_SERVING');
  }

  private wrap(service: string, method: string, handler: UnaryHandler<unknown, unknown>): grpc.handleUnaryCall<unknown, unknown> {
    const { logger, metrics } = this.options;
    return (call, callback) => {
      const started = process.hrtime.bigint();
      const requestId = (() => {
        const given = firstMetadata(call.metadata, 'x-request-id');
        return given && REQUEST_ID.test(given) ? given : randomUUID();
      })();
      const subject = firstMetadata(call.metadata, 'x-subject');
      const roles = (firstMetadata(call.metadata, 'x-roles') ?? '').split(',').map((r) => r.trim()).filter(Boolean);
      // A child logger costs an object copy of the bindings; most calls log nothing, so it is
      // made on first use.
      let child: Logger | undefined;
      const log = (): Logger => (child ??= logger.child({ requestId, grpcMethod: `${service}/${method}` }));
      const finish = (code: grpc.status, err: Partial<grpc.StatusObject> | null, response?: unknown) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        metrics.grpcServerHandlingSeconds.observe({ grpc_service: service, grpc_method: method, grpc_code: grpc.status[code] }, seconds);
        const trailer = new grpc.Metadata();
        trailer.set('x-request-id', requestId);
        if (err) callback({ code, details: err.details ?? '', metadata: trailer }, null);
        else callback(null, response, trailer);
      };

      if (this.draining) {
        finish(grpc.status.UNAVAILABLE, { details: 'server is shutting down' });
        return;
      }
      const peer = peerCommonName(call);
      if (!peer || !this.allowed.has(peer)) {
        log().warn({ peer: peer ?? null, address: call.getPeer() }, 'caller not in allow-list');
        finish(grpc.status.PERMISSION_DENIED, { details: `caller ${peer ? JSON.stringify(peer) : '(no certificate CN)'} may not call ${service}` });
        return;
      }

      const abort = new AbortController();
      let settled = false;
      // grpc-js reports 'cancelled' when the stream closes, after an answer too: only a call
      // still running is aborted (and pays for the error's stack trace).
      call.once('cancelled', () => {
        if (!settled) abort.abort(new ServiceError(grpc.status.CANCELLED, 'call cancelled'));
      });
      const ctx: CallContext = {
        requestId,
        subject,
        roles,
        deadline: call.getDeadline(),
        signal: abort.signal,
        get logger() {
          return log();
        },
        peer,
        metadata: call.metadata,
      };
      this.inFlight++;
      runWithRequestContext({ requestId, subject, roles }, () => handler(call.request, ctx))
        .then(
          (response) => finish(grpc.status.OK, null, response),
          (err: unknown) => {
            if (err instanceof ServiceError) {
              if (err.code === grpc.status.INTERNAL || err.code === grpc.status.UNKNOWN) log().error({ err }, 'call failed');
              else log().info({ code: grpc.status[err.code], details: err.message }, 'call rejected');
              finish(err.code, { details: err.message });
            } else if (isDatabaseUnavailable(err)) {
              log().warn({ err }, 'database unavailable');
              finish(grpc.status.UNAVAILABLE, { details: 'the database is unavailable; retry later' });
            } else {
              // The cause stays in our logs; the caller only learns the request id to quote.
              log().error({ err }, 'unexpected error in handler');
              finish(grpc.status.INTERNAL, { details: `internal error (request id ${requestId})` });
            }
          },
        )
        .finally(() => {
          settled = true;
          this.inFlight--;
          if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
        });
    };
  }

  /** Binds `host:port` (port 0 picks a free one) once the certificate is loaded; returns the port. */
  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    const certificates = watchCertificates(this.options.tls);
    this.certificates = certificates;
    this.options.metrics.watchCertificateExpiry(this.options.tls.certFile);
    await certificates.ready();
    const credentials = grpc.experimental.createCertificateProviderServerCredentials(certificates.provider, certificates.provider, true);
    const bound = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, credentials, (err, actual) => (err ? reject(err) : resolve(actual)));
    });
    this.health.setStatus('', 'SERVING');
    for (const name of this.serviceNames) this.health.setStatus(name, 'SERVING');
    this.options.logger.info({ port: bound, services: this.serviceNames, allowedPeers: [...this.allowed] }, 'gRPC server listening (mTLS)');
    return bound;
  }

  get inFlightCalls(): number {
    return this.inFlight;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /**
   * Graceful stop: report NOT_SERVING, refuse new calls with UNAVAILABLE (clients retry on
   * another replica), let in-flight calls finish, then close; whatever is left after
   * `graceMs` is cut off.
   */
  drain(graceMs: number): Promise<void> {
    this.drainPromise ??= this.runDrain(graceMs);
    return this.drainPromise;
  }

  private async runDrain(graceMs: number): Promise<void> {
    const { logger } = this.options;
    const deadline = Date.now() + graceMs;
    this.draining = true;
    this.health.setStatus('', 'NOT_SERVING');
    for (const name of this.serviceNames) this.health.setStatus(name, 'NOT_SERVING');
    logger.info({ inFlight: this.inFlight, graceMs }, 'draining gRPC server');
    const idle = await this.waitIdle(graceMs);
    if (!idle) logger.warn({ inFlight: this.inFlight }, 'grace period over with calls in flight; cutting them off');
    const remaining = Math.max(0, deadline - Date.now());
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, remaining);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.certificates?.close();
    logger.info('gRPC server stopped');
  }

  private waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Immediate stop (tests, or a second signal). */
  forceShutdown(): void {
    this.draining = true;
    this.server.forceShutdown();
    this.certificates?.close();
  }
}
