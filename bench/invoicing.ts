/**
 * The nightly invoicing run over many shipments: `issueDueInvoices` for one business date over
 * `--shipments` shipped orders, then the same run again (which must issue nothing).
 * - `--policy on_shipment` (default): one invoice per shipment, all numbered in one series;
 *   `--policy periodic`: the run on the month's last day, one invoice per customer over
 *   `--customers` customers (default 1,000 for periodic, 1 otherwise).
 * - `--documents all` (default): every invoice's Excel document is written inside the measured
 *   run (beside the postings) and the run's own timings are printed: when the last posting
 *   committed, how long the document step was busy, and the end. `none` leaves documents out;
 *   `sample` writes none in the run and times `--sample` documents afterwards, one by one.
 * - `--daemons 2`: two runs at once, each with its own connection pool (two daemons running the
 *   job); together they must invoice every shipment once.
 * Shipments and orders are written straight into the tables (set-up is not measured).
 *
 *   npx tsx bench/invoicing.ts [--shipments 100000] [--lines 2] [--chunk 1000] [--policy on_shipment|periodic]
 *     [--customers N] [--documents all|none|sample] [--sample 2000] [--daemons 1|2] [--profile]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { writeInvoiceFile } from '../src/billing/documents.js';
import { loadInvoices } from '../src/billing/invoice-query.js';
import { type InvoicingRunResult, issueDueInvoices } from '../src/billing/invoicing-run.js';
import { createDb, dbTime } from '../src/db/connection.js';
import { placeholders } from '../src/db/write-batch.js';
import { addDays, monthBounds } from '../src/domain/invoice.js';
import { checkInvoiceInvariants } from '../test/helpers/invariants.js';
import { benchDatabase, intArg, parseArgs, rate, seed } from './support.js';

const { flags } = parseArgs();
const SHIPMENTS = intArg(flags.get('shipments'), 100_000, 'shipments');
const LINES = intArg(flags.get('lines'), 2, 'lines');
const CHUNK = intArg(flags.get('chunk'), 1000, 'chunk');
const POLICY = (flags.get('policy') ?? 'on_shipment') as 'on_shipment' | 'periodic';
const CUSTOMERS = intArg(flags.get('customers'), POLICY === 'periodic' ? 1000 : 1, 'customers');
const DOCUMENTS = (flags.get('documents') ?? 'all') as 'sample' | 'all' | 'none';
const SAMPLE = intArg(flags.get('sample'), 2000, 'sample');
const DAEMONS = intArg(flags.get('daemons'), 1, 'daemons');

async function main() {
  const { db, url, drop } = await benchDatabase(8);
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
    for (let i = 0; i < CUSTOMERS; i += 500) {
      await db('customers').insert(
        Array.from({ length: Math.min(500, CUSTOMERS - i) }, (_, j) => ({
          code: `C${i + j + 1}`,
          name: `Customer ${i + j + 1}`,
          company: 'SB',
          language: (i + j) % 2 ? 'zh-CN' : 'en',
          invoice_policy: POLICY,
          created_at: now,
          updated_at: now,
        })),
      );
    }
    const customerIds = (await db('customers').orderBy('id').select('id')).map((c) => Number(c.id));

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
          customerIds[id % customerIds.length]!,
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
    // Periodic invoices are issued on the month's last day.
    const period = POLICY === 'periodic' ? addDays(monthBounds(now.slice(0, 10)).next, -1) : now.slice(0, 10);
    const log = pino({ level: 'warn' });
    const runDir = path.join(out, 'run');
    const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    console.log(`load average before the run: ${load()}`);
    // A second daemon: its own pool on the same database.
    const others = Array.from({ length: DAEMONS - 1 }, () =>
      createDb({ databaseUrl: url, dataDir: './data', poolMax: 8, isolation: 'read-committed' }),
    );
    const t1 = performance.now();
    let lastReport = 0;
    const runs = await Promise.all(
      [db, ...others].map((conn, i) =>
        issueDueInvoices(conn, {
          period,
          timeZone: 'UTC',
          outputDir: runDir,
          log,
          chunkSize: CHUNK,
          documents: DOCUMENTS === 'all',
          progress:
            i > 0
              ? undefined
              : (done, total) => {
                  if (done - lastReport >= total / 10 || done === total) {
                    lastReport = done;
                    console.log(`  ${done}/${total} posted after ${Math.round(performance.now() - t1)} ms`);
                  }
                },
        }),
      ),
    );
    const runMs = performance.now() - t1;
    const sum = (f: (r: InvoicingRunResult) => number) => runs.reduce((n, r) => n + f(r), 0);
    const shipments = sum((r) => r.counts.shipments);
    runs.forEach((r, i) => {
      console.log(
        `run ${i + 1}: ${r.counts.invoices} invoices, ${r.counts.shipments} shipments, ${r.counts.lines} lines, ${r.documents} documents; ` +
          `posting done at ${r.timings.posting} ms, document step busy ${r.timings.documents} ms, done at ${r.timings.total} ms`,
      );
    });
    console.log(
      `invoicing run (${POLICY}, ${DAEMONS} daemon${DAEMONS > 1 ? 's' : ''}, documents ${DOCUMENTS}): ${shipments} shipments in ${Math.round(runMs)} ms = ${rate(shipments, runMs)} shipments/s; ` +
        `posting alone ${Math.max(...runs.map((r) => r.timings.posting))} ms; documents ${sum((r) => r.documents)} ` +
        `(${rate(
          sum((r) => r.documents),
          sum((r) => r.timings.documents),
        )} documents/s of the document step's busy time)`,
    );
    console.log(`load average after the run: ${load()}`);
    for (const o of others) await o.destroy();

    for (const [sql, s] of [...spent].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12))
      console.log(`  ${Math.round(s.ms)} ms in ${s.n}× ${sql}`);
    const t2 = performance.now();
    const again = await issueDueInvoices(db, {
      period,
      timeZone: 'UTC',
      outputDir: runDir,
      log,
      chunkSize: CHUNK,
      documents: DOCUMENTS === 'all',
    });
    console.log(`second run: ${again.counts.invoices} invoices in ${Math.round(performance.now() - t2)} ms`);
    const onDisk = DOCUMENTS === 'all' ? readdirSync(runDir).filter((f) => f.endsWith('.xlsx')).length : 0;
    const [{ docs } = { docs: 0 }] = (await db('invoices').whereNotNull('document').count({ docs: '*' })) as {
      docs: number;
    }[];
    if (DOCUMENTS === 'all') console.log(`documents on disk: ${onDisk}; invoices with a document: ${docs}`);

    if (DOCUMENTS === 'sample') {
      const ids = (await db('invoices').orderBy('id').limit(SAMPLE).select('id')).map((r) => Number(r.id));
      const t3 = performance.now();
      for (let i = 0; i < ids.length; i += 500) {
        for (const view of await loadInvoices(db, ids.slice(i, i + 500)))
          await writeInvoiceFile(path.join(out, 'docs'), view);
      }
      const docMs = performance.now() - t3;
      console.log(
        `documents: ${ids.length} Excel files one by one in ${Math.round(docMs)} ms = ${rate(ids.length, docMs)} documents/s (${(docMs / ids.length).toFixed(2)} ms each)`,
      );
    }
    const problems = await checkInvoiceInvariants(db);
    const [{ n } = { n: 0 }] = (await db('invoice_sources')
      .where({ kind: 'shipment' })
      .count({ n: '*' })) as {
      n: number;
    }[];
    const [{ invoices } = { invoices: 0 }] = (await db('invoices').count({ invoices: '*' })) as {
      invoices: number;
    }[];
    console.log(
      `shipments invoiced: ${n} of ${SHIPMENTS} (each once: ${shipments === SHIPMENTS}); invoices ${invoices}; invariants: ${problems.length ? problems.slice(0, 5).join('; ') : 'ok'}`,
    );
    const docsOk = DOCUMENTS !== 'all' || (onDisk === Number(invoices) && Number(docs) === Number(invoices));
    if (
      Number(n) !== SHIPMENTS ||
      shipments !== SHIPMENTS ||
      problems.length ||
      again.counts.invoices !== 0 ||
      !docsOk
    )
      process.exitCode = 1;
  } finally {
    rmSync(out, { recursive: true, force: true });
    await drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
