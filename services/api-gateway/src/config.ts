/**
 * api-gateway configuration (services/README.md "Environment contract" plus the gateway's own
 * knobs below, each with a default). Validated at start; a bad value names the variable.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import {
  booleanVar, commonEnv, grpcTargetVar, jwtEnv, loadConfig, portVar, positiveIntVar, redisEnv, serviceSpec, tlsEnv,
} from '../../shared/src/config';

export const SERVICE_NAME = 'api-gateway';

const unsetIfEmpty = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

/** `a.b.c.d/n` or `x::y/n`; a bare address means a single host. */
export function parseCidr(text: string): { address: string; prefix: number } | undefined {
  const [address = '', prefixText, ...rest] = text.split('/');
  if (rest.length > 0) return undefined;
  const family = isIP(address);
  if (family === 0) return undefined;
  const max = family === 4 ? 32 : 128;
  if (prefixText === undefined) return { address, prefix: max };
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  return prefix <= max ? { address, prefix } : undefined;
}

const cidrListVar = () => z.preprocess(
  unsetIfEmpty,
  z.string().optional().default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0))
    .pipe(z.array(z.string().refine((s) => parseCidr(s) !== undefined, { error: (iss) => `must list CIDRs like 10.0.0.0/16 (bad entry ${JSON.stringify(iss.input)})` }))),
);

const nonNegativeIntVar = (fallback: number) =>
  z.preprocess(unsetIfEmpty, z.coerce.number({ error: 'must be a number' }).int('must be an integer').min(0, 'must be >= 0').optional().default(fallback));

export function gatewayEnvSchema() {
  const spec = serviceSpec(SERVICE_NAME);
  return z.object({
    ...commonEnv(SERVICE_NAME),
    HTTP_PORT: portVar(spec.port),
    // Bind address of the public port; all interfaces in a pod, loopback in tests and benches.
    HTTP_HOST: z.preprocess(unsetIfEmpty, z.string().optional().default('0.0.0.0')),
    // HTTPS on the public port with TLS_CERT_FILE/TLS_KEY_FILE: the ALB's target group speaks HTTPS.
    HTTP_TLS: booleanVar(false),
    // How often the HTTPS certificate files are checked for a renewal.
    HTTP_TLS_RELOAD_INTERVAL_MS: positiveIntVar(10_000),
    ...tlsEnv,
    ...redisEnv,
    ...jwtEnv,
    AUTH_SERVICE_ADDR: grpcTargetVar(),
    USER_SERVICE_ADDR: grpcTargetVar(),
    ORDER_SERVICE_ADDR: grpcTargetVar(),
    PAYMENT_SERVICE_ADDR: grpcTargetVar(),
    // The ALB's subnets: X-Forwarded-For is believed only from these peers.
    TRUSTED_PROXY_CIDRS: cidrListVar(),
    // The budget of a request once its body has arrived, also the deadline of every gRPC call made for it.
    REQUEST_TIMEOUT_MS: positiveIntVar(5000),
    // Time a client has to send a whole request, body included, from its start (else 408).
    BODY_TIMEOUT_MS: positiveIntVar(10_000),
    BODY_LIMIT_BYTES: positiveIntVar(16 * 1024),
    RATE_LIMIT_WINDOW_SECONDS: positiveIntVar(60),
    // Per client IP on routes without a token (sign-up, login, refresh, JWKS, OpenAPI).
    RATE_LIMIT_ANONYMOUS: positiveIntVar(60),
    // Per token subject on authenticated routes.
    RATE_LIMIT_AUTHENTICATED: positiveIntVar(600),
    // A Redis answer slower than this counts as Redis being down (local limiter takes over).
    RATE_LIMIT_REDIS_TIMEOUT_MS: positiveIntVar(200),
    JWT_CLOCK_TOLERANCE_SECONDS: nonNegativeIntVar(5),
    JWKS_REFETCH_COOLDOWN_SECONDS: positiveIntVar(30),
    AUTHZ_CACHE_MAX_ENTRIES: positiveIntVar(10_000),
    // Cap on auth-service's decision TTL: how long a revoked role can still be honoured here.
    AUTHZ_CACHE_MAX_TTL_SECONDS: nonNegativeIntVar(30),
  });
}

export type GatewayConfig = z.infer<ReturnType<typeof gatewayEnvSchema>>;

export function loadGatewayConfig(env: Readonly<Record<string, string | undefined>> = process.env): GatewayConfig {
  return loadConfig(gatewayEnvSchema(), env);
}
