import type { Conn } from '../../src/db/connection.js';
import {
  invoiceLineProblems,
  ledgerProblems,
  reservationProblems,
} from '../../src/reconciliation/internal-checks.js';

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
 * - every order has history, the first entry is `received`, and the last is its current status;
 * - no line has more returned than shipped, and its returns add up to what it says came back.
 * - every contract line's drawn quantity is the sum of its draws ledger, never below 0, and no
 *   order line has more drawn on a contract than it holds (ordered − cancelled).
 * - each credit exposure counter (customer and salesperson, open orders and unpaid invoices)
 *   equals the sum of the booked amounts it is made of (`credit_bookings`).
 * - intra-group transfers: per line 0 <= received <= sent; what is in transit (sent - received,
 *   over the transfers to a company) is exactly the stock of that company's in-transit location,
 *   which nothing ever reserves; each intra-group sale totals its transfer's lines.
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

  // The ledger replays to the stock levels (shared with the nightly reconciliation).
  problems.push(...(await ledgerProblems(db)).map((f) => f.message));

  // Returns: a line never has more back than it shipped, and its return lines add up to it.
  const returns = await rows(
    db('order_lines as ol')
      .leftJoin(
        db('order_return_lines')
          .select('order_line_id')
          .sum({ n: 'quantity' })
          .groupBy('order_line_id')
          .as('r'),
        'r.order_line_id',
        'ol.id',
      )
      .whereRaw('ol.returned > ol.shipped OR ol.returned <> COALESCE(r.n, 0)')
      .select('ol.id', 'ol.returned', 'ol.shipped', 'r.n'),
  );
  for (const r of returns)
    problems.push(
      `line ${r.id}: returned ${r.returned} of ${r.shipped} shipped; its returns add up to ${r.n ?? 0}`,
    );

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

  // Stock reserved equals what orders hold (shared with the nightly reconciliation).
  problems.push(...(await reservationProblems(db)).map((f) => f.message));

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
  const contractLines = await rows(
    db('contract_lines as cl')
      .leftJoin('contract_draws as d', 'd.contract_line_id', 'cl.id')
      .groupBy('cl.id', 'cl.drawn')
      .select('cl.id', 'cl.drawn')
      .sum({ ledger: 'd.quantity' }),
  );
  for (const l of contractLines) {
    if (Number(l.ledger ?? 0) !== Number(l.drawn) || Number(l.drawn) < 0)
      problems.push(`contract line ${l.id}: drawn ${l.drawn} but its draws add up to ${l.ledger ?? 0}`);
  }
  const overDrawn = await rows(
    db('contract_draws as d')
      .join('order_lines as ol', 'ol.id', 'd.order_line_id')
      .groupBy('ol.id', 'ol.ordered', 'ol.cancelled')
      .select('ol.id', 'ol.ordered', 'ol.cancelled')
      .sum({ drawn: 'd.quantity' })
      .havingRaw('SUM(d.quantity) > ol.ordered - ol.cancelled OR SUM(d.quantity) < 0'),
  );
  for (const l of overDrawn)
    problems.push(
      `order line ${l.id}: ${l.drawn} drawn on a contract for ${l.ordered} − ${l.cancelled} held`,
    );
  problems.push(...(await checkInvoiceInvariants(db)));
  problems.push(...(await creditProblems(db)));
  problems.push(...(await transferProblems(db)));
  problems.push(...(await statementProblems(db)));
  problems.push(...(await shipmentChannelProblems(db)));
  problems.push(...(await checkPaymentInvariants(db)));
  return problems;
}

/**
 * Payments (README "Payments"): each invoice's `paid` is the sum of its allocations; each
 * payment's `unapplied` is its amount less its allocations, never below zero; no invoice has more
 * paid and credited than its total; no allocation of nothing, and per payment and invoice the
 * allocations (reversals included) never add up below zero.
 */
