import type { OrderProblem } from './order-input.js';

/**
 * Credit control, pure (issue 13): exchange-rate arithmetic and the credit decision for one order
 * against its customer's and salesperson's exposure counters. The shell (src/customers/credit.ts)
 * locks and loads the counters, and books what this decides.
 */

/** The reasons credit control holds an order for (`orders.hold_reason`). */
export const CREDIT_HOLD_REASONS = [
  'credit_limit',
  'salesperson_credit_limit',
  'customer_on_hold',
  'no_exchange_rate',
  'overdue_invoices',
] as const;
export type CreditHoldReason = (typeof CREDIT_HOLD_REASONS)[number];

/** Hold reasons an approval (`POST /api/orders/{id}/approve`) can lift. */
export const APPROVABLE_HOLD_REASONS: readonly string[] = [
  'credit_limit',
  'salesperson_credit_limit',
  'overdue_invoices',
];

/** An invoice past its due date with money open (the customer's `overdueHold` weighs them). */
export interface OverdueInvoice {
  number: string;
  dueDate: string;
  /** total − paid − credited, in `currency`. */
  open: number;
  currency: string;
}

/** A problem of credit control: the figures it was decided on, for `holdDetails`. */
export interface CreditProblem extends OrderProblem {
  code: CreditHoldReason;
  figures: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Exchange rates
// ---------------------------------------------------------------------------------------------

/** Rates are stored as integers: rate × 10^8 (8 decimal places, exact). */
export const RATE_SCALE_DIGITS = 8;
const RATE_SCALE = 10n ** BigInt(RATE_SCALE_DIGITS);

/**
 * Parses a rate given as a decimal string ("7.8123", at most 8 decimals, > 0) into its scaled
 * integer. Returns null for anything else (a number with more decimals is refused, never rounded).
 */
export function parseRate(text: string): bigint | null {
  const m = /^(\d{1,10})(?:\.(\d{1,8}))?$/.exec(text);
  if (!m) return null;
  const scaled = BigInt(m[1]!) * RATE_SCALE + BigInt((m[2] ?? '').padEnd(RATE_SCALE_DIGITS, '0'));
  return scaled > 0n ? scaled : null;
}

/** A scaled rate as the shortest exact decimal string ("7.8123"). */
export function formatRate(scaled: bigint | number): string {
  const v = BigInt(scaled);
  const whole = v / RATE_SCALE;
  const frac = (v % RATE_SCALE).toString().padStart(RATE_SCALE_DIGITS, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : `${whole}`;
}

const exponents = new Map<string, number>();

/** Minor-unit digits of an ISO 4217 currency (2 for EUR, 0 for JPY), from the runtime's ICU data. */
export function minorDigits(currency: string): number {
  let d = exponents.get(currency);
  if (d === undefined) {
    try {
      d = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
        .maximumFractionDigits as number;
    } catch {
      d = 2;
    }
    exponents.set(currency, d);
  }
  return d;
}

/** `a / b` rounded half away from zero (b > 0). */
function divRound(a: bigint, b: bigint): bigint {
  const neg = a < 0n;
  const abs = neg ? -a : a;
  const q = (abs * 2n + b) / (2n * b);
  return neg ? -q : q;
}

/** A rate in force: 1 `from` = rate_scaled / 10^8 `to`, dated. */
export interface ExchangeRate {
  from: string;
  to: string;
  validOn: string;
  rateScaled: bigint;
}

/** The rates known for a date, by pair (the latest dated on or before it). */
export type RateTable = ReadonlyMap<string, ExchangeRate>;
export const pairKey = (from: string, to: string) => `${from}>${to}`;

export interface Conversion {
  amount: number;
  /** The rate used (null: same currency), as stored (scaled) and its date. */
  rateScaled: bigint | null;
  rateDate: string | null;
}

/**
 * Converts minor units of one currency into minor units of another at the table's rate, rounded
 * half away from zero once, at the end (so 0.005 → 0.01 and -0.005 → -0.01). The direct pair is
 * used when known, else the inverse of the opposite pair (amount ÷ rate). Null when neither is
 * known: never counted at zero.
 */
export function convert(amount: number, from: string, to: string, rates: RateTable): Conversion | null {
  if (from === to) return { amount, rateScaled: null, rateDate: null };
  const shift = minorDigits(to) - minorDigits(from);
  const num = (x: bigint) => (shift >= 0 ? x * 10n ** BigInt(shift) : x);
  const den = (x: bigint) => (shift >= 0 ? x : x * 10n ** BigInt(-shift));
  const direct = rates.get(pairKey(from, to));
  if (direct) {
    const out = divRound(num(BigInt(amount) * direct.rateScaled), den(RATE_SCALE));
    return { amount: Number(out), rateScaled: direct.rateScaled, rateDate: direct.validOn };
  }
  const inverse = rates.get(pairKey(to, from));
  if (inverse) {
    const out = divRound(num(BigInt(amount) * RATE_SCALE), den(inverse.rateScaled));
    // The rate used is the inverse; what is recorded is the stored rate of the opposite pair.
    return { amount: Number(out), rateScaled: inverse.rateScaled, rateDate: inverse.validOn };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// The credit decision
// ---------------------------------------------------------------------------------------------

export interface Money {
  amount: number;
  currency: string;
}

/** An exposure counter (customer or salesperson) as it stands, in its own currency. */
export interface CreditCounter {
  currency: string;
  openOrders: number;
  invoicedUnpaid: number;
}

export interface CreditCustomer {
  id: number;
  code: string | null;
  group: string;
  creditLimit: Money | null;
  onHold: boolean;
  onHoldReason: string | null;
  counter: CreditCounter;
  /**
   * Invoices past due with money open, when the customer has `overdueHold` set (else empty or
   * absent): a new order is held `overdue_invoices` unless an approval covers it.
   */
  overdue?: OverdueInvoice[];
}

export interface CreditSalesperson {
  id: number;
  code: string;
  creditLimit: Money | null;
  counter: CreditCounter;
}

export interface CreditOrder {
  id: number;
  /** The order's value as the rules leave it, in its currency. */
  total: number;
  currency: string;
  paidOnChannel: boolean;
  /** What this order has booked on its customer's counter so far (net), in the counter's currency. */
  booked: number;
  /** The highest amount an approval covers, in the order's currency (null: not approved). */
  approvedUpTo: Money | null;
}

/** Why an order takes no credit check (and locks nothing). */
export type NoCheckReason = 'no_customer' | 'retail' | 'paid_on_channel';

/** Whether an order takes a credit check; the shell locks only the customers of those that do. */
export function creditExemption(
  order: { customerId: number | null; paidOnChannel: boolean },
  customerGroup: string | null,
): NoCheckReason | null {
  if (order.customerId === null || customerGroup === null) return 'no_customer';
  if (customerGroup.toLowerCase() === 'retail') return 'retail';
  if (order.paidOnChannel) return 'paid_on_channel';
  return null;
}

/** What to book when the order passes: the difference to what it has booked already. */
export interface CreditBooking {
  customerId: number;
  salespersonId: number | null;
  /** Customer counter currency. */
  amount: number;
  currency: string;
  spAmount: number | null;
  spCurrency: string | null;
  sourceAmount: number;
  sourceCurrency: string;
  rateScaled: bigint | null;
  rateDate: string | null;
}

/** What the quote shows: the headroom before this order. */
export interface CreditInfo {
  checked: boolean;
  exempt?: NoCheckReason;
  /** No limit applies and no rate converts the order: it passed without being booked. */
  uncounted?: boolean;
  approved?: boolean;
  customer?: { limit: Money | null; exposure: Money; available: Money | null; order: Money | null };
  salesperson?: {
    code: string;
    limit: Money | null;
    exposure: Money;
    available: Money | null;
    order: Money | null;
  };
}

export interface CreditDecision {
  problems: CreditProblem[];
  booking?: CreditBooking;
  info: CreditInfo;
}

const exposureOf = (c: CreditCounter) => c.openOrders + c.invoicedUnpaid;

function noRate(from: string, to: string, date: string, what: string): CreditProblem {
  return {
    code: 'no_exchange_rate',
    message: `no exchange rate ${from}→${to} on or before ${date} to count the order against ${what}`,
    figures: { from, to, date },
  };
}

/**
 * Decides credit for one order of a trade customer (not exempt: see `creditExemption`): the
 * amount it books on the customer's counter (its value converted at the day's rate, less what it
 * booked already), and whether that takes the customer or its salesperson over their limit. An
 * approval covering the order's value lifts the limits (never a missing rate). A customer on hold
 * holds the order whatever the figures.
 */
export function decideCredit(
  order: CreditOrder,
  customer: CreditCustomer,
  salesperson: CreditSalesperson | null,
  rates: RateTable,
  date: string,
): CreditDecision {
  const problems: CreditProblem[] = [];
  const info: CreditInfo = { checked: true };
  const approved =
    order.approvedUpTo !== null &&
    order.approvedUpTo.currency === order.currency &&
    order.total <= order.approvedUpTo.amount;
  if (approved) info.approved = true;
  const cc = customer.counter.currency;
  const customerExposure = exposureOf(customer.counter);

  if (customer.onHold)
    problems.push({
      code: 'customer_on_hold',
      message: `the customer is on hold${customer.onHoldReason ? `: ${customer.onHoldReason}` : ''}`,
      figures: { customer: customer.code, reason: customer.onHoldReason },
    });

  if (customer.overdue?.length && !approved) {
    const invoices = customer.overdue.map((i) => ({
      number: i.number,
      dueDate: i.dueDate,
      open: i.open,
      currency: i.currency,
    }));
    problems.push({
      code: 'overdue_invoices',
      message: `the customer has ${invoices.length} invoice(s) past due with money open: ${invoices
        .map((i) => `${i.number} (${i.open} ${i.currency}, due ${i.dueDate})`)
        .join(', ')}`,
      figures: { customer: customer.code, invoices },
    });
  }

  const converted = convert(order.total, order.currency, cc, rates);
  if (!converted) {
    // Nothing to decide without a limit: the order passes, uncounted (README "Credit control").
    if (!customer.creditLimit && !salesperson?.creditLimit && problems.length === 0) {
      info.uncounted = true;
      return { problems, info };
    }
    problems.push(noRate(order.currency, cc, date, 'the customer'));
    info.customer = {
      limit: customer.creditLimit,
      exposure: { amount: customerExposure, currency: cc },
      available: null,
      order: null,
    };
    return { problems, info };
  }
  const delta = converted.amount - order.booked;
  const after = customerExposure + delta;

  // The customer's limit, in its own currency.
  let available: Money | null = null;
  if (customer.creditLimit) {
    const limit = customer.creditLimit;
    const exposureInLimit = convert(customerExposure, cc, limit.currency, rates);
    const afterInLimit = convert(after, cc, limit.currency, rates);
    if (!exposureInLimit || !afterInLimit)
      problems.push(noRate(cc, limit.currency, date, 'the credit limit'));
    else {
      available = { amount: limit.amount - exposureInLimit.amount, currency: limit.currency };
      if (afterInLimit.amount > limit.amount && delta > 0 && !approved)
        problems.push({
          code: 'credit_limit',
          message:
            `the order (${converted.amount} ${cc}) takes the customer's exposure to ${afterInLimit.amount} ` +
            `${limit.currency}, over its credit limit of ${limit.amount}`,
          figures: {
            customer: customer.code,
            creditLimit: limit.amount,
            currency: limit.currency,
            openOrders: customer.counter.openOrders,
            invoicedUnpaid: customer.counter.invoicedUnpaid,
            exposure: exposureInLimit.amount,
            orderAmount: converted.amount,
            exposureAfter: afterInLimit.amount,
            available: available.amount,
          },
        });
    }
  }
  info.customer = {
    limit: customer.creditLimit,
    exposure: { amount: customerExposure, currency: cc },
    available,
    order: { amount: converted.amount, currency: cc },
  };

  let spAmount: number | null = null;
  if (salesperson) {
    const sc = salesperson.counter.currency;
    const spExposure = exposureOf(salesperson.counter);
    const spConverted = convert(delta, cc, sc, rates);
    let spAvailable: Money | null = null;
    if (!spConverted) {
      // A salesperson without a limit is not held for a missing rate; the order is not counted there.
      if (salesperson.creditLimit) problems.push(noRate(cc, sc, date, 'the salesperson'));
    } else {
      spAmount = spConverted.amount;
      const limit = salesperson.creditLimit;
      if (limit) {
        const exposureInLimit = convert(spExposure, sc, limit.currency, rates);
        const afterInLimit = convert(spExposure + spAmount, sc, limit.currency, rates);
        if (!exposureInLimit || !afterInLimit)
          problems.push(noRate(sc, limit.currency, date, "the salesperson's credit limit"));
        else {
          spAvailable = { amount: limit.amount - exposureInLimit.amount, currency: limit.currency };
          if (afterInLimit.amount > limit.amount && spAmount > 0 && !approved)
            problems.push({
              code: 'salesperson_credit_limit',
              message:
                `the order takes salesperson ${salesperson.code}'s customers to ${afterInLimit.amount} ` +
                `${limit.currency}, over the salesperson's credit limit of ${limit.amount}`,
              figures: {
                salesperson: salesperson.code,
                creditLimit: limit.amount,
                currency: limit.currency,
                openOrders: salesperson.counter.openOrders,
                invoicedUnpaid: salesperson.counter.invoicedUnpaid,
                exposure: exposureInLimit.amount,
                orderAmount: spAmount,
                exposureAfter: afterInLimit.amount,
                available: spAvailable.amount,
              },
            });
        }
      }
    }
    info.salesperson = {
      code: salesperson.code,
      limit: salesperson.creditLimit,
      exposure: { amount: spExposure, currency: sc },
      available: spAvailable,
      order: spAmount === null ? null : { amount: spAmount, currency: sc },
    };
  }

  if (problems.length > 0) return { problems, info };
  return {
    problems,
    info,
    booking: {
      customerId: customer.id,
      salespersonId: salesperson?.id ?? null,
      amount: delta,
      currency: cc,
      spAmount,
      spCurrency: spAmount === null ? null : (salesperson?.counter.currency ?? null),
      sourceAmount: order.total,
      sourceCurrency: order.currency,
      rateScaled: converted.rateScaled,
      rateDate: converted.rateDate,
    },
  };
}

/** Applies a booking to the in-memory counters (what `take` does before queuing the writes). */
export function applyBooking(
  booking: CreditBooking,
  customer: CreditCustomer,
  salesperson: CreditSalesperson | null,
): void {
  customer.counter.openOrders += booking.amount;
  if (salesperson && booking.spAmount !== null) salesperson.counter.openOrders += booking.spAmount;
}

/**
 * The part of an order's booked exposure that stays when it is cancelled: the share of its lines'
 * value that shipped (shipped goods are invoiced later), rounded half up; all of it is given back
 * when nothing shipped.
 */
export function shippedShare(
  booked: number,
  lines: readonly { ordered: number; shipped: number; unitPrice: number; discountAmount: number }[],
): number {
  let total = 0n;
  let shipped = 0n;
  for (const l of lines) {
    const net = BigInt(l.ordered) * BigInt(l.unitPrice) - BigInt(l.discountAmount);
    total += net;
    if (l.ordered > 0) shipped += (net * BigInt(l.shipped)) / BigInt(l.ordered);
  }
  if (shipped <= 0n || total <= 0n) return 0;
  if (shipped >= total) return booked;
  return Number(divRound(BigInt(booked) * shipped, total));
}
