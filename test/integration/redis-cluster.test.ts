import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DaemonProcess, httpApi, spawnDaemon } from '../helpers/daemon-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { type FakeShopify, startFakeShopify } from '../helpers/fake-shopify.js';
import { checkInvariants } from '../helpers/invariants.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { type LocalRedisCluster, startRedisCluster } from '../helpers/redis-cluster.js';
import { deliverShopifyWebhook, shopifyOrderBody } from '../helpers/shopify-webhook.js';

const TOKEN = 'cluster-test-admin-token-0123456789';
const SECRET = 'cluster-webhook-secret';
const SHOP = 'cluster-shop.myshopify.com';
const VARIANT = '4400000000000000071';
const ITEM = '9900000000000000071';

let cluster: LocalRedisCluster;
let database: TestDatabase;
let shopify: FakeShopify;
let daemon: DaemonProcess | undefined;
let dataDir: string;
const prefix = `{sbtest-${randomBytes(4).toString('hex')}}`;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  database = await createTestDatabase({ poolMax: 5 });
  shopify = await startFakeShopify();
  dataDir = mkdtempSync(path.join(tmpdir(), 'sb-cluster-'));
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
  await shopify?.close();
  await database?.drop();
  await cluster?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe('on a Redis Cluster of three masters', () => {
  it('refuses a cluster setting whose queue prefix is not a hash tag, naming the key', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start'], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        REDIS_CLUSTER_NODES: cluster.nodes.join(','),
        STOCKBRIDGE_QUEUE_PREFIX: 'stockbridge',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(out).toMatch(/STOCKBRIDGE_QUEUE_PREFIX: must be wrapped in braces/);
  });

  it('takes an order by API and by webhook, reserves both in a worker, and pushes the stock', async () => {
    const port = await freePort();
    daemon = await spawnDaemon(
      {
        REDIS_CLUSTER_NODES: cluster.nodes.join(','),
        REDIS_URL: 'redis://127.0.0.1:1', // not used: the cluster setting wins
        STOCKBRIDGE_QUEUE_PREFIX: prefix,
        DATABASE_URL: database.url,
        STOCKBRIDGE_MIGRATE_ON_START: 'false',
        PORT: String(port),
        HOST: '127.0.0.1',
        STOCKBRIDGE_ADMIN_TOKEN: TOKEN,
        STOCKBRIDGE_DATA_DIR: dataDir,
        STOCKBRIDGE_DB_POOL_MAX: '5',
        STOCKBRIDGE_WORKER_CONCURRENCY: '4',
        STOCKBRIDGE_PUSH_DEBOUNCE_MS: '200',
        STOCKBRIDGE_PULL_CHECK_MS: '500',
      },
      { port, name: 'cluster daemon' },
    );
    expect(daemon.output()).toContain('"redis":"cluster"');
    const base = `http://127.0.0.1:${port}`;
    const api = httpApi(base, TOKEN);

    expect((await api('PUT', '/api/warehouses/main', { name: 'Main', priority: 1 })).status).toBeLessThan(
      300,
    );
    expect(
      (await api('PUT', '/api/skus/RC-1', { name: 'Cluster tee', unitPrice: 1000, currency: 'EUR' })).status,
    ).toBeLessThan(300);
    const receipt = await api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'opening',
      lines: [{ sku: 'RC-1', quantity: 50 }],
    });
    expect(receipt.status).toBeLessThan(300);
    const channel = await api('POST', '/api/channels', {
      type: 'shopify',
      name: 'Cluster shop',
      settings: {
        shopDomain: SHOP,
        accessToken: 'shpat_cluster_token',
        webhookSecret: SECRET,
        apiBaseUrl: shopify.apiBaseUrl('cluster'),
        locationId: '77',
        pullIntervalSeconds: 3600,
        pullStartAt: '2026-11-01T00:00:00Z',
      },
    });
    expect(channel.status).toBe(201);
    const channelId = channel.body.id as number;
    const mapped = await api('PUT', `/api/channels/${channelId}/skus/RC-1`, {
      variantId: VARIANT,
      inventoryItemId: ITEM,
    });
    expect(mapped.status).toBe(200);

    const byApi = await api('POST', '/api/orders', {
      externalId: 'cluster-1',
      currency: 'EUR',
      lines: [{ sku: 'RC-1', quantity: 2, unitPrice: 1000 }],
    });
    expect(byApi.status).toBe(202);
    const hook = await deliverShopifyWebhook(base, channelId, {
      secret: SECRET,
      shopDomain: SHOP,
      topic: 'orders/create',
      body: shopifyOrderBody('5800000000000000001', [{ sku: 'RC-1', variantId: VARIANT, quantity: 3 }]),
      eventId: 'cluster-evt-1',
    });
    expect(hook).toBe(200);

    const db = database.db;
    await waitFor(
      'both orders confirmed',
      async () =>
        Number(
          ((await db('orders').where({ status: 'confirmed' }).count({ n: '*' })) as { n: number }[])[0]?.n,
        ) === 2,
      60_000,
    );
    const stock = await api('GET', '/api/stock/RC-1');
    expect(stock.body).toMatchObject({ onHand: 50, reserved: 5, available: 45 });
    // The relay turned the reservations into a push job; the channel worker sent it.
    await waitFor('the stock push', () => shopify.published.get(ITEM) === 45, 60_000);
    expect(shopify.requests.filter((r) => r.kind === 'push').length).toBeGreaterThan(0);

    // The queues live in the cluster, each in the one slot of the prefix's hash tag.
    const probe = new Cluster(
      cluster.nodes.map((n) => ({ host: '127.0.0.1', port: Number(n.split(':')[1]) })),
    );
    try {
      const slot = Number(await probe.cluster('KEYSLOT', `${prefix}:orders:id`));
      // Only the master that owns the slot lists its keys: ask every master.
      const keys = (
        await Promise.all(probe.nodes('master').map((node) => node.cluster('GETKEYSINSLOT', slot, 1000)))
      ).flat();
      expect((keys as string[]).some((k) => k.startsWith(`${prefix}:orders:`))).toBe(true);
      expect((keys as string[]).some((k) => k.startsWith(`${prefix}:channels:`))).toBe(true);
    } finally {
      probe.disconnect();
    }

    expect(await checkInvariants(db)).toEqual([]);
    expect(await daemon.stop()).toBe(0);
    expect(daemon.output()).toContain('stockbridge stopped');
  });
});
