import type { Conn } from '../../src/db/connection.js';

type Row = Record<string, number>;
const rows = async (q: PromiseLike<unknown>) => (await q) as Row[];

/**
 * Checks the architecture's invariants over the whole database and returns every violation found
 * (empty when all hold):
 * - no stock row with reserved < 0, on_hand < 0 or reserved > on_hand;
 * - the ledger replays to the stock levels exactly;
 * - every line of a processed order has reserved + backordered + shipped + cancelled = ordered
 *   (a line of an order not yet processed, held or rejected has none of them yet);
 * - every line's allocations add up to its reserved and shipped quantities;
 * - the stock reserved per SKU and warehouse equals the open allocations;
 * - every order has history, the first entry is `received`, and the last is its current status.
 */
export async function checkInvariants(db: Conn): Promise<string[]> {
  const problems: string[] = [];

  const levels = await rows(db('stock_levels').select('sku_id', 'warehouse_id', 'on_hand', 'reserved'));
  for (const l of levels) {
    if (Number(l.reserved) < 0 || Number(l.on_hand) < 0 || Number(l.reserved) > Number(l.on_hand)) {
      problems.push(
        `stock sku ${l.sku_id} wh ${l.warehouse_id}: on_hand ${l.on_hand}, reserved ${l.reserved}`,
      );
    }
  }

  const replay = await rows(
    db('stock_movements')
      .select('sku_id', 'warehouse_id')
      .sum({ on_hand: 'd_on_hand', reserved: 'd_reserved' })
      .groupBy('sku_id', 'warehouse_id'),
  );
  const key = (r: Row) => `${r.sku_id}:${r.warehouse_id}`;
  const replayed = new Map(
    replay.map((r) => [key(r), { onHand: Number(r.on_hand), reserved: Number(r.reserved) }]),
  );
  for (const l of levels) {
    const r = replayed.get(key(l)) ?? { onHand: 0, reserved: 0 };
    if (r.onHand !== Number(l.on_hand) || r.reserved !== Number(l.reserved)) {
      problems.push(
        `ledger for sku ${l.sku_id} wh ${l.warehouse_id} replays to ${r.onHand}/${r.reserved}, stock says ${l.on_hand}/${l.reserved}`,
      );
    }
    replayed.delete(key(l));
  }
  for (const [k, r] of replayed)
    if (r.onHand !== 0 || r.reserved !== 0)
      problems.push(`ledger has movements for ${k} without a stock row`);

  // Processed orders account for every unit of every line; orders not (or never) processed hold
  // nothing yet: their lines are all still pending.
  const badLines = await db('order_lines as ol')
    .join('orders as o', 'o.id', 'ol.order_id')
    .whereRaw('ol.reserved < 0 OR ol.backordered < 0 OR ol.shipped < 0 OR ol.cancelled < 0')
    .orWhereRaw(
      "o.status NOT IN ('received', 'on_hold', 'rejected') AND ol.reserved + ol.backordered + ol.shipped + ol.cancelled <> ol.ordered",
    )
    .orWhereRaw(
      "o.status IN ('received', 'on_hold', 'rejected') AND ol.reserved + ol.backordered + ol.shipped + ol.cancelled <> 0",
    )
    .select('ol.*', 'o.status');
  for (const l of badLines) {
    problems.push(
      `line ${l.id} of order ${l.order_id} (${l.status}): ${l.reserved}+${l.backordered}+${l.shipped}+${l.cancelled} vs ${l.ordered}`,
    );
  }

  const allocs = await rows(
    db('order_lines as ol')
      .leftJoin('order_allocations as a', 'a.order_line_id', 'ol.id')
      .groupBy('ol.id', 'ol.reserved', 'ol.shipped')
      .select('ol.id', 'ol.reserved', 'ol.shipped')
      .sum({ a_reserved: 'a.reserved', a_shipped: 'a.shipped' }),
  );
  for (const a of allocs) {
    if (Number(a.a_reserved ?? 0) !== Number(a.reserved) || Number(a.a_shipped ?? 0) !== Number(a.shipped)) {
      problems.push(
        `line ${a.id}: allocations ${a.a_reserved}/${a.a_shipped} vs line ${a.reserved}/${a.shipped}`,
      );
    }
  }

  const held = await rows(
    db('order_allocations as a')
      .join('order_lines as ol', 'ol.id', 'a.order_line_id')
      .select('ol.sku_id', 'a.warehouse_id')
      .sum({ reserved: 'a.reserved' })
      .groupBy('ol.sku_id', 'a.warehouse_id'),
  );
  const heldBy = new Map(held.map((h) => [key(h), Number(h.reserved)]));
  for (const l of levels) {
    const h = heldBy.get(key(l)) ?? 0;
    if (h !== Number(l.reserved))
      problems.push(`sku ${l.sku_id} wh ${l.warehouse_id}: reserved ${l.reserved} but orders hold ${h}`);
  }

  const orders = await db('orders').select('id', 'status');
  const events = await db('order_events').select('order_id', 'from_status', 'to_status').orderBy('id');
  const byOrder = new Map<number, { from: string | null; to: string }[]>();
  for (const e of events) {
    const list = byOrder.get(Number(e.order_id)) ?? [];
    list.push({ from: e.from_status, to: e.to_status });
    byOrder.set(Number(e.order_id), list);
  }
  for (const o of orders) {
    const h = byOrder.get(Number(o.id));
    if (!h?.length) {
      problems.push(`order ${o.id} has no history`);
      continue;
    }
    if (h[0]!.to !== 'received' || h[0]!.from !== null)
      problems.push(`order ${o.id}: history does not start at received`);
    if (h[h.length - 1]!.to !== o.status)
      problems.push(`order ${o.id}: status ${o.status} but history ends at ${h[h.length - 1]!.to}`);
    for (let i = 1; i < h.length; i++) {
      if (h[i]!.from !== h[i - 1]!.to)
        problems.push(`order ${o.id}: history jumps from ${h[i - 1]!.to} to a change from ${h[i]!.from}`);
    }
  }
  // Promotion uses: the ledger adds up to each limited promotion's counter, never below zero, and
  // an order holds at most one use of a promotion.
  const promotionUses = await rows(
    db('promotions as p')
      .leftJoin('promotion_uses as u', 'u.promotion_id', 'p.id')
      .groupBy('p.id', 'p.used', 'p.usage_limit', 'p.customer_limit')
      .select('p.id', 'p.used', 'p.usage_limit', 'p.customer_limit')
      .sum({ n: 'u.delta' }),
  );
  for (const p of promotionUses) {
    const n = Number(p.n ?? 0);
    const limited = p.usage_limit !== null || p.customer_limit !== null;
    if (n < 0) problems.push(`promotion ${p.id}: its uses add up to ${n}`);
    if (limited && n !== Number(p.used))
      problems.push(`promotion ${p.id}: counter ${p.used} but its uses add up to ${n}`);
    if (p.usage_limit !== null && n > Number(p.usage_limit))
      problems.push(`promotion ${p.id}: ${n} uses past its limit of ${p.usage_limit}`);
  }
  const perOrder = await rows(
    db('promotion_uses')
      .groupBy('promotion_id', 'order_id')
      .select('promotion_id', 'order_id')
      .sum({ n: 'delta' })
      .havingRaw('SUM(delta) NOT IN (0, 1)'),
  );
  for (const u of perOrder)
    problems.push(`order ${u.order_id} holds ${u.n} uses of promotion ${u.promotion_id}`);
  return problems;
}
