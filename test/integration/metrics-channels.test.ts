import { createHmac } from 'node:crypto';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconciliation } from '../../jobs/reconciliation.js';
import { dbTime } from '../../src/db/connection.js';
import { registry } from '../../src/metrics.js';
import type { NotificationMedium, NotificationSender, SendOutcome } from '../../src/notify/contract.js';
import { NotificationDispatcher } from '../../src/notify/dispatch.js';
import { insertNotifications, NOTIFICATIONS } from '../../src/notify/store.js';
import { Templates } from '../../src/notify/templates.js';
import { apiOrderDelivery, recordOrder } from '../../src/orders/intake.js';
import { holdOrder } from '../../src/orders/status.js';
import { jobContext } from '../helpers/job-context.js';
import { interceptChannelHttp } from '../helpers/nock.js';
import { parseMetrics, sampleValue } from '../helpers/prometheus.js';
import { shopifyOrderBody } from '../helpers/shopify-webhook.js';
import { createStack, orderBody, seedCatalog, silentLog, type TestStack } from '../helpers/stack.js';

interceptChannelHttp();

const SHOP = 'https://metrics-shop.shopify.test';
const GRAPHQL = '/admin/api/2026-10/graphql.json';
const SECRET = 'metrics-webhook-secret';

const scrape = async () => parseMetrics(await registry.metrics());

/** The change of each named sample between two scrapes. */
const delta =
  (before: ReturnType<typeof parseMetrics>, after: ReturnType<typeof parseMetrics>) =>
  (name: string, labels: Record<string, string>) =>
    sampleValue(after, name, labels) - sampleValue(before, name, labels);

