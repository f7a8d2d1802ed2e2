import { PassThrough, Readable, type Writable } from 'node:stream';
import type { Context } from 'hono';
import { z } from 'zod';
import { currentBusinessTimeZone } from '../../customers/price-book.js';
import { ApiError } from '../../errors/api-error.js';
import { attachmentDisposition } from '../../inbox/file-name.js';
import { type ExecutionReason, executionDefinition, executionPage } from '../../reports/execution.js';
import {
  EXECUTION_REASONS,
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
import { newRoutes, type ResponseSpec, routeRegistrar } from '../openapi.js';
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

const party = z.object({ code: z.string().nullable(), name: z.string().nullable() }).nullable();
const money = z.number().int().describe('integer minor units');
const columnsSchema = z
  .array(
    z.object({
      key: z.string(),
      header: z.string().describe('in the language asked for'),
      kind: z.enum(['text', 'integer', 'money', 'date']),
    }),
  )
  .meta({ id: 'ReportColumns' });
const rangeAnswer = {
  from: z.string(),
  to: z.string(),
  columns: columnsSchema,
  nextCursor: z.string().nullable(),
};

const settlementRow = z
  .object({
    customer: party,
    channel: z.string().nullable(),
    currency: z.string(),
    orders: z.number().int(),
    quantity: z.number().int(),
    gross: money,
    discounts: money,
    tax: money,
    shipping: money,
    net: money,
    invoices: z.number().int(),
    invoiced: money,
    credited: money,
    paid: money,
    outstanding: money,
  })
  .meta({ id: 'SettlementRow' });
const salesRow = z
  .object({
    month: z.string(),
    sku: party,
    customer: party,
    salesperson: party,
    channel: z.string().nullable(),
    currency: z.string(),
    orders: z.number().int(),
    lines: z.number().int(),
    quantity: z.number().int(),
    shipped: z.number().int(),
    returned: z.number().int(),
    gross: money,
    discounts: money,
    net: money,
    tax: money,
  })
  .meta({ id: 'SalesRow' });
const executionFigures = {
  currency: z.string(),
  ordered: z.number().int(),
  reserved: z.number().int(),
  backordered: z.number().int(),
  shipped: z.number().int(),
  cancelled: z.number().int(),
  returned: z.number().int(),
  invoiced: z.number().int(),
  invoicedAmount: money,
  paid: money,
  variance: money,
};
const executionReason = z.enum(EXECUTION_REASONS as [ExecutionReason, ...ExecutionReason[]]);
const executionRow = z
  .object({
    lineId: z.number().int(),
    orderId: z.number().int(),
    externalId: z.string(),
    channel: z.string(),
    placedAt: z.string(),
    status: z.string(),
    customer: party,
    salesperson: party,
    contract: z.string().nullable(),
    lineNo: z.number().int(),
    sku: z.string(),
    unitPrice: money,
    ...executionFigures,
    reasons: z.array(executionReason),
  })
  .meta({ id: 'ExecutionRow' });
const executionSummaryRow = z
  .object({
    code: z.string().nullable(),
    name: z.string().nullable(),
    lines: z.number().int(),
    ...executionFigures,
    reasons: z.record(executionReason, z.number().int()).describe('lines per reason'),
  })
  .meta({ id: 'ExecutionSummaryRow' });
const slowMoverRow = z
  .object({
    sku: z.string(),
    name: z.string(),
    warehouse: z.string(),
    onHand: z.number().int(),
    reserved: z.number().int(),
    sold30: z.number().int(),
    sold90: z.number().int(),
    coverDays30: z.number().int().nullable(),
    coverDays90: z.number().int().nullable(),
    lastShippedAt: z.string().nullable(),
    lastMovedAt: z.string().nullable(),
    daysSinceShipped: z.number().int().nullable(),
    unitCost: money.nullable(),
    costCurrency: z.string().nullable(),
    valueAtCost: money.nullable(),
    flags: z.array(z.enum(['not_moved', 'overstock'])),
  })
  .meta({ id: 'SlowMoverRow' });

const settlementAnswer = z
  .object({ ...rangeAnswer, by: z.enum(['customer', 'channel']), items: z.array(settlementRow) })
  .meta({ id: 'SettlementReport' });
const salesAnswer = z
  .object({
    ...rangeAnswer,
    by: z.enum(['sku', 'customer', 'salesperson', 'channel']),
    items: z.array(salesRow),
  })
  .meta({ id: 'SalesReport' });
const executionAnswer = z
  .object({
    ...rangeAnswer,
    by: z.enum(['line', 'customer', 'salesperson', 'contract', 'sku']),
    items: z.union([z.array(executionRow), z.array(executionSummaryRow)]),
  })
  .describe('`by=line`: one item per order line; otherwise the lines added up per `by`')
  .meta({ id: 'ExecutionReport' });
const slowMoversAnswer = z
  .object({
    asOf: z.string(),
    days: z.number().int(),
    coverDays: z.number().int(),
    columns: columnsSchema,
    items: z.array(slowMoverRow),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'SlowMoversReport' });

/** The two operations of a report: JSON pages (or the workbook when asked), and the `.xlsx` path. */
function reportAnswers(
  name: string,
  schema: z.ZodType,
): [Record<number, ResponseSpec>, Record<number, ResponseSpec>] {
  return [
    {
      200: {
        description: `A page of the ${name} report, or its workbook with \`?format=xlsx\` (or \`Accept\` naming the xlsx type)`,
        schema,
        files: [XLSX_TYPE],
      },
    },
    { 200: { description: `The ${name} report as a workbook, streamed`, contentType: XLSX_TYPE } },
  ];
}

/**
 * Reports (README "Reports"): settlement, execution, sales analysis and slow movers, each as JSON
 * pages (`limit`, `cursor`, `nextCursor`) or as a streamed Excel workbook (`.xlsx` or
 * `?format=xlsx`), headers in `language` (zh-CN or en). Read-only.
 */
export function reportRoutes(deps: AppDeps) {
  const { db } = deps;
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Reports', entity: 'report', db });
  /** Declares a report at `/reports/<name>` and `/reports/<name>.xlsx`, both answered by `handle`. */
  const report = <Q extends z.ZodObject<z.ZodRawShape>>(
    r: {
      name: string;
      title: string;
      operation: string;
      summary: string;
      query: Q;
      schema: z.ZodType;
    },
    handle: (c: Context<AppEnv>, q: z.output<Q>, path: string) => Promise<Response>,
  ) => {
    const [json, file] = reportAnswers(r.title, r.schema);
    const base = `/reports/${r.name}`;
    route(
      {
        method: 'get',
        path: base,
        access: 'read',
        operationId: `get${r.operation}`,
        summary: r.summary,
        query: r.query,
        responses: json,
      },
      (c, { query }) => handle(c, query as z.output<Q>, base),
    );
    route(
      {
        method: 'get',
        path: `${base}.xlsx`,
        access: 'read',
        operationId: `download${r.operation}`,
        summary: `${r.summary}, as a workbook`,
        query: r.query,
        responses: file,
      },
      (c, { query }) => handle(c, query as z.output<Q>, `${base}.xlsx`),
    );
  };

  report(
    {
      name: 'settlement',
      title: 'settlement',
      operation: 'SettlementReport',
      summary: 'Settlement: orders, invoices, credits and payments per customer or channel',
      query: settlementQuery,
      schema: settlementAnswer,
    },
    async (c, q, path) => {
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
    },
  );

  report(
    {
      name: 'sales',
      title: 'sales analysis',
      operation: 'SalesReport',
      summary: `Sales analysis per month and SKU, customer, salesperson or channel (at most ${MAX_SALES_MONTHS} months)`,
      query: salesQuery,
      schema: salesAnswer,
    },
    async (c, q, path) => {
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
    },
  );

  report(
    {
      name: 'execution',
      title: 'execution',
      operation: 'ExecutionReport',
      summary:
        'Execution: what became of each order line, or the lines added up per customer, salesperson, contract or SKU',
      query: executionQuery,
      schema: executionAnswer,
    },
    async (c, q, path) => {
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
    },
  );

  report(
    {
      name: 'slow-movers',
      title: 'slow movers',
      operation: 'SlowMoversReport',
      summary: 'Slow movers: stock not shipped in `days`, or with more than `coverDays` of cover',
      query: slowMoverQuery,
      schema: slowMoversAnswer,
    },
    async (c, q, path) => {
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
    },
  );

  return app;
}
