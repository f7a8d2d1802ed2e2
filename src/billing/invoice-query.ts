import { currentBusinessTimeZone } from '../customers/price-book.js';
import { type Conn, isoTime, rawRows } from '../db/connection.js';
import type { DocumentType } from '../domain/invoice.js';
import { type InvoicePaymentStatus, invoicePaymentStatus } from '../domain/payments.js';
import { businessDate } from '../domain/pricing.js';
import { notFound } from '../errors/domain-errors.js';
import { NO_COMPANY } from './billing-context.js';
import type { Seller } from './posting.js';

/** An invoice or credit note as the API shows it and the document prints it. */
export interface InvoiceView {
  id: number;
  number: string;
  type: DocumentType;
  policy: string;
  customer: { code: string | null; name: string | null; taxId: string | null; billingAddress: unknown };
  company: Seller;
  language: 'zh-CN' | 'en';
  orderId: number | null;
  period: string | null;
  /** A credit note: the invoice it credits. */
  creditsInvoice: string | null;
  reason: string | null;
  currency: string;
  pricesIncludeTax: boolean;
  issueDate: string;
  dueDate: string;
  subtotal: number;
  discount: number;
  shipping: number;
  /** Tax the order had beyond its lines (e.g. on shipping); part of `tax`. */
  shippingTax: number;
  tax: number;
  total: number;
  /** Paid by customer receipts (sum of the payments' allocations to it); 0 on a credit note. */
  paid: number;
  /** Credited by credit notes against it; 0 on a credit note. */
  credited: number;
  /** total − paid − credited; 0 on a credit note. */
  open: number;
  /** An invoice's payment status today (README "Payments"); null on a credit note. */
  status: InvoicePaymentStatus | null;
  lines: InvoiceLineView[];
  /** An invoice: the credit notes made against it. */
  creditNotes: string[];
  einvoice: {
    issuer: string | null;
    serial: string | null;
    status: string | null;
    redLetterStatus: string | null;
    platformNumber: string | null;
    message: string | null;
    updatedAt: string | null;
  };
  document: string | null;
  createdAt: string;
}

export interface InvoiceLineView {
  lineNo: number;
  sku: string;
  description: string;
  quantity: number;
  unitPrice: number;
  discount: number;
  tax: number;
  taxClass: string | null;
  taxCode: string | null;
  amount: number;
  orderId: number | null;
  orderLineId: number | null;
  shipmentId: number | null;
  creditsLineId: number | null;
  id: number;
}

type Row = Record<string, unknown>;
const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** An `invoice_lines` row's figures, as the invoice view and the credit note reader take them. */
export function invoiceLineOf(l: Record<string, unknown>) {
  return {
    id: Number(l.id),
    orderId: num(l.order_id),
    orderLineId: num(l.order_line_id),
    sku: String(l.sku),
    description: String(l.description),
    quantity: Number(l.quantity),
    unitPrice: Number(l.unit_price),
    discount: Number(l.discount),
    tax: Number(l.tax),
    taxClass: str(l.tax_class),
    taxCode: str(l.tax_code),
    amount: Number(l.amount),
  };
}
const parseJson = (v: unknown): unknown => (typeof v === 'string' && v !== '' ? JSON.parse(v) : (v ?? null));
const marks = (list: readonly unknown[]) => (list.length ? list.map(() => '?').join(', ') : 'NULL');

function toView(
  r: Row,
  lines: Row[],
  creditsNumber: string | null,
  creditNotes: string[],
  creditedAmount: number,
  today: string,
): InvoiceView {
  const isInvoice = r.type === 'invoice';
  const total = Number(r.total);
  const paid = isInvoice ? Number(r.paid ?? 0) : 0;
  const credited = isInvoice ? creditedAmount : 0;
  return {
    id: Number(r.id),
    number: String(r.number),
    type: r.type as DocumentType,
    policy: String(r.policy),
    customer: {
      code: str(r.customer_code),
      name: str(r.customer_name),
      taxId: str(r.customer_tax_id),
      billingAddress: parseJson(r.billing_address),
    },
    company: (parseJson(r.seller) as Seller | null) ?? NO_COMPANY,
    language: r.language === 'zh-CN' ? 'zh-CN' : 'en',
    orderId: r.order_id === null ? null : Number(r.order_id),
    period: str(r.period),
    creditsInvoice: creditsNumber,
    reason: str(r.reason),
    currency: String(r.currency),
    pricesIncludeTax: Boolean(Number(r.prices_include_tax)),
    issueDate: String(r.issue_date),
    dueDate: String(r.due_date),
    subtotal: Number(r.subtotal),
    discount: Number(r.discount),
    shipping: Number(r.shipping),
    shippingTax: Number(r.shipping_tax),
    tax: Number(r.tax),
    total,
    paid,
    credited,
    open: isInvoice ? total - paid - credited : 0,
    status: isInvoice
      ? invoicePaymentStatus({ total, paid, credited, dueDate: String(r.due_date) }, today)
      : null,
    lines: lines.map((l) => ({
      ...invoiceLineOf(l),
      lineNo: Number(l.line_no),
      shipmentId: num(l.shipment_id),
      creditsLineId: num(l.credits_line_id),
    })),
    creditNotes,
    einvoice: {
      issuer: str(r.issuer),
      serial: str(r.issuer_serial),
      status: str(r.issuer_status),
      redLetterStatus: str(r.red_letter_status),
      platformNumber: str(r.platform_number),
      message: str(r.issuer_message),
      updatedAt: isoTime(r.issuer_updated_at as string | null),
    },
    document: str(r.document),
    createdAt: isoTime(r.created_at as string) as string,
  };
}

