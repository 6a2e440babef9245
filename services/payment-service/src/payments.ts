/**
 * The payments table and the payment state machine (pending -> authorized -> captured,
 * pending/authorized -> failed, captured -> refunded). Every state change and its event are
 * written in one transaction (the outbox), so no event is lost and none is sent for a change
 * that did not happen.
 *
 * Orders and payments (services/README.md): before anything is charged, the order is held for
 * the payment at order-service (pending -> paying), so a cancel can no longer win; a refusal
 * there (cancelled, paid, held by another payment) ends the attempt with nothing charged. Each
 * step with the provider (authorise, capture) is its own transaction, committed as soon as the
 * provider answered, so a crash loses at most the step in flight; recovery (recoverUnfinished)
 * or a retry repeats it with the same provider idempotency key, which the provider answers
 * without a second effect. The outcome (payment.captured, payment.failed) is handed to
 * order-service right after its commit and reaches it through Kafka as well.
 *
 * Idempotency: a request claims its (user, Idempotency-Key) row with an INSERT that the unique
 * constraint arbitrates; a step runs holding the order's advisory lock and the payment's row
 * lock, so concurrent requests with one key (or recovery) take turns and each step happens once.
 */
import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { PAYMENT_EVENTS_TOPIC, assertValidEvent, formatAmount, newEvent, parseAmount } from '../../events';
import type { EventEnvelope, PaymentEventType } from '../../events';
import { ServiceError, Status, isUniqueViolation, outboxTransactionEnded } from '../../shared/src';
import type { Logger } from '../../shared/src';
import { ProviderUnavailableError } from './provider';
import type { PaymentProvider, ProviderOutcome } from './provider';

export const PAYMENT_STATUSES = ['pending', 'authorized', 'captured', 'failed', 'refunded'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];
/** States a repeated request or recovery may still move forward (a crash or an outage stopped it). */
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
  /** The provider's payment method token; absent on payments made before it was stored. */
  readonly paymentMethod: string | undefined;
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

/** order-service as payments need it (HoldForPayment, ApplyPaymentEvent). */
export interface OrderGate {
  /**
   * Holds the order for `payment` (idempotent for the payment holding it). Resolves when held;
   * `refused` (with the error the client gets) when the order cannot be paid by it; throws
   * (UNAVAILABLE) when order-service did not answer, so the hold may or may not stand.
   */
  hold(payment: PaymentRow): Promise<{ readonly refused?: ServiceError }>;
  /** Hands a committed event to order-service at once; best effort (Kafka brings it too). */
  handOver(event: EventEnvelope<PaymentEventType>): Promise<void>;
}

const COLUMNS = `id, order_id, user_id, amount::text AS amount, currency, status, provider, provider_reference, refund_reference,
  failure_reason, idempotency_key, request_fingerprint, payment_method, created_at, updated_at`;

interface DbRow {
  id: string; order_id: string; user_id: string; amount: string; currency: string; status: PaymentStatus; provider: string;
  provider_reference: string | null; refund_reference: string | null; failure_reason: string | null;
  idempotency_key: string; request_fingerprint: string; payment_method: string | null; created_at: Date; updated_at: Date;
}

