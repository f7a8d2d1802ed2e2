import type { OrderProblem } from '../../src/domain/order-input.js';
import { PermanentError } from '../../src/errors/permanent-error.js';
import type { NormalizedLine, NormalizedMoney, NormalizedOrder } from '../contract.js';
import { buyer, fullName, languageOfLocale, phoneOf } from '../shared/buyer.js';
import { MoneyReader, shareOfUnits, toMinorUnits } from '../shared/money.js';
import { isRecord, type Rec, text } from '../shared/payload.js';
import { graphqlRefunds, restRefunds } from './refunds.js';

const GID = /^gid:\/\/shopify\/[A-Za-z]+\/(\d+)(?:\?.*)?$/;

/**
 * A Shopify id as an exact decimal string: from a gid (`gid://shopify/Order/123` -> `123`), a
 * digit string, or a number small enough to be exact. Null for anything else, including a number
 * that has already lost digits to `JSON.parse`.
 */
export function shopifyIdString(value: unknown): string | null {
  if (typeof value === 'string') {
    const t = value.trim();
    const gid = GID.exec(t);
    if (gid) return gid[1] as string;
    return /^\d+$/.test(t) ? t : null;
  }
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  return null;
}

/** `gid://shopify/<type>/<id>` from a gid or a bare numeric id; null when neither. */
export function toGid(type: string, value: unknown): string | null {
  const id = shopifyIdString(value);
  return id === null ? null : `gid://shopify/${type}/${id}`;
}

function isoUtc(value: unknown): string | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

function email(...candidates: unknown[]): string | undefined {
  for (const c of candidates) {
    const t = text(c);
    if (t && /^[^\s@]+@[^\s@]+$/.test(t)) return t;
  }
  return undefined;
}

function invalid(message: string): PermanentError {
  return new PermanentError('invalid_payload', `Shopify order: ${message}`);
}

interface RawLine {
  lineNo: number;
  sku: string | null;
  productId: string | null;
  variantId: string | null;
  inventoryItemId: string | null;
  title: string | null;
  quantity: unknown;
  price: unknown;
  /** Every unit was removed or refunded (current quantity 0): no longer part of the order, not a problem. */
  gone: boolean;
}

/**
 * A line's quantity as it stands now. Shopify's `quantity` keeps counting units removed by an order
 * edit or refunded; `current_quantity` (REST webhooks, API 2024-01+) / `currentQuantity` (GraphQL)
 * does not. The ordered quantity is used only when a payload lacks the current one.
 */
function quantityNow(current: unknown, ordered: unknown): unknown {
  return current === undefined || current === null ? ordered : current;
}

function buildLines(
  raw: RawLine[],
  currency: string,
  lineMoney: readonly LineMoney[] = [],
): { lines: NormalizedLine[]; problems: OrderProblem[] } {
  const lines: NormalizedLine[] = [];
  const problems: OrderProblem[] = [];
  for (const r of raw) {
    if (r.gone) continue;
    const where = `line ${r.lineNo}${r.sku ? ` (${r.sku})` : ''}`;
    const bad: string[] = [];
    const quantity = r.quantity;
    if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1) {
      bad.push(`quantity ${JSON.stringify(quantity ?? null)} is not a whole number of at least 1`);
    }
    const unitPrice = toMinorUnits(r.price, currency);
    if (unitPrice === null)
      bad.push(`price ${JSON.stringify(r.price ?? null)} is not a valid ${currency} amount`);
    if (bad.length > 0) {
      problems.push({
        code: 'invalid_line',
        message: `${where}: ${bad.join('; ')}`,
        lineNo: r.lineNo,
        ...(r.sku ? { sku: r.sku } : {}),
      });
      continue;
    }
    lines.push({
      channelSku: r.sku,
      productId: r.productId,
      variantId: r.variantId,
      inventoryItemId: r.inventoryItemId,
      title: r.title,
      quantity: quantity as number,
      unitPrice: unitPrice as number,
      ...lineMoney[r.lineNo - 1],
    });
  }
  return { lines, problems };
}

/**
 * The buyer of a Shopify order: the customer's id (keys the channel customer), name, e-mail
 * (the customer's, else the order's), phone (the customer's, else the order's, else the billing
 * address's) and the language of `customer_locale`. Shopify does not say the buyer's time zone.
 */
