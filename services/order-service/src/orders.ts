/**
 * Orders in PostgreSQL: input checks naming the field, exact totals in integer minor units,
 * the status machine, and every state change's event written to the outbox in the same
 * transaction. A payment holds its order (paying) before it charges anything, so a cancel and a
 * payment can never both succeed (services/README.md "Orders and payments").
 */
import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import { MoneyError, checkCurrency, formatAmount, maxAmount, minorUnits, newEvent, parseAmount } from '../../events';
import type { EventEnvelope, Money } from '../../events';
import { ServiceError, Status, enqueue, invalidArgument, processOnce, withTransaction } from '../../shared/src';
import { FIELD_RULES, ORDER_LIMITS, decodePageToken, encodePageToken, textProblem } from '../../shared/src/field-rules';

export const ORDER_STATUSES = ['pending', 'paying', 'paid', 'fulfilled', 'cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/**
 * The status machine: pending -> paying (held by one payment) -> paid -> fulfilled, paying ->
 * pending when that payment fails, pending -> cancelled. pending -> paid remains for a capture
 * of a payment made before holds existed.
 */
export const TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  pending: ['paying', 'paid', 'cancelled'],
  paying: ['paid', 'pending'],
  paid: ['fulfilled'],
  fulfilled: [],
  cancelled: [],
};

export const MAX_ITEMS = ORDER_LIMITS.maxItems;
export const MAX_QUANTITY = ORDER_LIMITS.maxQuantity;
export const DEFAULT_PAGE_SIZE = ORDER_LIMITS.defaultPageSize;
export const MAX_PAGE_SIZE = ORDER_LIMITS.maxPageSize;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ItemInput {
  readonly productId: string;
  readonly quantity: number;
  readonly unitPrice: string;
}

export interface ValidItem {
  readonly productId: string;
  readonly quantity: number;
  readonly unitPriceMinor: bigint;
}

export interface OrderRow {
  readonly id: string;
  readonly userId: string;
  readonly items: readonly { productId: string; quantity: number; unitPrice: string }[];
  readonly total: string;
  readonly currency: string;
  readonly status: OrderStatus;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** Who is calling: a user (admin or not), or payment-service reading without a user. */
export interface Actor {
  readonly userId: string | undefined;
  readonly admin: boolean;
}

export function checkId(value: string, field = 'id'): string {
  if (!value) throw invalidArgument(field, 'is required');
  if (!UUID.test(value)) throw invalidArgument(field, 'must be a UUID');
  return value.toLowerCase();
}

export function checkCurrencyField(value: string): string {
  try {
    return checkCurrency(value);
  } catch (err) {
    if (err instanceof MoneyError) throw invalidArgument('currency', err.problem);
    throw err;
  }
}

/** Validates items (naming `items[i].field`) and returns them with the exact total. */
export function checkItems(items: readonly ItemInput[], currency: string): { items: ValidItem[]; totalMinor: bigint } {
  if (items.length === 0) throw invalidArgument('items', 'must contain at least one item');
  if (items.length > MAX_ITEMS) throw invalidArgument('items', `must contain at most ${MAX_ITEMS} items`);
  let totalMinor = 0n;
  const valid = items.map((item, i) => {
    // The rule the public document gives (FIELD_RULES): control characters and surrounding
    // whitespace are refused, not trimmed, and the length is counted in code points.
    const productId = item.productId;
    const problem = textProblem(productId, FIELD_RULES.productId);
    if (problem) throw invalidArgument(`items[${i}].product_id`, problem);
    if (!Number.isInteger(item.quantity) || item.quantity < 1) throw invalidArgument(`items[${i}].quantity`, 'must be a whole number of at least 1');
    if (item.quantity > MAX_QUANTITY) throw invalidArgument(`items[${i}].quantity`, `must be at most ${MAX_QUANTITY}`);
    let unitPriceMinor: bigint;
    try {
      unitPriceMinor = parseAmount(item.unitPrice, currency, { maxIntegerDigits: ORDER_LIMITS.unitPriceIntegerDigits });
    } catch (err) {
      if (err instanceof MoneyError) throw invalidArgument(`items[${i}].unit_price`, err.problem);
      throw err;
    }
    totalMinor += unitPriceMinor * BigInt(item.quantity);
    return { productId, quantity: item.quantity, unitPriceMinor };
  });
  if (totalMinor > maxAmount(currency)) throw invalidArgument('items', `total must be at most ${formatAmount(maxAmount(currency), currency)} ${currency}`);
  return { items: valid, totalMinor };
}

/** NUMERIC(12,2) text ("300.00") to minor units of the currency (300 for JPY, 30000 for USD). */
export function numericToMinor(text: string, currency: string): bigint {
  const [whole, fraction = ''] = text.split('.');
  const cents = BigInt(whole!) * 100n + BigInt(fraction.padEnd(2, '0').slice(0, 2));
  return cents / 10n ** BigInt(2 - minorUnits(currency));
}

function canonical(text: string, currency: string): string {
  return formatAmount(numericToMinor(text, currency), currency);
}

export interface Cursor {
  readonly createdAt: Date;
  readonly id: string;
}

/** The next page starts after this order (newest first); the token is FIELD_RULES.pageToken's form. */
export function encodeCursor(row: OrderRow): string {
  return encodePageToken(row.createdAt, row.id);
}

/** Any token of the documented form is a position the listing can continue from. */
export function decodeCursor(token: string): Cursor {
  const position = decodePageToken(token);
  if (!position) throw invalidArgument('page_token', 'is not a token returned by ListOrders');
  return position;
}

interface DbOrder {
  id: string;
  user_id: string;
  total: string;
  currency: string;
  status: OrderStatus;
  created_at: Date;
  updated_at: Date;
}

const ORDER_COLUMNS = 'id, user_id, total::text AS total, currency, status, created_at, updated_at';

function notFound(id: string): ServiceError {
  return new ServiceError(Status.NOT_FOUND, `order ${id} not found`);
}

function money(row: Pick<DbOrder, 'total' | 'currency'>): Money {
  return { amount: canonical(row.total, row.currency), currency: row.currency };
}

export class OrderStore {
  constructor(private readonly pool: Pool, private readonly logger: Logger) {}

