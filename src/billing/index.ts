import path from 'node:path';
import { currentBusinessTimeZone } from '../customers/price-book.js';
import { type Db, dbTime } from '../db/connection.js';
import { businessDate } from '../domain/pricing.js';
import { type CreditNoteRequest, issueCreditNote } from './credit-notes.js';
import { writeInvoiceFile } from './documents.js';
import { submitInvoices } from './einvoicing.js';
import { type InvoiceView, loadInvoices } from './invoice-query.js';
import { invoiceOrderNow, invoiceShipmentNow } from './invoicing.js';
import { recordDocuments } from './invoicing-run.js';
import type { InvoiceIssuer } from './issuers/contract.js';
import { localIssuer } from './issuers/local.js';
import type { PostedInvoice } from './posting.js';

export { issueCreditNote } from './credit-notes.js';
export { invoiceByNumber, listInvoices } from './invoice-query.js';
export { issueDueInvoices } from './invoicing-run.js';

/** Documents issued outside an invoicing run go here, under the output folder. */
export const invoicesDir = (outputDir: string) => path.join(outputDir, 'invoices');

export interface IssueOutside {
  outputDir: string;
  issuer?: InvoiceIssuer;
}

/** After an invoice issued outside a run commits: its document in `<outputDir>/invoices/`, then the issuer. */
async function publish(db: Db, posted: PostedInvoice, options: IssueOutside): Promise<InvoiceView> {
  const [view] = await loadInvoices(db, [posted.id]);
  const file = await writeInvoiceFile(invoicesDir(options.outputDir), view!);
  await recordDocuments(db, [{ id: posted.id, name: path.basename(file) }]);
  await submitInvoices(db, options.issuer ?? localIssuer, [posted.id]);
  return (await loadInvoices(db, [posted.id]))[0]!;
}

const today = () => businessDate(new Date(), currentBusinessTimeZone());

/** Invoices one shipment, or one order's ordered quantities, now (issue date: today). */
export async function issueInvoiceNow(
  db: Db,
  what: { shipment: number } | { order: number },
  options: IssueOutside,
): Promise<InvoiceView> {
  const posted =
    'shipment' in what
      ? await invoiceShipmentNow(db, what.shipment, { issueDate: today() })
      : await invoiceOrderNow(db, what.order, { issueDate: today() });
  return publish(db, posted, options);
}

/** A credit note against an invoice, issued now. */
export async function creditNow(
  db: Db,
  request: CreditNoteRequest,
  options: IssueOutside,
): Promise<InvoiceView> {
  return publish(db, await issueCreditNote(db, request), options);
}

/** Sets the tax classification code (税收分类编码) e-invoices carry for a tax class's lines. */
export async function setTaxClassCode(db: Db, taxClass: string, code: string) {
  const now = dbTime();
  await db('tax_class_codes')
    .insert({ tax_class: taxClass, code, updated_at: now })
    .onConflict('tax_class')
    .merge();
  return { taxClass, code };
}