function buyerOf(p: Rec, rest: boolean): NormalizedOrder['customer'] {
  const c = isRecord(p.customer) ? p.customer : {};
  const billing = isRecord(rest ? p.billing_address : p.billingAddress)
    ? ((rest ? p.billing_address : p.billingAddress) as Rec)
    : {};
  const id = shopifyIdString(rest ? (c.admin_graphql_api_id ?? c.id) : c.id);
  return buyer({
    channelCustomerId: id ?? undefined,
    name: rest ? fullName(c.first_name, c.last_name) : fullName(c.firstName, c.lastName),
    email: rest ? email(c.email, p.email, p.contact_email) : email(c.email, p.email),
    phone: phoneOf(c.phone, p.phone, billing.phone),
    language: languageOfLocale(rest ? p.customer_locale : p.customerLocale),
  });
}

function orderId(gid: unknown, id: unknown): string {
  const exact = shopifyIdString(gid) ?? shopifyIdString(id);
  if (exact) return exact;
  if (typeof id === 'number') {
    throw invalid('the order id lost digits to JSON.parse; parse the raw body with parseJsonKeepingBigIds');
  }
  throw invalid('no order id');
}

function currencyOf(value: unknown): string {
  const c = text(value)?.toUpperCase();
  if (!c || !/^[A-Z]{3}$/.test(c))
    throw invalid(`currency ${JSON.stringify(value ?? null)} is not an ISO 4217 code`);
  return c;
}

function finish(
  base: Omit<NormalizedOrder, 'placedAt' | 'updatedAt' | 'lines' | 'problems'>,
  placed: unknown,
  updated: unknown,
  rawLines: RawLine[],
  money?: ShopifyMoney,
): NormalizedOrder {
  const placedAt = isoUtc(placed);
  if (!placedAt) throw invalid(`creation time ${JSON.stringify(placed ?? null)} is not a date`);
  const updatedAt = isoUtc(updated) ?? placedAt;
  const { lines, problems } = buildLines(rawLines, base.currency, money?.lines);
  if (!money) return { ...base, placedAt, updatedAt, lines, problems };
  return {
    ...base,
    placedAt,
    updatedAt,
    lines,
    money: money.order,
    problems: [...problems, ...money.problems],
  };
}

type LineMoney = Pick<NormalizedLine, 'discount' | 'tax'>;

/** What a Shopify order says about money: per line (by position in `line_items`) and for the order. */
interface ShopifyMoney {
  lines: LineMoney[];
  order: NormalizedMoney;
  problems: OrderProblem[];
}

/** An allocation's or tax line's amount in the shop currency (`amount_set.shop_money` when given). */
const shopAmount = (item: Rec, field: 'amount' | 'price'): unknown => {
  const set = item[`${field}_set`];
  const shop = isRecord(set) && isRecord(set.shop_money) ? set.shop_money.amount : undefined;
  return shop ?? item[field];
};

/** Where the money of an order sits in the webhook (REST) body and in our pull's GraphQL node. */
interface MoneyFields {
  lines: (p: Rec) => unknown[];
  current: (l: Rec) => unknown;
  lineDiscounts: (l: Rec) => unknown;
  lineTaxes: (l: Rec) => unknown;
  /** A discount allocation's amount (also on shipping lines). */
  allocated: (a: Rec) => unknown;
  taxAmount: (t: Rec) => unknown;
  shippingLines: (p: Rec) => unknown[];
  shippingPrice: (s: Rec) => unknown;
  shippingDiscounts: (s: Rec) => unknown;
  taxesIncluded: (p: Rec) => unknown;
  totalTax: (p: Rec, current: boolean) => unknown;
  totalPrice: (p: Rec, current: boolean) => unknown;
  /** The names of the total tax and total price, for problems. */
  names: { tax: string; total: string };
}

/** A GraphQL `MoneyBag`'s amount in the shop currency. */
const shopMoney = (bag: unknown): unknown =>
  isRecord(bag) && isRecord(bag.shopMoney) ? bag.shopMoney.amount : undefined;

const REST_MONEY: MoneyFields = {
  lines: (p) => (Array.isArray(p.line_items) ? p.line_items : []),
  current: (l) => l.current_quantity,
  lineDiscounts: (l) => l.discount_allocations,
  lineTaxes: (l) => l.tax_lines,
  allocated: (a) => shopAmount(a, 'amount'),
  taxAmount: (t) => shopAmount(t, 'price'),
  shippingLines: (p) => (Array.isArray(p.shipping_lines) ? p.shipping_lines : []),
  shippingPrice: (s) => shopAmount(s, 'price'),
  shippingDiscounts: (s) => s.discount_allocations,
  taxesIncluded: (p) => p.taxes_included,
  totalTax: (p, current) => (current ? (p.current_total_tax ?? p.total_tax) : p.total_tax),
  totalPrice: (p, current) => (current ? (p.current_total_price ?? p.total_price) : p.total_price),
  names: { tax: 'total_tax', total: 'total_price' },
};

