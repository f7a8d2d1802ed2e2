import type { OrderProblem } from '../../src/domain/order-input.js';
import { PermanentError } from '../../src/errors/permanent-error.js';
import type {
  NormalizedLine,
  NormalizedMoney,
  NormalizedOrder,
  NormalizedRefund,
  NormalizedRefundLine,
  RefundMoney,
} from '../contract.js';
import { buyer, fullName, phoneOf } from '../shared/buyer.js';
import { MoneyReader, shareOfUnits, toMinorUnits } from '../shared/money.js';
import { isRecord, type Rec, text } from '../shared/payload.js';

/**
 * Statuses after which the order will not be fulfilled. Not `failed`: that is a payment that failed
 * on an order that still needs payment (`WC_Order::needs_payment()` is true for it), which the
 * customer can pay later and which then becomes `processing`. Like `pending` (awaiting payment) it
 * stays an open order that keeps its stock; cancelling it would lose the order for good.
 */
const CANCELLED_STATUSES: ReadonlySet<string> = new Set(['cancelled', 'refunded', 'trash']);

/** Statuses of carts that are not orders yet (block checkout); WooCommerce's own webhooks skip them. */
export const DRAFT_STATUSES: ReadonlySet<string> = new Set(['checkout-draft', 'draft', 'auto-draft']);

/**
 * A WooCommerce id (a positive integer, or its digit string) as a string. Null for `0` (WooCommerce's
 * "none": a guest's customer_id, a line's variation_id), for anything absent, and for a number that
 * is not a safe integer (it would already have lost digits).
 */
export function wooIdString(value: unknown): string | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? String(value) : null;
  if (typeof value === 'string') {
    const t = value.trim();
    return /^[1-9]\d*$/.test(t) ? t : null;
  }
  return null;
}

/** `2017-03-22T19:28:02`, optionally with fractional seconds and a zone (`Z`, `+02:00`, `+0200`). */
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * A WooCommerce date-time read as UTC when it carries no zone, as ISO 8601 with `Z`. WooCommerce's
 * `_gmt` fields are UTC but written without a zone designator (`2017-03-22T19:28:02`); `Date.parse`
 * would read such a value in the server's local zone, so the `Z` is added first.
 */
export function wooDateToIso(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const m = DATE_TIME.exec(value.trim());
  if (!m) return null;
  const zone = (m[3] ?? 'Z').toUpperCase().replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(`${m[1]}T${m[2]}${zone}`);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/**
 * `<field>_gmt` as UTC. Only when a payload lacks the `_gmt` twin (trimmed by `_fields` or a
 * plugin) do we fall back to `<field>`: that one is in the site's time zone, which the payload
 * does not name, so reading it as UTC is off by the site's offset. Better an approximate time than
 * none; complete payloads never take this path.
 */
function orderTime(p: Rec, field: string): string | null {
  return wooDateToIso(p[`${field}_gmt`]) ?? wooDateToIso(p[field]);
}

function email(value: unknown): string | undefined {
  const t = text(value);
  return t && /^[^\s@]+@[^\s@]+$/.test(t) ? t : undefined;
}

function invalid(message: string): PermanentError {
  return new PermanentError('invalid_payload', `WooCommerce order: ${message}`);
}

function currencyOf(value: unknown): string {
  const c = text(value)?.toUpperCase();
  if (!c || !/^[A-Z]{3}$/.test(c))
    throw invalid(`currency ${JSON.stringify(value ?? null)} is not an ISO 4217 code`);
  return c;
}

export type UnitPrice = { ok: true; minor: number } | { ok: false; reason: string };

/**
 * A line's unit price in integer minor units, from its decimal strings only.
 *
 * It is `subtotal / quantity`: the price before coupons (like Shopify's original unit price),
 * without tax; when the shop's prices include tax, `subtotal_tax` is added back first, so that it
 * is the price the shop lists either way (a gross price of 10.00 × 3 comes as `"25.21"` +
 * `"4.79"`, which divides exactly, while the net part alone would not).
 *
 * The line's `price` is never used: WooCommerce computes it as `total / quantity` in PHP floats,
 * so it is after coupons (a different price) and often not a decimal at all (`8.333333333333334`).
 * When the division is not exact in minor units (a catalogue price with more decimals than the
 * currency), there is no exact unit price to give and the caller reports the line.
 */
export function lineUnitPrice(
  line: { quantity: unknown; subtotal: unknown; subtotal_tax?: unknown },
  currency: string,
  pricesIncludeTax: boolean,
): UnitPrice {
  const quantity = line.quantity;
  if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1) {
    return {
      ok: false,
      reason: `quantity ${JSON.stringify(quantity ?? null)} is not a whole number of at least 1`,
    };
  }
  const subtotal = toMinorUnits(line.subtotal, currency);
  if (subtotal === null) {
    return {
      ok: false,
      reason: `subtotal ${JSON.stringify(line.subtotal ?? null)} is not a valid ${currency} amount`,
    };
  }
  let amount = subtotal;
  let described = `subtotal ${String(line.subtotal)}`;
  if (pricesIncludeTax) {
    const tax = toMinorUnits(line.subtotal_tax, currency);
    if (tax === null) {
      return {
        ok: false,
        reason: `subtotal_tax ${JSON.stringify(line.subtotal_tax ?? null)} is not a valid ${currency} amount`,
      };
    }
    amount = subtotal + tax;
    if (!Number.isSafeInteger(amount)) return { ok: false, reason: 'subtotal plus tax is too large' };
    described += ` + tax ${String(line.subtotal_tax)}`;
  }
  if (amount % quantity !== 0) {
    return {
      ok: false,
      reason: `${described} over quantity ${quantity} is not a whole number of ${currency} minor units`,
    };
  }
  return { ok: true, minor: amount / quantity };
}

