import type { Db } from '../../src/db/connection.js';
import { dbTime } from '../../src/db/connection.js';

/**
 * Documents dated where a statement test needs them, written as the billing and payments modules
 * write them (numbers gap-free per series and year, `invoices.paid` the sum of the allocations,
 * `payments.unapplied` what is left): invoices and credit notes of a test series, and receipts.
 */

export async function insertDocument(
  db: Db,
  doc: {
    customerId: number;
    type: 'invoice' | 'credit_note';
    total: number;
    currency?: string;
    issueDate: string;
    dueDate?: string;
    creditsInvoiceId?: number;
  },
): Promise<number> {
  const series = doc.type === 'invoice' ? 'TINV' : 'TCN';
  const year = Number(doc.issueDate.slice(0, 4));
  return db.transaction(async (tx) => {
    const seq = await tx('invoice_sequences').where({ series, year }).first('last_number');
    const n = Number(seq?.last_number ?? 0) + 1;
    if (seq) await tx('invoice_sequences').where({ series, year }).update({ last_number: n });
    else await tx('invoice_sequences').insert({ series, year, last_number: n });
    const customer = await tx('customers').where('id', doc.customerId).first('code', 'name');
    const [id] = await tx('invoices').insert({
      number: `${series}-${year}-${String(n).padStart(6, '0')}`,
      series,
      year,
      seq: n,
      type: doc.type,
      policy: doc.type === 'invoice' ? 'on_shipment' : 'credit',
      customer_id: doc.customerId,
      customer_code: customer?.code ?? null,
      customer_name: customer?.name ?? null,
      language: 'en',
      credits_invoice_id: doc.creditsInvoiceId ?? null,
      currency: doc.currency ?? 'EUR',
      issue_date: doc.issueDate,
      due_date: doc.dueDate ?? doc.issueDate,
      subtotal: doc.total,
      discount: 0,
      shipping: 0,
      tax: 0,
      total: doc.total,
      created_at: dbTime(),
    });
    return Number(id);
  });
}

export async function insertPayment(
  db: Db,
  p: {
    customerId: number;
    reference: string;
    amount: number;
    currency?: string;
    receivedOn: string;
    allocations?: { invoiceId: number; amount: number; appliedOn?: string }[];
  },
): Promise<number> {
  return db.transaction(async (tx) => {
    const applied = (p.allocations ?? []).reduce((s, a) => s + a.amount, 0);
    const [id] = await tx('payments').insert({
      customer_id: p.customerId,
      reference: p.reference,
      amount: p.amount,
      currency: p.currency ?? 'EUR',
      received_on: p.receivedOn,
      method: 'bank_transfer',
      source: 'api',
      unapplied: p.amount - applied,
      actor: 'test',
      request_hash: 'x'.repeat(64),
      created_at: dbTime(),
    });
    for (const a of p.allocations ?? []) {
      await tx('payment_allocations').insert({
        payment_id: Number(id),
        invoice_id: a.invoiceId,
        amount: a.amount,
        applied_on: a.appliedOn ?? p.receivedOn,
        actor: 'test',
        created_at: dbTime(),
      });
      await tx('invoices').where('id', a.invoiceId).increment('paid', a.amount);
    }
    return Number(id);
  });
}
