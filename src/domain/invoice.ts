import { computeOrderMoney, divideRounded } from './order-money.js';

/**
 * Invoice arithmetic (README "Invoices"), pure over plain data: which share of an order line's
 * money a part of its quantity carries, an invoice's totals, numbers, dates. Integer minor units
 * throughout; sums in BigInt.
 */

export const INVOICE_POLICIES = ['on_shipment', 'on_order', 'periodic'] as const;
export type InvoicePolicy = (typeof INVOICE_POLICIES)[number];

export type DocumentType = 'invoice' | 'credit_note';

/** The number series of each kind of document: credit notes count on their own. */
export const SERIES: Record<DocumentType, string> = { invoice: 'INV', credit_note: 'CN' };

/** `INV-2026-000123`: series, year, and the number within them, six digits at least. */
export function formatInvoiceNumber(series: string, year: number, seq: number): string {
  return `${series}-${year}-${String(seq).padStart(6, '0')}`;
}

export function parseInvoiceNumber(number: string): { series: string; year: number; seq: number } | null {
  const m = /^([A-Z]{1,16})-(\d{4})-(\d{6,})$/.exec(number);
  return m ? { series: m[1]!, year: Number(m[2]), seq: Number(m[3]) } : null;
}

/**
 * The share of `total` that `now` units carry when `before` units of `whole` carried theirs
 * already: cumulative rounding (round(total × (before + now) / whole) − round(total × before /
 * whole)), so the shares of all the parts add up to `total` exactly, whatever the split.
 */
export function shareOf(total: number, before: number, now: number, whole: number): number {
  if (whole <= 0 || now === 0) return 0;
  const t = BigInt(total);
  const w = BigInt(whole);
  const after = divideRounded(t * BigInt(before + now), w);
  const prior = divideRounded(t * BigInt(before), w);
  return Number(after - prior);
}

/** An order line's money, as stored (discount and tax are the whole line's, for `ordered` units). */
export interface BillableLine {
  orderLineId: number;
  sku: string;
  description: string;
  ordered: number;
  unitPrice: number;
  discount: number;
  tax: number;
  taxClass: string | null;
  taxCode: string | null;
  /** Units of this line already on (blue) invoices. */
  invoicedBefore: number;
}

export interface InvoiceLineDraft {
  orderId: number | null;
  orderLineId: number | null;
  shipmentId: number | null;
  creditsLineId: number | null;
  sku: string;
  description: string;
  quantity: number;
  unitPrice: number;
  discount: number;
  tax: number;
  taxClass: string | null;
  taxCode: string | null;
  /** quantity × unit price − discount. */
  amount: number;
}

/**
 * The invoice line for `quantity` units of an order line: its unit price, and the shares of the
 * line's discount and tax those units carry after the units invoiced before.
 */
export function billLine(
  line: BillableLine,
  quantity: number,
  refs: { orderId: number; shipmentId: number | null },
): InvoiceLineDraft {
  const discount = shareOf(line.discount, line.invoicedBefore, quantity, line.ordered);
  const tax = shareOf(line.tax, line.invoicedBefore, quantity, line.ordered);
  return {
    orderId: refs.orderId,
    orderLineId: line.orderLineId,
    shipmentId: refs.shipmentId,
    creditsLineId: null,
    sku: line.sku,
    description: line.description,
    quantity,
    unitPrice: line.unitPrice,
    discount,
    tax,
    taxClass: line.taxClass,
    taxCode: line.taxCode,
    amount: quantity * line.unitPrice - discount,
  };
}

/** An order's money beyond its lines, charged once, on its first invoice. */
export interface OrderCharges {
  shipping: number;
  discount: number;
  /** Tax the order has beyond its lines' (e.g. on shipping): the order's tax − Σ its lines' tax. */
  orderTax: number;
}

export interface InvoiceTotals {
  subtotal: number;
  discount: number;
  shipping: number;
  shippingTax: number;
  tax: number;
  total: number;
}

/**
 * An invoice's totals, by the order money's one rule (`computeOrderMoney`): subtotal of the lines,
 * less the order discount, plus shipping, plus tax unless prices include it.
 */
export function invoiceTotals(
  lines: readonly InvoiceLineDraft[],
  charges: OrderCharges,
  pricesIncludeTax: boolean,
): InvoiceTotals {
  const lineTax = lines.reduce((s, l) => s + l.tax, 0);
  const money = computeOrderMoney(
    lines.map((l) => ({ quantity: l.quantity, unitPrice: l.unitPrice, discount: l.discount, tax: l.tax })),
    {
      shipping: charges.shipping,
      discount: charges.discount,
      tax: lineTax + charges.orderTax,
      pricesIncludeTax,
    },
  );
  return {
    subtotal: Number(money.subtotal),
    discount: Number(money.discount),
    shipping: Number(money.shipping),
    shippingTax: charges.orderTax,
    tax: Number(money.tax),
    total: Number(money.total),
  };
}