/**
 * Units refunded per order line id (`line_items[].id`), read from refunds as
 * `GET orders/<id>/refunds` gives them: each refund's `line_items` carry a negative `quantity` and
 * the refunded line's id in the meta `_refunded_item_id`. Refunds without line items (an amount
 * only, or the short `{id, reason, total}` the order itself lists) refund no units.
 */
export function refundedUnits(refunds: unknown): Map<string, number> {
  const units = new Map<string, number>();
  if (!Array.isArray(refunds)) return units;
  for (const refund of refunds) {
    if (!isRecord(refund) || !Array.isArray(refund.line_items)) continue;
    for (const item of refund.line_items) {
      if (!isRecord(item) || !Array.isArray(item.meta_data)) continue;
      const meta = item.meta_data.find((m) => isRecord(m) && m.key === '_refunded_item_id');
      const lineId = isRecord(meta) ? wooIdString(meta.value) : null;
      const quantity =
        typeof item.quantity === 'number' && Number.isInteger(item.quantity) ? item.quantity : 0;
      if (lineId && quantity !== 0) units.set(lineId, (units.get(lineId) ?? 0) + Math.abs(quantity));
    }
  }
  return units;
}

/** A refund's amount as WooCommerce writes it (`"-9.00"` on its items): its size, in minor units. */
function refundMinor(value: unknown, currency: string): number | null {
  if (value === undefined || value === null || value === '') return 0;
  const t =
    typeof value === 'string'
      ? value.trim().replace(/^-/, '')
      : typeof value === 'number'
        ? Math.abs(value)
        : value;
  return toMinorUnits(t, currency);
}

/**
 * What a refund (as `GET orders/<id>/refunds` gives it) paid back: its `amount`, and the value of
 * its line items (`total` + `total_tax`, negative there); the rest (a refund of an amount only,
 * shipping, fees) is an allowance. Undefined when an amount cannot be read.
 */
function wooRefundMoney(r: Rec, currency: string): RefundMoney | undefined {
  const amount = refundMinor(r.amount, currency);
  if (amount === null || r.amount === undefined) return undefined;
  let linesAmount = 0;
  for (const item of Array.isArray(r.line_items) ? r.line_items : []) {
    if (!isRecord(item)) continue;
    const total = refundMinor(item.total, currency);
    const tax = refundMinor(item.total_tax, currency);
    if (total === null || tax === null) return undefined;
    linesAmount += total + tax;
  }
  return { currency, amount, linesAmount };
}

