import type { RefundMoney } from '../../connectors/contract.js';
import { currentBusinessTimeZone } from '../customers/price-book.js';
import { rawRows, type Tx } from '../db/connection.js';
import {
  ALLOWANCE_SKU,
  allowanceDescription,
  allowanceLines,
  allowanceOf,
  splitAllowance,
  type TaxedAmount,
} from '../domain/allowance.js';
import { businessDate } from '../domain/pricing.js';
import type { OrderRow } from '../orders/order-store.js';
import { type CreditableInvoice, lockInvoiceRows, noteDraft, readCreditable } from './credit-notes.js';
import { postInvoices } from './posting.js';
import { CHANNEL_REFUNDS, lockChannelReceipts, payOut } from './refund-payouts.js';

/**
 * The money of a channel's refunds (README "Returns"), applied once per refund (by the channel's
 * refund id) in the transaction that locked the order:
 *
 * - what the refund paid back beyond the channel's value of the units it refunded is an allowance
 *   (销售折让): on an invoiced order, a credit note against the order's invoice whose lines are
 *   the allowance split over the invoice's tax rates (no quantity, no restock), sent through the
 *   issuer's red-invoice path like every credit note; on an order not invoiced yet, it waits on the
 *   refund's row and the order's invoice carries it as a discount line (src/billing/allowance-carry.ts);
 *   more than the invoice has left to credit is held for a person, nothing credited;
 * - an order paid on its channel has the money paid back recorded as a payout from its channel
 *   receipt (src/billing/refund-payouts.ts), now or, before the receipt exists, when it is recorded.
 *
 * Lock order: the order (the caller's), then the order's invoice rows (by id), then the invoice
 * sequence (a credit note's posting), then the order's channel receipt — as a posting settles a
 * channel-paid order.
 */

export interface RefundMoneyInput {
  /** The channel's refund id. */
  reference: string;
  money: RefundMoney;
}

/** `covered`: the order's invoices were wholly credited already (a cancellation), nothing left to credit. */
export type RefundMoneyStatus = 'none' | 'credited' | 'pending' | 'held' | 'covered';

export interface RefundMoneyDone {
  reference: string;
  amount: number;
  currency: string;
  allowance: number;
  status: RefundMoneyStatus;
  /** The allowance's credit note. */
  creditNote: string | null;
  /** Paid out of the order's channel receipt now. */
  payout: number;
  heldReason: string | null;
}

/** An invoice of the order with what it has left to credit of the order, and the lines to weigh. */
interface Target {
  inv: CreditableInvoice;
  left: number;
  lines: TaxedAmount[];
}

