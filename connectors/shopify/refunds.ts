import { PermanentError } from '../../src/errors/permanent-error.js';
import type {
  NormalizedRefund,
  NormalizedRefundLine,
  RefundMoney,
  RefundOfOrder,
  RefundRestockType,
} from '../contract.js';
import { toMinorUnits } from '../shared/money.js';
import { isRecord, type Rec, text } from '../shared/payload.js';
import { shopifyIdString } from './normalize.js';

/** The item ids of a line item, for SKU mapping. */
type LineIds = Pick<NormalizedRefundLine, 'channelSku' | 'productId' | 'variantId' | 'inventoryItemId'>;

const RESTOCK_TYPES: ReadonlySet<string> = new Set(['return', 'cancel', 'no_restock', 'legacy_restock']);

/**
 * A refund line's restock type: REST `restock_type` (`return`), GraphQL `restockType` (`RETURN`);
 * absent (older API versions), the refund's own `restock` flag says restocked or not.
 */
function restockTypeOf(value: unknown, refundRestock: unknown): RefundRestockType | null {
  const t = text(value)?.toLowerCase();
  if (t && RESTOCK_TYPES.has(t)) return t as RefundRestockType;
  if (refundRestock === true) return 'legacy_restock';
  if (refundRestock === false) return 'no_restock';
  return null;
}

function isoUtc(value: unknown): string | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** A REST line item's ids (`line_items[]`, or the `line_item` a refund line item carries). */
function restLineIds(l: Rec): LineIds {
  return {
    channelSku: text(l.sku),
    productId: shopifyIdString(l.product_id),
    variantId: shopifyIdString(l.variant_id),
    inventoryItemId: null,
  };
}

/** A GraphQL `LineItem` node's ids. */
function graphqlLineIds(l: Rec): LineIds {
  const variant = isRecord(l.variant) ? l.variant : {};
  const item = isRecord(variant.inventoryItem) ? variant.inventoryItem : {};
  const product = isRecord(l.product) ? l.product : {};
  return {
    channelSku: text(l.sku),
    productId: shopifyIdString(product.id),
    variantId: shopifyIdString(variant.id),
    inventoryItemId: shopifyIdString(item.id),
  };
}

/** Oldest first; refunds without a time keep their place after those with one. */
function oldestFirst(refunds: NormalizedRefund[]): NormalizedRefund[] {
  return refunds
    .map((r, i) => ({ r, i }))
    .sort((a, b) => {
      const ta = a.r.createdAt ? Date.parse(a.r.createdAt) : Number.POSITIVE_INFINITY;
      const tb = b.r.createdAt ? Date.parse(b.r.createdAt) : Number.POSITIVE_INFINITY;
      return ta === tb ? a.i - b.i : ta - tb;
    })
    .map((x) => x.r);
}

/** A REST money field: its `_set.shop_money` amount, else the plain field; null when unreadable. */
function shopAmount(r: Rec, field: string, currency: string): number | null {
  const set = isRecord(r[`${field}_set`]) ? (r[`${field}_set`] as Rec) : {};
  const shop = isRecord(set.shop_money) ? set.shop_money : {};
  const value = shop.amount ?? r[field];
  if (value === undefined || value === null) return null;
  return toMinorUnits(value, currency);
}

/** The shop currency a REST money field's `_set.shop_money` names, if it names one. */
function shopCurrency(r: Rec, field: string): string | null {
  const set = isRecord(r[`${field}_set`]) ? (r[`${field}_set`] as Rec) : {};
  return isRecord(set.shop_money) ? text(set.shop_money.currency_code) : null;
}

/**
 * What a REST refund paid back: the sum of its successful `refund` transactions (in their currency,
 * else the order's), and the value of its refunded line items (`subtotal` + `total_tax`). The rest of
 * the money (`order_adjustments`: a shipping refund, a refund discrepancy; a refund of money only) is
 * the allowance. Undefined when the refund lists no transactions or an amount cannot be read, or when
 * the transactions are in another currency than the shop's (the order's `currency`, or the line
 * items' `shop_money`): the buyer's presentment currency of a multi-currency shop, which the line
 * values are not in; the money then waits for the pull, which reads it all in shop money.
 */
