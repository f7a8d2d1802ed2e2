import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import ExcelJS from 'exceljs';
import { minorDigits } from '../../connectors/shared/money.js';
import type { Conn } from '../db/connection.js';
import type { StatementLineKind } from '../domain/statement.js';
import type { Language } from './documents.js';
import type { Seller } from './posting.js';
import { type StatementScope, statementLineBatches } from './statement-lines.js';
import { excelDate, type StreamCell, type StreamSheet, XlsxStream } from './xlsx-writer.js';

/**
 * The statement as an Excel workbook, written with exceljs's streaming writer while its lines are
 * read (neither the lines nor the workbook are ever held whole): one sheet per currency (a currency
 * with more lines than a sheet holds goes on in `EUR (2)`, …), the company's and the customer's
 * header, the lines with their running balance, and the totals both as values and as formulas
 * whose results are set to the same figures. Print-ready: A4 landscape, one page wide, the column
 * headers repeated on every page, the company and the period in the page header.
 */

export const STATEMENT_LABELS = {
  title: { en: 'Customer statement', 'zh-CN': '客户对账单' },
  summaryTitle: { en: 'Statements summary', 'zh-CN': '对账单汇总' },
  taxId: { en: 'Tax ID', 'zh-CN': '纳税人识别号' },
  address: { en: 'Address', 'zh-CN': '地址' },
  phone: { en: 'Phone', 'zh-CN': '电话' },
  email: { en: 'E-mail', 'zh-CN': '电子邮件' },
  bankAccount: { en: 'Bank account', 'zh-CN': '开户行及账号' },
  customer: { en: 'Customer', 'zh-CN': '客户' },
  customerCode: { en: 'Customer code', 'zh-CN': '客户编码' },
  period: { en: 'Period', 'zh-CN': '对账期间' },
  currency: { en: 'Currency', 'zh-CN': '币种' },
  statementNo: { en: 'Statement no.', 'zh-CN': '对账单编号' },
  version: { en: 'Version', 'zh-CN': '版本' },
  openingBalance: { en: 'Opening balance', 'zh-CN': '期初余额' },
  carriedForward: { en: 'Carried forward', 'zh-CN': '承前页余额' },
  date: { en: 'Date', 'zh-CN': '日期' },
  type: { en: 'Type', 'zh-CN': '类型' },
  document: { en: 'Document', 'zh-CN': '单据号' },
  detail: { en: 'Details', 'zh-CN': '摘要' },
  dueDate: { en: 'Due date', 'zh-CN': '到期日' },
  quantity: { en: 'Quantity', 'zh-CN': '数量' },
  debit: { en: 'Debit', 'zh-CN': '借方（应收）' },
  credit: { en: 'Credit', 'zh-CN': '贷方（已收/冲减）' },
  balance: { en: 'Balance', 'zh-CN': '余额' },
  shipment: { en: 'Shipment', 'zh-CN': '出库发货' },
  invoice: { en: 'Invoice', 'zh-CN': '发票' },
  credit_note: { en: 'Credit note', 'zh-CN': '红字发票' },
  payment: { en: 'Payment', 'zh-CN': '收款' },
  totalDebit: { en: 'Total debit', 'zh-CN': '借方合计' },
  totalCredit: { en: 'Total credit', 'zh-CN': '贷方合计' },
  closingBalance: { en: 'Closing balance', 'zh-CN': '期末余额' },
  invoiced: { en: 'Invoiced', 'zh-CN': '本期开票' },
  credited: { en: 'Credited', 'zh-CN': '本期红冲' },
  paid: { en: 'Paid', 'zh-CN': '本期收款' },
  ageing: { en: 'Ageing of open invoices at period end', 'zh-CN': '期末未清发票账龄' },
  current: { en: 'Not yet due', 'zh-CN': '未到期' },
  d1_30: { en: '1–30 days past due', 'zh-CN': '逾期1–30天' },
  d31_60: { en: '31–60 days past due', 'zh-CN': '逾期31–60天' },
  d61_90: { en: '61–90 days past due', 'zh-CN': '逾期61–90天' },
  over90: { en: 'Over 90 days past due', 'zh-CN': '逾期90天以上' },
  unapplied: { en: 'Unapplied payments and credits', 'zh-CN': '未核销收款及冲减' },
  ageingTotal: { en: 'Total (equals the closing balance)', 'zh-CN': '合计（等于期末余额）' },
  finding: { en: 'Check of the opening balance', 'zh-CN': '期初余额核对' },
  state: { en: 'State', 'zh-CN': '状态' },
  lines: { en: 'Lines', 'zh-CN': '行数' },
  total: { en: 'Total', 'zh-CN': '合计' },
  confirmNote: {
    en: 'Please check this statement and confirm the closing balance, or tell us what differs.',
    'zh-CN': '请核对本对账单并确认期末余额；如有差异，请告知。',
  },
} as const satisfies Record<string, Record<Language, string>>;

