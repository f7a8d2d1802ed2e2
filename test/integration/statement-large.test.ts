import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueStatement, writeStatementWorkbook } from '../../src/billing/statements.js';
import { dbTime } from '../../src/db/connection.js';
import { monthPeriod } from '../../src/domain/statement.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

/**
 * A statement of 20,000 lines, issued the way the monthly job issues one and read back with
 * exceljs: every line in date order with its running balance, the totals (values and formulas'
 * results) equal to the sums of the lines, the ageing adding up to the closing balance; and the
 * same statement split over several sheets, carried forward from one to the next.
 */

const LINES = 20_000;
const N_INVOICES = 8_000;
const N_CREDITS = 1_000;
const N_PAYMENTS = 7_000;
const N_SHIPMENTS = LINES - N_INVOICES - N_CREDITS - N_PAYMENTS;
const day = (i: number) => `2026-11-${String(1 + (i % 30)).padStart(2, '0')}`;
const utcDate = (d: string) => new Date(`${d}T00:00:00Z`);

interface Expected {
  date: string;
  rank: number;
  /** A shipment's time of day: shipments of a day are in the order they were made. */
  at: string;
  id: number;
  kind: string;
  document: string;
  signed: number;
  quantity: number | null;
}

describe('a statement of 20,000 lines', () => {
  let t: TestDatabase;
  let customerId: number;
  let out: string;
  const expected: Expected[] = [];
  // Before the period: one invoice of 5,000.00 still open, so the opening is not 0.
  const OPENING = 500_000;

  beforeAll(async () => {
    t = await createTestDatabase({ poolMax: 6 });
    out = mkdtempSync(path.join(tmpdir(), 'sb-st-large-'));
    const db = t.db;
    const now = dbTime();
    await db('companies').insert({
      code: 'SB',
      name: 'Stockbridge Trading Ltd',
      name_zh: '石桥贸易有限公司',
      currency: 'EUR',
      created_at: now,
      updated_at: now,
    });
    const [id] = await db('customers').insert({
      code: 'BIG',
      name: 'Big & <Bold> Customer',
      company: 'SB',
      language: 'en',
      created_at: now,
      updated_at: now,
    });
    customerId = Number(id);
    const invoices = [
      {
        id: 1,
        number: 'OLD-2026-000001',
        series: 'OLD',
        year: 2026,
        seq: 1,
        type: 'invoice',
        policy: 'on_shipment',
        customer_id: customerId,
        currency: 'EUR',
        issue_date: '2026-10-15',
        due_date: '2026-11-14',
        subtotal: OPENING,
        discount: 0,
        shipping: 0,
        tax: 0,
        total: OPENING,
        language: 'en',
        created_at: now,
      },
    ];
    for (let k = 1; k <= N_INVOICES + N_CREDITS; k++) {
      const credit = k > N_INVOICES;
      const seq = credit ? k - N_INVOICES : k;
      const total = credit ? 300 + (k % 7) : 12_345 + (k % 101);
      const date = day(k);
      invoices.push({
        id: k + 1,
        number: `${credit ? 'CN' : 'INV'}-2026-${String(seq).padStart(6, '0')}`,
        series: credit ? 'CN' : 'INV',
        year: 2026,
        seq,
        type: credit ? 'credit_note' : 'invoice',
        policy: credit ? 'credit' : 'on_shipment',
        customer_id: customerId,
        currency: 'EUR',
        issue_date: date,
        due_date: credit ? date : `2026-12-${String(1 + (k % 28)).padStart(2, '0')}`,
        subtotal: total,
        discount: 0,
        shipping: 0,
        tax: 0,
        total,
        language: 'en',
        created_at: now,
      });
      expected.push({
        date,
        rank: 1,
        at: '',
        id: k + 1,
        kind: credit ? 'Credit note' : 'Invoice',
        document: `${credit ? 'CN' : 'INV'}-2026-${String(seq).padStart(6, '0')}`,
        signed: credit ? -total : total,
        quantity: null,
      });
    }
    await db.batchInsert('invoices', invoices, 1000);
    const payments = [];
    for (let k = 1; k <= N_PAYMENTS; k++) {
      const amount = 9_000 + (k % 13);
      const date = day(k + 7);
      payments.push({
        id: k,
        customer_id: customerId,
        reference: `BANK-${k}`,
        amount,
        currency: 'EUR',
        received_on: date,
        method: 'bank_transfer',
        source: 'api',
        unapplied: amount,
        actor: 'test',
        request_hash: 'x'.repeat(64),
        created_at: now,
      });
      expected.push({
        date,
        rank: 2,
        at: '',
        id: k,
        kind: 'Payment',
        document: `BANK-${k}`,
        signed: -amount,
        quantity: null,
      });
    }
    await db.batchInsert('payments', payments, 1000);
    const orders = [];
    const lines = [];
    const shipments = [];
    const shipmentLines = [];
    for (let k = 1; k <= N_SHIPMENTS; k++) {
      const date = day(k + 3);
      const at = `10:${String(k % 60).padStart(2, '0')}:00.000`;
      orders.push({
        id: k,
        channel: 'api',
        external_id: `O-${k}`,
        customer_id: customerId,
        status: 'shipped',
        currency: 'EUR',
        total_amount: 12_000,
        placed_at: now,
        created_at: now,
        updated_at: now,
      });
      lines.push({
        id: k,
        order_id: k,
        line_no: 1,
        sku_code: 'INK',
        ordered: 2,
        shipped: 2,
        unit_price: 6_000,
      });
      shipments.push({ id: k, order_id: k, created_at: `${date} ${at}` });
      shipmentLines.push({ shipment_id: k, order_line_id: k, quantity: 1 + (k % 5) });
      expected.push({
        date,
        rank: 0,
        at,
        id: k,
        kind: 'Shipment',
        document: `O-${k}`,
        signed: 0,
        quantity: 1 + (k % 5),
      });
    }
    await db.batchInsert('orders', orders, 1000);
    await db.batchInsert('order_lines', lines, 1000);
    await db.batchInsert('shipments', shipments, 1000);
    await db.batchInsert('shipment_lines', shipmentLines, 1000);
    const order = (a: Expected, b: Expected) =>
      a.date.localeCompare(b.date) || a.rank - b.rank || a.at.localeCompare(b.at) || a.id - b.id;
    expected.sort(order);
  });

  afterAll(async () => {
    await t?.drop();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  async function read(file: string) {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file);
    return wb;
  }

  /** The first row from `from` on whose first cell is `label`. */
  function rowLabelled(ws: ExcelJS.Worksheet, label: string, from: number): ExcelJS.Row {
    for (let r = from; r <= ws.rowCount; r++)
      if (ws.getRow(r).getCell(1).value === label) return ws.getRow(r);
    throw new Error(`no row ${label}`);
  }
  const result = (cell: ExcelJS.Cell) => (cell.value as ExcelJS.CellFormulaValue).result;
  const formula = (cell: ExcelJS.Cell) => (cell.value as ExcelJS.CellFormulaValue).formula;

  it('writes every line in date order with its running balance, and totals that are the lines’ sums', async () => {
    const issued = await issueStatement(t.db, customerId, monthPeriod('2026-11'), {
      outputRoot: out,
      folder: 'statements',
      timeZone: 'UTC',
      actor: 'test',
    });
    const st = issued.statement!;
    expect(st.lineCount).toBe(LINES);
    const b = st.balances[0]!;
    expect(b.opening).toBe(OPENING);
    const invoiced = expected.filter((e) => e.kind === 'Invoice').reduce((s, e) => s + e.signed, 0);
    const credited = -expected.filter((e) => e.kind === 'Credit note').reduce((s, e) => s + e.signed, 0);
    const paid = -expected.filter((e) => e.kind === 'Payment').reduce((s, e) => s + e.signed, 0);
    expect([b.invoiced, b.credited, b.paid]).toEqual([invoiced, credited, paid]);
    expect(b.closing).toBe(OPENING + invoiced - credited - paid);

    const wb = await read(issued.file!);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['EUR']);
    const ws = wb.getWorksheet('EUR')!;
    expect(ws.getRow(1).getCell(1).value).toBe('Stockbridge Trading Ltd');
    expect(ws.getRow(5).getCell(3).value).toBe('Big & <Bold> Customer (BIG)');
    expect(ws.getRow(10).getCell(9).value).toBe(OPENING / 100);
    expect(ws.getRow(11).getCell(9).value).toBe('Balance');
    expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 11 });
    expect(ws.getColumn(3).width).toBe(24);

    let balance = OPENING;
    let debit = 0;
    let credit = 0;
    expected.forEach((e, k) => {
      const row = ws.getRow(12 + k);
      const at = `line ${k + 1}`;
      expect(row.getCell(1).value, at).toEqual(utcDate(e.date));
      expect(row.getCell(2).value, at).toBe(e.kind);
      expect(row.getCell(3).value, at).toBe(e.document);
      expect(row.getCell(6).value ?? null, at).toBe(e.quantity);
      balance += e.signed;
      expect(row.getCell(7).value ?? null, at).toBe(e.signed > 0 ? e.signed / 100 : null);
      expect(row.getCell(8).value ?? null, at).toBe(e.signed < 0 ? -e.signed / 100 : null);
      expect(row.getCell(9).value ?? null, at).toBe(e.kind === 'Shipment' ? null : balance / 100);
      debit += Number(row.getCell(7).value ?? 0);
      credit += Number(row.getCell(8).value ?? 0);
    });
    expect(balance).toBe(b.closing);
    const lastLine = 11 + LINES;
    expect(ws.getRow(lastLine + 1).cellCount).toBe(0);

    const totals = rowLabelled(ws, 'Total debit', lastLine);
    expect(formula(totals.getCell(7))).toBe(`SUM('EUR'!G12:G${lastLine})`);
    expect(result(totals.getCell(7))).toBe(invoiced / 100);
    expect(result(totals.getCell(8))).toBe((credited + paid) / 100);
    expect(debit).toBeCloseTo(invoiced / 100, 4);
    expect(credit).toBeCloseTo((credited + paid) / 100, 4);
    const closing = rowLabelled(ws, 'Closing balance', lastLine);
    expect(result(closing.getCell(9))).toBe(b.closing / 100);
    expect(rowLabelled(ws, 'Closing balance', closing.number + 1).getCell(9).value).toBe(b.closing / 100);
    const ageTotal = rowLabelled(ws, 'Total (equals the closing balance)', lastLine).getCell(9);
    expect(result(ageTotal)).toBe(b.closing / 100);
    const buckets = ['Not yet due', '1–30 days past due', 'Unapplied payments and credits'].map((l) =>
      Math.round(Number(rowLabelled(ws, l, lastLine).getCell(9).value) * 100),
    );
    expect(buckets).toEqual([b.ageing.current, b.ageing.d1_30, b.ageing.unapplied]);
  });

  it('splits the lines over sheets of a given length, each carried forward from the one before', async () => {
    const [row] = await t.db('statements').where('customer_id', customerId).select('id');
    const { statementById } = await import('../../src/billing/statements.js');
    const st = await statementById(t.db, Number(row.id));
    const file = path.join(out, 'split.xlsx');
    await writeStatementWorkbook(t.db, st, file, { timeZone: 'UTC', linesPerSheet: 7_000 });
    const wb = await read(file);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['EUR', 'EUR (2)', 'EUR (3)']);
    let balance = OPENING;
    let k = 0;
    for (const [i, name] of ['EUR', 'EUR (2)', 'EUR (3)'].entries()) {
      const ws = wb.getWorksheet(name)!;
      expect(ws.getRow(10).getCell(1).value).toBe(i === 0 ? 'Opening balance' : 'Carried forward');
      expect(ws.getRow(10).getCell(9).value).toBe(balance / 100);
      const n = i < 2 ? 7_000 : LINES - 14_000;
      for (let r = 12; r < 12 + n; r++, k++) {
        balance += expected[k]!.signed;
        expect(ws.getRow(r).getCell(3).value).toBe(expected[k]!.document);
        if (expected[k]!.kind !== 'Shipment') expect(ws.getRow(r).getCell(9).value).toBe(balance / 100);
      }
    }
    expect(k).toBe(LINES);
    const last = wb.getWorksheet('EUR (3)')!;
    const totals = rowLabelled(last, 'Total debit', 12);
    expect(formula(totals.getCell(7))).toBe(
      `SUM('EUR'!G12:G7011,'EUR (2)'!G12:G7011,'EUR (3)'!G12:G${11 + LINES - 14_000})`,
    );
    expect(result(totals.getCell(7))).toBe(st.balances[0]!.invoiced / 100);
    expect(result(rowLabelled(last, 'Closing balance', 12).getCell(9))).toBe(balance / 100);
    expect(balance).toBe(st.balances[0]!.closing);
  });
});
