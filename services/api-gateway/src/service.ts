/**
 * Wires the gateway: mTLS gRPC clients to auth-, user-, order- and payment-service, the JWKS cache and
 * verifier, the decision cache, the Redis rate limiter with its local fallback, the public
 * HTTP server and the health port.
 */
import { Counter, Gauge } from 'prom-client';
import { AuthServiceClient } from '../../proto/gen/auth/v1/auth';
import { UserServiceClient } from '../../proto/gen/user/v1/user';
import { OrderServiceClient } from '../../proto/gen/order/v1/order';
import { PaymentServiceClient } from '../../proto/gen/payment/v1/payment';
// Shared modules are imported one by one, not through the index: the index also pulls in the
// gRPC server, whose grpc-health-check dependency reads a .proto file from disk at load time.
import { clientChannelOptions, createClient, createClientCredentials, unary } from '../../shared/src/grpc-client';
import { startHealthServer } from '../../shared/src/health';
import { createLogger } from '../../shared/src/logger';
import type { Logger } from '../../shared/src/logger';
import { Metrics } from '../../shared/src/metrics';
import { createRedis } from '../../shared/src/redis';
import { buildApp } from './app';
import { DecisionCache } from './authorize';
import { SERVICE_NAME } from './config';
import type { GatewayConfig } from './config';
import { createHealthChecker } from './health-client';
import { readKeyPair, reloadCertificateOnChange } from './https';
import { JwksCache, JwtVerifier } from './jwt';
import type { JwksDocument } from './jwt';
import { renderOpenApiDocument } from './openapi';
import { ProblemError, problem } from './problem';
import { RateLimiter } from './rate-limit';
import type { RateLimitPolicy } from './rate-limit';
import { ROUTES } from './routes';

export interface GatewayHandle {
  readonly httpPort: number;
  readonly healthPort: number;
  readonly metrics: Metrics;
  readonly logger: Logger;
  stop(): Promise<void>;
}

export interface GatewayDeps {
  /** Defaults to a pino logger at LOG_LEVEL on stdout. */
  readonly logger?: Logger;
}

const HEALTH_CHECK_TIMEOUT_MS = 1_000;

