/**
 * The hot SKU with every rule on, side by side with the same run without rules, in one process on
 * one database: rounds alternate between the two, so that both see the same machine, the same
 * tables and the same warm caches, and the medians of several rounds are compared (single runs of
 * `bench/hot-sku.ts` vary by ±15 % between identical runs on a 2-core machine).
 *
 *   npx tsx bench/hot-sku-rules.ts [orders=2000] [concurrency=32] [rounds=9]
 *
 * Every round hands `orders` one-unit orders for one hot SKU to the worker's processing path
 * (OrderBatcher -> processOrders), `concurrency` at a time, with `orders * 0.8` units on hand, and
 * every order is for one of 100 customers of one salesperson:
 * - `off` (no rules apply): the customers are in group `retail`, which credit control leaves alone,
 *   and there is no active promotion;
 * - `on` (every rule applies): the customers are trade customers with a credit limit (high enough
 *   that nothing is held), their salesperson has one too, so every order is credit-checked and
 *   booked (customer and salesperson counters locked); a promotion gives 5 % off every line and
 *   every order claims it, so every order's discount is checked and its use recorded.
 * The contract and tax rules run in both. Rounds alternate which mode goes first. Prints each round's orders/s, the medians, their ratio,
 * and the counts that show each rule did its work; exits 1 on any oversell or unexpected status.
 */
import type { Db } from '../src/db/connection.js';
import { OrderBatcher } from '../src/orders/order-batcher.js';
import {
  benchDatabase,
  pool,
  rate,
  recordOneUnitOrder,
  seed,
  seedHotCustomers,
  seedPromotion,
} from './support.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const N = Number(args[0] ?? 2000);
const CONCURRENCY = Number(args[1] ?? 32);
const ROUNDS = Number(args[2] ?? 9);
const CUSTOMERS = 100;
const STOCK = Math.floor(N * 0.8);
const CLAIMED = 50;

type Mode = 'off' | 'on';

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function count(db: Db, table: string, where: Record<string, unknown>, distinct?: string) {
  const q = db(table).where(where);
  const [row] = (await (distinct ? q.countDistinct({ n: distinct }) : q.count({ n: '*' }))) as {
    n: number;
  }[];
  return Number(row!.n);
}

async function main() {
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
      CUSTOMERS,
    );
    console.log(await seedPromotion(db, null));
    const promotion = await db('promotions').where({ code: 'BENCH-5' }).first('id');

    const batcher = new OrderBatcher(db);
    const results: Record<Mode, number[]> = { off: [], on: [] };
    let failed = false;
    for (let round = 0; round < ROUNDS; round++) {
      // Which goes first alternates too, so that neither always follows the other.
      for (const mode of round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
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
            discount: mode === 'on' ? CLAIMED : 0,
            customer: `${mode === 'on' ? 'TC' : 'RC'}${i % CUSTOMERS}`,
          });
        });
        // Oldest first, as intake would have handed them over.
        ids.sort((a, b) => a - b);
        const t0 = performance.now();
        await pool(N, CONCURRENCY, (i) => batcher.submit(ids[i]!));
        const ms = performance.now() - t0;
        results[mode].push(rate(N, ms));

        const level = await db('stock_levels').where({ sku_id: sku.id, warehouse_id: wh.id }).first();
        const confirmed = await count(db, 'orders', { channel, status: 'confirmed' });
        const backordered = await count(db, 'orders', { channel, status: 'backordered' });
        const idsOf = db('orders').where({ channel }).select('id');
        const [booked] = (await db('credit_bookings')
          .whereIn('order_id', idsOf)
          .countDistinct({ n: 'order_id' })) as { n: number }[];
        const [promoted] = (await db('order_line_promotions')
          .whereIn('order_id', idsOf)
          .countDistinct({ n: 'order_id' })) as { n: number }[];
        const ok =
          level.reserved <= level.on_hand &&
          confirmed === STOCK &&
          backordered === N - STOCK &&
          Number(booked!.n) === (mode === 'on' ? N : 0) &&
          Number(promoted!.n) === (mode === 'on' ? N : 0);
        failed ||= !ok;
        console.log(
          `round ${round + 1} ${mode.padEnd(3)} ${String(rate(N, ms)).padStart(6)} orders/s ` +
            `(${Math.round(ms)} ms): confirmed ${confirmed}, backordered ${backordered}, ` +
            `credit-booked ${booked!.n}, promotion taken ${promoted!.n}, ` +
            `reserved ${level.reserved} of ${level.on_hand}${ok ? '' : ' -> UNEXPECTED'}`,
        );
      }
    }
    const off = median(results.off);
    const on = median(results.on);
    const pairs = results.on.map((v, i) => `${((v / results.off[i]!) * 100).toFixed(1)} %`);
    console.log(
      `hot SKU, ${N} one-unit orders per round, concurrency ${CONCURRENCY}, ${ROUNDS} rounds of each, alternating`,
    );
    console.log(`median without rules (off): ${off} orders/s; every rule on: ${on} orders/s`);
    console.log(`on / off per round: ${pairs.join(', ')}`);
    console.log(`ratio of the medians: ${((on / off) * 100).toFixed(1)} % (target >= 80 %)`);
    if (failed) process.exitCode = 1;
  } finally {
    await drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
