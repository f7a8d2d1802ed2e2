import { codeKey } from './codes.js';
import type { OrderProblem } from './order-input.js';

/**
 * Price lists (一客一价), as decisions over plain data: which agreed price applies to an order line,
 * and what a channel's price policy makes of it. No I/O here; `src/customers/price-book.ts` loads
 * the data for a group of orders in one round trip.
 */

/** Who a price list applies to, most specific first. */
export type PriceLevel = 'customer' | 'group' | 'default';
export const PRICE_LEVELS: readonly PriceLevel[] = ['customer', 'group', 'default'];
const LEVEL_RANK: Record<PriceLevel, number> = { customer: 3, group: 2, default: 1 };

export interface PriceListInfo {
  id: number;
  code: string;
  currency: string;
}

/** One price of a list: fixed (`price`), or `percentBp` hundredths of a percent of another list's price. */
export interface PriceItem {
  id: number;
  listId: number;
  sku: string;
  minQuantity: number;
  /** Inclusive `YYYY-MM-DD` in the business time zone; null: open-ended. */
  validFrom: string | null;
  validTo: string | null;
  price: number | null;
  percentBp: number | null;
  basedOnListId: number | null;
}

export interface PriceAssignment {
  listId: number;
  level: PriceLevel;
  /** Customer code (customer), group code (group), '' (default). */
  target: string;
}

/** The price lists, their assignments and items, indexed for look-up by assignment, list and SKU. */
export interface PriceBook {
  lists: ReadonlyMap<number, PriceListInfo>;
  /** List ids by level and (case-folded) target. */
  assigned: ReadonlyMap<string, number[]>;
  itemsByListSku: ReadonlyMap<string, PriceItem[]>;
}

const assignmentKey = (level: PriceLevel, target: string) => `${level}\u0000${codeKey(target)}`;

const listSkuKey = (listId: number, sku: string) => `${listId}\u0000${codeKey(sku)}`;

export function priceBook(
  lists: readonly PriceListInfo[],
  assignments: readonly PriceAssignment[],
  items: readonly PriceItem[],
): PriceBook {
  const itemsByListSku = new Map<string, PriceItem[]>();
  for (const item of items) {
    const key = listSkuKey(item.listId, item.sku);
    const list = itemsByListSku.get(key) ?? [];
    list.push(item);
    itemsByListSku.set(key, list);
  }
  const assigned = new Map<string, number[]>();
  for (const a of assignments) {
    const key = assignmentKey(a.level, a.level === 'default' ? '' : a.target);
    assigned.set(key, [...(assigned.get(key) ?? []), a.listId]);
  }
  return { lists: new Map(lists.map((l) => [l.id, l])), assigned, itemsByListSku };
}

export interface PriceQuery {
  /** The order's trade customer (code and group), or null for an order without one. */
  customer: { code: string | null; group: string | null } | null;
  currency: string;
  sku: string;
  quantity: number;
  /** The order's date in the business time zone, `YYYY-MM-DD` (see `businessDate`). */
  date: string;
}

/** The price that applies to a line and the rule (price list item) that gave it. */
export interface ResolvedPrice {
  price: number;
  itemId: number;
  listCode: string;
  level: PriceLevel;
}

const applies = (item: PriceItem, quantity: number, date: string) =>
  item.minQuantity <= quantity &&
  (item.validFrom === null || item.validFrom <= date) &&
  (item.validTo === null || date <= item.validTo);

/** Higher quantity break first, then the later `validFrom` (open-ended counts as the earliest). */
function betterWithinLevel(a: PriceItem, b: PriceItem): boolean {
  if (a.minQuantity !== b.minQuantity) return a.minQuantity > b.minQuantity;
  const af = a.validFrom ?? '';
  const bf = b.validFrom ?? '';
  if (af !== bf) return af > bf;
  return a.id > b.id;
}

/** The best fixed price of one list for a line, ignoring assignments: what a percentage item is based on. */
function basePrice(book: PriceBook, listId: number, sku: string, quantity: number, date: string) {
  let best: PriceItem | null = null;
  for (const item of book.itemsByListSku.get(listSkuKey(listId, sku)) ?? []) {
    if (item.price === null || !applies(item, quantity, date)) continue;
    if (!best || betterWithinLevel(item, best)) best = item;
  }
  return best?.price ?? null;
}

