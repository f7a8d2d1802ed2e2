import { dbTime, rawRows, type Tx } from '../db/connection.js';
import {
  ALLOWANCE_SKU,
  allowanceDescription,
  allowanceLines,
  splitAllowance,
  type TaxedAmount,
} from '../domain/allowance.js';
import { type InvoiceLineDraft, invoiceTotals } from '../domain/invoice.js';
import type { InvoiceDraft } from './posting.js';
import { CHANNEL_REFUNDS } from './refund-payouts.js';

/**
 * Allowances of orders not invoiced yet (a channel refunded money before we invoiced the order):
 * the order's next invoice carries them as discount lines (折扣行) — on the same invoice as the
 * sales they reduce, one line per tax rate with that rate's tax code, which is how an allowance
 * agreed before invoicing is shown on a Chinese VAT invoice (the tax is then due on the net), rather
 * than a blue invoice followed at once by a red one that needs a red-letter confirmation. An
 * invoice never carries more than its own total; the rest waits for the order's next invoice.
 */

/** What `carryAllowances` did: the drafts to post, and per draft the refunds it carries (by row id). */
export interface Carried {
  drafts: InvoiceDraft[];
  refundsOf: Map<InvoiceDraft, number[]>;
}

/** The order's lines of a draft, with the draft's shipping when the draft is the order's own. */
function weighed(draft: InvoiceDraft, orderId: number): { lines: TaxedAmount[]; gross: number } {
  const own = draft.orderId === orderId;
  const lines: TaxedAmount[] = draft.lines
    .filter((l) => (own || l.orderId === orderId) && !(l.sku === ALLOWANCE_SKU && l.orderLineId === null))
    .map((l) => ({ taxClass: l.taxClass, taxCode: l.taxCode, amount: l.amount, tax: l.tax }));
  if (own && draft.totals.shipping > 0)
    lines.push({
      taxClass: null,
      taxCode: null,
      amount: draft.totals.shipping,
      tax: draft.totals.shippingTax,
    });
  // What the draft bills the order, net of what it carries already.
  const gross = own
    ? draft.totals.total
    : draft.lines
        .filter((l) => l.orderId === orderId)
        .reduce((s, l) => s + l.amount + (draft.pricesIncludeTax ? 0 : l.tax), 0);
  return { lines, gross };
}

/**
 * Adds the pending allowances of the drafts' orders to the first invoice draft of each order, in
 * the posting's transaction (its orders are locked by the caller). Cheap when none is pending.
 */
export async function carryAllowances(tx: Tx, drafts: readonly InvoiceDraft[]): Promise<Carried> {
  const refundsOf = new Map<InvoiceDraft, number[]>();
  const plain = { drafts: [...drafts], refundsOf };
  const invoices = drafts.filter((d) => d.type === 'invoice');
  if (invoices.length === 0) return plain;
  const [any = []] = await rawRows(tx, `SELECT id FROM ${CHANNEL_REFUNDS} WHERE status = 'pending' LIMIT 1`);
  if (any.length === 0) return plain;
  const orderIds = new Set<number>();
  for (const d of invoices) {
    if (d.orderId !== null) orderIds.add(d.orderId);
    for (const l of d.lines) if (l.orderId !== null) orderIds.add(l.orderId);
  }
  const ids = [...orderIds].sort((a, b) => a - b);
  if (ids.length === 0) return plain;
  const pending: Record<string, unknown>[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const [rows = []] = await rawRows(
      tx,
      `SELECT id, order_id, reference, currency, allowance, credited FROM ${CHANNEL_REFUNDS} ` +
        `WHERE status = 'pending' AND order_id IN (${chunk.map(() => '?').join(', ')}) ORDER BY id`,
      chunk,
    );
    pending.push(...rows);
  }
  if (pending.length === 0) return plain;

  const out = [...drafts];
  for (const r of pending) {
    const orderId = Number(r.order_id);
    let left = Number(r.allowance) - Number(r.credited);
    let carriedNow = 0;
    for (let i = 0; i < out.length && left > 0; i++) {
      const draft = out[i]!;
      if (draft.type !== 'invoice' || draft.currency !== String(r.currency)) continue;
      if (draft.orderId !== orderId && !draft.lines.some((l) => l.orderId === orderId)) continue;
      const { lines, gross } = weighed(draft, orderId);
      const take = Math.min(left, gross);
      if (take <= 0) continue;
      const added: InvoiceLineDraft[] = allowanceLines(
        splitAllowance(take, lines, draft.pricesIncludeTax),
        draft.pricesIncludeTax,
        -1,
        {
          orderId,
          description: allowanceDescription(draft.billTo.language, String(r.reference)),
        },
      );
      const nextLines = [...draft.lines, ...added];
      const next: InvoiceDraft = {
        ...draft,
        lines: nextLines,
        totals: invoiceTotals(
          nextLines,
          {
            shipping: draft.totals.shipping,
            discount: draft.totals.discount,
            orderTax: draft.totals.shippingTax,
          },
          draft.pricesIncludeTax,
        ),
      };
      out[i] = next;
      refundsOf.set(next, [...(refundsOf.get(draft) ?? []), Number(r.id)]);
      refundsOf.delete(draft);
      left -= take;
      carriedNow += take;
    }
    if (carriedNow > 0)
      await tx(CHANNEL_REFUNDS)
        .where({ id: Number(r.id) })
        .update({
          credited: Number(r.credited) + carriedNow,
          status: left > 0 ? 'pending' : 'carried',
          updated_at: dbTime(),
        });
  }
  return { drafts: out, refundsOf };
}

/** Notes on each carried refund the invoice that carried it (once the numbers are taken). */
export async function noteCarried(
  tx: Tx,
  posted: readonly { number: string; draft: InvoiceDraft }[],
  refundsOf: ReadonlyMap<InvoiceDraft, number[]>,
): Promise<void> {
  if (refundsOf.size === 0) return;
  for (const p of posted) {
    const ids = refundsOf.get(p.draft);
    if (ids?.length) await tx(CHANNEL_REFUNDS).whereIn('id', ids).update({ document: p.number });
  }
}
