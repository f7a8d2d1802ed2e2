import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEARTBEATS } from '../../jobs/heartbeat.js';
import { type DaemonProcess, httpApi, spawnDaemon } from '../helpers/daemon-process.js';
import { createTestDatabase, TEST_REDIS_URL, type TestDatabase } from '../helpers/db.js';
import { type FakeShopify, overlaps, startFakeShopify } from '../helpers/fake-shopify.js';
import { checkInvariants } from '../helpers/invariants.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { deliverShopifyWebhook, shopifyOrderBody } from '../helpers/shopify-webhook.js';

/** Orders posted in all, half by signed webhook and half through `POST /api/orders`. */
const ORDERS = Number(process.env.MULTI_PROCESS_ORDERS ?? 2000);
/** Requests in flight at once (the machine has two cores for three daemons, MariaDB and Redis). */
const CONCURRENCY = 8;
const SKUS = Array.from({ length: 20 }, (_, i) => `MP-${String(i + 1).padStart(2, '0')}`);
const TOKEN = 'multi-process-admin-token-0123456789';
const SECRET = 'multi-process-webhook-secret';
const SHOP = 'multi-process.myshopify.com';
const variantOf = (i: number) => `44000000000000${String(1000 + i)}`;
const itemOf = (i: number) => `99000000000000${String(1000 + i)}`;

let database: TestDatabase;
let shopify: FakeShopify;
const daemons: DaemonProcess[] = [];
const dataDirs: string[] = [];
const prefix = `sbtest-mp-${randomBytes(4).toString('hex')}`;

const count = async (q: PromiseLike<unknown>) => Number(((await q) as { n: number }[])[0]?.n ?? 0);

beforeAll(async () => {
  database = await createTestDatabase({ poolMax: 5 });
  shopify = await startFakeShopify({ delayMs: 30 });
});

afterAll(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  await shopify?.close();
  const conn = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  for (const name of ['orders', 'maintenance', 'channels']) {
    const q = new Queue(name, { connection: conn, prefix });
    await q.obliterate({ force: true }).catch(() => {});
    await q.close();
  }
  conn.disconnect();
  await database?.drop();
  for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
});