  private async withItems(db: Pick<PoolClient, 'query'>, orders: DbOrder[]): Promise<OrderRow[]> {
    if (orders.length === 0) return [];
    const { rows } = await db.query<{ order_id: string; product_id: string; quantity: number; unit_price: string }>(
      'SELECT order_id, product_id, quantity, unit_price::text AS unit_price FROM order_items WHERE order_id = ANY($1::uuid[]) ORDER BY order_id, position',
      [orders.map((o) => o.id)],
    );
    return orders.map((o) => ({
      id: o.id,
      userId: o.user_id,
      total: canonical(o.total, o.currency),
      currency: o.currency,
      status: o.status,
      createdAt: o.created_at,
      updatedAt: o.updated_at,
      items: rows.filter((r) => r.order_id === o.id).map((r) => ({ productId: r.product_id, quantity: r.quantity, unitPrice: canonical(r.unit_price, o.currency) })),
    }));
  }

  async create(userId: string, currency: string, items: readonly ValidItem[], totalMinor: bigint): Promise<OrderRow> {
    return withTransaction(this.pool, async (client) => {
      const total = formatAmount(totalMinor, currency);
      const { rows } = await client.query<DbOrder>(`INSERT INTO orders (user_id, total, currency) VALUES ($1, $2, $3) RETURNING ${ORDER_COLUMNS}`, [userId, total, currency]);
      const order = rows[0]!;
      await client.query(
        `INSERT INTO order_items (order_id, position, product_id, quantity, unit_price)
         SELECT $1, ordinality - 1, product_id, quantity, unit_price
         FROM unnest($2::text[], $3::int[], $4::numeric[]) WITH ORDINALITY AS t(product_id, quantity, unit_price)`,
        [order.id, items.map((i) => i.productId), items.map((i) => i.quantity), items.map((i) => formatAmount(i.unitPriceMinor, currency))],
      );
      // The items as written (formatAmount is the canonical form the table's numerics read back as).
      const row: OrderRow = {
        id: order.id, userId: order.user_id, total: canonical(order.total, currency), currency, status: order.status,
        createdAt: order.created_at, updatedAt: order.updated_at,
        items: items.map((i) => ({ productId: i.productId, quantity: i.quantity, unitPrice: formatAmount(i.unitPriceMinor, currency) })),
      };
      await enqueue(client, newEvent('order.created', order.id, {
        userId, status: 'pending', total: money(order),
        items: row.items.map((i) => ({ productId: i.productId, quantity: i.quantity, unitPrice: { amount: i.unitPrice, currency } })),
      }, order.created_at));
      return row;
    });
  }