export async function checkPaymentInvariants(db: Conn): Promise<string[]> {
  if (!(await db.schema.hasTable('payment_allocations'))) return [];
  const problems: string[] = [];
  const invoices = await rows(
    db('invoices as i')
      .leftJoin(
        db('payment_allocations').select('invoice_id').sum({ n: 'amount' }).groupBy('invoice_id').as('a'),
        'a.invoice_id',
        'i.id',
      )
      .leftJoin(
        db('invoices')
          .where('type', 'credit_note')
          .whereNotNull('credits_invoice_id')
          .select('credits_invoice_id')
          .sum({ n: 'total' })
          .groupBy('credits_invoice_id')
          .as('c'),
        'c.credits_invoice_id',
        'i.id',
      )
      .select('i.id', 'i.number', 'i.total', 'i.paid', db.raw('a.n AS allocated'), db.raw('c.n AS credited')),
  );
  for (const i of invoices) {
    const allocated = Number(i.allocated ?? 0);
    if (Number(i.paid) !== allocated)
      problems.push(`invoice ${i.number}: paid ${i.paid} but its allocations add up to ${allocated}`);
    if (allocated > 0 && allocated + Number(i.credited ?? 0) > Number(i.total))
      problems.push(
        `invoice ${i.number}: paid ${allocated} + credited ${i.credited ?? 0} > total ${i.total}`,
      );
  }
  const payments = await rows(
    db('payments as p')
      .leftJoin('payment_allocations as a', 'a.payment_id', 'p.id')
      .groupBy('p.id', 'p.amount', 'p.unapplied')
      .select('p.id', 'p.amount', 'p.unapplied')
      .sum({ allocated: 'a.amount' }),
  );
  // Payouts (money a channel paid back): a negative amount taken from the receipt they name.
  const payoutsOf = new Map<number, number>();
  const payouts = new Set<number>();
  if (await db.schema.hasColumn('payments', 'payout_of'))
    for (const p of await rows(
      db('payments').whereNotNull('payout_of').select('id', 'payout_of', 'amount'),
    )) {
      payouts.add(Number(p.id));
      payoutsOf.set(Number(p.payout_of), (payoutsOf.get(Number(p.payout_of)) ?? 0) - Number(p.amount));
    }
  for (const p of payments) {
    const allocated = Number(p.allocated ?? 0);
    if (payouts.has(Number(p.id))) {
      if (Number(p.amount) >= 0 || Number(p.unapplied) !== 0 || allocated !== 0)
        problems.push(`payout ${p.id}: amount ${p.amount}, unapplied ${p.unapplied}, allocated ${allocated}`);
      continue;
    }
    const paidOut = payoutsOf.get(Number(p.id)) ?? 0;
    if (Number(p.unapplied) !== Number(p.amount) - allocated - paidOut || Number(p.unapplied) < 0)
      problems.push(
        `payment ${p.id}: unapplied ${p.unapplied}, amount ${p.amount}, allocated ${allocated}, paid out ${paidOut}`,
      );
  }
  // A reversal (a credit note after payment) never takes back more than was applied.
  const pairs = await rows(
    db('payment_allocations')
      .groupBy('payment_id', 'invoice_id')
      .select('payment_id', 'invoice_id')
      .sum({ n: 'amount' })
      .havingRaw('SUM(amount) < 0'),
  );
  for (const x of pairs)
    problems.push(`payment ${x.payment_id} on invoice ${x.invoice_id}: allocations add up to ${x.n}`);
  const zero = await rows(db('payment_allocations').where('amount', 0).select('id'));
  for (const z of zero) problems.push(`allocation ${z.id} of nothing`);
  return problems;
}

/**
 * Invoices (README "Invoices"):
 * - numbers per series and year are 1..n with no gap and no repeat, and n is where the sequence
 *   row stands (a rolled-back posting consumed nothing);
 * - per order line, units invoiced net of credit notes never exceed what shipped (invoices of
 *   policy on_shipment or periodic) or what was ordered and not cancelled (policy on_order), nor
 *   what was ordered in all.
 */
