import path from 'node:path';
import type { Logger } from 'pino';
import { type Db, dialectOf, rawRows } from '../db/connection.js';
import { withTransaction } from '../db/retry.js';
import { addDays, isLastDayOfMonth, monthBounds, startOfDayUtc } from '../domain/invoice.js';
import { lockForBilling } from './billing-context.js';
import { DOCUMENT_SUFFIX, type DocumentSource, documentOfPosted, writeInvoiceFiles } from './documents.js';
import { submitInvoices } from './einvoicing.js';
import { type InvoiceView, loadInvoices } from './invoice-query.js';
import { INVOICEABLE_ORDER_STATUSES, orderDraft, periodicDraft, shipmentDrafts } from './invoicing.js';
import type { InvoiceIssuer } from './issuers/contract.js';
import { localIssuer } from './issuers/local.js';
import { type PostedInvoice, postInvoices } from './posting.js';

export interface InvoicingRunOptions {
  /** The business date the run covers (`YYYY-MM-DD`); it is the issue date of what it issues. */
  period: string;
  /** The business time zone: a date ends at midnight there. */
  timeZone: string;
  /** Where the run's documents go (one folder per run). */
  outputDir: string;
  log: Logger;
  progress?: (done: number, total: number) => void;
  /** Default: the built-in `local` issuer. */
  issuer?: InvoiceIssuer;
  /** Write a document per invoice (default true). */
  documents?: boolean;
  /** Shipments or orders per posting transaction (default 1000). */
  chunkSize?: number;
}

export interface InvoicingRunResult {
  counts: { invoices: number; shipments: number; lines: number };
  files: string[];
  /** Documents written by this run (also those of invoices issued elsewhere). */
  documents: number;
  /**
   * Milliseconds from the start: `posting` when the last posting committed, `total` when the last
   * document and e-invoice were done; `documents` is the time the document step itself was busy
   * (it runs beside the postings, so it overlaps them).
   */
  timings: { posting: number; documents: number; total: number };
}

const ON_SHIPMENT = "COALESCE(c.invoice_policy, 'on_shipment') = 'on_shipment'";
const NOT_INVOICED_SHIPMENT =
  "NOT EXISTS (SELECT 1 FROM invoice_sources x WHERE x.kind = 'shipment' AND x.ref_id = s.id) " +
  "AND NOT EXISTS (SELECT 1 FROM invoice_sources y WHERE y.kind = 'order' AND y.ref_id = s.order_id)";
const STATUSES = INVOICEABLE_ORDER_STATUSES.map((s) => `'${s}'`).join(', ');

/**
 * Issues what is due for one business date, exactly once however often it runs and however many
 * daemons run it at the same time:
 * - customers `on_shipment` (and orders without a trade customer): one invoice per shipment made
 *   up to the end of the date;
 * - customers `periodic`, when the date is the last day of a month: one invoice per customer (and
 *   currency) over its shipments up to the end of that month;
 * - customers `on_order`: one invoice of the ordered quantities of each confirmed order.
 * Every posting transaction locks its orders first and skips what is invoiced already, so a second
 * run (or a second daemon waiting on the same locks) issues nothing twice; the unique key on what
 * an invoice covers is the backstop. Documents go to `outputDir`; the issuer gets each invoice.
 */