function toRow(r: DbRow): PaymentRow {
  // NUMERIC(12,2) prints "300.00" for JPY: back to the currency's canonical form.
  const amount = formatAmount(parseAmount(r.amount.replace(/\.0+$/, ''), r.currency), r.currency);
  return {
    id: r.id, orderId: r.order_id, userId: r.user_id, amount, currency: r.currency, status: r.status, provider: r.provider,
    providerReference: r.provider_reference ?? undefined, refundReference: r.refund_reference ?? undefined,
    failureReason: r.failure_reason ?? undefined, idempotencyKey: r.idempotency_key, requestFingerprint: r.request_fingerprint,
    paymentMethod: r.payment_method ?? undefined, createdAt: r.created_at, updatedAt: r.updated_at,
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
  readonly orders: OrderGate;
  readonly logger: Logger;
}

/** One step of a payment: the payment after it, or done. */
type StepResult = { readonly done: true; readonly payment: PaymentRow } | { readonly done: false };

export interface RecoveryOptions {
  /** Payments unchanged for this long are taken over (a live request changes them sooner). */
  readonly olderThanMs: number;
  /**
   * A pending payment older than this is not authorised again: the provider keeps idempotency
   * keys for 24 hours, after which a repeat could charge twice. Logged for a person instead.
   */
  readonly idempotencyWindowMs: number;
  readonly limit?: number;
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
   * FAILED_PRECONDITION when the order cannot be paid by it (cancelled, paid, held by another
   * payment), UNAVAILABLE when order-service or the provider did not answer (retry with the same
   * key; recovery finishes it otherwise).
   */
  async create(input: CreateInput): Promise<PaymentRow> {
    const fingerprint = requestFingerprint(input);
    // The unique constraint decides who created the row; a concurrent INSERT waits for the
    // first one's commit and then does nothing (a row stored before payment methods were kept
    // gets the retry's method, which the fingerprint makes the same).
    await this.deps.pool.query(
      `INSERT INTO payments (order_id, user_id, amount, currency, provider, idempotency_key, request_fingerprint, payment_method)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT ON CONSTRAINT payments_idempotency_key_key DO UPDATE
         SET payment_method = EXCLUDED.payment_method
         WHERE payments.payment_method IS NULL AND payments.request_fingerprint = EXCLUDED.request_fingerprint`,
      [input.orderId, input.userId, input.amount, input.currency, this.deps.provider.name, input.idempotencyKey, fingerprint, input.paymentMethod],
    );
    return this.drive(input.orderId, input.userId, input.idempotencyKey, fingerprint);
  }

  /** Runs the payment's steps until it is finished or one of them throws. */
  private async drive(orderId: string, userId: string, key: string, fingerprint: string | undefined): Promise<PaymentRow> {
    for (;;) {
      const result = await this.step(orderId, userId, key, fingerprint);
      if (result.done) return result.payment;
    }
  }

  /**
   * One transaction: lock, read, and at most one provider call with its recorded outcome. Events
   * are handed to order-service after the commit.
   */
  private async step(orderId: string, userId: string, key: string, fingerprint: string | undefined): Promise<StepResult> {
    const client = await this.deps.pool.connect();
    let broken: unknown;
    const committed: EventEnvelope<PaymentEventType>[] = [];
    let result: StepResult;
    try {
      result = await this.inTransaction(client, async (commit) => {
        // Lock order everywhere: the order's advisory lock, then the payment row.
        await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [orderLockKey(orderId)]);
        const { rows } = await client.query<DbRow>(`SELECT ${COLUMNS} FROM payments WHERE user_id = $1 AND idempotency_key = $2 FOR UPDATE`, [userId, key]);
        if (!rows[0]) throw new ServiceError(Status.ABORTED, 'idempotency_key: the payment of this key was just refused; retry to see why');
        let payment = toRow(rows[0]);
        if (fingerprint !== undefined && payment.requestFingerprint !== fingerprint) throw keyReused();
        if (!UNFINISHED.has(payment.status)) {
          await commit();
          return { done: true, payment };
        }
        const amountMinor = parseAmount(payment.amount, payment.currency);
        if (payment.status === 'pending') {
          const paid = await client.query('SELECT 1 FROM payments WHERE order_id = $1 AND id <> $2 AND status IN (\'authorized\', \'captured\')', [payment.orderId, payment.id]);
          if (paid.rowCount) return this.forget(client, commit, payment, orderAlreadyPaid(payment.orderId));
          // Nothing is charged before the order is held for this payment.
          const held = await this.deps.orders.hold(payment);
          if (held.refused) return this.forget(client, commit, payment, held.refused);
          if (!payment.paymentMethod) throw new Error(`payment ${payment.id} has no payment method to authorise with`);
          const outcome = await this.provider(payment, () => this.deps.provider.authorize({
            paymentId: payment.id, orderId: payment.orderId, amountMinor, currency: payment.currency,
            paymentMethod: payment.paymentMethod!, idempotencyKey: `payment-${payment.id}-authorize`,
          }));
          const applied = await this.apply(client, payment, outcome);
          payment = applied.payment;
          committed.push(applied.event);
        } else {
          const outcome = await this.provider(payment, () => this.deps.provider.capture(payment.providerReference!, amountMinor, `payment-${payment.id}-capture`));
          const applied = await this.apply(client, payment, outcome);
          payment = applied.payment;
          committed.push(applied.event);
        }
        await commit();
        return UNFINISHED.has(payment.status) ? { done: false } : { done: true, payment };
      });
    } catch (err) {
      broken = err;
      if (isUniqueViolation(err, 'payments_one_success_per_order')) throw orderAlreadyPaid(orderId);
      throw err;
    } finally {
      // A connection whose transaction failed half-way is not reused.
      client.release(broken === undefined || broken instanceof ServiceError ? undefined : (broken as Error));
    }
    for (const event of committed) {
      if (event.type === 'payment.captured' || event.type === 'payment.failed') await this.deps.orders.handOver(event);
    }
    return result;
  }

  private async inTransaction<T>(client: PoolClient, fn: (commit: () => Promise<void>) => Promise<T>): Promise<T> {
    await client.query('BEGIN');
    let done = false;
    const commit = async () => {
      await this.end(client, 'COMMIT');
      done = true;
    };
    try {
      return await fn(commit);
    } finally {
      if (!done) await this.end(client, 'ROLLBACK').catch(() => undefined);
    }
  }

  /** Ends the transaction; a commit of events wakes the outbox relay. */
  private async end(client: PoolClient, how: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    try {
      await client.query(how);
      outboxTransactionEnded(this.deps.pool, client, how === 'COMMIT');
    } catch (err) {
      outboxTransactionEnded(this.deps.pool, client, false);
      throw err;
    }
  }

  /** Nothing was charged for this payment: forget it, so a repeat of the key meets the same refusal. */
  private async forget(client: PoolClient, commit: () => Promise<void>, payment: PaymentRow, refusal: ServiceError): Promise<never> {
    await client.query('DELETE FROM payments WHERE id = $1', [payment.id]);
    await commit();
    this.deps.logger.info({ paymentId: payment.id, orderId: payment.orderId, reason: refusal.message }, 'payment refused before any charge');
    throw refusal;
  }

  /** A provider call; an unknown outcome leaves the payment as it is (the transaction rolls back). */
  private async provider(payment: PaymentRow, call: () => Promise<ProviderOutcome>): Promise<ProviderOutcome> {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof ProviderUnavailableError)) throw err;
      this.deps.logger.warn({ err, paymentId: payment.id, status: payment.status }, 'payment provider unavailable');
      throw new ServiceError(Status.UNAVAILABLE, `the payment provider is unavailable; payment ${payment.id} is ${payment.status}: retry with the same Idempotency-Key`);
    }
  }

  /** Records a provider outcome and its event, in the caller's transaction. */
  private async apply(client: PoolClient, payment: PaymentRow, outcome: ProviderOutcome): Promise<{ payment: PaymentRow; event: EventEnvelope<PaymentEventType> }> {
    const status: PaymentStatus = outcome.kind === 'declined' ? 'failed' : outcome.kind;
    const reference = outcome.reference ?? payment.providerReference ?? null;
    const reason = outcome.kind === 'declined' ? outcome.reason : null;
    const { rows } = await client.query<DbRow>(
      `UPDATE payments SET status = $2, provider_reference = $3, failure_reason = $4, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
      [payment.id, status, reference, reason],
    );
    const updated = toRow(rows[0]!);
    const event = await this.emit(client, updated);
    this.deps.logger.info({ paymentId: updated.id, orderId: updated.orderId, status, reason }, 'payment state changed');
    return { payment: updated, event };
  }

  /**
   * Finishes payments that a crash or an outage left pending or authorized and nobody retried:
   * the same steps with the same provider idempotency keys, so an authorisation or capture the
   * provider already made is answered again, not made twice. Returns how many were finished.
   */
  async recoverUnfinished(options: RecoveryOptions): Promise<number> {
    const { rows } = await this.deps.pool.query<{ order_id: string; user_id: string; idempotency_key: string; status: PaymentStatus; created_at: Date; id: string }>(
      `SELECT id, order_id, user_id, idempotency_key, status, created_at FROM payments
        WHERE status IN ('pending', 'authorized') AND updated_at < now() - make_interval(secs => $1::double precision / 1000)
        ORDER BY updated_at LIMIT $2`,
      [options.olderThanMs, options.limit ?? 50],
    );
    let finished = 0;
    for (const row of rows) {
      const log = this.deps.logger.child({ paymentId: row.id, orderId: row.order_id, status: row.status });
      if (row.status === 'pending' && Date.now() - row.created_at.getTime() > options.idempotencyWindowMs) {
        log.error('unfinished payment older than the provider\'s idempotency window: not authorised again; needs a person');
        continue;
      }
      try {
        const payment = await this.drive(row.order_id, row.user_id, row.idempotency_key, undefined);
        finished++;
        log.info({ now: payment.status }, 'unfinished payment recovered');
      } catch (err) {
        if (err instanceof ServiceError && err.code !== Status.UNAVAILABLE) {
          log.info({ reason: err.message }, 'unfinished payment ended without a charge');
          finished++;
        } else {
          log.warn({ err }, 'unfinished payment could not be recovered yet; trying again later');
        }
      }
    }
    return finished;
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
          await this.end(client, 'COMMIT');
          committed = true;
          return undefined;
        }
        const payment = toRow(rows[0]);
        if (payment.status !== 'captured') {
          await this.end(client, 'COMMIT');
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
        await this.end(client, 'COMMIT');
        committed = true;
        this.deps.logger.info({ paymentId: id, orderId: refunded.orderId }, 'payment refunded');
        return refunded;
      } finally {
        if (!committed) await this.end(client, 'ROLLBACK').catch(() => undefined);
      }
    } catch (err) {
      broken = err;
      throw err;
    } finally {
      client.release(broken instanceof ServiceError ? undefined : (broken as Error | undefined));
    }
  }

  private async emit(client: PoolClient, payment: PaymentRow): Promise<EventEnvelope<PaymentEventType>> {
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
    return event;
  }
}
