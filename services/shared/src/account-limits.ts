/**
 * Field limits of an account, shared by the gateway's request schemas (and so the OpenAPI
 * document), auth-service and user-service, so a client is told the same rule every service
 * enforces.
 */
export const ACCOUNT_LIMITS = {
  /** RFC 5321 path limit. */
  emailMaxLength: 254,
  nameMaxLength: 200,
  /** NIST SP 800-63B asks at least 8; we ask 12, no composition rules. */
  passwordMinLength: 12,
  /** Bounds scrypt's input; long passphrases fit. */
  passwordMaxLength: 128,
} as const;
