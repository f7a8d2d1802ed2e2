import type { Db, Tx } from '../db/connection.js';
import { withTransaction } from '../db/retry.js';
import {
  addDays,
  billLine,
  type InvoiceLineDraft,
  invoiceTotals,
  type OrderCharges,
} from '../domain/invoice.js';
import { conflict, notFound } from '../errors/domain-errors.js';
import {
  type BillingContext,
  type BillingLine,
  type BillingOrder,
  lockForBilling,
} from './billing-context.js';
import { type InvoiceDraft, type PostedInvoice, type PostOptions, postInvoices } from './posting.js';

/**
 * Invoices made from shipments and orders: each unit of work locks the orders it bills (by id),
 * reads what is invoiced already, builds drafts with the pure invoice arithmetic, and posts them —
 * numbers taken last — in one transaction. What is invoiced already is skipped, so a second run, or
 * a second daemon waiting on the same order locks, posts nothing again; the primary key of
 * `invoice_sources` is the backstop.
 */

/** Statuses in which an order's ordered quantities can be invoiced (policy `on_order`). */
export const INVOICEABLE_ORDER_STATUSES = [
  'confirmed',
  'partially_shipped',
  'shipped',
  'delivered',
  'completed',
] as const;

const NO_CHARGES: OrderCharges = { shipping: 0, discount: 0, orderTax: 0 };

function addCharges(a: OrderCharges, b: OrderCharges): OrderCharges {
  return {
    shipping: a.shipping + b.shipping,
    discount: a.discount + b.discount,
    orderTax: a.orderTax + b.orderTax,
  };
}

/** The order's shipping and order discount, when no invoice carries them yet (then it is marked). */
function takeCharges(order: BillingOrder, sources: InvoiceDraft['sources']): OrderCharges {
  if (order.charged) return NO_CHARGES;
  order.charged = true;
  sources.push({ kind: 'charges', refId: order.id });
  return order.charges;
}

function draft(
  order: BillingOrder,
  fields: {
    policy: string;
    orderId: number | null;
    period: string | null;
    issueDate: string;
    lines: InvoiceLineDraft[];
    charges: OrderCharges;
    sources: InvoiceDraft['sources'];
  },
): InvoiceDraft {
  return {
    type: 'invoice',
    policy: fields.policy,
    billTo: order.billTo,
    seller: order.seller,
    orderId: fields.orderId,
    period: fields.period,
    creditsInvoiceId: null,
    reason: null,
    currency: order.currency,
    pricesIncludeTax: order.pricesIncludeTax,
    issueDate: fields.issueDate,
    dueDate: addDays(fields.issueDate, order.paymentTermsDays),
    totals: invoiceTotals(fields.lines, fields.charges, order.pricesIncludeTax),
    lines: fields.lines,
    sources: fields.sources,
  };
}

/**
 * Units of a shipment line to bill: never more than the line keeps (shipped − returned) less what
 * its invoices bill already net of credit notes. Units that came back before they were invoiced
 * are so never invoiced; with shipments invoiced in shipment order this takes returned units off
 * the latest shipments first (an earlier shipment is billed in full while later ones can absorb
 * the returns). A return after invoicing is credited by a credit note instead (`creditCancelledOrder`).
 */
export function billableUnits(line: BillingLine, shipped: number): number {
  const left = line.shipped - line.returned - (line.invoicedBefore - line.credited);
  return Math.max(0, Math.min(shipped, left));
}

/** Bills the lines of one shipment; advances the lines' invoiced units. */
function shipmentLines(ctx: BillingContext, order: BillingOrder, shipmentId: number): InvoiceLineDraft[] {
  const out: InvoiceLineDraft[] = [];
  for (const sl of ctx.shipmentLines.get(shipmentId) ?? []) {
    const line = order.lines.get(sl.orderLineId);
    if (!line || sl.quantity <= 0) continue;
    const quantity = billableUnits(line, sl.quantity);
    if (quantity <= 0) continue;
    out.push(billLine(line, quantity, { orderId: order.id, shipmentId }));
    line.invoicedBefore += quantity;
  }
  return out;
}

/**
 * Drafts one invoice per shipment not invoiced yet (in shipment id order, so an order's shares
 * accumulate in the order it shipped). `shipments`: [shipment id, order id].
 */
export function shipmentDrafts(
  ctx: BillingContext,
  shipments: readonly { shipmentId: number; orderId: number }[],
  issueDate: string,
): InvoiceDraft[] {
  const drafts: InvoiceDraft[] = [];
  for (const { shipmentId, orderId } of [...shipments].sort((a, b) => a.shipmentId - b.shipmentId)) {
    const order = ctx.orders.get(orderId);
    if (!order || ctx.invoicedShipments.has(shipmentId) || order.invoicedWhole) continue;
    ctx.invoicedShipments.add(shipmentId);
    const sources: InvoiceDraft['sources'] = [{ kind: 'shipment', refId: shipmentId }];
    const lines = shipmentLines(ctx, order, shipmentId);
    const charges = takeCharges(order, sources);
    if (lines.length === 0 && charges === NO_CHARGES) continue;
    drafts.push(
      draft(order, { policy: 'on_shipment', orderId, period: null, issueDate, lines, charges, sources }),
    );
  }
  return drafts;
}

