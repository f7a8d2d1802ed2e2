import { bookingDate } from '../customers/credit.js';
import { lockClause, rawRows, type Tx } from '../db/connection.js';
import { paymentRequestHash } from '../domain/payments.js';

/**
 * Payouts: money a channel paid back to the buyer of an order paid on that channel. The order's
 * channel receipt (`payments`, source `channel`) took the buyer's money; a payout is a row of its
 * own in `payments` with a negative amount, nothing unapplied, and `payout_of` naming the receipt,
 * whose money on account it takes (what the refund's credit notes gave back to it). So statements
 * (invoices − credit notes − payments) and the balance net a refunded, credited order to zero, and
 * the money paid back never pays another invoice.
 */

export const CHANNEL_REFUNDS = 'channel_refunds';

/** An order's channel receipt, locked, as far as it is needed here. */
export interface ChannelReceipt {
  id: number;
  customerId: number;
  reference: string;
  currency: string;
  channel: string | null;
  orderId: number;
  unapplied: number;
}

/** The channel receipts of these orders, locked (by id); one per order at most. */
export async function lockChannelReceipts(
  tx: Tx,
  orderIds: readonly number[],
): Promise<Map<number, ChannelReceipt>> {
  const out = new Map<number, ChannelReceipt>();
  if (orderIds.length === 0) return out;
  const [rows = []] = await rawRows(
    tx,
    'SELECT id, customer_id, reference, currency, channel, order_id, unapplied FROM payments ' +
      `WHERE order_id IN (${orderIds.map(() => '?').join(', ')}) AND source = 'channel' AND payout_of IS NULL ` +
      `AND amount > 0 ORDER BY id${lockClause(tx)}`,
    orderIds,
  );
  for (const r of rows) {
    const orderId = Number(r.order_id);
    if (out.has(orderId)) continue;
    out.set(orderId, {
      id: Number(r.id),
      customerId: Number(r.customer_id),
      reference: String(r.reference),
      currency: String(r.currency),
      channel: (r.channel as string | null) ?? null,
      orderId,
      unapplied: Number(r.unapplied),
    });
  }
  return out;
}

/**
 * Pays `amount` of a refund out of a locked receipt: at most what it has on account. Writes the
 * payout row and takes it off the receipt's `unapplied`. Returns the payout (its id and amount), or
 * null when nothing was on account (the receipt was recorded without that money already).
 */
export async function payOut(
  tx: Tx,
  receipt: ChannelReceipt,
  refund: { reference: string; amount: number },
  actor: string,
  now: string,
): Promise<{ id: number; amount: number } | null> {
  const amount = Math.min(refund.amount, receipt.unapplied);
  if (amount <= 0) return null;
  const reference = `${receipt.reference}:refund:${refund.reference}`.slice(0, 191);
  const receivedOn = bookingDate(now);
  const [id] = await tx('payments').insert({
    customer_id: receipt.customerId,
    reference,
    amount: -amount,
    currency: receipt.currency,
    received_on: receivedOn,
    method: 'channel',
    source: 'channel',
    import_id: null,
    channel: receipt.channel,
    order_id: receipt.orderId,
    unapplied: 0,
    note: `refund ${refund.reference} paid back on the channel`.slice(0, 500),
    actor: actor.slice(0, 64),
    request_hash: paymentRequestHash({
      customer: String(receipt.customerId),
      amount: -amount,
      currency: receipt.currency,
      receivedOn,
      reference,
      method: 'channel',
    }),
    created_at: now,
    payout_of: receipt.id,
  });
  await tx.raw('UPDATE payments SET unapplied = unapplied - ? WHERE id = ?', [amount, receipt.id]);
  receipt.unapplied -= amount;
  return { id: Number(id), amount };
}

/**
 * Refunds of these orders that waited for the order's channel receipt (the order was not invoiced
 * when they came): now that the receipt is recorded and applied (in the posting's transaction, its
 * orders locked), each pays out of what the receipt has left on account, oldest first. What it does
 * not find there was never on the receipt (the channel reported the order's total without it). The
 * rows are changed only under their order's lock, which the posting holds: read without a lock.
 */
export async function payPendingRefunds(
  tx: Tx,
  receipts: ReadonlyMap<number, ChannelReceipt>,
  now: string,
): Promise<void> {
  const orderIds = [...receipts.keys()].sort((a, b) => a - b);
  if (orderIds.length === 0) return;
  const [pending = []] = await rawRows(
    tx,
    `SELECT id, order_id, reference, payout_pending FROM ${CHANNEL_REFUNDS} WHERE order_id IN (${orderIds
      .map(() => '?')
      .join(', ')}) AND payout_pending > 0 ORDER BY id`,
    orderIds,
  );
  for (const r of pending) {
    const receipt = receipts.get(Number(r.order_id))!;
    const paid = await payOut(
      tx,
      receipt,
      { reference: String(r.reference), amount: Number(r.payout_pending) },
      'channel',
      now,
    );
    await tx(CHANNEL_REFUNDS)
      .where({ id: Number(r.id) })
      .update({ payout_pending: 0, payout_payment_id: paid?.id ?? null, updated_at: now });
  }
}
