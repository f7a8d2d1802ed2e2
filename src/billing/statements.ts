import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { type Conn, type Db, dbTime, forUpdate, isoTime, lockClause, rawRows } from '../db/connection.js';
import { withTransaction } from '../db/retry.js';
import { codeKey } from '../domain/codes.js';
import { addDays, startOfDayUtc } from '../domain/invoice.js';
import { canMove, type StatementPeriod, type StatementState } from '../domain/statement.js';
import { conflict, notFound } from '../errors/domain-errors.js';
import { safeFileName } from '../inbox/file-name.js';
import { languageOf, readCompanies, sellerOf } from './billing-context.js';
import type { Seller } from './posting.js';
import {
  type CurrencyFigures,
  type PreviousStatement,
  type StatementFigures,
  statementFigures,
  watermarks,
} from './statement-figures.js';
import { type SourcePositions, START, type StatementLine, statementLines } from './statement-lines.js';
import {
  type SummaryRow,
  type WorkbookStatement,
  writeStatementFile,
  writeSummaryFile,
} from './statement-workbook.js';

/**
 * Customer statements (README "Statements"): issuing one (its figures, its row, its workbook),
 * finding them, their lines page by page, and the customer's answer. A statement is never changed
 * once made: issuing a period again with other figures makes the next version and keeps the old;
 * with the same figures it is the statement there is.
 */

type Row = Record<string, unknown>;
const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
const parseJson = (v: unknown): unknown => (typeof v === 'string' && v !== '' ? JSON.parse(v) : (v ?? null));

export interface StatementBalanceView {
  currency: string;
  opening: number;
  invoiced: number;
  credited: number;
  paid: number;
  closing: number;
  lines: number;
  ageing: CurrencyFigures['ageing'];
  previousClosing: number | null;
  recomputedPreviousClosing: number | null;
  finding: CurrencyFigures['finding'];
}

export interface StatementView {
  id: number;
  customer: {
    id: number;
    code: string | null;
    name: string | null;
    taxId: string | null;
    billingAddress: unknown;
  };
  company: Seller;
  language: 'zh-CN' | 'en';
  from: string;
  to: string;
  period: string;
  version: number;
  state: StatementState;
  disputeNote: string | null;
  previousId: number | null;
  lineCount: number;
  balances: StatementBalanceView[];
  /** What checking the opening balances found (one per currency that differs). */
  findings: NonNullable<CurrencyFigures['finding']>[];
  document: string | null;
  actor: string;
  stateActor: string | null;
  sentAt: string | null;
  answeredAt: string | null;
  createdAt: string;
  updatedAt: string;
  /** Whether a later version of the same period exists. */
  superseded: boolean;
}

function balanceOf(b: Row): StatementBalanceView {
  return {
    currency: String(b.currency),
    opening: Number(b.opening),
    invoiced: Number(b.invoiced),
    credited: Number(b.credited),
    paid: Number(b.paid),
    closing: Number(b.closing),
    lines: Number(b.line_count),
    ageing: {
      current: Number(b.age_current),
      d1_30: Number(b.age_1_30),
      d31_60: Number(b.age_31_60),
      d61_90: Number(b.age_61_90),
      over90: Number(b.age_over_90),
      unapplied: Number(b.unapplied),
    },
    previousClosing: b.previous_closing === null ? null : Number(b.previous_closing),
    recomputedPreviousClosing:
      b.recomputed_previous_closing === null ? null : Number(b.recomputed_previous_closing),
    finding: parseJson(b.finding) as CurrencyFigures['finding'],
  };
}

function toView(r: Row, balances: Row[], superseded: boolean): StatementView {
  const customer = (parseJson(r.customer) ?? {}) as { taxId?: string | null; billingAddress?: unknown };
  const views = balances.map(balanceOf);
  return {
    id: Number(r.id),
    customer: {
      id: Number(r.customer_id),
      code: str(r.customer_code),
      name: str(r.customer_name),
      taxId: customer.taxId ?? null,
      billingAddress: customer.billingAddress ?? null,
    },
    company: parseJson(r.seller) as Seller,
    language: languageOf(r.language),
    from: String(r.date_from),
    to: String(r.date_to),
    period: String(r.period),
    version: Number(r.version),
    state: r.state as StatementState,
    disputeNote: str(r.dispute_note),
    previousId: r.previous_id === null ? null : Number(r.previous_id),
    lineCount: Number(r.line_count),
    balances: views,
    findings: views.flatMap((b) => (b.finding ? [b.finding] : [])),
    document: str(r.document),
    actor: String(r.actor),
    stateActor: str(r.state_actor),
    sentAt: isoTime(r.sent_at as string | null),
    answeredAt: isoTime(r.answered_at as string | null),
    createdAt: isoTime(r.created_at as string) as string,
    updatedAt: isoTime(r.updated_at as string) as string,
    superseded,
  };
}

