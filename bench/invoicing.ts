/**
 * The nightly invoicing run over many shipments: `issueDueInvoices` for one business date, every
 * shipment of a customer on policy `on_shipment` (one invoice each, numbered in one series), then
 * the same run again (which must issue nothing). Shipments and orders are written straight into the
 * tables (set-up is not measured). Documents: by default the run writes none and a second phase
 * writes the Excel documents of a sample of the invoices, to give the per-document cost apart from
 * posting; `--documents all` writes every invoice's file inside the measured run.
 *
 *   npx tsx bench/invoicing.ts [--shipments 100000] [--lines 2] [--chunk 500] [--documents sample|all|none] [--sample 2000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { writeInvoiceFile } from '../src/billing/documents.js';
import { loadInvoices } from '../src/billing/invoice-query.js';
import { issueDueInvoices } from '../src/billing/invoicing-run.js';
import { dbTime } from '../src/db/connection.js';
import { placeholders } from '../src/db/write-batch.js';
import { checkInvoiceInvariants } from '../test/helpers/invariants.js';
import { benchDatabase, intArg, parseArgs, rate, seed } from './support.js';

const { flags } = parseArgs();
const SHIPMENTS = intArg(flags.get('shipments'), 100_000, 'shipments');
const LINES = intArg(flags.get('lines'), 2, 'lines');
const CHUNK = intArg(flags.get('chunk'), 500, 'chunk');
const DOCUMENTS = (flags.get('documents') ?? 'sample') as 'sample' | 'all' | 'none';
const SAMPLE = intArg(flags.get('sample'), 2000, 'sample');

async function main() {
  const { db, drop } = await benchDatabase(8);
  const out = mkdtempSync(path.join(tmpdir(), 'sb-bench-invoicing-'));
  try {
    const { skuCodes } = await seed(db, LINES, 1, 0);
    const skus = await db('skus').whereIn('code', skuCodes).select('id', 'code');
    const now = dbTime();
    await db('companies').insert({
      code: 'SB',
      name: 'Stockbridge B.V.',
      currency: 'EUR',
      created_at: now,
      updated_at: now,
    });
    await db('customers').insert({
      code: 'C1',
      name: 'Customer 1',
      company: 'SB',
      language: 'en',
      created_at: now,
      updated_at: now,
    });
    const customer = await db('customers').where({ code: 'C1' }).first('id');

    const t0 = performance.now();
    const BATCH = 2000;
    for (let start = 0; start < SHIPMENTS; start += BATCH) {
      const n = Math.min(BATCH, SHIPMENTS - start);
      const ids = Array.from({ length: n }, (_, i) => start + i + 1);
      await db.raw(
        `INSERT INTO orders (id, channel, external_id, customer_id, status, currency, total_amount, shipping_amount, tax_amount, placed_at, created_at, updated_at) VALUES ${placeholders(n, 12)}`,
        ids.flatMap((id) => [
          id,
          'api',
          `B-${id}`,
          customer.id,
          'shipped',
          'EUR',
          LINES * 2 * 1000 + 500 + LINES * 120,
          500,
          LINES * 120,
          now,
          now,
          now,
        ]),
      );
      await db.raw(
        `INSERT INTO order_lines (id, order_id, line_no, sku_code, sku_id, ordered, shipped, unit_price, tax_amount) VALUES ${placeholders(n * LINES, 9)}`,
        ids.flatMap((id) =>
          skus.flatMap((s, j) => [(id - 1) * LINES + j + 1, id, j + 1, s.code, s.id, 2, 2, 1000, 120]),
        ),
      );
      await db.raw(
        `INSERT INTO shipments (id, order_id, created_at) VALUES ${placeholders(n, 3)}`,
        ids.flatMap((id) => [id, id, now]),
      );
      await db.raw(
        `INSERT INTO shipment_lines (shipment_id, order_line_id, quantity) VALUES ${placeholders(n * LINES, 3)}`,
        ids.flatMap((id) => skus.flatMap((_, j) => [id, (id - 1) * LINES + j + 1, 2])),
      );
    }
    console.log(
      `set-up: ${SHIPMENTS} shipments of ${LINES} lines in ${Math.round(performance.now() - t0)} ms`,
    );

    // --profile: time spent per statement shape, to see where a run goes.
    const spent = new Map<string, { n: number; ms: number }>();
    if (flags.has('profile')) {
      const started = new Map<string, number>();
      db.on('query', (q: { __knexQueryUid: string }) => started.set(q.__knexQueryUid, performance.now()));
      db.on('query-response', (_r: unknown, q: { __knexQueryUid: string; sql: string }) => {
        const key = q.sql.replace(/\s+/g, ' ').slice(0, 90);
        const s = spent.get(key) ?? { n: 0, ms: 0 };
        s.n++;
        s.ms += performance.now() - (started.get(q.__knexQueryUid) ?? performance.now());
        spent.set(key, s);
      });
    }
    const period = now.slice(0, 10);
    const log = pino({ level: 'warn' });
    const t1 = performance.now();
    let lastReport = 0;
    const result = await issueDueInvoices(db, {
      period,
      timeZone: 'UTC',
      outputDir: path.join(out, 'run'),
      log,
      chunkSize: CHUNK,
      documents: DOCUMENTS === 'all',
      progress: (done, total) => {
        if (done - lastReport >= total / 10 || done === total) {
          lastReport = done;
          console.log(`  ${done}/${total} after ${Math.round(performance.now() - t1)} ms`);
        }
      },
    });
    const runMs = performance.now() - t1;
    console.log(
      `invoicing run: ${result.counts.invoices} invoices (${result.counts.lines} lines, ${result.files.length} documents) in ${Math.round(runMs)} ms = ${rate(result.counts.shipments, runMs)} shipments/s`,
    );

    for (const [sql, s] of [...spent].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12))
      console.log(`  ${Math.round(s.ms)} ms in ${s.n}× ${sql}`);
    const t2 = performance.now();
    const again = await issueDueInvoices(db, {
      period,
      timeZone: 'UTC',
      outputDir: path.join(out, 'run'),
      log,
      chunkSize: CHUNK,
      documents: DOCUMENTS === 'all',
    });
    console.log(`second run: ${again.counts.invoices} invoices in ${Math.round(performance.now() - t2)} ms`);

    if (DOCUMENTS === 'sample') {
      const ids = (await db('invoices').orderBy('id').limit(SAMPLE).select('id')).map((r) => Number(r.id));
      const t3 = performance.now();
      for (let i = 0; i < ids.length; i += 500) {
        for (const view of await loadInvoices(db, ids.slice(i, i + 500)))
          await writeInvoiceFile(path.join(out, 'docs'), view);
      }
      const docMs = performance.now() - t3;
      console.log(
        `documents: ${ids.length} Excel files in ${Math.round(docMs)} ms = ${rate(ids.length, docMs)} documents/s (${(docMs / ids.length).toFixed(2)} ms each; ${SHIPMENTS} would take ~${Math.round(((docMs / ids.length) * SHIPMENTS) / 1000)} s on one core)`,
      );
    }
    const problems = await checkInvoiceInvariants(db);
    const [{ n } = { n: 0 }] = (await db('invoice_sources')
      .where({ kind: 'shipment' })
      .count({ n: '*' })) as {
      n: number;
    }[];
    console.log(
      `shipments invoiced: ${n} of ${SHIPMENTS}; invariants: ${problems.length ? problems.slice(0, 5).join('; ') : 'ok'}`,
    );
    if (Number(n) !== SHIPMENTS || problems.length || again.counts.invoices !== 0) process.exitCode = 1;
  } finally {
    rmSync(out, { recursive: true, force: true });
    await drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
