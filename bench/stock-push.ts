/**
 * Stock flowing back out: orders POSTed to a running daemon (all roles, as `npm start` runs it) on
 * MariaDB and Redis, with two channels — one Shopify, one WooCommerce — pointed at a local fake
 * channel server that counts calls and records when each SKU's quantity arrives. Prints the calls
 * made against the bound set by distinct (channel, SKU, debounce window) triples and the batch
 * size, and the latency from each stock change (a reservation) to the channel's acknowledgement
 * of a quantity that includes it.
 *
 *   npm run build && npx tsx bench/stock-push.ts [orders=10000] [skus=100] [httpConcurrency=32]
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  adminApi,
  BENCH_REDIS_URL,
  BENCH_TOKEN,
  benchDatabase,
  freePort,
  line,
  pool,
  seed,
  startDaemon,
  stopProcess,
} from './support.js';

const N = Number(process.argv[2] ?? 10000);
const SKUS = Number(process.argv[3] ?? 100);
const HTTP_CONCURRENCY = Number(process.argv[4] ?? 32);
const TOKEN = BENCH_TOKEN;
const DEBOUNCE_MS = Number(process.env.BENCH_PUSH_DEBOUNCE_MS ?? 1000);
const ON_HAND_EACH = 100_000;
const BATCH = { shopify: 250, woocommerce: 100 } as const;

type ChannelName = keyof typeof BATCH;

interface Ack {
  at: number;
  quantity: number;
}

/** The fake channels: what arrived for each SKU index, and how many calls each channel took. */
const acks: Record<ChannelName, Map<number, Ack[]>> = { shopify: new Map(), woocommerce: new Map() };
const calls: Record<ChannelName, number> = { shopify: 0, woocommerce: 0 };

const readBody = (req: IncomingMessage) =>
  new Promise<any>((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')));
  });

function record(channel: ChannelName, skuIndex: number, quantity: number, at: number) {
  const list = acks[channel].get(skuIndex) ?? [];
  list.push({ at, quantity });
  acks[channel].set(skuIndex, list);
}

function fakeChannels() {
  return createServer(async (req, res) => {
    const body = await readBody(req);
    const at = Date.now();
    res.setHeader('content-type', 'application/json');
    if (req.url?.startsWith('/admin/api/') && String(body.query).includes('inventorySetQuantities')) {
      calls.shopify++;
      for (const q of body.variables.input.quantities as { inventoryItemId: string; quantity: number }[]) {
        record('shopify', Number(q.inventoryItemId.split('/').pop()) - 100_000, q.quantity, at);
      }
      res.end(
        JSON.stringify({
          data: {
            inventorySetQuantities: {
              inventoryAdjustmentGroup: { id: 'gid://shopify/InventoryAdjustmentGroup/1' },
              userErrors: [],
            },
          },
          extensions: {
            cost: {
              throttleStatus: { maximumAvailable: 20000, currentlyAvailable: 19990, restoreRate: 1000 },
            },
          },
        }),
      );
      return;
    }
    if (req.url?.startsWith('/wp-json/wc/v3/products/batch')) {
      calls.woocommerce++;
      for (const u of body.update as { id: number; stock_quantity: number }[]) {
        record('woocommerce', u.id - 200_000, u.stock_quantity, at);
      }
      res.end(JSON.stringify({ update: body.update }));
      return;
    }
    // Scheduled pulls find nothing (they are not what is measured).
    if (req.url?.startsWith('/admin/api/')) {
      res.end(
        JSON.stringify({
          data: { orders: { pageInfo: { hasNextPage: false, endCursor: null }, nodes: [] } },
        }),
      );
      return;
    }
    if (req.url?.startsWith('/wp-json/wc/v3/orders')) {
      res.setHeader('x-wp-total', '0');
      res.setHeader('x-wp-totalpages', '0');
      res.end('[]');
      return;
    }
    res.statusCode = 404;
    res.end('{}');
  });
}

const api = adminApi;

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;