const GRAPHQL_MONEY: MoneyFields = {
  lines: (p) => connectionNodes(p.lineItems) ?? [],
  current: (l) => l.currentQuantity,
  lineDiscounts: (l) => l.discountAllocations,
  lineTaxes: (l) => l.taxLines,
  allocated: (a) => shopMoney(a.allocatedAmountSet),
  taxAmount: (t) => shopMoney(t.priceSet),
  shippingLines: (p) => connectionNodes(p.shippingLines) ?? [],
  shippingPrice: (s) => shopMoney(s.originalPriceSet),
  shippingDiscounts: (s) => s.discountAllocations,
  taxesIncluded: (p) => p.taxesIncluded,
  totalTax: (p, current) =>
    current ? (shopMoney(p.currentTotalTaxSet) ?? shopMoney(p.totalTaxSet)) : shopMoney(p.totalTaxSet),
  totalPrice: (p, current) =>
    current ? (shopMoney(p.currentTotalPriceSet) ?? shopMoney(p.totalPriceSet)) : shopMoney(p.totalPriceSet),
  names: { tax: 'totalTaxSet', total: 'totalPriceSet' },
};

/**
 * The money of an order, in the shop currency, alike from the webhook body and from our pull's
 * GraphQL node (`fields` says where each figure sits). A line's discount is the sum of its discount
 * allocations (every discount application, whole-order ones included, is allocated to lines or
 * shipping lines), its tax the sum of its tax lines, both for the units still on the line (the
 * current quantity, like the line's quantity: a share of the whole, rounded half away from zero);
 * shipping is the sum of the shipping lines' price, and their own discount allocations are the
 * order-level discount. The order's tax and the channel's total are the total tax and price, or,
 * once units were removed by an edit or refund, the current ones (which match the current
 * quantities); whether prices include tax is the order's word (absent: the channel's setting).
 * Unreadable amounts become `invalid_amount` problems (the order is held rather than stored with a
 * guessed figure).
 */
function moneyOf(p: Rec, currency: string, fields: MoneyFields): ShopifyMoney {
  const read = new MoneyReader(currency);
  const items = fields.lines(p);
  const lines = items.map((item, i): LineMoney => {
    const l = isRecord(item) ? item : {};
    const share = currentShare(fields.current(l), l.quantity);
    const discount = read.sum(fields.lineDiscounts(l), fields.allocated, `line ${i + 1} discount`);
    const tax = read.sum(fields.lineTaxes(l), fields.taxAmount, `line ${i + 1} tax`);
    return {
      ...(discount === undefined ? {} : { discount: share(discount) }),
      ...(tax === undefined ? {} : { tax: share(tax) }),
    };
  });
  const shippingLines = fields.shippingLines(p).filter(isRecord);
  const order: NormalizedMoney = {
    shipping: read.sum(shippingLines, fields.shippingPrice, 'shipping price') ?? 0,
    discount: shippingLines.reduce(
      (sum, s) => sum + (read.sum(fields.shippingDiscounts(s), fields.allocated, 'shipping discount') ?? 0),
      0,
    ),
  };
  // Absent (a trimmed payload): the channel's setting decides.
  const included = fields.taxesIncluded(p);
  if (typeof included === 'boolean') order.pricesIncludeTax = included;
  // Units removed by an edit or refund: the current totals are the ones that match the lines we keep.
  const edited = items.some((l) => {
    if (!isRecord(l)) return false;
    const current = fields.current(l);
    return typeof current === 'number' && current !== l.quantity;
  });
  const tax = read.amount(fields.totalTax(p, edited), fields.names.tax);
  if (tax !== undefined) order.tax = tax;
  const total = read.amount(fields.totalPrice(p, edited), fields.names.total);
  if (total !== undefined) order.total = total;
  const problems = read.bad.map((message) => ({
    code: 'invalid_amount',
    message: `Shopify order: ${message}`,
  }));
  return { lines, order, problems };
}

/** The part of a line's amount that falls on its current units: all of it unless units were removed. */
function currentShare(current: unknown, ordered: unknown): (amount: number) => number {
  if (
    typeof current !== 'number' ||
    typeof ordered !== 'number' ||
    !Number.isInteger(current) ||
    !Number.isInteger(ordered)
  )
    return (amount) => amount;
  return (amount) => shareOfUnits(amount, current, ordered);
}

