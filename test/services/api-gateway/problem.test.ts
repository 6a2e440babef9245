// services/README.md "gRPC status -> HTTP (gateway)" for every gRPC status, and the problem
// body the client gets for each: callee text for 4xx, a fixed sentence for 5xx.
import { Metadata, status } from '@grpc/grpc-js';
import { toProblem } from '../../../services/api-gateway/src/app';
import { InvalidTokenError } from '../../../services/api-gateway/src/jwt';
import { httpStatusForGrpc, problemFromGrpc } from '../../../services/api-gateway/src/problem';

const expected: Record<keyof typeof status, number> = {
  OK: 502, // a callee must not fail with OK; treated as any unknown failure
  CANCELLED: 502,
  UNKNOWN: 502,
  INVALID_ARGUMENT: 400,
  DEADLINE_EXCEEDED: 504,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 429,
  FAILED_PRECONDITION: 409,
  ABORTED: 409,
  OUT_OF_RANGE: 502,
  UNIMPLEMENTED: 502,
  INTERNAL: 502,
  UNAVAILABLE: 503,
  DATA_LOSS: 502,
  UNAUTHENTICATED: 401,
};

function grpcError(code: number, details: string) {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: new Metadata() });
}

describe('gRPC status -> problem+json', () => {
  const names = Object.keys(status).filter((k) => Number.isNaN(Number(k))) as (keyof typeof status)[];

  it('covers every gRPC status', () => {
    expect(names.sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(names)('%s', (name) => {
    const code = status[name];
    expect(httpStatusForGrpc(code)).toBe(expected[name]);
    const mapped = toProblem(grpcError(code, 'user 42 not found at 10.0.3.7:5432'));
    expect(mapped.problem.status).toBe(expected[name]);
    expect(mapped.problem.title).toEqual(expect.any(String));
    if (expected[name] < 500) expect(mapped.problem.detail).toBe('user 42 not found at 10.0.3.7:5432');
    else expect(mapped.problem.detail).not.toContain('10.0.3.7');
  });

  it('never answers a callee failure with 500', () => {
    for (const name of names) expect(problemFromGrpc(grpcError(status[name], 'x'), 'svc').status).not.toBe(500);
  });

  it('maps an invalid token to 401 with a Bearer challenge naming the reason', () => {
    const mapped = toProblem(new InvalidTokenError('token expired'));
    expect(mapped.problem.status).toBe(401);
    expect(mapped.wwwAuthenticate).toBe('Bearer error="invalid_token", error_description="token expired"');
  });

  it('hides an unexpected error behind a bare 500', () => {
    const mapped = toProblem(new TypeError('cannot read properties of undefined (reading "secret")'));
    expect(mapped.problem).toMatchObject({ status: 500, type: 'about:blank' });
    expect(mapped.problem.detail).not.toContain('secret');
  });
});
