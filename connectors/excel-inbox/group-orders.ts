import type { CheckedRow } from './check-row.js';
import type { ParsedOrder, ParsedRow, RejectedOrder } from './types.js';

/** Most lines `orderInputSchema` takes in one order. */
export const MAX_LINES_PER_ORDER = 1000;

/** Row numbers shown in a message before the rest are only counted. */
const ROWS_SHOWN = 5;

interface Group {
  externalId: string;
  customerCode: string;
  orderNo: string;
  own: CheckedRow[];
  /** Rows without an order number or customer that may belong here: they make the order invalid. */
  joined: CheckedRow[];
}

export interface GroupedOrders {
  orders: ParsedOrder[];
  rejectedOrders: RejectedOrder[];
  rows: ParsedRow[];
}

function rowList(rows: readonly number[]): string {
  const shown = rows.slice(0, ROWS_SHOWN).join(', ');
  const more = rows.length > ROWS_SHOWN ? ` and ${rows.length - ROWS_SHOWN} more` : '';
  return `${rows.length === 1 ? 'row' : 'rows'} ${shown}${more}`;
}

function orderList(groups: readonly Group[]): string {
  const names = [...new Set(groups.map((g) => g.orderNo))];
  const shown = names.slice(0, ROWS_SHOWN).join(', ');
  const more = names.length > ROWS_SHOWN ? ` and ${names.length - ROWS_SHOWN} more` : '';
  return names.length === 1 ? `order ${shown} is` : `orders ${shown}${more} are`;
}

function toParsedRow(
  r: CheckedRow,
  status: ParsedRow['status'],
  reason?: string,
  externalId?: string,
): ParsedRow {
  return {
    row: r.row,
    orderNo: r.orderNo,
    customerCode: r.customerCode,
    sku: r.sku,
    quantity: r.quantity,
    unitPrice: r.unitPrice,
    currency: r.currency,
    rawQuantity: r.rawQuantity,
    rawUnitPrice: r.rawUnitPrice,
    ...(externalId === undefined ? {} : { externalId }),
    status,
    ...(reason === undefined ? {} : { reason }),
  };
}

/**
 * Groups checked rows into orders by (customer code, order number), in order of first appearance,
 * and applies the rule that an order is imported whole or not at all: one invalid row rejects every
 * row of its order. A row missing its order number or customer code cannot be placed, so it counts
 * against every order it could belong to (same customer, or same order number, or any order when
 * both are missing) rather than let the order it was meant for go in without it. A row that has
 * neither order number, customer nor SKU (a totals or note line) is rejected alone.
 */