function restRefundMoney(r: Rec, orderCurrency: string | null): RefundMoney | undefined {
  if (!Array.isArray(r.transactions)) return undefined;
  const refunds = r.transactions.filter(
    (t): t is Rec => isRecord(t) && t.kind === 'refund' && (t.status === undefined || t.status === 'success'),
  );
  const currency = text(refunds.find((t) => text(t.currency))?.currency) ?? orderCurrency;
  if (!currency) return undefined;
  if (orderCurrency && currency !== orderCurrency) return undefined;
  let amount = 0;
  for (const t of refunds) {
    if (text(t.currency) && text(t.currency) !== currency) return undefined;
    const minor = toMinorUnits(t.amount, currency);
    if (minor === null) return undefined;
    amount += minor;
  }
  let linesAmount = 0;
  for (const item of Array.isArray(r.refund_line_items) ? r.refund_line_items : []) {
    if (!isRecord(item)) return undefined;
    for (const field of ['subtotal', 'total_tax']) {
      const shop = shopCurrency(item, field);
      if (shop && shop !== currency) return undefined;
    }
    const subtotal = shopAmount(item, 'subtotal', currency);
    const tax = shopAmount(item, 'total_tax', currency);
    if (subtotal === null || tax === null) return undefined;
    linesAmount += subtotal + tax;
  }
  return { currency, amount, linesAmount };
}

/**
 * One REST refund (`refunds[]` of an order webhook, or the body of `refunds/create`): its id, time
 * and refunded line items, each resolved to its line item's ids through the `line_item` it carries,
 * else through the order's `line_items` by `line_item_id`. Null when it cannot be read whole (no id,
 * a line without a whole quantity or an item it names): a refund is taken whole or not at all.
 */
function restRefund(
  r: unknown,
  orderLines: ReadonlyMap<string, Rec>,
  orderCurrency: string | null,
): NormalizedRefund | null {
  if (!isRecord(r)) return null;
  const id = shopifyIdString(r.admin_graphql_api_id) ?? shopifyIdString(r.id);
  if (!id) return null;
  const items = Array.isArray(r.refund_line_items) ? r.refund_line_items : [];
  const lines: NormalizedRefundLine[] = [];
  for (const item of items) {
    if (!isRecord(item)) return null;
    const quantity = item.quantity;
    if (typeof quantity !== 'number' || !Number.isSafeInteger(quantity) || quantity < 0) return null;
    const lineId = shopifyIdString(item.line_item_id);
    const line = isRecord(item.line_item) ? item.line_item : lineId ? orderLines.get(lineId) : undefined;
    if (!line) return null;
    if (quantity === 0) continue;
    lines.push({ ...restLineIds(line), quantity, restockType: restockTypeOf(item.restock_type, r.restock) });
  }
  const money = restRefundMoney(r, orderCurrency);
  return { id, createdAt: isoUtc(r.created_at), lines, ...(money ? { money } : {}) };
}

/** The refunds of a REST-shaped order (a webhook body), oldest first; absent: the body lists none. */
export function restRefunds(p: Rec): NormalizedRefund[] | undefined {
  if (!Array.isArray(p.refunds)) return undefined;
  const lines = new Map<string, Rec>();
  for (const l of Array.isArray(p.line_items) ? p.line_items : []) {
    const id = isRecord(l) ? shopifyIdString(l.id) : null;
    if (id) lines.set(id, l as Rec);
  }
  return oldestFirst(
    p.refunds
      .map((r) => restRefund(r, lines, text(p.currency)))
      .filter((r): r is NormalizedRefund => r !== null),
  );
}

/**
 * The refunds of our pull's GraphQL order node (`refunds { id createdAt refundLineItems { … } }`),
 * oldest first, each line resolved through the order's `lineItems` by id (or the ids its own
 * `lineItem` carries). A refund whose line items run beyond the page asked for is left out (the
 * `refunds/create` and `orders/updated` webhooks carry it whole). Absent: the node was not asked.
 */
