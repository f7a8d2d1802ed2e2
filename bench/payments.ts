/**
 * Payments (issue 14), three figures on MariaDB:
 *
 * 1. the invoicing run over shipments of orders paid on their channel (each invoice settled by the
 *    order's channel payment in the posting) beside the same run over unpaid orders of a trade
 *    customer with a credit counter (each invoice moving exposure from open orders to unpaid);
 * 2. customer receipts recorded one by one (`recordPayment`), each applied to the oldest open
 *    invoice of its customer;
 * 3. a bank statement import of as many rows, in one file.
 *
 * Orders, shipments and invoices are written straight into the tables (set-up is not measured).
 *
 *   npx tsx bench/payments.ts [--shipments 20000] [--receipts 2000] [--customers 50]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { issueDueInvoices } from '../src/billing/invoicing-run.js';
import { importBankStatement } from '../src/billing/payment-import.js';
import { recordPayment } from '../src/billing/payments.js';
import { type Db, dbTime } from '../src/db/connection.js';
import { placeholders } from '../src/db/write-batch.js';
import { checkInvoiceInvariants, checkPaymentInvariants } from '../test/helpers/invariants.js';
import { benchDatabase, intArg, parseArgs, rate, seed } from './support.js';

const { flags } = parseArgs();
const SHIPMENTS = intArg(flags.get('shipments'), 20_000, 'shipments');
const RECEIPTS = intArg(flags.get('receipts'), 2000, 'receipts');
const CUSTOMERS = intArg(flags.get('customers'), 50, 'customers');

/** `n` shipped orders of one line (2 × 10.00 EUR) for `customerId`, ids from `first`. */
async function shippedOrders(
  db: Db,
  first: number,
  n: number,
  customerId: number,
  sku: { id: number; code: string },
  paid: boolean,
  booked = !paid,
) {
  const skuId = sku.id;
  const skuCode = sku.code;
  const now = dbTime();
  for (let start = 0; start < n; start += 2000) {
    const k = Math.min(2000, n - start);
    const ids = Array.from({ length: k }, (_, i) => first + start + i);
    await db.raw(
      `INSERT INTO orders (id, channel, external_id, customer_id, status, currency, total_amount, paid_on_channel, placed_at, created_at, updated_at) VALUES ${placeholders(k, 11)}`,
      ids.flatMap((id) => [
        id,
        'shop',
        `S-${id}`,
        customerId,
        'shipped',
        'EUR',
        2000,
        paid ? 1 : 0,
        now,
        now,
        now,
      ]),
    );
    await db.raw(
      `INSERT INTO order_lines (id, order_id, line_no, sku_code, sku_id, ordered, shipped, unit_price, tax_amount) VALUES ${placeholders(k, 9)}`,
      ids.flatMap((id) => [id, id, 1, skuCode, skuId, 2, 2, 1000, 0]),
    );
    await db.raw(
      `INSERT INTO shipments (id, order_id, created_at) VALUES ${placeholders(k, 3)}`,
      ids.flatMap((id) => [id, id, now]),
    );
    await db.raw(
      `INSERT INTO shipment_lines (shipment_id, order_line_id, quantity) VALUES ${placeholders(k, 3)}`,
      ids.flatMap((id) => [id, id, 2]),
    );
    if (booked) {
      // What processing booked for them: their value on the customer's open orders.
      await db.raw(
        `INSERT INTO credit_bookings (customer_id, order_id, bucket, kind, amount, currency, source_amount, source_currency, actor, created_at) VALUES ${placeholders(k, 10)}`,
        ids.flatMap((id) => [customerId, id, 'open_orders', 'order', 2000, 'EUR', 2000, 'EUR', 'bench', now]),
      );
      await db.raw('UPDATE customer_credit SET open_orders = open_orders + ? WHERE customer_id = ?', [
        2000 * k,
        customerId,
      ]);
    }
  }
}

