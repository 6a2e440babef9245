/**
 * The payments table and the payment state machine (pending -> authorized -> captured,
 * pending/authorized -> failed, captured -> refunded). Every state change and its event are
 * written in one transaction (the outbox), so no event is lost and none is sent for a change
 * that did not happen.
 *
 * Idempotency: a request claims its (user, Idempotency-Key) row with an INSERT that the unique
 * constraint arbitrates; whoever then holds the row lock drives the provider, and everybody
 * else waits for it and returns what it stored. Provider calls for one order are serialised by
 * a transaction-scoped advisory lock, so two different keys cannot both charge the same order.
 */
import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { PAYMENT_EVENTS_TOPIC, assertValidEvent, formatAmount, newEvent, parseAmount } from '../../events';
import type { EventEnvelope, PaymentEventType } from '../../events';
import { ServiceError, Status, isUniqueViolation } from '../../shared/src';
import type { Logger } from '../../shared/src';
import { ProviderUnavailableError } from './provider';
import type { PaymentProvider, ProviderOutcome } from './provider';

export const PAYMENT_STATUSES = ['pending', 'authorized', 'captured', 'failed', 'refunded'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];
/** States a repeated request may still move forward (a crash or a provider outage stopped it). */
const UNFINISHED: ReadonlySet<PaymentStatus> = new Set(['pending', 'authorized']);

