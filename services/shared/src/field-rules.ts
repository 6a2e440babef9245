/**
 * The rules of the public API's text fields, written once: the gateway's request schemas (and so
 * the OpenAPI document) carry them as JSON Schema, and the services check the same rules with
 * textProblem(), so a request the document admits is one the services accept.
 *
 * Patterns stay in the subset of regular expressions that ECMA-262 (ajv, which compiles them with
 * the `u` flag) and Python's `re` (Schemathesis generates from the document) read alike: explicit
 * character classes with \uXXXX escapes, no `\s`, `\p{...}` or `.`. Lengths are counted in code
 * points, as JSON Schema counts them. No import beyond plain data: the gateway loads this too.
 */
import { ACCOUNT_LIMITS } from './account-limits';

/** Unicode general category Cc: C0 controls, DEL and C1 controls. */
const CONTROL = '\\u0000-\\u001f\\u007f-\\u009f';
/** What String.prototype.trim() removes, outside Cc (those are refused anyway). */
const SPACE = '\\u0020\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
const HEX = '[0-9a-fA-F]';
const UUID_BODY = `${HEX}{8}-${HEX}{4}-${HEX}{4}-${HEX}{4}-${HEX}{12}`;
// An address's local part: printable ASCII but '@'; a domain label: also no '.'.
const LOCAL = '[\\u0021-\\u003f\\u0041-\\u007e]';
const LABEL = '[\\u0021-\\u002d\\u002f-\\u003f\\u0041-\\u007e]';

export interface TextRule {
  readonly minLength: number;
  readonly maxLength: number;
  readonly pattern: string;
  /** What a client is told when the pattern fails (a regular expression is no explanation). */
  readonly patternMessage: string;
}

/** Text shown to people: no control characters, and no whitespace around it (never trimmed silently). */
function displayText(maxLength: number): TextRule {
  return {
    minLength: 1,
    maxLength,
    pattern: `^[^${CONTROL}${SPACE}](?:[^${CONTROL}]*[^${CONTROL}${SPACE}])?$`,
    patternMessage: 'must not contain control characters nor start or end with whitespace',
  };
}

/** Orders: limits chosen so that no order the document admits can exceed the NUMERIC(12,2) total (100 x 1000 x 99,999.99 < 10^10). */
export const ORDER_LIMITS = {
  maxItems: 100,
  maxQuantity: 1000,
  /** Integer digits of a unit price. */
  unitPriceIntegerDigits: 5,
  productIdMaxLength: 100,
  maxPageSize: 100,
  defaultPageSize: 20,
} as const;

export const FIELD_RULES = {
  name: displayText(ACCOUNT_LIMITS.nameMaxLength),
  productId: displayText(ORDER_LIMITS.productIdMaxLength),
  /** One '@', a dot in the domain, printable ASCII without spaces. Compared lower-cased. */
  email: {
    minLength: 5,
    maxLength: ACCOUNT_LIMITS.emailMaxLength,
    pattern: `^${LOCAL}+@${LABEL}+(?:\\.${LABEL}+)+$`,
    patternMessage: 'must be an e-mail address (printable ASCII, one @, a dot in the domain)',
  },
  /** Any case on the way in; ids are answered and compared in lower case. */
  uuid: { minLength: 36, maxLength: 36, pattern: `^${UUID_BODY}$`, patternMessage: 'must be a UUID' },
  /**
   * A keyset position (`<created_at as epoch milliseconds>.<id>`), as nextPageToken gives it: any
   * token of this form is a position the listing can continue from.
   */
  pageToken: {
    minLength: 38,
    maxLength: 52,
    pattern: `^(?:0|[1-9][0-9]{0,14})\\.${UUID_BODY}$`,
    patternMessage: 'must be a nextPageToken from a previous page',
  },
  /** Printable ASCII without spaces: keys travel in HTTP headers and logs. */
  idempotencyKey: { minLength: 1, maxLength: 255, pattern: '^[\\u0021-\\u007e]+$', patternMessage: 'must be 1..255 printable ASCII characters without spaces' },
  /** The provider's payment method token (Stripe PaymentMethod id, pm_...). */
  paymentMethod: { minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9_]+$', patternMessage: 'must be a payment method token (letters, digits, _)' },
} as const satisfies Record<string, TextRule>;

const compiled = new Map<string, RegExp>();

function regex(rule: TextRule): RegExp {
  let re = compiled.get(rule.pattern);
  if (!re) {
    re = new RegExp(rule.pattern, 'u');
    compiled.set(rule.pattern, re);
  }
  return re;
}

/** Length as JSON Schema counts it: code points, not UTF-16 units. */
export function codePoints(value: string): number {
  return Array.from(value).length;
}

/** Why `value` breaks `rule` (`is required`, `must be at most 200 characters`, ...), or undefined. */
export function textProblem(value: string, rule: TextRule): string | undefined {
  if (value === '') return 'is required';
  // The form first: "must be a UUID" says more about "nope" than a length would.
  if (!regex(rule).test(value)) return rule.patternMessage;
  const length = codePoints(value);
  if (length < rule.minLength) return `must be at least ${rule.minLength} characters`;
  if (length > rule.maxLength) return `must be at most ${rule.maxLength} characters`;
  return undefined;
}

/** A page token for the keyset position (createdAt, id). */
export function encodePageToken(createdAt: Date, id: string): string {
  return `${createdAt.getTime()}.${id}`;
}

/** The keyset position of a token of FIELD_RULES.pageToken's form, or undefined. */
export function decodePageToken(token: string): { createdAt: Date; id: string } | undefined {
  if (textProblem(token, FIELD_RULES.pageToken) !== undefined) return undefined;
  const dot = token.indexOf('.');
  const createdAt = new Date(Number(token.slice(0, dot)));
  if (Number.isNaN(createdAt.getTime())) return undefined;
  return { createdAt, id: token.slice(dot + 1).toLowerCase() };
}
