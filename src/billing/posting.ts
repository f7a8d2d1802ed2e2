import { type Conn, dbTime, dialectOf, rawRows, type Tx } from '../db/connection.js';
import { placeholders, WriteBatch } from '../db/write-batch.js';
import {
  type DocumentType,
  formatInvoiceNumber,
  type InvoiceLineDraft,
  type InvoiceTotals,
  SERIES,
} from '../domain/invoice.js';
import { carryAllowances, noteCarried } from './allowance-carry.js';
import { serialOf } from './einvoicing.js';
import { afterInvoicesPosted } from './settlement.js';

/** Who an invoice is made out to, as it was at issue. */
export interface BillTo {
  id: number | null;
  code: string | null;
  name: string | null;
  taxId: string | null;
  billingAddress: unknown;
  language: 'zh-CN' | 'en';
}

/** The selling company's header, as it was at issue. */
export interface Seller {
  code: string | null;
  name: string;
  nameZh: string | null;
  taxId: string | null;
  address: string | null;
  phone: string | null;
  email: string | null;
  bankAccount: string | null;
}

/** An invoice or credit note ready to post: everything but its number. */
export interface InvoiceDraft {
  type: DocumentType;
  /** on_shipment | on_order | periodic | credit */
  policy: string;
  billTo: BillTo;
  seller: Seller;
  orderId: number | null;
  /** The month a periodic invoice covers (YYYY-MM). */
  period: string | null;
  creditsInvoiceId: number | null;
  reason: string | null;
  currency: string;
  pricesIncludeTax: boolean;
  issueDate: string;
  dueDate: string;
  totals: InvoiceTotals;
  lines: InvoiceLineDraft[];
  /** What it covers, each at most once ever: `shipment`, `order`, `charges` (an order's shipping). */
  sources: { kind: 'shipment' | 'order' | 'charges'; refId: number }[];
}

export interface PostedInvoice {
  id: number;
  number: string;
  draft: InvoiceDraft;
}

export interface PostOptions {
  /** Called after the numbers are taken and the rows written, before commit (tests force a failure here). */
  afterNumbering?: (numbers: string[]) => void | Promise<void>;
  /**
   * An issuer that answers every request at once (`immediate`, such as the built-in `local`): the
   * invoices are written already issued by it (its answer is known), which spares a run a second
   * write of every row. Default: none, the issuer is asked after commit.
   */
  issuedAtOnceBy?: string;
}

/**
 * Takes `count` numbers of a series and year: creates the sequence row or adds to it in one
 * statement (create-and-lock), then reads where it stands, which this transaction's own write
 * shows. The row stays locked until the transaction ends, so concurrent postings queue here; a
 * posting that rolls back gives its numbers back with its rows, and none is ever skipped. Returns
 * the first number taken.
 */
export async function takeNumbers(tx: Conn, series: string, year: number, count: number): Promise<number> {
  const upsert =
    dialectOf(tx) === 'mysql'
      ? 'INSERT INTO invoice_sequences (series, year, last_number) VALUES (?, ?, ?) ' +
        'ON DUPLICATE KEY UPDATE last_number = last_number + VALUES(last_number)'
      : 'INSERT INTO invoice_sequences (series, year, last_number) VALUES (?, ?, ?) ' +
        'ON CONFLICT (series, year) DO UPDATE SET last_number = last_number + excluded.last_number';
  await tx.raw(upsert, [series, year, count]);
  const [rows = []] = await rawRows(
    tx,
    'SELECT last_number FROM invoice_sequences WHERE series = ? AND year = ?',
    [series, year],
  );
  return Number(rows[0]!.last_number) - count + 1;
}

const INVOICE_COLUMNS = [
  'number',
  'series',
  'year',
  'seq',
  'type',
  'policy',
  'customer_id',
  'customer_code',
  'customer_name',
  'customer_tax_id',
  'billing_address',
  'seller',
  'language',
  'company_code',
  'order_id',
  'period',
  'credits_invoice_id',
  'reason',
  'currency',
  'prices_include_tax',
  'issue_date',
  'due_date',
  'subtotal',
  'discount',
  'shipping',
  'shipping_tax',
  'tax',
  'total',
  'created_at',
  'issuer',
  'issuer_serial',
  'issuer_status',
  'red_letter_status',
  'issuer_updated_at',
] as const;

const LINE_COLUMNS = [
  'invoice_id',
  'line_no',
  'order_id',
  'order_line_id',
  'shipment_id',
  'credits_line_id',
  'sku',
  'description',
  'quantity',
  'unit_price',
  'discount',
  'tax',
  'tax_class',
  'tax_code',
  'amount',
] as const;

/**
 * Rows per multi-row INSERT: 1,000 invoices of 34 columns are 34,000 bound values, within MySQL's
 * limit (65,535), so a run's page of 1,000 is one statement; SQLite allows 32,766: 500 there.
 */
const rowsPerInsert = (tx: Conn) => (dialectOf(tx) === 'mysql' ? 1000 : 500);

/**
 * Posts drafts in the caller's transaction: numbers them (the invoice sequence is the LAST lock of
 * the transaction, per the lock order: the caller has locked the orders, and whatever else it
 * needs, before this), writes the invoices, their lines and what they cover. A source covered
 * twice is a duplicate key and rolls the whole transaction back, numbers included.
 */
