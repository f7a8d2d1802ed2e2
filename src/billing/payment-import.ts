import { createHash } from 'node:crypto';
import iconv from 'iconv-lite';
import { bilingual } from '../../connectors/excel-inbox/bilingual.js';
import { CsvFormatError, CsvParser } from '../../connectors/excel-inbox/csv.js';
import { parseMajorAmount } from '../../connectors/excel-inbox/money.js';
import { detectCsvEncoding } from '../../connectors/excel-inbox/parse.js';
import { type Db, dbTime, lockClause, rawRows } from '../db/connection.js';
import { isDuplicateKeyError, withTransaction } from '../db/retry.js';
import { PAYMENT_METHODS, type PaymentInput, type PaymentMethod } from '../domain/payments.js';
import { DomainError, unprocessable } from '../errors/domain-errors.js';
import { recordPaymentLocked } from './payments.js';

/**
 * Bank statement import (README "Payments"): a CSV, UTF-8 or GB18030, headers in English or
 * Chinese, one receipt per row under the same rules as `POST /api/payments`. Rows that cannot be
 * recorded are listed with their row number and why; the others are recorded — all in one
 * transaction, with the file's SHA-256 in `payment_imports`, so the same file imported again
 * records nothing and answers the first import's result.
 */

/** The columns, and the header texts each is known by (compared trimmed, in any case). */
const COLUMNS = {
  date: ['date', 'received on', 'receivedon', 'value date', '日期', '交易日期', '到账日期', '收款日期'],
  amount: ['amount', '金额', '交易金额', '收款金额', '贷方金额'],
  currency: ['currency', '币种', '货币'],
  reference: ['reference', 'ref', 'transaction id', '流水号', '交易流水号', '参考号'],
  customer: ['customer', 'customer code', '客户编码', '客户代码', '客户'],
  method: ['method', 'payment method', '方式', '付款方式', '收款方式'],
  note: ['note', 'description', 'memo', '摘要', '备注', '附言'],
} as const;
type Column = keyof typeof COLUMNS;
const REQUIRED: readonly Column[] = ['date', 'amount', 'currency', 'reference', 'customer'];

/** Methods as banks' Chinese statements write them. */
const METHOD_WORDS: Record<string, PaymentMethod> = {
  银行转账: 'bank_transfer',
  转账: 'bank_transfer',
  电汇: 'bank_transfer',
  现金: 'cash',
  刷卡: 'card',
  银行卡: 'card',
  信用卡: 'card',
  支票: 'cheque',
  其他: 'other',
  cheque: 'cheque',
  check: 'cheque',
  transfer: 'bank_transfer',
  'bank transfer': 'bank_transfer',
};

export interface RefusedRow {
  row: number;
  code: string;
  reason: string;
}

export interface ImportResult {
  importId: number;
  fileHash: string;
  fileName: string | null;
  /** True when this file was imported before: nothing new was recorded, this is that import's result. */
  repeatedFile: boolean;
  rows: { total: number; recorded: number; repeated: number; refused: number };
  refused: RefusedRow[];
  /** The payments this import recorded (ids). */
  payments: number[];
}

const normalize = (h: string) =>
  h
    .replace(/^\uFEFF/, '')
    .trim()
    .toLowerCase()
    .replace(/\s+/g, ' ');

/** The file's text: UTF-8 (with or without BOM) or GB18030; 422 for anything else. */
async function decode(data: Buffer): Promise<string> {
  const encoding = await detectCsvEncoding([data]);
  if (encoding === 'utf-8') return data.toString('utf8').replace(/^\uFEFF/, '');
  const text = iconv.decode(data, 'gb18030');
  if (text.includes('\uFFFD') || text.includes('\u0000'))
    throw unprocessable(
      'invalid_file',
      bilingual('the file is not UTF-8 or GB18030 text', '文件不是 UTF-8 或 GB18030 编码的文本'),
    );
  return text;
}

function records(text: string): string[][] {
  const parser = new CsvParser();
  try {
    return [...parser.push(text), ...parser.end()];
  } catch (err) {
    if (err instanceof CsvFormatError) throw unprocessable('invalid_file', bilingual(err.message, err.zh));
    throw err;
  }
}

