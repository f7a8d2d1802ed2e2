import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nightlyResync } from '../../jobs/nightly-resync.js';
import { loadConfig } from '../../src/config.js';
import { resyncChannel } from '../../src/daemon.js';
import { startChannelWorker } from '../../src/queue/channel-worker.js';
import { workerConnection } from '../../src/queue/redis.js';
import { TEST_REDIS_URL } from '../helpers/db.js';
import { checkInvariants } from '../helpers/invariants.js';
import { jobContext } from '../helpers/job-context.js';
import { interceptChannelHttp } from '../helpers/nock.js';
import { checkPublished } from '../helpers/publication.js';
import {
  createStack,
  orderBody,
  PUSH_DEBOUNCE_MS,
  seedCatalog,
  silentLog,
  type TestStack,
} from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

interceptChannelHttp();

const SHOP = 'https://push-shop.shopify.test';
const GRAPHQL = '/admin/api/2026-10/graphql.json';
const WOO = 'https://push-woo.test';

let stack: TestStack;
let shopifyId: number;
let wooId: number;

/** What the fake Shopify was told: inventory item -> quantities in the order received. */
const shopifySeen = new Map<string, number[]>();
let shopifyCalls = 0;

/** A fake Shopify answering inventorySetQuantities; `refuse` lists inventory items it rejects. */
function fakeShopify(options: { refuse?: string[]; times?: number } = {}) {
  return nock(SHOP)
    .post(GRAPHQL, (body) => String(body.query).includes('inventorySetQuantities'))
    .times(options.times ?? 1)
    .reply((_uri, body) => {
      shopifyCalls++;
      const quantities = (body as any).variables.input.quantities as {
        inventoryItemId: string;
        quantity: number;
      }[];
      const userErrors: unknown[] = [];
      quantities.forEach((q, i) => {
        const id = q.inventoryItemId.split('/').pop()!;
        if (options.refuse?.includes(id)) {
          userErrors.push({
            field: ['input', 'quantities', String(i), 'inventoryItemId'],
            message: 'The specified inventory item could not be found.',
            code: 'INVALID_INVENTORY_ITEM',
          });
          return;
        }
        shopifySeen.set(id, [...(shopifySeen.get(id) ?? []), q.quantity]);
      });
      return [
        200,
        {
          data: {
            inventorySetQuantities: {
              inventoryAdjustmentGroup: userErrors.length
                ? null
                : { id: 'gid://shopify/InventoryAdjustmentGroup/1' },
              userErrors,
            },
          },
          extensions: {
            cost: { throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 1990, restoreRate: 100 } },
          },
        },
      ];
    });
}

const wooSeen = new Map<string, number[]>();

function fakeWoo(times = 1) {
  return nock(WOO)
    .post('/wp-json/wc/v3/products/batch')
    .times(times)
    .reply((_uri, body) => {
      const update = (body as any).update as { id: number; stock_quantity: number }[];
      for (const u of update)
        wooSeen.set(String(u.id), [...(wooSeen.get(String(u.id)) ?? []), u.stock_quantity]);
      return [
        200,
        { update: update.map((u) => ({ id: u.id, stock_quantity: u.stock_quantity, manage_stock: true })) },
      ];
    });
}

const stockOf = async (sku: string) => (await stack.api('GET', `/api/stock/${sku}`)).body;

/** Moves outbox rows into pending marks, then pushes both channels as their jobs would. */
async function flushPushes() {
  await stack.relay.tick();
  const a = await stack.channels.push(shopifyId);
  const b = await stack.channels.push(wooId);
  return { shopify: a, woo: b };
}