const marks = (list: readonly unknown[]) => (list.length ? list.map(() => '?').join(', ') : 'NULL');

/** Statements by id, with their balances, in the order of `ids`. */
export async function loadStatements(conn: Conn, ids: readonly number[]): Promise<StatementView[]> {
  if (ids.length === 0) return [];
  const [heads = [], balances = [], later = []] = await rawRows(
    conn,
    `SELECT * FROM statements WHERE id IN (${marks(ids)}); ` +
      `SELECT * FROM statement_balances WHERE statement_id IN (${marks(ids)}) ORDER BY statement_id, currency; ` +
      'SELECT s.id FROM statements s JOIN statements n ON n.customer_id = s.customer_id AND n.date_from = s.date_from ' +
      `AND n.date_to = s.date_to AND n.version > s.version WHERE s.id IN (${marks(ids)})`,
    [...ids, ...ids, ...ids],
  );
  const balancesOf = new Map<number, Row[]>();
  for (const b of balances) {
    const list = balancesOf.get(Number(b.statement_id)) ?? [];
    list.push(b);
    balancesOf.set(Number(b.statement_id), list);
  }
  const superseded = new Set(later.map((r) => Number(r.id)));
  const byId = new Map(heads.map((h) => [Number(h.id), h]));
  return ids.flatMap((id) => {
    const h = byId.get(id);
    return h ? [toView(h, balancesOf.get(id) ?? [], superseded.has(id))] : [];
  });
}

export async function statementById(conn: Conn, id: number): Promise<StatementView> {
  const [view] = await loadStatements(conn, [id]);
  if (!view) throw notFound(`statement ${id}`);
  return view;
}

/** The statement before `from` of a customer: the latest version of the one ending last before it. */
async function previousStatement(
  conn: Conn,
  customerId: number,
  from: string,
): Promise<PreviousStatement | null> {
  const row = await conn('statements')
    .where('customer_id', customerId)
    .where('date_to', '<', from)
    .orderBy([
      { column: 'date_to', order: 'desc' },
      { column: 'version', order: 'desc' },
    ])
    .first('id', 'date_to');
  if (!row) return null;
  const balances = (await conn('statement_balances')
    .where('statement_id', row.id)
    .select('currency', 'closing')) as Row[];
  return {
    id: Number(row.id),
    to: String(row.date_to),
    closing: new Map(balances.map((b) => [String(b.currency), Number(b.closing)])),
  };
}

const fingerprintOf = (f: StatementFigures, previous: PreviousStatement | null) =>
  createHash('sha256')
    .update(JSON.stringify({ c: f.currencies, n: f.lineCount, p: previous?.id ?? null }))
    .digest('hex');

/** The file name of a statement's workbook. */
export const statementFileName = (code: string | null, customerId: number, period: string, version: number) =>
  safeFileName(`${code ?? `customer-${customerId}`}-${period}-v${version}.xlsx`);

export interface IssueOptions {
  /** `STOCKBRIDGE_OUTPUT_DIR`: documents are recorded relative to it. */
  outputRoot: string;
  /** The folder the workbook goes to (absolute, or relative to `outputRoot`). */
  folder: string;
  timeZone: string;
  actor: string;
  /** `once` (the job): a period that has a statement already is left as it is. Default `reissue`. */
  mode?: 'once' | 'reissue';
  /** Make no statement when there is nothing to state (no line, nothing owed either way). */
  skipEmpty?: boolean;
  linesPerSheet?: number;
}

export interface IssueResult {
  /** Null only with `skipEmpty`, when there was nothing to state. */
  statement: StatementView | null;
  /** A new statement (or version) was made, and its workbook written. */
  created: boolean;
  /** The workbook's absolute path. */
  file: string | null;
}

/** The customer row a statement is made for, by id. */
async function customerRow(conn: Conn, customerId: number): Promise<Row> {
  const row = (await conn('customers').where('id', customerId).first()) as Row | undefined;
  if (!row) throw notFound(`customer ${customerId}`);
  return row;
}

/** A customer's id by code (as codes compare: without regard to case). */
export async function customerIdByCode(conn: Conn, code: string): Promise<number> {
  const rows = (await conn('customers')
    .whereNotNull('code')
    .where('code', code)
    .select('id', 'code')) as Row[];
  const row = rows.find((r) => codeKey(String(r.code)) === codeKey(code)) ?? rows[0];
  if (!row) throw notFound(`customer ${code}`);
  return Number(row.id);
}

