import { type Conn, rawRows } from '../db/connection.js';
import { codeKey } from '../domain/codes.js';
import { type OrderInput, orderTotal } from '../domain/order-input.js';
import {
  computeOrderMoney,
  type MoneyLine,
  type OrderAmounts,
  withComputedTax,
} from '../domain/order-money.js';
import type { OrderRule } from './order-rules.js';
import type { LineRow, OrderRow } from './order-store.js';

/** The tax zone of an order whose customer and channel name none (README "Order money and tax"). */
export const DEFAULT_TAX_ZONE = 'default';

/** The money fields of an order as the order writer needs them. */
type MoneyOrder = Pick<
  OrderInput,
  'lines' | 'customer' | 'shipping' | 'discount' | 'tax' | 'channelTotal' | 'pricesIncludeTax'
>;

/** A channel stored in `channels` is named `<type>:<id>` on its orders. */
const channelIdOf = (channel: string): number | null => {
  const m = /^[^:]+:(\d+)$/.exec(channel);
  return m ? Number(m[1]) : null;
};

const needsRates = (o: MoneyOrder) => o.tax === undefined && o.lines.some((l) => l.tax === undefined);
const needsSettings = (o: MoneyOrder) => o.pricesIncludeTax === undefined || needsRates(o);

/**
 * Completes the money of orders about to be stored, at intake: whether prices include tax (the
 * order's own word, else its channel's setting, else no), and the tax of each line that does not
 * say its tax, from our rates — the rate of the SKU's tax class in the order's tax zone (the
 * customer's zone, else the channel's, else `default`), rounded per line. Orders that say their tax
 * (a channel's orders do) keep it; no rate is no tax. Reads only when some order needs it, and
 * then for the whole group at once (`readTaxData`).
 */
export async function completeOrderMoney<T extends { channel: string; order: MoneyOrder }>(
  conn: Conn,
  inputs: readonly T[],
): Promise<T[]> {
  const needing = inputs.filter((i) => needsSettings(i.order));
  if (needing.length === 0) return [...inputs];
  const channelIds = [...new Set(needing.map((i) => channelIdOf(i.channel)).filter((id) => id !== null))];
  const taxed = needing.filter((i) => needsRates(i.order));
  const customerCodes = [...new Set(taxed.map((i) => i.order.customer?.code).filter((c) => c !== undefined))];
  const skuCodes = [...new Set(taxed.flatMap((i) => i.order.lines.map((l) => l.sku)))];
  const table = taxTable(await readTaxData(conn, channelIds, 'code', customerCodes, skuCodes));
  return inputs.map((input) => {
    if (!needsSettings(input.order)) return input;
    const pricesIncludeTax = input.order.pricesIncludeTax ?? table.channelPricesIncludeTax(input.channel);
    const order = { ...input.order, pricesIncludeTax };
    if (needsRates(input.order)) {
      const zone = table.zoneOf(input.order.customer?.code, input.channel);
      order.lines = withComputedTax(
        input.order.lines,
        (l) => table.rateOf(zone, l.sku),
        pricesIncludeTax,
      ).map((l, i) => (input.order.lines[i]!.tax === undefined ? { ...l, taxFromRates: true } : l));
    }
    return { ...input, order };
  });
}

/**
 * The tax rule of the order rules (src/orders/order-rules.ts): lines whose tax is ours, from rates
 * (`taxFromRates`), are taxed again on the price and discount the price check and the rules before
 * it left them (our price under `enforce`, a price given only at processing, a contract price, a
 * promotion's discount), so that what credit sees and what is stored is the order's final money.
 * A channel's own tax is never touched. Takes no lock; reads the rates of the group in one round
 * trip, and only when some order has such a line.
 */
export const taxRule: OrderRule<ReturnType<typeof taxTable> | null> = {
  name: 'tax',
  lockRank: 0,
  async load(tx, orders) {
    const taxed = orders.filter((o) => o.lines.some((l) => l.taxFromRates));
    if (taxed.length === 0) return null;
    const channelIds = [
      ...new Set(taxed.map((o) => channelIdOf(o.order.channel)).filter((id) => id !== null)),
    ];
    const customerIds = [...new Set(taxed.map((o) => o.order.customerId).filter((id) => id !== null))];
    const skuCodes = [...new Set(taxed.flatMap((o) => o.lines.map((l) => l.sku)))];
    return taxTable(await readTaxData(tx, channelIds, 'id', customerIds, skuCodes));
  },
  decide(table, draft) {
    if (table === null || !draft.lines.some((l) => l.taxFromRates)) return { problems: [] };
    const zone = table.zoneOf(draft.order.customerId ?? undefined, draft.order.channel);
    const taxed = withComputedTax(
      draft.lines.map((l) => ({
        sku: l.sku,
        quantity: l.ordered,
        unitPrice: l.unitPrice,
        discount: l.discountAmount,
        tax: l.taxFromRates ? undefined : l.taxAmount,
      })),
      (l) => table.rateOf(zone, l.sku),
      draft.order.pricesIncludeTax,
    );
    for (const [i, line] of draft.lines.entries()) line.taxAmount = taxed[i]!.tax ?? 0;
    // Such an order said no tax of its own (else no line would be ours): its tax is its lines'.
    draft.order.taxAmount = draft.lines.reduce((sum, l) => sum + l.taxAmount, 0);
    return { problems: [] };
  },
  take() {},
};

