/**
 * Sustained order intake, end to end: orders POSTed over HTTP to a running daemon (api, worker and
 * scheduler roles in one process, as `npm start` runs it; or, with `--workers N`, an api+scheduler
 * process and N worker processes) on MariaDB and Redis, acknowledged (202 after commit) and
 * processed (reserved). Printed beside a raw BullMQ baseline measured in the same run: add and
 * process of empty jobs.
 *
 *   npm run build && npx tsx bench/intake.ts [orders=10000] [httpConcurrency=64] [skus=500] [--workers N]
 *     [--prices on|off] [--credit on|off] [--promotions on|limited|off]
 *   npm run build && npx tsx bench/intake.ts [orders=2000] [httpConcurrency=64] [skus=500] [--workers N]
 *     --side-by-side [--rounds 9]
 *
 * `--prices on`: 1,000 trade customers, each order for one of them, and 10 price lists of 2 items per
 * SKU (1,000 items at 500 SKUs: a price from 1 and a quantity break from 2), each list assigned to 100
 * of the customers; every order line asks for 2 to 4 units, so every line's price comes from a
 * quantity break (counted and printed after the run). `--prices off`: the same customers and orders,
 * no price lists — the figure to compare with.
 *
 * `--credit on`: 1,000 trade customers with a credit limit (high enough that nothing is held), 10
 * salespeople with a limit, 100 customers each: every order is credit-checked — its customer's and
 * salesperson's rows locked, the exposure booked. `--credit off`: the same customers in group
 * `retail`, which take no credit check — the figure to compare with. Counts of booked and held
 * orders are printed after the run.
 * `--promotions on`: one promotion, 5 % off every line, that every order takes (API orders are
 * `enforce`: the promotion is applied and a use recorded per order); `limited`: the same with a usage
 * limit of twice the orders, so that every group of orders locks its counter; `off`: none — the figure
 * to compare with. Counted and printed after the run.
 *
 * `--side-by-side`: every rule on (`--credit on --promotions on`) against the same run without rules
 * (`--credit off --promotions off`), in one daemon on one database: `--rounds` rounds of `orders`
 * orders each, alternating between the two and which goes first (`sideBySide` in bench/support.ts),
 * so that both see the same machine, tables and warm caches; the medians are compared. Both customer
 * sets are there from the start (1,000 trade customers of 10 salespeople, all with limits, and
 * 1,000 `retail` customers); an `on` round's orders are for the trade customers and the promotion
 * is active, an `off` round's for the retail customers with the promotion inactive. Each round's
 * counts are checked (every order reserved; credit-booked and promoted: all for `on`, none for
 * `off`). No raw BullMQ baseline and no CPU account in this mode.
 *
 * Last, a CPU account of both phases (Linux, from /proc; see bench/cpu-account.ts): CPU ms per order
 * (per job) and in all of the daemon process(es), mariadbd, redis-server and this process (the load
 * generator; in the raw phase the BullMQ client and worker), the machine's idle share and what the
 * rest of the machine spent meanwhile (other work on a shared machine shows there).
 */
import { existsSync } from 'node:fs';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { type Db, dbTime } from '../src/db/connection.js';
import { benchProcess, cpuLine, serverProcesses, startCpuAccount } from './cpu-account.js';
import {
  apiIntake,
  BENCH_REDIS_URL,
  BENCH_TOKEN,
  benchDaemonEnv,
  benchDatabase,
  type Daemons,
  daemonProcesses,
  freePort,
  intArg,
  line,
  parseArgs,
  pct,
  pool,
  promotionCounts,
  rate,
  seed,
  seedPromotion,
  sideBySide,
  startDaemons,
} from './support.js';

