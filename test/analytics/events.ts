/**
 * The known sequence of events the analytics e2e test publishes, in the services' real shapes
 * (services/events/*.v1.schema.json), with duplicates, out-of-order arrivals, several currencies,
 * failed payments, refunds and malformed records. Times are fixed, far from now, so minute and
 * hour buckets are known: every expectation in job.test.ts follows from this list by hand.
 *
 * Publishing order matters for event time: the list is in publish order and no event is more
 * than the watermark bound (30 s, lib/spec maxOutOfOrdernessSeconds) older than any published
 * before it, except `late` ones, which stay within the allowed lateness (60 min), so however the
 * orders fall into partitions no window drops an event and the results are deterministic.
 */
import { ORDER_EVENTS_TOPIC, PAYMENT_EVENTS_TOPIC } from '../../services/events';
import type { EventEnvelope, EventType, Money } from '../../services/events';

export const BASE = Date.parse('2026-01-01T10:00:00Z');

/** A fixed, valid UUID: `kind` tells orders (1), events (2), users (3) and payments apart. */
export function fixedUuid(kind: number, n: number): string {
  return `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

export const ORDERS = { A: fixedUuid(1, 1), B: fixedUuid(1, 2), C: fixedUuid(1, 3), D: fixedUuid(1, 4), E: fixedUuid(1, 5), F: fixedUuid(1, 6), G: fixedUuid(1, 7) };
type OrderName = keyof typeof ORDERS;

export interface Published {
  topic: string;
  /** The Kafka key (the orderId, as the services publish). */
  key: string;
  value: string;
  /** Set to force a partition (a duplicate that lands in another partition than its original). */
  partition?: number;
  /** The event when the value is one (undefined for malformed records). */
  event?: EventEnvelope;
  /** True for a copy of an event published before. */
  duplicate?: boolean;
}

/** hh:mm:ss after 10:00 on 2026-01-01, as ISO 8601. */
function at(time: string): string {
  const [h, m, s] = time.split(':').map(Number);
  return new Date(BASE + ((h! - 10) * 3600 + m! * 60 + s!) * 1000).toISOString();
}

let nextEventId = 1;
const totals: Partial<Record<OrderName, Money>> = {};
const capturedEventIds: Partial<Record<OrderName, string>> = {};

function envelope(type: EventType, order: OrderName, time: string, payload: Record<string, unknown>): EventEnvelope {
  return { eventId: fixedUuid(2, nextEventId++), type, schemaVersion: 1, occurredAt: at(time), orderId: ORDERS[order], payload };
}

function userOf(order: OrderName): string {
  return fixedUuid(3, Object.keys(ORDERS).indexOf(order) + 1);
}

function orderEvent(type: 'order.created' | 'order.paid' | 'order.cancelled' | 'order.fulfilled', order: OrderName, time: string, total?: Money): Published {
  if (total) totals[order] = total;
  const money = totals[order]!;
  const base = { userId: userOf(order), total: money };
  const payload: Record<string, unknown> =
    type === 'order.created' ? { ...base, status: 'pending', items: [{ productId: `sku-${order}`, quantity: 1, unitPrice: money }] }
      : type === 'order.paid' ? { ...base, status: 'paid', paymentId: `pay_${order}`, paymentEventId: capturedEventIds[order]! }
        : type === 'order.cancelled' ? { ...base, status: 'cancelled' }
          : { ...base, status: 'fulfilled' };
  const event = envelope(type, order, time, payload);
  return { topic: ORDER_EVENTS_TOPIC, key: ORDERS[order], value: JSON.stringify(event), event };
}

function paymentEvent(type: 'payment.authorized' | 'payment.captured' | 'payment.failed' | 'payment.refunded', order: OrderName, time: string, amount: Money): Published {
  const payload: Record<string, unknown> = { paymentId: `pay_${order}`, userId: userOf(order), amount, provider: 'stripe', providerReference: `pi_${order}` };
  if (type === 'payment.failed') payload.failureReason = 'card_declined';
  const event = envelope(type, order, time, payload);
  if (type === 'payment.captured') capturedEventIds[order] = event.eventId;
  return { topic: PAYMENT_EVENTS_TOPIC, key: ORDERS[order], value: JSON.stringify(event), event };
}

function again(p: Published, partition?: number): Published {
  return { ...p, duplicate: true, ...(partition === undefined ? {} : { partition }) };
}

const usd = (amount: string): Money => ({ amount, currency: 'USD' });
const eur = (amount: string): Money => ({ amount, currency: 'EUR' });
const jpy = (amount: string): Money => ({ amount, currency: 'JPY' });

/** The sequence, in publish order. `otherPartition(key)` names a partition the key does not map to. */
export function eventSequence(otherPartition: (key: string) => number): Published[] {
  const list: Published[] = [];
  const push = (p: Published) => {
    list.push(p);
    return p;
  };
  // Order A (USD): paid published before created (20 s apart: within the watermark bound).
  push(paymentEvent('payment.captured', 'A', '10:00:25', usd('19.99')));
  const paidA = orderEvent('order.paid', 'A', '10:00:30', usd('19.99'));
  const createdA = orderEvent('order.created', 'A', '10:00:10', usd('19.99'));
  push(paidA);
  push(createdA);
  // Order B (EUR): created twice in a row (same eventId, same partition); a failed then a good payment.
  const createdB = push(orderEvent('order.created', 'B', '10:00:50', eur('25.00')));
  push(again(createdB));
  push(paymentEvent('payment.failed', 'B', '10:01:05', eur('25.00')));
  const capturedB = push(paymentEvent('payment.captured', 'B', '10:01:20', eur('25.00')));
  push(orderEvent('order.paid', 'B', '10:01:21'));
  // Order C (JPY, no minor units): created, and the same event again in another partition.
  const createdC = push(orderEvent('order.created', 'C', '10:01:30', jpy('3000')));
  push(again(createdC, otherPartition(createdC.key)));
  push(paymentEvent('payment.authorized', 'C', '10:01:45', jpy('3000')));
  push(paymentEvent('payment.captured', 'C', '10:01:50', jpy('3000')));
  push(orderEvent('order.paid', 'C', '10:01:52'));
  // Order D (USD): two failed attempts, then captured.
  push(orderEvent('order.created', 'D', '10:02:10', usd('5.50')));
  push(paymentEvent('payment.failed', 'D', '10:02:40', usd('5.50')));
  push(paymentEvent('payment.failed', 'D', '10:02:55', usd('5.50')));
  push(paymentEvent('payment.captured', 'D', '10:03:30', usd('5.50')));
  push(orderEvent('order.paid', 'D', '10:03:31'));
  // Order E (USD).
  push(orderEvent('order.created', 'E', '10:05:00', usd('100.00')));
  // Order F (EUR): created 2.5 minutes behind the newest event (late, within the allowed lateness).
  push(orderEvent('order.created', 'F', '10:02:30', eur('7.25')));
  push(paymentEvent('payment.captured', 'E', '10:05:10', usd('100.00')));
  push(orderEvent('order.paid', 'E', '10:05:12'));
  // A partial refund of A; F is cancelled (no funnel stage, no revenue).
  push(paymentEvent('payment.refunded', 'A', '10:06:00', usd('5.00')));
  push(orderEvent('order.cancelled', 'F', '10:06:30'));
  // Malformed records: not JSON, and a schema version the job does not know.
  push({ topic: ORDER_EVENTS_TOPIC, key: ORDERS.F, value: '{"eventId": "not json' });
  const v2 = { ...JSON.parse(createdA.value), eventId: fixedUuid(2, 900), schemaVersion: 2 } as Record<string, unknown>;
  push({ topic: PAYMENT_EVENTS_TOPIC, key: ORDERS.A, value: JSON.stringify(v2) });
  // The next hour.
  push(orderEvent('order.fulfilled', 'B', '11:10:00'));
  push(orderEvent('order.fulfilled', 'A', '11:20:00'));
  push(orderEvent('order.created', 'G', '11:25:00', usd('10.00')));
  push(paymentEvent('payment.captured', 'G', '11:25:40', usd('10.00')));
  push(orderEvent('order.paid', 'G', '11:26:00'));
  push(paymentEvent('payment.refunded', 'B', '11:40:00', eur('25.00')));
  push(orderEvent('order.fulfilled', 'C', '12:05:00'));
  // B's capture again, long after: de-duplicated before any window sees it.
  push(again(capturedB));
  return list;
}
