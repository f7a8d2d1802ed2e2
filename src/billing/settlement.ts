import { bookingDate, moveManyToInvoiced, recordManyCreditPayments } from '../customers/credit.js';
import { dbTime, lockClause, rawRows, type Tx } from '../db/connection.js';
import { WriteBatch } from '../db/write-batch.js';
import { paymentRequestHash } from '../domain/payments.js';
import type { PostedInvoice } from './posting.js';
import { type ChannelReceipt, payPendingRefunds } from './refund-payouts.js';

/**
 * What follows a posting, in its transaction (called once, at the end of `postInvoices`, with
 * every document it posted):
 *
 * 1. credit exposure: each invoice moves its orders' exposure from open orders to unpaid invoices
 *    (an invoice over several orders shares its total among them by their lines' amounts); each
 *    credit note takes its total off the unpaid side of the invoice it credits;
 * 2. a credit note against an invoice that was paid already gives back what is now paid beyond
 *    the invoice's total (reversing allocations): the money goes back on account;
 * 3. orders paid on their channel (`orders.paid_on_channel`) are settled: one payment per order,
 *    source and method `channel`, reference `<channel>:<external id>` (recorded once, however
 *    many invoices the order has), applied to the order's invoices as they are posted; what is
 *    not applied yet stays on account for the order's next invoice.
 *
 * On-account money of other payments is NOT applied to new invoices here: that would lock the
 * customer's payments after the invoice sequence, against the lock order (README "Payments").
 *
 * Locks: the posting holds its orders and the invoice sequence; this adds the credit counters
 * (relative updates) and, for channel-paid orders, the order's own channel payment. A customer
 * receipt never waits for either while holding what a posting needs (it takes its invoices in one
 * locking read before it touches the counters).
 */
export async function afterInvoicesPosted(tx: Tx, posted: readonly PostedInvoice[]): Promise<void> {
  if (posted.length === 0) return;
  const now = dbTime();
  const actor = 'billing';

  // 1. exposure
  const moves: { orderId: number; invoiceId: number; amount: number; currency: string }[] = [];
  const invoices = posted.filter((p) => p.draft.type === 'invoice');
  for (const p of invoices) for (const share of orderShares(p)) moves.push({ ...share, invoiceId: p.id });
  await moveManyToInvoiced(tx, moves, actor, now);
  await recordManyCreditPayments(
    tx,
    posted
      .filter((p) => p.draft.type === 'credit_note' && p.draft.creditsInvoiceId !== null)
      .map((p) => ({
        invoiceId: p.draft.creditsInvoiceId!,
        amount: p.draft.totals.total,
        currency: p.draft.currency,
        actor,
        kind: 'credit_note' as const,
      })),
    now,
  );

  // 2. a credit note against an invoice paid already gives the paid excess back to the payments
  const credited = posted.filter((p) => p.draft.type === 'credit_note' && p.draft.creditsInvoiceId !== null);
  if (credited.length > 0)
    await releaseOverpaid(
      tx,
      [...new Set(credited.map((p) => p.draft.creditsInvoiceId!))].sort((a, b) => a - b),
      now,
    );

  // 3. channel-paid orders
  await settleChannelPaid(tx, invoices, now);
}

/**
 * An invoice with more paid and credited than its total (a credit note after payment) gives the
 * excess back to its payments, newest allocation first, as reversing allocations (negative
 * amounts): the money goes back on account of the payment it came from, and the invoice keeps
 * `paid + credited = total`.
 */
async function releaseOverpaid(tx: Tx, invoiceIds: readonly number[], now: string): Promise<void> {
  const marks = invoiceIds.map(() => '?').join(', ');
  const [rows = []] = await rawRows(
    tx,
    `SELECT id, total, paid FROM invoices WHERE id IN (${marks}) AND paid > 0 ORDER BY id${lockClause(tx)}`,
    invoiceIds,
  );
  if (rows.length === 0) return;
  const ids = rows.map((r) => Number(r.id));
  const [credits = [], allocs = []] = await rawRows(
    tx,
    `SELECT credits_invoice_id AS id, SUM(total) AS credited FROM invoices WHERE credits_invoice_id IN (${ids
      .map(() => '?')
      .join(', ')}) AND type = 'credit_note' GROUP BY credits_invoice_id; ` +
      `SELECT invoice_id, payment_id, SUM(amount) AS amount, MAX(id) AS last_id FROM payment_allocations WHERE invoice_id IN (${ids
        .map(() => '?')
        .join(', ')}) GROUP BY invoice_id, payment_id ORDER BY invoice_id, last_id DESC`,
    [...ids, ...ids],
  );
  const creditedOf = new Map(credits.map((c) => [Number(c.id), Number(c.credited ?? 0)]));
  const today = bookingDate(now);
  for (const r of rows) {
    const id = Number(r.id);
    let excess = Math.min(Number(r.paid), Number(r.paid) + (creditedOf.get(id) ?? 0) - Number(r.total));
    for (const a of allocs) {
      if (excess <= 0) break;
      if (Number(a.invoice_id) !== id) continue;
      const back = Math.min(excess, Number(a.amount));
      if (back <= 0) continue;
      excess -= back;
      await tx('payment_allocations').insert({
        payment_id: Number(a.payment_id),
        invoice_id: id,
        amount: -back,
        applied_on: today,
        actor: 'billing',
        created_at: now,
      });
      await tx.raw('UPDATE invoices SET paid = paid - ? WHERE id = ?', [back, id]);
      await tx.raw('UPDATE payments SET unapplied = unapplied + ? WHERE id = ?', [
        back,
        Number(a.payment_id),
      ]);
    }
  }
}

