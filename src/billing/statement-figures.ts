import { type Conn, rawRows } from '../db/connection.js';
import { addDays, startOfDayUtc } from '../domain/invoice.js';
import { ageingBounds } from '../domain/statement.js';

/**
 * A statement's figures per currency, summed by the database (never by reading every line): the
 * balance before the period (and up to the previous statement's end), what the period invoiced,
 * credited and received, its lines, and the ageing of the invoices open at its end.
 */

type Row = Record<string, unknown>;

export interface Ageing {
  current: number;
  d1_30: number;
  d31_60: number;
  d61_90: number;
  over90: number;
  /** Closing balance minus the open invoices: payments on account, invoices credited beyond what was open. */
  unapplied: number;
}

export interface CurrencyFigures {
  currency: string;
  opening: number;
  invoiced: number;
  credited: number;
  paid: number;
  closing: number;
  /** Lines in the period: shipments, invoices, credit notes, payments. */
  lines: number;
  ageing: Ageing;
  /** The previous statement's closing in this currency (null without one). */
  previousClosing: number | null;
  /** That closing as the documents give it now. */
  recomputedPreviousClosing: number | null;
  finding: StatementFinding | null;
}

/** What checking the opening balance found. */
export interface StatementFinding {
  kind: 'previous_closing_differs';
  previousStatementId: number;
  previousClosing: number;
  documentsSay: number;
  difference: number;
  message: string;
}

export interface PreviousStatement {
  id: number;
  to: string;
  closing: ReadonlyMap<string, number>;
}

export interface Watermarks {
  maxInvoiceId: number;
  maxPaymentId: number;
  maxShipmentId: number;
}

export interface StatementFigures extends Watermarks {
  currencies: CurrencyFigures[];
  lineCount: number;
}

/** The highest ids of the customer's invoices, payments and shipments: what a statement is made from. */
export async function watermarks(conn: Conn, customerId: number): Promise<Watermarks> {
  const [[i] = [], [p] = [], [s] = []] = await rawRows(
    conn,
    'SELECT MAX(id) AS m FROM invoices WHERE customer_id = ?; ' +
      'SELECT MAX(id) AS m FROM payments WHERE customer_id = ?; ' +
      'SELECT MAX(s.id) AS m FROM shipments s JOIN orders o ON o.id = s.order_id WHERE o.customer_id = ?',
    [customerId, customerId, customerId],
  );
  return {
    maxInvoiceId: Number(i?.m ?? 0),
    maxPaymentId: Number(p?.m ?? 0),
    maxShipmentId: Number(s?.m ?? 0),
  };
}

const n = (v: unknown) => Number(v ?? 0);

/**
 * The figures of a statement of `customerId` over `from`..`to`, made from the documents up to
 * `marks`. The opening is the previous statement's closing plus whatever is dated between its end
 * and `from`; without a previous statement, the balance of everything dated before `from`. The
 * previous closing is checked against the documents as they are now: a difference (a document
 * posted late into a period already stated) is a finding.
 */
