/**
 * JSON Schemas of the public API: the single source for Fastify's validation and serialization
 * and for the OpenAPI document (schemas stay within the subset that draft-07 (ajv) and
 * OpenAPI 3.1 (JSON Schema 2020-12) read the same way).
 */

import { CURRENCIES } from '../../events/money';
import { ACCOUNT_LIMITS } from '../../shared/src/account-limits';

export const Problem = {
  type: 'object',
  description: 'RFC 9457 problem details.',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    requestId: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: { field: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
} as const;

const email = { type: 'string', format: 'email', maxLength: ACCOUNT_LIMITS.emailMaxLength } as const;
const name = { type: 'string', minLength: 1, maxLength: ACCOUNT_LIMITS.nameMaxLength } as const;
const password = { type: 'string', minLength: ACCOUNT_LIMITS.passwordMinLength, maxLength: ACCOUNT_LIMITS.passwordMaxLength } as const;
const token = { type: 'string', minLength: 1, maxLength: 4096 } as const;
const userId = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' } as const;

export const SignupBody = {
  type: 'object',
  additionalProperties: false,
  required: ['email', 'password', 'name'],
  properties: { email, password, name },
} as const;

export const SignupResponse = {
  type: 'object',
  required: ['userId'],
  properties: { userId: { type: 'string' } },
} as const;

export const LoginBody = {
  type: 'object',
  additionalProperties: false,
  required: ['email', 'password'],
  properties: { email, password: { type: 'string', minLength: 1, maxLength: 1024 } },
} as const;

export const TokenResponse = {
  type: 'object',
  required: ['accessToken', 'tokenType', 'expiresIn', 'refreshToken', 'refreshExpiresIn'],
  properties: {
    accessToken: { type: 'string' },
    tokenType: { type: 'string' },
    expiresIn: { type: 'integer', description: 'Seconds until the access token expires.' },
    refreshToken: { type: 'string' },
    refreshExpiresIn: { type: 'integer', description: 'Seconds until the refresh token expires.' },
  },
} as const;

export const RefreshBody = {
  type: 'object',
  additionalProperties: false,
  required: ['refreshToken'],
  properties: { refreshToken: token },
} as const;

export const Jwks = {
  type: 'object',
  required: ['keys'],
  properties: { keys: { type: 'array', items: { type: 'object', additionalProperties: true } } },
} as const;

export const User = {
  type: 'object',
  required: ['id', 'email', 'name', 'createdAt'],
  properties: {
    id: { type: 'string' },
    email: { type: 'string' },
    name: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const UserIdParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: userId },
} as const;

export const UpdateUserBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { name, email },
} as const;

export const ListUsersQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    pageSize: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
    pageToken: { type: 'string', maxLength: 512 },
  },
} as const;

export const UserList = {
  type: 'object',
  required: ['users'],
  properties: {
    users: { type: 'array', items: User },
    nextPageToken: { type: 'string', description: 'Absent on the last page.' },
  },
} as const;

export const RotateResponse = {
  type: 'object',
  required: ['nextKid', 'activatesAt'],
  properties: {
    nextKid: { type: 'string' },
    activatesAt: { type: 'string', format: 'date-time', description: 'When the new key starts signing.' },
  },
} as const;

export const OpenApiDocument = {
  type: 'object',
  additionalProperties: true,
  description: 'This document (OpenAPI 3.1).',
} as const;

/**
 * What a client is told when a `pattern` fails (an OpenAPI extension keyword; ajv ignores it):
 * a regular expression is no explanation.
 */
export const PATTERN_MESSAGE = 'x-pattern-message';

// ---- orders and payments (amounts are decimal strings, never JSON numbers) ----

/**
 * A positive decimal amount: up to ten integer digits (the NUMERIC(12,2) columns) and at most two
 * decimals (the most any accepted currency has; a currency with fewer, like JPY, is checked by
 * the service). Zero, signs, exponents and separators are refused here, naming the field.
 */
