/**
 * RFC 9457 problem details: the one shape of every error response, and the gRPC status ->
 * HTTP mapping fixed in services/README.md.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface FieldError {
  /** JSON pointer-ish path of the offending field, e.g. `email` or `body` for the whole body. */
  readonly field: string;
  readonly message: string;
}

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly requestId?: string;
  readonly errors?: readonly FieldError[];
}

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * `about:blank` is RFC 9457's type for "no more than the status says"; our types are relative
 * URIs under /problems so clients can switch on them without parsing titles.
 */
export function problem(status: number, detail?: string, extra: Partial<Problem> = {}): Problem {
  return {
    type: extra.type ?? (status === 500 ? 'about:blank' : `/problems/${slug(TITLES[status] ?? 'error')}`),
    title: TITLES[status] ?? 'Error',
    status,
    ...(detail === undefined ? {} : { detail }),
    ...extra,
  };
}

function slug(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

/** An error thrown inside a handler that should become exactly this problem. */
export class ProblemError extends Error {
  constructor(readonly problem: Problem, readonly headers: Readonly<Record<string, string>> = {}) {
    super(problem.detail ?? problem.title);
    this.name = 'ProblemError';
  }
}

/** services/README.md "gRPC status -> HTTP (gateway)". */
export function httpStatusForGrpc(code: number): number {
  switch (code) {
    case GrpcStatus.INVALID_ARGUMENT: return 400;
    case GrpcStatus.UNAUTHENTICATED: return 401;
    case GrpcStatus.PERMISSION_DENIED: return 403;
    case GrpcStatus.NOT_FOUND: return 404;
    case GrpcStatus.ALREADY_EXISTS:
    case GrpcStatus.ABORTED:
    case GrpcStatus.FAILED_PRECONDITION: return 409;
    case GrpcStatus.RESOURCE_EXHAUSTED: return 429;
    case GrpcStatus.UNAVAILABLE: return 503;
    case GrpcStatus.DEADLINE_EXCEEDED: return 504;
    default: return 502;
  }
}

export interface GrpcErrorLike {
  readonly code: number;
  readonly details?: string;
}

export function isGrpcError(error: unknown): error is GrpcErrorLike & Error {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'number'
    && 'details' in error && 'metadata' in error;
}

/**
 * The callee's `details` are passed on only for client errors (4xx): they are the service's
 * message to the caller (e.g. "email already registered"). For 5xx the callee's text may carry
 * internals (addresses, stack fragments), so the client gets a fixed sentence instead.
 */
export function problemFromGrpc(error: GrpcErrorLike, service: string): Problem {
  const status = httpStatusForGrpc(error.code);
  if (status < 500) return problem(status, error.details || undefined);
  const detail = status === 503 ? `${service} is unavailable`
    : status === 504 ? `${service} did not answer within the request deadline`
      : `${service} failed`;
  return problem(status, detail);
}