export async function issueDueInvoices(db: Db, options: InvoicingRunOptions): Promise<InvoicingRunResult> {
  const { period, timeZone, log } = options;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(period)) throw new Error(`period ${period} is not a date (YYYY-MM-DD)`);
  const started = performance.now();
  const chunk = options.chunkSize ?? 1000;
  const end = startOfDayUtc(addDays(period, 1), timeZone);
  const month = isLastDayOfMonth(period) ? period.slice(0, 7) : null;
  const monthEnd = month ? startOfDayUtc(monthBounds(period).next, timeZone) : null;

  const [[shipCount] = [], [periodicCount] = [], [orderCount] = []] = await rawRows(
    db,
    'SELECT COUNT(*) AS n FROM shipments s JOIN orders o ON o.id = s.order_id LEFT JOIN customers c ON c.id = o.customer_id ' +
      `WHERE s.created_at < ? AND ${ON_SHIPMENT} AND ${NOT_INVOICED_SHIPMENT}; ` +
      'SELECT COUNT(*) AS n FROM shipments s JOIN orders o ON o.id = s.order_id JOIN customers c ON c.id = o.customer_id ' +
      `WHERE s.created_at < ? AND c.invoice_policy = 'periodic' AND ${NOT_INVOICED_SHIPMENT}; ` +
      "SELECT COUNT(*) AS n FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.invoice_policy = 'on_order' " +
      `AND o.status IN (${STATUSES}) AND NOT EXISTS (SELECT 1 FROM invoice_sources y WHERE y.kind = 'order' AND y.ref_id = o.id)`,
    [end, monthEnd ?? '0000'],
  );
  const total =
    Number(shipCount?.n ?? 0) + (month ? Number(periodicCount?.n ?? 0) : 0) + Number(orderCount?.n ?? 0);
  let done = 0;
  options.progress?.(0, total);
  const counts = { invoices: 0, shipments: 0, lines: 0 };
  const files: string[] = [];
  const followUp = documentStep(db, options, files);
  // An issuer that answers at once: its answer goes in with the rows.
  const issuer = options.issuer ?? localIssuer;
  const postOptions = issuer.immediate ? { issuedAtOnceBy: issuer.name } : {};
  const after = async (posted: PostedInvoice[], covered: number) => {
    counts.invoices += posted.length;
    counts.shipments += posted.reduce(
      (n, p) => n + p.draft.sources.filter((s) => s.kind === 'shipment').length,
      0,
    );
    counts.lines += posted.reduce((n, p) => n + p.draft.lines.length, 0);
    done = Math.min(total, done + covered);
    options.progress?.(done, total);
    await followUp.add(posted);
  };

  // On shipment: shipments in id order, a page per transaction (keyset on the shipment id).
  for (let lastId = 0; ; ) {
    const [rows = []] = await rawRows(
      db,
      'SELECT s.id, s.order_id FROM shipments s JOIN orders o ON o.id = s.order_id LEFT JOIN customers c ON c.id = o.customer_id ' +
        `WHERE s.id > ? AND s.created_at < ? AND ${ON_SHIPMENT} AND ${NOT_INVOICED_SHIPMENT} ORDER BY s.id LIMIT ${chunk}`,
      [lastId, end],
    );
    if (rows.length === 0) break;
    lastId = Number(rows.at(-1)!.id);
    const shipments = rows.map((r) => ({ shipmentId: Number(r.id), orderId: Number(r.order_id) }));
    const posted = await withTransaction(db, async (tx) => {
      const ctx = await lockForBilling(
        tx,
        shipments.map((s) => s.orderId),
        shipments.map((s) => s.shipmentId),
      );
      return postInvoices(tx, shipmentDrafts(ctx, shipments, period), postOptions);
    });
    await after(posted, rows.length);
  }

  // Periodic: on the month's last day, one invoice per customer over the month's shipments;
  // customers packed into transactions of about `chunk` shipments (a big one alone).
  if (month && monthEnd) {
    const [customers = []] = await rawRows(
      db,
      'SELECT o.customer_id, COUNT(*) AS n FROM shipments s JOIN orders o ON o.id = s.order_id JOIN customers c ON c.id = o.customer_id ' +
        `WHERE s.created_at < ? AND c.invoice_policy = 'periodic' AND ${NOT_INVOICED_SHIPMENT} GROUP BY o.customer_id ORDER BY o.customer_id`,
      [monthEnd],
    );
    const groups: number[][] = [];
    let size = 0;
    for (const c of customers) {
      const n = Number(c.n);
      if (groups.length === 0 || size + n > chunk) {
        groups.push([]);
        size = 0;
      }
      groups.at(-1)!.push(Number(c.customer_id));
      size += n;
    }
    for (const group of groups) {
      const [rows = []] = await rawRows(
        db,
        'SELECT s.id, s.order_id FROM shipments s JOIN orders o ON o.id = s.order_id ' +
          `WHERE o.customer_id IN (${group.map(() => '?').join(', ')}) AND s.created_at < ? AND ${NOT_INVOICED_SHIPMENT} ORDER BY s.id`,
        [...group, monthEnd],
      );
      const shipments = rows.map((r) => ({ shipmentId: Number(r.id), orderId: Number(r.order_id) }));
      const posted = await withTransaction(db, async (tx) => {
        const ctx = await lockForBilling(
          tx,
          shipments.map((s) => s.orderId),
          shipments.map((s) => s.shipmentId),
        );
        // One invoice per customer and currency (a customer trading in two gets two), only for
        // a customer still periodic when locked (the policy is read with the orders).
        const invoiceOf = new Map<string, { customer: number; mine: typeof shipments }>();
        for (const s of shipments) {
          const o = ctx.orders.get(s.orderId);
          if (!o || o.customerId === null || o.policy !== 'periodic') continue;
          const key = `${o.customerId}\u0000${o.currency}`;
          const entry = invoiceOf.get(key) ?? { customer: o.customerId, mine: [] };
          entry.mine.push(s);
          invoiceOf.set(key, entry);
        }
        // Numbered in customer order, as one customer per transaction would be.
        const drafts = [...invoiceOf.values()]
          .sort((a, b) => a.customer - b.customer)
          .map(({ mine }) => periodicDraft(ctx, mine, month, period))
          .filter((d) => d !== null);
        return postInvoices(tx, drafts, postOptions);
      });
      await after(posted, rows.length);
    }
  }

  // On order: confirmed orders of on_order customers, a page per transaction.
  for (let lastId = 0; ; ) {
    const [rows = []] = await rawRows(
      db,
      "SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.invoice_policy = 'on_order' " +
        `AND o.id > ? AND o.status IN (${STATUSES}) AND NOT EXISTS (SELECT 1 FROM invoice_sources y WHERE y.kind = 'order' AND y.ref_id = o.id) ` +
        `ORDER BY o.id LIMIT ${chunk}`,
      [lastId],
    );
    if (rows.length === 0) break;
    const ids = rows.map((r) => Number(r.id));
    lastId = ids.at(-1)!;
    const posted = await withTransaction(db, async (tx) => {
      const ctx = await lockForBilling(tx, ids);
      const drafts = ids
        .filter((id) => ctx.orders.get(id)?.policy === 'on_order')
        .map((id) => orderDraft(ctx, id, period))
        .filter((d) => d !== null);
      return postInvoices(tx, drafts, postOptions);
    });
    await after(posted, ids.length);
  }
  const posting = performance.now() - started;
  await followUp.drain();

  // Invoices and credit notes issued elsewhere whose document or e-invoice is still missing (a
  // credit note made by a cancellation, a process that stopped between commit and file).
  for (let lastId = 0; ; ) {
    const [rows = []] = await rawRows(
      db,
      `SELECT id FROM invoices WHERE id > ? AND (${options.documents === false ? '1 = 0' : 'document IS NULL'} OR issuer_status IS NULL) ORDER BY id LIMIT ${chunk}`,
      [lastId],
    );
    if (rows.length === 0) break;
    lastId = Number(rows.at(-1)!.id);
    const views = await loadInvoices(
      db,
      rows.map((r) => Number(r.id)),
    );
    if (options.documents !== false) {
      const missing = views.filter((v) => v.document === null);
      await recordDocuments(db, await writeDocuments(options.outputDir, missing, files));
      followUp.stats.documents += missing.length;
    }
    await submitInvoices(
      db,
      options.issuer ?? localIssuer,
      views.filter((v) => v.einvoice.status === null).map((v) => v.id),
    );
  }

  options.progress?.(total, total);
  const timings = {
    posting: Math.round(posting),
    documents: Math.round(followUp.stats.busyMs),
    total: Math.round(performance.now() - started),
  };
  log.info(
    { period, ...counts, files: files.length, documents: followUp.stats.documents, timings },
    'invoicing run done',
  );
  return { counts, files, documents: followUp.stats.documents, timings };
}

