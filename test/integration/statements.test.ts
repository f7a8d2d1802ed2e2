import { existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEDULED_JOBS } from '../../jobs/index.js';
import { writeStatementWorkbook } from '../../src/billing/statements.js';
import { statementBalanceProblems } from '../../src/reconciliation/internal-checks.js';
import { checkInvariants } from '../helpers/invariants.js';
import { jobContext } from '../helpers/job-context.js';
import { createStack, orderBody, seedCatalog, type TestStack } from '../helpers/stack.js';
import { insertDocument, insertPayment } from '../helpers/statement-fixtures.js';

/**
 * Customer statements (对账单): the opening carried from the previous statement and checked, the
 * lines in date order with their running balance, the ageing at the period's end, the workbook read
 * back and held against the API, the states and versions, and the monthly job.
 */
describe('customer statements', () => {
  let stack: TestStack;
  let acme: number;
  const ids: Record<string, number> = {} as Record<string, number>;

  async function workbookOf(id: number): Promise<ExcelJS.Workbook> {
    const res = await stack.app.request(`/api/statements/${id}/file`, {
      headers: { authorization: 'Bearer test-admin-token-0123456789' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('spreadsheetml');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await res.arrayBuffer()) as ArrayBuffer);
    return wb;
  }

  /** The row whose first cell is `label` (the first such row from `from` on). */
  function rowLabelled(ws: ExcelJS.Worksheet, label: string, from = 1): ExcelJS.Row {
    for (let r = from; r <= ws.rowCount; r++)
      if (ws.getRow(r).getCell(1).value === label) return ws.getRow(r);
    throw new Error(`no row ${label}`);
  }
  const resultOf = (cell: ExcelJS.Cell) => (cell.value as ExcelJS.CellFormulaValue).result;
  const formulaOf = (cell: ExcelJS.Cell) => (cell.value as ExcelJS.CellFormulaValue).formula;

  beforeAll(async () => {
    stack = await createStack();
    await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['INK']);
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'opening',
      lines: [{ sku: 'INK', quantity: 10 }],
    });
    stack.startWorker(2);
    expect(
      (
        await stack.api('PUT', '/api/companies/SB', {
          name: 'Stockbridge Trading Ltd',
          nameZh: '石桥贸易有限公司',
          taxId: '91310000MA1FL00000',
          address: 'Shanghai',
          currency: 'EUR',
        })
      ).status,
    ).toBeLessThan(300);
    for (const [code, body] of [
      ['ACME', { name: '极客公司', currency: 'EUR', language: 'zh-CN', company: 'SB', taxId: 'ACME-TAX' }],
      ['BETA', { name: 'Beta Ltd', currency: 'EUR', language: 'en', company: 'SB' }],
    ] as const) {
      const r = await stack.api('PUT', `/api/customers/${code}`, body);
      expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
    }
    acme = Number((await stack.db('customers').where('code', 'ACME').first('id')).id);

    // ACME, in EUR: two old invoices (before October), October, November.
    const doc = (
      type: 'invoice' | 'credit_note',
      total: number,
      issueDate: string,
      dueDate?: string,
      credits?: number,
    ) =>
      insertDocument(stack.db, {
        customerId: acme,
        type,
        total,
        issueDate,
        dueDate,
        creditsInvoiceId: credits,
      });
    ids.i00 = await doc('invoice', 1500, '2026-06-01', '2026-07-01');
    ids.i0 = await doc('invoice', 2000, '2026-09-01', '2026-09-15');
    ids.i1 = await doc('invoice', 10000, '2026-10-05', '2026-10-20');
    ids.p1 = await insertPayment(stack.db, {
      customerId: acme,
      reference: 'BANK-1',
      amount: 3000,
      receivedOn: '2026-10-20',
      allocations: [{ invoiceId: ids.i1, amount: 3000 }],
    });
    ids.i2 = await doc('invoice', 5000, '2026-11-10', '2026-12-10');
    ids.c1 = await doc('credit_note', 1000, '2026-11-12', undefined, ids.i1);
    ids.i3 = await doc('invoice', 4000, '2026-11-15', '2026-11-20');
    // On account: not applied to any invoice.
    ids.p2 = await insertPayment(stack.db, {
      customerId: acme,
      reference: 'BANK-2',
      amount: 2000,
      receivedOn: '2026-11-25',
    });

    // BETA: a real order shipped in November (moved there) and invoiced today.
    const placed = await stack.api(
      'POST',
      '/api/orders',
      orderBody('BETA-1', [{ sku: 'INK', quantity: 3 }], { customer: { code: 'BETA' } }),
    );
    await stack.settle();
    const ship = await stack.api('POST', `/api/orders/${placed.body.id}/shipments`);
    expect(ship.status).toBe(201);
    ids.s1 = Number(ship.body.shipmentId);
    await stack.db('shipments').where('id', ids.s1).update({ created_at: '2026-11-18 09:30:00.000' });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('states October, then November with October’s closing as its opening', async () => {
    const oct = await stack.api('POST', '/api/statements', { customer: 'ACME', period: '2026-10' });
    expect(oct.status, JSON.stringify(oct.body)).toBe(201);
    expect(oct.body).toMatchObject({ issued: 1, unchanged: 0 });
    const o = oct.body.items[0];
    expect(o).toMatchObject({
      from: '2026-10-01',
      to: '2026-10-31',
      period: '2026-10',
      version: 1,
      state: 'issued',
      language: 'zh-CN',
      previousId: null,
      customer: { code: 'ACME', name: '极客公司', taxId: 'ACME-TAX' },
      company: { code: 'SB', nameZh: '石桥贸易有限公司' },
      lineCount: 2,
    });
    expect(o.balances).toEqual([
      expect.objectContaining({
        currency: 'EUR',
        opening: 3500,
        invoiced: 10000,
        credited: 0,
        paid: 3000,
        closing: 10500,
      }),
    ]);
    ids.oct = o.id;

    const nov = await stack.api('POST', '/api/statements', {
      customer: 'acme',
      from: '2026-11-01',
      to: '2026-11-30',
    });
    expect(nov.status).toBe(201);
    const n = nov.body.items[0];
    ids.nov = n.id;
    expect(n).toMatchObject({ period: '2026-11', previousId: o.id, lineCount: 4, findings: [] });
    expect(n.balances[0]).toMatchObject({
      currency: 'EUR',
      opening: o.balances[0].closing,
      previousClosing: 10500,
      recomputedPreviousClosing: 10500,
      finding: null,
      invoiced: 9000,
      credited: 1000,
      paid: 2000,
      closing: 16500,
    });
    // Issued again unchanged: the statement there is.
    const again = await stack.api('POST', '/api/statements', { customer: 'ACME', period: '2026-11' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ issued: 0, unchanged: 1, items: [{ id: n.id, version: 1 }] });
  });

  it('lists the lines in date order with the running balance, page by page', async () => {
    const first = await stack.api('GET', `/api/statements/${ids.nov}?limit=3`);
    expect(first.status).toBe(200);
    expect(first.body.lines.map((l: any) => [l.date, l.kind, l.debit, l.credit, l.balance])).toEqual([
      ['2026-11-10', 'invoice', 5000, null, 15500],
      ['2026-11-12', 'credit_note', null, 1000, 14500],
      ['2026-11-15', 'invoice', 4000, null, 18500],
    ]);
    expect(first.body.lines[1]).toMatchObject({
      document: expect.stringMatching(/^TCN-2026-/),
      detail: expect.stringMatching(/^TINV-2026-/),
    });
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await stack.api(
      'GET',
      `/api/statements/${ids.nov}?limit=3&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.lines.map((l: any) => [l.date, l.kind, l.document, l.credit, l.balance])).toEqual([
      ['2026-11-25', 'payment', 'BANK-2', 2000, 16500],
    ]);
    expect(second.body.nextCursor).toBeNull();
    expect((await stack.api('GET', `/api/statements/${ids.nov}?cursor=nonsense`)).status).toBe(400);
    expect((await stack.api('GET', '/api/statements/999999')).status).toBe(404);
  });

  it('ages the open invoices at the period end, and the buckets add up to the closing balance', async () => {
    const { body } = await stack.api('GET', `/api/statements/${ids.nov}`);
    // I2 due 12-10: not yet due; I3 due 11-20: 10 days; I1 (10000 − 3000 paid − 1000 credited) due
    // 10-20: 41 days; I0 due 09-15: 76 days; I00 due 07-01: 152 days; BANK-2 on account.
    expect(body.balances[0].ageing).toEqual({
      current: 5000,
      d1_30: 4000,
      d31_60: 6000,
      d61_90: 2000,
      over90: 1500,
      unapplied: -2000,
    });
    const a = body.balances[0].ageing;
    expect(a.current + a.d1_30 + a.d31_60 + a.d61_90 + a.over90 + a.unapplied).toBe(body.balances[0].closing);
  });

  it('writes a print-ready workbook in the customer’s language whose figures are the API’s', async () => {
    const { body: st } = await stack.api('GET', `/api/statements/${ids.nov}`);
    const wb = await workbookOf(ids.nov!);
    const ws = wb.getWorksheet('EUR')!;
    expect(ws).toBeDefined();
    expect(ws.getRow(1).getCell(1).value).toBe('石桥贸易有限公司');
    expect(ws.getRow(4).getCell(1).value).toBe('客户对账单');
    expect(ws.getRow(11).values).toEqual([
      undefined,
      '日期',
      '类型',
      '单据号',
      '摘要',
      '到期日',
      '数量',
      '借方（应收）',
      '贷方（已收/冲减）',
      '余额',
    ]);
    expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 11 });
    expect(ws.pageSetup).toMatchObject({
      orientation: 'landscape',
      paperSize: 9,
      fitToPage: true,
      fitToWidth: 1,
      fitToHeight: 0,
      printTitlesRow: '11:11',
    });
    expect(ws.headerFooter.oddHeader).toContain('石桥贸易有限公司');
    expect(ws.headerFooter.oddHeader).toContain('2026-11-01 – 2026-11-30');
    expect(ws.getRow(10).getCell(9).value).toBe(st.balances[0].opening / 100);
    expect(ws.getRow(10).getCell(9).numFmt).toContain('0.00');
    // The lines, as the API lists them.
    st.lines.forEach((l: any, k: number) => {
      const row = ws.getRow(12 + k);
      // Dates are dates: Excel's day number with a date format, read back as UTC midnight.
      expect(row.getCell(1).value).toEqual(new Date(`${l.date}T00:00:00Z`));
      expect(row.getCell(1).numFmt).toBe('yyyy-mm-dd');
      expect(row.getCell(5).value ?? null).toEqual(l.dueDate ? new Date(`${l.dueDate}T00:00:00Z`) : null);
      expect(row.getCell(3).value).toBe(l.document);
      expect(row.getCell(7).value ?? null).toBe(l.debit === null ? null : l.debit / 100);
      expect(row.getCell(8).value ?? null).toBe(l.credit === null ? null : l.credit / 100);
      expect(row.getCell(9).value).toBe(l.balance / 100);
    });
    const b = st.balances[0];
    const totals = rowLabelled(ws, '借方合计');
    expect(formulaOf(totals.getCell(7))).toBe("SUM('EUR'!G12:G15)");
    expect(resultOf(totals.getCell(7))).toBe(b.invoiced / 100);
    expect(resultOf(totals.getCell(8))).toBe((b.credited + b.paid) / 100);
    const closing = rowLabelled(ws, '期末余额');
    expect(formulaOf(closing.getCell(9))).toMatch(/^I\d+\+G\d+-H\d+$/);
    expect(resultOf(closing.getCell(9))).toBe(b.closing / 100);
    // The formulas' results agree with what they compute over the sheet's own values.
    let debit = 0;
    let credit = 0;
    for (let r = 12; r <= 15; r++) {
      debit += Number(ws.getRow(r).getCell(7).value ?? 0);
      credit += Number(ws.getRow(r).getCell(8).value ?? 0);
    }
    expect(debit).toBeCloseTo(resultOf(totals.getCell(7)) as number, 6);
    expect(credit).toBeCloseTo(resultOf(totals.getCell(8)) as number, 6);
    // The same figures as values.
    expect(rowLabelled(ws, '期末余额', closing.number + 1).getCell(9).value).toBe(b.closing / 100);
    expect(rowLabelled(ws, '本期开票').getCell(9).value).toBe(b.invoiced / 100);
    expect(rowLabelled(ws, '本期收款').getCell(9).value).toBe(b.paid / 100);
    expect(rowLabelled(ws, '逾期31–60天').getCell(9).value).toBe(b.ageing.d31_60 / 100);
    expect(rowLabelled(ws, '逾期90天以上').getCell(9).value).toBe(b.ageing.over90 / 100);
    const ageTotal = rowLabelled(ws, '合计（等于期末余额）').getCell(9);
    expect(formulaOf(ageTotal)).toMatch(/^SUM\(I\d+:I\d+\)$/);
    expect(resultOf(ageTotal)).toBe(b.closing / 100);
  });

  it('moves issued → sent → confirmed or disputed, refuses other moves (409), and versions a confirmed period', async () => {
    expect((await stack.api('POST', `/api/statements/${ids.nov}/confirmed`)).status).toBe(409);
    const sent = await stack.api('POST', `/api/statements/${ids.nov}/sent`);
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ state: 'sent', stateActor: 'admin', sentAt: expect.any(String) });
    const twice = await stack.api('POST', `/api/statements/${ids.nov}/sent`);
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('invalid_transition');
    expect((await stack.api('POST', `/api/statements/${ids.nov}/confirmed`)).body.state).toBe('confirmed');
    expect((await stack.api('POST', `/api/statements/${ids.nov}/disputed`, { note: 'late' })).status).toBe(
      409,
    );

    // October is disputed, with the customer's note; a dispute needs one.
    await stack.api('POST', `/api/statements/${ids.oct}/sent`);
    expect((await stack.api('POST', `/api/statements/${ids.oct}/disputed`, {})).status).toBe(422);
    const disputed = await stack.api('POST', `/api/statements/${ids.oct}/disputed`, {
      note: '10月28日已付500',
    });
    expect(disputed.body).toMatchObject({ state: 'disputed', disputeNote: '10月28日已付500' });

    // Reconciliation's money check: ACME's latest statement closes where its documents do.
    const acmeBalance = async () =>
      (await statementBalanceProblems(stack.db)).filter((f) => f.subject.startsWith('statement ACME '));
    expect(await acmeBalance()).toEqual([]);

    // A receipt of 28 October recorded late: November again is a new version, the confirmed one stays,
    // and its opening (October's closing as stated) is found to differ from the documents.
    await insertPayment(stack.db, {
      customerId: acme,
      reference: 'BANK-LATE',
      amount: 500,
      receivedOn: '2026-10-28',
    });
    const re = await stack.api('POST', '/api/statements', { customer: 'ACME', period: '2026-11' });
    expect(re.status).toBe(201);
    const v2 = re.body.items[0];
    expect(v2).toMatchObject({ version: 2, state: 'issued', previousId: ids.oct, superseded: false });
    expect(v2.id).not.toBe(ids.nov);
    expect(v2.balances[0]).toMatchObject({
      opening: 10500,
      previousClosing: 10500,
      recomputedPreviousClosing: 10000,
      closing: 16500,
    });
    expect(v2.findings).toEqual([
      expect.objectContaining({
        kind: 'previous_closing_differs',
        previousStatementId: ids.oct,
        difference: -500,
      }),
    ]);
    // The new version carries October's closing as stated, so it closes 500 above what ACME's
    // invoices less its payments give: the nightly reconciliation reports it (no heal).
    expect(await acmeBalance()).toEqual([
      expect.objectContaining({
        kind: 'statement.balance_differs',
        severity: 'warning',
        subject: 'statement ACME EUR',
        ours: expect.objectContaining({ statement: v2.id, closing: 16500 }),
        theirs: expect.objectContaining({ balance: 16000 }),
      }),
    ]);
    const v1 = (await stack.api('GET', `/api/statements/${ids.nov}`)).body;
    expect(v1).toMatchObject({ version: 1, state: 'confirmed', superseded: true, findings: [] });
    const list = await stack.api('GET', '/api/statements?customer=ACME&period=2026-11');
    expect(list.body.items.map((s: any) => [s.version, s.state])).toEqual([
      [2, 'issued'],
      [1, 'confirmed'],
    ]);
    // Both workbooks exist.
    expect((await workbookOf(ids.nov!)).getWorksheet('EUR')).toBeDefined();
    const wb2 = await workbookOf(v2.id);
    const ws2 = wb2.getWorksheet('EUR')!;
    expect(String(rowLabelled(ws2, '期初余额核对').getCell(3).value)).toContain('10000');
    ids.novV2 = v2.id;
  });

  it('the monthly job writes every customer’s statement and the summary, once per period', async () => {
    const job = SCHEDULED_JOBS.find((j) => j.name === 'statements');
    expect(job).toMatchObject({ period: 'month' });
    const root = mkdtempSync(path.join(tmpdir(), 'sb-st-'));
    const outputDir = path.join(root, 'statements', '2026-11');
    mkdirSync(outputDir, { recursive: true });
    const ctx = jobContext(stack.db, { period: '2026-11', outputDir });
    const first = await job!.run(ctx);
    // ACME has its November already; BETA's (a shipment) is new.
    expect(first.counts).toMatchObject({ statements: 1, unchanged: 1, summaryRows: 2 });
    expect([...first.files!].sort()).toEqual(['BETA-2026-11-v1.xlsx', 'summary-2026-11.xlsx']);
    for (const f of first.files!) expect(existsSync(path.join(outputDir, f))).toBe(true);
    const again = await job!.run(ctx);
    expect(again.counts).toMatchObject({ statements: 0, unchanged: 2 });
    expect(again.files).toEqual([]);
    expect(readdirSync(outputDir).sort()).toEqual(['BETA-2026-11-v1.xlsx', 'summary-2026-11.xlsx']);

    // BETA's statement: in English, the shipment as a line without money.
    const list = await stack.api('GET', '/api/statements?customer=BETA');
    expect(list.body.items).toHaveLength(1);
    const st = (await stack.api('GET', `/api/statements/${list.body.items[0].id}`)).body;
    expect(st).toMatchObject({
      language: 'en',
      lineCount: 1,
      document: 'statements/2026-11/BETA-2026-11-v1.xlsx',
    });
    expect(st.lines).toEqual([
      expect.objectContaining({
        date: '2026-11-18',
        kind: 'shipment',
        document: 'BETA-1',
        quantity: 3,
        debit: null,
        credit: null,
        balance: null,
      }),
    ]);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(path.join(outputDir, 'BETA-2026-11-v1.xlsx'));
    const ws = wb.getWorksheet('EUR')!;
    expect(ws.getRow(4).getCell(1).value).toBe('Customer statement');
    expect(ws.getRow(11).getCell(1).value).toBe('Date');
    expect(ws.getRow(11).getCell(9).value).toBe('Balance');
    expect(ws.getRow(12).getCell(2).value).toBe('Shipment');
    expect(ws.getRow(12).getCell(6).value).toBe(3);

    // The summary: ACME's latest version and BETA, and the totals as formulas with their results.
    const sum = new ExcelJS.Workbook();
    await sum.xlsx.readFile(path.join(outputDir, 'summary-2026-11.xlsx'));
    const s = sum.getWorksheet('summary')!;
    expect(String(s.getRow(4).getCell(1).value)).toContain('Customer');
    const acmeRow = [5, 6].map((r) => s.getRow(r)).find((r) => r.getCell(1).value === 'ACME')!;
    const v2 = (await stack.api('GET', `/api/statements/${ids.novV2}`)).body;
    expect(acmeRow.getCell(4).value).toBe(v2.balances[0].opening / 100);
    expect(acmeRow.getCell(8).value).toBe(v2.balances[0].closing / 100);
    expect(acmeRow.getCell(12).value).toBe(v2.balances[0].ageing.d61_90 / 100);
    expect(acmeRow.getCell(16).value).toBe(2);
    const total = s.getRow(7);
    expect(formulaOf(total.getCell(8))).toBe('SUM(H5:H6)');
    expect(resultOf(total.getCell(8))).toBe(v2.balances[0].closing / 100);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });
});

describe('customer statements on SQLite (the embedded default)', () => {
  let stack: TestStack;
  afterAll(async () => {
    await stack?.close();
  });

  it('states a month with its lines paged and its workbook', async () => {
    stack = await createStack({ sqlite: true });
    expect(
      (await stack.api('PUT', '/api/customers/LITE', { name: 'Lite', currency: 'CNY', language: 'zh-CN' }))
        .status,
    ).toBeLessThan(300);
    const customerId = Number((await stack.db('customers').where('code', 'LITE').first('id')).id);
    const inv = await insertDocument(stack.db, {
      customerId,
      type: 'invoice',
      total: 88800,
      currency: 'CNY',
      issueDate: '2026-11-03',
      dueDate: '2026-11-10',
    });
    await insertPayment(stack.db, {
      customerId,
      reference: 'WX-1',
      amount: 8800,
      currency: 'CNY',
      receivedOn: '2026-11-03',
      allocations: [{ invoiceId: inv, amount: 8800 }],
    });
    await insertDocument(stack.db, {
      customerId,
      type: 'invoice',
      total: 1200,
      currency: 'CNY',
      issueDate: '2026-11-20',
      dueDate: '2026-12-20',
    });
    const made = await stack.api('POST', '/api/statements', { period: '2026-11' });
    expect(made.status).toBe(201);
    expect(made.body.items).toHaveLength(1);
    const st = made.body.items[0];
    expect(st.balances).toEqual([
      expect.objectContaining({
        currency: 'CNY',
        opening: 0,
        invoiced: 90000,
        paid: 8800,
        closing: 81200,
        ageing: { current: 1200, d1_30: 80000, d31_60: 0, d61_90: 0, over90: 0, unapplied: 0 },
      }),
    ]);
    const p1 = await stack.api('GET', `/api/statements/${st.id}?limit=2`);
    expect(p1.body.lines.map((l: any) => [l.kind, l.balance])).toEqual([
      ['invoice', 88800],
      ['payment', 80000],
    ]);
    const p2 = await stack.api('GET', `/api/statements/${st.id}?limit=2&cursor=${p1.body.nextCursor}`);
    expect(p2.body.lines.map((l: any) => [l.kind, l.balance])).toEqual([['invoice', 81200]]);
    expect(p2.body.nextCursor).toBeNull();
    const res = await stack.app.request(`/api/statements/${st.id}/file`, {
      headers: { authorization: 'Bearer test-admin-token-0123456789' },
    });
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await res.arrayBuffer()) as ArrayBuffer);
    const ws = wb.getWorksheet('CNY')!;
    expect(ws.getRow(14).getCell(9).value).toBe(812);
    const closing = (() => {
      for (let r = 15; r <= ws.rowCount; r++)
        if (ws.getRow(r).getCell(1).value === '期末余额') return ws.getRow(r);
      throw new Error('no closing');
    })();
    expect((closing.getCell(9).value as ExcelJS.CellFormulaValue).result).toBe(812);

    // A currency with more lines than a sheet holds goes on in a sheet of its own, carried forward.
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'sb-st-split-')), 'split.xlsx');
    await writeStatementWorkbook(stack.db, st, file, { timeZone: 'UTC', linesPerSheet: 2 });
    const split = new ExcelJS.Workbook();
    await split.xlsx.readFile(file);
    expect(split.worksheets.map((w) => w.name)).toEqual(['CNY', 'CNY (2)']);
    const second = split.getWorksheet('CNY (2)')!;
    expect(second.getRow(10).getCell(1).value).toBe('承前页余额');
    expect(second.getRow(10).getCell(9).value).toBe(800);
    expect(second.getRow(12).getCell(9).value).toBe(812);
    let debit: ExcelJS.Cell | undefined;
    second.eachRow((row) => {
      if (row.getCell(1).value === '借方合计') debit = row.getCell(7);
    });
    expect((debit!.value as ExcelJS.CellFormulaValue).formula).toBe("SUM('CNY'!G12:G13,'CNY (2)'!G12:G12)");
    expect((debit!.value as ExcelJS.CellFormulaValue).result).toBe(900);
  });
});
