import path from 'node:path';
import type { Logger } from 'pino';
import { formatMinor } from '../../connectors/excel-inbox/money.js';
import { writeInvoiceFile } from '../billing/documents.js';
import { invoicesDir } from '../billing/index.js';
import { loadInvoices } from '../billing/invoice-query.js';
import { moveStatement, statementFile } from '../billing/statements.js';
import { type Conn, type Db, dbTime, dialectOf, isoTime } from '../db/connection.js';
import { ConflictError } from '../errors/domain-errors.js';
import type { NotificationAttachment } from './contract.js';
import { languageOf } from './events.js';
import { notificationMessageId } from './message-id.js';
import { insertNotifications, type NewNotification, type NotificationRow } from './store.js';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** How far back the documents sweep looks for invoices and credit notes (7 days). */
export const DOCUMENT_WINDOW_MS = 7 * 86_400_000;

/** Where a customer's documents go: its billing e-mail, else its e-mail. */
const RECIPIENT_SQL = 'COALESCE(c.billing_email, c.email)';

const concat = (conn: Conn, prefix: string, column: string) =>
  dialectOf(conn) === 'mysql' ? `CONCAT('${prefix}', ${column})` : `'${prefix}' || ${column}`;

/**
 * Documents issued to customers who get theirs by e-mail (`customers.email_documents_since`, set
 * through `PUT /api/customers/{code}/document-delivery`), issued since then (invoices and credit
 * notes: within the last 7 days, so each sweep reads a bounded window) and not made into a
 * notification yet: invoices and credit notes, and statements still `issued`. Each becomes one
 * notification (source `invoice:<id>` / `statement:<id>`), sent like any other with its file
 * attached. Returns the pending notifications made.
 */
export async function documentNotifications(db: Db, host: string, limit = 500, now = new Date()) {
  // A bounded window: documents of the last week only (the sweep runs every few seconds, so one
  // issued is made into a notification long before it leaves the window), and never from before
  // the customer asked for them.
  const windowStart = dbTime(new Date(now.getTime() - DOCUMENT_WINDOW_MS));
  const invoices = await db('invoices as i')
    .join('customers as c', 'c.id', 'i.customer_id')
    .whereNotNull('c.email_documents_since')
    .where('i.created_at', '>=', windowStart)
    .whereRaw('i.created_at >= c.email_documents_since')
    .whereRaw(`${RECIPIENT_SQL} IS NOT NULL`)
    .whereNotExists((q) =>
      q
        .from('notifications as n')
        .whereRaw(`n.source_key = ${concat(db, 'invoice:', 'i.id')}`)
        .select(db.raw('1')),
    )
    .orderBy('i.id')
    .limit(limit)
    .select(
      'i.id',
      'i.type',
      'i.number',
      'i.customer_id',
      'i.issue_date',
      'i.due_date',
      'i.total',
      'i.currency',
      'i.language',
      'i.order_id',
      db.raw(`${RECIPIENT_SQL} as recipient`),
    );
  const statements = await db('statements as s')
    .join('customers as c', 'c.id', 's.customer_id')
    .whereNotNull('c.email_documents_since')
    .where('s.state', 'issued')
    .whereRaw('s.created_at >= c.email_documents_since')
    .whereRaw(`${RECIPIENT_SQL} IS NOT NULL`)
    .whereNotExists((q) =>
      q
        .from('notifications as n')
        .whereRaw(`n.source_key = ${concat(db, 'statement:', 's.id')}`)
        .select(db.raw('1')),
    )
    .orderBy('s.id')
    .limit(limit)
    .select(
      's.id',
      's.customer_id',
      's.period',
      's.version',
      's.language',
      db.raw(`${RECIPIENT_SQL} as recipient`),
    );
  const items: NewNotification[] = [
    ...invoices.map(
      (r): NewNotification => ({
        sourceKey: `invoice:${r.id}`,
        ruleId: 0,
        event: r.type === 'credit_note' ? 'document.credit_note' : 'document.invoice',
        medium: 'email',
        recipient: String(r.recipient),
        orderId: null,
        customerId: Number(r.customer_id),
        language: languageOf(r.language),
        timeZone: null,
        data: {
          invoiceId: Number(r.id),
          number: r.number,
          type: r.type,
          issueDate: r.issue_date,
          dueDate: r.due_date,
          total: `${r.currency} ${formatMinor(Number(r.total), r.currency)}`,
          relatedOrderId: r.order_id === null ? null : Number(r.order_id),
          toContact: true,
        },
      }),
    ),
    ...statements.map(
      (r): NewNotification => ({
        sourceKey: `statement:${r.id}`,
        ruleId: 0,
        event: 'document.statement',
        medium: 'email',
        recipient: String(r.recipient),
        orderId: null,
        customerId: Number(r.customer_id),
        language: languageOf(r.language),
        timeZone: null,
        data: { statementId: Number(r.id), period: r.period, version: Number(r.version), toContact: true },
      }),
    ),
  ];
  return insertNotifications(db, items, (key) => notificationMessageId(key, host));
}

/** The files a document notification carries (written again under the output folder when missing). */
export async function documentAttachments(
  db: Db,
  row: NotificationRow,
  options: { outputDir: string; timeZone: string },
): Promise<NotificationAttachment[]> {
  if (row.event === 'document.invoice' || row.event === 'document.credit_note') {
    const [view] = await loadInvoices(db, [Number(row.data.invoiceId)]);
    if (!view) throw new Error(`invoice ${row.data.invoiceId} not found`);
    const file = await writeInvoiceFile(invoicesDir(options.outputDir), view);
    return [{ filename: path.basename(file), contentType: XLSX, path: file }];
  }
  if (row.event === 'document.statement') {
    const { file, name } = await statementFile(db, Number(row.data.statementId), {
      outputRoot: options.outputDir,
      timeZone: options.timeZone,
    });
    return [{ filename: name, contentType: XLSX, path: file }];
  }
  return [];
}

/** A statement e-mailed is `sent` (unless the customer answered it meanwhile, or a later version exists). */
export async function onDocumentSent(db: Db, row: NotificationRow, log: Logger): Promise<void> {
  if (row.event !== 'document.statement') return;
  try {
    await moveStatement(db, Number(row.data.statementId), 'sent', { actor: 'notifications' });
  } catch (err) {
    if (!(err instanceof ConflictError))
      log.warn({ err: (err as Error).message }, 'statement not marked sent');
  }
}

/** Turns a customer's document e-mailing on (from now; kept when on already) or off. */
export async function setDocumentDelivery(
  db: Db,
  customerId: number,
  input: { email: boolean; billingEmail?: string | null | undefined },
) {
  const update: Record<string, unknown> = { updated_at: dbTime() };
  if (input.billingEmail !== undefined) update.billing_email = input.billingEmail?.toLowerCase() ?? null;
  if (!input.email) update.email_documents_since = null;
  await db('customers').where({ id: customerId }).update(update);
  if (input.email)
    await db('customers')
      .where({ id: customerId })
      .whereNull('email_documents_since')
      .update({ email_documents_since: dbTime() });
  return documentDelivery(db, customerId);
}

export async function documentDelivery(db: Conn, customerId: number) {
  const c = await db('customers')
    .where({ id: customerId })
    .first('code', 'email', 'billing_email', 'email_documents_since');
  return {
    customer: c.code,
    email: c.email_documents_since !== null,
    since: isoTime(c.email_documents_since ?? null),
    billingEmail: c.billing_email ?? null,
    sendsTo: c.billing_email ?? c.email ?? null,
  };
}
