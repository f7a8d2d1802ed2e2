import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { z } from 'zod';
import {
  customerIdByCode,
  issueStatement,
  issueStatements,
  type LinesCursor,
  listStatements,
  moveStatement,
  statementById,
  statementFile,
  statementLinesPage,
} from '../../billing/statements.js';
import { currentBusinessTimeZone } from '../../customers/price-book.js';
import { text } from '../../domain/order-input.js';
import { datePeriod, monthPeriod, STATEMENT_STATES } from '../../domain/statement.js';
import { ApiError } from '../../errors/api-error.js';
import { attachmentDisposition } from '../../inbox/file-name.js';
import type { AppDeps } from '../env.js';
import { actorOf, newRoutes, routeRegistrar } from '../openapi.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';
import { codeParam, idParam } from '../params.js';
import { XLSX_TYPE } from '../upload.js';
import { statementLineSchema, statementSchema } from './billing-schemas.js';

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD');
const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month YYYY-MM');
const issueBody = z
  .object({
    customer: codeParam.optional(),
    from: date.optional(),
    to: date.optional(),
    period: month.optional(),
  })
  .strict()
  .refine((b) => (b.period ? !b.from && !b.to : Boolean(b.from && b.to)), {
    message: 'give from and to, or period (YYYY-MM)',
  });
const listQuery = z.object({
  customer: codeParam.optional(),
  period: z
    .string()
    .regex(/^\d{4}-\d{2}(-\d{2}_\d{4}-\d{2}-\d{2})?$/, 'YYYY-MM, or <from>_<to>')
    .optional(),
  state: z.enum(STATEMENT_STATES).optional(),
  ...pageQuery,
});
const linesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(5000).default(500),
  cursor: z.string().max(2000).optional(),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'a currency code')
    .optional(),
});
const disputeBody = z
  .object({ note: text().trim().min(1, 'a dispute needs the customer\u2019s note').max(1000) })
  .strict();

const encodeLines = (c: LinesCursor) => Buffer.from(JSON.stringify(c)).toString('base64url');
function decodeLines(cursor: string | undefined): LinesCursor | null {
  if (!cursor) return null;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as LinesCursor;
    const pos = v?.positions;
    const ok = (p: unknown) =>
      p === null ||
      (Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && Number.isSafeInteger(p[1]));
    if (
      pos &&
      ok(pos.invoice) &&
      ok(pos.payment) &&
      ok(pos.shipment) &&
      v.balances &&
      Object.values(v.balances).every((b) => Number.isSafeInteger(b))
    )
      return v;
  } catch {
    // falls through
  }
  throw new ApiError(400, 'invalid_parameter', 'cursor is not valid');
}

