/**
 * JSON Schemas of the public API: the single source for Fastify's validation and serialization
 * and for the OpenAPI document (schemas stay within the subset that draft-07 (ajv) and
 * OpenAPI 3.1 (JSON Schema 2020-12) read the same way). Every rule a service checks on a field
 * comes from the same definition the service uses (FIELD_RULES, ORDER_LIMITS, the money
 * module), so a request this document admits is one the services accept.
 */

import { CURRENCIES, CURRENCY_MINOR_UNITS, MAX_INTEGER_DIGITS, amountPattern } from '../../events/money';
import { ACCOUNT_LIMITS } from '../../shared/src/account-limits';
import { FIELD_RULES, ORDER_LIMITS } from '../../shared/src/field-rules';
import type { TextRule } from '../../shared/src/field-rules';

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

/**
 * What a client is told when a `pattern` fails (an OpenAPI extension keyword; ajv ignores it):
 * a regular expression is no explanation.
 */
export const PATTERN_MESSAGE = 'x-pattern-message';

/** A text field with the rule the services check (lengths in code points, as JSON Schema counts). */
function text(rule: TextRule, description?: string) {
  return {
    type: 'string', minLength: rule.minLength, maxLength: rule.maxLength, pattern: rule.pattern,
    [PATTERN_MESSAGE]: rule.patternMessage, ...(description ? { description } : {}),
  } as const;
}

/** Ids: any case is accepted; the gateway compares and forwards them in lower case. */
export const uuid = text(FIELD_RULES.uuid, 'A UUID (compared case-insensitively).');

/** True for a schema of an id the gateway lower-cases before authorizing and forwarding. */
export function isUuidSchema(schema: unknown): boolean {
  return typeof schema === 'object' && schema !== null && (schema as { pattern?: unknown }).pattern === FIELD_RULES.uuid.pattern;
}

const email = text(FIELD_RULES.email, 'Compared case-insensitively; stored in lower case.');
const name = text(FIELD_RULES.name);
const password = { type: 'string', minLength: ACCOUNT_LIMITS.passwordMinLength, maxLength: ACCOUNT_LIMITS.passwordMaxLength } as const;
const token = { type: 'string', minLength: 1, maxLength: 4096 } as const;

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
  properties: { id: uuid },
} as const;

/** The login email is not a profile field here: it changes through ChangeEmailBody, with the password. */
export const UpdateUserBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name },
} as const;

export const ChangeEmailBody = {
  type: 'object',
  additionalProperties: false,
  required: ['email', 'currentPassword'],
  properties: {
    email: { ...email, description: 'The new login email; no other account may hold it.' },
    currentPassword: { type: 'string', minLength: 1, maxLength: 1024, description: 'The account\'s password now (re-authentication).' },
  },
} as const;

const pageToken = text(FIELD_RULES.pageToken, 'nextPageToken of the previous page.');
const pageSize = { type: 'integer', minimum: 1, maximum: ORDER_LIMITS.maxPageSize, default: ORDER_LIMITS.defaultPageSize } as const;

export const ListUsersQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { pageSize, pageToken },
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

// ---- orders and payments (amounts are decimal strings, never JSON numbers) ----

const MAX_MINOR_DIGITS = Math.max(...Object.values(CURRENCY_MINOR_UNITS));

/**
 * A positive decimal amount with at most `integerDigits` integer digits and the currency's minor
 * digits (parseAmount's rule, from the same money module): zero, signs, exponents, separators and
 * leading zeros are refused. The schema admits the most decimals any currency has; per-currency
 * rules follow from byCurrency().
 */
function amount(minorDigits: number, integerDigits: number, description: string) {
  return {
    type: 'string',
    pattern: amountPattern(minorDigits, integerDigits),
    [PATTERN_MESSAGE]: minorDigits > 0
      ? `must be a decimal string greater than zero with at most ${integerDigits} integer digits and ${minorDigits} decimals, e.g. "19.99"`
      : `must be a whole number greater than zero with at most ${integerDigits} digits in this currency`,
    description,
  } as const;
}

/**
 * if/then rules for currencies with fewer minor digits (JPY: none): `at` builds the schema that
 * puts the amount rule where the amount sits in the body.
 */
function byCurrency(integerDigits: number, at: (rule: ReturnType<typeof amount>) => object): object[] {
  const digits = [...new Set(Object.values(CURRENCY_MINOR_UNITS))].filter((d) => d < MAX_MINOR_DIGITS).sort();
  return digits.map((d) => ({
    if: { required: ['currency'], properties: { currency: { enum: CURRENCIES.filter((c) => CURRENCY_MINOR_UNITS[c] === d) } } },
    then: at(amount(d, integerDigits, `In ${CURRENCIES.filter((c) => CURRENCY_MINOR_UNITS[c] === d).join(', ')}.`)),
  }));
}

const currency = {
  type: 'string', enum: [...CURRENCIES],
  description: `ISO 4217 code from the accepted list; ${CURRENCIES.filter((c) => CURRENCY_MINOR_UNITS[c] === 0).join(', ')} without decimals.`,
} as const;
const productId = text(FIELD_RULES.productId);
const timestamp = { type: 'string', format: 'date-time' } as const;
const unitPrice = amount(MAX_MINOR_DIGITS, ORDER_LIMITS.unitPriceIntegerDigits, 'Decimal string greater than zero with at most the currency\'s minor digits, e.g. "19.99".');

export const OrderItem = {
  type: 'object',
  additionalProperties: false,
  required: ['productId', 'quantity', 'unitPrice'],
  properties: {
    productId,
    quantity: { type: 'integer', minimum: 1, maximum: ORDER_LIMITS.maxQuantity },
    unitPrice,
  },
} as const;

export const CreateOrderBody = {
  type: 'object',
  additionalProperties: false,
  required: ['items', 'currency'],
  properties: {
    items: { type: 'array', minItems: 1, maxItems: ORDER_LIMITS.maxItems, items: OrderItem },
    currency,
  },
  allOf: byCurrency(ORDER_LIMITS.unitPriceIntegerDigits, (rule) => ({ properties: { items: { items: { properties: { unitPrice: rule } } } } })),
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
    status: {
      type: 'string', enum: ['pending', 'paying', 'paid', 'fulfilled', 'cancelled'],
      description: 'paying: a payment holds the order while it charges; it cannot be cancelled until that payment has failed.',
    },
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
    pageSize,
    pageToken,
    userId: { ...uuid, description: 'Whose orders (admins); the caller\'s own by default.' },
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
    'idempotency-key': text(FIELD_RULES.idempotencyKey, 'Client-chosen key (1..255 printable ASCII characters, no spaces): a retry with the same key and body returns the stored payment instead of charging again.'),
  },
} as const;

export const CreatePaymentBody = {
  type: 'object',
  additionalProperties: false,
  required: ['orderId', 'amount', 'currency', 'paymentMethod'],
  properties: {
    orderId: uuid,
    amount: amount(MAX_MINOR_DIGITS, MAX_INTEGER_DIGITS, 'Must equal the order\'s total (else 409).'),
    currency: { ...currency, description: 'Must equal the order\'s currency (else 409).' },
    paymentMethod: text(FIELD_RULES.paymentMethod, 'The provider\'s payment method token (Stripe PaymentMethod id, pm_...).'),
  },
  allOf: byCurrency(MAX_INTEGER_DIGITS, (rule) => ({ properties: { amount: rule } })),
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
