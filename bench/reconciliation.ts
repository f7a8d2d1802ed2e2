/**
 * Nightly reconciliation of one Shopify channel with N orders in the day (default 100,000) on
 * MariaDB, against a fake shop on a real local HTTP server (`test/helpers/fake-shop.ts`) that
 * throttles like Shopify's GraphQL Admin API: a cost bucket (Plus: 10,000 points, restored at
 * 1,000 points a second), `THROTTLED` answers with `extensions.cost.throttleStatus` when a query
 * asks for more than the bucket holds, order pages of the pull's query at its requested cost, and
 * bulk operations (start, status polls, JSONL download) for the day's read. Discrepancies are
 * planted: orders missing here (healed through the intake, read in full page by page under the
 * throttle), missing there, cancelled there (healed), amounts that differ, and stock drift on some
 * of the mapped SKUs (healed by marking a push). Prints the run's figures, the fake shop's calls,
 * the wall time and the peak RSS.
 *
 *   npx tsx bench/reconciliation.ts [orders=100000] [skus=1000] [bulkRunMs=0]
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { ChannelService } from '../src/channels/channel-service.js';
import { channelKey } from '../src/channels/channel-store.js';
import { dbTime } from '../src/db/connection.js';
import { reconcilePeriod } from '../src/reconciliation/index.js';
import { type FakeOrder, startFakeShop } from '../test/helpers/fake-shop.js';
import { benchDatabase, seed } from './support.js';

const line = (text: string) => console.log(text);

const N = Number(process.argv[2] ?? 100_000);
const SKUS = Number(process.argv[3] ?? 1000);
const BULK_RUN_MS = Number(process.argv[4] ?? 0);
const MISSING_HERE = 100;
const MISSING_THERE = 50;
const CANCELLED_THERE = 50;
const AMOUNT_DIFFERS = 100;
const DRIFTED_SKUS = 10;
const DAY = '2026-11-20';
const START = Date.parse(`${DAY}T00:00:00Z`);

const log = pino({ level: process.env.BENCH_LOG_LEVEL ?? 'warn' });

async function main() {
  const bench = await benchDatabase(10);
  const { db } = bench;
  const shop = await startFakeShop({ bucketSize: 10_000, restoreRate: 1_000, bulkRunMs: BULK_RUN_MS });
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);
  try {
    const { skuCodes } = await seed(db, SKUS, 1, 1_000);
    const channels = new ChannelService({
      db,
      log,
      secretKey: randomBytes(32),
      publicUrl: 'http://localhost',
      enqueueOrders: async () => {},
    });
    const channel = await channels.create({
      type: 'shopify',
      name: 'bench shop',
      enabled: true,
      settings: {
        shopDomain: 'bench.myshopify.com',
        accessToken: 'shpat_bench',
        webhookSecret: 'bench',
        apiBaseUrl: shop.apiBaseUrl,
        locationId: '1',
        plan: 'plus',
      },
    });
    const key = channelKey(channel);

    // The day's orders, on both sides (set-up, not measured).
    const t0 = Date.now();
    const now = dbTime();
    const ids: number[] = [];
    for (let i = 0; i < N + MISSING_HERE; i++) {
      const id = String(5_000_000_000 + i);
      const at = new Date(START + Math.floor((i / (N + MISSING_HERE)) * 86_000_000)).toISOString();
      const sku = skuCodes[i % skuCodes.length] as string;
      const o: FakeOrder = {
        id,
        name: `#${i}`,
        createdAt: at,
        updatedAt: at,
        cancelledAt: null,
        currency: 'EUR',
        lines: [{ sku, inventoryItemId: String(900_000 + (i % SKUS)), quantity: 1, price: '10.00' }],
        shipping: '5.00',
        tax: '0.00',
      };
      if (i >= N - CANCELLED_THERE && i < N) o.cancelledAt = at;
      if (i >= N - CANCELLED_THERE - AMOUNT_DIFFERS && i < N - CANCELLED_THERE) o.total = '16.00';
      shop.orders.set(id, o);
      // Ours: the first N (the last MISSING_HERE are only on the shop).
      if (i < N) ids.push(i);
    }
    // Ours: the same orders less the ones missing here; plus some the shop does not have.
    const rows = [
      ...ids.map((i) => ({
        external: String(5_000_000_000 + i),
        at: shop.orders.get(String(5_000_000_000 + i))!.createdAt,
      })),
      ...Array.from({ length: MISSING_THERE }, (_, i) => ({
        external: String(6_000_000_000 + i),
        at: `${DAY}T12:00:00.000Z`,
      })),
    ];
    for (let i = 0; i < rows.length; i += 2000) {
      const chunk = rows.slice(i, i + 2000);
      await db('orders').insert(
        chunk.map((r) => ({
          channel: key,
          external_id: r.external,
          status: 'received',
          currency: 'EUR',
          total_amount: 1500,
          shipping_amount: 500,
          tax_amount: 0,
          placed_at: dbTime(new Date(r.at)),
          channel_updated_at: dbTime(new Date(r.at)),
          created_at: now,
          updated_at: now,
        })),
      );
    }
    await db.raw(
      "INSERT INTO order_events (order_id, from_status, to_status, actor, created_at) SELECT id, NULL, 'received', 'bench', ? FROM orders",
      [now],
    );
    for (const [i, code] of skuCodes.entries()) {
      const item = String(900_000 + i);
      shop.inventory.set(item, i < DRIFTED_SKUS ? 3 : 1_000);
      await db('channel_skus').insert({
        channel_id: channel.id,
        sku_code: code,
        inventory_item_id: item,
        published_qty: 1_000,
        push_pending: false,
        source: 'manual',
        created_at: now,
        updated_at: now,
      });
    }
    const setUp = Date.now() - t0;

    const started = Date.now();
    const result = await reconcilePeriod({
      db,
      log,
      period: DAY,
      periodStart: new Date(START),
      periodEnd: new Date(START + 86_400_000),
      channels: channels.ctx,
      triggeredBy: 'cli',
    });
    const ms = Date.now() - started;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const kinds: Record<string, number> = {};
    for (const f of result.findings)
      kinds[`${f.kind} (${f.state})`] = (kinds[`${f.kind} (${f.state})`] ?? 0) + 1;
    line(
      `orders on the shop: ${shop.orders.size}, ours: ${rows.length}, mapped SKUs: ${SKUS} (set-up ${setUp} ms, not measured)`,
    );
    line(`reconciliation: ${ms} ms wall, peak RSS ${Math.round(peakRss / 1024 / 1024)} MB`);
    line(`counts: ${JSON.stringify(result.counts)}`);
    line(`findings: ${JSON.stringify(kinds)}`);
    line(`fake shop calls: ${JSON.stringify(shop.calls)}`);
  } finally {
    clearInterval(sampler);
    await shop.close();
    await bench.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