export async function startGateway(config: GatewayConfig, deps: GatewayDeps = {}): Promise<GatewayHandle> {
  const logger = deps.logger ?? createLogger({ service: SERVICE_NAME, level: config.LOG_LEVEL });
  const metrics = new Metrics();
  const httpDuration = metrics.latencyHistogram(
    'http_request_duration_seconds', 'Time to answer an HTTP request, by method, route template and status code.',
    ['method', 'route', 'status_code'],
  );
  const rateLimitDecisions = new Counter({
    name: 'rate_limit_decisions_total',
    help: 'Rate-limit decisions by policy, result (allowed or limited) and backend (redis or local fallback).',
    labelNames: ['policy', 'result', 'backend'],
    registers: [metrics.registry],
  });
  const fallbackActive = new Gauge({
    name: 'rate_limit_fallback_active',
    help: '1 while rate limits are counted in process memory because Redis is unavailable.',
    registers: [metrics.registry],
  });
  const fallbackSwitches = new Counter({
    name: 'rate_limit_backend_switches_total',
    help: 'Switches of the rate-limit backend, by the backend switched to.',
    labelNames: ['backend'],
    registers: [metrics.registry],
  });
  const jwksFetches = new Counter({
    name: 'jwks_fetches_total',
    help: 'GetJwks calls to auth-service by reason (expired or unknown-kid) and outcome.',
    labelNames: ['reason', 'outcome'],
    registers: [metrics.registry],
  });

  const tls = { certFile: config.TLS_CERT_FILE, keyFile: config.TLS_KEY_FILE, caFile: config.TLS_CA_FILE };
  // Pinning each callee's CN: a valid certificate of another workload cannot stand in for it.
  const authCreds = await createClientCredentials(tls, 'auth-service');
  const userCreds = await createClientCredentials(tls, 'user-service');
  const orderCreds = await createClientCredentials(tls, 'order-service');
  const paymentCreds = await createClientCredentials(tls, 'payment-service');
  const allCreds = [authCreds, userCreds, orderCreds, paymentCreds];
  const auth = createClient(AuthServiceClient, config.AUTH_SERVICE_ADDR, authCreds.credentials);
  const users = createClient(UserServiceClient, config.USER_SERVICE_ADDR, userCreds.credentials);
  const orders = createClient(OrderServiceClient, config.ORDER_SERVICE_ADDR, orderCreds.credentials);
  const payments = createClient(PaymentServiceClient, config.PAYMENT_SERVICE_ADDR, paymentCreds.credentials);
  const authHealth = createHealthChecker(config.AUTH_SERVICE_ADDR, authCreds.credentials, clientChannelOptions());

  const redis = createRedis(config, { logger, keyPrefix: `${SERVICE_NAME}:`, commandTimeoutMs: config.RATE_LIMIT_REDIS_TIMEOUT_MS });

  const jwks = new JwksCache({
    refetchCooldownMs: config.JWKS_REFETCH_COOLDOWN_SECONDS * 1000,
    fetch: async (deadline): Promise<JwksDocument> => {
      const res = await unary(auth, 'getJwks', {}, { deadline, requestId: 'jwks-refresh' });
      let parsed: unknown;
      try {
        parsed = JSON.parse(res.jwksJson);
      } catch {
        throw new ProblemError(problem(502, 'auth-service returned a malformed key set'));
      }
      return { jwks: parsed as JwksDocument['jwks'], maxAgeSeconds: res.maxAgeSeconds };
    },
    onFetch: (outcome, reason) => jwksFetches.inc({ reason, outcome }),
    onStale: (err) => logger.warn({ err }, 'JWKS refetch failed; verifying with the cached key set'),
  });
  const verifier = new JwtVerifier({
    jwks, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, clockToleranceSeconds: config.JWT_CLOCK_TOLERANCE_SECONDS,
    onCacheLookup: (result) => metrics.cacheResult('jwt', result),
  });
  const decisions = new DecisionCache({
    maxEntries: config.AUTHZ_CACHE_MAX_ENTRIES,
    maxTtlSeconds: config.AUTHZ_CACHE_MAX_TTL_SECONDS,
    onLookup: (result) => metrics.cacheResult('authz', result),
    call: async (q, { deadline, requestId }) => {
      const res = await unary(auth, 'authorize', { subject: q.subject, action: q.action, resource: q.resource, tokenId: q.tokenId }, { deadline, requestId, subject: q.subject });
      return { allowed: res.allowed, reason: res.reason, roles: res.roles, ttlSeconds: res.ttlSeconds };
    },
  });
  const limiter = new RateLimiter({
    redis,
    keyPrefix: 'rl:',
    redisTimeoutMs: config.RATE_LIMIT_REDIS_TIMEOUT_MS,
    onDecision: (d) => rateLimitDecisions.inc({ policy: d.policy.name, result: d.allowed ? 'allowed' : 'limited', backend: d.backend }),
    onBackendChange: (backend, err) => {
      fallbackActive.set(backend === 'local' ? 1 : 0);
      fallbackSwitches.inc({ backend });
      if (backend === 'local') logger.error({ err }, 'Redis unavailable: rate limits counted in process memory (per replica) until it recovers');
      else logger.info('Redis recovered: rate limits counted in Redis again');
    },
  });
  const policies: { anonymous: RateLimitPolicy; authenticated: RateLimitPolicy } = {
    anonymous: { name: 'anonymous', limit: config.RATE_LIMIT_ANONYMOUS, windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS },
    authenticated: { name: 'authenticated', limit: config.RATE_LIMIT_AUTHENTICATED, windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS },
  };
  const openApi = renderOpenApiDocument(ROUTES);
  const httpsFiles = { certFile: config.TLS_CERT_FILE, keyFile: config.TLS_KEY_FILE };
  metrics.watchCertificateExpiry(config.TLS_CERT_FILE);

  const app = buildApp({
    logger, backends: { auth, users, orders, payments }, verifier, jwks, decisions, limiter, policies,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    bodyTimeoutMs: config.BODY_TIMEOUT_MS,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    trustedProxyCidrs: config.TRUSTED_PROXY_CIDRS,
    httpDuration,
    openApiDocument: () => openApi,
    ...(config.HTTP_TLS ? { https: readKeyPair(httpsFiles) } : {}),
  });
  const stopCertificateReload = config.HTTP_TLS
    ? reloadCertificateOnChange(app.server, httpsFiles, logger, config.HTTP_TLS_RELOAD_INTERVAL_MS)
    : () => undefined;

  const health = await startHealthServer({ port: config.HEALTH_PORT, registry: metrics.registry, logger });
  // Ready = auth-service answers (every authenticated request needs it). Redis is not a
  // readiness dependency: without it the local limiter keeps limits in force.
  health.addReadinessCheck('auth-service', async () => {
    const status = await authHealth.check(new Date(Date.now() + HEALTH_CHECK_TIMEOUT_MS)).catch((err: { details?: string; message?: string }) => {
      throw new Error(`auth-service health check failed: ${err.details || err.message}`);
    });
    if (status !== 'SERVING') throw new Error(`auth-service is ${status}`);
  });

  try {
    await app.listen({ port: config.HTTP_PORT, host: config.HTTP_HOST });
  } catch (err) {
    stopCertificateReload();
    await health.close();
    redis.disconnect();
    for (const c of [auth, users, orders, payments, authHealth]) c.close();
    for (const c of allCreds) c.certificates.close();
    throw err;
  }
  const address = app.server.address();
  const httpPort = typeof address === 'object' && address ? address.port : config.HTTP_PORT;
  logger.info({ httpPort, healthPort: health.port }, 'api-gateway listening');

  let stopping: Promise<void> | undefined;
  return {
    httpPort,
    healthPort: health.port,
    metrics,
    logger,
    stop() {
      stopping ??= (async () => {
        health.setDraining();
        stopCertificateReload();
        // Waits for in-flight requests; new ones on kept-alive connections get 503.
        await app.close();
        for (const c of [auth, users, orders, payments, authHealth]) c.close();
        for (const c of allCreds) c.certificates.close();
        await redis.quit().catch(() => redis.disconnect());
        await health.close();
      })();
      return stopping;
    },
  };
}