const amount = {
  type: 'string',
  pattern: '^(?!0+(?:\\.0+)?$)(?:0|[1-9][0-9]{0,9})(?:\\.[0-9]{1,2})?$',
  [PATTERN_MESSAGE]: 'must be a decimal string greater than zero with at most two decimals, e.g. "19.99"',
  description: 'Decimal string greater than zero with at most the currency\'s minor digits, e.g. "19.99".',
} as const;
const currency = {
  type: 'string', enum: [...CURRENCIES],
  description: 'ISO 4217 code from the accepted list.',
} as const;
const uuid = { type: 'string', pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' } as const;
// Free text is stored as data (parameterised SQL); control characters are refused.
const productId = { type: 'string', minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f\\u007f]+$' } as const;
const pageToken = { type: 'string', maxLength: 512 } as const;
const timestamp = { type: 'string', format: 'date-time' } as const;

export const OrderItem = {
  type: 'object',
  additionalProperties: false,
  required: ['productId', 'quantity', 'unitPrice'],
  properties: {
    productId,
    quantity: { type: 'integer', minimum: 1, maximum: 10_000 },
    unitPrice: amount,
  },
} as const;

export const CreateOrderBody = {
  type: 'object',
  additionalProperties: false,
  required: ['items', 'currency'],
  properties: {
    items: { type: 'array', minItems: 1, maxItems: 100, items: OrderItem },
    currency,
  },
} as const;

export const Order = {
  type: 'object',
  required: ['id', 'userId', 'items', 'total', 'currency', 'status', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    userId: { type: 'string' },
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['productId', 'quantity', 'unitPrice'],
        properties: { productId: { type: 'string' }, quantity: { type: 'integer' }, unitPrice: { type: 'string' } },
      },
    },
    total: { type: 'string', description: 'Sum of quantity x unitPrice, exact, as a decimal string.' },
    currency: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'paid', 'fulfilled', 'cancelled'] },
    createdAt: timestamp,
    updatedAt: timestamp,
  },
} as const;

export const OrderIdParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: uuid },
} as const;

export const ListOrdersQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    pageSize: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
    pageToken,
    userId: { ...userId, description: 'Whose orders (admins); the caller\'s own by default.' },
  },
} as const;

export const OrderList = {
  type: 'object',
  required: ['orders'],
  properties: {
    orders: { type: 'array', items: Order },
    nextPageToken: { type: 'string', description: 'Absent on the last page.' },
  },
} as const;

/** draft-ietf-httpapi-idempotency-key-header; Fastify matches header schemas lower-cased. */
export const IdempotencyKeyHeaders = {
  type: 'object',
  required: ['idempotency-key'],
  properties: {
    'idempotency-key': {
      type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$',
      description: 'Client-chosen key (1..255 printable ASCII characters, no spaces): a retry with the same key and body returns the stored payment instead of charging again.',
    },
  },
} as const;

export const CreatePaymentBody = {
  type: 'object',
  additionalProperties: false,
  required: ['orderId', 'amount', 'currency', 'paymentMethod'],
  properties: {
    orderId: uuid,
    amount: { ...amount, description: 'Must equal the order\'s total.' },
    currency: { ...currency, description: 'Must equal the order\'s currency.' },
    paymentMethod: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9_]+$', description: 'The provider\'s payment method token (Stripe PaymentMethod id, pm_...).' },
  },
} as const;

export const Payment = {
  type: 'object',
  required: ['id', 'orderId', 'userId', 'amount', 'currency', 'status', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    orderId: { type: 'string' },
    userId: { type: 'string' },
    amount: { type: 'string' },
    currency: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'authorized', 'captured', 'failed', 'refunded'] },
    providerReference: { type: 'string' },
    failureReason: { type: 'string' },
    refundReference: { type: 'string' },
    createdAt: timestamp,
    updatedAt: timestamp,
  },
} as const;

export const PaymentIdParams = OrderIdParams;