/**
 * Issues the statement of one customer for a period: its figures (the opening checked against the
 * previous statement), its row and balances, and its workbook. Unchanged figures give back the
 * statement there is; changed ones make the next version (the old one stays as it was, whatever its
 * state). The customer row is locked while the version is decided, so two issuers agree on it.
 */
export async function issueStatement(
  db: Db,
  customerId: number,
  period: StatementPeriod,
  options: IssueOptions,
): Promise<IssueResult> {
  const customer = await customerRow(db, customerId);
  const companies = await readCompanies(db);
  const previous = await previousStatement(db, customerId, period.from);
  const marks_ = await watermarks(db, customerId);
  const figures = await statementFigures(db, {
    customerId,
    from: period.from,
    to: period.to,
    timeZone: options.timeZone,
    marks: marks_,
    previous,
  });
  if (options.skipEmpty && figures.currencies.length === 0)
    return { statement: null, created: false, file: null };
  const fingerprint = fingerprintOf(figures, previous);
  const root = path.resolve(options.outputRoot);
  const folder = path.resolve(root, options.folder);
  const now = dbTime();

  const decided = await withTransaction(db, async (tx) => {
    await tx.raw(`SELECT id FROM customers WHERE id = ?${lockClause(tx)}`, [customerId]);
    const latest = (await tx('statements')
      .where({ customer_id: customerId, date_from: period.from, date_to: period.to })
      .orderBy('version', 'desc')
      .first('id', 'fingerprint', 'version')) as Row | undefined;
    if (latest && (options.mode === 'once' || latest.fingerprint === fingerprint))
      return { id: Number(latest.id), created: false };
    const version = latest ? Number(latest.version) + 1 : 1;
    const file = path.join(folder, statementFileName(str(customer.code), customerId, period.key, version));
    const [id] = await tx('statements').insert({
      customer_id: customerId,
      customer_code: str(customer.code),
      customer_name: str(customer.name),
      customer: JSON.stringify({
        taxId: str(customer.tax_id),
        billingAddress: parseJson(customer.billing_address),
      }),
      seller: JSON.stringify(sellerOf(companies, str(customer.company))),
      language: languageOf(customer.language),
      date_from: period.from,
      date_to: period.to,
      period: period.key,
      version,
      state: 'issued',
      fingerprint,
      line_count: figures.lineCount,
      max_invoice_id: figures.maxInvoiceId,
      max_payment_id: figures.maxPaymentId,
      max_shipment_id: figures.maxShipmentId,
      previous_id: previous?.id ?? null,
      document: path.relative(root, file),
      actor: options.actor,
      created_at: now,
      updated_at: now,
    });
    if (figures.currencies.length > 0)
      await tx('statement_balances').insert(
        figures.currencies.map((c) => ({
          statement_id: Number(id),
          currency: c.currency,
          opening: c.opening,
          invoiced: c.invoiced,
          credited: c.credited,
          paid: c.paid,
          closing: c.closing,
          line_count: c.lines,
          age_current: c.ageing.current,
          age_1_30: c.ageing.d1_30,
          age_31_60: c.ageing.d31_60,
          age_61_90: c.ageing.d61_90,
          age_over_90: c.ageing.over90,
          unapplied: c.ageing.unapplied,
          previous_closing: c.previousClosing,
          recomputed_previous_closing: c.recomputedPreviousClosing,
          finding: c.finding ? JSON.stringify(c.finding) : null,
        })),
      );
    return { id: Number(id), created: true };
  });

  const statement = await statementById(db, decided.id);
  if (!decided.created) return { statement, created: false, file: null };
  const file = path.join(root, statement.document!);
  await writeStatementWorkbook(db, statement, file, options);
  return { statement, created: true, file };
}

/** What a stored statement reads its lines from. */
async function scopeOf(conn: Conn, st: StatementView, timeZone: string) {
  const row = (await conn('statements')
    .where('id', st.id)
    .first('max_invoice_id', 'max_payment_id', 'max_shipment_id')) as Row;
  return {
    customerId: st.customer.id,
    from: st.from,
    to: st.to,
    maxInvoiceId: Number(row.max_invoice_id),
    maxPaymentId: Number(row.max_payment_id),
    maxShipmentId: Number(row.max_shipment_id),
    timeZone,
  };
}