export async function statementFigures(
  conn: Conn,
  input: {
    customerId: number;
    from: string;
    to: string;
    timeZone: string;
    marks: Watermarks;
    previous: PreviousStatement | null;
  },
): Promise<StatementFigures> {
  const { customerId: c, from, to, marks, previous } = input;
  const prevTo = previous?.to ?? '0000-00-00';
  const a = ageingBounds(to);
  const shipFrom = startOfDayUtc(from, input.timeZone);
  const shipTo = startOfDayUtc(addDays(to, 1), input.timeZone);
  const signedTotal = "CASE WHEN type = 'invoice' THEN total ELSE -total END";
  const [invoices = [], payments = [], shipments = [], ageing = []] = await rawRows(
    conn,
    'SELECT currency, ' +
      `SUM(CASE WHEN issue_date < ? THEN ${signedTotal} ELSE 0 END) AS before_from, ` +
      `SUM(CASE WHEN issue_date <= ? THEN ${signedTotal} ELSE 0 END) AS through_prev, ` +
      "SUM(CASE WHEN issue_date >= ? AND issue_date <= ? AND type = 'invoice' THEN total ELSE 0 END) AS invoiced, " +
      "SUM(CASE WHEN issue_date >= ? AND issue_date <= ? AND type = 'credit_note' THEN total ELSE 0 END) AS credited, " +
      'SUM(CASE WHEN issue_date >= ? AND issue_date <= ? THEN 1 ELSE 0 END) AS line_count ' +
      'FROM invoices WHERE customer_id = ? AND id <= ? AND issue_date <= ? GROUP BY currency; ' +
      'SELECT currency, ' +
      'SUM(CASE WHEN received_on < ? THEN amount ELSE 0 END) AS before_from, ' +
      'SUM(CASE WHEN received_on <= ? THEN amount ELSE 0 END) AS through_prev, ' +
      'SUM(CASE WHEN received_on >= ? THEN amount ELSE 0 END) AS paid, ' +
      'SUM(CASE WHEN received_on >= ? THEN 1 ELSE 0 END) AS line_count ' +
      'FROM payments WHERE customer_id = ? AND id <= ? AND received_on <= ? GROUP BY currency; ' +
      'SELECT o.currency, COUNT(*) AS line_count FROM shipments s JOIN orders o ON o.id = s.order_id ' +
      'WHERE o.customer_id = ? AND s.id <= ? AND s.created_at >= ? AND s.created_at < ? GROUP BY o.currency; ' +
      'SELECT currency, ' +
      'SUM(CASE WHEN open_amount > 0 AND due_date >= ? THEN open_amount ELSE 0 END) AS current_, ' +
      'SUM(CASE WHEN open_amount > 0 AND due_date < ? AND due_date >= ? THEN open_amount ELSE 0 END) AS d30, ' +
      'SUM(CASE WHEN open_amount > 0 AND due_date < ? AND due_date >= ? THEN open_amount ELSE 0 END) AS d60, ' +
      'SUM(CASE WHEN open_amount > 0 AND due_date < ? AND due_date >= ? THEN open_amount ELSE 0 END) AS d90, ' +
      'SUM(CASE WHEN open_amount > 0 AND due_date < ? THEN open_amount ELSE 0 END) AS over90 ' +
      'FROM (SELECT i.currency, i.due_date, i.total - COALESCE(pa.paid, 0) - COALESCE(cn.credited, 0) AS open_amount ' +
      'FROM invoices i ' +
      'LEFT JOIN (SELECT a.invoice_id, SUM(a.amount) AS paid FROM payment_allocations a JOIN invoices x ON x.id = a.invoice_id ' +
      'WHERE x.customer_id = ? AND a.applied_on <= ? GROUP BY a.invoice_id) pa ON pa.invoice_id = i.id ' +
      "LEFT JOIN (SELECT credits_invoice_id, SUM(total) AS credited FROM invoices WHERE customer_id = ? AND type = 'credit_note' " +
      'AND issue_date <= ? AND id <= ? GROUP BY credits_invoice_id) cn ON cn.credits_invoice_id = i.id ' +
      "WHERE i.customer_id = ? AND i.type = 'invoice' AND i.issue_date <= ? AND i.id <= ?) t GROUP BY currency",
    [
      from,
      prevTo,
      from,
      to,
      from,
      to,
      from,
      to,
      c,
      marks.maxInvoiceId,
      to,
      from,
      prevTo,
      from,
      from,
      c,
      marks.maxPaymentId,
      to,
      c,
      marks.maxShipmentId,
      shipFrom,
      shipTo,
      a.current,
      a.current,
      a.d30,
      a.d30,
      a.d60,
      a.d60,
      a.d90,
      a.d90,
      c,
      to,
      c,
      to,
      marks.maxInvoiceId,
      c,
      to,
      marks.maxInvoiceId,
    ],
  );
  const byCurrency = (rows: Row[]) => new Map(rows.map((r) => [String(r.currency), r]));
  const inv = byCurrency(invoices);
  const pay = byCurrency(payments);
  const ship = byCurrency(shipments);
  const age = byCurrency(ageing);
  const all = new Set([...inv.keys(), ...pay.keys(), ...ship.keys(), ...(previous?.closing.keys() ?? [])]);
  const currencies: CurrencyFigures[] = [];
  for (const currency of [...all].sort()) {
    const i = inv.get(currency);
    const p = pay.get(currency);
    const beforeFrom = n(i?.before_from) - n(p?.before_from);
    const throughPrev = n(i?.through_prev) - n(p?.through_prev);
    let opening = beforeFrom;
    let previousClosing: number | null = null;
    let recomputed: number | null = null;
    let finding: StatementFinding | null = null;
    if (previous) {
      previousClosing = previous.closing.get(currency) ?? 0;
      recomputed = throughPrev;
      // The previous closing, carried on by whatever is dated between the two statements.
      opening = previousClosing + (beforeFrom - throughPrev);
      if (recomputed !== previousClosing)
        finding = {
          kind: 'previous_closing_differs',
          previousStatementId: previous.id,
          previousClosing,
          documentsSay: recomputed,
          difference: recomputed - previousClosing,
          message: `the previous statement closed at ${previousClosing} ${currency}; the documents dated up to ${previous.to} now add up to ${recomputed}`,
        };
    }
    const invoiced = n(i?.invoiced);
    const credited = n(i?.credited);
    const paid = n(p?.paid);
    const lines = n(i?.line_count) + n(p?.line_count) + n(ship.get(currency)?.line_count);
    const closing = opening + invoiced - credited - paid;
    const g = age.get(currency);
    const buckets = {
      current: n(g?.current_),
      d1_30: n(g?.d30),
      d31_60: n(g?.d60),
      d61_90: n(g?.d90),
      over90: n(g?.over90),
    };
    const open = buckets.current + buckets.d1_30 + buckets.d31_60 + buckets.d61_90 + buckets.over90;
    // A currency with nothing in it (no lines, nothing owed either way) is left out.
    if (lines === 0 && opening === 0 && closing === 0 && open === 0 && !finding) continue;
    currencies.push({
      currency,
      opening,
      invoiced,
      credited,
      paid,
      closing,
      lines,
      ageing: { ...buckets, unapplied: closing - open },
      previousClosing,
      recomputedPreviousClosing: recomputed,
      finding,
    });
  }
  return { ...marks, currencies, lineCount: currencies.reduce((s, x) => s + x.lines, 0) };
}
