import type { Context } from 'hono';
import { z } from 'zod';
import { documentFileName, invoiceWorkbook } from '../../billing/documents.js';
import {
  creditNow,
  invoiceByNumber,
  issueInvoiceNow,
  listInvoices,
  setTaxClassCode,
} from '../../billing/index.js';
import type { InvoiceView } from '../../billing/invoice-query.js';
import { LIMITS, text } from '../../domain/order-input.js';
import { attachmentDisposition } from '../../inbox/file-name.js';
import type { AppDeps, AppEnv } from '../env.js';
import { newRoutes, routeRegistrar } from '../openapi.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';
import { codeParam, idParam } from '../params.js';
import { XLSX_TYPE } from '../upload.js';
import { invoiceListSchema, invoiceSchema } from './billing-schemas.js';

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD');
const listQuery = z.object({
  customer: codeParam.optional(),
  from: date.optional(),
  to: date.optional(),
  type: z.enum(['invoice', 'credit_note']).optional(),
  order: idParam.optional(),
  ...pageQuery,
});
const numberParam = z
  .string()
  .regex(/^[A-Z]{1,16}-\d{4}-\d{6,}$/, 'an invoice number such as INV-2026-000123');
const formatQuery = z.object({ format: z.enum(['json', 'xlsx']).optional() });

const issueBody = z.union([
  z.object({ shipment: z.number().int().positive() }).strict(),
  z.object({ order: z.number().int().positive() }).strict(),
]);
const creditBody = z
  .object({
    lines: z
      .array(
        z
          .object({ sku: codeParam, quantity: z.number().int().positive().max(LIMITS.quantityPerLine) })
          .strict(),
      )
      .min(1)
      .max(LIMITS.linesPerOrder)
      .optional(),
    reason: text().trim().min(1).max(255),
  })
  .strict();
const taxCodeBody = z.object({ code: z.string().regex(/^\d{1,32}$/, 'digits only (税收分类编码)') }).strict();

/**
 * Invoices and credit notes: lists, one as JSON or as its Excel document, issuing now for one
 * shipment or order, credit notes against an invoice, and the tax classification code per tax class.
 */
export function invoiceRoutes(deps: AppDeps) {
  const { db } = deps;
  const outputDir = deps.outputDir ?? './data/outputs';
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Invoices', entity: 'invoice', db });

  const answer = (c: Context<AppEnv>, format: 'json' | 'xlsx' | undefined, view: InvoiceView) => {
    const wantsXlsx =
      format === 'xlsx' || (format === undefined && (c.req.header('accept') ?? '').includes(XLSX_TYPE));
    if (!wantsXlsx) return c.json(view);
    c.header('Content-Type', XLSX_TYPE);
    c.header('Content-Disposition', attachmentDisposition(documentFileName(view.number)));
    return c.body(new Uint8Array(invoiceWorkbook(view)));
  };
  const documentAnswer = (what: string) => ({
    200: {
      description: `The ${what} as JSON, or its Excel document with \`?format=xlsx\` (or \`Accept\` naming the xlsx type)`,
      schema: invoiceSchema,
      files: [XLSX_TYPE],
    },
  });

  route(
    {
      method: 'get',
      path: '/invoices',
      access: 'read',
      operationId: 'listInvoices',
      summary: 'Invoices and credit notes, newest first',
      query: listQuery,
      responses: {
        200: { description: 'A page (lines are counted, not listed)', schema: invoiceListSchema },
      },
    },
    async (c, { query }) => {
      const { items, nextId } = await listInvoices(db, query, readCursor(query.cursor));
      return c.json({ items, nextCursor: nextCursor(nextId) });
    },
  );

  route(
    {
      method: 'post',
      path: '/invoices',
      access: 'finance',
      operationId: 'issueInvoice',
      summary: 'Issue the invoice of one shipment or one order now',
      body: issueBody,
      responses: { 201: { description: 'Issued', schema: invoiceSchema } },
      errors: [404, 409, 422],
    },
    async (c, { body }) => c.json(await issueInvoiceNow(db, body, { outputDir }), 201),
  );

  route(
    {
      method: 'get',
      path: '/invoices/:number',
      access: 'read',
      operationId: 'getInvoice',
      summary: 'One invoice',
      params: z.object({ number: numberParam.describe('invoice number') }),
      query: formatQuery,
      responses: documentAnswer('invoice'),
      errors: [404],
    },
    async (c, { params, query }) =>
      answer(c, query.format, await invoiceByNumber(db, params.number, 'invoice')),
  );

  route(
    {
      method: 'post',
      path: '/invoices/:number/credit-notes',
      access: 'finance',
      operationId: 'creditInvoice',
      summary: 'Issue a credit note against an invoice (all of it, or the lines named)',
      params: z.object({ number: numberParam.describe('invoice number') }),
      body: creditBody,
      responses: { 201: { description: 'The credit note', schema: invoiceSchema } },
      errors: [404, 409, 422],
    },
    async (c, { params, body }) =>
      c.json(
        await creditNow(
          db,
          { invoiceNumber: params.number, lines: body.lines, reason: body.reason },
          { outputDir },
        ),
        201,
      ),
  );

  route(
    {
      method: 'get',
      path: '/credit-notes/:number',
      access: 'read',
      operationId: 'getCreditNote',
      summary: 'One credit note',
      params: z.object({ number: numberParam.describe('credit note number') }),
      query: formatQuery,
      responses: documentAnswer('credit note'),
      errors: [404],
    },
    async (c, { params, query }) =>
      answer(c, query.format, await invoiceByNumber(db, params.number, 'credit_note')),
  );

  route(
    {
      method: 'put',
      path: '/tax-classes/:taxClass/code',
      access: 'finance',
      operationId: 'setTaxClassCode',
      summary: 'Set the tax classification code (税收分类编码) e-invoices carry for a tax class',
      params: z.object({ taxClass: codeParam.describe('tax class') }),
      body: taxCodeBody,
      responses: {
        200: { description: 'Set', schema: z.object({ taxClass: z.string(), code: z.string() }) },
      },
      audit: {
        entity: 'tax_class',
        load: async ({ params }) =>
          (
            await db('tax_class_codes')
              .where('tax_class', params.taxClass as string)
              .first('code')
          )?.code ?? null,
      },
    },
    async (c, { params, body }) => c.json(await setTaxClassCode(db, params.taxClass, body.code)),
  );

  return app;
}
