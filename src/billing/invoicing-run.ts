import path from 'node:path';
import type { Logger } from 'pino';
import { type Db, rawRows } from '../db/connection.js';
import { withTransaction } from '../db/retry.js';
import { addDays, isLastDayOfMonth, monthBounds, startOfDayUtc } from '../domain/invoice.js';
import { lockForBilling } from './billing-context.js';
import { writeInvoiceFile } from './documents.js';
import { submitInvoices } from './einvoicing.js';
import { loadInvoices } from './invoice-query.js';
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
  /** Shipments or orders per posting transaction (default 500). */
  chunkSize?: number;
}

export interface InvoicingRunResult {
  counts: { invoices: number; shipments: number; lines: number };
  files: string[];
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
  const chunk = options.chunkSize ?? 500;
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
  const after = async (posted: PostedInvoice[], covered: number) => {
    counts.invoices += posted.length;
    counts.shipments += posted.reduce(
      (n, p) => n + p.draft.sources.filter((s) => s.kind === 'shipment').length,
      0,
    );
    counts.lines += posted.reduce((n, p) => n + p.draft.lines.length, 0);
    await finish(db, options, posted, files);
    done = Math.min(total, done + covered);
    options.progress?.(done, total);
  };

  // On shipment: shipments in id order, a chunk per transaction.
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
      return postInvoices(tx, shipmentDrafts(ctx, shipments, period));
    });
    await after(posted, rows.length);
  }

  // Periodic: on the month's last day, one invoice per customer over the month's shipments.
  if (month && monthEnd) {
    const [customers = []] = await rawRows(
      db,
      'SELECT DISTINCT o.customer_id FROM shipments s JOIN orders o ON o.id = s.order_id JOIN customers c ON c.id = o.customer_id ' +
        `WHERE s.created_at < ? AND c.invoice_policy = 'periodic' AND ${NOT_INVOICED_SHIPMENT} ORDER BY o.customer_id`,
      [monthEnd],
    );
    for (const { customer_id } of customers) {
      const [rows = []] = await rawRows(
        db,
        'SELECT s.id, s.order_id FROM shipments s JOIN orders o ON o.id = s.order_id ' +
          `WHERE o.customer_id = ? AND s.created_at < ? AND ${NOT_INVOICED_SHIPMENT} ORDER BY s.id`,
        [customer_id, monthEnd],
      );
      const shipments = rows.map((r) => ({ shipmentId: Number(r.id), orderId: Number(r.order_id) }));
      const posted = await withTransaction(db, async (tx) => {
        const ctx = await lockForBilling(
          tx,
          shipments.map((s) => s.orderId),
          shipments.map((s) => s.shipmentId),
        );
        // Orders of one currency per invoice: a customer trading in two gets two.
        const drafts = [];
        for (const currency of new Set([...ctx.orders.values()].map((o) => o.currency))) {
          const mine = shipments.filter((s) => ctx.orders.get(s.orderId)?.currency === currency);
          const d = periodicDraft(ctx, mine, month, period);
          if (d) drafts.push(d);
        }
        // Only a customer still periodic when locked (the policy is read with the orders).
        return postInvoices(
          tx,
          drafts.filter((d) => d.billTo.id === Number(customer_id)),
        );
      });
      await after(posted, rows.length);
    }
  }

  // On order: confirmed orders of on_order customers, a chunk per transaction.
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
      return postInvoices(tx, drafts);
    });
    await after(posted, ids.length);
  }

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
    await finish(
      db,
      { ...options, documents: options.documents !== false },
      views.filter((v) => v.document === null).map((v) => ({ id: v.id })),
      files,
    );
    await submitInvoices(
      db,
      options.issuer ?? localIssuer,
      views.filter((v) => v.einvoice.status === null).map((v) => v.id),
    );
  }

  options.progress?.(total, total);
  log.info({ period, ...counts, files: files.length }, 'invoicing run done');
  return { counts, files };
}

/** After a posting commits: the documents, then the issuer. */
async function finish(
  db: Db,
  options: InvoicingRunOptions,
  posted: readonly { id: number }[],
  files: string[],
): Promise<void> {
  if (posted.length === 0) return;
  const ids = posted.map((p) => p.id);
  if (options.documents !== false) {
    const views = await loadInvoices(db, ids);
    const written: { id: number; name: string }[] = [];
    for (const v of views) {
      const file = await writeInvoiceFile(options.outputDir, v);
      files.push(file);
      written.push({ id: v.id, name: path.basename(file) });
    }
    await recordDocuments(db, written);
  }
  await submitInvoices(db, options.issuer ?? localIssuer, ids);
}

/** Notes each invoice's document file name (one statement per 500). */
export async function recordDocuments(
  db: Db,
  written: readonly { id: number; name: string }[],
): Promise<void> {
  for (let i = 0; i < written.length; i += 500) {
    const part = written.slice(i, i + 500);
    await db.raw(
      `UPDATE invoices SET document = CASE id ${part.map(() => 'WHEN ? THEN ?').join(' ')} END WHERE id IN (${part.map(() => '?').join(', ')})`,
      [...part.flatMap((w) => [w.id, w.name]), ...part.map((w) => w.id)],
    );
  }
}