export type StatementLabel = keyof typeof STATEMENT_LABELS;
export const statementLabel = (key: StatementLabel, language: Language) => STATEMENT_LABELS[key][language];

/** The figures of one currency, as the workbook prints them. */
export interface WorkbookCurrency {
  currency: string;
  opening: number;
  invoiced: number;
  credited: number;
  paid: number;
  closing: number;
  lines: number;
  ageing: {
    current: number;
    d1_30: number;
    d31_60: number;
    d61_90: number;
    over90: number;
    unapplied: number;
  };
  finding: { message: string } | null;
}

/** What the workbook's header shows besides the figures. */
export interface WorkbookStatement {
  id: number;
  version: number;
  language: Language;
  from: string;
  to: string;
  company: Seller;
  customer: { code: string | null; name: string | null; taxId: string | null; billingAddress: unknown };
  currencies: WorkbookCurrency[];
}

/** The row of the column headings: frozen, and repeated on every printed page. */
export const HEADER_ROW = 11;
/** Lines per sheet (Excel holds 1,048,576 rows; the header and totals need some). */
export const MAX_LINES_PER_SHEET = 1_000_000;

const COLUMNS = [
  { key: 'date', width: 12 },
  { key: 'type', width: 16 },
  { key: 'document', width: 24 },
  { key: 'detail', width: 30 },
  { key: 'dueDate', width: 12 },
  { key: 'quantity', width: 10 },
  { key: 'debit', width: 16 },
  { key: 'credit', width: 16 },
  { key: 'balance', width: 18 },
] as const;

/** The cell format of money: the currency's minor units shown as major units. */
export function moneyFormat(currency: string): string {
  const d = minorDigits(currency);
  return d === 0 ? '#,##0;-#,##0' : `#,##0.${'0'.repeat(d)};-#,##0.${'0'.repeat(d)}`;
}

/** Minor units as the number a cell holds (exact division: the nearest double to the decimal). */
export const toMajor = (minor: number, currency: string) => minor / 10 ** minorDigits(currency);

export function addressText(a: unknown): string | null {
  if (!a || typeof a !== 'object') return typeof a === 'string' ? a : null;
  const o = a as Record<string, string | undefined>;
  return (
    [o.name, o.line1, o.line2, o.postalCode, o.city, o.region, o.country].filter(Boolean).join(', ') || null
  );
}

/** Text in a page header: `&` starts a code there, so it is doubled. */
const headerText = (s: string) => s.replaceAll('&', '&&');

const companyName = (c: Seller, lang: Language) => (lang === 'zh-CN' ? (c.nameZh ?? c.name) : c.name);

/** The format of the date columns (a date cell holds Excel's day number). */
export const DATE_FORMAT = 'yyyy-mm-dd';

