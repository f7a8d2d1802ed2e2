import { PassThrough, Readable, type Writable } from 'node:stream';
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { currentBusinessTimeZone } from '../../customers/price-book.js';
import { ApiError } from '../../errors/api-error.js';
import { attachmentDisposition } from '../../inbox/file-name.js';
import { executionDefinition, executionPage } from '../../reports/execution.js';
import {
  executionSummary,
  executionSummaryDefinition,
  summaryPage,
} from '../../reports/execution-summary.js';
import { encodeKeyCursor, readKeyCursor } from '../../reports/report-cursor.js';
import {
  executionSummaryWorkbook,
  executionWorkbook,
  salesWorkbook,
  settlementWorkbook,
  slowMoverParams,
  slowMoversWorkbook,
} from '../../reports/report-files.js';
import { monthsOf, reportRange, today } from '../../reports/report-range.js';
import { columnHeaders, REPORT_LANGUAGES } from '../../reports/report-workbook.js';
import { MAX_SALES_MONTHS, SALES_KEY_SHAPE, salesDefinition, salesPage } from '../../reports/sales.js';
import { SETTLEMENT_KEY_SHAPE, settlementDefinition, settlementPage } from '../../reports/settlement.js';
import { SLOW_MOVER_KEY_SHAPE, slowMoversDefinition, slowMoversPage } from '../../reports/slow-movers.js';
import type { AppDeps, AppEnv } from '../env.js';
import { parseParam } from '../errors.js';
import { nextCursor, pageQuery, readCursor } from '../pagination.js';
import { codeParam } from '../params.js';
import { XLSX_TYPE } from '../upload.js';

const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD')
  .refine(
    (d) =>
      !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d),
    'not a calendar date',
  );
const common = {
  language: z.enum(REPORT_LANGUAGES).default('en'),
  format: z.enum(['json', 'xlsx']).optional(),
  ...pageQuery,
};
const rangeQuery = { from: date.optional(), to: date.optional() };

const settlementQuery = z.object({
  ...common,
  ...rangeQuery,
  by: z.enum(['customer', 'channel']).default('customer'),
});
const salesQuery = z.object({
  ...common,
  ...rangeQuery,
  by: z.enum(['sku', 'customer', 'salesperson', 'channel']).default('sku'),
});
const executionQuery = z.object({
  ...common,
  ...rangeQuery,
  customer: codeParam.optional(),
  salesperson: codeParam.optional(),
  contract: codeParam.optional(),
  sku: codeParam.optional(),
  by: z.enum(['line', 'customer', 'salesperson', 'contract', 'sku']).default('line'),
});
const slowMoverQuery = z.object({
  ...common,
  asOf: date.optional(),
  days: z.coerce.number().int().min(1).max(3650).default(90),
  coverDays: z.coerce.number().int().min(1).max(36500).default(180),
  all: z.enum(['true', 'false']).default('false'),
});

/** The range of a request: `from` defaults to the first of this month, `to` to today (business dates). */
function rangeOf(q: { from?: string | undefined; to?: string | undefined }) {
  const timeZone = currentBusinessTimeZone();
  const to = q.to ?? today(timeZone);
  const from = q.from ?? `${to.slice(0, 7)}-01`;
  if (from > to) throw new ApiError(400, 'invalid_parameter', 'from is after to');
  return reportRange(from, to, timeZone);
}

const wantsXlsx = (c: Context<AppEnv>, format: string | undefined, path: string) =>
  path.endsWith('.xlsx') ||
  format === 'xlsx' ||
  (format === undefined && (c.req.header('accept') ?? '').includes(XLSX_TYPE));

/**
 * A workbook streamed as it is written: the answer starts at once and the rows follow page by page.
 * A failure after the first bytes can only cut the download short (and is logged).
 */
function streamed(c: Context<AppEnv>, fileName: string, write: (stream: Writable) => Promise<unknown>) {
  const stream = new PassThrough();
  write(stream).catch((err: Error) => {
    c.get('log')?.error({ err: err.message }, 'report workbook failed');
    stream.destroy(err);
  });
  return new Response(Readable.toWeb(stream) as ReadableStream, {
    status: 200,
    headers: { 'Content-Type': XLSX_TYPE, 'Content-Disposition': attachmentDisposition(fileName) },
  });
}

/**
 * Reports (README "Reports"): settlement, execution, sales analysis and slow movers, each as JSON
 * pages (`limit`, `cursor`, `nextCursor`) or as a streamed Excel workbook (`.xlsx` or
 * `?format=xlsx`), headers in `language` (zh-CN or en). Read-only.
 */
