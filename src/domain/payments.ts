import { createHash } from 'node:crypto';
import { z } from 'zod';
import { currencySchema, LIMITS, text } from './order-input.js';

/**
 * Payments, pure (issue 14): what a receipt is, how it is applied to open invoices, and an
 * invoice's payment status. The shell (src/billing/payments.ts) locks and loads, and writes what
 * this decides.
 */

export const PAYMENT_METHODS = ['bank_transfer', 'cash', 'card', 'cheque', 'channel', 'other'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];
export type PaymentSource = 'api' | 'bank_csv' | 'channel';

const codeSchema = z
  .string()
  .min(1)
  .max(LIMITS.codeLength)
  .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits and . _ - only');
const dateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD')
  .refine(
    (d) =>
      !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d),
    'not a calendar date',
  );
const invoiceNumbers = z
  .array(z.string().regex(/^[A-Z]{1,16}-\d{4}-\d{6,}$/, 'an invoice number such as INV-2026-000123'))
  .min(1)
  .max(500)
  .refine((l) => new Set(l).size === l.length, 'an invoice is named once');

/** `POST /api/payments`: a customer receipt. */
export const paymentBodySchema = z
  .object({
    customer: codeSchema,
    amount: z.number().int('must be integer minor units').min(1).max(LIMITS.maxMinor),
    currency: currencySchema,
    receivedOn: dateSchema,
    reference: text().trim().min(1).max(LIMITS.externalIdLength),
    method: z.enum(PAYMENT_METHODS).exclude(['channel']),
    invoices: invoiceNumbers.optional(),
    note: text().trim().min(1).max(500).optional(),
  })
  .strict();
export type PaymentBody = z.output<typeof paymentBodySchema>;

/** `POST /api/payments/{id}/apply`: what is on account, to open invoices. */
export const applyBodySchema = z.object({ invoices: invoiceNumbers.optional() }).strict();

/** A receipt as recorded, whatever its source. */
export interface PaymentInput {
  customer: string;
  amount: number;
  currency: string;
  receivedOn: string;
  reference: string;
  method: PaymentMethod;
  invoices?: string[] | undefined;
  note?: string | undefined;
}

/**
 * The figures that make a receipt the same receipt: a repeat of (customer, reference) with the
 * same figures is the same payment; with other figures it is refused. The customer is compared by
 * its key (codes ignore case), named invoices in their order.
 */
export function paymentRequestHash(p: PaymentInput): string {
  const canonical = JSON.stringify([
    p.customer.toLowerCase(),
    p.amount,
    p.currency,
    p.receivedOn,
    p.reference,
    p.method,
    p.invoices ?? null,
    p.note ?? null,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** An invoice that money can go to: what is still open on it. */
export interface OpenInvoice {
  id: number;
  number: string;
  dueDate: string;
  issueDate: string;
  /** total − paid − credited, above zero. */
  open: number;
}

/** The order money goes to when no invoice is named: due date, then issue date, then id. */
export function oldestFirst<T extends Pick<OpenInvoice, 'id' | 'dueDate' | 'issueDate'>>(
  list: readonly T[],
): T[] {
  return [...list].sort(
    (a, b) => a.dueDate.localeCompare(b.dueDate) || a.issueDate.localeCompare(b.issueDate) || a.id - b.id,
  );
}

/**
 * Applies `amount` to invoices in the order given, each up to what is open on it. Returns the
 * allocations (only those above zero) and what is left over (stays on account).
 */
export function allocate(
  amount: number,
  invoices: readonly Pick<OpenInvoice, 'id' | 'open'>[],
): { allocations: { invoiceId: number; amount: number }[]; remainder: number } {
  let left = amount;
  const allocations: { invoiceId: number; amount: number }[] = [];
  for (const inv of invoices) {
    if (left <= 0) break;
    const take = Math.min(left, inv.open);
    if (take <= 0) continue;
    allocations.push({ invoiceId: inv.id, amount: take });
    left -= take;
  }
  return { allocations, remainder: left };
}

export type InvoicePaymentStatus = 'open' | 'partly_paid' | 'paid' | 'overdue';

/**
 * An invoice's payment status on a business date: `paid` when nothing is open, `overdue` when
 * money is open past its due date, `partly_paid` when some was paid or credited, else `open`.
 */
export function invoicePaymentStatus(
  inv: { total: number; paid: number; credited: number; dueDate: string },
  today: string,
): InvoicePaymentStatus {
  const open = inv.total - inv.paid - inv.credited;
  if (open <= 0) return 'paid';
  if (inv.dueDate < today) return 'overdue';
  if (inv.paid > 0 || inv.credited > 0) return 'partly_paid';
  return 'open';
}