/** Writes one statement into a streaming workbook; its lines are read from `conn` as they are written. */
async function writeStatement(
  book: XlsxStream,
  conn: Conn,
  st: WorkbookStatement,
  scope: Omit<StatementScope, 'currency'>,
  options: { linesPerSheet?: number | undefined },
): Promise<void> {
  const lang = st.language;
  const L = (k: StatementLabel) => statementLabel(k, lang);
  const perSheet = Math.max(1, options.linesPerSheet ?? MAX_LINES_PER_SHEET);
  const company = companyName(st.company, lang);
  const periodText = `${st.from} – ${st.to}`;
  const plain = 0;
  const bold = book.style({ font: 1 });
  const dateStyle = book.style({ numFmt: DATE_FORMAT });
  const headStyle = book.style({ font: 1, fill: 'FFEFEFEF', borderBottom: true });
  // Excel's day number of each date seen: a period has a few dozen dates.
  const serials = new Map<string, number>();
  const serial = (d: string | null) => {
    if (d === null) return null;
    let n = serials.get(d);
    if (n === undefined) {
      n = excelDate(d);
      serials.set(d, n);
    }
    return n;
  };

  const kindLabels: Record<StatementLineKind, string> = {
    shipment: L('shipment'),
    invoice: L('invoice'),
    credit_note: L('credit_note'),
    payment: L('payment'),
  };
  const headings = COLUMNS.map((c) => L(c.key));
  const widths = COLUMNS.map((c) => c.width);
  for (const cur of st.currencies) {
    const fmt = moneyFormat(cur.currency);
    const money = book.style({ numFmt: fmt });
    const moneyBold = book.style({ font: 1, numFmt: fmt });
    const lineStyles = [dateStyle, plain, plain, plain, dateStyle, plain, money, money, money];
    const totalStyles = (b: boolean) => {
      const m = b ? moneyBold : money;
      const t = b ? bold : plain;
      return [t, t, t, t, t, t, m, m, m];
    };
    const scale = 10 ** minorDigits(cur.currency);
    const major = (m: number) => m / scale;
    const ranges: { sheet: string; first: number; last: number }[] = [];
    let part = 0;
    let sheet: StreamSheet | null = null;
    let onSheet = 0;
    let balance = cur.opening;

    const openSheet = async () => {
      if (sheet) ranges.at(-1)!.last = sheet.lastRow;
      part++;
      const name = (part === 1 ? cur.currency : `${cur.currency} (${part})`).slice(0, 31);
      const ws = await book.addSheet({
        name,
        widths,
        frozenRows: HEADER_ROW,
        print: {
          paperSize: 9,
          landscape: true,
          fitToWidth: 1,
          fitToHeight: 0,
          titleRows: [HEADER_ROW, HEADER_ROW],
          margins: { left: 0.4, right: 0.4, top: 0.7, bottom: 0.6, header: 0.3, footer: 0.3 },
          header: `&L${headerText(company)}&C${headerText(L('title'))}&R${headerText(`${L('period')}: ${periodText} · ${cur.currency}`)}`,
          footer: `&L${headerText(`${L('customer')}: ${st.customer.name ?? st.customer.code ?? ''}`)}&R&P / &N`,
        },
      });
      // 1–10: the company, the statement, the customer, the opening (or carried) balance.
      ws.row([company], book.style({ font: 2 }));
      ws.row([
        st.company.taxId ? `${L('taxId')}: ${st.company.taxId}` : '',
        null,
        null,
        st.company.address ? `${L('address')}: ${st.company.address}` : '',
      ]);
      ws.row([
        [
          st.company.phone ? `${L('phone')}: ${st.company.phone}` : '',
          st.company.email ? `${L('email')}: ${st.company.email}` : '',
        ]
          .filter(Boolean)
          .join('  '),
        null,
        null,
        st.company.bankAccount ? `${L('bankAccount')}: ${st.company.bankAccount}` : '',
      ]);
      ws.row([L('title')], book.style({ font: 3 }));
      ws.row([
        L('customer'),
        null,
        `${st.customer.name ?? ''}${st.customer.code ? ` (${st.customer.code})` : ''}`,
      ]);
      ws.row([L('taxId'), null, st.customer.taxId ?? '']);
      ws.row([L('address'), null, addressText(st.customer.billingAddress) ?? '']);
      ws.row([L('period'), null, periodText, null, L('currency'), cur.currency]);
      ws.row([L('statementNo'), null, st.id, null, L('version'), st.version]);
      ws.row(
        [
          part === 1 ? L('openingBalance') : L('carriedForward'),
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          major(balance),
        ],
        [bold, bold, bold, bold, bold, bold, bold, bold, moneyBold],
      );
      ws.row(headings, headStyle);
      sheet = ws;
      onSheet = 0;
      ranges.push({ sheet: name, first: HEADER_ROW + 1, last: HEADER_ROW });
    };

    await openSheet();
    for await (const batch of statementLineBatches(conn, { ...scope, currency: cur.currency })) {
      for (const { line } of batch) {
        if (onSheet >= perSheet) await openSheet();
        const signed = line.signed;
        balance += signed;
        sheet!.row(
          [
            serial(line.date),
            kindLabels[line.kind],
            line.document,
            line.detail,
            serial(line.dueDate),
            line.quantity,
            signed > 0 ? major(signed) : null,
            signed < 0 ? major(-signed) : null,
            line.kind === 'shipment' ? null : major(balance),
          ],
          lineStyles,
        );
        onSheet++;
      }
      // Let the deflate catch up: the XML waiting for it stays a few MB.
      const behind = sheet!.ready();
      if (behind) await behind;
    }
    if (balance !== cur.closing)
      throw new Error(
        `statement ${st.id} ${cur.currency}: its lines run to ${balance}, its figures to ${cur.closing}`,
      );
    const ws = sheet!;
    ranges.at(-1)!.last = ws.lastRow;

    // The totals, on the currency's last sheet: formulas over every sheet of the currency, each
    // with its result set, and the same figures as plain values.
    const sum = (col: string) =>
      ranges
        .map((r) => `'${r.sheet.replaceAll("'", "''")}'!${col}${r.first}:${col}${Math.max(r.first, r.last)}`)
        .join(',');
    const add = (values: StreamCell[], b = false) => ws.row(values, totalStyles(b));
    const at9 = (label: string, value: StreamCell, b = false) =>
      add([label, null, null, null, null, null, null, null, value], b);
    add([]);
    const firstOpening = `'${ranges[0]!.sheet.replaceAll("'", "''")}'!I${HEADER_ROW - 1}`;
    const openingRow = at9(L('openingBalance'), { formula: firstOpening, result: major(cur.opening) });
    const totalsRow = add(
      [
        L('totalDebit'),
        null,
        null,
        null,
        null,
        null,
        { formula: `SUM(${sum('G')})`, result: major(cur.invoiced) },
        { formula: `SUM(${sum('H')})`, result: major(cur.credited + cur.paid) },
        null,
      ],
      true,
    );
    at9(
      L('closingBalance'),
      { formula: `I${openingRow}+G${totalsRow}-H${totalsRow}`, result: major(cur.closing) },
      true,
    );
    add([]);
    at9(L('invoiced'), major(cur.invoiced));
    at9(L('credited'), major(cur.credited));
    at9(L('paid'), major(cur.paid));
    at9(L('closingBalance'), major(cur.closing), true);
    add([]);
    add([L('ageing')], true);
    const firstAge = ws.lastRow + 1;
    for (const k of ['current', 'd1_30', 'd31_60', 'd61_90', 'over90', 'unapplied'] as const)
      at9(L(k), major(cur.ageing[k]));
    const ageTotal =
      cur.ageing.current +
      cur.ageing.d1_30 +
      cur.ageing.d31_60 +
      cur.ageing.d61_90 +
      cur.ageing.over90 +
      cur.ageing.unapplied;
    at9(L('ageingTotal'), { formula: `SUM(I${firstAge}:I${ws.lastRow})`, result: major(ageTotal) }, true);
    if (cur.finding) {
      add([]);
      add([L('finding'), null, cur.finding.message]);
    }
    add([]);
    add([L('confirmNote')]);
  }
}

