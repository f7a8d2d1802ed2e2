import type { Knex } from 'knex';
import { type Conn, dialectOf } from '../db/connection.js';
import { addDays, startOfDayUtc } from '../domain/invoice.js';
import { businessDate } from '../domain/pricing.js';
import { LINE_RANK, type StatementLineKind, signedAmount } from '../domain/statement.js';

/**
 * A statement's lines, read from the documents themselves in date order and never all at once:
 * shipments (for information, no money), invoices and credit notes, payments. Each source is read
 * in its own order (one streamed query each on MySQL, keyset pages on SQLite, whose one connection
 * cannot hold three open queries) and the three are merged by (date, rank).
 */

/** What a statement is read from: the customer, the dates, and the highest ids it was made from. */
export interface StatementScope {
  customerId: number;
  from: string;
  to: string;
  maxInvoiceId: number;
  maxPaymentId: number;
  maxShipmentId: number;
  /** Only this currency's lines (default: all). */
  currency?: string | undefined;
  /** The business time zone: a shipment's date is its business date. */
  timeZone: string;
}

export interface StatementLine {
  date: string;
  kind: StatementLineKind;
  /** The row's id in its own table (invoices, payments, shipments). */
  id: number;
  /** The invoice or credit note number, the payment's reference, the order's external id. */
  document: string;
  /** A credit note: the invoice it credits; a payment: its method; a shipment: the carrier. */
  detail: string | null;
  dueDate: string | null;
  currency: string;
  /** A shipment's units (null for money lines). */
  quantity: number | null;
  /** The document's amount as it stands (positive); 0 for a shipment. */
  amount: number;
  /** What it does to the balance: invoices +, credit notes and payments −, shipments 0. */
  signed: number;
}

/** Where each source stands: the last row read of it. */
export interface SourcePositions {
  invoice: [string, number] | null;
  payment: [string, number] | null;
  shipment: [string, number] | null;
}

export const START: SourcePositions = { invoice: null, payment: null, shipment: null };

type Row = Record<string, unknown>;
type Source = keyof SourcePositions;

interface Read {
  line: StatementLine;
  /** The row's own sort key, to resume after it. */
  key: [string, number];
}

function invoiceQuery(conn: Conn, s: StatementScope, after: [string, number] | null): Knex.QueryBuilder {
  const q = conn('invoices as i')
    .leftJoin('invoices as c', 'c.id', 'i.credits_invoice_id')
    .where('i.customer_id', s.customerId)
    .whereBetween('i.issue_date', [s.from, s.to])
    .where('i.id', '<=', s.maxInvoiceId)
    .select(
      'i.id',
      'i.type',
      'i.number',
      'i.issue_date',
      'i.due_date',
      'i.currency',
      'i.total',
      'c.number as credits',
    )
    .orderBy([
      { column: 'i.issue_date', order: 'asc' },
      { column: 'i.id', order: 'asc' },
    ]);
  if (s.currency) q.where('i.currency', s.currency);
  if (after)
    q.where((w) =>
      w
        .where('i.issue_date', '>', after[0])
        .orWhere((x) => x.where('i.issue_date', after[0]).where('i.id', '>', after[1])),
    );
  return q;
}

function paymentQuery(conn: Conn, s: StatementScope, after: [string, number] | null): Knex.QueryBuilder {
  const q = conn('payments')
    .where('customer_id', s.customerId)
    .whereBetween('received_on', [s.from, s.to])
    .where('id', '<=', s.maxPaymentId)
    .select('id', 'reference', 'received_on', 'method', 'currency', 'amount')
    .orderBy([
      { column: 'received_on', order: 'asc' },
      { column: 'id', order: 'asc' },
    ]);
  if (s.currency) q.where('currency', s.currency);
  if (after)
    q.where((w) =>
      w
        .where('received_on', '>', after[0])
        .orWhere((x) => x.where('received_on', after[0]).where('id', '>', after[1])),
    );
  return q;
}

function shipmentQuery(conn: Conn, s: StatementScope, after: [string, number] | null): Knex.QueryBuilder {
  const q = conn('shipments as s')
    .join('orders as o', 'o.id', 's.order_id')
    .where('o.customer_id', s.customerId)
    .where('s.created_at', '>=', startOfDayUtc(s.from, s.timeZone))
    .where('s.created_at', '<', startOfDayUtc(addDays(s.to, 1), s.timeZone))
    .where('s.id', '<=', s.maxShipmentId)
    .select(
      's.id',
      's.created_at',
      's.carrier',
      'o.external_id',
      'o.currency',
      conn.raw('(SELECT SUM(sl.quantity) FROM shipment_lines sl WHERE sl.shipment_id = s.id) AS quantity'),
    )
    .orderBy([
      { column: 's.created_at', order: 'asc' },
      { column: 's.id', order: 'asc' },
    ]);
  if (s.currency) q.where('o.currency', s.currency);
  if (after)
    q.where((w) =>
      w
        .where('s.created_at', '>', after[0])
        .orWhere((x) => x.where('s.created_at', after[0]).where('s.id', '>', after[1])),
    );
  return q;
}

