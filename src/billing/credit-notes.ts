import { currentBusinessTimeZone } from '../customers/price-book.js';
import { type Db, dialectOf, lockClause, rawRows, type Tx } from '../db/connection.js';
import { withTransaction } from '../db/retry.js';
import { allowanceLines, splitAllowance } from '../domain/allowance.js';
import {
  type CreditableLine,
  creditLines,
  creditTaken,
  type InvoiceLineDraft,
  invoiceTotals,
  type OrderCharges,
} from '../domain/invoice.js';
import { businessDate } from '../domain/pricing.js';
import { conflict, notFound, unprocessable } from '../errors/domain-errors.js';
import { NO_COMPANY } from './billing-context.js';
import { invoiceLineOf } from './invoice-query.js';
import { type BillTo, type PostedInvoice, type PostOptions, postInvoices, type Seller } from './posting.js';

/**
 * Credit notes: an issued invoice is never edited; what is taken back (a cancellation after
 * invoicing, later a return) is a credit note of its own series (`CN-…`) that references it, with
 * positive quantities and amounts that the invoice's are reduced by.
 */

type Row = Record<string, unknown>;

export interface CreditNoteRequest {
  invoiceNumber: string;
  /** Units per SKU to credit; absent: everything the invoice has left, its shipping included. */
  lines?: { sku: string; quantity: number }[] | undefined;
  reason: string;
  /** Default: today in the business time zone. */
  issueDate?: string | undefined;
}

const isTx = (conn: Db | Tx): conn is Tx => (conn as Tx).isTransaction === true;
const marks = (list: readonly unknown[]) => (list.length ? list.map(() => '?').join(', ') : 'NULL');
const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
const parseJson = (v: unknown): unknown => (typeof v === 'string' && v !== '' ? JSON.parse(v) : (v ?? null));

export interface CreditableInvoice {
  head: Row;
  lines: CreditableLine[];
  /** Shipping, order discount and order tax not yet credited. */
  charges: OrderCharges;
  /** What its credit notes have taken back so far (the sum of their totals). */
  creditedTotal: number;
}

/** Reads an invoice with what its credit notes have taken back so far (after the caller's locks). */
export async function readCreditable(
  tx: Tx,
  invoiceIds: readonly number[],
): Promise<Map<number, CreditableInvoice>> {
  const [heads = [], lines = [], credited = [], creditedCharges = []] = await rawRows(
    tx,
    `SELECT * FROM invoices WHERE id IN (${marks(invoiceIds)}); ` +
      `SELECT * FROM invoice_lines WHERE invoice_id IN (${marks(invoiceIds)}) ORDER BY invoice_id, line_no; ` +
      'SELECT cl.credits_line_id, SUM(cl.quantity) AS quantity FROM invoice_lines cl JOIN invoices c ON c.id = cl.invoice_id ' +
      `WHERE c.credits_invoice_id IN (${marks(invoiceIds)}) GROUP BY cl.credits_line_id; ` +
      'SELECT credits_invoice_id, SUM(shipping) AS shipping, SUM(discount) AS discount, SUM(shipping_tax) AS shipping_tax, SUM(total) AS total ' +
      `FROM invoices WHERE credits_invoice_id IN (${marks(invoiceIds)}) GROUP BY credits_invoice_id`,
    [...invoiceIds, ...invoiceIds, ...invoiceIds, ...invoiceIds],
  );
  const creditedOf = new Map(credited.map((c) => [Number(c.credits_line_id), Number(c.quantity)]));
  const chargesOf = new Map(creditedCharges.map((c) => [Number(c.credits_invoice_id), c]));
  const out = new Map<number, CreditableInvoice>();
  for (const h of heads) {
    const done = chargesOf.get(Number(h.id));
    out.set(Number(h.id), {
      head: h,
      lines: [],
      charges: {
        shipping: Number(h.shipping) - Number(done?.shipping ?? 0),
        discount: Number(h.discount) - Number(done?.discount ?? 0),
        orderTax: Number(h.shipping_tax) - Number(done?.shipping_tax ?? 0),
      },
      creditedTotal: Number(done?.total ?? 0),
    });
  }
  for (const l of lines) {
    out.get(Number(l.invoice_id))?.lines.push({
      ...invoiceLineOf(l),
      creditedQuantity: creditedOf.get(Number(l.id)) ?? 0,
    });
  }
  return out;
}