export function groupOrders(checked: readonly CheckedRow[]): GroupedOrders {
  const groups = new Map<string, Group>();
  const orphans: CheckedRow[] = [];
  for (const r of checked) {
    if (r.customerCode === '' || r.orderNo === '') {
      orphans.push(r);
      continue;
    }
    const key = `${r.customerCode}\u0000${r.orderNo}`;
    let group = groups.get(key);
    if (!group) {
      group = {
        externalId: `${r.customerCode}:${r.orderNo}`,
        customerCode: r.customerCode,
        orderNo: r.orderNo,
        own: [],
        joined: [],
      };
      groups.set(key, group);
    }
    group.own.push(r);
  }

  const all = [...groups.values()];
  const byCustomer = new Map<string, Group[]>();
  const byOrderNo = new Map<string, Group[]>();
  const index = (map: Map<string, Group[]>, key: string, g: Group) => {
    const list = map.get(key);
    if (list) list.push(g);
    else map.set(key, [g]);
  };
  for (const g of all) {
    index(byCustomer, g.customerCode, g);
    index(byOrderNo, g.orderNo, g);
  }
  const orphanGroups = new Map<CheckedRow, Group[]>();
  for (const r of orphans) {
    let candidates: Group[] = [];
    if (r.customerCode !== '') candidates = byCustomer.get(r.customerCode) ?? [];
    else if (r.orderNo !== '') candidates = byOrderNo.get(r.orderNo) ?? [];
    else if (r.sku !== '') candidates = all;
    for (const g of candidates) g.joined.push(r);
    orphanGroups.set(r, candidates);
  }

  const result = new Map<CheckedRow, ParsedRow>();
  const orders: ParsedOrder[] = [];
  const rejectedOrders: RejectedOrder[] = [];
  for (const g of all) {
    const problems = new Map<CheckedRow, string[]>();
    const orderCurrency = (g.own.find((r) => r.currencyValid) ?? g.own[0])?.currency;
    const currencyRow = g.own.find((r) => r.currency === orderCurrency)?.row;
    // The order's shipping may be written on one row or repeated on each; two different amounts are a mistake.
    const shippingRow = g.own.find((r) => typeof r.shipping === 'number');
    for (const r of g.own) {
      const own = [...r.problems];
      if (r.currencyValid && r.currency !== orderCurrency) {
        own.push(
          `currency ${r.currency} differs from ${orderCurrency} on row ${currencyRow} of the same order`,
        );
      }
      if (typeof r.shipping === 'number' && shippingRow && r.shipping !== shippingRow.shipping) {
        own.push(`shipping differs from the shipping on row ${shippingRow.row} of the same order`);
      }
      if (own.length > 0) problems.set(r, own);
    }
    const orderProblem =
      g.own.length > MAX_LINES_PER_ORDER
        ? `order ${g.orderNo} has ${g.own.length} lines; at most ${MAX_LINES_PER_ORDER} are taken in one order`
        : undefined;

    if (problems.size === 0 && g.joined.length === 0 && orderProblem === undefined) {
      const customerName = g.own.find((r) => r.customerName !== '')?.customerName;
      orders.push({
        externalId: g.externalId,
        customerCode: g.customerCode,
        ...(customerName ? { customerName } : {}),
        orderNo: g.orderNo,
        currency: orderCurrency ?? '',
        lines: g.own.map((r) => ({
          sku: r.sku,
          quantity: r.quantity!,
          unitPrice: r.unitPrice!,
          ...(r.discount ? { discount: r.discount } : {}),
        })),
        ...(shippingRow ? { shipping: shippingRow.shipping as number } : {}),
        rows: g.own.map((r) => r.row),
      });
      for (const r of g.own) result.set(r, toParsedRow(r, 'pending', undefined, g.externalId));
      continue;
    }

    const badRows = [...problems.keys(), ...g.joined].map((r) => r.row).sort((a, b) => a - b);
    const others = `another row of order ${g.orderNo} is invalid (${rowList(badRows)})`;
    for (const r of g.own) {
      const own = problems.get(r);
      const reasons = own ? [...own] : orderProblem ? [] : [others];
      if (orderProblem) reasons.push(orderProblem);
      result.set(r, toParsedRow(r, 'rejected', reasons.join('; '), g.externalId));
    }
    const details = [...problems.entries(), ...g.joined.map((r) => [r, r.problems] as const)]
      .sort(([a], [b]) => a.row - b.row)
      .map(([r, p]) => `row ${r.row}: ${p.join(', ')}`);
    const shown = details.slice(0, 3);
    if (details.length > 3) shown.push(`and ${details.length - 3} more invalid rows`);
    rejectedOrders.push({
      externalId: g.externalId,
      customerCode: g.customerCode,
      orderNo: g.orderNo,
      rows: [...g.own, ...g.joined].map((r) => r.row).sort((a, b) => a - b),
      badRows,
      reason: [...(orderProblem ? [orderProblem] : []), ...shown].join('; '),
    });
  }

  for (const r of orphans) {
    const joined = orphanGroups.get(r) ?? [];
    const suffix = joined.length > 0 ? ` (so ${orderList(joined)} rejected too)` : '';
    result.set(r, toParsedRow(r, 'rejected', `${r.problems.join('; ')}${suffix}`));
  }

  return { orders, rejectedOrders, rows: checked.map((r) => result.get(r)!) };
}
