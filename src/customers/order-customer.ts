import type { SqlStatements, Tx } from '../db/connection.js';
import { codeKey } from '../domain/codes.js';
import type { CustomerInput, OrderProblem } from '../domain/order-input.js';

/**
 * Who an order's customer is ("Who the customer is", docs/ARCHITECTURE), decided at intake for a
 * group of orders with at most four reads, whatever the group's size:
 *
 * - an order naming a customer code (API, Excel) belongs to that trade customer; a code we do not
 *   have creates nothing (trade customers are created by people): the order keeps the code and
 *   processing holds it (`orderCustomerProblems`) until such a customer exists;
 * - a channel's buyer belongs to the trade customer the channel customer id is mapped to
 *   (`PUT /api/channels/{id}/customers/{channelCustomerId}`), else to the trade customer one of
 *   whose contacts has the buyer's e-mail (the oldest such customer), else to the channel
 *   customer keyed by (channel, channel customer id), group `retail`, created on first sight by
 *   the order writer in one statement (create-and-lock);
 * - a buyer with neither (a guest without a matching e-mail) has no customer: the order keeps the
 *   buyer's contact only.
 *
 * Nothing here locks a row: a retail order never waits for its customer, and credit (which does
 * lock) is checked later.
 */
export type OrderCustomer =
  | { kind: 'none' }
  | { kind: 'known'; customerId: number }
  | { kind: 'new_channel_customer'; channel: string; channelCustomerId: string };

interface Wanted {
  channel: string;
  customer?: CustomerInput | undefined;
}

interface TradeRow {
  id: number;
}

const pairKey = (channel: string, id: string) => `${channel}\u0000${id}`;

/** A buyer's e-mail as contacts store it. */
export const emailKey = (email: string) => email.trim().toLowerCase();

export async function resolveOrderCustomers(tx: Tx, orders: readonly Wanted[]): Promise<OrderCustomer[]> {
  const codes = [...new Set(orders.flatMap((o) => (o.customer?.code ? [o.customer.code] : [])))];
  const buyers = orders.filter((o) => !o.customer?.code && o.customer?.channelCustomerId);
  const pairs = [
    ...new Map(
      buyers.map((o) => {
        const pair: [string, string] = [o.channel, o.customer!.channelCustomerId!];
        return [pairKey(...pair), pair] as const;
      }),
    ).values(),
  ];
  const emails = [
    ...new Set(
      orders.flatMap((o) => (!o.customer?.code && o.customer?.email ? [emailKey(o.customer.email)] : [])),
    ),
  ];
  const trade = 'c.id, c.code';
  const [byCode, mapped, byEmail, channelCustomers] = await Promise.all([
    codes.length ? tx('customers as c').whereIn('c.code', codes).select(tx.raw(trade)) : [],
    pairs.length
      ? tx('channel_customer_map as m')
          .join('customers as c', 'c.id', 'm.customer_id')
          .whereIn(['m.channel', 'm.channel_customer_id'], pairs)
          .select(tx.raw(`m.channel, m.channel_customer_id, ${trade}`))
      : [],
    emails.length
      ? tx('customer_contacts as cc')
          .join('customers as c', 'c.id', 'cc.customer_id')
          .whereIn('cc.email', emails)
          .whereNotNull('c.code')
          .orderBy('c.id', 'desc')
          .select(tx.raw(`cc.email, ${trade}`))
      : [],
    pairs.length
      ? tx('customers')
          .whereIn(['channel', 'channel_customer_id'], pairs)
          .select('id', 'channel', 'channel_customer_id')
      : [],
  ]);
  const codeOf = new Map(byCode.map((r) => [codeKey(r.code), r as TradeRow]));
  const mapOf = new Map(mapped.map((r) => [pairKey(r.channel, r.channel_customer_id), r as TradeRow]));
  // Ordered newest first, so the oldest customer with the e-mail is the one kept.
  const emailOf = new Map(byEmail.map((r) => [r.email as string, r as TradeRow]));
  const channelOf = new Map(
    channelCustomers.map((r) => [pairKey(r.channel, r.channel_customer_id), Number(r.id)]),
  );

  return orders.map((o): OrderCustomer => {
    const c = o.customer;
    if (!c) return { kind: 'none' };
    if (c.code) {
      const row = codeOf.get(codeKey(c.code));
      return row ? { kind: 'known', customerId: Number(row.id) } : { kind: 'none' };
    }
    const pair = c.channelCustomerId ? pairKey(o.channel, c.channelCustomerId) : null;
    const trade = (pair && mapOf.get(pair)) || (c.email ? emailOf.get(emailKey(c.email)) : undefined);
    if (trade) return { kind: 'known', customerId: Number(trade.id) };
    if (!pair) return { kind: 'none' };
    const existing = channelOf.get(pair);
    if (existing !== undefined) return { kind: 'known', customerId: existing };
    return { kind: 'new_channel_customer', channel: o.channel, channelCustomerId: c.channelCustomerId! };
  });
}

