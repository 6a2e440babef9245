/**
 * Configuration from the environment (services/README.md "Environment contract"): every
 * variable is validated at start, and a missing or malformed one stops the process with one
 * line naming it.
 */
import { accessSync, constants as fsConstants } from 'node:fs';
import { z } from 'zod';
import { loadPlatformSpec } from '../../../lib/spec';
import type { ServiceSpec } from '../../../lib/spec';

export class ConfigError extends Error {
  constructor(readonly variable: string, readonly problem: string) {
    super(`invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

/** The spec's row for a service (ports, health port); throws if the name is unknown. */
export function serviceSpec(name: string): ServiceSpec {
  const svc = loadPlatformSpec().services.find((s) => s.name === name);
  if (!svc) throw new Error(`unknown service ${JSON.stringify(name)}: not in lib/spec services`);
  return svc;
}

// Empty strings count as unset: Kubernetes renders `value: ""` for absent optional values.
const unsetIfEmpty = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const required = (message = 'is required') => z.string({ error: (iss) => (iss.input === undefined ? message : 'must be a string') });

export const portVar = (fallback?: number) => {
  const schema = z.preprocess(
    unsetIfEmpty,
    z.coerce.number({ error: 'must be a port number' }).int('must be an integer port number').min(1, 'must be a port 1..65535').max(65535, 'must be a port 1..65535'),
  );
  return fallback === undefined ? schema : z.preprocess(unsetIfEmpty, schema.optional().default(fallback));
};

export const positiveIntVar = (fallback: number) =>
  z.preprocess(unsetIfEmpty, z.coerce.number({ error: 'must be a number' }).int('must be an integer').positive('must be > 0').optional().default(fallback));

export const nonNegativeIntVar = (fallback: number) =>
  z.preprocess(unsetIfEmpty, z.coerce.number({ error: 'must be a number' }).int('must be an integer').nonnegative('must be >= 0').optional().default(fallback));

export const stringVar = () => z.preprocess(unsetIfEmpty, required().min(1));

export const hostVar = () =>
  z.preprocess(unsetIfEmpty, required().regex(/^[A-Za-z0-9.-]+$|^\[[0-9a-fA-F:]+\]$/, 'must be a host name or IP address'));

/** A path to a readable file (a mounted secret or certificate); checked at start so a typo fails fast. */
export const fileVar = () =>
  z.preprocess(
    unsetIfEmpty,
    required().refine((path) => {
      try {
        accessSync(path, fsConstants.R_OK);
        return true;
      } catch {
        return false;
      }
    }, { error: (iss) => `names a file that does not exist or is not readable (${String(iss.input)})` }),
  );

export const booleanVar = (fallback: boolean) =>
  z.preprocess(unsetIfEmpty, z.enum(['true', 'false'], { error: 'must be "true" or "false"' }).optional().default(fallback ? 'true' : 'false')).transform((v) => v === 'true');

/** Comma-separated identities (certificate CNs). */
export const identityListVar = (fallback?: readonly string[]) =>
  z.preprocess(
    unsetIfEmpty,
    (fallback ? z.string().optional().default(fallback.join(',')) : required())
      .transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0))
      .pipe(z.array(z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'must list service names (lower-case, digits, dashes)')).min(1, 'must name at least one identity')),
  );

/** A gRPC target: `host:port` or `dns:///host:port`. */
export const grpcTargetVar = () =>
  z.preprocess(unsetIfEmpty, required().regex(/^(dns:\/\/\/)?[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port or dns:///host:port'));

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Every process: logging, health port (default the spec's healthPort), endpoint drain and drain time. */
export function commonEnv(service: string) {
  const svc = serviceSpec(service);
  return {
    LOG_LEVEL: z.preprocess(unsetIfEmpty, z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).optional().default('info')),
    HEALTH_PORT: portVar(svc.healthPort),
    // 0 outside a cluster: nothing routes by endpoints there.
    ENDPOINT_DRAIN_MS: nonNegativeIntVar(0),
    SHUTDOWN_GRACE_MS: positiveIntVar(20000),
  };
}

/** This workload's mTLS certificate, key and CA bundle. */
export const tlsEnv = {
  TLS_CERT_FILE: fileVar(),
  TLS_KEY_FILE: fileVar(),
  TLS_CA_FILE: fileVar(),
};

/** A gRPC server: port (default the spec's port) and the callers allowed by CN. */
export function grpcServerEnv(service: string, defaultAllowedPeers?: readonly string[]) {
  return {
    GRPC_PORT: portVar(serviceSpec(service).port),
    GRPC_ALLOWED_PEERS: identityListVar(defaultAllowedPeers),
    ...tlsEnv,
  };
}

export const databaseEnv = {
  DATABASE_HOST: hostVar(),
  DATABASE_PORT: portVar(loadPlatformSpec().dataTier.pgbouncer.port),
  DATABASE_NAME: stringVar(),
  DATABASE_USER: stringVar(),
  DATABASE_PASSWORD_FILE: fileVar(),
  DATABASE_CA_FILE: fileVar(),
};

export const databaseReadEnv = {
  DATABASE_READ_HOST: z.preprocess(unsetIfEmpty, hostVar().optional()),
  DATABASE_READ_PORT: z.preprocess(unsetIfEmpty, portVar().optional()),
};

export const redisEnv = {
  REDIS_HOST: hostVar(),
  REDIS_PORT: portVar(loadPlatformSpec().dataTier.redis.port),
  REDIS_TLS: booleanVar(true),
  REDIS_CA_FILE: z.preprocess(unsetIfEmpty, fileVar().optional()),
  REDIS_USERNAME: z.preprocess(unsetIfEmpty, stringVar().optional()),
  REDIS_PASSWORD_FILE: z.preprocess(unsetIfEmpty, fileVar().optional()),
};

export const kafkaEnv = {
  KAFKA_BROKERS: z.preprocess(
    unsetIfEmpty,
    required()
      .transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0))
      .pipe(z.array(z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must list host:port brokers')).min(1, 'must name at least one broker')),
  ),
  KAFKA_SASL_USERNAME: stringVar(),
  KAFKA_SASL_PASSWORD_FILE: fileVar(),
  // Optional: MSK's broker certificates chain to public roots; tests give the harness CA.
  KAFKA_CA_FILE: z.preprocess(unsetIfEmpty, fileVar().optional()),
};

export const jwtEnv = {
  JWT_ISSUER: stringVar(),
  JWT_AUDIENCE: stringVar(),
};

export type DatabaseConfig = z.infer<z.ZodObject<typeof databaseEnv>> & Partial<z.infer<z.ZodObject<typeof databaseReadEnv>>>;
export type RedisConfig = z.infer<z.ZodObject<typeof redisEnv>>;
export type TlsConfig = z.infer<z.ZodObject<typeof tlsEnv>>;
export type KafkaConfig = z.infer<z.ZodObject<typeof kafkaEnv>>;

/**
 * Parses `env` with `schema`. The first problem becomes a ConfigError naming the variable,
 * so the process can print exactly one line.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: Readonly<Record<string, string | undefined>> = process.env): z.infer<S> {
  const result = schema.safeParse(env, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  // The variable is the top-level key; deeper paths (a list entry) only refine the message.
  const variable = issue.path.length > 0 ? String(issue.path[0]) : '(environment)';
  const raw = issue.path.length > 0 ? env[variable] : undefined;
  // Values are never secrets here (secrets come as *_FILE paths), so showing them helps.
  const shown = raw !== undefined && raw.trim() !== '' && !issue.message.includes(raw) ? ` (got ${JSON.stringify(raw)})` : '';
  const message = `${issue.message}${shown}`;
  throw new ConfigError(variable, message);
}

/** loadConfig for a process entry: on a bad variable print one line to stderr and exit 1. */
export function loadConfigOrExit<S extends z.ZodType>(schema: S, env: Readonly<Record<string, string | undefined>> = process.env): z.infer<S> {
  try {
    return loadConfig(schema, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