/**
 * The refunds an order's payload lists with their line items (as `GET orders/<id>/refunds` gives
 * them), oldest first: each refunded unit's line resolved through `_refunded_item_id` to the order's
 * line (its SKU, product and variation), else to the ids the refund's item carries. WooCommerce does
 * not say whether refunded units were restocked (`restockType: null`: the channel's
 * `restockOnRefund` decides). A refund that lists no line items refunds money only. Undefined when
 * the payload lists no refund with its line items (the order's own JSON: see `withRefundLines`).
 */
export function wooRefunds(payload: Rec): NormalizedRefund[] | undefined {
  const refunds = Array.isArray(payload.refunds) ? payload.refunds : [];
  if (!refunds.some((r) => isRecord(r) && Array.isArray(r.line_items))) return undefined;
  const orderLines = new Map<string, Rec>();
  for (const l of Array.isArray(payload.line_items) ? payload.line_items : []) {
    const id = isRecord(l) ? wooIdString(l.id) : null;
    if (id) orderLines.set(id, l as Rec);
  }
  const out: { refund: NormalizedRefund; i: number }[] = [];
  refunds.forEach((r, i) => {
    if (!isRecord(r) || !Array.isArray(r.line_items)) return;
    const id = wooIdString(r.id);
    if (!id) return;
    const lines: NormalizedRefundLine[] = [];
    for (const item of r.line_items) {
      if (!isRecord(item)) continue;
      const quantity =
        typeof item.quantity === 'number' && Number.isInteger(item.quantity) ? Math.abs(item.quantity) : 0;
      if (quantity === 0) continue;
      const meta = Array.isArray(item.meta_data)
        ? item.meta_data.find((m) => isRecord(m) && m.key === '_refunded_item_id')
        : undefined;
      const lineId = isRecord(meta) ? wooIdString(meta.value) : null;
      const line = (lineId ? orderLines.get(lineId) : undefined) ?? item;
      lines.push({
        channelSku: text(line.sku),
        productId: wooIdString(line.product_id),
        variantId: wooIdString(line.variation_id),
        inventoryItemId: null,
        quantity,
        restockType: null,
      });
    }
    const currency = text(payload.currency)?.toUpperCase();
    const money = currency ? wooRefundMoney(r, currency) : undefined;
    out.push({
      refund: { id, createdAt: orderTime(r, 'date_created'), lines, ...(money ? { money } : {}) },
      i,
    });
  });
  const at = (x: { refund: NormalizedRefund }) =>
    x.refund.createdAt ? Date.parse(x.refund.createdAt) : Number.POSITIVE_INFINITY;
  return out.sort((a, b) => at(a) - at(b) || a.i - b.i).map((x) => x.refund);
}

function buildLines(
  items: unknown[],
  currency: string,
  pricesIncludeTax: boolean,
  refunded: ReadonlyMap<string, number>,
  lineMoney: readonly LineMoney[] = [],
): { lines: NormalizedLine[]; problems: OrderProblem[] } {
  const lines: NormalizedLine[] = [];
  const problems: OrderProblem[] = [];
  items.forEach((item, i) => {
    const lineNo = i + 1;
    const l = isRecord(item) ? item : {};
    const sku = text(l.sku);
    const price = lineUnitPrice(
      { quantity: l.quantity, subtotal: l.subtotal, subtotal_tax: l.subtotal_tax },
      currency,
      pricesIncludeTax,
    );
    if (!price.ok) {
      problems.push({
        code: 'invalid_line',
        message: `line ${lineNo}${sku ? ` (${sku})` : ''}: ${price.reason}`,
        lineNo,
        ...(sku ? { sku } : {}),
      });
      return;
    }
    // The line's `quantity` still counts refunded units; what is left is what the order still wants.
    const lineId = wooIdString(l.id);
    const left = (l.quantity as number) - (lineId ? (refunded.get(lineId) ?? 0) : 0);
    if (left <= 0) return;
    const money = lineMoney[i] ?? {};
    lines.push({
      channelSku: sku,
      productId: wooIdString(l.product_id),
      variantId: wooIdString(l.variation_id),
      inventoryItemId: null,
      title: text(l.name),
      quantity: left,
      unitPrice: price.minor,
      // A line's discount and tax are for all its units; what is left keeps its share.
      ...(money.discount === undefined
        ? {}
        : { discount: shareOfUnits(money.discount, left, l.quantity as number) }),
      ...(money.tax === undefined ? {} : { tax: shareOfUnits(money.tax, left, l.quantity as number) }),
    });
  });
  return { lines, problems };
}