/** A percentage of an amount in minor units, rounded half up, exactly. */
export function percentOf(amount: number, percentBp: number): number {
  return Number((BigInt(amount) * BigInt(percentBp) + 5000n) / 10000n);
}

function itemPrice(book: PriceBook, item: PriceItem, q: PriceQuery): number | null {
  if (item.price !== null) return item.price;
  if (item.percentBp === null || item.basedOnListId === null) return null;
  const base = basePrice(book, item.basedOnListId, q.sku, q.quantity, q.date);
  return base === null ? null : percentOf(base, item.percentBp);
}

/** The lists that apply to a customer, most specific level first. */
function applicableLists(book: PriceBook, customer: PriceQuery['customer']): [PriceLevel, number[]][] {
  const at = (level: PriceLevel, target: string | null | undefined): [PriceLevel, number[]][] => {
    if (target === null || target === undefined) return [];
    const ids = book.assigned.get(assignmentKey(level, target));
    return ids ? [[level, ids]] : [];
  };
  return [...at('customer', customer?.code), ...at('group', customer?.group), ...at('default', '')];
}

/**
 * The price for one order line: among the lists that apply to the customer (assigned to it, to its
 * group, or the default) and have the order's currency, the item for the SKU valid on the order's
 * date whose quantity break the line reaches; the most specific assignment wins, then the highest
 * quantity break, then the latest `validFrom`. Null when none applies (no price).
 */