/** Looks up zones and rates in what `readTaxData` read; customers by code or by id, as read. */
function taxTable({ channels, customers, skus, rates }: Awaited<ReturnType<typeof readTaxData>>) {
  const channelOf = new Map(channels.map((c) => [Number(c.id), c]));
  const zoneOfCustomer = new Map(
    customers
      .filter((c) => c.tax_zone !== null)
      .map((c) => [codeKey(String(c.customer_key)), String(c.tax_zone)]),
  );
  const classOfSku = new Map(skus.map((s) => [codeKey(String(s.code)), String(s.tax_class)]));
  const rates_ = new Map(
    rates.map((r) => [
      `${codeKey(String(r.tax_zone))}\u0000${codeKey(String(r.tax_class))}`,
      Number(r.rate_bp),
    ]),
  );
  return {
    channelPricesIncludeTax: (channel: string) =>
      Boolean(channelOf.get(channelIdOf(channel) ?? -1)?.prices_include_tax),
    /** The customer's zone, else the channel's, else `default` (as a lookup key). */
    zoneOf: (customer: string | number | undefined, channel: string) =>
      codeKey(
        (customer !== undefined ? zoneOfCustomer.get(codeKey(String(customer))) : undefined) ??
          (channelOf.get(channelIdOf(channel) ?? -1)?.tax_zone as string | null | undefined) ??
          DEFAULT_TAX_ZONE,
      ),
    /** The rate, in basis points, of a SKU's tax class in a zone; 0 when none. */
    rateOf: (zone: string, sku: string) =>
      rates_.get(`${zone}\u0000${codeKey(classOfSku.get(codeKey(sku)) ?? '')}`) ?? 0,
  };
}

/** `?, ?, ?` for a list, or `NULL` (which matches nothing) for an empty one. */
const marks = (list: readonly unknown[]) => (list.length ? list.map(() => '?').join(', ') : 'NULL');

/**
 * What taxing a group of orders needs, in one round trip on MySQL (in turn on SQLite): the channels'
 * tax settings, the customers' tax zones, the SKUs' tax classes, and the rates of those classes in
 * every zone the orders can be in (their customers', their channels', `default`).
 */
async function readTaxData(
  conn: Conn,
  channelIds: readonly number[],
  customerBy: 'code' | 'id',
  customerCodes: readonly (string | number)[],
  skuCodes: readonly string[],
) {
  const [channels = [], customers = [], skus = [], rates = []] = await rawRows(
    conn,
    `SELECT id, tax_zone, prices_include_tax FROM channels WHERE id IN (${marks(channelIds)}); ` +
      `SELECT ${customerBy} AS customer_key, tax_zone FROM customers WHERE ${customerBy} IN (${marks(customerCodes)}); ` +
      `SELECT code, tax_class FROM skus WHERE code IN (${marks(skuCodes)}); ` +
      'SELECT tax_zone, tax_class, rate_bp FROM tax_rates ' +
      `WHERE tax_class IN (SELECT tax_class FROM skus WHERE code IN (${marks(skuCodes)})) ` +
      `AND (tax_zone = ? OR tax_zone IN (SELECT tax_zone FROM customers WHERE ${customerBy} IN (${marks(customerCodes)})) ` +
      `OR tax_zone IN (SELECT tax_zone FROM channels WHERE id IN (${marks(channelIds)})))`,
    [
      ...channelIds,
      ...customerCodes,
      ...skuCodes,
      ...skuCodes,
      DEFAULT_TAX_ZONE,
      ...customerCodes,
      ...channelIds,
    ],
  );
  return { channels, customers, skus, rates };
}

/**
 * The `orders` columns of an order's money. The total goes through `orderTotal` (the one place it is
 * computed, refusing one out of range).
 */
export function orderMoneyColumns(order: Omit<MoneyOrder, 'customer'>) {
  const money = computeOrderMoney(order.lines, order);
  return {
    total_amount: orderTotal(order.lines, order),
    shipping_amount: Number(money.shipping),
    discount_amount: Number(money.discount),
    tax_amount: Number(money.tax),
    // 1 or 0: SQLite binds no booleans.
    prices_include_tax: order.pricesIncludeTax ? 1 : 0,
    channel_total: order.channelTotal ?? null,
  };
}

/**
 * A stored order's lines and order-level amounts, as `computeOrderMoney` and `orderTotal` take them:
 * what its total is recomputed from (the order view, and the price check when it reprices lines).
 */
export function storedMoney(order: OrderRow, lines: readonly LineRow[]): [MoneyLine[], OrderAmounts] {
  return [
    lines.map((l) => ({
      quantity: l.ordered,
      unitPrice: l.unitPrice,
      discount: l.discountAmount,
      tax: l.taxAmount,
    })),
    {
      shipping: order.shippingAmount,
      discount: order.discountAmount,
      tax: order.taxAmount,
      pricesIncludeTax: order.pricesIncludeTax,
    },
  ];
}

/**
 * An order's money as the order API shows it: its lines' amounts, the order-level amounts, our
 * total, and beside it the channel's total and the difference (channel's minus ours; null when the
 * channel said no total). Recomputed from the stored figures, so a line's amount is exactly what the
 * total was made of.
 */
export function moneyView(order: OrderRow, lines: readonly LineRow[]) {
  const money = computeOrderMoney(...storedMoney(order, lines));
  return {
    currency: order.currency,
    pricesIncludeTax: order.pricesIncludeTax,
    lines: lines.map((l, i) => ({
      lineNo: l.lineNo,
      sku: l.sku,
      quantity: l.ordered,
      unitPrice: l.unitPrice,
      discount: l.discountAmount,
      amount: Number(money.lines[i]!.amount),
      tax: l.taxAmount,
    })),
    subtotal: Number(money.subtotal),
    discount: order.discountAmount,
    shipping: order.shippingAmount,
    tax: order.taxAmount,
    total: order.totalAmount,
    channelTotal: order.channelTotal,
    difference: order.channelTotal === null ? null : order.channelTotal - order.totalAmount,
  };
}
