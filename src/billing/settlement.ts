import { bookingDate, moveManyToInvoiced, recordCreditPayment } from '../customers/credit.js';
import { dbTime, forUpdate, lockClause, rawRows, type Tx } from '../db/connection.js';
import { paymentRequestHash } from '../domain/payments.js';
import type { PostedInvoice } from './posting.js';

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
  for (const p of posted)
    if (p.draft.type === 'credit_note' && p.draft.creditsInvoiceId !== null && p.draft.totals.total > 0)
      await recordCreditPayment(tx, {
        invoiceId: p.draft.creditsInvoiceId,
        amount: p.draft.totals.total,
        currency: p.draft.currency,
        actor,
        now,
        kind: 'credit_note',
      });

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
  const orderIds = new Set<number>();
  for (const p of invoices) for (const s of orderShares(p)) orderIds.add(s.orderId);
  if (orderIds.size === 0) return;
  const ids = [...orderIds].sort((a, b) => a - b);
  const paid = new Map<number, Record<string, unknown>>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const [rows = []] = await rawRows(
      tx,
      'SELECT id, channel, external_id, customer_id, currency, total_amount, channel_total, placed_at, created_at ' +
        `FROM orders WHERE id IN (${chunk.map(() => '?').join(', ')}) AND paid_on_channel = 1`,
      chunk,
    );
    for (const r of rows) if (r.customer_id !== null) paid.set(Number(r.id), r);
  }
  if (paid.size === 0) return;
  const today = bookingDate(now);
  // What is open on each new invoice, taken down as the orders' payments are applied.
  const openOf = new Map(invoices.map((p) => [p.id, p.draft.totals.total]));
  const payments = new Map<number, { id: number; unapplied: number; currency: string }>();
  for (const orderId of [...paid.keys()].sort((a, b) => a - b)) {
    const o = paid.get(orderId)!;
    const customerId = Number(o.customer_id);
    const reference = `${String(o.channel)}:${String(o.external_id)}`;
    const amount = Number(o.channel_total ?? o.total_amount);
    const currency = String(o.currency);
    const receivedOn = String(o.placed_at ?? o.created_at ?? today).slice(0, 10) || today;
    const existing = await forUpdate(tx('payments').where({ customer_id: customerId, reference }), tx).first(
      'id',
      'unapplied',
      'currency',
    );
    if (existing) {
      payments.set(orderId, {
        id: Number(existing.id),
        unapplied: Number(existing.unapplied),
        currency: String(existing.currency),
      });
      continue;
    }
    if (amount <= 0) continue;
    const [inserted] = await tx('payments').insert({
      customer_id: customerId,
      reference: reference.slice(0, 191),
      amount,
      currency,
      received_on: receivedOn,
      method: 'channel',
      source: 'channel',
      channel: String(o.channel).slice(0, 64),
      order_id: orderId,
      unapplied: amount,
      note: null,
      actor: 'channel',
      request_hash: paymentRequestHash({
        customer: String(customerId),
        amount,
        currency,
        receivedOn,
        reference,
        method: 'channel',
      }),
      created_at: now,
    });
    payments.set(orderId, { id: Number(inserted), unapplied: amount, currency });
  }

  for (const p of invoices) {
    for (const share of orderShares(p)) {
      const pay = payments.get(share.orderId);
      if (!pay || pay.unapplied <= 0 || pay.currency !== p.draft.currency) continue;
      const open = openOf.get(p.id) ?? 0;
      const amount = Math.min(pay.unapplied, share.amount, open);
      if (amount <= 0) continue;
      pay.unapplied -= amount;
      openOf.set(p.id, open - amount);
      await tx('payment_allocations').insert({
        payment_id: pay.id,
        invoice_id: p.id,
        amount,
        applied_on: today,
        actor: 'channel',
        created_at: now,
      });
      await tx.raw('UPDATE invoices SET paid = paid + ? WHERE id = ?', [amount, p.id]);
      await tx.raw('UPDATE payments SET unapplied = unapplied - ? WHERE id = ?', [amount, pay.id]);
      await recordCreditPayment(tx, {
        invoiceId: p.id,
        amount,
        currency: p.draft.currency,
        actor: 'channel',
        now,
      });
    }
  }
}