export async function checkInvoiceInvariants(db: Conn): Promise<string[]> {
  const problems: string[] = [];
  const numbers = await rows(
    db('invoices')
      .select('series', 'year')
      .count({ n: '*' })
      .max({ top: 'seq' })
      .min({ low: 'seq' })
      .groupBy('series', 'year'),
  );
  const sequences = await rows(db('invoice_sequences').select('series', 'year', 'last_number'));
  const seqOf = new Map(sequences.map((s) => [`${s.series}-${s.year}`, Number(s.last_number)]));
  for (const n of numbers) {
    const k = `${n.series}-${n.year}`;
    if (Number(n.low) !== 1 || Number(n.top) !== Number(n.n))
      problems.push(`invoice numbers ${k}: ${n.n} numbers from ${n.low} to ${n.top} (a gap or a repeat)`);
    if (seqOf.get(k) !== Number(n.top))
      problems.push(`invoice numbers ${k}: highest ${n.top} but the sequence stands at ${seqOf.get(k)}`);
    seqOf.delete(k);
  }
  for (const [k, last] of seqOf)
    if (last !== 0) problems.push(`invoice sequence ${k} at ${last} with no invoices`);

  // Credit notes never take back more than their invoice billed.
  const over = await rows(
    db('invoices as i')
      .join('invoices as c', 'c.credits_invoice_id', 'i.id')
      .where('c.type', 'credit_note')
      .groupBy('i.id', 'i.number', 'i.total')
      .select('i.id', 'i.number', 'i.total')
      .sum({ credited: 'c.total' })
      .havingRaw('SUM(c.total) > i.total'),
  );
  for (const o of over) problems.push(`invoice ${o.number}: credit notes ${o.credited} > total ${o.total}`);

  // Invoices add up to shipments (shared with the nightly reconciliation).
  problems.push(...(await invoiceLineProblems(db)).map((f) => f.message));
  return problems;
}

/** Each exposure counter equals its bookings, per bucket, in the counter's own currency. */
async function creditProblems(db: Conn): Promise<string[]> {
  const problems: string[] = [];
  for (const side of [
    { table: 'customer_credit', key: 'customer_id', amount: 'amount', currency: 'currency' },
    { table: 'salesperson_credit', key: 'salesperson_id', amount: 'sp_amount', currency: 'sp_currency' },
  ]) {
    const counters = await rows(
      db(side.table).select(side.key, 'currency', 'open_orders', 'invoiced_unpaid'),
    );
    const sums = await rows(
      db('credit_bookings')
        .whereNotNull(side.key)
        .whereNotNull(side.amount)
        .groupBy(side.key, 'bucket', side.currency)
        .select(side.key, 'bucket', db.raw(`${side.currency} AS currency`))
        .sum({ total: side.amount }),
    );
    const booked = new Map<string, number>();
    for (const s of sums) {
      const k = `${s[side.key]}:${s.bucket}`;
      booked.set(k, (booked.get(k) ?? 0) + Number(s.total));
      const counter = counters.find((c) => Number(c[side.key]) === Number(s[side.key]));
      if (!counter) problems.push(`${side.table} ${s[side.key]}: bookings without a counter`);
      else if (Number(s.total) !== 0 && String(s.currency) !== String(counter.currency))
        problems.push(
          `${side.table} ${s[side.key]}: booked in ${s.currency}, counter in ${counter.currency}`,
        );
    }
    for (const c of counters)
      for (const bucket of ['open_orders', 'invoiced_unpaid']) {
        const b = booked.get(`${c[side.key]}:${bucket}`) ?? 0;
        if (b !== Number(c[bucket]))
          problems.push(`${side.table} ${c[side.key]}: ${bucket} ${c[bucket]} but bookings add up to ${b}`);
      }
  }
  return problems;
}

