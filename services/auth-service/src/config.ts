/**
 * auth-service configuration (services/README.md "Environment contract"), validated at start.
 */
import { z } from 'zod';
import {
  commonEnv,
  databaseEnv,
  fileVar,
  grpcServerEnv,
  grpcTargetVar,
  jwtEnv,
  loadConfig,
  positiveIntVar,
  redisEnv,
} from '../../shared/src';

export const SERVICE_NAME = 'auth-service';
/** Only the gateway calls auth-service (auth.proto). */
export const DEFAULT_ALLOWED_PEERS = ['api-gateway'] as const;

export const authConfigSchema = z.object({
  ...commonEnv(SERVICE_NAME),
  ...grpcServerEnv(SERVICE_NAME, DEFAULT_ALLOWED_PEERS),
  ...databaseEnv,
  ...redisEnv,
  ...jwtEnv,
  USER_SERVICE_ADDR: grpcTargetVar(),
  AUTH_KEY_ENCRYPTION_KEY_FILE: fileVar(),
  // choice: short-lived access tokens (10 min) bound how long a stolen token is useful.
  ACCESS_TOKEN_TTL_SECONDS: positiveIntVar(600),
  // choice: 30 days, sliding with each rotation.
  REFRESH_TOKEN_TTL_SECONDS: positiveIntVar(30 * 86_400),
  // choice: verifiers cache the JWKS 5 minutes; a new key waits that long before it signs.
  JWKS_MAX_AGE_SECONDS: positiveIntVar(300),
  // How often recovery looks for email changes a failure or a crash left half done, and how long
  // one must have been unchanged (longer than a request takes) before recovery finishes it.
  EMAIL_CHANGE_RECOVERY_INTERVAL_MS: positiveIntVar(10_000),
  EMAIL_CHANGE_RECOVERY_AFTER_MS: positiveIntVar(30_000),
}).superRefine((cfg, ctx) => {
  if (cfg.ACCESS_TOKEN_TTL_SECONDS >= cfg.REFRESH_TOKEN_TTL_SECONDS) {
    ctx.addIssue({ code: 'custom', path: ['ACCESS_TOKEN_TTL_SECONDS'], input: String(cfg.ACCESS_TOKEN_TTL_SECONDS), message: 'must be shorter than REFRESH_TOKEN_TTL_SECONDS' });
  }
});

export type AuthConfig = z.infer<typeof authConfigSchema>;

export function loadAuthConfig(env: Readonly<Record<string, string | undefined>> = process.env): AuthConfig {
  return loadConfig(authConfigSchema, env);
}