/** Postings whose documents may wait at most: beyond that, the next posting waits for them. */
const MAX_WAITING = 3;

/**
 * The step after each posting commits: its documents, then the issuer. It runs beside the next
 * postings (writing files while the database posts the next page), one batch after another; a
 * posting waits only when `MAX_WAITING` batches are behind. A failure is raised at the next `add`
 * or at `drain`; invoices whose document or e-invoice went missing that way are caught up by the
 * run's last loop (and by the next run).
 */
function documentStep(db: Db, options: InvoicingRunOptions, files: string[]) {
  const waiting: Promise<void>[] = [];
  let failure: unknown = null;
  let tail: Promise<void> = Promise.resolve();
  const stats = { documents: 0, busyMs: 0 };
  const issuer = options.issuer ?? localIssuer;
  const run = async (posted: readonly PostedInvoice[]) => {
    const t = performance.now();
    try {
      const ids = posted.map((p) => p.id);
      if (options.documents === false) {
        if (!issuer.immediate) await submitInvoices(db, issuer, ids);
        return;
      }
      const docs = posted.map((p) => documentOfPosted(p));
      await writeDocuments(
        options.outputDir,
        posted.flatMap((p, i) => (docs[i] ? [{ id: p.id, doc: docs[i] }] : [])),
        files,
      );
      // Credit notes print their invoice's number: read back.
      const views = await loadInvoices(
        db,
        posted.filter((_, i) => docs[i] === null).map((p) => p.id),
      );
      await writeDocuments(options.outputDir, views, files);
      stats.documents += posted.length;
      await recordDocumentNames(db, ids);
      // An issuer that answers at once did so in the posting (`issuedAtOnceBy`); this finds nothing.
      if (!issuer.immediate) await submitInvoices(db, issuer, ids);
    } catch (err) {
      failure ??= err;
    } finally {
      stats.busyMs += performance.now() - t;
    }
  };
  return {
    stats,
    async add(posted: readonly PostedInvoice[]) {
      if (failure) throw failure;
      if (posted.length === 0) return;
      tail = tail.then(() => run(posted));
      const p = tail;
      waiting.push(p);
      void p.finally(() => waiting.splice(waiting.indexOf(p), 1));
      while (waiting.length > MAX_WAITING) await waiting[0];
    },
    async drain() {
      await tail;
      if (failure) throw failure;
    },
  };
}

