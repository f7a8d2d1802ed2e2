import { type Conn, type Db, dialectOf, rawRows } from '../db/connection.js';
import type { FindingDraft } from '../domain/reconciliation.js';

/*
 * Checks of our own records against each other, used by the nightly reconciliation and by the
 * tests' invariants (`test/helpers/invariants.ts`): the ledger replays to the stock levels, stock
 * reserved equals what open order lines hold, every order's history ends at its status, invoices
 * add up to shipments, and each invoice's `paid` is the sum of its payment allocations.
 */

type Row = Record<string, unknown>;
const rows = async (q: PromiseLike<unknown>) => (await q) as Row[];
const n = (v: unknown) => Number(v ?? 0);

const internal = (
  kind: FindingDraft['kind'],
  subject: string,
  ours: Record<string, unknown>,
  theirs: Record<string, unknown>,
  message: string,
): FindingDraft => ({ kind, severity: 'error', source: 'internal', subject, ours, theirs, message });

/** `stock_movements` replayed per SKU and warehouse against `stock_levels` (ours: the levels; theirs: the replay). */
export async function ledgerProblems(db: Conn): Promise<FindingDraft[]> {
  const out: FindingDraft[] = [];
  const levels = await rows(db('stock_levels').select('sku_id', 'warehouse_id', 'on_hand', 'reserved'));
  const replay = await rows(
    db('stock_movements')
      .select('sku_id', 'warehouse_id')
      .sum({ on_hand: 'd_on_hand', reserved: 'd_reserved' })
      .groupBy('sku_id', 'warehouse_id'),
  );
  const key = (r: Row) => `${r.sku_id}:${r.warehouse_id}`;
  const replayed = new Map(replay.map((r) => [key(r), { onHand: n(r.on_hand), reserved: n(r.reserved) }]));
  for (const l of levels) {
    const r = replayed.get(key(l)) ?? { onHand: 0, reserved: 0 };
    if (r.onHand !== n(l.on_hand) || r.reserved !== n(l.reserved)) {
      out.push(
        internal(
          'ledger.mismatch',
          `sku ${l.sku_id} wh ${l.warehouse_id}`,
          { onHand: n(l.on_hand), reserved: n(l.reserved) },
          { onHand: r.onHand, reserved: r.reserved },
          `ledger for sku ${l.sku_id} wh ${l.warehouse_id} replays to ${r.onHand}/${r.reserved}, stock says ${l.on_hand}/${l.reserved}`,
        ),
      );
    }
    replayed.delete(key(l));
  }
  for (const [k, r] of replayed)
    if (r.onHand !== 0 || r.reserved !== 0) {
      const [sku, wh] = k.split(':');
      out.push(
        internal(
          'ledger.mismatch',
          `sku ${sku} wh ${wh}`,
          { onHand: null, reserved: null },
          { onHand: r.onHand, reserved: r.reserved },
          `ledger has movements for ${k} without a stock row`,
        ),
      );
    }
  return out;
}

/** Stock reserved per SKU and warehouse against what order allocations hold. */
export async function reservationProblems(db: Conn): Promise<FindingDraft[]> {
  const levels = await rows(db('stock_levels').select('sku_id', 'warehouse_id', 'reserved'));
  const held = await rows(
    db('order_allocations as a')
      .join('order_lines as ol', 'ol.id', 'a.order_line_id')
      .select('ol.sku_id', 'a.warehouse_id')
      .sum({ reserved: 'a.reserved' })
      .groupBy('ol.sku_id', 'a.warehouse_id'),
  );
  const key = (r: Row) => `${r.sku_id}:${r.warehouse_id}`;
  const heldBy = new Map(held.map((h) => [key(h), n(h.reserved)]));
  const out: FindingDraft[] = [];
  for (const l of levels) {
    const h = heldBy.get(key(l)) ?? 0;
    if (h !== n(l.reserved))
      out.push(
        internal(
          'reservation.mismatch',
          `sku ${l.sku_id} wh ${l.warehouse_id}`,
          { reserved: n(l.reserved) },
          { heldByOrders: h },
          `sku ${l.sku_id} wh ${l.warehouse_id}: reserved ${l.reserved} but orders hold ${h}`,
        ),
      );
  }
  return out;
}

/** Orders whose history is missing or ends at another status than theirs (one query, any size). */
export async function historyProblems(db: Conn): Promise<FindingDraft[]> {
  const last = db('order_events').groupBy('order_id').select('order_id').max({ last_id: 'id' }).as('l');
  const found = await rows(
    db('orders as o')
      .leftJoin(last, 'l.order_id', 'o.id')
      .leftJoin('order_events as e', 'e.id', 'l.last_id')
      .whereNull('e.id')
      .orWhereRaw('e.to_status <> o.status')
      .select('o.id', 'o.status', 'e.to_status'),
  );
  return found.map((r) =>
    internal(
      'history.mismatch',
      `order ${r.id}`,
      { status: r.status },
      { historyEndsAt: r.to_status ?? null },
      r.to_status === null || r.to_status === undefined
        ? `order ${r.id} has no history`
        : `order ${r.id}: status ${r.status} but history ends at ${r.to_status}`,
    ),
  );
}

