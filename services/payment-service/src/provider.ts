/**
 * Payment providers behind one small interface, and the production one: Stripe through its
 * official SDK. A payment is authorised (PaymentIntent created and confirmed with manual
 * capture), then captured; refunds are full. Every call carries a Stripe idempotency key derived
 * from our payment id, so a retried call (after a crash or a lost answer) never charges twice.
 */
import { readFile } from 'node:fs/promises';
import Stripe from 'stripe';

/** What the provider said about an authorisation or capture. */
export type ProviderOutcome =
  | { readonly kind: 'authorized'; readonly reference: string }
  | { readonly kind: 'captured'; readonly reference: string }
  /** A definitive refusal (declined card, invalid request): the payment fails with the reason. */
  | { readonly kind: 'declined'; readonly reference?: string; readonly reason: string };

export type RefundOutcome =
  | { readonly kind: 'refunded'; readonly reference: string }
  | { readonly kind: 'declined'; readonly reason: string };

export interface AuthorizeRequest {
  readonly paymentId: string;
  readonly orderId: string;
  /** Integer minor units of `currency`. */
  readonly amountMinor: bigint;
  /** ISO 4217, upper case. */
  readonly currency: string;
  /** The provider's payment method token from the client. */
  readonly paymentMethod: string;
  /** Stable for this payment: the provider de-duplicates retries by it. */
  readonly idempotencyKey: string;
}

export interface PaymentProvider {
  /** Stored with each payment, e.g. `stripe`. */
  readonly name: string;
  authorize(request: AuthorizeRequest): Promise<ProviderOutcome>;
  capture(reference: string, amountMinor: bigint, idempotencyKey: string): Promise<ProviderOutcome>;
  refund(reference: string, amountMinor: bigint, idempotencyKey: string): Promise<RefundOutcome>;
}

/**
 * The provider could not be reached or answered with a transient error (network, 5xx, rate
 * limit, our credentials): the outcome is unknown, so the payment stays as it is and the client
 * retries with the same Idempotency-Key.
 */
export class ProviderUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProviderUnavailableError';
  }
}

export const DEFAULT_STRIPE_API_BASE = 'https://api.stripe.com';

export interface StripeProviderOptions {
  /** `STRIPE_API_BASE`: Stripe's API, or stripe-mock in tests. */
  readonly apiBase: string;
  /** `STRIPE_SECRET_KEY_FILE`: re-read on every call, so a rotated key is used without a restart. */
  readonly secretKeyFile: string;
  /** Per request; below the gRPC deadline of the caller. Default 8 s. */
  readonly timeoutMs?: number;
  /** The SDK's own retries of network errors (it reuses the idempotency key). Default 1. */
  readonly maxNetworkRetries?: number;
}

// Error types that mean "the provider decided": the payment fails with the reason. Everything
// else (connection, API, rate limit, authentication, permission) leaves the outcome unknown.
const DEFINITIVE_ERRORS = new Set(['StripeCardError', 'StripeInvalidRequestError', 'StripeIdempotencyError']);

function errorReason(err: { message?: string; code?: string; decline_code?: string }): string {
  const code = [err.code, err.decline_code].filter(Boolean).join('/');
  return `${code ? `${code}: ` : ''}${err.message ?? 'refused by the provider'}`.slice(0, 500);
}