/** Writes `file` through a temporary file beside it, moved to `file` once it is whole. */
async function writeViaTemp(file: string, write: (out: WriteStream) => Promise<void>): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const out = createWriteStream(tmp, { highWaterMark: 1024 * 1024 });
  const closed = finished(out);
  closed.catch(() => {});
  try {
    await write(out);
    out.end();
    await closed;
    await rename(tmp, file);
  } catch (err) {
    out.destroy();
    await closed.catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * The statement's workbook at `file`, written by the streaming writer of ./xlsx-writer.ts while
 * its lines are read (the sheets deflated at `level`: 1 unless given, 0 stores).
 */
export async function writeStatementFile(
  file: string,
  conn: Conn,
  st: WorkbookStatement,
  scope: Omit<StatementScope, 'currency'>,
  options: { linesPerSheet?: number | undefined; level?: number | undefined } = {},
): Promise<void> {
  await writeViaTemp(file, async (out) => {
    const book = new XlsxStream(out, { level: options.level ?? 1 });
    try {
      if (st.currencies.length === 0) {
        // Nothing in any currency: one sheet that says so, so that the file still opens.
        const ws = await book.addSheet({ name: '-' });
        ws.row([companyName(st.company, st.language)]);
        ws.row([statementLabel('title', st.language), `${st.from} – ${st.to}`]);
      } else await writeStatement(book, conn, st, scope, options);
      await book.finish();
    } catch (err) {
      book.abort();
      throw err;
    }
  });
}

/** Writes to `file` through a temporary name, so a file that exists is whole. */
async function writeFileVia(
  file: string,
  write: (workbook: ExcelJS.stream.xlsx.WorkbookWriter) => Promise<void>,
): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const stream = new PassThrough();
  const out = pipeline(stream, createWriteStream(tmp));
  // Fast deflate: a statement of a million lines is mostly its rows' XML, and level 1 takes a
  // fraction of the default's time for a file about a quarter larger.
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream,
    useStyles: true,
    zip: { zlib: { level: 1 } },
  } as ConstructorParameters<typeof ExcelJS.stream.xlsx.WorkbookWriter>[0]);
  try {
    await write(workbook);
    await workbook.commit();
    await out;
    await rename(tmp, file);
  } catch (err) {
    stream.destroy();
    await out.catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}

/** One row of the summary workbook: one customer's statement in one currency. */
export interface SummaryRow {
  statementId: number;
  version: number;
  state: string;
  customerCode: string | null;
  customerName: string | null;
  figures: WorkbookCurrency;
}