export function noteDraft(
  inv: CreditableInvoice,
  given: InvoiceLineDraft[],
  charges: OrderCharges,
  reason: string,
  issueDate: string,
) {
  const h = inv.head;
  const billTo: BillTo = {
    id: h.customer_id === null ? null : Number(h.customer_id),
    code: str(h.customer_code),
    name: str(h.customer_name),
    taxId: str(h.customer_tax_id),
    billingAddress: parseJson(h.billing_address),
    language: h.language === 'zh-CN' ? 'zh-CN' : 'en',
  };
  const pricesIncludeTax = Boolean(Number(h.prices_include_tax));
  const lines = withinCreditable(inv, given, charges, pricesIncludeTax, billTo.language);
  return {
    type: 'credit_note' as const,
    policy: 'credit',
    billTo,
    seller: (parseJson(h.seller) as Seller | null) ?? NO_COMPANY,
    orderId: h.order_id === null ? null : Number(h.order_id),
    period: str(h.period),
    creditsInvoiceId: Number(h.id),
    reason,
    currency: String(h.currency),
    pricesIncludeTax,
    issueDate,
    dueDate: issueDate,
    totals: invoiceTotals(lines, charges, pricesIncludeTax),
    lines,
    sources: [],
  };
}

/**
 * Never more than the invoice has left to credit: units credited at their full value on an invoice
 * that carried an allowance as discount lines (README "Returns") would take back more than it billed,
 * so the note then gives back the allowance's share as lines of its own (negative, split over the
 * credited lines' rates), and totals what is left exactly.
 */
function withinCreditable(
  inv: CreditableInvoice,
  lines: InvoiceLineDraft[],
  charges: OrderCharges,
  pricesIncludeTax: boolean,
  language: 'zh-CN' | 'en',
): InvoiceLineDraft[] {
  const left = Number(inv.head.total) - inv.creditedTotal;
  const over = invoiceTotals(lines, charges, pricesIncludeTax).total - Math.max(0, left);
  if (over <= 0 || lines.length === 0) return lines;
  const weights = lines.map((l) => ({
    taxClass: l.taxClass,
    taxCode: l.taxCode,
    amount: l.amount,
    tax: l.tax,
  }));
  return [
    ...lines,
    ...allowanceLines(splitAllowance(over, weights, pricesIncludeTax), pricesIncludeTax, -1, {
      orderId: inv.head.order_id === null ? null : Number(inv.head.order_id),
      description: language === 'zh-CN' ? '发票已含折让' : 'Allowance given on the invoice',
    }),
  ];
}

/**
 * Locks invoice rows by id before what they have left to credit is read, and before the invoice
 * sequence (a credit note's posting then settles them): the lock order's invoice rows.
 */
export async function lockInvoiceRows(tx: Tx, invoiceIds: readonly number[]): Promise<void> {
  if (invoiceIds.length === 0) return;
  const sorted = [...invoiceIds].sort((a, b) => a - b);
  await rawRows(
    tx,
    `SELECT id FROM invoices WHERE id IN (${marks(sorted)}) ORDER BY id${lockClause(tx)}`,
    sorted,
  );
}

/** Locks the orders an invoice's lines come from (orders come first in the lock order). */
async function lockOrdersOf(tx: Tx, invoiceIds: readonly number[]): Promise<void> {
  if (dialectOf(tx) !== 'mysql') return;
  await rawRows(
    tx,
    `SELECT id FROM orders WHERE id IN (SELECT DISTINCT order_id FROM invoice_lines WHERE invoice_id IN (${marks(invoiceIds)})) ORDER BY id${lockClause(tx)}`,
    invoiceIds,
  );
}

const NONE: OrderCharges = { shipping: 0, discount: 0, orderTax: 0 };
const hasCharges = (c: OrderCharges) => c.shipping !== 0 || c.discount !== 0 || c.orderTax !== 0;

/**
 * Issues a credit note against an invoice (by number): the units named, or everything not yet
 * credited (and then its shipping too). In the caller's transaction when given one, else in its
 * own. 404 for an unknown invoice; 409 for a credit note named as the invoice, or nothing left to
 * credit; 422 for a SKU not on the invoice or more units than are left.
 */
