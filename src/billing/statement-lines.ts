import type { Readable } from 'node:stream';
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
  source: Source;
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

function toRead(source: Source, r: Row, dateOf: (at: string) => string): Read {
  if (source === 'invoice') {
    const kind = r.type === 'credit_note' ? 'credit_note' : 'invoice';
    const amount = Number(r.total);
    return {
      source,
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
      source,
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
    source,
    key: [at, Number(r.id)],
    line: {
      date: dateOf(at),
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

/** Rows to read at a time from a stream (and lines handed on at a time). */
const BATCH = 1000;

/**
 * A stream's rows in batches of what it holds (at most `max`): read synchronously while the stream
 * has rows, waiting only when it has none. (An async iterator of the stream waits once per row.)
 */
async function* rowBatches(stream: Readable, max: number): AsyncGenerator<Row[]> {
  let ended = false;
  let failed: Error | null = null;
  let wake: (() => void) | null = null;
  const onEnd = () => {
    ended = true;
    wake?.();
  };
  const onError = (err: Error) => {
    failed = err;
    wake?.();
  };
  const onReadable = () => wake?.();
  stream.on('end', onEnd);
  stream.on('error', onError);
  stream.on('readable', onReadable);
  try {
    for (;;) {
      if (failed) throw failed;
      const batch: Row[] = [];
      while (batch.length < max) {
        const r = stream.read() as Row | null;
        if (r === null) break;
        batch.push(r);
      }
      if (batch.length > 0) {
        yield batch;
        continue;
      }
      if (ended) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = null;
    }
  } finally {
    stream.off('end', onEnd);
    stream.off('error', onError);
    stream.off('readable', onReadable);
  }
}

/** A shipment's business date by its time to the minute: a period's shipments share a few thousand. */
function shipmentDates(timeZone: string) {
  const known = new Map<string, string>();
  return (at: string) => {
    const minute = at.slice(0, 16);
    let date = known.get(minute);
    if (date === undefined) {
      date = businessDate(`${at.replace(' ', 'T')}Z`, timeZone);
      if (known.size >= 100_000) known.clear();
      known.set(minute, date);
    }
    return date;
  };
}

/** One source's rows after `after`, in batches: streamed on MySQL when unbounded, else keyset pages of `pageSize`. */
async function* sourceBatches(
  conn: Conn,
  source: Source,
  scope: StatementScope,
  after: [string, number] | null,
  pageSize: number,
  limit: number | null,
): AsyncGenerator<Read[]> {
  const dateOf = shipmentDates(scope.timeZone);
  const toReads = (rows: Row[]) => rows.map((r) => toRead(source, r, dateOf));
  if (limit === null && dialectOf(conn) === 'mysql') {
    const stream = QUERIES[source](conn, scope, after).stream({
      highWaterMark: BATCH,
    } as never) as unknown as Readable;
    try {
      for await (const rows of rowBatches(stream, BATCH)) yield toReads(rows);
    } finally {
      // Closes the query when the reader stops early (a page of lines, an error).
      stream.destroy();
    }
    return;
  }
  let position = after;
  let left = limit ?? Number.POSITIVE_INFINITY;
  for (;;) {
    const size = Math.min(pageSize, left);
    if (size <= 0) return;
    const rows = (await QUERIES[source](conn, scope, position).limit(size)) as Row[];
    const reads = toReads(rows);
    if (reads.length > 0) {
      position = reads.at(-1)!.key;
      yield reads;
    }
    left -= rows.length;
    if (rows.length < size) return;
  }
}

const before = (a: Read, b: Read) =>
  a.line.date < b.line.date ||
  (a.line.date === b.line.date && LINE_RANK[a.line.kind] < LINE_RANK[b.line.kind]);

/** A line, with the source it came from and its key there (to resume after it). */
export type SourcedLine = Read;

/**
 * The lines in date order from `positions` on, in batches (the three sources merged batch by
 * batch, so that a reader of a million lines waits a few thousand times, not a million).
 * `limit`: at most this many lines; without it every line, streamed.
 */
export async function* statementLineBatches(
  conn: Conn,
  scope: StatementScope,
  options: { positions?: SourcePositions; limit?: number; pageSize?: number } = {},
): AsyncGenerator<SourcedLine[]> {
  const positions: SourcePositions = options.positions ?? { ...START };
  const limit = options.limit ?? null;
  const pageSize = options.pageSize ?? 5000;
  const sources: Source[] = ['shipment', 'invoice', 'payment'];
  const iterators = sources.map((s) => sourceBatches(conn, s, scope, positions[s], pageSize, limit));
  const batches: (Read[] | null)[] = [];
  const at: number[] = [];
  try {
    // One source after the other: SQLite's one connection cannot open them side by side.
    for (const it of iterators) {
      const n = await it.next();
      batches.push(n.done ? null : n.value);
      at.push(0);
    }
    let emitted = 0;
    for (;;) {
      const out: SourcedLine[] = [];
      let done = false;
      while (out.length < BATCH) {
        if (limit !== null && emitted >= limit) {
          done = true;
          break;
        }
        let pick = -1;
        let head: Read | null = null;
        for (let i = 0; i < batches.length; i++) {
          const b = batches[i];
          if (!b) continue;
          const h = b[at[i]!]!;
          if (head === null || before(h, head)) {
            pick = i;
            head = h;
          }
        }
        if (head === null) {
          done = true;
          break;
        }
        out.push(head);
        emitted++;
        if (++at[pick]! >= batches[pick]!.length) {
          const n = await iterators[pick]!.next();
          batches[pick] = n.done ? null : n.value;
          at[pick] = 0;
        }
      }
      if (out.length > 0) yield out;
      if (done) return;
    }
  } finally {
    await Promise.all(iterators.map((it) => it.return(undefined)));
  }
}

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
  for await (const batch of statementLineBatches(conn, scope, { ...options, positions: { ...positions } }))
    for (const read of batch) {
      positions[read.source] = read.key;
      yield read.line;
    }
}