const statementParams = z.object({ id: idParam.describe('statement id') });
const statementList = z
  .object({ items: z.array(statementSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'StatementList' });

/**
 * Customer statements (对账单): issuing for one customer or all, lists, one with its lines page by
 * page, its workbook, and the state moves (sent, confirmed, disputed).
 */
export function statementRoutes(deps: AppDeps) {
  const { db } = deps;
  const outputRoot = deps.outputDir ?? './data/outputs';
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Statements', entity: 'statement', db });

  route(
    {
      method: 'post',
      path: '/statements',
      access: 'finance',
      operationId: 'issueStatements',
      summary: 'Issue the statements of a period, for one customer or for all',
      description:
        'Without `customer`: every trade customer with a line in the period, a balance before it or an earlier statement.',
      body: issueBody,
      responses: {
        200: {
          description: 'Nothing new to issue: the statements as they are',
          schema: z.object({
            items: z.array(statementSchema),
            issued: z.number().int(),
            unchanged: z.number().int(),
          }),
        },
        201: {
          description: 'Something was issued',
          schema: z.object({
            items: z.array(statementSchema),
            issued: z.number().int(),
            unchanged: z.number().int(),
          }),
        },
      },
      errors: [404],
    },
    async (c, { body }) => {
      let period = body.period ? monthPeriod(body.period) : datePeriod(body.from!, body.to!);
      if (typeof period === 'string') throw new ApiError(422, 'invalid_period', period);
      period = period as Exclude<typeof period, string>;
      const options = {
        outputRoot,
        folder: `statements-on-demand/${period.key}`,
        timeZone: currentBusinessTimeZone(),
        actor: actorOf(c),
      };
      const result = body.customer
        ? await issueStatement(db, await customerIdByCode(db, body.customer), period, options).then((r) => ({
            issued: r.created && r.statement ? [r.statement] : [],
            unchanged: !r.created && r.statement ? [r.statement] : [],
          }))
        : await issueStatements(db, period, options);
      return c.json(
        {
          items: [...result.issued, ...result.unchanged].sort((a, b) => a.id - b.id),
          issued: result.issued.length,
          unchanged: result.unchanged.length,
        },
        result.issued.length > 0 ? 201 : 200,
      );
    },
  );

  route(
    {
      method: 'get',
      path: '/statements',
      access: 'read',
      operationId: 'listStatements',
      summary: 'Statements, newest first',
      query: listQuery,
      responses: { 200: { description: 'A page', schema: statementList } },
      errors: [404],
    },
    async (c, { query: q }) => {
      const customerId = q.customer ? await customerIdByCode(db, q.customer) : undefined;
      const { items, nextId } = await listStatements(
        db,
        { customerId, period: q.period, state: q.state, limit: q.limit },
        readCursor(q.cursor),
      );
      return c.json({ items, nextCursor: nextCursor(nextId) });
    },
  );

  route(
    {
      method: 'get',
      path: '/statements/:id',
      access: 'read',
      operationId: 'getStatement',
      summary: 'One statement with a page of its lines (date order, running balances)',
      params: statementParams,
      query: linesQuery,
      responses: {
        200: {
          description: 'The statement; `nextCursor` continues its lines',
          schema: statementSchema.extend({
            lines: z.array(statementLineSchema),
            nextCursor: z.string().nullable(),
          }),
        },
      },
      errors: [404],
    },
    async (c, { params, query: q }) => {
      const st = await statementById(db, params.id);
      const page = await statementLinesPage(db, st, {
        timeZone: currentBusinessTimeZone(),
        limit: q.limit,
        cursor: decodeLines(q.cursor),
        currency: q.currency,
      });
      return c.json({ ...st, lines: page.lines, nextCursor: page.next ? encodeLines(page.next) : null });
    },
  );

  // Not `read`: a workbook no longer on disk is written again.
  route(
    {
      method: 'get',
      path: '/statements/:id/file',
      access: 'finance',
      operationId: 'downloadStatement',
      summary: 'A statement’s workbook',
      params: statementParams,
      responses: { 200: { description: 'The workbook', contentType: XLSX_TYPE } },
      errors: [404],
    },
    async (c, { params }) => {
      const { file, name } = await statementFile(db, params.id, {
        outputRoot,
        timeZone: currentBusinessTimeZone(),
      });
      const { size } = await stat(file);
      c.header('Content-Type', XLSX_TYPE);
      c.header('Content-Length', String(size));
      c.header('Content-Disposition', attachmentDisposition(name));
      return c.body(Readable.toWeb(createReadStream(file)) as ReadableStream);
    },
  );

  const moves = [
    { to: 'sent', operationId: 'markStatementSent', summary: 'The statement was sent to the customer' },
    { to: 'confirmed', operationId: 'confirmStatement', summary: 'The customer confirmed the statement' },
  ] as const;
  for (const { to, operationId, summary } of moves) {
    route(
      {
        method: 'post',
        path: `/statements/:id/${to}`,
        access: 'finance',
        operationId,
        summary,
        params: statementParams,
        responses: { 200: { description: 'The statement now', schema: statementSchema } },
        errors: [404, 409],
      },
      async (c, { params }) => c.json(await moveStatement(db, params.id, to, { actor: actorOf(c) })),
    );
  }
  route(
    {
      method: 'post',
      path: '/statements/:id/disputed',
      access: 'finance',
      operationId: 'disputeStatement',
      summary: 'The customer disputes the statement (with their note)',
      params: statementParams,
      body: disputeBody,
      responses: { 200: { description: 'The statement now', schema: statementSchema } },
      errors: [404, 409],
    },
    async (c, { params, body }) =>
      c.json(await moveStatement(db, params.id, 'disputed', { actor: actorOf(c), note: body.note })),
  );

  return app;
}