beforeAll(async () => {
  stack = await createStack();
  await seedCatalog(
    stack,
    [
      { code: 'A', priority: 1 },
      { code: 'B', priority: 2 },
    ],
    ['P1', 'P2', 'P3', 'HOT'],
  );
  for (const [warehouse, lines] of [
    [
      'A',
      [
        ['P1', 20],
        ['P2', 10],
        ['P3', 5],
        ['HOT', 2000],
      ],
    ],
    [
      'B',
      [
        ['P1', 10],
        ['P3', 5],
      ],
    ],
  ] as const) {
    await stack.api('POST', '/api/stock/receipts', {
      warehouse,
      reference: `opening-${warehouse}`,
      lines: lines.map(([sku, quantity]) => ({ sku, quantity })),
    });
  }
  const shopify = await stack.api('POST', '/api/channels', {
    type: 'shopify',
    name: 'Shop',
    settings: {
      shopDomain: 'push-shop.myshopify.com',
      accessToken: 'shpat_push_token',
      webhookSecret: 'push-secret',
      apiBaseUrl: `${SHOP}/admin/api/2026-10`,
      locationId: 'gid://shopify/Location/77',
      plan: 'plus',
    },
    stock: { warehouses: ['A'], safetyStock: 2, allocationPercent: 50, maxQuantity: 100 },
  });
  expect(shopify.status).toBe(201);
  shopifyId = shopify.body.id;
  const woo = await stack.api('POST', '/api/channels', {
    type: 'woocommerce',
    name: 'Woo',
    settings: {
      siteUrl: WOO,
      consumerKey: 'ck_push',
      consumerSecret: 'cs_push',
      webhookSecret: 'w',
      requestsPerSecond: 1000,
    },
  });
  wooId = woo.body.id;
  for (const [sku, n] of [
    ['P1', 1],
    ['P2', 2],
    ['P3', 3],
    ['HOT', 4],
  ] as const) {
    expect(
      (await stack.api('PUT', `/api/channels/${shopifyId}/skus/${sku}`, { inventoryItemId: `90${n}` }))
        .status,
    ).toBe(200);
    expect(
      (await stack.api('PUT', `/api/channels/${wooId}/skus/${sku}`, { productId: `50${n}` })).status,
    ).toBe(200);
  }
});

afterAll(async () => {
  await stack.close();
});

