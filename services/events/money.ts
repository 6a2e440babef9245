/**
 * Money as exact decimals: amounts travel as decimal strings with an ISO 4217 currency and are
 * computed in integer minor units (bigint), never in floating point.
 */

/** The currencies we accept, with their ISO 4217 minor units (choice: the markets we sell in). */
export const CURRENCY_MINOR_UNITS: Readonly<Record<string, number>> = Object.freeze({
  AUD: 2, CAD: 2, CHF: 2, DKK: 2, EUR: 2, GBP: 2, JPY: 0, NOK: 2, SEK: 2, USD: 2,
});

export const CURRENCIES: readonly string[] = Object.freeze(Object.keys(CURRENCY_MINOR_UNITS).sort());

/** Ten integer digits: the columns are NUMERIC(12,2). */
export const MAX_INTEGER_DIGITS = 10;

export class MoneyError extends Error {
  constructor(readonly problem: string) {
    super(problem);
    this.name = 'MoneyError';
  }
}

/** Checks a currency code against the allow-list; returns it. */
export function checkCurrency(value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new MoneyError('is required');
  if (!/^[A-Z]{3}$/.test(value)) throw new MoneyError('must be an upper-case ISO 4217 code such as USD');
  if (!(value in CURRENCY_MINOR_UNITS)) throw new MoneyError(`is not an accepted currency (one of ${CURRENCIES.join(', ')})`);
  return value;
}

export function minorUnits(currency: string): number {
  const digits = CURRENCY_MINOR_UNITS[checkCurrency(currency)];
  return digits!;
}

/**
 * The decimal strings parseAmount accepts for a currency with `minorDigits` decimals and at most
 * `integerDigits` integer digits, as a regular expression (the gateway's request schemas carry
 * it): greater than zero, no sign, exponent, separator or leading zero.
 */
export function amountPattern(minorDigits: number, integerDigits: number = MAX_INTEGER_DIGITS): string {
  const fraction = minorDigits > 0 ? `(?:\\.[0-9]{1,${minorDigits}})?` : '';
  const zero = minorDigits > 0 ? '0+(?:\\.0+)?' : '0+';
  return `^(?!${zero}$)(?:0|[1-9][0-9]{0,${integerDigits - 1}})${fraction}$`;
}

/**
 * Parses a decimal string ("19.99", "0.3", "300") into integer minor units of `currency`.
 * Rejects negatives, signs, exponents, leading zeros, excess precision and amounts beyond
 * NUMERIC(12,2) (or `maxIntegerDigits`); `allowZero` is false for prices and totals that must be
 * positive.
 */
export function parseAmount(value: unknown, currency: string, options: { allowZero?: boolean; maxIntegerDigits?: number } = {}): bigint {
  const digits = minorUnits(currency);
  const maxIntegerDigits = options.maxIntegerDigits ?? MAX_INTEGER_DIGITS;
  if (typeof value !== 'string' || value.trim() === '') throw new MoneyError('is required');
  if (value.startsWith('-')) throw new MoneyError('must not be negative');
  const match = /^(\d+)(?:\.(\d+))?$/.exec(value);
  if (!match) throw new MoneyError('must be a decimal number such as 19.99');
  const [, integer, fraction = ''] = match;
  if (integer!.length > 1 && integer!.startsWith('0')) throw new MoneyError('must not have leading zeros');
  if (integer!.length > maxIntegerDigits) throw new MoneyError(`must have at most ${maxIntegerDigits} integer digits`);
  if (fraction.length > digits) {
    throw new MoneyError(digits === 0 ? `must be a whole number in ${currency}` : `must have at most ${digits} decimal places in ${currency}`);
  }
  const minor = BigInt(integer!) * 10n ** BigInt(digits) + BigInt((fraction || '0').padEnd(digits, '0') || '0');
  if (minor === 0n && !options.allowZero) throw new MoneyError('must be greater than zero');
  return minor;
}

/** Formats minor units as the canonical decimal string of `currency` ("0.30", "300"). */
export function formatAmount(minor: bigint, currency: string): string {
  const digits = minorUnits(currency);
  if (minor < 0n) throw new MoneyError('must not be negative');
  if (digits === 0) return minor.toString();
  const text = minor.toString().padStart(digits + 1, '0');
  return `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/** The largest amount the NUMERIC(12,2) columns hold, in minor units of `currency`. */
export function maxAmount(currency: string): bigint {
  return 10n ** BigInt(MAX_INTEGER_DIGITS + minorUnits(currency)) - 1n;
}
