import { z } from 'zod';
import { INVOICE_POLICIES } from './invoice.js';
import { currencySchema, LIMITS, languageSchema, text, timeZoneSchema } from './order-input.js';

/**
 * A trade customer and a salesperson as the API and the customer sheet take them. Money is integer
 * minor units with its currency; every field but the name has a default, so a record says
 * everything it holds (`PUT` replaces the whole record).
 */

/** A code of ours (customer group, salesperson), as `codeParam` takes it in a path. */
const codeSchema = z
  .string()
  .min(1)
  .max(LIMITS.codeLength)
  .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits and . _ - only');

const shortText = (max: number = LIMITS.nameLength) => text().trim().min(1).max(max);

export const addressSchema = z
  .object({
    name: shortText().optional(),
    line1: shortText().optional(),
    line2: shortText().optional(),
    city: shortText().optional(),
    region: shortText().optional(),
    postalCode: shortText(32).optional(),
    country: z
      .string()
      .regex(/^[A-Z]{2}$/, 'must be an ISO 3166 country code such as CN')
      .optional(),
  })
  .strict();

export const moneySchema = z
  .object({
    amount: z.number().int('must be integer minor units').min(0).max(LIMITS.maxMinor),
    currency: currencySchema,
  })
  .strict();

export const contactSchema = z
  .object({
    name: shortText().optional(),
    email: z.email().max(LIMITS.emailLength).optional(),
    phone: shortText(LIMITS.phoneLength).optional(),
  })
  .strict()
  .refine((c) => c.name || c.email || c.phone, 'a contact needs a name, an e-mail or a phone');

export const MAX_CONTACTS = 20;
export const MAX_TAGS = 50;

export const customerBodySchema = z
  .object({
    name: shortText(),
    group: codeSchema.default('default'),
    salesperson: codeSchema.nullable().default(null),
    currency: currencySchema.nullable().default(null),
    language: languageSchema.nullable().default(null),
    timeZone: timeZoneSchema.nullable().default(null),
    taxId: shortText(64).nullable().default(null),
    billingAddress: addressSchema.nullable().default(null),
    shippingAddress: addressSchema.nullable().default(null),
    contacts: z.array(contactSchema).max(MAX_CONTACTS).default([]),
    paymentTermsDays: z.number().int('must be a whole number').min(0).max(3650).nullable().default(null),
    creditLimit: moneySchema.nullable().default(null),
    onHold: z.boolean().default(false),
    onHoldReason: shortText().nullable().default(null),
    company: shortText().nullable().default(null),
    tags: z.array(shortText(64)).max(MAX_TAGS).default([]),
    /** When the customer is invoiced (README "Invoices"): per shipment, per order, or monthly. */
    invoicePolicy: z.enum(INVOICE_POLICIES).default('on_shipment'),
    /** New orders go on hold (`overdue_invoices`) while an invoice is past due with money open (README "Payments"). */
    overdueHold: z.boolean().default(false),
  })
  .strict()
  .refine((c) => c.onHold || c.onHoldReason === null, {
    path: ['onHoldReason'],
    message: 'a reason is only kept while the customer is on hold',
  });

export type CustomerBody = z.output<typeof customerBodySchema>;
export type Customer = CustomerBody & { code: string };

export const salespersonBodySchema = z
  .object({
    name: shortText(),
    email: z.email().max(LIMITS.emailLength).nullable().default(null),
    creditLimit: moneySchema.nullable().default(null),
    active: z.boolean().default(true),
  })
  .strict();

export type SalespersonBody = z.output<typeof salespersonBodySchema>;