/** The order's invoices, newest first, each with what is left to credit of this order on it. */
async function creditTargets(tx: Tx, orderId: number): Promise<Target[]> {
  const [ids = []] = await rawRows(
    tx,
    "SELECT DISTINCT i.id FROM invoices i LEFT JOIN invoice_lines il ON il.invoice_id = i.id WHERE i.type = 'invoice' " +
      'AND (i.order_id = ? OR il.order_id = ?) ORDER BY i.id DESC',
    [orderId, orderId],
  );
  if (ids.length === 0) return [];
  const invoiceIds = ids.map((r) => Number(r.id));
  const marks = invoiceIds.map(() => '?').join(', ');
  // The invoice rows locked (by id, before the invoice sequence) before what they have left is read:
  // two orders' refunds on one shared invoice queue here rather than both crediting what is left.
  await lockInvoiceRows(tx, invoiceIds);
  const invoices = await readCreditable(tx, invoiceIds);
  const [credited = [], creditedForOrder = []] = await rawRows(
    tx,
    `SELECT credits_invoice_id AS id, SUM(total) AS credited FROM invoices WHERE credits_invoice_id IN (${marks}) ` +
      "AND type = 'credit_note' GROUP BY credits_invoice_id; " +
      'SELECT c.credits_invoice_id AS id, SUM(cl.amount + CASE WHEN c.prices_include_tax = 1 THEN 0 ELSE cl.tax END) AS credited ' +
      `FROM invoice_lines cl JOIN invoices c ON c.id = cl.invoice_id WHERE c.credits_invoice_id IN (${marks}) ` +
      "AND c.type = 'credit_note' AND cl.order_id = ? GROUP BY c.credits_invoice_id",
    [...invoiceIds, ...invoiceIds, orderId],
  );
  const creditedOf = new Map(credited.map((c) => [Number(c.id), Number(c.credited ?? 0)]));
  const creditedForOrderOf = new Map(creditedForOrder.map((c) => [Number(c.id), Number(c.credited ?? 0)]));
  const out: Target[] = [];
  for (const id of invoiceIds) {
    const inv = invoices.get(id);
    if (!inv) continue;
    const h = inv.head;
    const pit = Boolean(Number(h.prices_include_tax));
    const own = h.order_id !== null && Number(h.order_id) === orderId;
    const ofOrder = inv.lines.filter(
      (l) => (own || l.orderId === orderId) && !(l.sku === ALLOWANCE_SKU && l.orderLineId === null),
    );
    const lines: TaxedAmount[] = ofOrder.map((l) => ({
      taxClass: l.taxClass,
      taxCode: l.taxCode,
      amount: l.quantity * l.unitPrice - l.discount,
      tax: l.tax,
    }));
    if (own && Number(h.shipping) > 0)
      lines.push({ taxClass: null, taxCode: null, amount: Number(h.shipping), tax: Number(h.shipping_tax) });
    let left = Number(h.total) - (creditedOf.get(id) ?? 0);
    // An invoice over several orders (periodic): no more than it bills this order (its allowance
    // lines carried included) less what credit notes took back of this order on it.
    if (!own)
      left = Math.min(
        left,
        inv.lines
          .filter((l) => l.orderId === orderId)
          // readCreditable's lines carry the stored amount (an allowance line has no quantity).
          .reduce((s, l) => s + Number((l as { amount?: number }).amount ?? 0) + (pit ? 0 : l.tax), 0) -
          (creditedForOrderOf.get(id) ?? 0),
      );
    out.push({ inv, left: Math.max(0, left), lines });
  }
  return out;
}

/** A short text of why a refund's allowance is held. */
function heldText(reference: string, allowance: number, currency: string, left: number): string {
  return (
    `refund ${reference} paid back ${allowance} ${currency} beyond the refunded units; the order's invoices ` +
    `have ${left} ${currency} left to credit: held for a person, nothing credited`
  ).slice(0, 500);
}

/**
 * Applies the money of a channel's refunds of a locked order (see the file's comment). A refund
 * applied before (its row exists) changes nothing; one that paid back nothing is not recorded (a
 * later payload that says its money applies it then).
 */