async function main() {
  const { db, drop } = await benchDatabase(8);
  const out = mkdtempSync(path.join(tmpdir(), 'sb-bench-payments-'));
  const log = pino({ level: 'warn' });
  try {
    const { skuCodes } = await seed(db, 1, 1, 0);
    const sku = await db('skus').where({ code: skuCodes[0] }).first('id', 'code');
    const now = dbTime();
    await db('customers').insert([
      { code: 'SHOP', name: 'Shop buyers', customer_group: 'retail', created_at: now, updated_at: now },
      { code: 'TRADE', name: 'Trade', currency: 'EUR', created_at: now, updated_at: now },
    ]);
    const shop = await db('customers').where({ code: 'SHOP' }).first('id');
    const trade = await db('customers').where({ code: 'TRADE' }).first('id');
    await db('customer_credit').insert({
      customer_id: trade.id,
      currency: 'EUR',
      open_orders: 0,
      invoiced_unpaid: 0,
      updated_at: now,
    });
    const period = now.slice(0, 10);

    // 1. invoicing, side by side: unpaid orders of a retail customer (nothing booked, nothing to
    // settle: the baseline), orders paid on the channel (each settled), unpaid orders of a trade
    // customer (exposure moved to unpaid invoices).
    await shippedOrders(
      db,
      2 * SHIPMENTS + 1,
      SHIPMENTS,
      Number(shop.id),
      { id: Number(sku.id), code: String(sku.code) },
      false,
      false,
    );
    const t0 = performance.now();
    const baseRun = await issueDueInvoices(db, {
      period,
      timeZone: 'UTC',
      outputDir: out,
      log,
      documents: false,
    });
    const baseMs = performance.now() - t0;
    console.log(
      `invoicing ${baseRun.counts.invoices} shipments, unpaid, nothing booked (baseline): ${Math.round(baseMs)} ms = ${rate(baseRun.counts.shipments, baseMs)} shipments/s`,
    );
    await shippedOrders(
      db,
      1,
      SHIPMENTS,
      Number(shop.id),
      { id: Number(sku.id), code: String(sku.code) },
      true,
    );
    let t = performance.now();
    const paidRun = await issueDueInvoices(db, {
      period,
      timeZone: 'UTC',
      outputDir: out,
      log,
      documents: false,
    });
    const paidMs = performance.now() - t;
    const settled = await db('payment_allocations').count({ n: '*' });
    console.log(
      `invoicing ${paidRun.counts.invoices} shipments paid on the channel (each settled): ${Math.round(paidMs)} ms = ${rate(paidRun.counts.shipments, paidMs)} shipments/s; allocations ${JSON.stringify(settled[0])}`,
    );
    await shippedOrders(
      db,
      SHIPMENTS + 1,
      SHIPMENTS,
      Number(trade.id),
      { id: Number(sku.id), code: String(sku.code) },
      false,
    );
    t = performance.now();
    const tradeRun = await issueDueInvoices(db, {
      period,
      timeZone: 'UTC',
      outputDir: out,
      log,
      documents: false,
    });
    const tradeMs = performance.now() - t;
    console.log(
      `invoicing ${tradeRun.counts.invoices} shipments of a trade customer (exposure moved to unpaid): ${Math.round(tradeMs)} ms = ${rate(tradeRun.counts.shipments, tradeMs)} shipments/s`,
    );

    // 2. receipts, spread over customers with open invoices: move the trade invoices to them.
    const codes = Array.from({ length: CUSTOMERS }, (_, i) => `P${i}`);
    await db('customers').insert(
      codes.map((code) => ({ code, name: code, currency: 'EUR', created_at: now, updated_at: now })),
    );
    const ids = await db('customers').whereIn('code', codes).orderBy('id').pluck('id');
    const open = await db('invoices').where({ customer_id: trade.id }).orderBy('id').pluck('id');
    for (let i = 0; i < open.length; i += 1000) {
      const chunk = open.slice(i, i + 1000);
      await db.raw(
        `UPDATE invoices SET customer_id = CASE ${chunk.map(() => 'WHEN id = ? THEN ?').join(' ')} END WHERE id IN (${chunk.map(() => '?').join(', ')})`,
        [...chunk.flatMap((id, k) => [id, ids[(i + k) % ids.length]]), ...chunk],
      );
    }
    // The invoices' unpaid bookings stay TRADE's: each receipt takes its amount off TRADE's counter.
    t = performance.now();
    for (let i = 0; i < RECEIPTS; i++)
      await recordPayment(
        db,
        {
          customer: codes[i % CUSTOMERS]!,
          amount: 1500,
          currency: 'EUR',
          receivedOn: period,
          reference: `R-${i}`,
          method: 'bank_transfer',
        },
        { source: 'api', actor: 'bench' },
      );
    const receiptMs = performance.now() - t;
    console.log(
      `receipts: ${RECEIPTS} recorded one by one over ${CUSTOMERS} customers in ${Math.round(receiptMs)} ms = ${rate(RECEIPTS, receiptMs)} receipts/s`,
    );

    // 3. a bank statement of as many rows.
    const csv = [
      'Date,Amount,Currency,Reference,Customer',
      ...Array.from({ length: RECEIPTS }, (_, i) => `${period},15.00,EUR,CSV-${i},${codes[i % CUSTOMERS]}`),
    ].join('\n');
    t = performance.now();
    const imported = await importBankStatement(
      db,
      { data: Buffer.from(csv), fileName: 'bench.csv' },
      'bench',
    );
    const importMs = performance.now() - t;
    console.log(
      `bank statement: ${imported.rows.total} rows (${imported.rows.recorded} recorded, ${imported.rows.refused} refused) in ${Math.round(importMs)} ms = ${rate(imported.rows.total, importMs)} rows/s`,
    );
    const problems = [...(await checkInvoiceInvariants(db)), ...(await checkPaymentInvariants(db))];
    console.log(`invariants: ${problems.length ? problems.slice(0, 5).join('; ') : 'ok'}`);
    if (problems.length) process.exitCode = 1;
  } finally {
    rmSync(out, { recursive: true, force: true });
    await drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