export function reportRoutes(deps: AppDeps) {
  const { db } = deps;
  const app = new Hono<AppEnv>();

  for (const path of ['/reports/settlement', '/reports/settlement.xlsx']) {
    app.get(path, async (c) => {
      const q = parseParam(settlementQuery, c.req.query(), 'query');
      const range = rangeOf(q);
      if (wantsXlsx(c, q.format, path))
        return streamed(c, `settlement-${q.by}-${range.from}-${range.to}.xlsx`, (s) =>
          settlementWorkbook(db, s, { by: q.by, range, language: q.language }),
        );
      const after = readKeyCursor(q.cursor, SETTLEMENT_KEY_SHAPE[q.by]);
      const { items, next } = await settlementPage(db, { by: q.by, range }, after, q.limit);
      return c.json({
        from: range.from,
        to: range.to,
        by: q.by,
        columns: columnHeaders(settlementDefinition(q.by), q.language),
        items,
        nextCursor: next ? encodeKeyCursor(next) : null,
      });
    });
  }

  for (const path of ['/reports/sales', '/reports/sales.xlsx']) {
    app.get(path, async (c) => {
      const q = parseParam(salesQuery, c.req.query(), 'query');
      const range = rangeOf(q);
      if (monthsOf(range).length > MAX_SALES_MONTHS)
        throw new ApiError(400, 'invalid_parameter', `at most ${MAX_SALES_MONTHS} months at once`);
      if (wantsXlsx(c, q.format, path))
        return streamed(c, `sales-${q.by}-${range.from}-${range.to}.xlsx`, (s) =>
          salesWorkbook(db, s, { by: q.by, range, language: q.language }),
        );
      const after = readKeyCursor(q.cursor, SALES_KEY_SHAPE[q.by]);
      const { items, next } = await salesPage(db, { by: q.by, range }, after, q.limit);
      return c.json({
        from: range.from,
        to: range.to,
        by: q.by,
        columns: columnHeaders(salesDefinition(q.by), q.language),
        items,
        nextCursor: next ? encodeKeyCursor(next) : null,
      });
    });
  }

  for (const path of ['/reports/execution', '/reports/execution.xlsx']) {
    app.get(path, async (c) => {
      const q = parseParam(executionQuery, c.req.query(), 'query');
      const range = rangeOf(q);
      const filter = { customer: q.customer, salesperson: q.salesperson, contract: q.contract, sku: q.sku };
      const { by } = q;
      if (by !== 'line') {
        if (wantsXlsx(c, q.format, path))
          return streamed(c, `execution-${by}-${range.from}-${range.to}.xlsx`, (s) =>
            executionSummaryWorkbook(db, s, { range, filter, by, language: q.language }),
          );
        const after = readKeyCursor(q.cursor, ['string', 'string']);
        const { items, next } = summaryPage(
          await executionSummary(db, { range, filter, by }),
          after,
          q.limit,
        );
        return c.json({
          from: range.from,
          to: range.to,
          by,
          columns: columnHeaders(executionSummaryDefinition(by), q.language),
          items,
          nextCursor: next ? encodeKeyCursor(next) : null,
        });
      }
      if (wantsXlsx(c, q.format, path))
        return streamed(c, `execution-${range.from}-${range.to}.xlsx`, (s) =>
          executionWorkbook(db, s, { range, filter, language: q.language }),
        );
      const { items, next } = await executionPage(db, { range, filter }, readCursor(q.cursor), q.limit);
      return c.json({
        from: range.from,
        to: range.to,
        by,
        columns: columnHeaders(executionDefinition(q.language), q.language),
        items,
        nextCursor: nextCursor(next),
      });
    });
  }

  for (const path of ['/reports/slow-movers', '/reports/slow-movers.xlsx']) {
    app.get(path, async (c) => {
      const q = parseParam(slowMoverQuery, c.req.query(), 'query');
      const p = slowMoverParams({ ...q, all: q.all === 'true' }, currentBusinessTimeZone());
      if (wantsXlsx(c, q.format, path))
        return streamed(c, `slow-movers-${p.asOf}.xlsx`, (s) =>
          slowMoversWorkbook(db, s, { ...p, language: q.language }),
        );
      const after = readKeyCursor(q.cursor, SLOW_MOVER_KEY_SHAPE);
      const { items, next } = await slowMoversPage(db, p, after, q.limit);
      return c.json({
        asOf: p.asOf,
        days: p.days,
        coverDays: p.coverDays,
        columns: columnHeaders(slowMoversDefinition(q.language), q.language),
        items,
        nextCursor: next ? encodeKeyCursor(next) : null,
      });
    });
  }

  return app;
}