export async function issueCreditNote(
  conn: Db | Tx,
  request: CreditNoteRequest,
  options: PostOptions = {},
): Promise<PostedInvoice> {
  const work = async (tx: Tx) => {
    const found = await tx('invoices').where({ number: request.invoiceNumber }).first('id', 'type');
    if (!found) throw notFound(`invoice ${request.invoiceNumber}`);
    if (found.type !== 'invoice')
      throw conflict('not_an_invoice', `${request.invoiceNumber} is a credit note; credit its invoice`);
    const id = Number(found.id);
    await lockOrdersOf(tx, [id]);
    await lockInvoiceRows(tx, [id]);
    const inv = (await readCreditable(tx, [id])).get(id)!;
    let wanted: Map<string, number> | undefined;
    if (request.lines) {
      wanted = new Map();
      for (const l of request.lines) wanted.set(l.sku, (wanted.get(l.sku) ?? 0) + l.quantity);
    }
    const lines = creditLines(inv.lines, wanted);
    if (!Array.isArray(lines)) throw unprocessable('invalid_credit', lines.problem, lines.details);
    const charges = wanted ? NONE : inv.charges;
    if (lines.length === 0 && !hasCharges(charges)) {
      throw conflict('nothing_to_credit', `invoice ${request.invoiceNumber} is credited in full already`);
    }
    const issueDate = request.issueDate ?? businessDate(new Date(), currentBusinessTimeZone());
    const posted = await postInvoices(
      tx,
      [noteDraft(inv, lines, charges, request.reason, issueDate)],
      options,
    );
    return posted[0]!;
  };
  return isTx(conn) ? work(conn) : withTransaction(conn, work);
}

/**
 * After an order is cancelled, or goods of it came back (in that transaction, the order locked):
 * whatever its invoices bill beyond what it keeps — shipped units that were not returned — is
 * credited, one credit note per invoice (an on_order invoice of units that will now never ship, the
 * returned units of an invoiced shipment); when nothing of the order is kept, its shipping is too,
 * unless `shipping: false` (a return keeps the shipping billed).
 * Returns the credit notes issued (none for an order not invoiced).
 */
export async function creditCancelledOrder(
  tx: Tx,
  orderId: number,
  reason: string,
  issueDate?: string,
  { shipping = true }: { shipping?: boolean } = {},
): Promise<PostedInvoice[]> {
  // What the order keeps: shipped units that did not come back (README "Returns").
  const [ids = [], shipped = []] = await rawRows(
    tx,
    "SELECT DISTINCT il.invoice_id FROM invoice_lines il JOIN invoices i ON i.id = il.invoice_id WHERE il.order_id = ? AND i.type = 'invoice'; " +
      'SELECT id, shipped - returned AS shipped FROM order_lines WHERE order_id = ?',
    [orderId, orderId],
  );
  if (ids.length === 0) return [];
  const invoiceIds = ids.map((r) => Number(r.invoice_id)).sort((a, b) => a - b);
  await lockInvoiceRows(tx, invoiceIds);
  const invoices = await readCreditable(tx, invoiceIds);
  const shippedOf = new Map(shipped.map((s) => [Number(s.id), Number(s.shipped)]));
  const nothingShipped = [...shippedOf.values()].every((n) => n === 0);
  // Units billed net of credits, per order line, against what shipped: the excess is credited,
  // newest invoice first.
  const net = new Map<number, number>();
  for (const inv of invoices.values())
    for (const l of inv.lines)
      if (l.orderLineId !== null && l.orderId === orderId)
        net.set(l.orderLineId, (net.get(l.orderLineId) ?? 0) + l.quantity - l.creditedQuantity);
  const excess = new Map<number, number>();
  for (const [lineId, n] of net) excess.set(lineId, Math.max(0, n - (shippedOf.get(lineId) ?? 0)));
  const day = issueDate ?? businessDate(new Date(), currentBusinessTimeZone());
  const drafts = [];
  for (const id of [...invoiceIds].reverse()) {
    const inv = invoices.get(id)!;
    const take = new Map<number, number>();
    for (const l of inv.lines) {
      if (l.orderId !== orderId || l.orderLineId === null) continue;
      const left = excess.get(l.orderLineId) ?? 0;
      const n = Math.min(left, l.quantity - l.creditedQuantity);
      if (n > 0) {
        take.set(l.id, n);
        excess.set(l.orderLineId, left - n);
      }
    }
    const lines = creditTaken(inv.lines, take);
    // Shipping goes back only when the invoice is this order's alone and nothing of it shipped.
    const ownInvoice = inv.head.order_id !== null && Number(inv.head.order_id) === orderId;
    const charges = shipping && nothingShipped && ownInvoice ? inv.charges : NONE;
    if (lines.length === 0 && !hasCharges(charges)) continue;
    drafts.push(noteDraft(inv, lines, charges, reason, day));
  }
  return postInvoices(tx, drafts);
}