const { flags, positional } = parseArgs();
const N = intArg(flags.get('n') ?? positional[0], flags.has('side-by-side') ? 2000 : 10000, 'orders');
const HTTP_CONCURRENCY = intArg(flags.get('concurrency') ?? positional[1], 64, 'httpConcurrency');
const SKUS = intArg(flags.get('skus') ?? positional[2], 500, 'skus');
const WORKERS = intArg(flags.get('workers'), 0, '--workers', 0);
const PRICES = flags.get('prices');
if (PRICES !== undefined && PRICES !== 'on' && PRICES !== 'off')
  throw new Error('--prices must be on or off');
const CREDIT = flags.get('credit');
if (CREDIT !== undefined && CREDIT !== 'on' && CREDIT !== 'off')
  throw new Error('--credit must be on or off');
const SIDE_BY_SIDE = flags.has('side-by-side');
if (SIDE_BY_SIDE && (PRICES !== undefined || CREDIT !== undefined || flags.has('promotions')))
  throw new Error('--side-by-side sets the customers and the promotion itself');
if (flags.has('rounds') && !SIDE_BY_SIDE) throw new Error('--rounds goes with --side-by-side');
const ROUNDS = intArg(flags.get('rounds'), 9, '--rounds');
const CUSTOMERS = PRICES === undefined && CREDIT === undefined && !SIDE_BY_SIDE ? 0 : 1000;
const SALESPEOPLE = 10;
const PROMOTIONS = flags.get('promotions');
if (PROMOTIONS !== undefined && !['on', 'limited', 'off'].includes(PROMOTIONS))
  throw new Error('--promotions must be on, limited or off');
const PRICE_LISTS = 10;
const TOKEN = BENCH_TOKEN;

