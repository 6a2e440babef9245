/**
 * The events services publish through their outbox, versioned as JSON Schema 2020-12 files
 * beside this module (`<topic>.v<N>.schema.json`), and the validator producers run before
 * enqueueing and tests run on what lands on Kafka. Topic names come from lib/spec.
 */
import { randomUUID } from 'node:crypto';
import Ajv2020 from 'ajv/dist/2020';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { loadPlatformSpec } from '../../lib/spec';
import orderEventsV1 from './order-events.v1.schema.json';
import paymentEventsV1 from './payment-events.v1.schema.json';

export * from './money';

export const ORDER_EVENT_TYPES = ['order.created', 'order.paid', 'order.cancelled', 'order.fulfilled'] as const;
export const PAYMENT_EVENT_TYPES = ['payment.authorized', 'payment.captured', 'payment.failed', 'payment.refunded'] as const;
export type OrderEventType = (typeof ORDER_EVENT_TYPES)[number];
export type PaymentEventType = (typeof PAYMENT_EVENT_TYPES)[number];
export type EventType = OrderEventType | PaymentEventType;

export interface Money {
  /** Decimal string in the currency's minor units ("19.99"; "300" for JPY). */
  readonly amount: string;
  readonly currency: string;
}

/** The envelope of every event (schemaVersion 1). */
export interface EventEnvelope<T extends string = EventType, P extends object = Record<string, unknown>> {
  readonly eventId: string;
  readonly type: T;
  readonly schemaVersion: 1;
  /** ISO 8601 with time zone. */
  readonly occurredAt: string;
  /** Also the Kafka key: an order's events stay in one partition, in order. */
  readonly orderId: string;
  readonly payload: P;
}

/** The spec's topic a service publishes to (lib/spec `dataTier.kafka.topics[].producer`). */
export function topicOf(producer: 'order-service' | 'payment-service'): { name: string; partitions: number } {
  const topics = loadPlatformSpec().dataTier.kafka.topics.filter((t) => t.producer === producer);
  if (topics.length !== 1) throw new Error(`lib/spec dataTier.kafka.topics: expected one topic with producer ${producer}, found ${topics.length}`);
  return { name: topics[0]!.name, partitions: topics[0]!.partitions };
}

export const ORDER_EVENTS_TOPIC: string = topicOf('order-service').name;
export const PAYMENT_EVENTS_TOPIC: string = topicOf('payment-service').name;

interface SchemaEntry {
  readonly topic: string;
  readonly version: number;
  readonly schema: object;
  readonly types: readonly string[];
}

/** Every checked-in schema: the topic it describes and its version. */
export const EVENT_SCHEMAS: readonly SchemaEntry[] = Object.freeze([
  { topic: ORDER_EVENTS_TOPIC, version: 1, schema: orderEventsV1, types: ORDER_EVENT_TYPES },
  { topic: PAYMENT_EVENTS_TOPIC, version: 1, schema: paymentEventsV1, types: PAYMENT_EVENT_TYPES },
]);

export class EventValidationError extends Error {
  constructor(readonly topic: string, readonly problems: readonly string[]) {
    super(`invalid ${topic} event: ${problems.join('; ')}`);
    this.name = 'EventValidationError';
  }
}

let validators: Map<string, ValidateFunction> | undefined;

function validatorFor(topic: string, version: number): ValidateFunction {
  if (!validators) {
    // strict: a typo in a schema keyword fails at compile time instead of validating nothing.
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats(ajv, ['uuid', 'date-time']);
    validators = new Map(EVENT_SCHEMAS.map((s) => [`${s.topic}@${s.version}`, ajv.compile(s.schema)]));
  }
  const validate = validators.get(`${topic}@${version}`);
  if (!validate) throw new EventValidationError(topic, [`no schema for topic ${JSON.stringify(topic)} version ${version}`]);
  return validate;
}

function describe(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(event)' : error.instancePath.slice(1).replace(/\//g, '.');
  const extra = error.keyword === 'additionalProperties' ? ` (${String(error.params.additionalProperty)})` : '';
  return `${where}: ${error.message ?? error.keyword}${extra}`;
}

/** The problems of `event` against its topic's schema (by its schemaVersion); empty when valid. */
export function validateEvent(topic: string, event: unknown): string[] {
  const version = typeof event === 'object' && event !== null && 'schemaVersion' in event ? Number(event.schemaVersion) : 1;
  const validate = validatorFor(topic, Number.isInteger(version) ? version : 1);
  if (validate(event)) return [];
  // if/then failures repeat the inner errors; keep the ones that say what is wrong.
  const errors = (validate.errors ?? []).filter((e) => e.keyword !== 'if');
  return [...new Set(errors.map(describe))];
}

export function assertValidEvent(topic: string, event: unknown): void {
  const problems = validateEvent(topic, event);
  if (problems.length > 0) throw new EventValidationError(topic, problems);
}

/** A new envelope: a fresh event id, now as occurredAt. */
export function newEvent<T extends EventType, P extends object>(type: T, orderId: string, payload: P, occurredAt: Date = new Date()): EventEnvelope<T, P> {
  return { eventId: randomUUID(), type, schemaVersion: 1, occurredAt: occurredAt.toISOString(), orderId, payload };
}
