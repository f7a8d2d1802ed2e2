/**
 * One hot SKU: every order wants the same stock row. Prints stockbridge's reservation throughput
 * beside a raw baseline on the same database in the same run: a bare guarded UPDATE plus a ledger
 * INSERT per reservation, in one transaction each. Then checks for oversell.
 *
 *   npx tsx bench/hot-sku.ts [orders=2000] [concurrency=32] [--credit | --retail] [--promotions on|limited|off]
 *   npx tsx bench/hot-sku.ts [orders=2000] [concurrency=32] --side-by-side [--rounds 9]
 *
 * `--credit`: every order is for one of 100 trade customers with a credit limit (high enough that
 * nothing is held), all of one salesperson with a limit: each is credit-checked on top of the hot
 * stock row (the customer's and the salesperson's rows locked, the exposure booked).
 * `--retail`: the same 100 customers and salesperson, the customers in group `retail`, which credit
 * control leaves alone — the run without rules to compare `--credit --promotions on` with, as
 * `bench/intake.ts --credit off` is for intake (without either flag the orders have no customer).
 *
 * `--promotions on`: one promotion, 5 % off every line, and every order claims it (5 % off its line:
 * the channel's own discount, checked and its use recorded); `limited`: the same with a usage limit
 * of twice the orders, so that every group of orders locks its counter as well as the stock row;
 * `off` (or absent): none. Counted and printed after the run.
 *
 * `--side-by-side` (`--rounds`, default 9): every rule on against the same run without rules, in one process on one
 * database (`sideBySide` in bench/support.ts): rounds alternate between the two, so that both see the
 * same machine, tables and warm caches, and the medians are compared (separate runs vary by ±15 %
 * between identical runs on a 2-core machine). Every round hands `orders` one-unit orders of the hot
 * SKU (`orders * 0.8` units on hand) to the worker's processing path, for one of 100 customers of one
 * salesperson:
 * - `off` (no rules apply): the customers are in group `retail`, and no promotion is active;
 * - `on` (every rule applies): trade customers with a credit limit, their salesperson with one too,
 *   so every order is credit-checked and booked; a promotion gives 5 % off every line and every order
 *   claims it, so every order's discount is checked and its use recorded.
 * The contract and tax rules run in both. No raw baseline in this mode. Exits 1 on any oversell or
 * unexpected count.
 */
import { type Db, dbTime } from '../src/db/connection.js';
import { OrderBatcher } from '../src/orders/order-batcher.js';
import {
  benchDatabase,
  intArg,
  line,
  pool,
  promotionCounts,
  rate,
  recordOneUnitOrder,
  seed,
  seedHotCustomers,
  seedPromotion,
  sideBySide,
} from './support.js';

const SIDE_BY_SIDE = process.argv.includes('--side-by-side');
const ROUNDS_AT = process.argv.indexOf('--rounds');
const ROUNDS_ARG = ROUNDS_AT >= 0 ? (process.argv[ROUNDS_AT + 1] ?? '') : undefined;
if (ROUNDS_ARG !== undefined && !SIDE_BY_SIDE) throw new Error('--rounds goes with --side-by-side');
const CREDIT = process.argv.includes('--credit');
const RETAIL = process.argv.includes('--retail');
if (CREDIT && RETAIL) throw new Error('--credit and --retail exclude each other');
const CUSTOMERS = CREDIT || RETAIL;
const flagAt = process.argv.indexOf('--promotions');
const PROMOTIONS = flagAt >= 0 ? process.argv[flagAt + 1] : undefined;
if (PROMOTIONS !== undefined && !['on', 'limited', 'off'].includes(PROMOTIONS))
  throw new Error('--promotions must be on, limited or off');
if (SIDE_BY_SIDE && (CREDIT || RETAIL || PROMOTIONS !== undefined))
  throw new Error('--side-by-side sets the customers and the promotion itself');
const args = process.argv
  .slice(2)
  .filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--promotions' && all[i - 1] !== '--rounds');
const N = Number(args[0] ?? 2000);
const CONCURRENCY = Number(args[1] ?? 32);
const CREDIT_CUSTOMERS = 100;
const CLAIMED = PROMOTIONS === 'on' || PROMOTIONS === 'limited' ? 50 : 0;
const STOCK = Math.floor(N * 0.8);

