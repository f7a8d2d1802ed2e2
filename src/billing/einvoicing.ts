import { type Conn, type Db, dbTime, dialectOf, rawRows } from '../db/connection.js';
import { WriteBatch } from '../db/write-batch.js';
import { type InvoiceView, loadInvoices } from './invoice-query.js';
import type {
  BlueInvoiceRequest,
  InvoiceIssuer,
  IssueResult,
  IssuerParty,
  RedInvoiceRequest,
  RedResult,
} from './issuers/contract.js';

/**
 * Sends issued invoices and credit notes through an invoice issuer and records what it answers
 * beside them: the issuer, our request serial, the e-invoice status, the red-letter confirmation's
 * status, the platform's invoice number, its message. The document of ours is never changed by it.
 */

/** Our request serial of an invoice: the same invoice always sends the same serial. */
export const serialOf = (number: string) => `SB-${number}`;

function addressText(a: unknown): string | null {
  if (!a || typeof a !== 'object') return typeof a === 'string' ? a : null;
  const o = a as Record<string, string | undefined>;
  return [o.line1, o.line2, o.postalCode, o.city, o.region, o.country].filter(Boolean).join(', ') || null;
}

const sellerParty = (inv: InvoiceView): IssuerParty => ({
  name: inv.company.nameZh ?? inv.company.name,
  taxId: inv.company.taxId,
  address: inv.company.address,
});
const buyerParty = (inv: InvoiceView): IssuerParty => ({
  name: inv.customer.name ?? inv.customer.code ?? '',
  taxId: inv.customer.taxId,
  address: addressText(inv.customer.billingAddress),
});
const issuerLines = (inv: InvoiceView) =>
  inv.lines.map((l) => ({
    lineNo: l.lineNo,
    sku: l.sku,
    description: l.description,
    taxCode: l.taxCode ?? l.taxClass,
    quantity: l.quantity,
    unitPrice: l.unitPrice,
    discount: l.discount,
    amount: l.amount,
    tax: l.tax,
  }));

export function blueRequest(inv: InvoiceView): BlueInvoiceRequest {
  return {
    serial: serialOf(inv.number),
    number: inv.number,
    issueDate: inv.issueDate,
    currency: inv.currency,
    pricesIncludeTax: inv.pricesIncludeTax,
    seller: sellerParty(inv),
    buyer: buyerParty(inv),
    lines: issuerLines(inv),
    tax: inv.tax,
    total: inv.total,
  };
}

export function redRequest(note: InvoiceView, original: InvoiceView): RedInvoiceRequest {
  return {
    serial: serialOf(note.number),
    number: note.number,
    originalNumber: original.number,
    originalPlatformNumber: original.einvoice.platformNumber,
    reason: note.reason ?? '',
    issueDate: note.issueDate,
    currency: note.currency,
    seller: sellerParty(note),
    buyer: buyerParty(note),
    lines: issuerLines(note),
    tax: note.tax,
    total: note.total,
  };
}

interface Outcome {
  id: number;
  values: Record<string, string | null>;
}

/** Stores outcomes; rows with the same values share one UPDATE (the local issuer's are all alike). */
async function store(conn: Conn, outcomes: readonly Outcome[]): Promise<void> {
  const now = dbTime();
  const groups = new Map<string, { values: Record<string, string | null>; ids: number[] }>();
  for (const o of outcomes) {
    const { issuer_serial: _serial, ...rest } = o.values;
    const key = JSON.stringify(rest);
    const g = groups.get(key) ?? { values: rest, ids: [] };
    g.ids.push(o.id);
    groups.set(key, g);
  }
  // The serial is our number's (`serialOf`), so it is written from the number in SQL and rows
  // that differ only in it still share a statement.
  const serial = conn.raw(dialectOf(conn) === 'mysql' ? "CONCAT('SB-', number)" : "'SB-' || number");
  const batch = new WriteBatch(conn);
  for (const { values, ids } of groups.values()) {
    for (let i = 0; i < ids.length; i += 500) {
      batch.add(
        conn('invoices')
          .whereIn('id', ids.slice(i, i + 500))
          .update({ ...values, issuer_serial: serial, issuer_updated_at: now }),
      );
    }
  }
  await batch.flush();
}

const blueValues = (issuer: string, r: IssueResult) => ({
  issuer,
  issuer_serial: r.serial,
  issuer_status: r.status,
  platform_number: r.platformNumber,
  issuer_message: r.message,
});

/**
 * A red result as stored: the credit note is `issued` once the red invoice is; a refused
 * red-letter confirmation leaves it `pending` with the provider's reason.
 */
const redValues = (issuer: string, r: RedResult) => ({
  issuer,
  issuer_serial: r.serial,
  issuer_status: r.confirmation === 'refused' ? 'pending' : r.status,
  red_letter_status: r.confirmation,
  platform_number: r.platformNumber,
  issuer_message: r.message,
});