const str = (v: unknown) => (v === null || v === undefined ? null : String(v));

function toRead(source: Source, r: Row, timeZone: string): Read {
  if (source === 'invoice') {
    const kind = r.type === 'credit_note' ? 'credit_note' : 'invoice';
    const amount = Number(r.total);
    return {
      key: [String(r.issue_date), Number(r.id)],
      line: {
        date: String(r.issue_date),
        kind,
        id: Number(r.id),
        document: String(r.number),
        detail: str(r.credits),
        dueDate: kind === 'invoice' ? String(r.due_date) : null,
        currency: String(r.currency),
        quantity: null,
        amount,
        signed: signedAmount(kind, amount),
      },
    };
  }
  if (source === 'payment') {
    const amount = Number(r.amount);
    return {
      key: [String(r.received_on), Number(r.id)],
      line: {
        date: String(r.received_on),
        kind: 'payment',
        id: Number(r.id),
        document: String(r.reference),
        detail: str(r.method),
        dueDate: null,
        currency: String(r.currency),
        quantity: null,
        amount,
        signed: signedAmount('payment', amount),
      },
    };
  }
  const at = String(r.created_at);
  return {
    key: [at, Number(r.id)],
    line: {
      date: businessDate(`${at.replace(' ', 'T')}Z`, timeZone),
      kind: 'shipment',
      id: Number(r.id),
      document: String(r.external_id),
      detail: str(r.carrier),
      dueDate: null,
      currency: String(r.currency),
      quantity: Number(r.quantity ?? 0),
      amount: 0,
      signed: 0,
    },
  };
}

const QUERIES = { invoice: invoiceQuery, payment: paymentQuery, shipment: shipmentQuery } as const;

/** One source's rows after `after`: streamed on MySQL when unbounded, else keyset pages of `pageSize`. */
async function* sourceRows(
  conn: Conn,
  source: Source,
  scope: StatementScope,
  after: [string, number] | null,
  pageSize: number,
  limit: number | null,
): AsyncGenerator<Read> {
  if (limit === null && dialectOf(conn) === 'mysql') {
    const stream = QUERIES[source](conn, scope, after).stream({ highWaterMark: 1000 } as never);
    try {
      for await (const r of stream as unknown as AsyncIterable<Row>) yield toRead(source, r, scope.timeZone);
    } finally {
      // Closes the query when the reader stops early (a page of lines, an error).
      (stream as unknown as { destroy?: () => void }).destroy?.();
    }
    return;
  }
  let position = after;
  let left = limit ?? Number.POSITIVE_INFINITY;
  for (;;) {
    const size = Math.min(pageSize, left);
    if (size <= 0) return;
    const rows = (await QUERIES[source](conn, scope, position).limit(size)) as Row[];
    for (const r of rows) {
      const read = toRead(source, r, scope.timeZone);
      position = read.key;
      yield read;
    }
    left -= rows.length;
    if (rows.length < size) return;
  }
}

const before = (a: Read, b: Read) =>
  a.line.date < b.line.date ||
  (a.line.date === b.line.date && LINE_RANK[a.line.kind] < LINE_RANK[b.line.kind]);

/**
 * The lines in date order from `positions` on; `positions` (when given) is moved past each line as
 * it is yielded, to resume from. `limit`: at most this many lines (a page of the API); without it
 * every line, streamed.
 */
export async function* statementLines(
  conn: Conn,
  scope: StatementScope,
  options: { positions?: SourcePositions; limit?: number; pageSize?: number } = {},
): AsyncGenerator<StatementLine> {
  const positions: SourcePositions = options.positions ?? { ...START };
  const limit = options.limit ?? null;
  const pageSize = options.pageSize ?? 5000;
  const sources: Source[] = ['shipment', 'invoice', 'payment'];
  const iterators = sources.map((s) => sourceRows(conn, s, scope, positions[s], pageSize, limit));
  const heads: (Read | null)[] = [];
  try {
    for (const it of iterators) {
      const n = await it.next();
      heads.push(n.done ? null : n.value);
    }
    let emitted = 0;
    for (;;) {
      if (limit !== null && emitted >= limit) return;
      let pick = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (h && (pick < 0 || before(h, heads[pick]!))) pick = i;
      }
      if (pick < 0) return;
      const read = heads[pick]!;
      positions[sources[pick]!] = read.key;
      emitted++;
      yield read.line;
      const n = await iterators[pick]!.next();
      heads[pick] = n.done ? null : n.value;
    }
  } finally {
    await Promise.all(iterators.map((it) => it.return(undefined)));
  }
}