  /** The order if `actor` may see it; another user's order is indistinguishable from none. */
  async get(id: string, actor: Actor): Promise<OrderRow> {
    const { rows } = await this.pool.query<DbOrder>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1`, [id]);
    const order = rows[0];
    if (!order || !mayAccess(actor, order.user_id)) throw notFound(id);
    return (await this.withItems(this.pool, [order]))[0]!;
  }

  /** Newest first; `userId` undefined lists every user's orders (admins). */
  async list(userId: string | undefined, pageSize: number, after: Cursor | undefined): Promise<{ orders: OrderRow[]; next: string }> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (userId) {
      params.push(userId);
      where.push(`user_id = $${params.length}`);
    }
    if (after) {
      params.push(after.createdAt, after.id);
      where.push(`(created_at, id) < ($${params.length - 1}, $${params.length})`);
    }
    params.push(pageSize + 1);
    const { rows } = await this.pool.query<DbOrder>(
      `SELECT ${ORDER_COLUMNS} FROM orders ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const orders = await this.withItems(this.pool, rows.slice(0, pageSize));
    const next = rows.length > pageSize ? encodeCursor(orders[orders.length - 1]!) : '';
    return { orders, next };
  }

  /** A user-requested transition (cancel, fulfil): ownership, then the status machine. */
  async transition(id: string, to: 'cancelled' | 'fulfilled', actor: Actor): Promise<OrderRow> {
    return withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<DbOrder>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1 FOR UPDATE`, [id]);
      const order = rows[0];
      if (!order || !mayAccess(actor, order.user_id)) throw notFound(id);
      if (order.status === 'paying') {
        throw new ServiceError(Status.FAILED_PRECONDITION, `order ${id} is being paid; it cannot become ${to} unless that payment fails`);
      }
      if (!TRANSITIONS[order.status].includes(to)) {
        throw new ServiceError(Status.FAILED_PRECONDITION, `order ${id} is ${order.status}; it cannot become ${to}`);
      }
      const { rows: updated } = await client.query<DbOrder>(`UPDATE orders SET status = $2, updated_at = now() WHERE id = $1 RETURNING ${ORDER_COLUMNS}`, [id, to]);
      const now = updated[0]!;
      const event = to === 'cancelled'
        ? newEvent('order.cancelled', id, { userId: order.user_id, status: 'cancelled', total: money(now), ...(actor.userId ? { cancelledBy: actor.userId } : {}) }, now.updated_at)
        : newEvent('order.fulfilled', id, { userId: order.user_id, status: 'fulfilled', total: money(now) }, now.updated_at);
      await enqueue(client, event);
      return (await this.withItems(client, [now]))[0]!;
    });
  }

  /**
   * pending -> paying for `paymentId`, before payment-service charges anything (the row lock
   * orders it with a cancel: whichever commits first wins, the other is refused). Repeating it for
   * the payment that holds the order (a retry, a recovery) answers the order unchanged.
   */
  async holdForPayment(orderId: string, paymentId: string, amount: Money, actor: Actor): Promise<OrderRow> {
    return withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<DbOrder & { payment_id: string | null }>(`SELECT ${ORDER_COLUMNS}, payment_id FROM orders WHERE id = $1 FOR UPDATE`, [orderId]);
      const order = rows[0];
      if (!order || !mayAccess(actor, order.user_id)) throw notFound(orderId);
      const expected = money(order);
      if (amount.currency !== expected.currency || amount.amount !== expected.amount) {
        throw new ServiceError(Status.FAILED_PRECONDITION, `order ${orderId} totals ${expected.amount} ${expected.currency}, not ${amount.amount} ${amount.currency}`);
      }
      const heldByThis = order.payment_id === paymentId;
      if (order.status === 'pending') {
        const { rows: updated } = await client.query<DbOrder>(
          `UPDATE orders SET status = 'paying', payment_id = $2, updated_at = now() WHERE id = $1 RETURNING ${ORDER_COLUMNS}`,
          [orderId, paymentId],
        );
        return (await this.withItems(client, [updated[0]!]))[0]!;
      }
      if (heldByThis && (order.status === 'paying' || order.status === 'paid' || order.status === 'fulfilled')) {
        return (await this.withItems(client, [order]))[0]!;
      }
      const why = order.status === 'paying' ? 'another payment of this order is in progress; retry when it has finished'
        : order.status === 'cancelled' ? 'it is cancelled' : 'it is already paid';
      throw new ServiceError(Status.FAILED_PRECONDITION, `order_id: order ${orderId} cannot be paid: ${why}`);
    });
  }

  /**
   * A payment event, from Kafka or handed over by payment-service, applied once per event id
   * (processOnce) in one transaction with its effect: payment.captured marks the order paid,
   * payment.failed ends the hold of that payment. Other events change nothing.
   */
  async applyPaymentEvent(event: EventEnvelope<string, { paymentId: string; amount: Money }>): Promise<'paid' | 'released' | 'duplicate' | 'ignored'> {
    if (event.type === 'payment.captured') return this.markPaid(event.eventId, event.orderId, event.payload.paymentId, event.payload.amount);
    if (event.type === 'payment.failed') return this.releaseHold(event.eventId, event.orderId, event.payload.paymentId);
    return 'ignored';
  }

  /**
   * payment.captured: marks the order paid (held by this payment, or pending for a payment made
   * before holds existed) and enqueues order.paid. A capture that does not match the order
   * (unknown order, other amount or currency, held by another payment, cancelled) changes
   * nothing and is logged as an error: the hold makes it impossible, so it needs a person.
   */
  async markPaid(eventId: string, orderId: string, paymentId: string, amount: Money): Promise<'paid' | 'duplicate' | 'ignored'> {
    return withTransaction(this.pool, async (client) => {
      const outcome = await processOnce(client, eventId, async (): Promise<'paid' | 'ignored'> => {
        const { rows } = await client.query<DbOrder & { payment_id: string | null }>(`SELECT ${ORDER_COLUMNS}, payment_id FROM orders WHERE id = $1 FOR UPDATE`, [orderId]);
        const order = rows[0];
        const log = this.logger.child({ orderId, paymentId, eventId });
        if (!order) {
          log.error('payment captured for an unknown order');
          return 'ignored';
        }
        const expected = money(order);
        if (amount.currency !== expected.currency || amount.amount !== expected.amount) {
          log.error({ captured: amount, expected }, 'captured amount does not match the order total; order left unpaid');
          return 'ignored';
        }
        if ((order.status === 'paid' || order.status === 'fulfilled') && order.payment_id === paymentId) return 'ignored';
        const mayPay = order.status === 'pending' || (order.status === 'paying' && order.payment_id === paymentId);
        if (!mayPay) {
          log.error({ status: order.status, heldBy: order.payment_id }, 'payment captured for an order it does not hold; left as is');
          return 'ignored';
        }
        const { rows: updated } = await client.query<DbOrder>(
          `UPDATE orders SET status = 'paid', payment_id = $2, paid_by_event = $3, updated_at = now() WHERE id = $1 RETURNING ${ORDER_COLUMNS}`,
          [orderId, paymentId, eventId],
        );
        await enqueue(client, newEvent('order.paid', orderId, { userId: order.user_id, status: 'paid', total: expected, paymentId, paymentEventId: eventId }, updated[0]!.updated_at));
        return 'paid';
      });
      return outcome.processed ? outcome.result : 'duplicate';
    });
  }

  /** payment.failed: the order held by that payment is pending again (payable, cancellable). */
  async releaseHold(eventId: string, orderId: string, paymentId: string): Promise<'released' | 'duplicate' | 'ignored'> {
    return withTransaction(this.pool, async (client) => {
      const outcome = await processOnce(client, eventId, async (): Promise<'released' | 'ignored'> => {
        const { rowCount } = await client.query(
          "UPDATE orders SET status = 'pending', payment_id = NULL, updated_at = now() WHERE id = $1 AND status = 'paying' AND payment_id = $2",
          [orderId, paymentId],
        );
        return rowCount ? 'released' : 'ignored';
      });
      return outcome.processed ? outcome.result : 'duplicate';
    });
  }
}

export function mayAccess(actor: Actor, ownerId: string): boolean {
  return actor.admin || (actor.userId !== undefined && actor.userId === ownerId);
}