/** Invoices by id, with their lines, in the order of `ids`. */
export async function loadInvoices(conn: Conn, ids: readonly number[]): Promise<InvoiceView[]> {
  if (ids.length === 0) return [];
  const out: InvoiceView[] = [];
  const today = businessDate(new Date(), currentBusinessTimeZone());
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const [heads = [], lines = [], credits = [], notes = []] = await rawRows(
      conn,
      `SELECT * FROM invoices WHERE id IN (${marks(chunk)}); ` +
        `SELECT * FROM invoice_lines WHERE invoice_id IN (${marks(chunk)}) ORDER BY invoice_id, line_no; ` +
        `SELECT c.id, o.number FROM invoices c JOIN invoices o ON o.id = c.credits_invoice_id WHERE c.id IN (${marks(chunk)}); ` +
        `SELECT credits_invoice_id, number, type, total FROM invoices WHERE credits_invoice_id IN (${marks(chunk)}) ORDER BY id`,
      [...chunk, ...chunk, ...chunk, ...chunk],
    );
    const linesOf = new Map<number, Row[]>();
    for (const l of lines) {
      const list = linesOf.get(Number(l.invoice_id)) ?? [];
      list.push(l);
      linesOf.set(Number(l.invoice_id), list);
    }
    const creditsOf = new Map(credits.map((c) => [Number(c.id), String(c.number)]));
    const notesOf = new Map<number, string[]>();
    const creditedOf = new Map<number, number>();
    for (const n of notes) {
      if (n.type === 'credit_note')
        creditedOf.set(
          Number(n.credits_invoice_id),
          (creditedOf.get(Number(n.credits_invoice_id)) ?? 0) + Number(n.total),
        );
      const list = notesOf.get(Number(n.credits_invoice_id)) ?? [];
      list.push(String(n.number));
      notesOf.set(Number(n.credits_invoice_id), list);
    }
    const byId = new Map(heads.map((h) => [Number(h.id), h]));
    for (const id of chunk) {
      const h = byId.get(id);
      if (h)
        out.push(
          toView(
            h,
            linesOf.get(id) ?? [],
            creditsOf.get(id) ?? null,
            notesOf.get(id) ?? [],
            creditedOf.get(id) ?? 0,
            today,
          ),
        );
    }
  }
  return out;
}

/** One invoice or credit note by its number; 404 when there is none (of that type, when given). */
export async function invoiceByNumber(conn: Conn, number: string, type?: DocumentType): Promise<InvoiceView> {
  const row = await conn('invoices').where({ number }).first('id', 'type');
  if (!row || (type && row.type !== type)) {
    throw notFound(`${type === 'credit_note' ? 'credit note' : 'invoice'} ${number}`);
  }
  return (await loadInvoices(conn, [Number(row.id)]))[0]!;
}

export interface InvoiceFilter {
  customer?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  type?: DocumentType | undefined;
  order?: number | undefined;
  limit: number;
}

/** Invoices and credit notes newest first by id, filtered by customer code, issue dates, type, order. */
export async function listInvoices(conn: Conn, filter: InvoiceFilter, beforeId: number | null) {
  let q = conn('invoices').select('id');
  if (filter.customer) q = q.where('customer_code', filter.customer);
  if (filter.from) q = q.where('issue_date', '>=', filter.from);
  if (filter.to) q = q.where('issue_date', '<=', filter.to);
  if (filter.type) q = q.where('type', filter.type);
  if (filter.order) q = q.where('order_id', filter.order);
  if (beforeId !== null) q = q.where('id', '<', beforeId);
  const rows = await q.orderBy('id', 'desc').limit(filter.limit + 1);
  const page = rows.slice(0, filter.limit).map((r) => Number(r.id));
  const items = await loadInvoices(conn, page);
  return {
    items: items.map(({ lines, ...head }) => ({ ...head, lines: lines.length })),
    nextId: rows.length > filter.limit ? (page.at(-1) ?? null) : null,
  };
}
