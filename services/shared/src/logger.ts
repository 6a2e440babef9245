/**
 * Structured logs (pino). Every line written while a request is handled carries its request
 * id and subject, taken from AsyncLocalStorage so handlers need not pass a logger around.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pino from 'pino';
import type { Logger, DestinationStream, LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

export interface RequestContext {
  readonly requestId: string;
  readonly subject?: string | undefined;
  readonly roles?: readonly string[] | undefined;
}

const requestContext = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` with `ctx` as the current request (logs made inside carry its ids). */
export function runWithRequestContext<T>(ctx: RequestContext, fn: () => T): T {
  return requestContext.run(ctx, fn);
}

export function currentRequestContext(): RequestContext | undefined {
  return requestContext.getStore();
}

export interface LoggerOptions {
  readonly service: string;
  readonly level?: LevelWithSilent | string;
  /** Where lines go; stdout by default (tests pass a stream to read them back). */
  readonly destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin() {
        const ctx = requestContext.getStore();
        if (!ctx) return {};
        return ctx.subject ? { requestId: ctx.requestId, subject: ctx.subject } : { requestId: ctx.requestId };
      },
      // Never log credentials even if a caller passes a whole config or metadata object.
      redact: { paths: ['password', '*.password', 'authorization', '*.authorization', 'headers.authorization'], censor: '[redacted]' },
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}
