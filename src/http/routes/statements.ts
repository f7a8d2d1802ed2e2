import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { Hono } from 'hono';
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
import type { AppDeps, AppEnv } from '../env.js';
import { parseParam, readJson } from '../errors.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';
import { codeParam, idParam } from '../params.js';
import { XLSX_TYPE } from '../upload.js';
import { actorOf } from './credit.js';

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

/**
 * Customer statements (对账单): issuing for one customer or all, lists, one with its lines page by
 * page, its workbook, and the state moves (sent, confirmed, disputed).
 */
export function statementRoutes(deps: AppDeps) {
  const { db } = deps;
  const outputRoot = deps.outputDir ?? './data/outputs';
  const app = new Hono<AppEnv>();

  app.post('/statements', async (c) => {
    const body = await readJson(c, issueBody);
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
  });

  app.get('/statements', async (c) => {
    const q = parseParam(listQuery, c.req.query(), 'query');
    const customerId = q.customer ? await customerIdByCode(db, q.customer) : undefined;
    const { items, nextId } = await listStatements(
      db,
      { customerId, period: q.period, state: q.state, limit: q.limit },
      readCursor(q.cursor),
    );
    return c.json({ items, nextCursor: nextCursor(nextId) });
  });

  app.get('/statements/:id', async (c) => {
    const id = parseParam(idParam, c.req.param('id'), 'statement id');
    const q = parseParam(linesQuery, c.req.query(), 'query');
    const st = await statementById(db, id);
    const page = await statementLinesPage(db, st, {
      timeZone: currentBusinessTimeZone(),
      limit: q.limit,
      cursor: decodeLines(q.cursor),
      currency: q.currency,
    });
    return c.json({ ...st, lines: page.lines, nextCursor: page.next ? encodeLines(page.next) : null });
  });

  app.get('/statements/:id/file', async (c) => {
    const id = parseParam(idParam, c.req.param('id'), 'statement id');
    const { file, name } = await statementFile(db, id, { outputRoot, timeZone: currentBusinessTimeZone() });
    const { size } = await stat(file);
    c.header('Content-Type', XLSX_TYPE);
    c.header('Content-Length', String(size));
    c.header('Content-Disposition', attachmentDisposition(name));
    return c.body(Readable.toWeb(createReadStream(file)) as ReadableStream);
  });

  for (const to of ['sent', 'confirmed', 'disputed'] as const) {
    app.post(`/statements/:id/${to}`, async (c) => {
      const id = parseParam(idParam, c.req.param('id'), 'statement id');
      const note = to === 'disputed' ? (await readJson(c, disputeBody)).note : undefined;
      return c.json(await moveStatement(db, id, to, { actor: actorOf(c), note }));
    });
  }

  return app;
}