export async function applyRefundMoneyLocked(
  tx: Tx,
  order: OrderRow,
  refunds: readonly RefundMoneyInput[],
  actor: string,
  now: string,
): Promise<RefundMoneyDone[]> {
  const unique = new Map<string, RefundMoneyInput>();
  for (const r of refunds) if (r.money.amount > 0 && !unique.has(r.reference)) unique.set(r.reference, r);
  if (unique.size === 0) return [];
  const [seen = []] = await rawRows(
    tx,
    `SELECT reference FROM ${CHANNEL_REFUNDS} WHERE order_id = ? AND reference IN (${[...unique.keys()]
      .map(() => '?')
      .join(', ')})`,
    [order.id, ...unique.keys()],
  );
  for (const s of seen) unique.delete(String(s.reference));
  if (unique.size === 0) return [];

  const [facts = []] = await rawRows(tx, 'SELECT paid_on_channel FROM orders WHERE id = ?', [order.id]);
  const paidOnChannel = Number(facts[0]?.paid_on_channel ?? 0) === 1;
  let targets: Target[] | null = null;
  let receipt: Awaited<ReturnType<typeof lockChannelReceipts>> | null = null;
  const issueDate = businessDate(new Date(), currentBusinessTimeZone());
  const out: RefundMoneyDone[] = [];

  for (const { reference, money } of unique.values()) {
    const allowance = allowanceOf(money);
    let status: RefundMoneyStatus = 'none';
    let creditNote: string | null = null;
    let heldReason: string | null = null;
    if (money.currency !== order.currency) {
      status = 'held';
      heldReason = `refund ${reference} is in ${money.currency}, the order in ${order.currency}: held for a person, nothing credited`;
    } else if (allowance > 0) {
      targets ??= await creditTargets(tx, order.id);
      if (targets.length === 0) status = 'pending';
      else {
        const target = targets.find((t) => t.left >= allowance);
        // Nothing left on any of the order's invoices: wholly credited already, the allowance with it.
        if (!target && targets.every((t) => t.left === 0)) status = 'covered';
        else if (!target) {
          status = 'held';
          heldReason = heldText(
            reference,
            allowance,
            money.currency,
            Math.max(0, ...targets.map((t) => t.left)),
          );
        } else {
          const h = target.inv.head;
          const pit = Boolean(Number(h.prices_include_tax));
          const language = h.language === 'zh-CN' ? 'zh-CN' : 'en';
          const lines = allowanceLines(splitAllowance(allowance, target.lines, pit), pit, 1, {
            orderId: order.id,
            description: allowanceDescription(language, reference),
          });
          const draft = noteDraft(
            target.inv,
            lines,
            { shipping: 0, discount: 0, orderTax: 0 },
            `allowance: refund ${reference} on the channel`.slice(0, 255),
            issueDate,
          );
          const [posted] = await postInvoices(tx, [draft]);
          creditNote = posted!.number;
          target.left -= allowance;
          status = 'credited';
        }
      }
    }

    // The money paid back, out of the order's channel receipt: at most what the credit notes gave
    // back to it, so a held allowance pays out what the order's other credit notes released.
    let payout: { id: number; amount: number } | null = null;
    let payoutPending = 0;
    if (paidOnChannel && money.currency === order.currency) {
      receipt ??= await lockChannelReceipts(tx, [order.id]);
      const r = receipt.get(order.id);
      if (r) payout = await payOut(tx, r, { reference, amount: money.amount }, actor, now);
      else payoutPending = money.amount;
    }

    await tx(CHANNEL_REFUNDS).insert({
      order_id: order.id,
      reference,
      currency: money.currency,
      amount: money.amount,
      lines_amount: money.linesAmount,
      allowance,
      status,
      credited: status === 'credited' ? allowance : 0,
      document: creditNote,
      held_reason: heldReason,
      payout_pending: payoutPending,
      payout_payment_id: payout?.id ?? null,
      actor: actor.slice(0, 64),
      created_at: now,
      updated_at: now,
    });
    out.push({
      reference,
      amount: money.amount,
      currency: money.currency,
      allowance,
      status,
      creditNote,
      payout: payout?.amount ?? 0,
      heldReason,
    });
  }
  return out;
}

/** A short note of what refunds' money did, for the inbound event. */
export function refundMoneyNote(done: readonly RefundMoneyDone[]): string {
  return done
    .map((d) => {
      const parts = [`refund ${d.reference} paid back ${d.amount} ${d.currency}`];
      if (d.status === 'credited') parts.push(`allowance ${d.allowance} credited (${d.creditNote})`);
      if (d.status === 'pending') parts.push(`allowance ${d.allowance} carried on the order's invoice`);
      if (d.status === 'held') parts.push(`HELD: ${d.heldReason}`);
      if (d.status === 'covered')
        parts.push(`allowance ${d.allowance} covered: the order's invoices are wholly credited`);
      if (d.payout > 0) parts.push(`paid out ${d.payout}`);
      return parts.join(', ');
    })
    .join('; ');
}