/** Writes documents (an invoice view, or `{ id, doc }` of a posting) and returns what to record. */
async function writeDocuments(
  dir: string,
  items: readonly ({ id: number; doc: DocumentSource } | InvoiceView)[],
  files: string[],
): Promise<{ id: number; name: string }[]> {
  if (items.length === 0) return [];
  const docs = items.map((item) => ('doc' in item ? item.doc : item));
  const written = await writeInvoiceFiles(dir, docs);
  files.push(...written);
  return items.map((item, i) => ({ id: item.id, name: path.basename(written[i]!) }));
}

/**
 * Notes that the invoices' documents were written by this run, whose files are always
 * `<number>.xlsx` (one statement per 1000, no name per row to send).
 */
async function recordDocumentNames(db: Db, ids: readonly number[]): Promise<void> {
  const name = dialectOf(db) === 'mysql' ? 'CONCAT(number, ?)' : 'number || ?';
  for (let i = 0; i < ids.length; i += 1000) {
    const part = ids.slice(i, i + 1000);
    await db.raw(`UPDATE invoices SET document = ${name} WHERE id IN (${part.map(() => '?').join(', ')})`, [
      DOCUMENT_SUFFIX,
      ...part,
    ]);
  }
}

/** Notes each invoice's document file name (one statement per 1000). */
export async function recordDocuments(
  db: Db,
  written: readonly { id: number; name: string }[],
): Promise<void> {
  for (let i = 0; i < written.length; i += 1000) {
    const part = written.slice(i, i + 1000);
    await db.raw(
      `UPDATE invoices SET document = CASE id ${part.map(() => 'WHEN ? THEN ?').join(' ')} END WHERE id IN (${part.map(() => '?').join(', ')})`,
      [...part.flatMap((w) => [w.id, w.name]), ...part.map((w) => w.id)],
    );
  }
}