async function main() {
  const { db, drop } = await benchDatabase(CONCURRENCY + 4);
  try {
    await seed(db, 2, 1, 0);
    const hot = await db('skus').where({ code: 'SKU-00001' }).first('id');
    const wh = await db('warehouses').first('id');
    const setStock = async (skuId: number) => {
      await db('stock_levels')
        .where({ sku_id: skuId, warehouse_id: wh.id })
        .update({ on_hand: STOCK, reserved: 0 });
    };

    // Raw baseline: what the database alone allows on one row.
    await setStock(hot.id);
    let rawOk = 0;
    const t0 = performance.now();
    await pool(N, CONCURRENCY, async (i) => {
      await db.transaction(async (tx) => {
        const changed = await tx('stock_levels')
          .where({ sku_id: hot.id, warehouse_id: wh.id })
          .andWhereRaw('reserved + 1 <= on_hand')
          .update({ reserved: tx.raw('reserved + 1'), updated_at: dbTime() });
        if (changed === 1) {
          rawOk++;
          await tx('stock_movements').insert({
            sku_id: hot.id,
            warehouse_id: wh.id,
            d_on_hand: 0,
            d_reserved: 1,
            reason: 'reservation',
            ref_type: 'bench',
            ref_id: String(i),
            created_at: dbTime(),
          });
        }
      });
    });
    const rawMs = performance.now() - t0;

    // stockbridge: the worker's processing path (OrderBatcher -> processOrders: lock orders,
    // validate, lock stock, allocate, ledger, allocations, lines, status, history, outbox) for
    // orders already taken in, handed over by CONCURRENCY concurrent jobs as the worker does.
    const second = await db('skus').where({ code: 'SKU-00002' }).first('id');
    await setStock(second.id);
    if (CUSTOMERS) await seedHotCustomers(db, [{ prefix: 'HC', retail: RETAIL }], CREDIT_CUSTOMERS);
    if (CLAIMED > 0) console.log(await seedPromotion(db, PROMOTIONS === 'limited' ? 2 * N : null));
    const ids: number[] = [];
    for (let i = 0; i < N; i++)
      ids.push(
        await recordOneUnitOrder(db, {
          channel: 'bench',
          i,
          sku: 'SKU-00002',
          discount: CLAIMED,
          ...(CUSTOMERS ? { customer: `HC${i % CREDIT_CUSTOMERS}` } : {}),
        }),
      );
    const t1 = performance.now();
    const batcher = new OrderBatcher(db);
    await pool(N, CONCURRENCY, (i) => batcher.submit(ids[i]!));
    const sbMs = performance.now() - t1;

    const level = await db('stock_levels').where({ sku_id: second.id, warehouse_id: wh.id }).first();
    const confirmed = Number(
      (
        (await db('orders').where({ channel: 'bench', status: 'confirmed' }).count({ n: '*' })) as {
          n: number;
        }[]
      )[0]!.n,
    );
    const backordered = Number(
      (
        (await db('orders').where({ channel: 'bench', status: 'backordered' }).count({ n: '*' })) as {
          n: number;
        }[]
      )[0]!.n,
    );

    console.log(`hot SKU: ${N} one-unit reservations, ${STOCK} units on hand, concurrency ${CONCURRENCY}`);
    console.log(line('raw baseline (guarded UPDATE + ledger INSERT, 1 tx each)', N, rawMs, 'reservations'));
    console.log(line('stockbridge order processing (worker path)', N, sbMs, 'orders'));
    console.log(`ratio: ${((rawMs / sbMs) * 100).toFixed(1)}% of the raw baseline (target >= 60%)`);
    console.log(
      `raw baseline reserved ${rawOk}; stockbridge confirmed ${confirmed}, backordered ${backordered}`,
    );
    console.log(
      `stock after: on_hand ${level.on_hand}, reserved ${level.reserved} -> oversell: ${level.reserved > level.on_hand ? 'YES' : 'none'}`,
    );
    if (CUSTOMERS) {
      const [booked] = (await db('credit_bookings').countDistinct({ n: 'order_id' })) as { n: number }[];
      const [sp] = (await db('salesperson_credit').select('open_orders')) as { open_orders: number }[];
      console.log(
        `credit: ${booked!.n} orders credit-checked and booked over ${CREDIT_CUSTOMERS} ${RETAIL ? 'retail' : 'trade'} customers of one salesperson; salesperson open orders ${sp?.open_orders ?? 0}`,
      );
    }
    if (PROMOTIONS !== undefined) console.log(await promotionCounts(db));
    if (level.reserved > level.on_hand || confirmed !== STOCK) process.exitCode = 1;
  } finally {
    await drop();
  }
}

