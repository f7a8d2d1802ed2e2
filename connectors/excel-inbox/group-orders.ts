import { type Bilingual, bilingual, shown } from './bilingual.js';
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

/** `rows 3, 4, 5, 6, 7 and 2 more` / `第 3、4、5、6、7 行等 7 行`. */
function rowList(rows: readonly number[]): Bilingual {
  const more = rows.length - ROWS_SHOWN;
  const first = rows.slice(0, ROWS_SHOWN);
  return {
    en: `${rows.length === 1 ? 'row' : 'rows'} ${first.join(', ')}${more > 0 ? ` and ${more} more` : ''}`,
    zh: `第 ${first.join('、')} 行${more > 0 ? `等 ${rows.length} 行` : ''}`,
  };
}

/** `so orders 1, 2 are rejected too` / `因此订单 1、2 也被拒绝`. */
function alsoRejected(groups: readonly Group[]): Bilingual {
  const names = [...new Set(groups.map((g) => g.orderNo))];
  const more = names.length - ROWS_SHOWN;
  const first = names.slice(0, ROWS_SHOWN);
  const en =
    names.length === 1
      ? `order ${first[0]} is`
      : `orders ${first.join(', ')}${more > 0 ? ` and ${more} more` : ''} are`;
  const zh = more > 0 ? `${first.join('、')} 等 ${names.length} 个订单` : `${first.join('、')} `;
  return { en: `so ${en} rejected too`, zh: `因此订单 ${zh}也被拒绝` };
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
    // Likewise the contract: on one row or on each, never two different ones.
    const contractRow = g.own.find((r) => r.contract !== '');
    for (const r of g.own) {
      const own = [...r.problems];
      if (r.currencyValid && r.currency !== orderCurrency) {
        own.push(
          bilingual(
            `currency ${r.currency} differs from ${orderCurrency} on row ${currencyRow} of the same order`,
            `币种 ${r.currency} 与同一订单第 ${currencyRow} 行的 ${orderCurrency} 不一致`,
          ),
        );
      }
      if (typeof r.shipping === 'number' && shippingRow && r.shipping !== shippingRow.shipping) {
        own.push(
          bilingual(
            `shipping differs from the shipping on row ${shippingRow.row} of the same order`,
            `运费与同一订单第 ${shippingRow.row} 行的运费不一致`,
          ),
        );
      }
      if (r.contract !== '' && contractRow && r.contract !== contractRow.contract) {
        own.push(
          bilingual(
            `contract ${r.contract} differs from contract ${contractRow.contract} on row ${contractRow.row} of the same order`,
            `合同号 ${r.contract} 与同一订单第 ${contractRow.row} 行的合同号 ${contractRow.contract} 不一致`,
          ),
        );
      }
      if (own.length > 0) problems.set(r, own);
    }
    const orderProblem =
      g.own.length > MAX_LINES_PER_ORDER
        ? bilingual(
            `order ${g.orderNo} has ${g.own.length} lines; at most ${MAX_LINES_PER_ORDER} are taken in one order`,
            `订单 ${g.orderNo} 有 ${g.own.length} 行，每个订单最多 ${MAX_LINES_PER_ORDER} 行`,
          )
        : undefined;

    if (problems.size === 0 && g.joined.length === 0 && orderProblem === undefined) {
      const customerName = g.own.find((r) => r.customerName !== '')?.customerName;
      // Promotion codes may be on any row of the order, once or repeated.
      const promotionCodes = [...new Set(g.own.map((r) => r.promotionCode).filter((c) => c !== ''))];
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
        ...(contractRow ? { contract: contractRow.contract } : {}),
        ...(promotionCodes.length > 0 ? { promotionCodes } : {}),
        rows: g.own.map((r) => r.row),
      });
      for (const r of g.own) result.set(r, toParsedRow(r, 'pending', undefined, g.externalId));
      continue;
    }

    const badRows = [...problems.keys(), ...g.joined].map((r) => r.row).sort((a, b) => a - b);
    const bad = rowList(badRows);
    const others = bilingual(
      `another row of order ${g.orderNo} is invalid (${bad.en})`,
      `订单 ${g.orderNo} 的其他行有误（${bad.zh}）`,
    );
    for (const r of g.own) {
      const own = problems.get(r);
      const reasons = own ? [...own] : orderProblem ? [] : [others];
      if (orderProblem) reasons.push(orderProblem);
      result.set(r, toParsedRow(r, 'rejected', reasons.join('; '), g.externalId));
    }
    const details = [...problems.entries(), ...g.joined.map((r) => [r, r.problems] as const)]
      .sort(([a], [b]) => a.row - b.row)
      .map(([r, p]) => `${bilingual(`row ${r.row}`, `第 ${r.row} 行`)}: ${p.join(', ')}`);
    const listed = details.slice(0, 3);
    if (details.length > 3)
      listed.push(
        bilingual(`and ${details.length - 3} more invalid rows`, `另有 ${details.length - 3} 行有误`),
      );
    rejectedOrders.push({
      externalId: g.externalId,
      customerCode: g.customerCode,
      orderNo: g.orderNo,
      rows: [...g.own, ...g.joined].map((r) => r.row).sort((a, b) => a - b),
      badRows,
      reason: [...(orderProblem ? [orderProblem] : []), ...listed].join('; '),
    });
  }

  for (const r of orphans) {
    const joined = orphanGroups.get(r) ?? [];
    const suffix = joined.length > 0 ? ` (${shown(alsoRejected(joined))})` : '';
    result.set(r, toParsedRow(r, 'rejected', `${r.problems.join('; ')}${suffix}`));
  }

  return { orders, rejectedOrders, rows: checked.map((r) => result.get(r)!) };
}
