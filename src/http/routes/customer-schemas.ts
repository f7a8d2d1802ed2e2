import { z } from 'zod';
import { INVOICE_POLICIES } from '../../domain/invoice.js';
import { LANGUAGES } from '../../domain/order-input.js';
import { ORDER_STATUSES } from '../../domain/order-status.js';

/**
 * The answers of the customer, salesperson and channel-buyer routes (src/http/routes/customers.ts)
 * and the shapes the credit routes share with them, as the OpenAPI document describes them.
 */

/** An amount in integer minor units with its currency. */
export const moneyAnswer = z.object({
  amount: z.number().int().describe('integer minor units'),
  currency: z.string(),
});

/** Created, changed, or the same as stored (nothing written). */
export const upsertOutcome = z.enum(['created', 'updated', 'unchanged']);

const address = z.object({
  name: z.string().optional(),
  line1: z.string().optional(),
  line2: z.string().optional(),
  city: z.string().optional(),
  region: z.string().optional(),
  postalCode: z.string().optional(),
  country: z.string().optional(),
});

const contact = z.object({
  name: z.string().optional(),
  email: z.string().optional(),
  phone: z.string().optional(),
});

export const customerAnswer = z
  .object({
    code: z.string(),
    name: z.string(),
    group: z.string(),
    salesperson: z.string().nullable().describe('salesperson code'),
    currency: z.string().nullable(),
    language: z.enum(LANGUAGES).nullable(),
    timeZone: z.string().nullable(),
    taxId: z.string().nullable(),
    billingAddress: address.nullable(),
    shippingAddress: address.nullable(),
    contacts: z.array(contact),
    paymentTermsDays: z.number().int().nullable(),
    creditLimit: moneyAnswer.nullable(),
    onHold: z.boolean(),
    onHoldReason: z.string().nullable(),
    company: z.string().nullable(),
    tags: z.array(z.string()),
    invoicePolicy: z.enum(INVOICE_POLICIES),
    overdueHold: z.boolean(),
    createdAt: z.string().nullable(),
    updatedAt: z.string().nullable(),
  })
  .meta({ id: 'Customer' });

export const customerUpsertAnswer = customerAnswer.extend({ outcome: upsertOutcome });

export const salespersonAnswer = z
  .object({
    code: z.string(),
    name: z.string(),
    email: z.string().nullable(),
    creditLimit: moneyAnswer.nullable(),
    active: z.boolean(),
  })
  .meta({ id: 'Salesperson' });

export const salespersonUpsertAnswer = salespersonAnswer.extend({ outcome: upsertOutcome });

const nextCursor = z.string().nullable().describe('the cursor of the next page; null on the last');

export const customerPage = z.object({ items: z.array(customerAnswer), nextCursor });
export const salespersonPage = z.object({ items: z.array(salespersonAnswer), nextCursor });

/** Order values per currency (minor units): ordered (not cancelled), shipped, and open. */
const totals = z.object({
  currency: z.string(),
  orders: z.number().int(),
  ordered: z.number().int(),
  shipped: z.number().int(),
  open: z.number().int(),
});

const execution = z.object({
  currency: z.string(),
  orders: z.number().int(),
  ordered: z.number().int(),
  reserved: z.number().int(),
  backordered: z.number().int(),
  shipped: z.number().int(),
  cancelled: z.number().int(),
  pending: z.number().int(),
  open: z.number().int(),
});

export const customerOrdersAnswer = z.object({
  customer: z.object({ code: z.string(), name: z.string().nullable() }),
  totals: z.array(totals),
  execution: z
    .array(execution)
    .describe('执行情况: values per currency over the orders, rejected ones left out'),
  items: z.array(
    z.object({
      id: z.number().int(),
      channel: z.string(),
      externalId: z.string(),
      status: z.enum(ORDER_STATUSES),
      currency: z.string(),
      placedAt: z.string().nullable(),
      orderedValue: z.number().int(),
      shippedValue: z.number().int(),
      openValue: z.number().int(),
      lines: z.array(
        z.object({
          lineNo: z.number().int(),
          sku: z.string(),
          unitPrice: z.number().int(),
          ordered: z.number().int(),
          shipped: z.number().int(),
          cancelled: z.number().int(),
          open: z.number().int(),
        }),
      ),
    }),
  ),
  nextCursor,
});

export const salespersonCustomersAnswer = z.object({
  salesperson: z.object({ code: z.string(), name: z.string(), creditLimit: moneyAnswer.nullable() }),
  totals: z.array(totals),
  creditUsed: z
    .number()
    .int()
    .nullable()
    .describe("open value in the credit limit's currency; null without a limit"),
  items: z.array(z.object({ code: z.string(), name: z.string().nullable(), totals: z.array(totals) })),
  nextCursor,
});

export const channelCustomerAnswer = z
  .object({
    channelCustomerId: z.string(),
    customer: z.string().describe('trade customer code'),
    updatedAt: z.string().nullable(),
  })
  .meta({ id: 'ChannelCustomerMapping' });

export const channelCustomerUpsertAnswer = channelCustomerAnswer.extend({ outcome: upsertOutcome });

const rowStatus = z.enum(['created', 'updated', 'unchanged', 'recorded', 'rejected']);

export const customerImportAnswer = z.object({
  summary: z.object({
    fileName: z.string(),
    rows: z.number().int(),
    created: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
    recorded: z.number().int(),
    rejected: z.number().int(),
  }),
  rows: z.array(
    z.object({
      row: z.number().int(),
      code: z.string(),
      name: z.string(),
      status: rowStatus,
      reason: z.string().optional().describe('why the row was rejected (English / 中文)'),
    }),
  ),
});