/**
 * Per order line, units invoiced against what moved: before any credit note never more than
 * shipped (invoices of policy on_shipment or periodic) or ordered (policy on_order); net of credit
 * notes never more than shipped − returned, or ordered − cancelled − returned (a unit that came back
 * is either never invoiced or credited), and never more than ordered in all; and no invoice line
 * credited beyond its quantity.
 */
export async function invoiceLineProblems(db: Conn): Promise<FindingDraft[]> {
  const out: FindingDraft[] = [];
  const net = await rows(
    db('invoice_lines as il')
      .join('invoices as i', 'i.id', 'il.invoice_id')
      .leftJoin('invoice_lines as cl', 'cl.credits_line_id', 'il.id')
      .where('i.type', 'invoice')
      .whereNotNull('il.order_line_id')
      .select('il.id', 'il.order_line_id', 'il.quantity', 'i.policy')
      .sum({ credited: 'cl.quantity' })
      .groupBy('il.id', 'il.order_line_id', 'il.quantity', 'i.policy'),
  );
  const perLine = new Map<
    number,
    { shipmentBased: number; orderBased: number; shipmentGross: number; orderGross: number }
  >();
  for (const r of net) {
    const left = n(r.quantity) - n(r.credited);
    if (left < 0)
      out.push(
        internal(
          'invoice.exceeds_shipment',
          `invoice line ${r.id}`,
          { quantity: n(r.quantity) },
          { credited: n(r.credited) },
          `invoice line ${r.id}: credited ${r.credited} of ${r.quantity}`,
        ),
      );
    const p = perLine.get(n(r.order_line_id)) ?? {
      shipmentBased: 0,
      orderBased: 0,
      shipmentGross: 0,
      orderGross: 0,
    };
    if (r.policy === 'on_order') {
      p.orderBased += left;
      p.orderGross += n(r.quantity);
    } else {
      p.shipmentBased += left;
      p.shipmentGross += n(r.quantity);
    }
    perLine.set(n(r.order_line_id), p);
  }
  if (perLine.size === 0) return out;
  const ids = [...perLine.keys()];
  const lines: Row[] = [];
  for (let i = 0; i < ids.length; i += 1000)
    lines.push(
      ...(await rows(
        db('order_lines')
          .whereIn('id', ids.slice(i, i + 1000))
          .select('id', 'ordered', 'shipped', 'cancelled', 'returned'),
      )),
    );
  for (const l of lines) {
    const p = perLine.get(n(l.id));
    if (!p) continue;
    const [ordered, shipped, cancelled, returned] = [l.ordered, l.shipped, l.cancelled, l.returned].map(
      n,
    ) as [number, number, number, number];
    const ours = { ordered, shipped, cancelled, returned };
    const theirs = { invoicedOnShipment: p.shipmentBased, invoicedOnOrder: p.orderBased };
    const problem = (message: string) =>
      out.push(internal('invoice.exceeds_shipment', `order line ${l.id}`, ours, theirs, message));
    if (p.shipmentGross > shipped)
      problem(`order line ${l.id}: ${p.shipmentGross} units on shipment invoices, ${shipped} shipped`);
    if (p.orderGross > ordered)
      problem(`order line ${l.id}: ${p.orderGross} units on on_order invoices, ${ordered} ordered`);
    if (p.shipmentBased > shipped - returned)
      problem(
        `order line ${l.id}: ${p.shipmentBased} invoiced net of credit notes, ${shipped} shipped − ${returned} returned`,
      );
    if (p.orderBased > ordered - cancelled - returned)
      problem(
        `order line ${l.id}: ${p.orderBased} invoiced on order net of credit notes, ${ordered} ordered − ${cancelled} cancelled − ${returned} returned`,
      );
    if (p.orderBased + p.shipmentBased > n(l.ordered))
      problem(`order line ${l.id}: ${p.orderBased + p.shipmentBased} invoiced, ${l.ordered} ordered`);
  }
  return out;
}

/** `invoices.paid` against the sum of the invoice's payment allocations. */
export async function paymentProblems(db: Conn): Promise<FindingDraft[]> {
  if (!(await db.schema.hasTable('payment_allocations'))) return [];
  const found = await rows(
    db('invoices as i')
      .leftJoin(
        db('payment_allocations')
          .groupBy('invoice_id')
          .select('invoice_id')
          .sum({ allocated: 'amount' })
          .as('a'),
        'a.invoice_id',
        'i.id',
      )
      .whereRaw('i.paid <> COALESCE(a.allocated, 0)')
      .select('i.id', 'i.number', 'i.paid', 'a.allocated'),
  );
  return found.map((r) =>
    internal(
      'invoice.paid_mismatch',
      `invoice ${r.number ?? r.id}`,
      { paid: n(r.paid) },
      { allocated: n(r.allocated) },
      `invoice ${r.number ?? r.id}: paid ${r.paid} but its allocations add up to ${n(r.allocated)}`,
    ),
  );
}