/** The orders an invoice covers, each with its share of the invoice's total (adding up to it). */
export function orderShares(p: PostedInvoice): { orderId: number; amount: number; currency: string }[] {
  const { draft } = p;
  const total = draft.totals.total;
  const weights = new Map<number, number>();
  for (const l of draft.lines)
    if (l.orderId !== null) weights.set(l.orderId, (weights.get(l.orderId) ?? 0) + l.amount);
  if (weights.size === 0 && draft.orderId !== null) weights.set(draft.orderId, total);
  if (weights.size <= 1) {
    const only = [...weights.keys()][0] ?? draft.orderId;
    return only === null || only === undefined
      ? []
      : [{ orderId: only, amount: total, currency: draft.currency }];
  }
  const ids = [...weights.keys()].sort((a, b) => a - b);
  const sum = ids.reduce((s, id) => s + Math.max(weights.get(id)!, 0), 0);
  const out: { orderId: number; amount: number; currency: string }[] = [];
  let given = 0;
  ids.forEach((id, i) => {
    const amount =
      i === ids.length - 1
        ? total - given
        : sum > 0
          ? Math.round((total * Math.max(weights.get(id)!, 0)) / sum)
          : 0;
    given += amount;
    out.push({ orderId: id, amount, currency: draft.currency });
  });
  return out;
}

/** Settles the new invoices of orders paid on their channel from each order's channel payment. */
async function settleChannelPaid(tx: Tx, invoices: readonly PostedInvoice[], now: string): Promise<void> {
  const sharesOf = new Map(invoices.map((p) => [p.id, orderShares(p)]));
  const orderIds = new Set<number>();
  for (const shares of sharesOf.values()) for (const s of shares) orderIds.add(s.orderId);
  if (orderIds.size === 0) return;
  const ids = [...orderIds].sort((a, b) => a - b);
  const paid = new Map<number, Record<string, unknown>>();
  const existing = new Map<number, { id: number; unapplied: number; currency: string }>();
  const lock = lockClause(tx);
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const marks = chunk.map(() => '?').join(', ');
    const [rows = []] = await rawRows(
      tx,
      'SELECT id, channel, external_id, customer_id, currency, total_amount, channel_total, placed_at, created_at ' +
        `FROM orders WHERE id IN (${marks}) AND paid_on_channel = 1 AND customer_id IS NOT NULL`,
      chunk,
    );
    for (const r of rows) paid.set(Number(r.id), r);
    if (rows.length === 0) continue;
    // Payments already under the orders' references (an earlier invoice of the order recorded
    // it), locked. One under such a reference that is not this order's channel payment (recorded
    // by hand) is left alone, and the order is not settled here.
    const refs = rows.map((r) => `${String(r.channel)}:${String(r.external_id)}`.slice(0, 191));
    const [payments = []] = await rawRows(
      tx,
      'SELECT id, customer_id, reference, order_id, source, unapplied, currency FROM payments ' +
        `WHERE (customer_id, reference) IN (${rows.map(() => '(?, ?)').join(', ')}) ORDER BY id${lock}`,
      rows.flatMap((r, k) => [Number(r.customer_id), refs[k]]),
    );
    const byKey = new Map(payments.map((p) => [`${p.customer_id}\u0000${p.reference}`, p]));
    rows.forEach((r, k) => {
      const p = byKey.get(`${r.customer_id}\u0000${refs[k]}`);
      if (!p) return;
      if (p.source === 'channel' && Number(p.order_id) === Number(r.id))
        existing.set(Number(r.id), {
          id: Number(p.id),
          unapplied: Number(p.unapplied),
          currency: String(p.currency),
        });
      else paid.delete(Number(r.id));
    });
  }
  if (paid.size === 0) return;
  const today = bookingDate(now);

  // New payments, one per order, in one statement per 500.
  const fresh: Record<string, unknown>[] = [];
  for (const orderId of [...paid.keys()].sort((a, b) => a - b)) {
    if (existing.has(orderId)) continue;
    const o = paid.get(orderId)!;
    const reference = `${String(o.channel)}:${String(o.external_id)}`;
    const amount = Number(o.channel_total ?? o.total_amount);
    if (!(amount > 0)) continue;
    const currency = String(o.currency);
    const receivedOn = String(o.placed_at ?? o.created_at ?? today).slice(0, 10) || today;
    fresh.push({
      customer_id: Number(o.customer_id),
      reference: reference.slice(0, 191),
      amount,
      currency,
      received_on: receivedOn,
      method: 'channel',
      source: 'channel',
      import_id: null,
      channel: String(o.channel).slice(0, 64),
      order_id: orderId,
      unapplied: amount,
      note: null,
      actor: 'channel',
      request_hash: paymentRequestHash({
        customer: String(o.customer_id),
        amount,
        currency,
        receivedOn,
        reference,
        method: 'channel',
      }),
      created_at: now,
    });
  }
  for (let i = 0; i < fresh.length; i += 500) {
    const chunk = fresh.slice(i, i + 500);
    await tx('payments').insert(chunk);
    const [rows = []] = await rawRows(
      tx,
      `SELECT id, order_id, unapplied, currency FROM payments WHERE order_id IN (${chunk
        .map(() => '?')
        .join(', ')}) AND source = 'channel'`,
      chunk.map((r) => r.order_id),
    );
    for (const r of rows)
      existing.set(Number(r.order_id), {
        id: Number(r.id),
        unapplied: Number(r.unapplied),
        currency: String(r.currency),
      });
  }

  // Each new invoice takes from its orders' payments, up to each order's share and what is open.
  const allocations: { paymentId: number; invoiceId: number; amount: number; currency: string }[] = [];
  for (const p of invoices) {
    let open = p.draft.totals.total;
    for (const share of sharesOf.get(p.id) ?? []) {
      const pay = paid.has(share.orderId) ? existing.get(share.orderId) : undefined;
      if (!pay || pay.unapplied <= 0 || pay.currency !== p.draft.currency) continue;
      const amount = Math.min(pay.unapplied, share.amount, open);
      if (amount <= 0) continue;
      pay.unapplied -= amount;
      open -= amount;
      allocations.push({ paymentId: pay.id, invoiceId: p.id, amount, currency: p.draft.currency });
    }
  }
  if (allocations.length > 0) await writeChannelAllocations(tx, allocations, today, now);
  // Refunds that came before the order's receipt was recorded are paid out of it now.
  await payPendingRefunds(tx, receiptsOf(paid, existing), now);
}