/** The webhook (REST-shaped) order: `line_items`, `created_at`, `price` strings. */
function fromRest(p: Rec): NormalizedOrder {
  const externalId = orderId(p.admin_graphql_api_id, p.id);
  const currency = currencyOf(p.currency);
  if (!Array.isArray(p.line_items)) throw invalid('line_items is missing');
  const rawLines = p.line_items.map((item, i): RawLine => {
    const l = isRecord(item) ? item : {};
    return {
      lineNo: i + 1,
      sku: text(l.sku),
      productId: shopifyIdString(l.product_id),
      variantId: shopifyIdString(l.variant_id),
      inventoryItemId: null,
      title: text(l.title) ?? text(l.name),
      quantity: quantityNow(l.current_quantity, l.quantity),
      price: l.price,
      gone: l.current_quantity === 0,
    };
  });
  const refunds = restRefunds(p);
  return finish(
    {
      externalId,
      name: text(p.name),
      currency,
      cancelled: p.cancelled_at !== null && p.cancelled_at !== undefined && p.cancelled_at !== '',
      customer: buyerOf(p, true),
      ...(p.financial_status === 'paid' ? { paid: true } : {}),
      ...(refunds?.length ? { refunds } : {}),
    },
    p.created_at,
    p.updated_at,
    rawLines,
    moneyOf(p, currency, REST_MONEY),
  );
}

function connectionNodes(conn: unknown): unknown[] | null {
  if (!isRecord(conn)) return null;
  if (Array.isArray(conn.nodes)) return conn.nodes;
  if (Array.isArray(conn.edges)) return conn.edges.map((e) => (isRecord(e) ? e.node : undefined));
  return null;
}

/** The GraphQL Admin API order node our pull asks for. */
function fromGraphql(p: Rec): NormalizedOrder {
  const externalId = orderId(p.id, p.legacyResourceId);
  const currency = currencyOf(p.currencyCode);
  const nodes = connectionNodes(p.lineItems);
  if (!nodes) throw invalid('lineItems is missing');
  const rawLines = nodes.map((node, i): RawLine => {
    const l = isRecord(node) ? node : {};
    const variant = isRecord(l.variant) ? l.variant : {};
    const inventoryItem = isRecord(variant.inventoryItem) ? variant.inventoryItem : {};
    const product = isRecord(l.product) ? l.product : {};
    const priceSet = isRecord(l.originalUnitPriceSet) ? l.originalUnitPriceSet : {};
    const shopMoney = isRecord(priceSet.shopMoney) ? priceSet.shopMoney : {};
    return {
      lineNo: i + 1,
      sku: text(l.sku),
      productId: shopifyIdString(product.id),
      variantId: shopifyIdString(variant.id),
      inventoryItemId: shopifyIdString(inventoryItem.id),
      title: text(l.title) ?? text(l.name),
      quantity: quantityNow(l.currentQuantity, l.quantity),
      price: shopMoney.amount,
      gone: l.currentQuantity === 0,
    };
  });
  const refunds = graphqlRefunds(p, nodes);
  return finish(
    {
      externalId,
      name: text(p.name),
      currency,
      cancelled: p.cancelledAt !== null && p.cancelledAt !== undefined && p.cancelledAt !== '',
      customer: buyerOf(p, false),
      ...(p.displayFinancialStatus === 'PAID' ? { paid: true } : {}),
      ...(refunds?.length ? { refunds } : {}),
    },
    p.createdAt,
    p.updatedAt,
    rawLines,
    // A node without the money fields (asked for since this version) says nothing about money, and
    // leaves what a webhook stored as it is.
    'totalPriceSet' in p ? moneyOf(p, currency, GRAPHQL_MONEY) : undefined,
  );
}

/**
 * A Shopify order in the core's terms, from either the webhook body (REST-shaped, best parsed
 * with `parseJsonKeepingBigIds`) or the GraphQL order node our pull returns.
 *
 * Ids are exact decimal strings (`820982911946154508`, taken from `admin_graphql_api_id` / the
 * gid when present), the same from both paths. Prices are the lines' original unit prices in the
 * shop currency, in integer minor units (discounts are not subtracted). Quantities are the current
 * ones (`current_quantity` / `currentQuantity`: units removed by an order edit or refunded no longer
 * count), and a line with none left is dropped, so that amending the order releases its stock. A
 * line with a bad
 * quantity or price becomes an `invalid_line` problem instead of a line; a payload that is not an
 * order throws `PermanentError('invalid_payload')`. The refunds the payload lists whole (REST
 * `refunds[].refund_line_items[]`, GraphQL `refunds { refundLineItems }`) come as `refunds`, each
 * refunded line with its item's ids and restock type (see `./refunds.ts`).
 */
export function normalizeShopifyOrder(payload: unknown): NormalizedOrder {
  if (!isRecord(payload)) throw invalid('the payload is not an object');
  if ('line_items' in payload || 'created_at' in payload) return fromRest(payload);
  if ('lineItems' in payload || 'createdAt' in payload) return fromGraphql(payload);
  throw invalid('the payload is not an order');
}