type LineMoney = Pick<NormalizedLine, 'discount' | 'tax'>;

/**
 * What the order's refunds gave back: each refund's `amount` (as `GET orders/<id>/refunds` gives
 * it) or its `total` (negative, as the order's own JSON lists it).
 */
function refundedAmount(refunds: unknown, read: MoneyReader): number {
  if (!Array.isArray(refunds)) return 0;
  let sum = 0;
  for (const r of refunds) {
    if (!isRecord(r)) continue;
    const value = r.amount ?? (typeof r.total === 'string' ? r.total.trim().replace(/^-/, '') : r.total);
    sum += read.amount(value, 'refund amount') ?? 0;
  }
  return sum;
}

/** What a WooCommerce order says about money: per line (by position in `line_items`) and for the order. */
interface WooMoney {
  lines: LineMoney[];
  order: NormalizedMoney;
  problems: OrderProblem[];
}

/**
 * The money of a WooCommerce order. A line's discount is what coupons took off it,
 * `subtotal - total` (plus `subtotal_tax - total_tax` when prices include tax, so that it is off
 * the gross price `lineUnitPrice` gives); its tax is `total_tax` (a line with refunded units keeps
 * the share of both that falls on the units left). Shipping is `shipping_total` (plus
 * `shipping_tax` when prices include tax: WooCommerce keeps shipping net either way), the order's
 * tax `total_tax` (less the tax of refunded units, see `normalizeWooCommerceOrder`), the channel's
 * total `total` less what was refunded (`total` stays as placed). WooCommerce allocates coupons to
 * lines, so
 * there is no order-level discount; fee lines are not read (the difference to the channel's total
 * shows them). Unreadable amounts become `invalid_amount` problems.
 */
export function moneyOf(p: Rec, currency: string): WooMoney {
  const read = new MoneyReader(currency);
  const inclusive = p.prices_include_tax === true;
  const items = Array.isArray(p.line_items) ? p.line_items : [];
  const lines = items.map((item, i): LineMoney => {
    const l = isRecord(item) ? item : {};
    const where = `line ${i + 1}`;
    // A bad subtotal is the line's own problem (`lineUnitPrice`), reported once, there.
    const subtotal = toMinorUnits(l.subtotal, currency) ?? undefined;
    const total = read.amount(l.total, `${where} total`);
    const tax = read.amount(l.total_tax, `${where} total_tax`);
    const out: LineMoney = {};
    if (subtotal !== undefined && total !== undefined) {
      out.discount = subtotal - total;
      if (inclusive) out.discount += (read.amount(l.subtotal_tax, `${where} subtotal_tax`) ?? 0) - (tax ?? 0);
      if (out.discount < 0) {
        read.bad.push(`${where} total ${String(l.total)} is more than its subtotal ${String(l.subtotal)}`);
        delete out.discount;
      }
    }
    if (tax !== undefined) out.tax = tax;
    return out;
  });
  const shipping = read.amount(p.shipping_total, 'shipping_total') ?? 0;
  const order: NormalizedMoney = {
    shipping: shipping + (inclusive ? (read.amount(p.shipping_tax, 'shipping_tax') ?? 0) : 0),
    discount: 0,
  };
  // Absent (a trimmed payload): the channel's setting decides.
  if (typeof p.prices_include_tax === 'boolean') order.pricesIncludeTax = inclusive;
  const tax = read.amount(p.total_tax, 'total_tax');
  if (tax !== undefined) order.tax = tax;
  const total = read.amount(p.total, 'total');
  if (total !== undefined) order.total = Math.max(0, total - refundedAmount(p.refunds, read));
  const problems = read.bad.map((message) => ({
    code: 'invalid_amount',
    message: `WooCommerce order: ${message}`,
  }));
  return { lines, order, problems };
}