/** Writes a statement's workbook to `file` (its lines read again from the documents). */
export async function writeStatementWorkbook(
  conn: Conn,
  st: StatementView,
  file: string,
  options: { timeZone: string; linesPerSheet?: number; level?: number },
): Promise<void> {
  const workbook: WorkbookStatement = {
    id: st.id,
    version: st.version,
    language: st.language,
    from: st.from,
    to: st.to,
    company: st.company,
    customer: st.customer,
    currencies: st.balances,
  };
  await writeStatementFile(file, conn, workbook, await scopeOf(conn, st, options.timeZone), {
    linesPerSheet: options.linesPerSheet,
    level: options.level,
  });
}

/**
 * A statement's workbook on disk: the file it was written to, or (when that is gone, or was written
 * under another output folder) the same workbook written again there.
 */
export async function statementFile(
  db: Db,
  id: number,
  options: { outputRoot: string; timeZone: string },
): Promise<{ file: string; name: string }> {
  const st = await statementById(db, id);
  const name = statementFileName(st.customer.code, st.customer.id, st.period, st.version);
  const file = path.resolve(
    options.outputRoot,
    st.document ?? path.join('statements-on-demand', st.period, name),
  );
  const exists = await stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!exists) await writeStatementWorkbook(db, st, file, options);
  return { file, name };
}

/**
 * The customers a period's statements are for: every trade customer with a line in the period, or
 * with a balance (or a previous statement) before it.
 */
export async function customersToState(
  conn: Conn,
  period: StatementPeriod,
  timeZone: string,
): Promise<number[]> {
  const [rows = []] = await rawRows(
    conn,
    'SELECT customer_id FROM invoices WHERE customer_id IS NOT NULL AND issue_date <= ? GROUP BY customer_id ' +
      "HAVING SUM(CASE WHEN issue_date >= ? THEN 1 ELSE 0 END) > 0 OR SUM(CASE WHEN type = 'invoice' THEN total ELSE -total END) <> 0 " +
      'UNION SELECT customer_id FROM payments WHERE received_on <= ? GROUP BY customer_id ' +
      'UNION SELECT o.customer_id FROM shipments s JOIN orders o ON o.id = s.order_id JOIN customers c ON c.id = o.customer_id ' +
      'WHERE c.code IS NOT NULL AND s.created_at >= ? AND s.created_at < ? GROUP BY o.customer_id ' +
      'UNION SELECT customer_id FROM statements WHERE date_to < ? GROUP BY customer_id',
    [
      period.to,
      period.from,
      period.to,
      startOfDayUtc(period.from, timeZone),
      startOfDayUtc(addDays(period.to, 1), timeZone),
      period.from,
    ],
  );
  return [...new Set(rows.map((r) => Number(r.customer_id)))].sort((a, b) => a - b);
}

export interface RunResult {
  issued: StatementView[];
  unchanged: StatementView[];
  files: string[];
}

/** Issues the statements of a period for the customers asked for (default: all with something to state). */
export async function issueStatements(
  db: Db,
  period: StatementPeriod,
  options: IssueOptions & {
    customerIds?: readonly number[];
    progress?: (done: number, total: number) => void;
  },
): Promise<RunResult> {
  const ids = options.customerIds ?? (await customersToState(db, period, options.timeZone));
  const out: RunResult = { issued: [], unchanged: [], files: [] };
  options.progress?.(0, ids.length);
  let done = 0;
  for (const id of ids) {
    const r = await issueStatement(db, id, period, { skipEmpty: true, ...options });
    if (r.statement && r.created) {
      out.issued.push(r.statement);
      if (r.file) out.files.push(r.file);
    } else if (r.statement) out.unchanged.push(r.statement);
    options.progress?.(++done, ids.length);
  }
  return out;
}

/** The latest version of every statement of a period, for the summary. */
export async function latestOfPeriod(conn: Conn, period: StatementPeriod): Promise<StatementView[]> {
  const rows = (await conn('statements as s')
    .where({ 's.date_from': period.from, 's.date_to': period.to })
    .whereNotExists(
      conn('statements as n')
        .whereRaw(
          'n.customer_id = s.customer_id AND n.date_from = s.date_from AND n.date_to = s.date_to AND n.version > s.version',
        )
        .select(conn.raw('1')),
    )
    .orderBy('s.customer_id')
    .select('s.id')) as Row[];
  return loadStatements(
    conn,
    rows.map((r) => Number(r.id)),
  );
}

/** Writes the summary workbook of a period's latest statements to `file`. */
export async function writePeriodSummary(conn: Conn, period: StatementPeriod, file: string): Promise<number> {
  const statements = await latestOfPeriod(conn, period);
  const companies = await readCompanies(conn);
  const rows: SummaryRow[] = statements.flatMap((s) =>
    s.balances.map((b) => ({
      statementId: s.id,
      version: s.version,
      state: s.state,
      customerCode: s.customer.code,
      customerName: s.customer.name,
      figures: b,
    })),
  );
  const company = sellerOf(companies, null);
  await writeSummaryFile(file, {
    from: period.from,
    to: period.to,
    company: company.nameZh ? `${company.nameZh} ${company.name}` : company.name,
    rows,
  });
  return rows.length;
}

