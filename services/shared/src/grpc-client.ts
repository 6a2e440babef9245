/**
 * gRPC clients over mTLS: our certificate (re-read from disk) is presented to the callee,
 * the callee's certificate must chain to our CA, match the target's host name and, when
 * given, carry the expected service CN. Channels balance round_robin over every address
 * the target resolves to (headless Services, DESIGN.md §5).
 */
import { checkServerIdentity } from 'node:tls';
import type { PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { currentRequestContext } from './logger';
import { watchCertificates } from './tls';
import type { TlsFiles, WatchedCertificates } from './tls';

export interface ClientCredentials {
  readonly credentials: grpc.ChannelCredentials;
  readonly certificates: WatchedCertificates;
}

/**
 * Channel credentials from the workload's certificate files. `expectedServer` (a service
 * name) additionally pins the callee's certificate CN, so a valid certificate of another
 * workload cannot impersonate it.
 */
export async function createClientCredentials(tls: TlsFiles, expectedServer?: string): Promise<ClientCredentials> {
  const certificates = watchCertificates(tls);
  await certificates.ready();
  const credentials = grpc.experimental.createCertificateProviderChannelCredentials(certificates.provider, certificates.provider, {
    checkServerIdentity(hostname: string, cert: PeerCertificate) {
      const hostError = checkServerIdentity(hostname, cert);
      if (hostError) return hostError;
      const cn = cert.subject?.CN as string | string[] | undefined;
      const name = Array.isArray(cn) ? cn[0] : cn;
      if (expectedServer && name !== expectedServer) {
        return Object.assign(new Error(`server certificate CN ${JSON.stringify(name)} is not ${JSON.stringify(expectedServer)}`), { reason: 'unexpected server identity', host: hostname, cert });
      }
      return undefined;
    },
  });
  return { credentials, certificates };
}

export const ROUND_ROBIN_SERVICE_CONFIG = JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] });

/** Channel options every internal client uses. */
export function clientChannelOptions(extra: grpc.ChannelOptions = {}): grpc.ChannelOptions {
  return {
    'grpc.service_config': ROUND_ROBIN_SERVICE_CONFIG,
    // Notice dead connections (a pod gone without FIN) within a minute.
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    // A callee back after a crash or a rollout is reached within seconds (grpc-js would back
    // off up to two minutes between attempts).
    'grpc.max_reconnect_backoff_ms': 10_000,
    // When every address of a headless Service is gone at once (a Deployment replaced), the
    // channel learns the new pods' only by resolving again, which grpc-js allows once in 30 s
    // by default; 5 s is CoreDNS's TTL for those records.
    'grpc.dns_min_time_between_resolutions_ms': 5_000,
    ...extra,
  };
}

type ClientConstructor<C extends grpc.Client> = new (address: string, credentials: grpc.ChannelCredentials, options?: Partial<grpc.ClientOptions>) => C;

/** A typed client for `target` (`host:port` or `dns:///host:port`). */
export function createClient<C extends grpc.Client>(Ctor: ClientConstructor<C>, target: string, credentials: grpc.ChannelCredentials, extra: grpc.ChannelOptions = {}): C {
  return new Ctor(target, credentials, clientChannelOptions(extra));
}

export interface UnaryOptions {
  /** Absolute deadline (e.g. the incoming call's); else `timeoutMs` from now. Every call has one. */
  readonly deadline?: Date;
  readonly timeoutMs?: number;
  /** Defaults to the current request's id/subject/roles (AsyncLocalStorage), so they propagate. */
  readonly requestId?: string;
  readonly subject?: string | undefined;
  readonly roles?: readonly string[] | undefined;
  readonly metadata?: grpc.Metadata;
}

export const DEFAULT_CALL_TIMEOUT_MS = 5_000;

type UnaryMethod<Req, Res> = (request: Req, metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, callback: (error: grpc.ServiceError | null, response: Res) => void) => grpc.ClientUnaryCall;
type RequestOf<M> = M extends UnaryMethod<infer Req, unknown> ? Req : never;
type ResponseOf<M> = M extends UnaryMethod<never, infer Res> ? Res : never;
type UnaryKeys<C> = { [K in keyof C]: C[K] extends UnaryMethod<never, unknown> ? K : never }[keyof C] & string;

/** Builds the metadata of an internal call (x-request-id, x-subject, x-roles). */
export function callMetadata(options: UnaryOptions = {}): grpc.Metadata {
  const md = options.metadata?.clone() ?? new grpc.Metadata();
  const ctx = currentRequestContext();
  const requestId = options.requestId ?? ctx?.requestId;
  const subject = options.subject ?? ctx?.subject;
  const roles = options.roles ?? ctx?.roles;
  if (requestId) md.set('x-request-id', requestId);
  if (subject) md.set('x-subject', subject);
  if (roles && roles.length > 0) md.set('x-roles', roles.join(','));
  return md;
}

/**
 * Promise wrapper for a unary method: `await unary(client, 'getUser', { id })`. Rejects with
 * grpc-js's ServiceError (it has `code` and `details`).
 */
export function unary<C extends grpc.Client, K extends UnaryKeys<C>>(client: C, method: K, request: RequestOf<C[K]>, options: UnaryOptions = {}): Promise<ResponseOf<C[K]>> {
  const deadline = options.deadline ?? new Date(Date.now() + (options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS));
  const fn = client[method] as unknown as UnaryMethod<RequestOf<C[K]>, ResponseOf<C[K]>>;
  return new Promise((resolve, reject) => {
    fn.call(client, request, callMetadata(options), { deadline }, (err, response) => (err ? reject(err) : resolve(response)));
  });
}

/** True when `err` is a gRPC error with the given status. */
export function hasStatus(err: unknown, code: grpc.status): err is grpc.ServiceError {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