/**
 * What holds orders for their customer, checked when they are processed (the first time, and again
 * after a release), for a group of locked orders in one read: a customer code that names no
 * customer (`unknown_customer`; a customer created since is filled in), and a trade customer on hold
 * (`customer_on_hold`, with its reason). Returns the problems per order id; the customer ids found
 * for codes are written to the orders through `setCustomer`.
 */
export async function orderCustomerProblems(
  tx: Tx,
  orders: readonly { id: number; customerId: number | null; customerCode: string | null }[],
  setCustomer: (orderId: number, customerId: number) => void,
  prefetched?: readonly Record<string, unknown>[],
): Promise<Map<number, OrderProblem[]>> {
  const out = new Map<number, OrderProblem[]>();
  const ids = [...new Set(orders.flatMap((o) => (o.customerId === null ? [] : [o.customerId])))];
  const codes = [
    ...new Set(orders.flatMap((o) => (o.customerId === null && o.customerCode ? [o.customerCode] : []))),
  ];
  if (ids.length === 0 && codes.length === 0) return out;
  const rows: readonly Record<string, unknown>[] =
    prefetched ??
    (await tx('customers')
      .where((w) => {
        if (ids.length) w.orWhereIn('id', ids);
        if (codes.length) w.orWhereIn('code', codes);
      })
      .select('id', 'code', 'on_hold', 'on_hold_reason'));
  const byId = new Map(rows.map((r) => [Number(r.id), r]));
  const byCode = new Map(rows.filter((r) => r.code !== null).map((r) => [codeKey(String(r.code)), r]));
  for (const o of orders) {
    let row = o.customerId === null ? undefined : byId.get(o.customerId);
    if (o.customerId === null && o.customerCode) {
      row = byCode.get(codeKey(o.customerCode));
      if (row) setCustomer(o.id, Number(row.id));
      else {
        out.set(o.id, [
          {
            code: 'unknown_customer',
            message: `unknown customer ${o.customerCode}: create it, then release the order`,
          },
        ]);
        continue;
      }
    }
    if (row && (row.on_hold === true || Number(row.on_hold) === 1))
      out.set(o.id, [
        {
          code: 'customer_on_hold',
          message: `the customer is on hold${row.on_hold_reason ? `: ${row.on_hold_reason}` : ''}`,
        },
      ]);
  }
  return out;
}

/**
 * The customer of a stored order (SQL, alias `o`) as processing knows it: its `customer_id`, or —
 * an order naming a customer code not known at intake, whose customer processing fills in with its
 * commit (`orderCustomerProblems`' `setCustomer`) — the customer with that code.
 */
export const ORDER_CUSTOMER_ID =
  'COALESCE(o.customer_id, (SELECT oc.id FROM customers oc WHERE oc.code = o.customer_code))';

/**
 * `orderCustomerProblems`'s read by the ids of stored orders only (plain, no lock), for a caller
 * that sends it with the round trip that locks the orders (processing) and hands its rows over as
 * `prefetched`: the customer of each order, by its id or — none yet — by the order's customer code.
 */
export function orderCustomersRead(orderIds: readonly number[]): SqlStatements {
  return {
    sql:
      `SELECT c.id, c.code, c.on_hold, c.on_hold_reason FROM orders o JOIN customers c ON c.id = ${ORDER_CUSTOMER_ID} ` +
      `WHERE o.id IN (${orderIds.map(() => '?').join(', ')})`,
    bindings: orderIds,
  };
}

/** The customer columns of an order row as `orderCustomerProblems` takes them. */
export const orderCustomerOf = (r: Record<string, unknown>) => ({
  id: Number(r.id),
  customerId: r.customer_id === null || r.customer_id === undefined ? null : Number(r.customer_id),
  customerCode: (r.customer_code as string | null | undefined) ?? null,
});