/** The channel receipts of the settled orders, as `payPendingRefunds` takes them. */
function receiptsOf(
  paid: ReadonlyMap<number, Record<string, unknown>>,
  existing: ReadonlyMap<number, { id: number; unapplied: number; currency: string }>,
): Map<number, ChannelReceipt> {
  const out = new Map<number, ChannelReceipt>();
  for (const [orderId, o] of paid) {
    const pay = existing.get(orderId);
    if (!pay) continue;
    out.set(orderId, {
      id: pay.id,
      customerId: Number(o.customer_id),
      reference: `${String(o.channel)}:${String(o.external_id)}`.slice(0, 191),
      currency: pay.currency,
      channel: String(o.channel).slice(0, 64),
      orderId,
      unapplied: pay.unapplied,
    });
  }
  return out;
}

/** Writes a posting's channel allocations: the rows, `invoices.paid`, `payments.unapplied`, the counters. */
async function writeChannelAllocations(
  tx: Tx,
  allocations: readonly { paymentId: number; invoiceId: number; amount: number; currency: string }[],
  today: string,
  now: string,
): Promise<void> {
  for (let i = 0; i < allocations.length; i += 500)
    await tx('payment_allocations').insert(
      allocations.slice(i, i + 500).map((a) => ({
        payment_id: a.paymentId,
        invoice_id: a.invoiceId,
        amount: a.amount,
        applied_on: today,
        actor: 'channel',
        created_at: now,
      })),
    );
  const batch = new WriteBatch(tx);
  addByCase(
    batch,
    'invoices',
    'paid',
    sumBy(allocations, (a) => a.invoiceId),
  );
  addByCase(
    batch,
    'payments',
    'unapplied',
    sumBy(allocations, (a) => a.paymentId),
    -1,
  );
  await batch.flush();
  await recordManyCreditPayments(
    tx,
    allocations.map((a) => ({
      invoiceId: a.invoiceId,
      amount: a.amount,
      currency: a.currency,
      actor: 'channel',
    })),
    now,
  );
}

function sumBy<T extends { amount: number }>(list: readonly T[], key: (x: T) => number): Map<number, number> {
  const m = new Map<number, number>();
  for (const x of list) m.set(key(x), (m.get(key(x)) ?? 0) + x.amount);
  return m;
}

/** `column += sign × amount` per row id, one statement per 500 rows (ids in order). */
function addByCase(
  batch: WriteBatch,
  table: string,
  column: string,
  amounts: Map<number, number>,
  sign = 1,
): void {
  const ids = [...amounts.keys()].sort((a, b) => a - b);
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    batch.addSql(
      `UPDATE ${table} SET ${column} = ${column} + CASE id ${chunk.map(() => 'WHEN ? THEN ?').join(' ')} END ` +
        `WHERE id IN (${chunk.map(() => '?').join(', ')})`,
      [...chunk.flatMap((id) => [id, sign * amounts.get(id)!]), ...chunk],
    );
  }
}
