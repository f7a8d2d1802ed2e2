/**
 * An order's money, computed in one place (README "Order money and tax"). Pure, over integer minor
 * units of the order's currency; every sum is a BigInt, so no amount overflows or rounds, and the
 * caller checks the result against the bound it stores (`LIMITS.maxMinor`).
 *
 *   line amount   = quantity × unit price − line discount
 *   subtotal      = Σ line amounts
 *   total         = subtotal − order discount + shipping + tax   (prices exclusive of tax)
 *   total         = subtotal − order discount + shipping         (prices inclusive of tax: the tax is inside)
 *
 * The order's tax is what the order says (a channel's `total_tax`), else the sum of its lines' tax.
 */

export interface MoneyLine {
  quantity: number;
  /** Minor units. Absent on an API order line sold at the agreed price: 0 until the price check sets it. */
  unitPrice?: number | undefined;
  /** Discount on the whole line (not per unit), minor units. Default 0. */
  discount?: number | undefined;
  /** Tax of the whole line, minor units. Default 0. */
  tax?: number | undefined;
}

/** What an order says about money beyond its lines. */
export interface OrderAmounts {
  shipping?: number | undefined;
  /** Discount on the order as a whole (not allocated to a line). */
  discount?: number | undefined;
  /** The order's tax; absent: the sum of the lines' tax. */
  tax?: number | undefined;
  /** Unit prices and shipping include tax. */
  pricesIncludeTax?: boolean | undefined;
}

export interface OrderMoney {
  lines: { gross: bigint; discount: bigint; amount: bigint; tax: bigint }[];
  subtotal: bigint;
  discount: bigint;
  shipping: bigint;
  tax: bigint;
  total: bigint;
}

const big = (n: number | undefined) => BigInt(n ?? 0);

/** The order's money from its lines and order-level amounts; exact, never rounded. */
export function computeOrderMoney(lines: readonly MoneyLine[], amounts: OrderAmounts = {}): OrderMoney {
  const out = lines.map((l) => {
    const gross = BigInt(l.quantity) * BigInt(l.unitPrice ?? 0);
    const discount = big(l.discount);
    return { gross, discount, amount: gross - discount, tax: big(l.tax) };
  });
  const subtotal = out.reduce((s, l) => s + l.amount, 0n);
  const discount = big(amounts.discount);
  const shipping = big(amounts.shipping);
  const tax = amounts.tax === undefined ? out.reduce((s, l) => s + l.tax, 0n) : BigInt(amounts.tax);
  const total = subtotal - discount + shipping + (amounts.pricesIncludeTax ? 0n : tax);
  return { lines: out, subtotal, discount, shipping, tax, total };
}

/** Basis points in one whole: a rate of 1300 bp is 13 %. */
export const BASIS_POINTS = 10_000n;

/**
 * `n / d` rounded to the nearest integer, halves away from zero (2.5 -> 3, -2.5 -> -3): the
 * commercial rounding of invoices and tills, and what Shopify and WooCommerce do per line.
 */
export function divideRounded(n: bigint, d: bigint): bigint {
  if (d <= 0n) throw new RangeError('divisor must be positive');
  const negative = n < 0n;
  const abs = negative ? -n : n;
  const q = (abs * 2n + d) / (2n * d);
  return negative ? -q : q;
}

/**
 * The tax of one line's amount at `rateBp` basis points, rounded per line to a whole minor unit
 * (halves away from zero). Exclusive prices: amount × rate. Inclusive prices: the tax inside the
 * amount, amount × rate / (1 + rate).
 */
export function lineTax(amount: bigint, rateBp: number, pricesIncludeTax: boolean): bigint {
  const rate = BigInt(rateBp);
  return pricesIncludeTax
    ? divideRounded(amount * rate, BASIS_POINTS + rate)
    : divideRounded(amount * rate, BASIS_POINTS);
}

/**
 * Lines with their tax filled in from rates: a line that already says its tax keeps it; any other
 * gets `lineTax` of its amount (after its discount) at the rate `rateOf` gives it (0 when none).
 */
export function withComputedTax<L extends MoneyLine>(
  lines: readonly L[],
  rateOf: (line: L) => number,
  pricesIncludeTax: boolean,
): L[] {
  return lines.map((l) => {
    // A line without a price yet is taxed once the price check prices it (see processing).
    if (l.tax !== undefined || l.unitPrice === undefined) return l;
    const amount = BigInt(l.quantity) * BigInt(l.unitPrice) - big(l.discount);
    return { ...l, tax: Number(lineTax(amount, rateOf(l), pricesIncludeTax)) };
  });
}