export interface SubmitResult {
  issued: number;
  pending: number;
  failed: number;
}

const tally = (outcomes: readonly Outcome[]): SubmitResult => ({
  issued: outcomes.filter((o) => o.values.issuer_status === 'issued').length,
  pending: outcomes.filter((o) => o.values.issuer_status === 'pending').length,
  failed: outcomes.filter((o) => o.values.issuer_status === 'failed').length,
});

/**
 * Sends invoices and credit notes (by id) that have not gone to an issuer yet. A credit note waits
 * (not sent) while its invoice has no e-invoice issued; the next submit or poll sends it.
 */
export async function submitInvoices(
  db: Db,
  issuer: InvoiceIssuer,
  ids: readonly number[],
): Promise<SubmitResult> {
  if (issuer.immediate) return markIssued(db, issuer, ids);
  const outcomes: Outcome[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const views = (await loadInvoices(db, ids.slice(i, i + 500))).filter((v) => v.einvoice.status === null);
    const originals = new Map(
      (
        await loadInvoices(
          db,
          await originalIds(
            db,
            views.filter((v) => v.type === 'credit_note').map((v) => v.id),
          ),
        )
      ).map((o) => [o.number, o]),
    );
    for (const v of views) {
      if (v.type === 'invoice') {
        outcomes.push({ id: v.id, values: blueValues(issuer.name, await issuer.issueBlue(blueRequest(v))) });
        continue;
      }
      const original = originals.get(v.creditsInvoice ?? '');
      if (original?.einvoice.status !== 'issued') continue;
      outcomes.push({
        id: v.id,
        values: redValues(issuer.name, await issuer.requestRed(redRequest(v, original))),
      });
    }
  }
  await store(db, outcomes);
  return tally(outcomes);
}

async function originalIds(db: Conn, noteIds: readonly number[]): Promise<number[]> {
  if (noteIds.length === 0) return [];
  const [rows = []] = await rawRows(
    db,
    `SELECT credits_invoice_id FROM invoices WHERE id IN (${noteIds.map(() => '?').join(', ')})`,
    noteIds,
  );
  return rows.map((r) => Number(r.credits_invoice_id));
}

/**
 * Asks the issuer about everything it left pending (blue invoices being issued, red-letter
 * confirmations awaiting the buyer), records the answers, then sends credit notes that were
 * waiting for their invoice. A refused red-letter confirmation is not asked about again: its credit
 * note stays pending with the reason, for a person to settle with the buyer.
 */
export async function pollIssuer(db: Db, issuer: InvoiceIssuer): Promise<SubmitResult> {
  const pending = await db('invoices')
    .where({ issuer: issuer.name, issuer_status: 'pending' })
    .where((w) => w.whereNull('red_letter_status').orWhereNot('red_letter_status', 'refused'))
    .select('id', 'type', 'issuer_serial')
    .orderBy('id');
  const outcomes: Outcome[] = [];
  for (const p of pending) {
    const serial = String(p.issuer_serial);
    outcomes.push({
      id: Number(p.id),
      values:
        p.type === 'credit_note'
          ? redValues(issuer.name, await issuer.queryRed(serial))
          : blueValues(issuer.name, await issuer.queryBlue(serial)),
    });
  }
  await store(db, outcomes);
  const waiting = await db('invoices').where({ type: 'credit_note' }).whereNull('issuer_status').select('id');
  const sent = await submitInvoices(
    db,
    issuer,
    waiting.map((w) => Number(w.id)),
  );
  const polled = tally(outcomes);
  return {
    issued: polled.issued + sent.issued,
    pending: polled.pending + sent.pending,
    failed: polled.failed + sent.failed,
  };
}

/** An `immediate` issuer's answer to every request, written in one statement per 500 invoices. */
async function markIssued(db: Db, issuer: InvoiceIssuer, ids: readonly number[]): Promise<SubmitResult> {
  const serial = dialectOf(db) === 'mysql' ? "CONCAT('SB-', number)" : "'SB-' || number";
  let issued = 0;
  for (let i = 0; i < ids.length; i += 500) {
    const part = ids.slice(i, i + 500);
    const res = await db.raw(
      `UPDATE invoices SET issuer = ?, issuer_serial = ${serial}, issuer_status = 'issued', ` +
        "red_letter_status = CASE WHEN type = 'credit_note' THEN 'confirmed' ELSE NULL END, issuer_updated_at = ? " +
        `WHERE id IN (${part.map(() => '?').join(', ')}) AND issuer_status IS NULL`,
      [issuer.name, dbTime(), ...part],
    );
    issued += Array.isArray(res) ? Number(res[0]?.affectedRows ?? 0) : Number(res?.changes ?? 0);
  }
  return { issued, pending: 0, failed: 0 };
}
