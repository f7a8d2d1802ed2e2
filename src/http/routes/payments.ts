import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { bilingual } from '../../../connectors/excel-inbox/bilingual.js';
import { importBankStatement } from '../../billing/payment-import.js';
import { applyPayment, listPayments, paymentById, recordPayment } from '../../billing/payments.js';
import type { Db } from '../../db/connection.js';
import { applyBodySchema, paymentBodySchema } from '../../domain/payments.js';
import { ApiError } from '../../errors/api-error.js';
import type { AppEnv } from '../env.js';
import { errorResponse, parseParam, readJson } from '../errors.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';
import { codeParam, idParam } from '../params.js';
import { actorOf } from './credit.js';

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

/** Customer receipts: record, import a bank statement, apply what is on account, list, one. */
export function paymentRoutes(db: Db) {
  const app = new Hono<AppEnv>();

  app.post('/payments', async (c) => {
    const body = await readJson(c, paymentBodySchema);
    const { payment, created } = await recordPayment(db, body, { source: 'api', actor: actorOf(c) });
    return c.json(payment, created ? 201 : 200);
  });

  app.post(
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
    async (c) => {
      const { fileName } = parseParam(importQuery, c.req.query(), 'query');
      const data = Buffer.from(await c.req.arrayBuffer());
      if (data.length === 0)
        throw new ApiError(422, 'invalid_file', bilingual('the body holds no CSV', '请求体中没有 CSV 文件'));
      const result = await importBankStatement(db, { data, fileName: fileName ?? null }, actorOf(c));
      return c.json(result, result.repeatedFile ? 200 : 201);
    },
  );

  app.get('/payments', async (c) => {
    const filter = parseParam(listQuery, c.req.query(), 'query');
    const { items, nextId } = await listPayments(db, filter, readCursor(filter.cursor));
    return c.json({ items, nextCursor: nextCursor(nextId) });
  });

  app.get('/payments/:id', async (c) =>
    c.json(await paymentById(db, parseParam(idParam, c.req.param('id'), 'payment id'))),
  );

  app.post('/payments/:id/apply', async (c) => {
    const id = parseParam(idParam, c.req.param('id'), 'payment id');
    // The body is optional: none applies to the oldest open invoices.
    const body = (await c.req.raw.clone().text()).trim() === '' ? {} : await readJson(c, applyBodySchema);
    return c.json(await applyPayment(db, id, body.invoices, actorOf(c)));
  });

  return app;
}