/** A statement date: 2026-12-01, 2026/12/01, 2026.12.01 or 20261201. */
function parseDate(text: string): string | null {
  const m = /^(\d{4})[-/.]?(\d{1,2})[-/.]?(\d{1,2})$/.exec(text.trim());
  if (!m) return null;
  const iso = `${m[1]}-${m[2]!.padStart(2, '0')}-${m[3]!.padStart(2, '0')}`;
  const d = new Date(`${iso}T00:00:00Z`);
  return Number.isNaN(d.getTime()) || !d.toISOString().startsWith(iso) ? null : iso;
}

type Parsed = { row: number; input: PaymentInput } | { row: number; refused: RefusedRow };

/** The rows of the statement as receipts, or why each cannot be one. */
export function parseStatement(text: string): Parsed[] {
  const all = records(text);
  const headerAt = all.findIndex((r) => r.some((c) => c.trim() !== ''));
  if (headerAt < 0) throw unprocessable('invalid_file', bilingual('the file is empty', '文件为空'));
  const header = all[headerAt]!.map(normalize);
  const index = new Map<Column, number>();
  for (const [col, names] of Object.entries(COLUMNS) as [Column, readonly string[]][]) {
    const i = header.findIndex((h) => names.includes(h));
    if (i >= 0) index.set(col, i);
  }
  const missing = REQUIRED.filter((c) => !index.has(c));
  if (missing.length > 0)
    throw unprocessable(
      'invalid_file',
      bilingual(
        `the header row lacks the columns ${missing.join(', ')}`,
        `表头缺少以下列：${missing.map((c) => COLUMNS[c].find((n) => /\p{Script=Han}/u.test(n))).join('、')}`,
      ),
      { missing },
    );
  const out: Parsed[] = [];
  for (let i = headerAt + 1; i < all.length; i++) {
    const cells = all[i]!;
    const rowNo = i + 1;
    if (cells.every((c) => c.trim() === '')) continue;
    const cell = (c: Column) => {
      const at = index.get(c);
      return at === undefined ? '' : (cells[at] ?? '').trim();
    };
    const refuse = (code: string, en: string, zh: string): Parsed => ({
      row: rowNo,
      refused: { row: rowNo, code, reason: bilingual(en, zh) },
    });
    const customer = cell('customer');
    const reference = cell('reference');
    const currency = cell('currency').toUpperCase();
    const date = parseDate(cell('date'));
    const methodText = cell('method');
    if (!customer) {
      out.push(refuse('missing_customer', 'no customer code', '缺少客户编码'));
      continue;
    }
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(customer)) {
      out.push(
        refuse('unknown_customer', `"${customer}" is not a customer code`, `“${customer}”不是客户编码`),
      );
      continue;
    }
    if (!reference || reference.length > 191) {
      out.push(refuse('missing_reference', 'no reference (transaction id)', '缺少流水号'));
      continue;
    }
    if (!/^[A-Z]{3}$/.test(currency)) {
      out.push(
        refuse(
          'invalid_currency',
          `currency "${cell('currency')}" is not an ISO code such as CNY`,
          `币种“${cell('currency')}”无效，应为 CNY 等代码`,
        ),
      );
      continue;
    }
    if (!date) {
      out.push(
        refuse(
          'invalid_date',
          `date "${cell('date')}" is not a date such as 2026-12-01`,
          `日期“${cell('date')}”无效，应为 2026-12-01 格式`,
        ),
      );
      continue;
    }
    const amountText = cell('amount').replace(/^[+]/, '');
    const amount = parseMajorAmount(amountText, currency, { en: 'amount', zh: '金额' });
    if (!amount.ok) {
      out.push({ row: rowNo, refused: { row: rowNo, code: 'invalid_amount', reason: amount.message } });
      continue;
    }
    if (amount.value <= 0) {
      out.push(refuse('invalid_amount', 'the amount must be above zero', '金额必须大于零'));
      continue;
    }
    let method: PaymentMethod = 'bank_transfer';
    if (methodText) {
      const m = (PAYMENT_METHODS as readonly string[]).includes(methodText.toLowerCase())
        ? (methodText.toLowerCase() as PaymentMethod)
        : METHOD_WORDS[methodText.toLowerCase()];
      if (!m || m === 'channel') {
        out.push(
          refuse('invalid_method', `method "${methodText}" is not known`, `付款方式“${methodText}”无法识别`),
        );
        continue;
      }
      method = m;
    }
    const note = cell('note').slice(0, 500);
    out.push({
      row: rowNo,
      input: {
        customer,
        amount: amount.value,
        currency,
        receivedOn: date,
        reference,
        method,
        ...(note ? { note } : {}),
      },
    });
  }
  return out;
}

