import { addDays, monthBounds } from './invoice.js';

/**
 * Customer statements (对账单) as plain data: the states and their moves, the period a statement
 * covers, the ageing buckets at the period's end, and how each kind of line moves the balance.
 */

export const STATEMENT_STATES = ['issued', 'sent', 'confirmed', 'disputed'] as const;
export type StatementState = (typeof STATEMENT_STATES)[number];

/** The moves a statement's state can make: issued → sent → confirmed | disputed. */
const NEXT: Record<StatementState, readonly StatementState[]> = {
  issued: ['sent'],
  sent: ['confirmed', 'disputed'],
  confirmed: [],
  disputed: [],
};

export const canMove = (from: StatementState, to: StatementState) => NEXT[from].includes(to);

/** What a statement line is: a shipment is shown for information and moves no money. */
export type StatementLineKind = 'shipment' | 'invoice' | 'credit_note' | 'payment';

/** Lines of one date come in this order: shipments, then invoices and credit notes, then payments. */
export const LINE_RANK: Record<StatementLineKind, number> = {
  shipment: 0,
  invoice: 1,
  credit_note: 1,
  payment: 2,
};

/** How a line moves the customer's balance (minor units): invoices up, credit notes and payments down. */
export function signedAmount(kind: StatementLineKind, amount: number): number {
  if (kind === 'invoice') return amount;
  if (kind === 'shipment') return 0;
  return -amount;
}

/** The dates a statement covers, inclusive, and its key: `YYYY-MM` for a whole month, else `<from>_<to>`. */
export interface StatementPeriod {
  from: string;
  to: string;
  key: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const isDate = (d: string) =>
  DATE.test(d) && !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && addDays(d, 0) === d;

/** A month `YYYY-MM` as a period. */
export function monthPeriod(month: string): StatementPeriod {
  const { first, next } = monthBounds(`${month}-01`);
  return { from: first, to: addDays(next, -1), key: month };
}

/** A period from two dates; null with the reason when they are not one. */
export function datePeriod(from: string, to: string): StatementPeriod | string {
  if (!isDate(from)) return 'from is not a date YYYY-MM-DD';
  if (!isDate(to)) return 'to is not a date YYYY-MM-DD';
  if (to < from) return 'to is before from';
  if (addDays(from, 3660) < to) return 'a statement covers at most ten years';
  const whole = from.slice(8) === '01' && monthPeriod(from.slice(0, 7)).to === to;
  return { from, to, key: whole ? from.slice(0, 7) : `${from}_${to}` };
}

export interface AgeingBounds {
  /** Due on or after this date: not yet due at the period's end. */
  current: string;
  /** Due on or after: 1–30 days past due. */
  d30: string;
  d60: string;
  d90: string;
}

/** Days past due are counted at the period's last day: due that day is current, a day before is 1 day past due. */
export function ageingBounds(to: string): AgeingBounds {
  return { current: to, d30: addDays(to, -30), d60: addDays(to, -60), d90: addDays(to, -90) };
}

export type AgeingBucket = 'current' | 'd1_30' | 'd31_60' | 'd61_90' | 'over90';
export const AGEING_BUCKETS: readonly AgeingBucket[] = ['current', 'd1_30', 'd31_60', 'd61_90', 'over90'];

/** The bucket of an invoice due on `dueDate`, at the period's end `to`. */
export function ageingBucket(dueDate: string, to: string): AgeingBucket {
  const b = ageingBounds(to);
  if (dueDate >= b.current) return 'current';
  if (dueDate >= b.d30) return 'd1_30';
  if (dueDate >= b.d60) return 'd31_60';
  if (dueDate >= b.d90) return 'd61_90';
  return 'over90';
}
