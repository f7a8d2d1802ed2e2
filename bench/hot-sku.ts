/**
 * One hot SKU: every order wants the same stock row. Prints stockbridge's reservation throughput
 * beside a raw baseline on the same database in the same run: a bare guarded UPDATE plus a ledger
 * INSERT per reservation, in one transaction each. Then checks for oversell.
 *
 *   npx tsx bench/hot-sku.ts [orders=2000] [concurrency=32] [--credit | --retail] [--promotions on|limited|off]
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
 * of twice the orders, so that every group of orders locks the promotion's counter as well as the
 * stock row; `off` (or absent): none. Counted and printed after the run.
 */
import { dbTime } from '../src/db/connection.js';
import { OrderBatcher } from '../src/orders/order-batcher.js';
import {
  benchDatabase,
  line,
  pool,
  promotionCounts,
  recordOneUnitOrder,
  seed,
  seedHotCustomers,
  seedPromotion,
} from './support.js';

const CREDIT = process.argv.includes('--credit');
const RETAIL = process.argv.includes('--retail');
if (CREDIT && RETAIL) throw new Error('--credit and --retail exclude each other');
const CUSTOMERS = CREDIT || RETAIL;
const flagAt = process.argv.indexOf('--promotions');
const PROMOTIONS = flagAt >= 0 ? process.argv[flagAt + 1] : undefined;
if (PROMOTIONS !== undefined && !['on', 'limited', 'off'].includes(PROMOTIONS))
  throw new Error('--promotions must be on, limited or off');
const args = process.argv
  .slice(2)
  .filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--promotions');
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

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
