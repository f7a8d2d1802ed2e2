import { divideRounded } from '../../src/domain/order-money.js';

const NO_DECIMALS = 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF';
const THREE_DECIMALS = 'BHD IQD JOD KWD LYD OMR TND';
const FOUR_DECIMALS = 'CLF UYW';

/** ISO 4217 minor-unit digits of the currencies where they are not 2. */
const MINOR_DIGITS: ReadonlyMap<string, number> = new Map([
  ...NO_DECIMALS.split(' ').map((c) => [c, 0] as const),
  ...THREE_DECIMALS.split(' ').map((c) => [c, 3] as const),
  ...FOUR_DECIMALS.split(' ').map((c) => [c, 4] as const),
]);

/** Digits after the decimal point in `currency`'s minor unit (JPY 0, EUR 2, KWD 3). */
export function minorDigits(currency: string): number {
  return MINOR_DIGITS.get(currency) ?? 2;
}

/**
 * Converts a decimal amount as the channel sends it (`"199.00"`, `"1500"`, `"1.250"`) into integer
 * minor units of `currency`, on the digits alone, never through a float. Extra decimals are
 * allowed only when they are zeros (`"1500.00"` JPY is 1500; `"1500.50"` JPY is not an amount).
 * Returns null for anything that is not a non-negative decimal or does not fit a safe integer.
 */
export function toMinorUnits(amount: unknown, currency: string): number | null {
  let text: string;
  if (typeof amount === 'string') text = amount.trim();
  else if (typeof amount === 'number' && Number.isFinite(amount)) text = String(amount);
  else return null;
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) return null;
  const whole = m[1] as string;
  const fraction = m[2] ?? '';
  const digits = minorDigits(currency);
  if (fraction.length > digits && !/^0*$/.test(fraction.slice(digits))) return null;
  const minor = BigInt(whole + fraction.slice(0, digits).padEnd(digits, '0'));
  if (minor > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(minor);
}

/**
 * Reads the money fields of a channel's payload into integer minor units (`toMinorUnits`), noting
 * each amount it cannot read instead of guessing it: the caller turns `bad` into order problems.
 */
export class MoneyReader {
  readonly bad: string[] = [];
  constructor(readonly currency: string) {}

  /** An amount; undefined when the field is absent (or null), and when it is not an amount (noted). */
  amount(value: unknown, what: string): number | undefined {
    if (value === undefined || value === null) return undefined;
    const minor = toMinorUnits(value, this.currency);
    if (minor === null)
      this.bad.push(`${what} ${JSON.stringify(value)} is not a valid ${this.currency} amount`);
    return minor ?? undefined;
  }

  /** The sum of one amount of each item; undefined when `items` is not a list. */
  sum(items: unknown, pick: (item: Record<string, unknown>) => unknown, what: string): number | undefined {
    if (!Array.isArray(items)) return undefined;
    let total = 0;
    for (const item of items) {
      const value = typeof item === 'object' && item !== null ? pick(item as Record<string, unknown>) : item;
      total += this.amount(value, what) ?? 0;
    }
    return total;
  }
}

/**
 * The part of a line's amount (its discount, its tax) that falls on `left` of its `ordered` units,
 * once some were removed or refunded: `amount × left / ordered`, rounded half away from zero.
 */
export function shareOfUnits(amount: number, left: number, ordered: number): number {
  if (left >= ordered || ordered <= 0) return amount;
  return Number(divideRounded(BigInt(amount) * BigInt(Math.max(left, 0)), BigInt(ordered)));
}
