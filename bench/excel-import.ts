/**
 * Excel order inbox: a workbook of `rows` lines (orders of `linesPerOrder` lines, one row in 500
 * with a bad quantity so that some orders are rejected whole) is parsed with the streaming reader,
 * then the result workbook is written with the streaming writer. Prints rows/s of each step and the
 * peak RSS and heap during it, sampled every 20 ms (after a GC, from the level at the step's start).
 * Last, for comparison, it times exceljs reading the same workbook whole into memory (`Workbook.xlsx`);
 * it runs last because RSS, once grown, does not shrink.
 *
 *   npx tsx bench/excel-import.ts [rows=10000] [linesPerOrder=5]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import ExcelJS from 'exceljs';
import { parseOrderFile } from '../connectors/excel-inbox/parse.js';
import { resultFileName, writeResultWorkbook } from '../connectors/excel-inbox/result-workbook.js';
import type { OrderOutcome } from '../connectors/excel-inbox/types.js';

const ROWS = Number(process.argv[2] ?? 10_000);
const LINES_PER_ORDER = Number(process.argv[3] ?? 5);
const BAD_EVERY = 500;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Runs `step`, sampling memory every 20 ms; returns its result, time and peaks. */
async function measured<T>(step: () => Promise<T>) {
  gc();
  const start = process.memoryUsage();
  let rss = start.rss;
  let heap = start.heapUsed;
  const sample = () => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
  };
  const timer = setInterval(sample, 20);
  const t0 = performance.now();
  try {
    const result = await step();
    const ms = performance.now() - t0;
    sample();
    return { result, ms, start, rss, heap };
  } finally {
    clearInterval(timer);
  }
}

function report(name: string, rows: number, m: Awaited<ReturnType<typeof measured>>) {
  const rate = Math.round(rows / (m.ms / 1000));
  console.log(
    `${name}: ${rows} rows in ${Math.round(m.ms)} ms (${rate} rows/s); ` +
      `peak RSS ${mb(m.rss)} (start ${mb(m.start.rss)}), peak heap ${mb(m.heap)} (start ${mb(m.start.heapUsed)})`,
  );
}

async function generate(file: string) {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: true });
  const sheet = workbook.addWorksheet('Orders');
  sheet.addRow(['Order No', 'Customer', 'SKU', 'Qty', 'Unit Price', 'Currency']).commit();
  for (let i = 0; i < ROWS; i++) {
    const order = Math.floor(i / LINES_PER_ORDER);
    const quantity = i % BAD_EVERY === BAD_EVERY - 1 ? 'two' : 1 + (i % 9);
    const price = (i % 997) + 0.99;
    sheet
      .addRow([`PO-${100000 + order}`, `CUST-${order % 150}`, `SKU-${i % 3000}`, quantity, price, 'EUR'])
      .commit();
  }
  sheet.commit();
  await workbook.commit();
}

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-excel-'));
  try {
    const input = path.join(dir, 'orders.xlsx');
    const output = path.join(dir, resultFileName('orders.xlsx'));
    const orders = Math.ceil(ROWS / LINES_PER_ORDER);
    console.log(
      `excel-import: ${ROWS} rows, ${orders} orders of ${LINES_PER_ORDER} lines, node ${process.version}`,
    );

    const gen = await measured(() => generate(input));
    console.log(
      `generate: ${ROWS} rows in ${Math.round(gen.ms)} ms, ${(statSync(input).size / 1024).toFixed(0)} KB`,
    );

    const parse = await measured(() =>
      parseOrderFile({ fileName: 'orders.xlsx', path: input }, { maxRows: ROWS }),
    );
    const parsed = parse.result;
    if (parsed.error) throw new Error(`parse failed: ${parsed.error}`);
    report('parse', parsed.rows.length, parse);
    const expectedRejected = Math.floor(ROWS / BAD_EVERY);
    console.log(
      `parsed: ${parsed.orders.length} orders valid, ${parsed.rejectedOrders.length} rejected ` +
        `(expected ${orders - expectedRejected} and ${expectedRejected})`,
    );
    if (parsed.rows.length !== ROWS || parsed.rejectedOrders.length !== expectedRejected) {
      throw new Error('unexpected parse result');
    }

    const outcomes = new Map<string, OrderOutcome>(
      parsed.orders.map((o, i) => [o.externalId, { accepted: true, orderId: i + 1 }]),
    );
    const write = await measured(() => writeResultWorkbook(parsed, outcomes, output));
    report('write', parsed.rows.length, write);
    console.log(`result: ${(statSync(output).size / 1024).toFixed(0)} KB`);

    // For comparison: exceljs reading the whole workbook into memory, without any of our work.
    const inMemory = await measured(async () => {
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.readFile(input);
      return workbook.worksheets[0]?.rowCount ?? 0;
    });
    report('baseline, exceljs in-memory read only', inMemory.result - 1, inMemory);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