export async function postInvoices(
  tx: Tx,
  given: readonly InvoiceDraft[],
  options: PostOptions = {},
): Promise<PostedInvoice[]> {
  if (given.length === 0) return [];
  // Allowances of channel refunds that came before the orders were invoiced ride on their invoices.
  const { drafts, refundsOf } = await carryAllowances(tx, given);
  const now = dbTime();
  const ROWS_PER_INSERT = rowsPerInsert(tx);
  // Numbers per (series, year), the sequence rows taken in sorted order.
  const groups = new Map<string, { series: string; year: number; drafts: InvoiceDraft[] }>();
  for (const d of drafts) {
    const series = SERIES[d.type];
    const year = Number(d.issueDate.slice(0, 4));
    const key = `${series}\u0000${year}`;
    const g = groups.get(key) ?? { series, year, drafts: [] };
    g.drafts.push(d);
    groups.set(key, g);
  }
  const numbered: { number: string; series: string; year: number; seq: number; draft: InvoiceDraft }[] = [];
  for (const key of [...groups.keys()].sort()) {
    const g = groups.get(key)!;
    const first = await takeNumbers(tx, g.series, g.year, g.drafts.length);
    g.drafts.forEach((draft, i) => {
      const seq = first + i;
      numbered.push({
        number: formatInvoiceNumber(g.series, g.year, seq),
        series: g.series,
        year: g.year,
        seq,
        draft,
      });
    });
  }

  for (let i = 0; i < numbered.length; i += ROWS_PER_INSERT) {
    const chunk = numbered.slice(i, i + ROWS_PER_INSERT);
    await tx.raw(
      `INSERT INTO invoices (${INVOICE_COLUMNS.join(', ')}) VALUES ${placeholders(chunk.length, INVOICE_COLUMNS.length)}`,
      chunk.flatMap(({ number, series, year, seq, draft: d }) => [
        number,
        series,
        year,
        seq,
        d.type,
        d.policy,
        d.billTo.id,
        d.billTo.code,
        d.billTo.name,
        d.billTo.taxId,
        d.billTo.billingAddress === null || d.billTo.billingAddress === undefined
          ? null
          : JSON.stringify(d.billTo.billingAddress),
        JSON.stringify(d.seller),
        d.billTo.language,
        d.seller.code,
        d.orderId,
        d.period,
        d.creditsInvoiceId,
        d.reason,
        d.currency,
        d.pricesIncludeTax ? 1 : 0,
        d.issueDate,
        d.dueDate,
        d.totals.subtotal,
        d.totals.discount,
        d.totals.shipping,
        d.totals.shippingTax,
        d.totals.tax,
        d.totals.total,
        now,
        ...(options.issuedAtOnceBy === undefined
          ? [null, null, null, null, null]
          : [
              options.issuedAtOnceBy,
              serialOf(number),
              'issued',
              d.type === 'credit_note' ? 'confirmed' : null,
              now,
            ]),
      ]),
    );
  }
  const idOf = new Map<string, number>();
  for (let i = 0; i < numbered.length; i += ROWS_PER_INSERT) {
    const chunk = numbered.slice(i, i + ROWS_PER_INSERT);
    const [rows = []] = await rawRows(
      tx,
      `SELECT id, number FROM invoices WHERE number IN (${chunk.map(() => '?').join(', ')})`,
      chunk.map((n) => n.number),
    );
    for (const r of rows) idOf.set(String(r.number), Number(r.id));
  }

  const lineRows: unknown[][] = [];
  const sourceRows: unknown[][] = [];
  for (const n of numbered) {
    const id = idOf.get(n.number)!;
    n.draft.lines.forEach((l, i) => {
      lineRows.push([
        id,
        i + 1,
        l.orderId,
        l.orderLineId,
        l.shipmentId,
        l.creditsLineId,
        l.sku,
        l.description,
        l.quantity,
        l.unitPrice,
        l.discount,
        l.tax,
        l.taxClass,
        l.taxCode,
        l.amount,
      ]);
    });
    for (const s of n.draft.sources) sourceRows.push([s.kind, s.refId, id]);
  }
  const batch = new WriteBatch(tx);
  for (let i = 0; i < lineRows.length; i += ROWS_PER_INSERT) {
    const chunk = lineRows.slice(i, i + ROWS_PER_INSERT);
    batch.addSql(
      `INSERT INTO invoice_lines (${LINE_COLUMNS.join(', ')}) VALUES ${placeholders(chunk.length, LINE_COLUMNS.length)}`,
      chunk.flat(),
    );
  }
  for (let i = 0; i < sourceRows.length; i += ROWS_PER_INSERT) {
    const chunk = sourceRows.slice(i, i + ROWS_PER_INSERT);
    batch.addSql(
      `INSERT INTO invoice_sources (kind, ref_id, invoice_id) VALUES ${placeholders(chunk.length, 3)}`,
      chunk.flat(),
    );
  }
  await batch.flush();
  await options.afterNumbering?.(numbered.map((n) => n.number));
  // The one place posted invoices come out of a posting (runs, issue-now, credit notes alike).
  const posted = numbered.map((n) => ({ id: idOf.get(n.number)!, number: n.number, draft: n.draft }));
  await noteCarried(tx, posted, refundsOf);
  await afterInvoicesPosted(tx, posted);
  return posted;
}