export function graphqlRefunds(p: Rec, lineNodes: readonly unknown[]): NormalizedRefund[] | undefined {
  if (!Array.isArray(p.refunds)) return undefined;
  const byId = new Map<string, Rec>();
  for (const n of lineNodes) {
    const id = isRecord(n) ? shopifyIdString(n.id) : null;
    if (id) byId.set(id, n as Rec);
  }
  const out: NormalizedRefund[] = [];
  for (const r of p.refunds) {
    if (!isRecord(r)) continue;
    const id = shopifyIdString(r.id) ?? shopifyIdString(r.legacyResourceId);
    if (!id) continue;
    const conn = isRecord(r.refundLineItems) ? r.refundLineItems : {};
    const pageInfo = isRecord(conn.pageInfo) ? conn.pageInfo : {};
    if (pageInfo.hasNextPage === true) continue;
    const nodes = Array.isArray(conn.nodes)
      ? conn.nodes
      : Array.isArray(conn.edges)
        ? conn.edges.map((e) => (isRecord(e) ? e.node : undefined))
        : [];
    const lines: NormalizedRefundLine[] = [];
    let whole = true;
    for (const n of nodes) {
      const item = isRecord(n) ? n : {};
      const quantity = item.quantity;
      const own = isRecord(item.lineItem) ? item.lineItem : {};
      const lineId = shopifyIdString(own.id);
      const line = lineId
        ? (byId.get(lineId) ?? ('sku' in own || 'variant' in own ? own : undefined))
        : undefined;
      if (typeof quantity !== 'number' || !Number.isSafeInteger(quantity) || quantity < 0 || !line) {
        whole = false;
        break;
      }
      if (quantity === 0) continue;
      lines.push({
        ...graphqlLineIds(line),
        quantity,
        restockType: restockTypeOf(item.restockType, undefined),
      });
    }
    if (!whole) continue;
    const money = graphqlRefundMoney(r, nodes);
    out.push({ id, createdAt: isoUtc(r.createdAt), lines, ...(money ? { money } : {}) });
  }
  return oldestFirst(out);
}

/** A GraphQL MoneyBag's shop amount in minor units; null when absent or unreadable. */
function shopMoneyOf(bag: unknown, currency: string): number | null {
  const shop = isRecord(bag) && isRecord(bag.shopMoney) ? bag.shopMoney : null;
  if (!shop || shop.amount === undefined || shop.amount === null) return null;
  return toMinorUnits(shop.amount, currency);
}

/**
 * What a pulled refund paid back (`totalRefundedSet`, the sum of its successful refund
 * transactions, in the shop's currency) beside its refunded units' value (`subtotalSet` +
 * `totalTaxSet` of each refund line item), as the webhooks give it. Undefined when the node does
 * not carry them (an older query) or an amount cannot be read: the money then waits for a webhook.
 */
function graphqlRefundMoney(r: Rec, lineNodes: readonly unknown[]): RefundMoney | undefined {
  const total = isRecord(r.totalRefundedSet) ? r.totalRefundedSet : null;
  const currency = total && isRecord(total.shopMoney) ? text(total.shopMoney.currencyCode) : null;
  if (!currency) return undefined;
  const amount = shopMoneyOf(total, currency);
  if (amount === null) return undefined;
  let linesAmount = 0;
  for (const n of lineNodes) {
    if (!isRecord(n)) return undefined;
    const subtotal = shopMoneyOf(n.subtotalSet, currency);
    const tax = shopMoneyOf(n.totalTaxSet, currency);
    if (subtotal === null || tax === null) return undefined;
    linesAmount += subtotal + tax;
  }
  return { currency, amount, linesAmount };
}

/**
 * The body of Shopify's `refunds/create` webhook: one refund (REST-shaped) and its `order_id`. Its
 * refund line items carry their `line_item`, so no order is needed to read them.
 */
export function normalizeShopifyRefund(payload: unknown): RefundOfOrder {
  if (!isRecord(payload))
    throw new PermanentError('invalid_payload', 'Shopify refund: the payload is not an object');
  const externalOrderId = shopifyIdString(payload.order_id);
  if (!externalOrderId) throw new PermanentError('invalid_payload', 'Shopify refund: no order_id');
  const refund = restRefund(payload, new Map(), null);
  if (!refund)
    throw new PermanentError(
      'invalid_payload',
      'Shopify refund: no refund id, or a refund line item that cannot be read',
    );
  return { externalOrderId, refund };
}
