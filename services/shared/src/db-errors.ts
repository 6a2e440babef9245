/**
 * PostgreSQL being unreachable (down, restarting, refusing connections) as opposed to a bug:
 * callers get UNAVAILABLE (retryable, 503 at the gateway) instead of INTERNAL.
 */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
// SQLSTATE 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 53300 too_many_connections.
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

// Duck-typed, not `instanceof Error`: socket errors come from Node's own realm (e.g. under jest's vm).
export function isDatabaseUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || SQLSTATES.has(code) || code.startsWith('08'))) return true;
  // pg's own messages for a dropped connection and a pool connect timeout carry no code.
  return typeof message === 'string' && /^Connection terminated|timeout exceeded when trying to connect/.test(message);
}