export interface StatementFilter {
  customerId?: number | undefined;
  period?: string | undefined;
  state?: StatementState | undefined;
  limit: number;
}

/** Statements newest first by id, by customer, period key and state. */
export async function listStatements(conn: Conn, filter: StatementFilter, beforeId: number | null) {
  const q = conn('statements').select('id');
  if (filter.customerId !== undefined) q.where('customer_id', filter.customerId);
  if (filter.period) q.where('period', filter.period);
  if (filter.state) q.where('state', filter.state);
  if (beforeId !== null) q.where('id', '<', beforeId);
  const rows = (await q.orderBy('id', 'desc').limit(filter.limit + 1)) as Row[];
  const page = rows.slice(0, filter.limit).map((r) => Number(r.id));
  return {
    items: await loadStatements(conn, page),
    nextId: rows.length > filter.limit ? (page.at(-1) ?? null) : null,
  };
}

/** A page of lines: where the next page starts, and the running balances there. */
export interface LinesCursor {
  positions: SourcePositions;
  balances: Record<string, number>;
  currency?: string | undefined;
}

export interface StatementLineView extends Omit<StatementLine, 'signed'> {
  debit: number | null;
  credit: number | null;
  /** The running balance in the line's currency after it (null on a shipment). */
  balance: number | null;
}

/** A page of a statement's lines in date order, from `cursor` (null: the first line). */
export async function statementLinesPage(
  conn: Conn,
  st: StatementView,
  options: { timeZone: string; limit: number; cursor: LinesCursor | null; currency?: string | undefined },
): Promise<{ lines: StatementLineView[]; next: LinesCursor | null }> {
  const currency = options.cursor?.currency ?? options.currency;
  const balances: Record<string, number> =
    options.cursor?.balances ?? Object.fromEntries(st.balances.map((b) => [b.currency, b.opening]));
  const positions: SourcePositions = options.cursor ? { ...options.cursor.positions } : { ...START };
  const scope = { ...(await scopeOf(conn, st, options.timeZone)), currency };
  const lines: StatementLineView[] = [];
  let lastPositions: SourcePositions = { ...positions };
  for await (const line of statementLines(conn, scope, { positions, limit: options.limit + 1 })) {
    if (lines.length === options.limit) {
      return { lines, next: { positions: lastPositions, balances: { ...balances }, currency } };
    }
    const { signed, ...rest } = line;
    balances[line.currency] = (balances[line.currency] ?? 0) + signed;
    lines.push({
      ...rest,
      debit: signed > 0 ? signed : null,
      credit: signed < 0 ? -signed : null,
      balance: line.kind === 'shipment' ? null : balances[line.currency]!,
    });
    lastPositions = { ...positions };
  }
  return { lines, next: null };
}

/** The customer's answer or our sending, as a state move; 409 for a move the state does not allow. */
export async function moveStatement(
  db: Db,
  id: number,
  to: StatementState,
  input: { actor: string; note?: string | undefined },
): Promise<StatementView> {
  await withTransaction(db, async (tx) => {
    const r = (await forUpdate(
      tx('statements').where('id', id).first('id', 'state', 'customer_id', 'date_from', 'date_to', 'version'),
      tx,
    )) as Row | undefined;
    if (!r) throw notFound(`statement ${id}`);
    const from = r.state as StatementState;
    if (from === to) {
      throw conflict('invalid_transition', `statement ${id} is ${from} already`, { from, to });
    }
    if (!canMove(from, to))
      throw conflict('invalid_transition', `a statement that is ${from} cannot become ${to}`, { from, to });
    const later = await tx('statements')
      .where({ customer_id: r.customer_id, date_from: r.date_from, date_to: r.date_to })
      .where('version', '>', Number(r.version))
      .first('id');
    if (later)
      throw conflict('superseded', `statement ${id} has a later version (${later.id}); answer that one`, {
        latest: Number(later.id),
      });
    const now = dbTime();
    await tx('statements')
      .where('id', id)
      .update({
        state: to,
        state_actor: input.actor,
        updated_at: now,
        ...(to === 'sent' ? { sent_at: now } : { answered_at: now }),
        ...(to === 'disputed' ? { dispute_note: input.note ?? null } : {}),
      });
  });
  return statementById(db, id);
}
