import { z } from 'zod';
import { STATEMENT_STATES } from '../../domain/statement.js';

/**
 * The answers of the billing routes (invoices, credit notes, payments, statements) as the OpenAPI
 * document describes them; in tests every answer is checked against them.
 */

const money = z.number().int().describe('integer minor units');
const isoTime = z.string().describe('UTC, ISO 8601');
const date = z.string().describe('YYYY-MM-DD');

export const sellerSchema = z
  .object({
    code: z.string().nullable(),
    name: z.string(),
    nameZh: z.string().nullable(),
    taxId: z.string().nullable(),
    address: z.string().nullable(),
    phone: z.string().nullable(),
    email: z.string().nullable(),
    bankAccount: z.string().nullable(),
  })
  .meta({ id: 'Seller' });

export const invoiceLineSchema = z
  .object({
    id: z.number().int(),
    lineNo: z.number().int(),
    orderId: z.number().int().nullable(),
    orderLineId: z.number().int().nullable(),
    shipmentId: z.number().int().nullable(),
    creditsLineId: z.number().int().nullable().describe('a credit note line: the invoice line it credits'),
    sku: z.string(),
    description: z.string(),
    quantity: z.number().int(),
    unitPrice: money,
    discount: money,
    tax: money,
    taxClass: z.string().nullable(),
    taxCode: z.string().nullable().describe('税收分类编码'),
    amount: money,
  })
  .meta({ id: 'InvoiceLine' });

const invoiceHead = {
  id: z.number().int(),
  number: z.string(),
  type: z.enum(['invoice', 'credit_note']),
  policy: z.string().describe('on_shipment | on_order | periodic | credit'),
  customer: z.object({
    code: z.string().nullable(),
    name: z.string().nullable(),
    taxId: z.string().nullable(),
    billingAddress: z.unknown().describe('the customer’s billing address as stored'),
  }),
  company: sellerSchema,
  language: z.enum(['zh-CN', 'en']),
  orderId: z.number().int().nullable(),
  period: z.string().nullable().describe('a periodic invoice: the month, YYYY-MM'),
  creditsInvoice: z.string().nullable().describe('a credit note: the invoice it credits'),
  reason: z.string().nullable(),
  currency: z.string(),
  pricesIncludeTax: z.boolean(),
  issueDate: date,
  dueDate: date,
  subtotal: money,
  discount: money,
  shipping: money,
  shippingTax: money,
  tax: money,
  total: money,
  paid: money,
  credited: money,
  open: money,
  status: z.enum(['open', 'partly_paid', 'paid', 'overdue']).nullable().describe('null on a credit note'),
  creditNotes: z.array(z.string()),
  einvoice: z.object({
    issuer: z.string().nullable(),
    serial: z.string().nullable(),
    status: z.string().nullable(),
    redLetterStatus: z.string().nullable(),
    platformNumber: z.string().nullable(),
    message: z.string().nullable(),
    updatedAt: isoTime.nullable(),
  }),
  document: z.string().nullable().describe('the Excel document, relative to the output folder'),
  createdAt: isoTime,
};

export const invoiceSchema = z
  .object({ ...invoiceHead, lines: z.array(invoiceLineSchema) })
  .meta({ id: 'Invoice' });

export const invoiceListSchema = z
  .object({
    items: z.array(z.object({ ...invoiceHead, lines: z.number().int().describe('how many lines') })),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'InvoiceList' });

export const allocationSchema = z
  .object({
    invoice: z.string(),
    amount: money,
    appliedOn: date,
    actor: z.string(),
    createdAt: isoTime,
  })
  .meta({ id: 'PaymentAllocation' });

export const paymentSchema = z
  .object({
    id: z.number().int(),
    customer: z.string().nullable(),
    reference: z.string(),
    amount: money,
    currency: z.string(),
    receivedOn: date,
    method: z.string(),
    source: z.string().describe('api | bank_csv | channel'),
    channel: z.string().nullable(),
    orderId: z.number().int().nullable(),
    importId: z.number().int().nullable(),
    applied: money,
    unapplied: money.describe('on account'),
    paidOut: money,
    payoutOf: z.number().int().nullable(),
    note: z.string().nullable(),
    actor: z.string(),
    createdAt: isoTime,
    allocations: z.array(allocationSchema),
  })
  .meta({ id: 'Payment' });

export const paymentImportSchema = z
  .object({
    importId: z.number().int(),
    fileHash: z.string(),
    fileName: z.string().nullable(),
    repeatedFile: z.boolean().describe('this file was imported before: nothing new was recorded'),
    rows: z.object({
      total: z.number().int(),
      recorded: z.number().int(),
      repeated: z.number().int(),
      refused: z.number().int(),
    }),
    refused: z.array(z.object({ row: z.number().int(), code: z.string(), reason: z.string() })),
    payments: z.array(z.number().int()).describe('the ids of the payments this import recorded'),
  })
  .meta({ id: 'PaymentImport' });

const statementFinding = z.object({
  kind: z.literal('previous_closing_differs'),
  previousStatementId: z.number().int(),
  previousClosing: money,
  documentsSay: money,
  difference: money,
  message: z.string(),
});

export const statementSchema = z
  .object({
    id: z.number().int(),
    customer: z.object({
      id: z.number().int(),
      code: z.string().nullable(),
      name: z.string().nullable(),
      taxId: z.string().nullable(),
      billingAddress: z.unknown(),
    }),
    company: sellerSchema,
    language: z.enum(['zh-CN', 'en']),
    from: date,
    to: date,
    period: z.string(),
    version: z.number().int(),
    state: z.enum(STATEMENT_STATES),
    disputeNote: z.string().nullable(),
    previousId: z.number().int().nullable(),
    lineCount: z.number().int(),
    balances: z.array(
      z.object({
        currency: z.string(),
        opening: money,
        invoiced: money,
        credited: money,
        paid: money,
        closing: money,
        lines: z.number().int(),
        ageing: z.object({
          current: money,
          d1_30: money,
          d31_60: money,
          d61_90: money,
          over90: money,
          unapplied: money,
        }),
        previousClosing: money.nullable(),
        recomputedPreviousClosing: money.nullable(),
        finding: statementFinding.nullable(),
      }),
    ),
    findings: z.array(statementFinding),
    document: z.string().nullable(),
    actor: z.string(),
    stateActor: z.string().nullable(),
    sentAt: isoTime.nullable(),
    answeredAt: isoTime.nullable(),
    createdAt: isoTime,
    updatedAt: isoTime,
    superseded: z.boolean().describe('a later version of the same period exists'),
  })
  .meta({ id: 'Statement' });

export const statementLineSchema = z
  .object({
    date: date,
    kind: z.enum(['shipment', 'invoice', 'credit_note', 'payment']),
    id: z.number().int().describe('the row’s id in its own table (invoices, payments, shipments)'),
    document: z.string(),
    detail: z.string().nullable(),
    dueDate: date.nullable(),
    currency: z.string(),
    quantity: z.number().int().nullable(),
    amount: money,
    debit: money.nullable(),
    credit: money.nullable(),
    balance: money.nullable().describe('the running balance after the line; null on a shipment'),
  })
  .meta({ id: 'StatementLine' });