describe.each([
  ['MariaDB', false],
  ['SQLite', true],
] as const)('channel metrics on %s', (_name, sqlite) => {
  let stack: TestStack;
  let channelId: number;
  let key: string;

  beforeAll(async () => {
    stack = await createStack({ sqlite });
    await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['CM-1']);
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'opening',
      lines: [{ sku: 'CM-1', quantity: 40 }],
    });
    const channel = await stack.api('POST', '/api/channels', {
      type: 'shopify',
      name: 'Metrics shop',
      settings: {
        shopDomain: 'metrics-shop.myshopify.com',
        accessToken: 'shpat_metrics_token',
        webhookSecret: SECRET,
        apiBaseUrl: `${SHOP}/admin/api/2026-10`,
        locationId: 'gid://shopify/Location/77',
        plan: 'plus',
      },
    });
    expect(channel.status).toBe(201);
    channelId = channel.body.id;
    key = `shopify:${channelId}`;
    expect(
      (await stack.api('PUT', `/api/channels/${channelId}/skus/CM-1`, { inventoryItemId: '901' })).status,
    ).toBe(200);
    stack.startWorker(4);
  });

  afterAll(async () => {
    await stack?.close();
  });

  const deliver = (body: string, signature: string, eventId: string) =>
    stack.app.request(`/webhooks/${channelId}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': 'orders/create',
        'x-shopify-shop-domain': 'metrics-shop.myshopify.com',
        'x-shopify-event-id': eventId,
        'x-shopify-webhook-id': `wh-${eventId}`,
        'x-shopify-hmac-sha256': signature,
      },
      body,
    });

  it('counts a refused webhook signature, and a channel order received and processed', async () => {
    const before = await scrape();
    const body = shopifyOrderBody('5500000000000000101', [
      { sku: 'CM-1', variantId: '4400000000000000101', quantity: 3 },
    ]);
    const refused = await deliver(body, 'bm90IHRoZSBzaWduYXR1cmU=', 'evt-metrics-bad');
    expect(refused.status).toBe(401);
    const ok = await deliver(
      body,
      createHmac('sha256', SECRET).update(body).digest('base64'),
      'evt-metrics-1',
    );
    expect(ok.status).toBe(200);
    await stack.settle();
    const changed = delta(before, await scrape());
    expect(changed('stockbridge_webhook_verifications_failed_total', { channel: key })).toBe(1);
    expect(changed('stockbridge_orders_received_total', { channel: key, outcome: 'created' })).toBe(1);
    expect(changed('stockbridge_orders_processed_total', { channel: key, outcome: 'confirmed' })).toBe(1);
    expect(changed('stockbridge_order_processing_seconds_count', { channel: key })).toBe(1);
  });

  it('counts an order the worker gave up on (held after its last attempt) as processed on hold, once', async () => {
    const before = await scrape();
    // Stored, not queued: only the worker's give-up path below touches it.
    const order = orderBody('CM-HOLD-1', [{ sku: 'CM-1', quantity: 1 }]);
    const stored = await recordOrder(stack.db, apiOrderDelivery(order, JSON.stringify(order)));
    expect(stored.created).toBe(true);
    expect(await holdOrder(stack.db, stored.orderId, 'processing_failed', { message: 'gave up' })).toBe(true);
    expect(await holdOrder(stack.db, stored.orderId, 'processing_failed', { message: 'gave up' })).toBe(
      false,
    );
    const changed = delta(before, await scrape());
    expect(changed('stockbridge_orders_received_total', { channel: 'api', outcome: 'created' })).toBe(1);
    expect(changed('stockbridge_orders_processed_total', { channel: 'api', outcome: 'on_hold' })).toBe(1);
    expect(changed('stockbridge_orders_processed_total', { channel: 'api' })).toBe(1);
    expect(changed('stockbridge_orders_held_total', { channel: 'api', reason: 'processing_failed' })).toBe(1);
  });

  it('counts a stock push, its channel calls by status and the wait the channel asked for', async () => {
    await stack.channels.resync(channelId);
    nock(SHOP).post(GRAPHQL).reply(429, { errors: 'Throttled' }, { 'retry-after': '0' });
    nock(SHOP)
      .post(GRAPHQL)
      .reply(200, {
        data: {
          inventorySetQuantities: {
            inventoryAdjustmentGroup: { id: 'gid://shopify/InventoryAdjustmentGroup/1' },
            userErrors: [],
          },
        },
      });
    const before = await scrape();
    const summary = await stack.channels.push(channelId);
    expect(summary.accepted).toBe(1);
    const changed = delta(before, await scrape());
    expect(changed('stockbridge_stock_pushes_total', { channel: key, outcome: 'pushed' })).toBe(1);
    expect(changed('stockbridge_stock_push_seconds_count', { channel: key })).toBe(1);
    expect(changed('stockbridge_stock_push_skus_total', { channel: key, result: 'accepted' })).toBe(1);
    expect(changed('stockbridge_channel_http_requests_total', { channel: key, status: '429' })).toBe(1);
    expect(changed('stockbridge_channel_http_requests_total', { channel: key, status: '200' })).toBe(1);
    expect(changed('stockbridge_channel_http_request_seconds_count', { channel: key })).toBe(2);
    expect(changed('stockbridge_channel_throttle_waits_total', { channel: key, kind: 'retry_after' })).toBe(
      1,
    );
  });

  it('counts a push that finds nothing to do as pushed, and one of a disabled channel as skipped', async () => {
    const before = await scrape();
    await stack.channels.push(channelId);
    expect((await stack.api('PATCH', `/api/channels/${channelId}`, { enabled: false })).status).toBe(200);
    const skipped = await stack.channels.push(channelId);
    expect(skipped.skipped).toBe('channel_disabled');
    const changed = delta(before, await scrape());
    expect(changed('stockbridge_stock_pushes_total', { channel: key, outcome: 'pushed' })).toBe(1);
    expect(changed('stockbridge_stock_pushes_total', { channel: key, outcome: 'skipped' })).toBe(1);
    expect(changed('stockbridge_channel_http_requests_total', { channel: key })).toBe(0);
  });
});

describe('reconciliation findings and notification failures (SQLite)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await createStack({ sqlite: true });
    await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['RM-1']);
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'opening',
      lines: [{ sku: 'RM-1', quantity: 5 }],
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('counts a finding once, when a run first finds it, by channel and kind', async () => {
    // Stock changed behind the ledger's back: the internal checks find it.
    await stack.db('stock_levels').update({ on_hand: 9 });
    const ctx = () =>
      jobContext(stack.db, {
        period: '2026-11-20',
        periodStart: new Date('2026-11-20T00:00:00Z'),
        periodEnd: new Date('2026-11-21T00:00:00Z'),
      });
    const before = await scrape();
    await reconciliation.run(ctx());
    const once = await scrape();
    expect(
      delta(before, once)('stockbridge_reconciliation_findings_total', {
        channel: 'internal',
        kind: 'ledger.mismatch',
      }),
    ).toBe(1);
    // Found again the next run: the same finding, not counted again.
    await reconciliation.run(ctx());
    expect(
      delta(once, await scrape())('stockbridge_reconciliation_findings_total', {
        channel: 'internal',
        kind: 'ledger.mismatch',
      }),
    ).toBe(0);
  });

  it('counts failed attempts and notifications given up, by medium', async () => {
    let seq = 0;
    const aNotification = async () => {
      seq += 1;
      const [made] = await insertNotifications(
        stack.db,
        [
          {
            sourceKey: `metrics:${seq}`,
            ruleId: 1,
            event: 'job.failed',
            medium: 'email',
            recipient: `ops${seq}@shop.example`,
            orderId: null,
            customerId: null,
            language: 'en',
            timeZone: null,
            data: { jobName: 'nightly', message: 'boom' },
          },
        ],
        (key) => `<${key.replace(/[^a-z0-9]/gi, '')}@shop.example>`,
      );
      return made!.id;
    };
    const temporary = (): SendOutcome => ({
      state: 'failed',
      permanent: false,
      answer: '451 try again later',
    });
    const sender: NotificationSender = { medium: 'email', send: async () => temporary() };
    const dispatcher = new NotificationDispatcher({
      db: stack.db,
      log: silentLog,
      senders: new Map<NotificationMedium, NotificationSender>([['email', sender]]),
      templates: new Templates(null),
      outputDir: '/tmp',
      timeZone: 'UTC',
    });
    const retried = await aNotification();
    const old = await aNotification();
    await stack
      .db(NOTIFICATIONS)
      .where({ id: old })
      .update({ created_at: dbTime(new Date(Date.now() - 8 * 86_400_000)) });
    const before = await scrape();
    await dispatcher.dispatch({ notificationId: retried });
    await dispatcher.dispatch({ notificationId: old });
    const after = await scrape();
    const d = delta(before, after);
    expect(d('stockbridge_notification_failures_total', { medium: 'email', outcome: 'failed_attempt' })).toBe(
      1,
    );
    expect(d('stockbridge_notification_failures_total', { medium: 'email', outcome: 'given_up' })).toBe(1);
  });
});
