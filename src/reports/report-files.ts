import { createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Conn } from '../db/connection.js';
import { dbTime } from '../db/connection.js';
import { periodBounds } from '../domain/job-periods.js';
import { type ExecutionFilter, type ExecutionRow, executionDefinition, executionPage } from './execution.js';
import { type ExecutionBy, executionSummary, executionSummaryDefinition } from './execution-summary.js';
import type { ReportKey } from './report-cursor.js';
import { daysBefore, type ReportRange, today } from './report-range.js';
import { allPages, type Language, writeReportWorkbook } from './report-workbook.js';
import { type SalesBy, type SalesRow, salesDefinition, salesPage } from './sales.js';
import { type SettlementBy, type SettlementRow, settlementDefinition, settlementPage } from './settlement.js';
import {
  type SlowMoverParams,
  type SlowMoverRow,
  slowMoversDefinition,
  slowMoversPage,
} from './slow-movers.js';

/**
 * The reports as workbooks: one function per report that streams every row into `stream`, page by
 * page, used by the `.xlsx` routes and the monthly `reports` job alike.
 */

/**
 * Grouped reports add up the whole period for each page; their rows are few, so a workbook takes
 * them in large pages.
 */
const GROUPS_PER_PAGE = 5000;

const rangeText = (r: ReportRange) => `${r.from} – ${r.to}`;

export function settlementWorkbook(
  db: Conn,
  stream: Writable,
  p: { by: SettlementBy; range: ReportRange; language: Language },
) {
  const by = { en: `by ${p.by}`, 'zh-CN': p.by === 'customer' ? '按客户' : '按渠道' }[p.language];
  return writeReportWorkbook(
    stream,
    settlementDefinition(p.by),
    allPages<SettlementRow, ReportKey>(
      (cursor, limit) => settlementPage(db, p, cursor, limit),
      GROUPS_PER_PAGE,
    ),
    { language: p.language, subtitle: `${rangeText(p.range)} (${by})` },
  );
}

export function salesWorkbook(
  db: Conn,
  stream: Writable,
  p: { by: SalesBy; range: ReportRange; language: Language },
) {
  const labels: Record<SalesBy, string> = {
    sku: '按货号',
    customer: '按客户',
    salesperson: '按业务员',
    channel: '按渠道',
  };
  const by = p.language === 'zh-CN' ? labels[p.by] : `by ${p.by}`;
  return writeReportWorkbook(
    stream,
    salesDefinition(p.by),
    allPages<SalesRow, ReportKey>((cursor, limit) => salesPage(db, p, cursor, limit), GROUPS_PER_PAGE),
    { language: p.language, subtitle: `${rangeText(p.range)} (${by})` },
  );
}

export function executionWorkbook(
  db: Conn,
  stream: Writable,
  p: { range: ReportRange; filter: ExecutionFilter; language: Language },
) {
  return writeReportWorkbook(
    stream,
    executionDefinition(p.language),
    allPages<ExecutionRow, number>((cursor, limit) => executionPage(db, p, cursor, limit)),
    { language: p.language, subtitle: rangeText(p.range) },
  );
}

/** The execution summary per customer, salesperson, contract or SKU as a workbook. */
export async function executionSummaryWorkbook(
  db: Conn,
  stream: Writable,
  p: { range: ReportRange; filter: ExecutionFilter; by: ExecutionBy; language: Language },
) {
  const rows = await executionSummary(db, p);
  async function* each() {
    yield* rows;
  }
  return writeReportWorkbook(stream, executionSummaryDefinition(p.by), each(), {
    language: p.language,
    subtitle: rangeText(p.range),
  });
}

export function slowMoversWorkbook(db: Conn, stream: Writable, p: SlowMoverParams & { language: Language }) {
  const subtitle =
    p.language === 'zh-CN'
      ? `截至 ${p.asOf}，${p.days} 天未出库，可售超过 ${p.coverDays} 天`
      : `as of ${p.asOf}, not shipped for ${p.days} days, cover over ${p.coverDays} days`;
  return writeReportWorkbook(
    stream,
    slowMoversDefinition(p.language),
    allPages<SlowMoverRow, ReportKey>((cursor, limit) => slowMoversPage(db, p, cursor, limit)),
    { language: p.language, subtitle },
  );
}

/** The slow-mover parameters for a business date and thresholds. */
export function slowMoverParams(
  input: { asOf?: string | undefined; days: number; coverDays: number; all: boolean },
  timeZone: string,
): SlowMoverParams {
  const asOf = input.asOf ?? today(timeZone);
  const startOf = (date: string) => dbTime(periodBounds('day', date, timeZone).start);
  return {
    asOf,
    asOfEnd: dbTime(periodBounds('day', asOf, timeZone).end),
    // A window of n days ends with asOf: it starts n - 1 days before it.
    since30: startOf(daysBefore(asOf, 29)),
    since90: startOf(daysBefore(asOf, 89)),
    sinceDays: startOf(daysBefore(asOf, input.days - 1)),
    days: input.days,
    coverDays: input.coverDays,
    all: input.all,
  };
}

/** Writes a workbook to `dir/name` through a temporary name, so that a file that exists is whole. */
export async function writeReportFile(
  dir: string,
  name: string,
  write: (stream: Writable) => Promise<unknown>,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, name);
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const stream = new PassThrough();
  const out = pipeline(stream, createWriteStream(tmp));
  await write(stream);
  await out;
  await rename(tmp, file);
  return file;
}
