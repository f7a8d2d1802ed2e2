/**
 * The reports of README "Reports" over a large history: orders spread over three months with two
 * lines each, most shipped and invoiced, half the invoices paid, some cancelled; a catalogue with
 * shipment rows in its ledger. Each report's first JSON page and its whole workbook (written by the
 * same code the `.xlsx` routes and the monthly job use, to a file) are timed, with the process's
 * peak RSS while writing. Set-up is written straight into the tables and is not measured.
 *
 *   npx tsx bench/reports.ts [--orders 100000] [--customers 1000] [--skus 200]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { dbTime } from '../src/db/connection.js';
import { placeholders } from '../src/db/write-batch.js';
import { executionPage } from '../src/reports/execution.js';
import { executionSummary } from '../src/reports/execution-summary.js';
import {
  executionSummaryWorkbook,
  executionWorkbook,
  salesWorkbook,
  settlementWorkbook,
  slowMoverParams,
  slowMoversWorkbook,
  writeReportFile,
} from '../src/reports/report-files.js';
import { reportRange } from '../src/reports/report-range.js';
import { salesPage } from '../src/reports/sales.js';
import { settlementPage } from '../src/reports/settlement.js';
import { slowMoversPage } from '../src/reports/slow-movers.js';
import { benchDatabase, intArg, parseArgs, seed } from './support.js';

const { flags } = parseArgs();
const ORDERS = intArg(flags.get('orders'), 100_000, 'orders');
const CUSTOMERS = intArg(flags.get('customers'), 1000, 'customers');
const SKUS = intArg(flags.get('skus'), 200, 'skus');
const LINES = 2;

const MONTHS = ['2026-09', '2026-10', '2026-11'];

async function main() {
  const { db, drop } = await benchDatabase(8);
  const out = mkdtempSync(path.join(tmpdir(), 'sb-bench-reports-'));
  try {
    const t0 = performance.now();
    await seed(db, SKUS, 2, 100_000);
    const skus = await db('skus').orderBy('id').select('id', 'code');
    const now = dbTime();
    await db('salespeople').insert(
      Array.from({ length: 5 }, (_, i) => ({
        code: `SP${i + 1}`,
        name: `Sales ${i + 1}`,
        created_at: now,
        updated_at: now,
      })),
    );
    for (let i = 0; i < CUSTOMERS; i += 500)
      await db('customers').insert(
        Array.from({ length: Math.min(500, CUSTOMERS - i) }, (_, j) => ({
          code: `C${i + j + 1}`,
          name: `Customer ${i + j + 1}`,
          salesperson_id: ((i + j) % 5) + 1,
          created_at: now,
          updated_at: now,
        })),
      );
    const BATCH = 1000;
    let invoiceId = 0;
    for (let start = 0; start < ORDERS; start += BATCH) {
      const n = Math.min(BATCH, ORDERS - start);
      const ids = Array.from({ length: n }, (_, i) => start + i + 1);
      const statusOf = (id: number) =>
        id % 10 === 0 ? 'cancelled' : id % 10 === 1 ? 'confirmed' : 'shipped';
      const placed = (id: number) => {
        const month = MONTHS[id % MONTHS.length]!;
        const day = String((id % 28) + 1).padStart(2, '0');
        return `${month}-${day} 10:00:00.000`;
      };
      const channel = (id: number) => (id % 3 === 0 ? 'excel' : 'api');
      const total = LINES * 2 * 1000 + 500;
      await db.raw(
        `INSERT INTO orders (id, channel, external_id, customer_id, status, currency, total_amount, shipping_amount, placed_at, created_at, updated_at) VALUES ${placeholders(n, 11)}`,
        ids.flatMap((id) => [
          id,
          channel(id),
          `B-${id}`,
          (id % CUSTOMERS) + 1,
          statusOf(id),
          'EUR',
          total,
          500,
          placed(id),
          now,
          now,
        ]),
      );
      const lineOf = (id: number, j: number) => (id - 1) * LINES + j + 1;
      await db.raw(
        `INSERT INTO order_lines (id, order_id, line_no, sku_code, sku_id, ordered, reserved, shipped, cancelled, unit_price) VALUES ${placeholders(n * LINES, 10)}`,
        ids.flatMap((id) =>
          Array.from({ length: LINES }, (_, j): (string | number)[] => {
            const sku = skus[(id + j) % skus.length]!;
            const s = statusOf(id);
            return [
              lineOf(id, j),
              id,
              j + 1,
              sku.code,
              sku.id,
              2,
              s === 'confirmed' ? 2 : 0,
              s === 'shipped' ? 2 : 0,
              s === 'cancelled' ? 2 : 0,
              1000,
            ];
          }).flat(),
        ),
      );
      const shipped = ids.filter((id) => statusOf(id) === 'shipped');
      const invoices = shipped.map((id) => ({ id: ++invoiceId, order: id, paid: id % 2 === 0 ? total : 0 }));
      await db.raw(
        `INSERT INTO invoices (id, number, series, year, seq, type, policy, customer_id, language, order_id, currency, issue_date, due_date, subtotal, discount, shipping, tax, total, paid, created_at) VALUES ${placeholders(invoices.length, 20)}`,
        invoices.flatMap((inv) => [
          inv.id,
          `INV-2026-${String(inv.id).padStart(6, '0')}`,
          'INV',
          2026,
          inv.id,
          'invoice',
          'on_shipment',
          (inv.order % CUSTOMERS) + 1,
          'en',
          inv.order,
          'EUR',
          placed(inv.order).slice(0, 10),
          placed(inv.order).slice(0, 10),
          total - 500,
          0,
          500,
          0,
          total,
          inv.paid,
          now,
        ]),
      );
      await db.raw(
        `INSERT INTO invoice_lines (invoice_id, line_no, order_id, order_line_id, sku, description, quantity, unit_price, discount, tax, amount) VALUES ${placeholders(invoices.length * LINES, 11)}`,
        invoices.flatMap((inv) =>
          Array.from({ length: LINES }, (_, j) => [
            inv.id,
            j + 1,
            inv.order,
            lineOf(inv.order, j),
            'SKU',
            'SKU',
            2,
            1000,
            0,
            0,
            2000,
          ]).flat(),
        ),
      );
      // Each shipped order's units out of the first warehouse, in the ledger (on hand stays as seeded).
      await db.raw(
        `INSERT INTO stock_movements (sku_id, warehouse_id, d_on_hand, d_reserved, reason, ref_type, ref_id, created_at) VALUES ${placeholders(shipped.length * LINES, 8)}`,
        shipped.flatMap((id) =>
          Array.from({ length: LINES }, (_, j) => [
            skus[(id + j) % skus.length]!.id,
            1,
            -2,
            0,
            'shipment',
            'order',
            String(id),
            placed(id),
          ]).flat(),
        ),
      );
    }
    console.log(
      `set-up: ${ORDERS} orders of ${LINES} lines, ${invoiceId} invoices, ${CUSTOMERS} customers, ${SKUS} SKUs in ${Math.round(performance.now() - t0)} ms`,
    );

    const range = reportRange('2026-09-01', '2026-11-30', 'UTC');
    // As of today: the seeded stock was received today, after the months of shipments.
    const slow = slowMoverParams({ days: 30, coverDays: 180, all: true }, 'UTC');
    const firstPages: [string, () => Promise<{ items: unknown[] }>][] = [
      ['settlement by customer', () => settlementPage(db, { by: 'customer', range }, null, 50)],
      ['settlement by channel', () => settlementPage(db, { by: 'channel', range }, null, 50)],
      ['sales by sku', () => salesPage(db, { by: 'sku', range }, null, 50)],
      ['execution lines', () => executionPage(db, { range, filter: {} }, null, 50)],
      [
        'execution by customer',
        async () => ({ items: await executionSummary(db, { range, filter: {}, by: 'customer' }) }),
      ],
      ['slow movers', () => slowMoversPage(db, slow, null, 50)],
    ];
    if (flags.has('explain')) {
      // The plans of the execution report's page and of the slow movers' (MySQL's EXPLAIN).
      const captured: { sql: string; bindings: unknown[] }[] = [];
      const listen = (q: { sql: string; bindings: unknown[] }) => captured.push(q);
      db.on('query', listen);
      await executionPage(db, { range, filter: {} }, null, 50);
      await slowMoversPage(db, slow, null, 50);
      db.off('query', listen);
      for (const q of captured.filter((c) => /^\s*SELECT/i.test(c.sql))) {
        const [rows] = (await db.raw(`EXPLAIN ${q.sql}`, q.bindings as never)) as unknown as [
          Record<string, unknown>[],
        ];
        console.log(q.sql.replace(/\s+/g, ' ').slice(0, 80));
        for (const r of rows)
          console.log(`  ${r.table} ${r.type} key=${r.key} rows=${r.rows} ${r.Extra ?? ''}`);
      }
    }
    console.log('\nfirst JSON page (50 rows):');
    for (const [name, run] of firstPages) {
      const t = performance.now();
      const { items } = await run();
      console.log(
        `  ${name.padEnd(24)} ${String(items.length).padStart(5)} rows in ${String(Math.round(performance.now() - t)).padStart(6)} ms`,
      );
    }

    const workbooks: [string, (s: Writable) => Promise<{ rows: number }>][] = [
      [
        'settlement by customer',
        (s) => settlementWorkbook(db, s, { by: 'customer', range, language: 'zh-CN' }),
      ],
      ['sales by sku', (s) => salesWorkbook(db, s, { by: 'sku', range, language: 'zh-CN' })],
      ['sales by customer', (s) => salesWorkbook(db, s, { by: 'customer', range, language: 'zh-CN' })],
      ['execution lines', (s) => executionWorkbook(db, s, { range, filter: {}, language: 'zh-CN' })],
      [
        'execution by salesperson',
        (s) => executionSummaryWorkbook(db, s, { range, filter: {}, by: 'salesperson', language: 'zh-CN' }),
      ],
      ['slow movers', (s) => slowMoversWorkbook(db, s, { ...slow, language: 'zh-CN' })],
    ];
    {
      // The execution report's rows alone, without the workbook: the share of the queries.
      const t = performance.now();
      let before: number | null = null;
      let rows = 0;
      do {
        const page = await executionPage(db, { range, filter: {} }, before, 500);
        rows += page.items.length;
        before = page.next;
      } while (before !== null);
      console.log(
        `  ${'execution, all pages'.padEnd(24)} ${String(rows).padStart(5)} rows in ${String(Math.round(performance.now() - t)).padStart(6)} ms (queries only)`,
      );
    }
    console.log('\nworkbooks (whole report, streamed to a file):');
    for (const [name, write] of workbooks) {
      let peak = process.memoryUsage().rss;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 50);
      const t = performance.now();
      let rows = 0;
      const file = await writeReportFile(out, `${name.replaceAll(' ', '-')}.xlsx`, async (s) => {
        rows = (await write(s)).rows;
      });
      const ms = performance.now() - t;
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      console.log(
        `  ${name.padEnd(24)} ${String(rows).padStart(7)} rows in ${String(Math.round(ms)).padStart(6)} ms, ${(statSync(file).size / 1e6).toFixed(1).padStart(5)} MB, peak RSS ${Math.round(peak / 1e6)} MB`,
      );
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
    await drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
