import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { readSheetRows } from '../../connectors/excel-inbox/parse.js';
import { readSkuSheet, readStockSheet } from '../../src/stock/catalogue-sheet.js';

const skus = (csv: string, currency?: string) =>
  readSheetRows({ fileName: 'skus.csv', data: Buffer.from(csv) }, (rows, kind) =>
    readSkuSheet(rows, currency, kind),
  );
const stock = (csv: string, warehouse?: string) =>
  readSheetRows({ fileName: 'stock.csv', data: Buffer.from(csv) }, (rows, kind) =>
    readStockSheet(rows, warehouse, kind),
  );

describe('catalogue sheets', () => {
  it('refuse a CSV row with more or fewer cells than the header: an unquoted 12,50 is not 12', async () => {
    const read = await skus('SKU,Name,Price,Currency\nA1,Bolt,12,50,EUR\nA2,Nut,3\nA3,Washer,1,EUR\n');
    if (!('value' in read)) throw new Error(read.error);
    expect(read.value.map((r) => [r.row, r.sku?.unitPrice, r.problems])).toEqual([
      [
        2,
        undefined,
        expect.arrayContaining([expect.stringContaining('the row has 5 cells and the header 4')]),
      ],
      [
        3,
        undefined,
        expect.arrayContaining([expect.stringContaining('the row has 3 cells and the header 4')]),
      ],
      [4, 100, []],
    ]);
  });

  it('refuse a quantity cell formatted as a date instead of reading it as 46,037', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Stock');
    sheet.addRow(['SKU', 'Warehouse', 'Quantity']);
    sheet.addRow(['A1', 'main', new Date(Date.UTC(2026, 0, 15))]);
    sheet.addRow(['A2', 'main', 40]);
    const data = Buffer.from(await workbook.xlsx.writeBuffer());
    const read = await readSheetRows({ fileName: 'stock.xlsx', data }, (rows, kind) =>
      readStockSheet(rows, undefined, kind),
    );
    if (!('value' in read)) throw new Error(read.error);
    expect(read.value[0]).toMatchObject({
      row: 2,
      problems: expect.arrayContaining([expect.stringContaining('holds a date')]),
    });
    expect(read.value[0]).not.toHaveProperty('quantity');
    expect(read.value[1]).toMatchObject({ row: 3, quantity: 40, problems: [] });
  });

  it('know the Chinese column names, in any order, and ignore other columns', async () => {
    const read = await skus('备注,品名,商品编码,价格,货币,再订货点\nx,扳手,W-1,3.5,cny,7\n');
    expect(read).toEqual({
      value: [
        expect.objectContaining({
          row: 2,
          problems: [],
          sku: { code: 'W-1', name: '扳手', unitPrice: 350, currency: 'CNY', reorderPoint: 7 },
        }),
      ],
    });
    const opening = await stock('期初库存\tSKU编码\n12\tW-1\n', 'main');
    expect(opening).toEqual({
      value: [{ row: 2, sku: 'W-1', warehouse: 'main', rawQuantity: '12', quantity: 12, problems: [] }],
    });
  });

  it('refuse a sheet naming one column twice or missing a required one, saying which', async () => {
    const twice = await skus('SKU,货号,Name,Price\nA,A,a,1\n');
    expect(twice).toEqual({
      error: expect.stringContaining('"SKU" and "货号" both name the SKU / 货号 column'),
    });
    const missing = await stock('SKU,Warehouse\nA,main\n');
    expect(missing).toEqual({ error: expect.stringContaining('quantity / 数量') });
    expect(await stock('SKU,Qty\n')).toEqual({ error: expect.stringContaining('no data rows') });
  });

  it('give every problem of a row, with its reason in English and Chinese', async () => {
    const read = await skus('SKU,Name,Price,Currency,Reorder point\nA B,,"12,50",EURO,1.5\n');
    if (!('value' in read)) throw new Error(read.error);
    const [row] = read.value;
    expect(row!.sku).toBeUndefined();
    expect(row!.problems).toEqual([
      expect.stringContaining('letters, digits'),
      'name is missing / 缺少名称',
      expect.stringContaining('ISO 4217'),
      expect.stringContaining('reorder point "1.5"'),
    ]);
    const bad = await stock('SKU,Warehouse,Qty\nA,main,-2\nC,main,3\nB,,4\n');
    if (!('value' in bad)) throw new Error(bad.error);
    expect(bad.value.map((r) => r.problems)).toEqual([
      ['quantity -2 must be at least 1 / 数量 -2 不能小于 1'],
      [],
      ['warehouse is missing / 缺少仓库'],
    ]);
  });

  it('treat codes that differ only in case as the same code', async () => {
    const read = await stock('SKU,Warehouse,Qty\nA,main,1\na,MAIN,2\n');
    if (!('value' in read)) throw new Error(read.error);
    expect(read.value[1]!.problems).toEqual([expect.stringContaining('also on row 2')]);
  });
});