export function resolvePrice(book: PriceBook, q: PriceQuery): ResolvedPrice | null {
  let best: { item: PriceItem; level: PriceLevel; price: number } | null = null;
  for (const [level, listIds] of applicableLists(book, q.customer)) {
    // Levels come most specific first: a level below the one that gave a price cannot win.
    if (best && LEVEL_RANK[best.level] > LEVEL_RANK[level]) break;
    for (const listId of listIds) {
      if (book.lists.get(listId)?.currency !== q.currency) continue;
      for (const item of book.itemsByListSku.get(listSkuKey(listId, q.sku)) ?? []) {
        if (!applies(item, q.quantity, q.date)) continue;
        if (best && !betterWithinLevel(item, best.item)) continue;
        const price = itemPrice(book, item, q);
        if (price !== null) best = { item, level, price };
      }
    }
  }
  if (!best) return null;
  return {
    price: best.price,
    itemId: best.item.id,
    listCode: book.lists.get(best.item.listId)?.code ?? '',
    level: best.level,
  };
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** The calendar date (`YYYY-MM-DD`) of an instant in a time zone: what `validFrom`/`validTo` compare with. */
export function businessDate(instant: Date | string, timeZone: string): string {
  // Every time zone's offset is a whole number of quarter hours: the minute decides the date.
  const key = `${timeZone}|${new Date(instant).toISOString().slice(0, 16)}`;
  const known = recentDates.get(key);
  if (known !== undefined) return known;
  if (recentDates.size >= 10_000) recentDates.clear();
  const date = formatDate(instant, timeZone);
  recentDates.set(key, date);
  return date;
}

const recentDates = new Map<string, string>();

function formatDate(instant: Date | string, timeZone: string): string {
  let format = dateFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    dateFormats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(instant)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

/** What a channel does with the prices its orders carry. */
export type PricePolicy = 'enforce' | 'accept' | 'hold';
export const PRICE_POLICIES: readonly PricePolicy[] = ['enforce', 'accept', 'hold'];

export interface ChannelPricing {
  policy: PricePolicy;
  /** `hold`: a difference up to this percent of our price passes (null: none). */
  tolerancePercent: number | null;
  /** `hold`: a difference up to this many minor units passes (null: none). */
  toleranceAmount: number | null;
}

/** The policy of a channel that has none set: the admin API and Excel enforce our prices, shops' are accepted. */
export function defaultPricing(channel: string): ChannelPricing {
  const ours = channel === 'api' || channel === 'excel';
  return { policy: ours ? 'enforce' : 'accept', tolerancePercent: null, toleranceAmount: null };
}

export interface PricedLine {
  lineNo: number;
  sku: string;
  /** The unit price the order carried, or null when it gave none (an API order may leave it out). */
  carried: number | null;
}

/** What the price check decided for one line. */
export interface LinePriceCheck {
  lineNo: number;
  /** Our price (null: none applies). */
  checked: number | null;
  ruleId: number | null;
  /** carried − checked; null when either is missing. */
  variance: number | null;
  /** The unit price the line is sold at. */
  unitPrice: number;
}

/**
 * Within tolerance: no difference, or one no larger than the absolute tolerance or than the
 * percentage of our price (whichever of them is given; the more generous wins). Exact integers.
 */
export function withinTolerance(variance: number, checked: number, pricing: ChannelPricing): boolean {
  const diff = BigInt(Math.abs(variance));
  if (diff === 0n) return true;
  if (pricing.toleranceAmount !== null && diff <= BigInt(pricing.toleranceAmount)) return true;
  if (pricing.tolerancePercent !== null) {
    const bp = BigInt(Math.round(pricing.tolerancePercent * 100));
    if (diff * 10000n <= BigInt(checked) * bp) return true;
  }
  return false;
}

/**
 * Applies a channel's price policy to an order's lines, given our price for each (`resolved`, in
 * the same order). `enforce` sells at our price, `accept` at the order's, `hold` at the order's but
 * returns a `price_variance` problem for each line outside the tolerance. A line with no price of
 * its own takes ours; with neither it is a `no_price` problem. A line with its own price and none
 * of ours keeps its own.
 */
export function checkOrderPrices(
  lines: readonly PricedLine[],
  resolved: readonly (ResolvedPrice | null)[],
  pricing: ChannelPricing,
): { lines: LinePriceCheck[]; problems: OrderProblem[] } {
  const problems: OrderProblem[] = [];
  const out = lines.map((line, i): LinePriceCheck => {
    const ours = resolved[i] ?? null;
    const base = { lineNo: line.lineNo, checked: ours?.price ?? null, ruleId: ours?.itemId ?? null };
    if (line.carried === null) {
      if (!ours)
        problems.push({
          code: 'no_price',
          message: `line ${line.lineNo}: no unit price given and no price list has one for ${line.sku}`,
          lineNo: line.lineNo,
          sku: line.sku,
        });
      return { ...base, variance: null, unitPrice: ours?.price ?? 0 };
    }
    if (!ours) return { ...base, variance: null, unitPrice: line.carried };
    const variance = line.carried - ours.price;
    if (pricing.policy === 'hold' && !withinTolerance(variance, ours.price, pricing))
      problems.push({
        code: 'price_variance',
        message: `line ${line.lineNo}: ${line.sku} at ${line.carried}, the agreed price is ${ours.price} (difference ${variance})`,
        lineNo: line.lineNo,
        sku: line.sku,
        orderPrice: line.carried,
        ourPrice: ours.price,
        variance,
        ruleId: ours.itemId,
      } as OrderProblem);
    return { ...base, variance, unitPrice: pricing.policy === 'enforce' ? ours.price : line.carried };
  });
  return { lines: out, problems };
}

/** A rule as the tie check sees it: where it applies and what would make it win. */
export interface RuleKey {
  itemId: number | null;
  listCode: string;
  level: PriceLevel;
  target: string;
  currency: string;
  sku: string;
  minQuantity: number;
  validFrom: string | null;
}

/**
 * Two rules tie when one order line could find both and nothing ranks one above the other: the same
 * assignment (level and target), currency, SKU, quantity break and `validFrom`. Returns the first
 * such pair, or null.
 */
export function findTie(rules: readonly RuleKey[]): [RuleKey, RuleKey] | null {
  const seen = new Map<string, RuleKey>();
  for (const r of rules) {
    const key = [
      r.level,
      codeKey(r.target),
      r.currency,
      codeKey(r.sku),
      r.minQuantity,
      r.validFrom ?? '',
    ].join('\u0000');
    const other = seen.get(key);
    if (other) return [other, r];
    seen.set(key, r);
  }
  return null;
}
