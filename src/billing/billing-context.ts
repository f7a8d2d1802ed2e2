import { type Conn, lockClause, rawRows, type Tx } from '../db/connection.js';
import { codeKey } from '../domain/codes.js';
import type { BillableLine, InvoicePolicy, OrderCharges } from '../domain/invoice.js';
import type { BillTo, Seller } from './posting.js';

/**
 * What invoicing some orders needs, read in the posting transaction right after it locks the
 * orders (lock first, then read): their lines with the units already invoiced, their customers,
 * what is already invoiced, the companies.
 */

type Row = Record<string, unknown>;

export interface BillingOrder {
  id: number;
  status: string;
  currency: string;
  pricesIncludeTax: boolean;
  charges: OrderCharges;
  customerId: number | null;
  policy: InvoicePolicy;
  billTo: BillTo;
  seller: Seller;
  paymentTermsDays: number;
  lines: Map<number, BillingLine>;
  /** The order's shipping and order discount are on an invoice already. */
  charged: boolean;
  /** The order's ordered quantities are invoiced (on_order). */
  invoicedWhole: boolean;
}

/**
 * An order line as invoicing sees it. `invoicedBefore` (blue invoices' units) advances as drafts
 * bill more; `credited` is what credit notes took back of it; `returned` the units that came back.
 */
export type BillingLine = BillableLine & {
  cancelled: number;
  shipped: number;
  returned: number;
  credited: number;
};

export interface BillingContext {
  orders: Map<number, BillingOrder>;
  /** Shipments (of those asked for) invoiced already. */
  invoicedShipments: Set<number>;
  /** Lines of the shipments asked for: shipment id → [order line id, quantity]. */
  shipmentLines: Map<number, { orderLineId: number; quantity: number }[]>;
}

const marks = (list: readonly unknown[]) => (list.length ? list.map(() => '?').join(', ') : 'NULL');
const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
const parseJson = (v: unknown): unknown => (typeof v === 'string' && v !== '' ? JSON.parse(v) : (v ?? null));

/** The header when a customer names no company the companies table has: the first company, else a blank one. */
export const NO_COMPANY: Seller = {
  code: null,
  name: '',
  nameZh: null,
  taxId: null,
  address: null,
  phone: null,
  email: null,
  bankAccount: null,
};

export function sellerOf(companies: readonly Row[], code: string | null): Seller {
  const row =
    (code ? companies.find((c) => codeKey(String(c.code)) === codeKey(code)) : undefined) ?? companies[0];
  if (!row) return NO_COMPANY;
  return {
    code: String(row.code),
    name: String(row.name),
    nameZh: str(row.name_zh),
    taxId: str(row.tax_id),
    address: str(row.address),
    phone: str(row.phone),
    email: str(row.email),
    bankAccount: str(row.bank_account),
  };
}

export const languageOf = (v: unknown): 'zh-CN' | 'en' => (v === 'zh-CN' ? 'zh-CN' : 'en');

/** Orders (and shipments) per locking read: well within the dialects' limits on bound values. */
const PAGE = 1000;

/**
 * Locks the orders (by id, the lock order's first entry) and reads what invoicing them needs.
 * `shipmentIds`: shipments whose lines and invoiced state to read too. Many orders are locked
 * page by page in ascending id order (still one lock order), in the caller's transaction.
 */
export async function lockForBilling(
  tx: Tx,
  orderIds: readonly number[],
  shipmentIds: readonly number[] = [],
): Promise<BillingContext> {
  const ids = [...new Set(orderIds)].sort((a, b) => a - b);
  const ships = [...new Set(shipmentIds)];
  if (ids.length <= PAGE && ships.length <= PAGE) return lockPage(tx, ids, ships);
  // Every order locked before anything is read: a page's shipments may belong to a later page.
  for (let i = 0; i < ids.length; i += PAGE) {
    const page = ids.slice(i, i + PAGE);
    await rawRows(
      tx,
      `SELECT id FROM orders WHERE id IN (${marks(page)}) ORDER BY id${lockClause(tx)}`,
      page,
    );
  }
  const ctx: BillingContext = { orders: new Map(), invoicedShipments: new Set(), shipmentLines: new Map() };
  for (let i = 0; i < Math.max(ids.length, ships.length); i += PAGE) {
    const page = await lockPage(tx, ids.slice(i, i + PAGE), ships.slice(i, i + PAGE));
    for (const [id, o] of page.orders) ctx.orders.set(id, o);
    for (const s of page.invoicedShipments) ctx.invoicedShipments.add(s);
    for (const [id, l] of page.shipmentLines) ctx.shipmentLines.set(id, l);
  }
  return ctx;
}