async function main() {
  if (!existsSync('dist/src/cli.js')) throw new Error('run `npm run build` first');
  console.log(
    `stock push: ${N} orders of one unit over ${SKUS} SKUs, 2 channels (Shopify batch ${BATCH.shopify}, WooCommerce batch ${BATCH.woocommerce}), debounce ${DEBOUNCE_MS} ms`,
  );
  const server = fakeChannels();
  const fakePort = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
  const { db, url, drop } = await benchDatabase(10);
  const port = await freePort();
  let daemon: ChildProcess | null = null;
  try {
    const { skuCodes } = await seed(db, SKUS, 2, ON_HAND_EACH);
    daemon = await startDaemon(
      {
        DATABASE_URL: url,
        REDIS_URL: BENCH_REDIS_URL,
        PORT: String(port),
        HOST: '127.0.0.1',
        STOCKBRIDGE_QUEUE_PREFIX: `bench-push-${Date.now()}`,
        STOCKBRIDGE_ADMIN_TOKEN: TOKEN,
        STOCKBRIDGE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'sb-bench-')),
        STOCKBRIDGE_PUSH_DEBOUNCE_MS: String(DEBOUNCE_MS),
        LOG_LEVEL: 'warn',
      },
      port,
    );
    const shopify = await api(port, 'POST', '/api/channels', {
      type: 'shopify',
      name: 'Fake Shopify',
      settings: {
        shopDomain: 'bench.myshopify.com',
        accessToken: 'shpat_bench',
        webhookSecret: 'bench',
        apiBaseUrl: `http://127.0.0.1:${fakePort}/admin/api/2026-10`,
        locationId: '1',
        plan: 'plus',
        pullIntervalSeconds: 86_400,
        pullStartAt: new Date().toISOString(),
      },
    });
    const woo = await api(port, 'POST', '/api/channels', {
      type: 'woocommerce',
      name: 'Fake WooCommerce',
      settings: {
        siteUrl: `http://127.0.0.1:${fakePort}`,
        consumerKey: 'ck_bench',
        consumerSecret: 'cs_bench',
        webhookSecret: 'bench',
        requestsPerSecond: 1000,
        pullIntervalSeconds: 86_400,
        pullStartAt: new Date().toISOString(),
      },
    });
    for (const [i, sku] of skuCodes.entries()) {
      await api(port, 'PUT', `/api/channels/${shopify.id}/skus/${sku}`, {
        inventoryItemId: String(100_000 + i),
      });
      await api(port, 'PUT', `/api/channels/${woo.id}/skus/${sku}`, { productId: String(200_000 + i) });
    }
    // Publish the starting figures, then measure from a clean slate.
    await api(port, 'POST', `/api/channels/${shopify.id}/stock/resync`);
    await api(port, 'POST', `/api/channels/${woo.id}/stock/resync`);
    const startDeadline = Date.now() + 30_000;
    while (acks.shopify.size < SKUS || acks.woocommerce.size < SKUS) {
      if (Date.now() > startDeadline) throw new Error('the starting figures never reached the fake channels');
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 2 * DEBOUNCE_MS));
    for (const c of ['shopify', 'woocommerce'] as const) {
      acks[c].clear();
      calls[c] = 0;
    }
    const maxId = Number(
      ((await db('stock_movements').max({ maxId: 'id' })) as { maxId: number }[])[0]?.maxId ?? 0,
    );

    const t0 = performance.now();
    await pool(N, HTTP_CONCURRENCY, async (i) => {
      const res = await fetch(`http://127.0.0.1:${port}/api/orders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          externalId: `push-${i}`,
          currency: 'EUR',
          lines: [{ sku: skuCodes[(i * 7) % skuCodes.length], quantity: 1, unitPrice: 1000 }],
        }),
      });
      if (res.status !== 202) throw new Error(`order ${i}: HTTP ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    });
    const ackMs = performance.now() - t0;

    // Quiet: every SKU's last figure on both channels equals what is available now.
    const levels = async () =>
      new Map(
        (
          (await db('stock_levels')
            .select('sku_id')
            .sum({ on_hand: 'on_hand', reserved: 'reserved' })
            .groupBy('sku_id')) as {
            sku_id: number;
            on_hand: number;
            reserved: number;
          }[]
        ).map((r) => [Number(r.sku_id), Number(r.on_hand) - Number(r.reserved)]),
      );
    const idOf = new Map(
      ((await db('skus').select('id', 'code')) as { id: number; code: string }[]).map((r) => [
        r.code,
        Number(r.id),
      ]),
    );
    const deadline = Date.now() + 120_000;
    for (;;) {
      const n = Number(
        ((await db('orders').where('status', 'received').count({ n: '*' })) as { n: number }[])[0]?.n ?? 0,
      );
      const now = await levels();
      const settled =
        Number(n) === 0 &&
        skuCodes.every((code, i) =>
          (['shopify', 'woocommerce'] as const).every(
            (c) => acks[c].get(i)?.at(-1)?.quantity === now.get(idOf.get(code)!),
          ),
        );
      if (settled) break;
      if (Date.now() > deadline) throw new Error('channels never caught up');
      await new Promise((r) => setTimeout(r, 50));
    }
    const quietMs = performance.now() - t0;

    // Every reservation is a stock change: when it happened and what was available after it.
    const moves = (await db('stock_movements')
      .where('id', '>', maxId)
      .where('reason', 'reservation')
      .orderBy('id')
      .select('sku_id', 'd_reserved', 'created_at')) as {
      sku_id: number;
      d_reserved: number;
      created_at: string;
    }[];
    const indexOf = new Map(skuCodes.map((code, i) => [idOf.get(code)!, i]));
    const availableNow = new Map(skuCodes.map((code) => [idOf.get(code)!, 2 * ON_HAND_EACH]));
    const changes = moves.map((m) => {
      const skuId = Number(m.sku_id);
      const after = availableNow.get(skuId)! - Number(m.d_reserved);
      availableNow.set(skuId, after);
      return {
        sku: indexOf.get(skuId)!,
        at: Date.parse(`${String(m.created_at).replace(' ', 'T')}Z`),
        available: after,
      };
    });

    for (const c of ['shopify', 'woocommerce'] as const) {
      const latencies: number[] = [];
      const perWindow = new Map<number, Set<number>>();
      for (const ch of changes) {
        // The first acknowledgement of a figure that includes this change.
        const ack = acks[c].get(ch.sku)?.find((a) => a.quantity <= ch.available && a.at >= ch.at);
        if (!ack) throw new Error(`${c}: no acknowledgement covers a change of SKU ${ch.sku}`);
        latencies.push(ack.at - ch.at);
        const w = Math.floor(ch.at / DEBOUNCE_MS);
        perWindow.set(w, (perWindow.get(w) ?? new Set()).add(ch.sku));
      }
      latencies.sort((a, b) => a - b);
      const triples = [...perWindow.values()].reduce((n, s) => n + s.size, 0);
      const globalBound = Math.ceil(triples / BATCH[c]);
      const windowBound = [...perWindow.values()].reduce((n, s) => n + Math.ceil(s.size / BATCH[c]), 0);
      const updates = [...acks[c].values()].reduce((n, l) => n + l.length, 0);
      console.log(
        `${c.padEnd(12)} calls ${calls[c]} (bound: ${windowBound} = sum over windows of ceil(SKUs changed / ${BATCH[c]}); ` +
          `ceil(${triples} triples / ${BATCH[c]}) = ${globalBound}); SKU updates sent ${updates} for ${changes.length} changes; ` +
          `change -> ack ms p50 ${pct(latencies, 0.5)}, p95 ${pct(latencies, 0.95)}, p99 ${pct(latencies, 0.99)}, max ${latencies.at(-1)}`,
      );
    }
    console.log(line('orders acknowledged (HTTP 202)', N, ackMs, 'orders'));
    console.log(line('until both channels show every final figure', N, quietMs, 'orders'));
  } finally {
    if (daemon) await stopProcess(daemon);
    await new Promise((r) => server.close(r));
    await drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