export interface PaymentRow {
  readonly id: string;
  readonly orderId: string;
  readonly userId: string;
  /** Canonical decimal string of the currency ("19.90", "300"). */
  readonly amount: string;
  readonly currency: string;
  readonly status: PaymentStatus;
  readonly provider: string;
  readonly providerReference: string | undefined;
  readonly refundReference: string | undefined;
  readonly failureReason: string | undefined;
  readonly idempotencyKey: string;
  readonly requestFingerprint: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A validated CreatePayment request (amount already canonical, checked against the order). */
export interface CreateInput {
  readonly userId: string;
  readonly orderId: string;
  readonly amount: string;
  readonly currency: string;
  readonly paymentMethod: string;
  readonly idempotencyKey: string;
}

/** Writes an event into the outbox inside the caller's transaction. */
export type EventWriter = (client: PoolClient, event: EventEnvelope<PaymentEventType>) => Promise<void>;

const COLUMNS = `id, order_id, user_id, amount::text AS amount, currency, status, provider, provider_reference, refund_reference,
  failure_reason, idempotency_key, request_fingerprint, created_at, updated_at`;

interface DbRow {
  id: string; order_id: string; user_id: string; amount: string; currency: string; status: PaymentStatus; provider: string;
  provider_reference: string | null; refund_reference: string | null; failure_reason: string | null;
  idempotency_key: string; request_fingerprint: string; created_at: Date; updated_at: Date;
}

function toRow(r: DbRow): PaymentRow {
  // NUMERIC(12,2) prints "300.00" for JPY: back to the currency's canonical form.
  const amount = formatAmount(parseAmount(r.amount.replace(/\.0+$/, ''), r.currency), r.currency);
  return {
    id: r.id, orderId: r.order_id, userId: r.user_id, amount, currency: r.currency, status: r.status, provider: r.provider,
    providerReference: r.provider_reference ?? undefined, refundReference: r.refund_reference ?? undefined,
    failureReason: r.failure_reason ?? undefined, idempotencyKey: r.idempotency_key, requestFingerprint: r.request_fingerprint,
    createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

/** What makes two requests "the same": everything the client chose except the key itself. */
export function requestFingerprint(input: Omit<CreateInput, 'idempotencyKey' | 'userId'>): string {
  const canonical = JSON.stringify([input.orderId, input.amount, input.currency, input.paymentMethod]);
  return createHash('sha256').update(canonical).digest('hex');
}

export function keyReused(): ServiceError {
  return new ServiceError(Status.ALREADY_EXISTS, 'idempotency_key: already used for a different request (order, amount, currency or payment method differ)');
}

export function orderAlreadyPaid(orderId: string): ServiceError {
  return new ServiceError(Status.FAILED_PRECONDITION, `order_id: order ${orderId} already has a successful payment`);
}

/** A 64-bit advisory lock key for an order (first 8 bytes of its UUID's hash). */
function orderLockKey(orderId: string): string {
  return createHash('sha256').update(`payment-order:${orderId}`).digest().readBigInt64BE(0).toString();
}

export interface PaymentServiceDeps {
  readonly pool: Pool;
  readonly provider: PaymentProvider;
  readonly writeEvent: EventWriter;
  readonly logger: Logger;
}

export class Payments {
  constructor(private readonly deps: PaymentServiceDeps) {}

  async get(id: string): Promise<PaymentRow | undefined> {
    const { rows } = await this.deps.pool.query<DbRow>(`SELECT ${COLUMNS} FROM payments WHERE id = $1`, [id]);
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  async findByKey(userId: string, idempotencyKey: string): Promise<PaymentRow | undefined> {
    const { rows } = await this.deps.pool.query<DbRow>(`SELECT ${COLUMNS} FROM payments WHERE user_id = $1 AND idempotency_key = $2`, [userId, idempotencyKey]);
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  /**
   * Creates (or replays) the payment of `input` and drives it as far as the provider allows.
   * Returns the stored payment; throws ALREADY_EXISTS for a reused key with another body,
   * FAILED_PRECONDITION when the order already has a successful payment, UNAVAILABLE when the
   * provider's answer is unknown (retry with the same key).
   */
  async create(input: CreateInput): Promise<PaymentRow> {
    const fingerprint = requestFingerprint(input);
    const client = await this.deps.pool.connect();
    let broken: unknown;
    try {
      // The unique constraint decides who created the row; a concurrent INSERT waits for the
      // first one's commit and then does nothing.
      await client.query(
        `INSERT INTO payments (order_id, user_id, amount, currency, provider, idempotency_key, request_fingerprint)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT ON CONSTRAINT payments_idempotency_key_key DO NOTHING`,
        [input.orderId, input.userId, input.amount, input.currency, this.deps.provider.name, input.idempotencyKey, fingerprint],
      );
      return await this.drive(client, input, fingerprint);
    } catch (err) {
      broken = err;
      throw err;
    } finally {
      // A connection whose transaction failed half-way is not reused.
      client.release(broken instanceof ServiceError ? undefined : (broken as Error | undefined));
    }
  }

  private async drive(client: PoolClient, input: CreateInput, fingerprint: string): Promise<PaymentRow> {
    await client.query('BEGIN');
    let committed = false;
    try {
      // Lock order everywhere: the order's advisory lock, then the payment row.
      await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [orderLockKey(input.orderId)]);
      const { rows } = await client.query<DbRow>(`SELECT ${COLUMNS} FROM payments WHERE user_id = $1 AND idempotency_key = $2 FOR UPDATE`, [input.userId, input.idempotencyKey]);
      if (!rows[0]) throw new Error('payment row vanished after its INSERT');
      let payment = toRow(rows[0]);
      if (payment.requestFingerprint !== fingerprint) throw keyReused();
      if (!UNFINISHED.has(payment.status)) {
        await client.query('COMMIT');
        committed = true;
        return payment;
      }
      if (payment.status === 'pending') {
        const paid = await client.query('SELECT 1 FROM payments WHERE order_id = $1 AND id <> $2 AND status IN (\'authorized\', \'captured\')', [payment.orderId, payment.id]);
        if (paid.rowCount) {
          // Nothing was charged for this key: forget it, so a repeat gets the same refusal.
          await client.query('DELETE FROM payments WHERE id = $1', [payment.id]);
          await client.query('COMMIT');
          committed = true;
          throw orderAlreadyPaid(payment.orderId);
        }
      }
      const amountMinor = parseAmount(payment.amount, payment.currency);
      try {
        if (payment.status === 'pending') {
          const outcome = await this.deps.provider.authorize({
            paymentId: payment.id, orderId: payment.orderId, amountMinor, currency: payment.currency,
            paymentMethod: input.paymentMethod, idempotencyKey: `payment-${payment.id}-authorize`,
          });
          payment = await this.apply(client, payment, outcome);
        }
        if (payment.status === 'authorized') {
          const outcome = await this.deps.provider.capture(payment.providerReference!, amountMinor, `payment-${payment.id}-capture`);
          payment = await this.apply(client, payment, outcome);
        }
      } catch (err) {
        if (!(err instanceof ProviderUnavailableError)) throw err;
        // Keep what is known (an authorisation stays recorded); a retry continues from there.
        await client.query('COMMIT');
        committed = true;
        this.deps.logger.warn({ err, paymentId: payment.id, status: payment.status }, 'payment provider unavailable');
        throw new ServiceError(Status.UNAVAILABLE, `the payment provider is unavailable; payment ${payment.id} is ${payment.status}: retry with the same Idempotency-Key`);
      }
      await client.query('COMMIT');
      committed = true;
      return payment;
    } catch (err) {
      if (!committed) await client.query('ROLLBACK').catch(() => undefined);
      if (isUniqueViolation(err, 'payments_one_success_per_order')) throw orderAlreadyPaid(input.orderId);
      throw err;
    }
  }

  /** Records a provider outcome and its event, in the caller's transaction. */
  private async apply(client: PoolClient, payment: PaymentRow, outcome: ProviderOutcome): Promise<PaymentRow> {
    const status: PaymentStatus = outcome.kind === 'declined' ? 'failed' : outcome.kind;
    const reference = outcome.reference ?? payment.providerReference ?? null;
    const reason = outcome.kind === 'declined' ? outcome.reason : null;
    const { rows } = await client.query<DbRow>(
      `UPDATE payments SET status = $2, provider_reference = $3, failure_reason = $4, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
      [payment.id, status, reference, reason],
    );
    const updated = toRow(rows[0]!);
    await this.emit(client, updated);
    this.deps.logger.info({ paymentId: updated.id, orderId: updated.orderId, status, reason }, 'payment state changed');
    return updated;
  }

  /**
   * Refunds a captured payment in full. Refunded stays refunded (a repeat returns it); other
   * states are FAILED_PRECONDITION.
   */
  async refund(id: string): Promise<PaymentRow | undefined> {
    const client = await this.deps.pool.connect();
    let broken: unknown;
    try {
      await client.query('BEGIN');
      let committed = false;
      try {
        const { rows } = await client.query<DbRow>(`SELECT ${COLUMNS} FROM payments WHERE id = $1 FOR UPDATE`, [id]);
        if (!rows[0]) {
          await client.query('COMMIT');
          committed = true;
          return undefined;
        }
        const payment = toRow(rows[0]);
        if (payment.status !== 'captured') {
          await client.query('COMMIT');
          committed = true;
          if (payment.status === 'refunded') return payment;
          throw new ServiceError(Status.FAILED_PRECONDITION, `id: payment ${id} is ${payment.status}; only captured payments can be refunded`);
        }
        let outcome;
        try {
          outcome = await this.deps.provider.refund(payment.providerReference!, parseAmount(payment.amount, payment.currency), `payment-${payment.id}-refund`);
        } catch (err) {
          if (!(err instanceof ProviderUnavailableError)) throw err;
          this.deps.logger.warn({ err, paymentId: id }, 'payment provider unavailable for a refund');
          throw new ServiceError(Status.UNAVAILABLE, `the payment provider is unavailable; payment ${id} is still captured: retry the refund`);
        }
        if (outcome.kind === 'declined') throw new ServiceError(Status.FAILED_PRECONDITION, `id: the provider refused the refund of payment ${id}: ${outcome.reason}`);
        const updated = await client.query<DbRow>(
          `UPDATE payments SET status = 'refunded', refund_reference = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
          [id, outcome.reference],
        );
        const refunded = toRow(updated.rows[0]!);
        await this.emit(client, refunded);
        await client.query('COMMIT');
        committed = true;
        this.deps.logger.info({ paymentId: id, orderId: refunded.orderId }, 'payment refunded');
        return refunded;
      } finally {
        if (!committed) await client.query('ROLLBACK').catch(() => undefined);
      }
    } catch (err) {
      broken = err;
      throw err;
    } finally {
      client.release(broken instanceof ServiceError ? undefined : (broken as Error | undefined));
    }
  }

  private async emit(client: PoolClient, payment: PaymentRow): Promise<void> {
    const type = `payment.${payment.status}` as PaymentEventType;
    const base = {
      paymentId: payment.id,
      userId: payment.userId,
      amount: { amount: payment.amount, currency: payment.currency },
      provider: payment.provider,
      ...(payment.providerReference ? { providerReference: payment.providerReference } : {}),
    };
    const payload = payment.status === 'failed' ? { ...base, failureReason: payment.failureReason! } : base;
    const event = newEvent(type, payment.orderId, payload, payment.updatedAt);
    // A schema violation is our bug: fail the transaction rather than publish a bad event.
    assertValidEvent(PAYMENT_EVENTS_TOPIC, event);
    await this.deps.writeEvent(client, event);
  }
}
