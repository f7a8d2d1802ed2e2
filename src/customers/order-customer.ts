import type { Tx } from '../db/connection.js';
import { codeKey } from '../domain/codes.js';
import type { CustomerInput, OrderProblem } from '../domain/order-input.js';

/**
 * Who an order's customer is ("Who the customer is", docs/ARCHITECTURE), decided at intake for a
 * group of orders with at most four reads, whatever the group's size:
 *
 * - an order naming a customer code (API, Excel) belongs to that trade customer; a code we do not
 *   have holds the order (`unknown_customer`) and creates nothing — trade customers are created
 *   by people;
 * - a channel's buyer belongs to the trade customer the channel customer id is mapped to
 *   (`PUT /api/channels/{id}/customers/{channelCustomerId}`), else to the trade customer one of
 *   whose contacts has the buyer's e-mail (the oldest such customer), else to the channel
 *   customer keyed by (channel, channel customer id), group `retail`, created on first sight by
 *   the order writer in one statement (create-and-lock);
 * - a buyer with neither (a guest without a matching e-mail) has no customer: the order keeps the
 *   buyer's contact only.
 *
 * A trade customer on hold holds its orders (`customer_on_hold`). Nothing here locks a row: a
 * retail order never waits for its customer, and credit (which does lock) is checked later.
 */
export type OrderCustomer =
  | { kind: 'none'; problems: OrderProblem[] }
  | { kind: 'known'; customerId: number; problems: OrderProblem[] }
  | { kind: 'new_channel_customer'; channel: string; channelCustomerId: string; problems: OrderProblem[] };

interface Wanted {
  channel: string;
  customer?: CustomerInput | undefined;
}

interface TradeRow {
  id: number;
  on_hold: unknown;
  on_hold_reason: string | null;
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
  const trade = 'c.id, c.code, c.on_hold, c.on_hold_reason';
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
    if (!c) return { kind: 'none', problems: [] };
    if (c.code) {
      const row = codeOf.get(codeKey(c.code));
      if (!row)
        return {
          kind: 'none',
          problems: [{ code: 'unknown_customer', message: `unknown customer ${c.code}: create it first` }],
        };
      return tradeCustomer(row);
    }
    const pair = c.channelCustomerId ? pairKey(o.channel, c.channelCustomerId) : null;
    const trade = (pair && mapOf.get(pair)) || (c.email ? emailOf.get(emailKey(c.email)) : undefined);
    if (trade) return tradeCustomer(trade);
    if (!pair) return { kind: 'none', problems: [] };
    const existing = channelOf.get(pair);
    if (existing !== undefined) return { kind: 'known', customerId: existing, problems: [] };
    return {
      kind: 'new_channel_customer',
      channel: o.channel,
      channelCustomerId: c.channelCustomerId!,
      problems: [],
    };
  });
}

function tradeCustomer(row: TradeRow): OrderCustomer {
  const onHold = row.on_hold === true || Number(row.on_hold) === 1;
  return {
    kind: 'known',
    customerId: Number(row.id),
    problems: onHold
      ? [
          {
            code: 'customer_on_hold',
            message: `the customer is on hold${row.on_hold_reason ? `: ${row.on_hold_reason}` : ''}`,
          },
        ]
      : [],
  };
}
