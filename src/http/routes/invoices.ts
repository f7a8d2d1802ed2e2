import { type Context, Hono } from 'hono';
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
import { parseParam, readJson } from '../errors.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';
import { codeParam, idParam } from '../params.js';
import { XLSX_TYPE } from '../upload.js';

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
  const app = new Hono<AppEnv>();

  const answer = async (c: Context<AppEnv>, view: InvoiceView) => {
    const { format } = parseParam(formatQuery, c.req.query(), 'query');
    const wantsXlsx =
      format === 'xlsx' || (format === undefined && (c.req.header('accept') ?? '').includes(XLSX_TYPE));
    if (!wantsXlsx) return c.json(view);
    c.header('Content-Type', XLSX_TYPE);
    c.header('Content-Disposition', attachmentDisposition(documentFileName(view.number)));
    return c.body(new Uint8Array(invoiceWorkbook(view)));
  };

  app.get('/invoices', async (c) => {
    const filter = parseParam(listQuery, c.req.query(), 'query');
    const { items, nextId } = await listInvoices(db, filter, readCursor(filter.cursor));
    return c.json({ items, nextCursor: nextCursor(nextId) });
  });

  app.post('/invoices', async (c) => {
    const body = await readJson(c, issueBody);
    return c.json(await issueInvoiceNow(db, body, { outputDir }), 201);
  });

  app.get('/invoices/:number', async (c) =>
    answer(
      c,
      await invoiceByNumber(db, parseParam(numberParam, c.req.param('number'), 'invoice number'), 'invoice'),
    ),
  );

  app.post('/invoices/:number/credit-notes', async (c) => {
    const invoiceNumber = parseParam(numberParam, c.req.param('number'), 'invoice number');
    const body = await readJson(c, creditBody);
    return c.json(
      await creditNow(db, { invoiceNumber, lines: body.lines, reason: body.reason }, { outputDir }),
      201,
    );
  });

  app.get('/credit-notes/:number', async (c) =>
    answer(
      c,
      await invoiceByNumber(
        db,
        parseParam(numberParam, c.req.param('number'), 'credit note number'),
        'credit_note',
      ),
    ),
  );

  app.put('/tax-classes/:taxClass/code', async (c) => {
    const taxClass = parseParam(codeParam, c.req.param('taxClass'), 'tax class');
    const { code } = await readJson(c, taxCodeBody);
    return c.json(await setTaxClassCode(db, taxClass, code));
  });

  return app;
}