async function storedResult(db: Db, hash: string): Promise<ImportResult | null> {
  const row = await db('payment_imports').where({ file_hash: hash }).first();
  if (!row) return null;
  const payments = await db('payments').where({ import_id: row.id }).orderBy('id').pluck('id');
  return {
    importId: Number(row.id),
    fileHash: hash,
    fileName: (row.file_name as string | null) ?? null,
    repeatedFile: true,
    rows: {
      total: Number(row.rows_total),
      recorded: Number(row.rows_recorded),
      repeated: Number(row.rows_repeated),
      refused: Number(row.rows_refused),
    },
    refused: row.refusals ? (JSON.parse(String(row.refusals)) as RefusedRow[]) : [],
    payments: payments.map(Number),
  };
}

/** Imports a bank statement (see the module comment). 422 for a file that is not such a CSV at all. */
export async function importBankStatement(
  db: Db,
  file: { data: Buffer; fileName?: string | null },
  actor: string,
): Promise<ImportResult> {
  const hash = createHash('sha256').update(file.data).digest('hex');
  const before = await storedResult(db, hash);
  if (before) return before;
  const parsed = parseStatement(await decode(file.data));
  try {
    return await withTransaction(db, async (tx) => {
      const now = dbTime();
      const [importId] = await tx('payment_imports').insert({
        file_hash: hash,
        file_name: file.fileName?.slice(0, 255) ?? null,
        rows_total: parsed.length,
        rows_recorded: 0,
        rows_repeated: 0,
        rows_refused: 0,
        refusals: null,
        actor: actor.slice(0, 64),
        created_at: now,
      });
      // Every customer of the file locked up front, by id (the lock order among customers), so
      // two imports (or an import and a receipt) never wait on each other crosswise.
      const codes = [...new Set(parsed.flatMap((p) => ('input' in p ? [p.input.customer] : [])))];
      if (codes.length > 0)
        await rawRows(
          tx,
          `SELECT id FROM customers WHERE code IN (${codes.map(() => '?').join(', ')}) ORDER BY id${lockClause(tx)}`,
          codes,
        );
      const refused: RefusedRow[] = [];
      let recorded = 0;
      let repeated = 0;
      for (const p of parsed) {
        if ('refused' in p) {
          refused.push(p.refused);
          continue;
        }
        try {
          const r = await recordPaymentLocked(tx, p.input, {
            source: 'bank_csv',
            actor,
            importId: Number(importId),
          });
          if (r.created) recorded++;
          else repeated++;
        } catch (err) {
          if (!(err instanceof DomainError)) throw err;
          refused.push({ row: p.row, code: err.code, reason: err.message });
        }
      }
      await tx('payment_imports')
        .where({ id: importId })
        .update({
          rows_recorded: recorded,
          rows_repeated: repeated,
          rows_refused: refused.length,
          refusals: JSON.stringify(refused),
        });
      const payments = await tx('payments').where({ import_id: importId }).orderBy('id').pluck('id');
      return {
        importId: Number(importId),
        fileHash: hash,
        fileName: file.fileName ?? null,
        repeatedFile: false,
        rows: { total: parsed.length, recorded, repeated, refused: refused.length },
        refused,
        payments: payments.map(Number),
      };
    });
  } catch (err) {
    // The same file imported at the same time: the other import's result.
    if (isDuplicateKeyError(err)) {
      const other = await storedResult(db, hash);
      if (other) return other;
    }
    throw err;
  }
}