/**
 * Money per customer: each customer's latest statement, per currency, closes at what its documents
 * give at the statement's end now — invoices minus credit notes minus payments dated up to then. A
 * difference means the statement no longer tells the customer's balance: a document dated in a
 * stated period was recorded after it, or the statement carried an opening its documents no longer
 * give (a new version of the period is due). Reported, never healed: statements are issued by people
 * or the monthly job.
 */
export async function statementBalanceProblems(db: Conn): Promise<FindingDraft[]> {
  if (!(await db.schema.hasTable('statement_balances'))) return [];
  const [found = []] = await rawRows(
    db,
    'SELECT s.id, s.customer_id, s.customer_code, s.period, s.version, s.date_to, b.currency, b.closing, ' +
      "(SELECT COALESCE(SUM(CASE WHEN i.type = 'invoice' THEN i.total ELSE -i.total END), 0) FROM invoices i " +
      'WHERE i.customer_id = s.customer_id AND i.currency = b.currency AND i.issue_date <= s.date_to) AS invoiced, ' +
      '(SELECT COALESCE(SUM(p.amount), 0) FROM payments p ' +
      'WHERE p.customer_id = s.customer_id AND p.currency = b.currency AND p.received_on <= s.date_to) AS paid ' +
      'FROM statements s JOIN statement_balances b ON b.statement_id = s.id ' +
      'WHERE s.id IN (SELECT MAX(id) FROM statements GROUP BY customer_id) ORDER BY s.id, b.currency',
    [],
  );
  const out: FindingDraft[] = [];
  for (const r of found) {
    const documents = n(r.invoiced) - n(r.paid);
    if (documents === n(r.closing)) continue;
    const who = r.customer_code ?? `customer ${r.customer_id}`;
    out.push({
      ...internal(
        'statement.balance_differs',
        `statement ${who} ${r.currency}`,
        { statement: n(r.id), period: r.period, version: n(r.version), closing: n(r.closing) },
        { invoicedLessCredited: n(r.invoiced), paid: n(r.paid), balance: documents },
        `${who}: statement ${r.id} (${r.period} v${r.version}) closes at ${r.closing} ${r.currency}, ` +
          `its documents to ${r.date_to} give ${documents}`,
      ),
      severity: 'warning',
    });
  }
  return out;
}

/**
 * Refunds a channel reported whose money could not be credited (more than the invoice had left to
 * credit, another currency): held for a person, nothing credited and nothing paid out (README
 * "Returns"). Reported until a person acknowledges the finding.
 */
export async function heldRefundProblems(db: Conn): Promise<FindingDraft[]> {
  if (!(await db.schema.hasTable('channel_refunds'))) return [];
  const found = await rows(
    db('channel_refunds as r')
      .join('orders as o', 'o.id', 'r.order_id')
      .where('r.status', 'held')
      .orderBy('r.id')
      .select(
        'r.order_id',
        'r.reference',
        'r.amount',
        'r.allowance',
        'r.currency',
        'r.held_reason',
        'o.channel',
        'o.external_id',
      ),
  );
  return found.map((r) => ({
    ...internal(
      'refund.held',
      `refund ${r.channel}:${r.external_id}:${r.reference}`,
      { order: n(r.order_id), credited: 0 },
      { refund: String(r.reference), amount: n(r.amount), allowance: n(r.allowance), currency: r.currency },
      `order ${r.order_id} (${r.channel} ${r.external_id}): ${r.held_reason ?? `refund ${r.reference} held`}`,
    ),
    severity: 'warning' as const,
  }));
}

/**
 * Every internal check, in one list, read from one snapshot: orders processed meanwhile (the heals
 * of this very run among them) are seen wholly or not at all, so that no transient difference
 * between two reads is reported. On MySQL/MariaDB a REPEATABLE READ transaction (the pool's default
 * is READ COMMITTED, where each statement would see a newer state); SQLite's transactions are
 * serializable.
 */
export async function internalProblems(db: Db): Promise<FindingDraft[]> {
  const all = async (tx: Conn) => [
    ...(await ledgerProblems(tx)),
    ...(await reservationProblems(tx)),
    ...(await historyProblems(tx)),
    ...(await invoiceLineProblems(tx)),
    ...(await paymentProblems(tx)),
    ...(await statementBalanceProblems(tx)),
    ...(await heldRefundProblems(tx)),
  ];
  return dialectOf(db) === 'mysql'
    ? db.transaction(all, { isolationLevel: 'repeatable read' })
    : db.transaction(all);
}