/** The tax of the units refunded off their lines: `total_tax` still counts it, the lines no longer do. */
function refundedLineTax(
  items: unknown[],
  lineMoney: readonly LineMoney[],
  refunded: ReadonlyMap<string, number>,
): number {
  let sum = 0;
  items.forEach((item, i) => {
    const l = isRecord(item) ? item : {};
    const id = wooIdString(l.id);
    const gone = id ? (refunded.get(id) ?? 0) : 0;
    const tax = lineMoney[i]?.tax;
    if (gone === 0 || tax === undefined || typeof l.quantity !== 'number' || l.quantity < 1) return;
    sum += tax - shareOfUnits(tax, l.quantity - gone, l.quantity);
  });
  return sum;
}

/**
 * The buyer of a WooCommerce order, from `customer_id` and the billing address. A guest
 * (`customer_id` 0) has no channel customer id: the order keeps the guest's contact and is matched
 * to a trade customer by e-mail only, never kept as a channel customer (guests are not accounts).
 */
function buyerOf(customerId: unknown, billing: unknown): NormalizedOrder['customer'] {
  const b = isRecord(billing) ? billing : {};
  return buyer({
    channelCustomerId: wooIdString(customerId) ?? undefined,
    name: fullName(b.first_name, b.last_name),
    email: email(b.email),
    phone: phoneOf(b.phone),
  });
}

function orderNumber(value: unknown): string | null {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return `#${value}`;
  const t = text(value);
  return t ? `#${t}` : null;
}

/**
 * A WooCommerce order (the REST API v3 order JSON, which is also every order webhook's body) in the
 * core's terms.
 *
 * - Ids are decimal strings; `customer_id` 0 is a guest (no channel customer, see `buyerOf`).
 * - Times come from the `_gmt` fields, read as UTC (see `wooDateToIso`).
 * - Unit prices come from the line's decimal strings (see `lineUnitPrice`); coupons are not
 *   subtracted. A line without an exact unit price or a valid quantity becomes an `invalid_line`
 *   problem instead of a line.
 * - Refunded units are taken off their lines when the payload's `refunds` carry their line items
 *   (as `GET orders/<id>/refunds` gives them; `withRefundLines` adds them to an order's own JSON,
 *   which lists refunds as `{id, reason, total}` only); a line refunded in full is dropped. Those
 *   refunds also come as `refunds` (see `wooRefunds`): their units that shipped become returns.
 * - `cancelled`, `refunded` and `trash` count as cancelled; `failed` (payment failed, can still be
 *   paid) is an open order like `pending`.
 *
 * Throws `PermanentError('invalid_payload')` for a payload that is not an order, such as the
 * `{"id": n}` body of `order.deleted`.
 */
export function normalizeWooCommerceOrder(payload: unknown): NormalizedOrder {
  if (!isRecord(payload)) throw invalid('the payload is not an object');
  if (!Array.isArray(payload.line_items)) throw invalid('the payload is not an order (no line_items)');
  const externalId = wooIdString(payload.id);
  if (!externalId) throw invalid(`id ${JSON.stringify(payload.id ?? null)} is not an order id`);
  const currency = currencyOf(payload.currency);
  const placedAt = orderTime(payload, 'date_created');
  if (!placedAt) {
    throw invalid(`creation time ${JSON.stringify(payload.date_created_gmt ?? null)} is not a date`);
  }
  const updatedAt = orderTime(payload, 'date_modified') ?? placedAt;
  const status = text(payload.status)?.toLowerCase() ?? '';
  const money = moneyOf(payload, currency);
  const refunded = refundedUnits(payload.refunds);
  const { lines, problems } = buildLines(
    payload.line_items,
    currency,
    payload.prices_include_tax === true,
    refunded,
    money.lines,
  );
  if (money.order.tax !== undefined)
    money.order.tax = Math.max(
      0,
      money.order.tax - refundedLineTax(payload.line_items, money.lines, refunded),
    );
  const customer = buyerOf(payload.customer_id, payload.billing);
  const refunds = wooRefunds(payload);
  return {
    externalId,
    name: orderNumber(payload.number),
    currency,
    placedAt,
    updatedAt,
    cancelled: CANCELLED_STATUSES.has(status),
    ...(customer ? { customer } : {}),
    lines,
    money: money.order,
    problems: [...problems, ...money.problems],
    // WooCommerce sets `date_paid` when the payment went through.
    ...(text(payload.date_paid_gmt) || text(payload.date_paid) ? { paid: true } : {}),
    ...(refunds?.length ? { refunds } : {}),
  };
}