describe('stock pushes to channels', () => {
  it('publishes what the formula says: feeding warehouses, safety stock, allocation, caps, SKU over channel', async () => {
    const sku = await stack.api('PUT', `/api/channels/${shopifyId}/skus/P2/publication`, {
      safetyStock: 0,
      maxQuantity: 3,
    });
    expect(sku.status).toBe(200);
    expect(sku.body).toMatchObject({ safetyStock: 0, maxQuantity: 3, allocationPercent: null });
    const view = (await stack.api('GET', `/api/channels/${shopifyId}`)).body;
    expect(view.stock).toEqual({
      warehouses: ['A'],
      safetyStock: 2,
      allocationPercent: 50,
      maxQuantity: 100,
      nightlyResync: false,
    });

    fakeShopify();
    fakeWoo();
    const { shopify, woo } = await flushPushes();
    expect(shopify).toMatchObject({ pending: 4, sent: 4, accepted: 4, calls: 1, rejected: [] });
    expect(woo).toMatchObject({ sent: 4, accepted: 4, calls: 1 });
    // Shopify: warehouse A only, 2 held back, half of the rest, at most 100; P2's own rule wins.
    expect(Object.fromEntries([...shopifySeen].map(([k, v]) => [k, v.at(-1)]))).toEqual({
      '901': 9, // floor((20 - 2) * 50%)
      '902': 3, // min(floor(10 * 50%), 3)
      '903': 1, // floor((5 - 2) * 50%)
      '904': 100, // floor((2000 - 2) * 50%) = 999, capped at 100
    });
    // WooCommerce: no rule, all warehouses.
    expect(Object.fromEntries([...wooSeen].map(([k, v]) => [k, v.at(-1)]))).toEqual({
      '501': 30,
      '502': 10,
      '503': 10,
      '504': 2000,
    });

    const p1 = await stockOf('P1');
    expect(p1.channels).toEqual([
      expect.objectContaining({ channelId: shopifyId, published: 9, pending: false, lastError: null }),
      expect.objectContaining({ channelId: wooId, published: 30, pending: false }),
    ]);
    expect(p1.channels[0].publishedAt).toMatch(/Z$/);
    expect(await checkPublished(stack.db)).toEqual([]);

    // Nothing changed: the next push sends nothing.
    const again = await flushPushes();
    expect(again.shopify).toMatchObject({ pending: 0, calls: 0 });
  });

  it('a change marks the pairs pending (visible), and the next push sends only what changed', async () => {
    const order = await stack.api('POST', '/api/orders', orderBody('push-1', [{ sku: 'P1', quantity: 4 }]));
    expect(order.status).toBe(202);
    stack.startWorker(2);
    await stack.settle();
    await stack.relay.tick();
    expect((await stockOf('P1')).channels.map((c: { pending: boolean }) => c.pending)).toEqual([true, true]);
    expect(await checkPublished(stack.db)).not.toEqual([]);

    fakeShopify();
    fakeWoo();
    const { shopify, woo } = await flushPushes();
    expect(shopify).toMatchObject({ pending: 1, sent: 1, calls: 1 });
    expect(shopifySeen.get('901')!.at(-1)).toBe(7); // floor((16 - 2) * 50%)
    expect(woo).toMatchObject({ sent: 1 });
    expect(wooSeen.get('501')!.at(-1)).toBe(26);
    expect(await checkPublished(stack.db)).toEqual([]);
  });

  it('a SKU the channel refuses is recorded with its reason and does not block the batch', async () => {
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'A',
      reference: 'more-1',
      lines: [
        { sku: 'P1', quantity: 2 },
        { sku: 'P3', quantity: 2 },
      ],
    });
    // Shopify refuses the item; the connector sends the rest again without it.
    fakeShopify({ refuse: ['903'], times: 2 });
    fakeWoo();
    const { shopify } = await flushPushes();
    expect(shopify.accepted).toBe(1);
    expect(shopify.rejected).toEqual([
      { sku: 'P3', reason: expect.stringContaining('INVALID_INVENTORY_ITEM') },
    ]);
    expect(shopifySeen.get('901')!.at(-1)).toBe(8);
    const p3 = await stockOf('P3');
    // Not marked published: the old figure stays, with the channel's reason.
    expect(p3.channels[0]).toMatchObject({
      published: 1,
      pending: false,
      lastError: { message: expect.stringContaining('could not be found') },
    });
    expect((await stack.api('GET', `/api/channels/${shopifyId}`)).body.status.lastError.message).toMatch(
      /P3/,
    );
    // The invariant leaves out what the channel refused; everything else is published right.
    expect(await checkPublished(stack.db)).toEqual([]);
  });

  it('after a 429 and then a 200, the right figure is published once', async () => {
    await stack.api('POST', '/api/stock/adjustments', {
      warehouse: 'B',
      reason: 'count',
      lines: [{ sku: 'P1', delta: -3 }],
    });
    await stack.relay.tick();
    let woo429 = 0;
    nock(WOO)
      .post('/wp-json/wc/v3/products/batch')
      .reply(() => {
        woo429++;
        return [429, { code: 'too_many_requests' }, { 'Retry-After': '1' }];
      });
    fakeWoo();
    const before = wooSeen.get('501')!.length;
    const summary = await stack.channels.push(wooId);
    expect(woo429).toBe(1);
    expect(summary).toMatchObject({ sent: 1, accepted: 1, calls: 1 });
    expect(wooSeen.get('501')!.slice(before)).toEqual([25]); // 30 - 4 + 2 - 3
    expect((await stockOf('P1')).channels[1]).toMatchObject({ published: 25, pending: false });
  });

  it('after an outage the next push sends the figures of that moment, not every change in between', async () => {
    nock(WOO).post('/wp-json/wc/v3/products/batch').times(4).reply(503, 'down');
    await stack.api('POST', '/api/orders', orderBody('outage-1', [{ sku: 'P2', quantity: 1 }]));
    await stack.settle();
    await stack.relay.tick();
    await expect(stack.channels.push(wooId)).rejects.toThrow(/503/);
    expect((await stockOf('P2')).channels[1]).toMatchObject({ published: 10, pending: true });
    await stack.api('POST', '/api/orders', orderBody('outage-2', [{ sku: 'P2', quantity: 2 }]));
    await stack.settle();
    await stack.relay.tick();
    fakeWoo();
    const before = wooSeen.get('502')!.length;
    await stack.channels.push(wooId);
    expect(wooSeen.get('502')!.slice(before)).toEqual([7]);
    await stack.channels.push(shopifyId).catch(() => {});
  });

  it('a transfer between warehouses reaches the channels whose figure it changes', async () => {
    const before = await stockOf('P3');
    const from = before.warehouses.find((w: { warehouse: string }) => w.warehouse === 'B');
    expect(
      (
        await stack.api('POST', '/api/stock/transfers', {
          from: 'B',
          to: 'B',
          reference: 't0',
          lines: [{ sku: 'P3', quantity: 1 }],
        })
      ).status,
    ).toBe(422);
    const tooMuch = await stack.api('POST', '/api/stock/transfers', {
      from: 'B',
      to: 'A',
      reference: 't-big',
      lines: [{ sku: 'P3', quantity: from.available + 1 }],
    });
    expect(tooMuch.status).toBe(409);
    expect(tooMuch.body.error.code).toBe('insufficient_stock');
    const body = { from: 'B', to: 'A', reference: 't1', lines: [{ sku: 'P3', quantity: 5 }] };
    expect((await stack.api('POST', '/api/stock/transfers', body)).status).toBe(201);
    expect((await stack.api('POST', '/api/stock/transfers', body)).body.duplicate).toBe(true);
    const after = await stockOf('P3');
    expect(after.onHand).toBe(before.onHand);
    expect(after.warehouses.find((w: { warehouse: string }) => w.warehouse === 'B').onHand).toBe(
      from.onHand - 5,
    );

    fakeShopify();
    const { shopify, woo } = await flushPushes();
    // Shopify is fed by warehouse A only: its figure rose. WooCommerce sees all warehouses: unchanged.
    expect(shopify).toMatchObject({ sent: 1, accepted: 1 });
    const a = after.warehouses.find((w: { warehouse: string }) => w.warehouse === 'A');
    expect(shopifySeen.get('903')!.at(-1)).toBe(Math.floor((a.available - 2) / 2));
    expect(woo).toMatchObject({ pending: 1, sent: 0, calls: 0 });
    expect(await checkInvariants(stack.db)).toEqual([]);
    expect(await checkPublished(stack.db)).toEqual([]);
  });

  it('a thousand reservations of one SKU in a burst make a handful of channel calls', async () => {
    const reservations = 1000;
    // However long the burst takes on this machine, never let the fakes run out.
    fakeShopify({ times: reservations });
    fakeWoo(reservations);
    // Settle anything left over so that the count below is the burst's alone: nothing is pending,
    // and push jobs queued by earlier tests (for windows before the burst) are dropped.
    await flushPushes();
    await stack.queues.channels.drain(true);
    const callsBefore = shopifyCalls;
    const hotBefore = shopifySeen.get('904')?.length ?? 0;
    const wooBefore = wooSeen.get('504')?.length ?? 0;

    const conn = workerConnection(TEST_REDIS_URL);
    const pusher = startChannelWorker(conn, stack.prefix, stack.channels, silentLog);
    const relayLoop = setInterval(() => void stack.relay.tick().catch(() => {}), 100);
    // Every push request made from here on is for the debounce window it falls in.
    const burstStart = Date.now();
    let burstEnd: number;
    try {
      const bodies = Array.from({ length: reservations }, (_, i) =>
        orderBody(`hot-${i}`, [{ sku: 'HOT', quantity: 1 }]),
      );
      for (let i = 0; i < bodies.length; i += 100) {
        const res = await Promise.all(
          bodies.slice(i, i + 100).map((b) => stack.api('POST', '/api/orders', b)),
        );
        expect(res.every((r) => r.status === 202)).toBe(true);
      }
      await stack.settle(150_000);
      await waitFor(async () => (await checkPublished(stack.db)).length === 0, {
        timeoutMs: 60_000,
        intervalMs: 100,
        message: async () => `publication: ${(await checkPublished(stack.db)).join('; ')}`,
      });
    } finally {
      clearInterval(relayLoop);
      await pusher.close();
      conn.disconnect();
      // No push request can be made after this: the relay and the pusher have stopped.
      burstEnd = Date.now();
    }
    const hotUpdates = (shopifySeen.get('904')?.length ?? 0) - hotBefore;
    const wooUpdates = (wooSeen.get('504')?.length ?? 0) - wooBefore;
    // Push jobs are keyed by channel and debounce window: at most one push per window the burst
    // spanned, however long it took, plus a couple for a retried call. One push per reservation
    // would be a thousand.
    const windows = Math.floor(burstEnd / PUSH_DEBOUNCE_MS) - Math.floor(burstStart / PUSH_DEBOUNCE_MS) + 1;
    const limit = windows + 2;
    const spent = `${wooUpdates} updates, ${windows} windows of ${PUSH_DEBOUNCE_MS} ms in ${burstEnd - burstStart} ms`;
    // The bound still tells one push per reservation apart (it would take a burst of minutes not to).
    expect(limit, spent).toBeLessThan(reservations / 4);
    expect(wooUpdates, spent).toBeGreaterThanOrEqual(1);
    expect(wooUpdates, spent).toBeLessThanOrEqual(limit);
    expect(wooSeen.get('504')!.at(-1)).toBe(reservations);
    // Shopify is capped at 100 the whole time: its figure never changed, so it was never sent.
    expect(hotUpdates).toBe(0);
    expect(shopifyCalls - callsBefore).toBe(0);
    expect(shopifySeen.get('904')!.at(-1)).toBe(100);
    expect(await checkInvariants(stack.db)).toEqual([]);
  }, 300_000);

  it('the resync command pushes every mapped SKU from its own process; the nightly job marks opted-in channels', async () => {
    fakeWoo();
    const config = loadConfig({
      DATABASE_URL: stack.database.url,
      REDIS_URL: TEST_REDIS_URL,
      STOCKBRIDGE_SECRET_KEY: stack.secretKey.toString('hex'),
      STOCKBRIDGE_ADMIN_TOKEN: 'resync-command-admin-token',
      STOCKBRIDGE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'sb-resync-')),
      LOG_LEVEL: 'silent',
    });
    const summary = await resyncChannel(config, silentLog, wooId);
    expect(summary).toMatchObject({ pending: 4, sent: 4, accepted: 4, calls: 1, stillPending: 0 });

    const opted = await stack.api('PATCH', `/api/channels/${wooId}`, { stock: { nightlyResync: true } });
    expect(opted.body.stock.nightlyResync).toBe(true);
    expect((await stockOf('P1')).channels[1].pending).toBe(false);
    expect(await nightlyResync.run(jobContext(stack.db))).toEqual({ counts: { channels: 1, skus: 4 } });
    expect((await stockOf('P1')).channels[1].pending).toBe(true);
    // The scheduler's sweep finds it once it has waited two debounce windows.
    expect(await stack.channels.duePushes(0, new Date(Date.now() + 10))).toContain(wooId);
    fakeWoo();
    expect(await stack.channels.push(wooId)).toMatchObject({ sent: 4, accepted: 4 });
  });

  it('a push that cannot work until the settings change is recorded, not retried, and goes once they do', async () => {
    const noLocation = await stack.api('POST', '/api/channels', {
      type: 'shopify',
      name: 'No location',
      settings: {
        shopDomain: 'push-shop.myshopify.com',
        accessToken: 'shpat_push_token',
        webhookSecret: 'push-secret',
        apiBaseUrl: `${SHOP}/admin/api/2026-10`,
      },
    });
    const id = noLocation.body.id;
    await stack.api('PUT', `/api/channels/${id}/skus/P1`, { inventoryItemId: '901' });
    await stack.channels.resync(id);
    const first = await stack.channels.push(id);
    expect(first).toMatchObject({ skipped: 'missing_location', calls: 0 });
    const view = (await stack.api('GET', `/api/channels/${id}`)).body;
    expect(view.status.lastError.message).toMatch(/locationId/);
    expect(
      (await stockOf('P1')).channels.find((c: { channelId: number }) => c.channelId === id).pending,
    ).toBe(true);
    await stack.api('PATCH', `/api/channels/${id}`, { settings: { locationId: '77' } });
    fakeShopify();
    expect(await stack.channels.push(id)).toMatchObject({ sent: 1, accepted: 1 });
    await stack.api('DELETE', `/api/channels/${id}`);
  });

  it('a resync sends every mapped SKU, changed or not; a failing or disabled channel sends nothing', async () => {
    const r = await stack.api('POST', `/api/channels/${wooId}/stock/resync`);
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ channelId: wooId, pending: 4 });
    const pending = await stockOf('P1');
    expect(pending.channels[1].pending).toBe(true);
    fakeWoo();
    const summary = await stack.channels.push(wooId);
    expect(summary).toMatchObject({ pending: 4, sent: 4, accepted: 4, calls: 1 });

    await stack
      .db('channels')
      .where({ id: wooId })
      .update({ failing_reason: 'push: 401', failing_since: '2026-11-25 00:00:00.000' });
    await stack.channels.resync(wooId);
    expect(await stack.channels.push(wooId)).toMatchObject({ skipped: 'channel_failing', calls: 0 });
    expect(await stack.channels.duePushes(0)).not.toContain(wooId);
    await stack.api('DELETE', `/api/channels/${shopifyId}`);
    expect((await stack.api('POST', `/api/channels/${shopifyId}/stock/resync`)).status).toBe(409);
    expect(await stack.channels.push(shopifyId)).toMatchObject({ skipped: 'channel_disabled' });
    // A disabled channel is not marked by changes; enabled again, it catches up on every SKU.
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'A',
      reference: 'while-off',
      lines: [{ sku: 'P1', quantity: 5 }],
    });
    await stack.relay.tick();
    expect((await stockOf('P1')).channels[0].pending).toBe(false);
    await stack.api('PATCH', `/api/channels/${shopifyId}`, { enabled: true });
    expect((await stockOf('P1')).channels[0].pending).toBe(true);
    fakeShopify();
    const caughtUp = await stack.channels.push(shopifyId);
    // Only P1 changed while it was off; the others still have the figure last published.
    expect(caughtUp).toMatchObject({ pending: 4, sent: 1, accepted: 1, calls: 1 });
    expect(
      (await stack.api('PUT', `/api/channels/${wooId}/skus/NOPE/publication`, { safetyStock: 1 })).status,
    ).toBe(404);
    expect(
      (await stack.api('PATCH', `/api/channels/${wooId}`, { stock: { warehouses: ['ZZ'] } })).status,
    ).toBe(422);
  });
});