async function transferProblems(db: Conn): Promise<string[]> {
  if (!(await db.schema.hasTable('transfers'))) return [];
  const problems: string[] = [];
  const lines = await rows(
    db('transfer_lines as tl')
      .join('transfers as t', 't.id', 'tl.transfer_id')
      .select('t.ref', 't.transit_warehouse_id', 'tl.sku_id', 'tl.sent', 'tl.received', 'tl.unit_price'),
  );
  const inTransit = new Map<string, number>();
  for (const l of lines) {
    if (Number(l.received) < 0 || Number(l.received) > Number(l.sent))
      problems.push(`transfer ${l.ref} sku ${l.sku_id}: received ${l.received} of ${l.sent} sent`);
    const k = `${l.sku_id}:${l.transit_warehouse_id}`;
    inTransit.set(k, (inTransit.get(k) ?? 0) + Number(l.sent) - Number(l.received));
  }
  const transitLevels = await rows(
    db('stock_levels as sl')
      .join('warehouses as w', 'w.id', 'sl.warehouse_id')
      .where('w.kind', 'in_transit')
      .select('sl.sku_id', 'sl.warehouse_id', 'sl.on_hand', 'sl.reserved'),
  );
  for (const l of transitLevels) {
    const k = `${l.sku_id}:${l.warehouse_id}`;
    const expected = inTransit.get(k) ?? 0;
    if (Number(l.on_hand) !== expected)
      problems.push(
        `in transit sku ${l.sku_id} wh ${l.warehouse_id}: stock ${l.on_hand}, transfers say ${expected}`,
      );
    if (Number(l.reserved) !== 0)
      problems.push(`in transit sku ${l.sku_id} wh ${l.warehouse_id}: reserved ${l.reserved}`);
    inTransit.delete(k);
  }
  for (const [k, n] of inTransit)
    if (n !== 0) problems.push(`transfers have ${n} in transit for ${k} without a stock row`);
  const sales = await rows(
    db('intra_group_sales as s')
      .join('transfer_lines as tl', 'tl.transfer_id', 's.transfer_id')
      .groupBy('s.id', 's.total_amount')
      .select('s.id', 's.total_amount')
      .sum({ lines: db.raw('tl.sent * tl.unit_price') }),
  );
  for (const s of sales)
    if (Number(s.total_amount) !== Number(s.lines))
      problems.push(`intra-group sale ${s.id}: total ${s.total_amount}, lines add up to ${s.lines}`);
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

/**
 * Statements (README "Statements"): per statement and currency, closing = opening + invoiced −
 * credited − paid, and the ageing buckets with `unapplied` add up to the closing; a statement's
 * line count is its currencies' lines.
 */
async function statementProblems(db: Conn): Promise<string[]> {
  const problems: string[] = [];
  const balances = await rows(db('statement_balances').select('*'));
  const linesOf = new Map<number, number>();
  for (const b of balances) {
    const n = (k: string) => Number((b as Record<string, number>)[k]);
    if (n('opening') + n('invoiced') - n('credited') - n('paid') !== n('closing'))
      problems.push(
        `statement ${b.statement_id} ${b.currency}: closing ${b.closing} does not follow from its figures`,
      );
    const aged =
      n('age_current') + n('age_1_30') + n('age_31_60') + n('age_61_90') + n('age_over_90') + n('unapplied');
    if (aged !== n('closing'))
      problems.push(
        `statement ${b.statement_id} ${b.currency}: ageing adds up to ${aged}, closing ${b.closing}`,
      );
    linesOf.set(Number(b.statement_id), (linesOf.get(Number(b.statement_id)) ?? 0) + n('line_count'));
  }
  for (const s of await rows(db('statements').select('id', 'line_count')))
    if ((linesOf.get(Number(s.id)) ?? 0) !== Number(s.line_count))
      problems.push(
        `statement ${s.id}: ${s.line_count} lines, its currencies ${linesOf.get(Number(s.id)) ?? 0}`,
      );
  return problems;
}

/**
 * Shipments told to channels (issue 17): a known state, `sent` with its time, `refused` with a
 * reason, and only shipments of channel orders (`type:id`) carry one.
 */
async function shipmentChannelProblems(db: Conn): Promise<string[]> {
  const problems: string[] = [];
  const list = await rows(
    db('shipments as s')
      .join('orders as o', 'o.id', 's.order_id')
      .whereNotNull('s.channel_state')
      .select('s.id', 's.channel_state', 's.channel_sent_at', 's.channel_reason', 'o.channel'),
  );
  for (const s of list) {
    if (!['pending', 'sent', 'refused'].includes(String(s.channel_state)))
      problems.push(`shipment ${s.id} has channel state ${s.channel_state}`);
    if (String(s.channel_state) === 'sent' && !s.channel_sent_at)
      problems.push(`shipment ${s.id} sent without a time`);
    if (String(s.channel_state) === 'refused' && !s.channel_reason)
      problems.push(`shipment ${s.id} refused without a reason`);
    if (!/^[a-z0-9_-]+:\d+$/.test(String(s.channel)))
      problems.push(`shipment ${s.id} of a ${s.channel} order has a channel state`);
  }
  return problems;
}