function toNumber(minor: bigint): number {
  // NUMERIC(12,2) amounts stay far below 2^53; the check keeps that true if the column grows.
  if (minor > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('amount too large for the provider');
  return Number(minor);
}

export class StripeProvider implements PaymentProvider {
  readonly name = 'stripe';
  private readonly host: string;
  private readonly port: number | undefined;
  private readonly protocol: 'http' | 'https';
  private client: { key: string; stripe: Stripe } | undefined;

  constructor(private readonly options: StripeProviderOptions) {
    const url = new URL(options.apiBase);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`STRIPE_API_BASE must be an http(s) URL, got ${options.apiBase}`);
    this.protocol = url.protocol === 'https:' ? 'https' : 'http';
    this.host = url.hostname;
    this.port = url.port ? Number(url.port) : undefined;
  }

  private async stripe(): Promise<Stripe> {
    const key = (await readFile(this.options.secretKeyFile, 'utf8')).trim();
    if (!this.client || this.client.key !== key) {
      this.client = {
        key,
        stripe: new Stripe(key, {
          host: this.host,
          ...(this.port ? { port: this.port } : {}),
          protocol: this.protocol,
          timeout: this.options.timeoutMs ?? 8_000,
          maxNetworkRetries: this.options.maxNetworkRetries ?? 1,
          telemetry: false,
          appInfo: { name: 'platform-payment-service' },
        }),
      };
    }
    return this.client.stripe;
  }

  /** Runs a Stripe call, turning transient failures into ProviderUnavailableError. */
  private async call<T>(what: string, fn: (stripe: Stripe) => Promise<T>): Promise<T | { declined: string }> {
    const stripe = await this.stripe();
    try {
      return await fn(stripe);
    } catch (err) {
      const e = err as { type?: string; message?: string; code?: string; decline_code?: string };
      if (e.type && DEFINITIVE_ERRORS.has(e.type)) return { declined: errorReason(e) };
      throw new ProviderUnavailableError(`stripe ${what} failed: ${e.type ?? 'error'}: ${e.message ?? String(err)}`, { cause: err });
    }
  }

  async authorize(request: AuthorizeRequest): Promise<ProviderOutcome> {
    const result = await this.call('authorize', (stripe) => stripe.paymentIntents.create({
      amount: toNumber(request.amountMinor),
      currency: request.currency.toLowerCase(),
      payment_method: request.paymentMethod,
      // Server-side confirmation: no redirect-based methods, there is no browser to return to.
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      confirm: true,
      // Authorise now, capture in a second call: the states pending -> authorized -> captured.
      capture_method: 'manual',
      metadata: { payment_id: request.paymentId, order_id: request.orderId },
    }, { idempotencyKey: request.idempotencyKey }));
    if ('declined' in result) return { kind: 'declined', reason: result.declined };
    switch (result.status) {
      case 'requires_capture':
        return { kind: 'authorized', reference: result.id };
      case 'succeeded':
        return { kind: 'captured', reference: result.id };
      default: {
        // requires_action (3-D Secure needs the customer), requires_payment_method (declined),
        // canceled, processing: not a usable authorisation for a server-side payment.
        const last = result.last_payment_error;
        const detail = last ? `: ${errorReason({ message: last.message, code: last.code ?? last.type, decline_code: last.decline_code })}` : '';
        return { kind: 'declined', reference: result.id, reason: `payment intent is ${result.status}${detail}`.slice(0, 500) };
      }
    }
  }

  async capture(reference: string, amountMinor: bigint, idempotencyKey: string): Promise<ProviderOutcome> {
    const result = await this.call('capture', (stripe) => stripe.paymentIntents.capture(reference, { amount_to_capture: toNumber(amountMinor) }, { idempotencyKey }));
    if ('declined' in result) return { kind: 'declined', reference, reason: result.declined };
    // Stripe answers a capture it cannot perform with an error (above); a 2xx is a capture.
    return { kind: 'captured', reference: result.id };
  }

  async refund(reference: string, amountMinor: bigint, idempotencyKey: string): Promise<RefundOutcome> {
    const result = await this.call('refund', (stripe) => stripe.refunds.create({ payment_intent: reference, amount: toNumber(amountMinor) }, { idempotencyKey }));
    if ('declined' in result) return { kind: 'declined', reason: result.declined };
    // pending and requires_action complete later at Stripe; failed and canceled do not.
    if (result.status === 'failed' || result.status === 'canceled') {
      return { kind: 'declined', reason: `refund is ${result.status}${result.failure_reason ? `: ${result.failure_reason}` : ''}` };
    }
    return { kind: 'refunded', reference: result.id };
  }
}
