import { type Conn, dialectOf, rawRows } from '../db/connection.js';
import {
  type ChannelPricing,
  defaultPricing,
  type PriceAssignment,
  type PriceBook,
  type PriceItem,
  type PriceLevel,
  type PricePolicy,
  priceBook,
} from '../domain/pricing.js';

/** The business time zone `validFrom`/`validTo` are in (`STOCKBRIDGE_TIME_ZONE`); set once at start. */
let businessTimeZone = 'UTC';

export function setBusinessTimeZone(timeZone: string): void {
  businessTimeZone = timeZone;
}

export const currentBusinessTimeZone = () => businessTimeZone;

/** What the price check of a group of orders needs, read in one round trip. */
export interface PricingData {
  book: PriceBook;
  /** Trade customers by id: code and group. */
  customers: ReadonlyMap<number, { code: string | null; group: string | null }>;
  /** Each order channel's policy (`shopify:3` etc.); channels not in it have the default of their kind. */
  pricingOf(channel: string): ChannelPricing;
}

/** `shopify:3` -> 3; the admin API and Excel have no channel row. */
const channelIdOf = (channel: string): number | null => {
  const m = /^[a-z0-9_-]+:(\d+)$/i.exec(channel);
  return m ? Number(m[1]) : null;
};

const marks = (n: number) => (n === 0 ? 'NULL' : new Array(n).fill('?').join(', '));

const ITEM_COLUMNS =
  'i.id, i.price_list_id, i.sku_code, i.min_quantity, i.valid_from, i.valid_to, i.price, i.percent_bp, i.based_on_list_id';

/**
 * Loads the customers, the price list items the orders' lines could take — from the lists assigned
 * to the customer's code, its group, or everyone, each with the assignment that brings it and its
 * list's code and currency, and only those whose quantity break a line reaches — plus the items of
 * the lists those are based on, and the channels' price policies: every statement in one round
 * trip (MySQL; SQLite runs them in turn in-process).
 */
export async function loadPricingData(
  conn: Conn,
  query: { orderIds: readonly number[]; customerIds: readonly number[]; channels: readonly string[] },
): Promise<PricingData> {
  const orderIds = [...new Set(query.orderIds)];
  const customerIds = [...new Set(query.customerIds)];
  const channelIds = [...new Set(query.channels.map(channelIdOf).filter((id): id is number => id !== null))];
  const o = marks(orderIds.length);
  // Joined in the order written, from the group's lines outwards, each step by an index: left to
  // itself, the optimizer has been seen to start from the items when the order tables' statistics
  // were young, and take minutes (STRAIGHT_JOIN on MySQL; SQLite keeps the order of a CROSS JOIN).
  const join = dialectOf(conn) === 'mysql' ? 'STRAIGHT_JOIN' : 'CROSS JOIN';
  // The items a line of these orders could take from a list assigned by `on` (customer, group, default).
  const itemsVia = (on: string, customerJoin: boolean) =>
    `SELECT ${ITEM_COLUMNS}, a.kind, a.target, l.code AS list_code, l.currency AS list_currency FROM order_lines ol ` +
    (customerJoin
      ? `${join} orders o ON o.id = ol.order_id ${join} customers c ON c.id = o.customer_id `
      : '') +
    `${join} price_list_assignments a ON ${on} ${join} price_lists l ON l.id = a.price_list_id ` +
    `${join} price_list_items i ON i.price_list_id = a.price_list_id AND i.sku_code = ol.sku_code AND i.min_quantity <= ol.ordered ` +
    `WHERE ol.order_id IN (${o})`;
  const [customerRows = [], itemRows = [], channelRows = []] = await rawRows(
    conn,
    `SELECT id, code, customer_group FROM customers WHERE id IN (${marks(customerIds.length)}); ` +
      `${itemsVia("a.kind = 'customer' AND a.target = c.code", true)} UNION ALL ` +
      `${itemsVia("a.kind = 'group' AND a.target = c.customer_group", true)} UNION ALL ` +
      `${itemsVia("a.kind = 'default'", false)} UNION ALL ` +
      // The lists others are based on first: usually none, and then nothing else is read.
      `SELECT ${ITEM_COLUMNS}, NULL, NULL, NULL, NULL FROM ` +
      '(SELECT DISTINCT based_on_list_id AS id FROM price_list_items WHERE based_on_list_id IS NOT NULL) bl ' +
      `${join} order_lines ol ON ol.order_id IN (${o}) ` +
      `${join} price_list_items i ON i.price_list_id = bl.id AND i.sku_code = ol.sku_code AND i.min_quantity <= ol.ordered; ` +
      `SELECT id, price_policy, price_tolerance_percent, price_tolerance_amount FROM channels WHERE id IN (${marks(channelIds.length)})`,
    [...customerIds, ...orderIds, ...orderIds, ...orderIds, ...orderIds, ...channelIds],
  );
  const lists = new Map<number, { id: number; code: string; currency: string }>();
  const assignments = new Map<string, PriceAssignment>();
  const items = new Map<number, PriceItem>();
  for (const r of itemRows) {
    const listId = Number(r.price_list_id);
    if (r.kind !== null) {
      lists.set(listId, { id: listId, code: String(r.list_code), currency: String(r.list_currency) });
      const a = { listId, level: String(r.kind) as PriceLevel, target: String(r.target) };
      assignments.set(`${a.listId}\u0000${a.level}\u0000${a.target}`, a);
    }
    // The same item comes once per line that can take it.
    if (items.has(Number(r.id))) continue;
    items.set(Number(r.id), {
      id: Number(r.id),
      listId,
      sku: String(r.sku_code),
      minQuantity: Number(r.min_quantity),
      validFrom: (r.valid_from as string | null) ?? null,
      validTo: (r.valid_to as string | null) ?? null,
      price: r.price === null ? null : Number(r.price),
      percentBp: r.percent_bp === null ? null : Number(r.percent_bp),
      basedOnListId: r.based_on_list_id === null ? null : Number(r.based_on_list_id),
    });
  }
  const customers = new Map(
    customerRows.map((r) => [
      Number(r.id),
      { code: (r.code as string | null) ?? null, group: (r.customer_group as string | null) ?? null },
    ]),
  );
  const policies = new Map(channelRows.map((r) => [Number(r.id), r]));
  return {
    book: priceBook([...lists.values()], [...assignments.values()], [...items.values()]),
    customers,
    pricingOf(channel) {
      const fallback = defaultPricing(channel);
      const id = channelIdOf(channel);
      const row = id === null ? undefined : policies.get(id);
      if (!row) return fallback;
      return {
        policy: (row.price_policy as PricePolicy | null) ?? fallback.policy,
        tolerancePercent: row.price_tolerance_percent === null ? null : Number(row.price_tolerance_percent),
        toleranceAmount: row.price_tolerance_amount === null ? null : Number(row.price_tolerance_amount),
      };
    },
  };
}