describe('three daemon processes on one MariaDB and one Redis', () => {
  it('processes every acknowledged order once through a SIGKILL, runs each period once, never overlaps a channel', async () => {
    const started = Date.now();
    const apiPort = await freePort();
    const common = (roles: string, port: number) => {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'sb-mp-'));
      dataDirs.push(dataDir);
      return {
        STOCKBRIDGE_ROLES: roles,
        DATABASE_URL: database.url,
        REDIS_URL: TEST_REDIS_URL,
        STOCKBRIDGE_QUEUE_PREFIX: prefix,
        STOCKBRIDGE_MIGRATE_ON_START: 'false',
        STOCKBRIDGE_ADMIN_TOKEN: TOKEN,
        // One key for every process: each must open the channel settings the others sealed.
        STOCKBRIDGE_SECRET_KEY: 'ab'.repeat(32),
        STOCKBRIDGE_DATA_DIR: dataDir,
        PORT: String(port),
        HOST: '127.0.0.1',
        STOCKBRIDGE_DB_POOL_MAX: '10',
        STOCKBRIDGE_WORKER_CONCURRENCY: '16',
        // A killed worker's jobs count as stalled after this, and run again elsewhere.
        STOCKBRIDGE_JOB_LOCK_MS: '5000',
        STOCKBRIDGE_PUSH_DEBOUNCE_MS: '300',
        STOCKBRIDGE_PULL_CHECK_MS: '500',
        STOCKBRIDGE_HEARTBEAT_SECONDS: '2',
      };
    };
    const [api, workerA, workerB] = await Promise.all([
      spawnDaemon(common('api', apiPort), { port: apiPort, name: 'api' }),
      spawnDaemon(common('worker,scheduler', await freePort()), { name: 'worker A' }),
      spawnDaemon(common('worker,scheduler', await freePort()), { name: 'worker B' }),
    ]);
    daemons.push(api!, workerA!, workerB!);
    const base = `http://127.0.0.1:${apiPort}`;
    const call = httpApi(base, TOKEN);
    const db = database.db;

    // Catalogue, stock for every order, and a Shopify channel played by the fake server.
    expect((await call('PUT', '/api/warehouses/main', { name: 'Main', priority: 1 })).status).toBeLessThan(
      300,
    );
    for (const sku of SKUS) {
      const r = await call('PUT', `/api/skus/${sku}`, { name: sku, unitPrice: 1000, currency: 'EUR' });
      expect(r.status).toBeLessThan(300);
    }
    const perSku = Math.ceil(ORDERS / SKUS.length) + 10;
    const receipt = await call('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'opening',
      lines: SKUS.map((sku) => ({ sku, quantity: perSku })),
    });
    expect(receipt.status).toBeLessThan(300);
    const channel = await call('POST', '/api/channels', {
      type: 'shopify',
      name: 'Multi-process shop',
      settings: {
        shopDomain: SHOP,
        accessToken: 'shpat_multi_process',
        webhookSecret: SECRET,
        apiBaseUrl: shopify.apiBaseUrl('mp'),
        locationId: '77',
        pullIntervalSeconds: 1,
        pullStartAt: '2026-11-01T00:00:00Z',
      },
    });
    expect(channel.status).toBe(201);
    const channelId = channel.body.id as number;
    for (const [i, sku] of SKUS.entries()) {
      const r = await call('PUT', `/api/channels/${channelId}/skus/${sku}`, {
        variantId: variantOf(i),
        inventoryItemId: itemOf(i),
      });
      expect(r.status).toBe(200);
    }

    // Both schedulers run side by side for at least three heartbeat periods before the load.
    await waitFor(
      'three heartbeat periods',
      // The table appears with the first run.
      async () => (await count(db(HEARTBEATS).countDistinct({ n: 'job_id' })).catch(() => 0)) >= 3,
      60_000,
      250,
    ).catch(async (err) => {
      throw new Error(`${(err as Error).message}\n${workerA!.output().slice(-3000)}`);
    });
    const periodsBeforeLoad = await count(db(HEARTBEATS).countDistinct({ n: 'job_id' }));

    // The load: order i goes by webhook when i is even, by the API when odd; one unit of one SKU.
    const ackedApi = new Set<string>();
    const ackedHooks = new Set<string>();
    const refused: string[] = [];
    let killedPid: number | null = null;
    let next = 0;
    const loadStarted = Date.now();
    const post = async (i: number) => {
      const sku = SKUS[i % SKUS.length]!;
      if (i % 2 === 0) {
        const id = String(5_900_000_000_000_000_000n + BigInt(i));
        const body = shopifyOrderBody(id, [{ sku, variantId: variantOf(i % SKUS.length), quantity: 1 }]);
        // Shopify delivers again (same event id) when it gets no 200; so do we, a few times.
        for (let attempt = 0; attempt < 5; attempt++) {
          const status = await deliverShopifyWebhook(base, channelId, {
            secret: SECRET,
            shopDomain: SHOP,
            topic: 'orders/create',
            body,
            eventId: `mp-evt-${i}`,
          }).catch(() => 0);
          if (status === 200) {
            ackedHooks.add(id);
            return;
          }
          refused.push(`webhook ${i}: ${status}`);
        }
      } else {
        const externalId = `mp-api-${i}`;
        for (let attempt = 0; attempt < 5; attempt++) {
          const r = await call('POST', '/api/orders', {
            externalId,
            currency: 'EUR',
            lines: [{ sku, quantity: 1, unitPrice: 1000 }],
          }).catch(() => ({ status: 0, body: null }));
          if (r.status === 200 || r.status === 202) {
            ackedApi.add(externalId);
            return;
          }
          refused.push(`api ${i}: ${r.status}`);
        }
      }
    };
    const syncs: Array<Promise<unknown>> = [];
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < ORDERS) {
          const i = next++;
          await post(i);
          if (i % 250 === 125) syncs.push(call('POST', `/api/channels/${channelId}/sync`));
          if (killedPid === null && ackedApi.size + ackedHooks.size >= ORDERS / 2) {
            killedPid = workerB!.pid;
            await workerB!.kill();
          }
        }
      }),
    );
    const loadMs = Date.now() - loadStarted;
    const manualSyncs = await Promise.all(syncs);
    expect(killedPid).not.toBeNull();

    // Everything acknowledged gets processed by the surviving worker, within a deadline.
    const acked = ackedApi.size + ackedHooks.size;
    await waitFor(
      'every acknowledged order processed',
      async () =>
        (await count(db('orders').count({ n: '*' }))) >= acked &&
        (await count(db('orders').where({ status: 'received' }).count({ n: '*' }))) === 0,
      240_000,
      500,
    );
    const processedMs = Date.now() - loadStarted;

    // Every acknowledged order exists exactly once, and was reserved exactly once.
    const rows = (await db('orders').select('id', 'channel', 'external_id', 'status')) as {
      id: number;
      channel: string;
      external_id: string;
      status: string;
    }[];
    const seen = new Map<string, number>();
    for (const r of rows)
      seen.set(`${r.channel}|${r.external_id}`, (seen.get(`${r.channel}|${r.external_id}`) ?? 0) + 1);
    const missingOrTwice = [
      ...[...ackedApi].map((e) => `api|${e}`),
      ...[...ackedHooks].map((e) => `shopify:${channelId}|${e}`),
    ].filter((k) => seen.get(k) !== 1);
    expect(missingOrTwice).toEqual([]);
    expect([...seen.values()].filter((n) => n !== 1)).toEqual([]);
    expect(rows.filter((r) => r.status !== 'confirmed').map((r) => `${r.id}:${r.status}`)).toEqual([]);
    const ledger = (await db('stock_movements')
      .where({ reason: 'reservation', ref_type: 'order' })
      .select('ref_id')
      .count({ n: '*' })
      .sum({ units: 'd_reserved' })
      .groupBy('ref_id')) as { ref_id: string; n: number; units: number }[];
    const reservedOnce = new Map(ledger.map((l) => [Number(l.ref_id), [Number(l.n), Number(l.units)]]));
    expect(rows.filter((r) => String(reservedOnce.get(Number(r.id))) !== '1,1').map((r) => r.id)).toEqual([]);
    expect(ledger.length).toBe(rows.length);
    expect(await checkInvariants(db)).toEqual([]);

    // The heartbeat ran once per period, though two schedulers (and two workers) were running.
    // The one exception allowed: a run cut short by the SIGKILL runs again elsewhere (at least once).
    const beats = (await db(HEARTBEATS).select('job_id', 'runner')) as { job_id: string; runner: string }[];
    const byPeriod = new Map<string, string[]>();
    for (const b of beats) byPeriod.set(b.job_id, [...(byPeriod.get(b.job_id) ?? []), b.runner]);
    const killedRunner = `${hostname().slice(0, 40)}:${killedPid}`;
    const twice = [...byPeriod].filter(([, runners]) => runners.length > 1);
    const unexplained = twice.filter(
      ([, runners]) => !(runners.length === 2 && runners.includes(killedRunner)),
    );
    expect(unexplained).toEqual([]);
    expect(twice.length).toBeLessThanOrEqual(1);
    expect(periodsBeforeLoad).toBeGreaterThanOrEqual(3);
    expect([...byPeriod.values()].filter((r) => r.length === 1).length).toBeGreaterThanOrEqual(3);
    expect(new Set(beats.map((b) => b.runner)).size).toBeGreaterThanOrEqual(1);

    // No two requests of the channel (pulls, pushes, or a pull and a push) were ever in flight at once.
    const calls = shopify.requests;
    const pulls = calls.filter((r) => r.kind === 'pull');
    const pushes = calls.filter((r) => r.kind === 'push');
    expect(pulls.length).toBeGreaterThanOrEqual(3);
    expect(pushes.length).toBeGreaterThanOrEqual(3);
    expect(overlaps(calls, (a, b) => a.shop === b.shop && a.kind === b.kind && a.kind !== 'other')).toEqual(
      [],
    );
    const pullPush = overlaps(
      calls,
      (a, b) => a.shop === b.shop && a.kind !== b.kind && a.kind !== 'other' && b.kind !== 'other',
    );
    expect(pullPush).toEqual([]);

    const summary = {
      orders: ORDERS,
      acknowledged: { api: ackedApi.size, webhook: ackedHooks.size },
      refusedAnswers: refused.length,
      killedPid,
      loadSeconds: loadMs / 1000,
      untilProcessedSeconds: processedMs / 1000,
      totalSeconds: (Date.now() - started) / 1000,
      heartbeatPeriods: byPeriod.size,
      heartbeatRunners: [...new Set(beats.map((b) => b.runner))],
      pulls: pulls.length,
      pushes: pushes.length,
      manualSyncs: manualSyncs.map((s) => (s as { status: number }).status),
      pullOverlappingPush: pullPush.length,
    };
    console.info(`multi-process: ${JSON.stringify(summary)}`);
    expect(ackedApi.size + ackedHooks.size).toBe(ORDERS);

    expect(await api!.stop()).toBe(0);
    expect(await workerA!.stop()).toBe(0);
  });
});