async function lockPage(
  tx: Tx,
  ids: readonly number[],
  shipmentIds: readonly number[],
): Promise<BillingContext> {
  const [
    orders = [],
    lines = [],
    invoiced = [],
    sources = [],
    shipLines = [],
    customers = [],
    companies = [],
  ] = await rawRows(
    tx,
    `SELECT id, status, currency, prices_include_tax, shipping_amount, discount_amount, tax_amount, customer_id, contact_name, contact_language FROM orders WHERE id IN (${marks(ids)}) ORDER BY id${lockClause(tx)}; ` +
      'SELECT ol.id, ol.order_id, ol.line_no, ol.sku_code, ol.ordered, ol.cancelled, ol.shipped, ol.returned, ol.unit_price, ' +
      'ol.discount_amount, ol.tax_amount, s.name AS sku_name, s.tax_class, tc.code AS tax_code ' +
      'FROM order_lines ol LEFT JOIN skus s ON s.id = ol.sku_id LEFT JOIN tax_class_codes tc ON tc.tax_class = s.tax_class ' +
      `WHERE ol.order_id IN (${marks(ids)}) ORDER BY ol.order_id, ol.line_no; ` +
      "SELECT il.order_line_id, SUM(CASE WHEN i.type = 'invoice' THEN il.quantity ELSE 0 END) AS quantity, " +
      "SUM(CASE WHEN i.type = 'credit_note' THEN il.quantity ELSE 0 END) AS credited " +
      'FROM invoice_lines il JOIN invoices i ON i.id = il.invoice_id ' +
      `WHERE il.order_id IN (${marks(ids)}) GROUP BY il.order_line_id; ` +
      `SELECT kind, ref_id FROM invoice_sources WHERE (kind IN ('order', 'charges') AND ref_id IN (${marks(ids)})) ` +
      `OR (kind = 'shipment' AND ref_id IN (${marks(shipmentIds)})); ` +
      `SELECT shipment_id, order_line_id, quantity FROM shipment_lines WHERE shipment_id IN (${marks(shipmentIds)}) ORDER BY shipment_id, order_line_id; ` +
      'SELECT id, code, name, tax_id, billing_address, language, payment_terms_days, company, invoice_policy FROM customers ' +
      `WHERE id IN (SELECT customer_id FROM orders WHERE id IN (${marks(ids)})); ` +
      'SELECT * FROM companies ORDER BY id',
    [...ids, ...ids, ...ids, ...ids, ...shipmentIds, ...shipmentIds, ...ids],
  );
  const customerById = new Map(customers.map((c) => [Number(c.id), c]));
  const invoicedOf = new Map(invoiced.map((r) => [Number(r.order_line_id), Number(r.quantity)]));
  const creditedOf = new Map(invoiced.map((r) => [Number(r.order_line_id), Number(r.credited)]));
  const charged = new Set(sources.filter((s) => s.kind === 'charges').map((s) => Number(s.ref_id)));
  const whole = new Set(sources.filter((s) => s.kind === 'order').map((s) => Number(s.ref_id)));
  const out = new Map<number, BillingOrder>();
  for (const o of orders) {
    const customer = o.customer_id === null ? undefined : customerById.get(Number(o.customer_id));
    out.set(Number(o.id), {
      id: Number(o.id),
      status: String(o.status),
      currency: String(o.currency),
      pricesIncludeTax: Boolean(Number(o.prices_include_tax ?? 0)),
      charges: {
        shipping: Number(o.shipping_amount ?? 0),
        discount: Number(o.discount_amount ?? 0),
        // Filled in below, once the lines' tax is known.
        orderTax: Number(o.tax_amount ?? 0),
      },
      customerId: o.customer_id === null ? null : Number(o.customer_id),
      policy: ((customer?.invoice_policy as InvoicePolicy | undefined) ?? 'on_shipment') as InvoicePolicy,
      billTo: {
        id: customer ? Number(customer.id) : null,
        code: customer ? str(customer.code) : null,
        name: customer ? str(customer.name) : str(o.contact_name),
        taxId: customer ? str(customer.tax_id) : null,
        billingAddress: customer ? parseJson(customer.billing_address) : null,
        language: languageOf(customer?.language ?? o.contact_language),
      },
      seller: sellerOf(companies, customer ? str(customer.company) : null),
      paymentTermsDays: Number(customer?.payment_terms_days ?? 0),
      lines: new Map(),
      charged: charged.has(Number(o.id)),
      invoicedWhole: whole.has(Number(o.id)),
    });
  }
  for (const l of lines) {
    const order = out.get(Number(l.order_id));
    if (!order) continue;
    order.lines.set(Number(l.id), {
      orderLineId: Number(l.id),
      sku: String(l.sku_code),
      description: str(l.sku_name) ?? String(l.sku_code),
      ordered: Number(l.ordered),
      cancelled: Number(l.cancelled),
      shipped: Number(l.shipped),
      returned: Number(l.returned ?? 0),
      credited: creditedOf.get(Number(l.id)) ?? 0,
      unitPrice: Number(l.unit_price),
      discount: Number(l.discount_amount ?? 0),
      tax: Number(l.tax_amount ?? 0),
      taxClass: str(l.tax_class),
      taxCode: str(l.tax_code),
      invoicedBefore: invoicedOf.get(Number(l.id)) ?? 0,
    });
  }
  for (const order of out.values()) {
    let lineTax = 0;
    for (const l of order.lines.values()) lineTax += l.tax;
    order.charges.orderTax -= lineTax;
  }
  const shipmentLines = new Map<number, { orderLineId: number; quantity: number }[]>();
  for (const r of shipLines) {
    const list = shipmentLines.get(Number(r.shipment_id)) ?? [];
    list.push({ orderLineId: Number(r.order_line_id), quantity: Number(r.quantity) });
    shipmentLines.set(Number(r.shipment_id), list);
  }
  return {
    orders: out,
    invoicedShipments: new Set(sources.filter((s) => s.kind === 'shipment').map((s) => Number(s.ref_id))),
    shipmentLines,
  };
}

/** The companies, for documents issued outside an order (credit notes read their invoice's). */
export async function readCompanies(conn: Conn): Promise<Row[]> {
  const [rows = []] = await rawRows(conn, 'SELECT * FROM companies ORDER BY id');
  return rows;
}
