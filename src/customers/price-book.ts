import { type Conn, rawRows } from '../db/connection.js';
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

/**
 * Loads the customers, the price lists that apply to any of them (by customer code, customer group,
 * or default) with their items for the SKUs asked for, the items of the lists those are based on,
 * and the channels' price policies: every statement in one round trip (MySQL; SQLite runs them in
 * turn in-process).
 */
export async function loadPricingData(
  conn: Conn,
  query: { customerIds: readonly number[]; skus: readonly string[]; channels: readonly string[] },
): Promise<PricingData> {
  const customerIds = [...new Set(query.customerIds)];
  const skus = [...new Set(query.skus)];
  const channelIds = [...new Set(query.channels.map(channelIdOf).filter((id): id is number => id !== null))];
  const c = marks(customerIds.length);
  const s = marks(skus.length);
  const applicable =
    "SELECT a.price_list_id FROM price_list_assignments a WHERE a.kind = 'default' " +
    `OR (a.kind = 'customer' AND a.target IN (SELECT code FROM customers WHERE id IN (${c}))) ` +
    `OR (a.kind = 'group' AND a.target IN (SELECT customer_group FROM customers WHERE id IN (${c})))`;
  const [customerRows = [], assignmentRows = [], itemRows = [], channelRows = []] = await rawRows(
    conn,
    `SELECT id, code, customer_group FROM customers WHERE id IN (${c}); ` +
      'SELECT a.price_list_id, a.kind, a.target, l.code, l.currency FROM price_list_assignments a ' +
      `JOIN price_lists l ON l.id = a.price_list_id WHERE a.price_list_id IN (${applicable}); ` +
      `SELECT * FROM price_list_items WHERE sku_code IN (${s}) AND (price_list_id IN (${applicable}) ` +
      `OR price_list_id IN (SELECT based_on_list_id FROM price_list_items WHERE sku_code IN (${s}) AND based_on_list_id IS NOT NULL)); ` +
      `SELECT id, price_policy, price_tolerance_percent, price_tolerance_amount FROM channels WHERE id IN (${marks(channelIds.length)})`,
    [
      ...customerIds,
      ...customerIds,
      ...customerIds,
      ...skus,
      ...customerIds,
      ...customerIds,
      ...skus,
      ...channelIds,
    ],
  );
  const lists = new Map<number, { id: number; code: string; currency: string }>();
  const assignments: PriceAssignment[] = assignmentRows.map((r) => {
    const listId = Number(r.price_list_id);
    lists.set(listId, { id: listId, code: String(r.code), currency: String(r.currency) });
    return { listId, level: String(r.kind) as PriceLevel, target: String(r.target) };
  });
  const items: PriceItem[] = itemRows.map((r) => ({
    id: Number(r.id),
    listId: Number(r.price_list_id),
    sku: String(r.sku_code),
    minQuantity: Number(r.min_quantity),
    validFrom: (r.valid_from as string | null) ?? null,
    validTo: (r.valid_to as string | null) ?? null,
    price: r.price === null ? null : Number(r.price),
    percentBp: r.percent_bp === null ? null : Number(r.percent_bp),
    basedOnListId: r.based_on_list_id === null ? null : Number(r.based_on_list_id),
  }));
  const customers = new Map(
    customerRows.map((r) => [
      Number(r.id),
      { code: (r.code as string | null) ?? null, group: (r.customer_group as string | null) ?? null },
    ]),
  );
  const policies = new Map(channelRows.map((r) => [Number(r.id), r]));
  return {
    book: priceBook([...lists.values()], assignments, items),
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