async function count(db: Db, table: string, where: Record<string, unknown>) {
  const [row] = (await db(table).where(where).count({ n: '*' })) as { n: number }[];
  return Number(row!.n);
}

/** Orders of `channel` with a row in `table` (credit bookings, applied promotions). */
async function ordersWith(db: Db, table: string, channel: string) {
  const [row] = (await db(table)
    .whereIn('order_id', db('orders').where({ channel }).select('id'))
    .countDistinct({ n: 'order_id' })) as { n: number }[];
  return Number(row!.n);
}

async function sideBySideMain() {
  const rounds = intArg(ROUNDS_ARG, 9, '--rounds');
  const { db, drop } = await benchDatabase(CONCURRENCY + 4);
  try {
    await seed(db, 1, 1, 0);
    const sku = await db('skus').where({ code: 'SKU-00001' }).first('id', 'code');
    const wh = await db('warehouses').first('id');
    await seedHotCustomers(
      db,
      [
        { prefix: 'RC', retail: true },
        { prefix: 'TC', retail: false },
      ],
      CREDIT_CUSTOMERS,
    );
    console.log(await seedPromotion(db, null));
    const promotion = await db('promotions').where({ code: 'BENCH-5' }).first('id');
    console.log(
      `hot SKU: ${N} one-unit orders per round, ${STOCK} units on hand, concurrency ${CONCURRENCY}; ` +
        'off: retail customers, no promotion; on: trade customers with credit limits (and their salesperson), a 5 % promotion every order claims',
    );
    const batcher = new OrderBatcher(db);
    const { ok } = await sideBySide(rounds, 'orders', async (mode, round) => {
      // Set-up, not measured: the promotion active only for `on`, the stock back to STOCK free
      // units, and the round's orders taken in (status received).
      await db('promotions')
        .where({ id: promotion.id })
        .update({ active: mode === 'on' ? 1 : 0 });
      await db('stock_levels')
        .where({ sku_id: sku.id, warehouse_id: wh.id })
        .update({ on_hand: STOCK, reserved: 0 });
      const channel = `bench-${mode}-${round}`;
      const ids: number[] = new Array(N);
      await pool(N, 8, async (i) => {
        ids[i] = await recordOneUnitOrder(db, {
          channel,
          i,
          sku: sku.code,
          discount: mode === 'on' ? 50 : 0,
          customer: `${mode === 'on' ? 'TC' : 'RC'}${i % CREDIT_CUSTOMERS}`,
        });
      });
      // Oldest first, as intake would have handed them over.
      ids.sort((a, b) => a - b);
      const t0 = performance.now();
      await pool(N, CONCURRENCY, (i) => batcher.submit(ids[i]!));
      const ms = performance.now() - t0;

      const level = await db('stock_levels').where({ sku_id: sku.id, warehouse_id: wh.id }).first();
      const confirmed = await count(db, 'orders', { channel, status: 'confirmed' });
      const backordered = await count(db, 'orders', { channel, status: 'backordered' });
      const booked = await ordersWith(db, 'credit_bookings', channel);
      const promoted = await ordersWith(db, 'order_line_promotions', channel);
      const expected = mode === 'on' ? N : 0;
      return {
        rate: rate(N, ms),
        ms,
        ok:
          level.reserved <= level.on_hand &&
          confirmed === STOCK &&
          backordered === N - STOCK &&
          booked === expected &&
          promoted === expected,
        detail:
          `confirmed ${confirmed}, backordered ${backordered}, credit-booked ${booked}, ` +
          `promotion taken ${promoted}, reserved ${level.reserved} of ${level.on_hand}`,
      };
    });
    if (!ok) process.exitCode = 1;
  } finally {
    await drop();
  }
}

(SIDE_BY_SIDE ? sideBySideMain() : main()).catch((err) => {
  console.error(err);
  process.exit(1);
});