/** A line of an issued invoice, with what credit notes have credited of it so far. */
export interface CreditableLine {
  id: number;
  orderId: number | null;
  orderLineId: number | null;
  sku: string;
  description: string;
  quantity: number;
  unitPrice: number;
  discount: number;
  tax: number;
  taxClass: string | null;
  taxCode: string | null;
  creditedQuantity: number;
}

/**
 * Credit note lines for `wanted` units per SKU (spread over that SKU's lines in line order), or for
 * everything not yet credited when `wanted` is absent. Amounts are the credited units' cumulative
 * shares, so crediting a line in parts credits exactly what it invoiced. Quantities are positive:
 * the credit note subtracts them. Throws a message for a SKU not on the invoice or more than is left.
 */
export function creditLines(
  lines: readonly CreditableLine[],
  wanted?: ReadonlyMap<string, number>,
): InvoiceLineDraft[] | { problem: string; details: Record<string, unknown> } {
  const take = new Map<number, number>();
  if (!wanted) {
    for (const l of lines) take.set(l.id, l.quantity - l.creditedQuantity);
  } else {
    for (const [sku, quantity] of wanted) {
      const ofSku = lines.filter((l) => l.sku.toLowerCase() === sku.toLowerCase());
      if (ofSku.length === 0) return { problem: `SKU ${sku} is not on the invoice`, details: { sku } };
      let remaining = quantity;
      for (const l of ofSku) {
        const n = Math.min(remaining, l.quantity - l.creditedQuantity - (take.get(l.id) ?? 0));
        if (n > 0) take.set(l.id, (take.get(l.id) ?? 0) + n);
        remaining -= Math.max(n, 0);
      }
      if (remaining > 0) {
        const left = ofSku.reduce((s, l) => s + l.quantity - l.creditedQuantity, 0);
        return {
          problem: `only ${left} of ${sku} are left to credit; ${quantity} cannot be`,
          details: { sku, creditable: left, requested: quantity },
        };
      }
    }
  }
  return creditTaken(lines, take);
}

/** Credit note lines for `take` units of each invoice line (by id), at their cumulative shares. */
export function creditTaken(
  lines: readonly CreditableLine[],
  take: ReadonlyMap<number, number>,
): InvoiceLineDraft[] {
  const out: InvoiceLineDraft[] = [];
  for (const l of lines) {
    const q = Math.min(take.get(l.id) ?? 0, l.quantity - l.creditedQuantity);
    if (q <= 0) continue;
    const discount = shareOf(l.discount, l.creditedQuantity, q, l.quantity);
    const tax = shareOf(l.tax, l.creditedQuantity, q, l.quantity);
    out.push({
      orderId: l.orderId,
      orderLineId: l.orderLineId,
      shipmentId: null,
      creditsLineId: l.id,
      sku: l.sku,
      description: l.description,
      quantity: q,
      unitPrice: l.unitPrice,
      discount,
      tax,
      taxClass: l.taxClass,
      taxCode: l.taxCode,
      amount: q * l.unitPrice - discount,
    });
  }
  return out;
}

const DAY_MS = 86_400_000;

/** A calendar date plus whole days (`YYYY-MM-DD`). */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Whether a calendar date is the last day of its month. */
export const isLastDayOfMonth = (date: string) => addDays(date, 1).slice(8, 10) === '01';

/** The first day of the month of a date, and of the month after it. */
export function monthBounds(date: string): { first: string; next: string } {
  const first = `${date.slice(0, 7)}-01`;
  const d = new Date(`${first}T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + 1);
  return { first, next: d.toISOString().slice(0, 10) };
}

/**
 * The UTC instant at which a calendar date begins in a time zone, as stored times are written
 * (`YYYY-MM-DD HH:MM:SS.mmm`). Found from the zone's offset at that moment (two passes cover a
 * change of offset near midnight).
 */
export function startOfDayUtc(date: string, timeZone: string): string {
  const guess = Date.parse(`${date}T00:00:00Z`);
  let t = guess;
  for (let i = 0; i < 2; i++) t = guess - offsetMs(t, timeZone);
  return new Date(t).toISOString().replace('T', ' ').replace('Z', '');
}

function offsetMs(instant: number, timeZone: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(new Date(instant))
      .map((p) => [p.type, p.value]),
  );
  const local = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
  return local - Math.floor(instant / 1000) * 1000;
}