/** One invoice over all the given shipments (one customer's month), those not invoiced yet. */
export function periodicDraft(
  ctx: BillingContext,
  shipments: readonly { shipmentId: number; orderId: number }[],
  month: string,
  issueDate: string,
): InvoiceDraft | null {
  const lines: InvoiceLineDraft[] = [];
  const sources: InvoiceDraft['sources'] = [];
  let charges = NO_CHARGES;
  let first: BillingOrder | null = null;
  const orderIds = new Set<number>();
  for (const { shipmentId, orderId } of [...shipments].sort((a, b) => a.shipmentId - b.shipmentId)) {
    const order = ctx.orders.get(orderId);
    if (!order || ctx.invoicedShipments.has(shipmentId) || order.invoicedWhole) continue;
    if (first && order.currency !== first.currency) continue;
    first ??= order;
    ctx.invoicedShipments.add(shipmentId);
    sources.push({ kind: 'shipment', refId: shipmentId });
    lines.push(...shipmentLines(ctx, order, shipmentId));
    charges = addCharges(charges, takeCharges(order, sources));
    orderIds.add(orderId);
  }
  if (!first || sources.length === 0) return null;
  return draft(first, {
    policy: 'periodic',
    orderId: orderIds.size === 1 ? [...orderIds][0]! : null,
    period: month,
    issueDate,
    lines,
    charges,
    sources,
  });
}

/** The invoice of an order's ordered quantities (policy on_order), when it is due and not issued. */
export function orderDraft(ctx: BillingContext, orderId: number, issueDate: string): InvoiceDraft | null {
  const order = ctx.orders.get(orderId);
  if (!order || order.invoicedWhole) return null;
  if (!(INVOICEABLE_ORDER_STATUSES as readonly string[]).includes(order.status)) return null;
  order.invoicedWhole = true;
  const sources: InvoiceDraft['sources'] = [{ kind: 'order', refId: orderId }];
  const lines: InvoiceLineDraft[] = [];
  for (const line of order.lines.values()) {
    // Units that shipped and came back before the order was invoiced are not billed either.
    const quantity = line.ordered - line.cancelled - line.returned - line.invoicedBefore;
    if (quantity <= 0) continue;
    lines.push(billLine(line, quantity, { orderId, shipmentId: null }));
    line.invoicedBefore += quantity;
  }
  const charges = takeCharges(order, sources);
  return draft(order, { policy: 'on_order', orderId, period: null, issueDate, lines, charges, sources });
}

export interface IssueNowOptions extends PostOptions {
  issueDate: string;
}

/**
 * Invoices one shipment now, whatever its customer's policy (it is then left out of any later
 * periodic invoice). 404 for an unknown shipment, 409 when it is invoiced already.
 */
export async function invoiceShipmentNow(
  db: Db,
  shipmentId: number,
  options: IssueNowOptions,
): Promise<PostedInvoice> {
  const found = await db('shipments').where({ id: shipmentId }).first('order_id');
  if (!found) throw notFound(`shipment ${shipmentId}`);
  const orderId = Number(found.order_id);
  return withTransaction(db, async (tx) => {
    const ctx = await lockForBilling(tx, [orderId], [shipmentId]);
    if (ctx.invoicedShipments.has(shipmentId) || ctx.orders.get(orderId)?.invoicedWhole) {
      throw conflict('already_invoiced', `shipment ${shipmentId} is invoiced already`, { shipmentId });
    }
    const drafts = shipmentDrafts(ctx, [{ shipmentId, orderId }], options.issueDate);
    if (drafts.length === 0)
      throw conflict('nothing_to_invoice', `shipment ${shipmentId} has nothing to invoice`);
    return (await postInvoices(tx, drafts, options))[0]!;
  });
}

/**
 * Invoices an order's ordered quantities now (as policy on_order does). 404 for an unknown order;
 * 409 when it is not confirmed yet, or is invoiced already (whole, or a shipment of it).
 */
export async function invoiceOrderNow(
  db: Db,
  orderId: number,
  options: IssueNowOptions,
): Promise<PostedInvoice> {
  return withTransaction(db, (tx) => invoiceOrderLocked(tx, orderId, options));
}

async function invoiceOrderLocked(tx: Tx, orderId: number, options: IssueNowOptions): Promise<PostedInvoice> {
  const ctx = await lockForBilling(tx, [orderId]);
  const order = ctx.orders.get(orderId);
  if (!order) throw notFound(`order ${orderId}`);
  if (order.invoicedWhole || [...order.lines.values()].some((l) => l.invoicedBefore > 0)) {
    throw conflict('already_invoiced', `order ${orderId} is invoiced already`, { orderId });
  }
  if (!(INVOICEABLE_ORDER_STATUSES as readonly string[]).includes(order.status)) {
    throw conflict(
      'not_invoiceable',
      `an order in status ${order.status} is not invoiced until it is confirmed`,
      {
        status: order.status,
      },
    );
  }
  const d = orderDraft(ctx, orderId, options.issueDate)!;
  return (await postInvoices(tx, [d], options))[0]!;
}
