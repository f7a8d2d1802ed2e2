import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { bilingual } from '../../../connectors/excel-inbox/bilingual.js';
import { importBankStatement } from '../../billing/payment-import.js';
import { applyPayment, listPayments, paymentById, recordPayment } from '../../billing/payments.js';
import type { Db } from '../../db/connection.js';
import { applyBodySchema, paymentBodySchema } from '../../domain/payments.js';
import { ApiError } from '../../errors/api-error.js';
import { errorResponse } from '../errors.js';
import { actorOf, newRoutes, routeRegistrar } from '../openapi.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';
import { codeParam, idParam } from '../params.js';
import { paymentImportSchema, paymentSchema } from './billing-schemas.js';

/** The bank statement upload; it has a body limit of its own instead of the API's. */
export const PAYMENT_IMPORT_PATH = '/api/payments/import';
/** The largest bank statement taken (413 beyond it). */
export const MAX_STATEMENT_BYTES = 5 * 1024 * 1024;

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD');
const listQuery = z.object({
  customer: codeParam.optional(),
  from: date.optional(),
  to: date.optional(),
  ...pageQuery,
});
const importQuery = z.object({ fileName: z.string().trim().min(1).max(255).optional() });

const paymentIdParams = z.object({ id: idParam.describe('payment id') });

/** Customer receipts: record, import a bank statement, apply what is on account, list, one. */
export function paymentRoutes(db: Db) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Payments', entity: 'payment', db });

  route(
    {
      method: 'post',
      path: '/payments',
      access: 'finance',
      operationId: 'recordPayment',
      summary: 'Record a customer receipt and apply it to open invoices',
      description:
        'Idempotent on (customer, reference): the same receipt again answers 200 with the payment recorded first.',
      body: paymentBodySchema,
      responses: {
        200: { description: 'Recorded before', schema: paymentSchema },
        201: { description: 'Recorded', schema: paymentSchema },
      },
      errors: [409],
    },
    async (c, { body }) => {
      const { payment, created } = await recordPayment(db, body, { source: 'api', actor: actorOf(c) });
      return c.json(payment, created ? 201 : 200);
    },
  );

  // The bank statement has a body limit of its own instead of the API's.
  app.use(
    '/payments/import',
    bodyLimit({
      maxSize: MAX_STATEMENT_BYTES,
      onError: (c) =>
        errorResponse(
          c,
          413,
          'payload_too_large',
          bilingual(
            `a bank statement may be at most ${MAX_STATEMENT_BYTES} bytes`,
            `银行流水文件最大为 ${MAX_STATEMENT_BYTES} 字节`,
          ),
        ),
    }),
  );
  route(
    {
      method: 'post',
      path: '/payments/import',
      access: 'finance',
      operationId: 'importBankStatement',
      summary: 'Import the receipts of a bank statement (CSV)',
      query: importQuery,
      upload: {
        contentTypes: ['text/csv'],
        description: `The bank statement as CSV (UTF-8 or GB18030), at most ${MAX_STATEMENT_BYTES} bytes`,
      },
      responses: {
        200: {
          description: 'The same file was imported before: that import’s result',
          schema: paymentImportSchema,
        },
        201: { description: 'Imported', schema: paymentImportSchema },
      },
      errors: [422],
    },
    async (c, { query }) => {
      const data = Buffer.from(await c.req.arrayBuffer());
      if (data.length === 0)
        throw new ApiError(422, 'invalid_file', bilingual('the body holds no CSV', '请求体中没有 CSV 文件'));
      const result = await importBankStatement(db, { data, fileName: query.fileName ?? null }, actorOf(c));
      return c.json(result, result.repeatedFile ? 200 : 201);
    },
  );

  route(
    {
      method: 'get',
      path: '/payments',
      access: 'read',
      operationId: 'listPayments',
      summary: 'Payments, newest first',
      query: listQuery,
      responses: {
        200: {
          description: 'A page',
          schema: z.object({ items: z.array(paymentSchema), nextCursor: z.string().nullable() }),
        },
      },
    },
    async (c, { query }) => {
      const { items, nextId } = await listPayments(db, query, readCursor(query.cursor));
      return c.json({ items, nextCursor: nextCursor(nextId) });
    },
  );

  route(
    {
      method: 'get',
      path: '/payments/:id',
      access: 'read',
      operationId: 'getPayment',
      summary: 'One payment with its allocations',
      params: paymentIdParams,
      responses: { 200: { description: 'The payment', schema: paymentSchema } },
      errors: [404],
    },
    async (c, { params }) => c.json(await paymentById(db, params.id)),
  );

  route(
    {
      method: 'post',
      path: '/payments/:id/apply',
      access: 'finance',
      operationId: 'applyPayment',
      summary: 'Apply what a payment has on account to open invoices',
      description: 'No body (or no `invoices`): the oldest open invoices first.',
      params: paymentIdParams,
      body: applyBodySchema,
      bodyOptional: true,
      responses: {
        200: {
          description: 'The payment now, and what this applied',
          schema: z.object({
            payment: paymentSchema,
            appliedNow: z.array(z.object({ invoice: z.string(), amount: z.number().int() })),
          }),
        },
      },
      errors: [404, 409, 422],
    },
    async (c, { params, body }) => c.json(await applyPayment(db, params.id, body.invoices, actorOf(c))),
  );

  return app;
}
