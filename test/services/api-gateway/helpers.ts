// Builds the gateway's Fastify app for unit tests: real gRPC clients (pointed wherever the test
// says, by default at a closed port, i.e. an unreachable auth-service), a local-only rate
// limiter unless a Redis client is given, and a silent logger.
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { freePort } from '../../harness';
import { Metrics } from '../../../services/shared/src/metrics';
import { AuthServiceClient } from '../../../services/proto/gen/auth/v1/auth';
import { UserServiceClient } from '../../../services/proto/gen/user/v1/user';
import { OrderServiceClient } from '../../../services/proto/gen/order/v1/order';
import { PaymentServiceClient } from '../../../services/proto/gen/payment/v1/payment';
import { buildApp } from '../../../services/api-gateway/src/app';
import { DecisionCache } from '../../../services/api-gateway/src/authorize';
import { JwksCache, JwtVerifier } from '../../../services/api-gateway/src/jwt';
import type { JwksFetcher } from '../../../services/api-gateway/src/jwt';
import { renderOpenApiDocument } from '../../../services/api-gateway/src/openapi';
import { RateLimiter } from '../../../services/api-gateway/src/rate-limit';
import { ROUTES } from '../../../services/api-gateway/src/routes';

export interface TestResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface TestAppOptions {
  readonly authAddr?: string;
  readonly jwksFetch?: JwksFetcher;
  readonly anonymousLimit?: number;
  readonly trustedProxyCidrs?: readonly string[];
  readonly bodyLimitBytes?: number;
  readonly bodyTimeoutMs?: number;
  /** Where the gateway's log lines go (default: nowhere). */
  readonly logger?: pino.Logger;
}

export async function buildTestApp(opts: TestAppOptions = {}) {
  // A port just released: nothing listens there.
  const target = opts.authAddr ?? `127.0.0.1:${await freePort()}`;
  const creds = grpc.credentials.createInsecure();
  const auth = new AuthServiceClient(target, creds);
  const users = new UserServiceClient(target, creds);
  const orders = new OrderServiceClient(target, creds);
  const payments = new PaymentServiceClient(target, creds);
  const metrics = new Metrics({ defaultMetrics: false });
  const jwks = new JwksCache({
    refetchCooldownMs: 30_000,
    fetch: opts.jwksFetch ?? ((deadline) => new Promise((resolve, reject) => {
      auth.getJwks({}, new grpc.Metadata(), { deadline }, (err, res) => (err ? reject(err) : resolve({ jwks: JSON.parse(res.jwksJson), maxAgeSeconds: res.maxAgeSeconds })));
    })),
  });
  const verifier = new JwtVerifier({ jwks, issuer: 'https://issuer.test', audience: 'platform-api', clockToleranceSeconds: 5 });
  const decisions = new DecisionCache({
    maxEntries: 100, maxTtlSeconds: 30,
    call: (q, call) => new Promise((resolve, reject) => {
      auth.authorize({ ...q }, new grpc.Metadata(), { deadline: call.deadline }, (err, res) => (err ? reject(err) : resolve(res)));
    }),
  });
  const limiter = new RateLimiter({ redis: undefined, keyPrefix: 'rl:', redisTimeoutMs: 100 });
  const app = buildApp({
    logger: opts.logger ?? pino({ level: 'silent' }),
    backends: { auth, users, orders, payments },
    verifier, jwks, decisions, limiter,
    policies: {
      anonymous: { name: 'anonymous', limit: opts.anonymousLimit ?? 1000, windowSeconds: 60 },
      authenticated: { name: 'authenticated', limit: 1000, windowSeconds: 60 },
    },
    requestTimeoutMs: 2000,
    bodyTimeoutMs: opts.bodyTimeoutMs ?? 4000,
    bodyLimitBytes: opts.bodyLimitBytes ?? 16 * 1024,
    trustedProxyCidrs: opts.trustedProxyCidrs ?? [],
    httpDuration: metrics.latencyHistogram('http_request_duration_seconds', 'test', ['method', 'route', 'status_code']),
    openApiDocument: () => renderOpenApiDocument(ROUTES),
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  return {
    app, metrics, base,
    /** fetch against the listening app (light-my-request's inject cannot load under jest here). */
    async request(method: string, path: string, init: { headers?: Record<string, string>; body?: string | object } = {}): Promise<TestResponse> {
      const isObject = typeof init.body === 'object';
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { ...(isObject ? { 'content-type': 'application/json' } : {}), ...init.headers },
        ...(init.body === undefined ? {} : { body: isObject ? JSON.stringify(init.body) : (init.body as string) }),
      });
      return { statusCode: res.status, headers: Object.fromEntries(res.headers.entries()), body: await res.text() };
    },
    async close() {
      await app.close();
      for (const c of [auth, users, orders, payments]) c.close();
    },
  };
}