/** Both languages in one heading: the summary is for the company's own staff. */
const both = (k: StatementLabel) => `${STATEMENT_LABELS[k]['zh-CN']} ${STATEMENT_LABELS[k].en}`;

/**
 * The summary workbook of a period: one row per customer and currency (opening, invoiced, credited,
 * paid, closing, ageing), by currency, each currency closed by a totals row of SUM formulas with
 * their results set.
 */
export async function writeSummaryFile(
  file: string,
  input: { from: string; to: string; company: string; rows: readonly SummaryRow[] },
): Promise<void> {
  await writeFileVia(file, async (workbook) => {
    workbook.creator = 'stockbridge';
    const period = `${input.from} – ${input.to}`;
    const heads = [
      'customerCode',
      'customer',
      'currency',
      'openingBalance',
      'invoiced',
      'credited',
      'paid',
      'closingBalance',
      'current',
      'd1_30',
      'd31_60',
      'd61_90',
      'over90',
      'unapplied',
      'statementNo',
      'version',
      'state',
      'finding',
    ] as const;
    const ws = workbook.addWorksheet('summary', {
      pageSetup: {
        paperSize: 9,
        orientation: 'landscape',
        fitToPage: true,
        fitToWidth: 1,
        fitToHeight: 0,
        printTitlesRow: '4:4',
      },
      headerFooter: {
        oddHeader: `&L${headerText(input.company)}&C${headerText(both('summaryTitle'))}&R${headerText(period)}`,
        oddFooter: '&R&P / &N',
      },
      views: [{ state: 'frozen', ySplit: 4, xSplit: 2 }],
    });
    ws.columns = heads.map((h, i) => ({ width: i < 2 ? 22 : i === 17 ? 40 : 14, key: h }));
    ws.addRow([input.company]).commit();
    ws.addRow([both('summaryTitle'), null, null, period]).commit();
    ws.addRow([]).commit();
    const h = ws.addRow(heads.map(both));
    h.font = { bold: true };
    h.commit();
    let rowNo = 4;
    const sorted = [...input.rows].sort(
      (a, b) =>
        a.figures.currency.localeCompare(b.figures.currency) ||
        String(a.customerCode ?? '').localeCompare(String(b.customerCode ?? '')) ||
        a.statementId - b.statementId,
    );
    let i = 0;
    while (i < sorted.length) {
      const currency = sorted[i]!.figures.currency;
      const fmt = moneyFormat(currency);
      const major = (m: number) => toMajor(m, currency);
      const first = rowNo + 1;
      const totals = {
        opening: 0,
        invoiced: 0,
        credited: 0,
        paid: 0,
        closing: 0,
        current: 0,
        d1_30: 0,
        d31_60: 0,
        d61_90: 0,
        over90: 0,
        unapplied: 0,
      };
      for (; i < sorted.length && sorted[i]!.figures.currency === currency; i++) {
        const r = sorted[i]!;
        const f = r.figures;
        const money = [
          f.opening,
          f.invoiced,
          f.credited,
          f.paid,
          f.closing,
          f.ageing.current,
          f.ageing.d1_30,
          f.ageing.d31_60,
          f.ageing.d61_90,
          f.ageing.over90,
          f.ageing.unapplied,
        ];
        totals.opening += f.opening;
        totals.invoiced += f.invoiced;
        totals.credited += f.credited;
        totals.paid += f.paid;
        totals.closing += f.closing;
        for (const k of ['current', 'd1_30', 'd31_60', 'd61_90', 'over90', 'unapplied'] as const)
          totals[k] += f.ageing[k];
        const row = ws.addRow([
          r.customerCode ?? '',
          r.customerName ?? '',
          currency,
          ...money.map(major),
          r.statementId,
          r.version,
          r.state,
          f.finding?.message ?? '',
        ]);
        for (let c = 4; c <= 14; c++) row.getCell(c).numFmt = fmt;
        row.commit();
        rowNo++;
      }
      const last = rowNo;
      const values = [
        totals.opening,
        totals.invoiced,
        totals.credited,
        totals.paid,
        totals.closing,
        totals.current,
        totals.d1_30,
        totals.d31_60,
        totals.d61_90,
        totals.over90,
        totals.unapplied,
      ];
      const row = ws.addRow([
        both('total'),
        null,
        currency,
        ...values.map((v, k) => {
          const col = String.fromCharCode(68 + k);
          return { formula: `SUM(${col}${first}:${col}${last})`, result: major(v) };
        }),
      ]);
      row.font = { bold: true };
      for (let c = 4; c <= 14; c++) row.getCell(c).numFmt = fmt;
      row.commit();
      rowNo++;
    }
    ws.commit();
  });
}