async function bullmqBaseline(count: number, concurrency: number) {
  const prefix = `bench-raw-${Date.now()}`;
  // BullMQ does not close connections handed to it: both are disconnected at the end.
  const conn = new Redis(BENCH_REDIS_URL, { maxRetriesPerRequest: null });
  const workerConn = new Redis(BENCH_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('raw', { connection: conn, prefix });
  let done = 0;
  let finish: () => void = () => {};
  const allDone = new Promise<void>((r) => (finish = r));
  const worker = new Worker(
    'raw',
    async () => {
      if (++done === count) finish();
    },
    { connection: workerConn, prefix, concurrency },
  );
  await worker.waitUntilReady();
  // The CPU account (found before the phase): this process is both the client and the worker.
  const redis = serverProcesses().filter((p) => p.name === 'redis-server');
  const account = startCpuAccount([benchProcess('bench'), ...redis]);
  const t0 = performance.now();
  await pool(count, 64, (i) => queue.add('job', {}, { jobId: `j-${i}`, removeOnComplete: true }));
  const addMs = performance.now() - t0;
  await allDone;
  const totalMs = performance.now() - t0;
  const cpu = account.stop();
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  conn.disconnect();
  workerConn.disconnect();
  return { addMs, totalMs, cpu };
}

const customerCode = (i: number, prefix = 'C') => `${prefix}${String(i + 1).padStart(4, '0')}`;

/**
 * Trade customers straight into the table (set-up is not what is measured). With credit `on`
 * each has a credit limit and one of the salespeople (who have limits too); `off` makes them
 * `retail`, which credit control leaves alone; without either, plain trade customers.
 */
async function seedCustomers(db: Db, n: number, credit = CREDIT, prefix = 'C') {
  const now = dbTime();
  const spIds: number[] = [];
  if (credit === 'on')
    for (let s = 0; s < SALESPEOPLE; s++) {
      const [id] = await db('salespeople').insert({
        code: `SP${s + 1}`,
        name: `Salesperson ${s + 1}`,
        credit_limit: 1_000_000_000_000,
        credit_currency: 'EUR',
        created_at: now,
        updated_at: now,
      });
      spIds.push(Number(id));
    }
  const rows = Array.from({ length: n }, (_, i) => ({
    code: customerCode(i, prefix),
    name: customerCode(i, prefix),
    created_at: now,
    updated_at: now,
    ...(credit === 'on'
      ? {
          credit_limit: 1_000_000_000,
          credit_currency: 'EUR',
          salesperson_id: spIds[i % SALESPEOPLE],
        }
      : {}),
    ...(credit === 'off' ? { customer_group: 'retail' } : {}),
  }));
  for (let i = 0; i < rows.length; i += 500) await db('customers').insert(rows.slice(i, i + 500));
}

/** The price lists: 2 items per SKU (from 1 unit: 1000; from 2 units: 900), each list for every 10th customer. */
async function seedPriceLists(db: Db, skuCodes: string[], customers: number): Promise<string> {
  const now = dbTime();
  for (let l = 0; l < PRICE_LISTS; l++) {
    const [id] = await db('price_lists').insert({
      code: `L${l + 1}`,
      name: `List ${l + 1}`,
      currency: 'EUR',
      created_at: now,
      updated_at: now,
    });
    const items = skuCodes.flatMap((sku) => [
      { price_list_id: id, sku_code: sku, min_quantity: 1, price: 1000 - l, updated_at: now },
      { price_list_id: id, sku_code: sku, min_quantity: 2, price: 900 - l, updated_at: now },
    ]);
    for (let i = 0; i < items.length; i += 500) await db('price_list_items').insert(items.slice(i, i + 500));
    const assignments = Array.from({ length: customers }, (_, c) => c)
      .filter((c) => c % PRICE_LISTS === l)
      .map((c) => ({ price_list_id: id, kind: 'customer', target: customerCode(c), created_at: now }));
    for (let i = 0; i < assignments.length; i += 500)
      await db('price_list_assignments').insert(assignments.slice(i, i + 500));
  }
  const [items] = (await db('price_list_items').count({ n: '*' })) as { n: number }[];
  return `price lists: ${PRICE_LISTS} lists of ${skuCodes.length * 2} items (${items!.n} in all), each assigned to ${customers / PRICE_LISTS} of ${customers} customers`;
}

/** How many lines were priced, and from a quantity break (a rule with min_quantity > 1). */
async function priceCounts(db: Db): Promise<string> {
  const [lines] = (await db('order_lines').count({ n: '*' })) as { n: number }[];
  const [checked] = (await db('order_lines').whereNotNull('checked_price').count({ n: '*' })) as {
    n: number;
  }[];
  const [hit] = (await db('order_lines as ol')
    .join('price_list_items as i', 'i.id', 'ol.price_rule_id')
    .where('i.min_quantity', '>', 1)
    .count({ n: '*' })) as { n: number }[];
  const [orders] = (await db('orders').count({ n: '*' })) as { n: number }[];
  const [missed] = (await db('orders as o')
    .whereExists(
      db('order_lines as ol')
        .leftJoin('price_list_items as i', 'i.id', 'ol.price_rule_id')
        .whereRaw('ol.order_id = o.id')
        .andWhere((q) => q.whereNull('i.id').orWhere('i.min_quantity', '<=', 1)),
    )
    .count({ n: '*' })) as { n: number }[];
  return `prices: ${lines!.n} lines, ${checked!.n} checked against a price list, ${hit!.n} from a quantity break; orders with every line from a quantity break: ${Number(orders!.n) - Number(missed!.n)} of ${orders!.n}`;
}

/** How many orders were booked on a credit counter, and how many were held for credit. */
async function creditCounts(db: Db): Promise<string> {
  const [booked] = (await db('credit_bookings').countDistinct({ n: 'order_id' })) as { n: number }[];
  const [held] = (await db('orders')
    .whereIn('hold_reason', [
      'credit_limit',
      'salesperson_credit_limit',
      'customer_on_hold',
      'no_exchange_rate',
    ])
    .count({ n: '*' })) as { n: number }[];
  const [customers] = (await db('customer_credit').count({ n: '*' })) as { n: number }[];
  const [salespeople] = (await db('salesperson_credit').count({ n: '*' })) as { n: number }[];
  return `credit: ${booked!.n} orders credit-checked and booked, ${held!.n} held for credit; counters: ${customers!.n} customers, ${salespeople!.n} salespeople`;
}

/** The API's order bodies: 1-3 lines each over the SKUs; with customers, one of them per order (codes `<prefix>0001`…). */
function orderBodies(externalIds: readonly string[], skuCodes: readonly string[], prefix: string): string[] {
  return externalIds.map((externalId, i) => {
    const lines = Array.from({ length: 1 + (i % 3) }, (_, j) => ({
      sku: skuCodes[(i * 7 + j * 13) % skuCodes.length]!,
      // With customers, every line reaches the quantity break at 2.
      quantity: (CUSTOMERS > 0 ? 2 : 1) + ((i + j) % 3),
      unitPrice: 1000,
    }));
    const customer = CUSTOMERS > 0 ? { customer: { code: customerCode(i % CUSTOMERS, prefix) } } : {};
    return JSON.stringify({ externalId, currency: 'EUR', ...customer, lines });
  });
}

/** Orders whose external id starts with `prefix` that have a row in `table` (credit bookings, applied promotions). */
async function ordersWith(db: Db, table: string, prefix: string): Promise<number> {
  const [row] = (await db(table)
    .whereIn('order_id', db('orders').where('external_id', 'like', `${prefix}%`).select('id'))
    .countDistinct({ n: 'order_id' })) as { n: number }[];
  return Number(row!.n);
}

/** `--side-by-side`: rounds with every rule on and off, alternating, in one daemon (see the top). */
async function sideBySideMain() {
  console.log(
    `intake side by side: ${N} orders of 1-3 lines per round over ${SKUS} SKUs in 2 warehouses, ` +
      `${HTTP_CONCURRENCY} concurrent HTTP clients; off: 1,000 retail customers, no promotion; ` +
      `on: 1,000 trade customers with credit limits (10 salespeople with limits), a 5 % promotion every order takes`,
  );
  const setup = async (db: Db) => {
    await seedCustomers(db, CUSTOMERS, 'on', 'C');
    await seedCustomers(db, CUSTOMERS, 'off', 'R');
    console.log(await seedPromotion(db, null));
  };
  await withDaemon(setup, async ({ db, port, skuCodes }) => {
    const promotion = await db('promotions').where({ code: 'BENCH-5' }).first('id');
    const { ok } = await sideBySide(ROUNDS, 'orders', async (mode, round) => {
      await db('promotions')
        .where({ id: promotion.id })
        .update({ active: mode === 'on' ? 1 : 0 });
      const roundPrefix = `r${round}-${mode}-`;
      const externalIds = Array.from({ length: N }, (_, i) => `${roundPrefix}${i}`);
      const r = await apiIntake({
        db,
        port,
        token: TOKEN,
        bodies: orderBodies(externalIds, skuCodes, mode === 'on' ? 'C' : 'R'),
        externalIds,
        prefix: roundPrefix,
        concurrency: HTTP_CONCURRENCY,
      });
      if (r.load.non2xx > 0)
        throw new Error(`${r.load.non2xx} orders not acknowledged, first: ${r.load.errors.join(' | ')}`);
      if (r.e2eMs === null) throw new Error(`orders not all reserved in time: ${r.statuses}`);
      const booked = await ordersWith(db, 'credit_bookings', roundPrefix);
      const promoted = await ordersWith(db, 'order_line_promotions', roundPrefix);
      const expected = mode === 'on' ? N : 0;
      const [over] = (await db('stock_levels').whereRaw('reserved > on_hand').count({ n: '*' })) as {
        n: number;
      }[];
      return {
        rate: rate(N, r.e2eMs),
        ms: r.e2eMs,
        ok: booked === expected && promoted === expected && Number(over!.n) === 0,
        detail:
          `${r.statuses}; credit-booked ${booked}, promotion taken ${promoted}; ` +
          `acknowledged in ${Math.round(r.load.ms)} ms; stock rows oversold ${over!.n}`,
      };
    });
    if (!ok) process.exitCode = 1;
  });
}

/**
 * A fresh bench database with `SKUS` SKUs in 2 warehouses (a million units each), `setup` on it, a
 * daemon on it (`--workers`), then `run`; afterwards the daemon is stopped and the database dropped.
 */
async function withDaemon(
  setup: (db: Db, skuCodes: string[]) => Promise<void>,
  run: (o: { db: Db; port: number; daemons: Daemons; skuCodes: string[] }) => Promise<void>,
): Promise<void> {
  const { db, url, drop } = await benchDatabase(10);
  const port = await freePort();
  let daemons: Daemons | null = null;
  try {
    const { skuCodes } = await seed(db, SKUS, 2, 1_000_000);
    await setup(db, skuCodes);
    daemons = await startDaemons(benchDaemonEnv(url, port, `bench-${Date.now()}`), port, WORKERS);
    console.log(`daemon: ${daemons.describe}`);
    await run({ db, port, daemons, skuCodes });
  } finally {
    await daemons?.stop();
    await drop();
  }
}

async function main() {
  if (!existsSync('dist/src/cli.js')) throw new Error('run `npm run build` first');
  if (SIDE_BY_SIDE) return sideBySideMain();
  console.log(
    `intake: ${N} orders of 1-3 lines over ${SKUS} SKUs in 2 warehouses, ${HTTP_CONCURRENCY} concurrent HTTP clients`,
  );

  const raw = await bullmqBaseline(N, 64);
  console.log(line('raw BullMQ add of empty jobs (64 at a time)', N, raw.addMs, 'jobs'));
  console.log(line('raw BullMQ add + process of empty jobs (concurrency 64)', N, raw.totalMs, 'jobs'));

  const setup = async (db: Db, skuCodes: string[]) => {
    if (CUSTOMERS > 0) await seedCustomers(db, CUSTOMERS);
    if (PRICES === 'on') console.log(await seedPriceLists(db, skuCodes, CUSTOMERS));
    if (PROMOTIONS === 'on' || PROMOTIONS === 'limited')
      console.log(await seedPromotion(db, PROMOTIONS === 'limited' ? 2 * N : null));
  };
  await withDaemon(setup, async ({ db, port, daemons, skuCodes }) => {
    const externalIds = Array.from({ length: N }, (_, i) => `bench-${i}`);
    const bodies = orderBodies(externalIds, skuCodes, 'C');
    const r = await apiIntake({
      db,
      port,
      token: TOKEN,
      bodies,
      externalIds,
      prefix: 'bench-',
      concurrency: HTTP_CONCURRENCY,
      cpu: [...daemonProcesses(daemons), ...serverProcesses(), benchProcess('load generator')],
    });
    if (r.load.non2xx > 0) {
      throw new Error(`${r.load.non2xx} orders not acknowledged, first: ${r.load.errors.join(' | ')}`);
    }
    if (r.e2eMs === null) throw new Error(`orders not all reserved in time: ${r.statuses}`);
    const lat = (p: number) => pct(r.load.latencies, p).toFixed(1);

    const [over] = (await db('stock_levels').whereRaw('reserved > on_hand').count({ n: '*' })) as {
      n: number;
    }[];
    console.log(line('stockbridge: acknowledged (HTTP 202 after commit)', N, r.load.ms, 'orders'));
    console.log(line('stockbridge: acknowledged and processed end to end', N, r.e2eMs, 'orders'));
    console.log(`ack latency ms: p50 ${lat(0.5)}, p95 ${lat(0.95)}, p99 ${lat(0.99)}`);
    console.log(`statuses: ${r.statuses}; stock rows oversold: ${over!.n}`);
    if (PRICES !== undefined) console.log(await priceCounts(db));
    if (CREDIT !== undefined) console.log(await creditCounts(db));
    if (PROMOTIONS !== undefined) console.log(await promotionCounts(db));
    // Where the CPU went, per phase: is the machine (both cores) the limit, and who spends it?
    if (r.cpu) console.log(cpuLine('stockbridge phase', r.cpu, N, 'order'));
    console.log(cpuLine('raw BullMQ phase', raw.cpu, N, 'job'));
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
