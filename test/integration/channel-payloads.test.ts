import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookOutcome } from '../helpers/applied-event.js';
import { checkInvariants } from '../helpers/invariants.js';
import { interceptChannelHttp } from '../helpers/nock.js';
import { createStack, seedCatalog, type TestStack } from '../helpers/stack.js';

interceptChannelHttp({ strict: true });

/**
 * What the channels' own payloads say about an order's lines and state, applied through the real
 * webhook route (signed bodies, the event worker, the order lifecycle), on both databases. The
 * payloads are the channels' documented ones (see each fixture's source below).
 */

const SHOPIFY_SECRET = 'payloads-shopify-secret';
const WOO_SECRET = 'payloads-woo-secret';

const fixtureText = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');

/**
 * Shopify's documented REST order #1001 (450789469) after a partial refund, as the Admin API
 * 2026-07 returns it (Shopify/shopify-app-js, rest/admin/__tests__/2026-07/order.test.ts):
 * three lines of `quantity` 1; IPOD2008GREEN and IPOD2008BLACK refunded (`current_quantity` 0),
 * IPOD2008RED still ordered (`current_quantity` 1).
 */
const SHOPIFY_REFUNDED = 'shopify/order-450789469-partially-refunded.json';

/**
 * WooCommerce's documented order 727 (woocommerce-rest-api-docs, wp-api-v3 `_orders.md`): line
 * 315 (product 93, no SKU) × 2 and line 316 (`Bar3`) × 1, `processing`.
 */
const WOO_727 = 'woocommerce/order-727.json';

/**
 * WooCommerce's documented order 723 (`_orders.md`, as its webhook body): line 311 (product 87) × 1
 * and line 313 (product 34) × 1, with refunds 726 and 724 listed by amount only; and the same
 * order's refunds as `GET orders/723/refunds` documents them (`_order-refunds.md`): 724 refunds one
 * unit of line 311 (`quantity` -1, `_refunded_item_id` 311), 726 an amount only.
 */
const WOO_723 = 'woocommerce/order-723-webhook-body.txt';
const WOO_723_REFUNDS = 'woocommerce/order-723-refunds.json';

describe.each([
  ['MariaDB', false],
  ['SQLite', true],
])('channel payloads on %s', (_name, sqlite) => {
  let stack: TestStack;
  let shopifyId: number;
  let wooId: number;

  async function post(channelId: number, headers: Record<string, string>, body: string) {
    const res = await stack.app.request(`/webhooks/${channelId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  }

  async function shopify(topic: string, body: string, eventId: string) {
    const res = await post(
      shopifyId,
      {
        'x-shopify-topic': topic,
        'x-shopify-shop-domain': 'payloads.myshopify.com',
        'x-shopify-event-id': eventId,
        'x-shopify-hmac-sha256': createHmac('sha256', SHOPIFY_SECRET).update(body).digest('base64'),
      },
      body,
    );
    return webhookOutcome(stack.db, res.status, res.body);
  }

  /** A WooCommerce delivery as WooCommerce sends it; the answer as received (not waited for). */
  function woo(topic: string, body: string, deliveryId: string) {
    return post(
      wooId,
      {
        'x-wc-webhook-source': 'https://woo.payloads.test/',
        'x-wc-webhook-topic': topic,
        'x-wc-webhook-resource': 'order',
        'x-wc-webhook-event': topic.split('.')[1]!,
        'x-wc-webhook-id': '31',
        'x-wc-webhook-delivery-id': deliveryId,
        'x-wc-webhook-signature': createHmac('sha256', WOO_SECRET).update(body).digest('base64'),
      },
      body,
    );
  }

  const wooApplied = async (topic: string, body: string, deliveryId: string) => {
    const res = await woo(topic, body, deliveryId);
    return webhookOutcome(stack.db, res.status, res.body);
  };

  async function orderOf(channel: string, externalId: string) {
    const row = await stack.db('orders').where({ channel, external_id: externalId }).first('id');
    expect(row, `order ${channel} ${externalId}`).toBeTruthy();
    return (await stack.api('GET', `/api/orders/${row.id}`)).body;
  }

  const reserved = async (sku: string) => Number((await stack.api('GET', `/api/stock/${sku}`)).body.reserved);

  /** What the stock ledger says an order holds per SKU (sum of its reservation movements). */
  async function ledgerOf(orderId: number): Promise<Record<string, number>> {
    const rows = (await stack
      .db('stock_movements as m')
      .join('skus as s', 's.id', 'm.sku_id')
      .where({ 'm.ref_type': 'order', 'm.ref_id': String(orderId) })
      .groupBy('s.code')
      .select('s.code')
      .sum({ held: 'm.d_reserved' })) as { code: string; held: number | string }[];
    return Object.fromEntries(rows.map((r) => [r.code, Number(r.held)]));
  }

  beforeAll(async () => {
    stack = await createStack({ sqlite });
    const skus = ['IPOD2008GREEN', 'IPOD2008RED', 'IPOD2008BLACK', 'WOO-93', 'Bar3', 'WOO-87', 'WOO-34'];
    await seedCatalog(stack, [{ code: 'main', priority: 1 }], skus);
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'opening',
      lines: skus.map((sku) => ({ sku, quantity: 20 })),
    });
    const s = await stack.api('POST', '/api/channels', {
      type: 'shopify',
      name: 'Payloads shop',
      settings: {
        shopDomain: 'payloads.myshopify.com',
        accessToken: 'shpat_payloads_0123456789',
        webhookSecret: SHOPIFY_SECRET,
        apiBaseUrl: 'https://shopify.payloads.test/admin/api/2026-10',
        pullIntervalSeconds: 3600,
      },
    });
    expect(s.status).toBe(201);
    shopifyId = s.body.id;
    const w = await stack.api('POST', '/api/channels', {
      type: 'woocommerce',
      name: 'Payloads Woo',
      settings: {
        siteUrl: 'https://woo.payloads.test',
        consumerKey: 'ck_payloads',
        consumerSecret: 'cs_payloads',
        webhookSecret: WOO_SECRET,
        pullIntervalSeconds: 3600,
      },
    });
    expect(w.status).toBe(201);
    wooId = w.body.id;
    for (const [sku, productId] of [
      ['WOO-93', '93'],
      ['WOO-87', '87'],
      ['WOO-34', '34'],
    ] as const) {
      const m = await stack.api('PUT', `/api/channels/${wooId}/skus/${sku}`, { productId });
      expect(m.status).toBe(200);
    }
    // The shops' orders below carry their own discounts: a promotion allows them (README "Promotions").
    const promotion = await stack.api('PUT', '/api/promotions/SHOP-DISCOUNTS', {
      name: 'The shops own discounts',
      kind: 'percent',
      percent: 100,
      appliesTo: 'order',
      channels: ['shopify', 'woocommerce'],
    });
    expect(promotion.status).toBe(201);
    stack.startWorker(2);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('Shopify: a refund leaves only the current quantities; the refunded lines give their stock back', async () => {
    const refunded = fixtureText(SHOPIFY_REFUNDED);
    // The same order as it was created: nothing refunded yet, every unit current (as in Shopify's
    // orders/create sample, where `current_quantity` equals `quantity` and `refunds` is empty).
    const asCreated = JSON.parse(refunded);
    asCreated.updated_at = asCreated.created_at;
    asCreated.financial_status = 'paid';
    asCreated.refunds = [];
    for (const line of asCreated.line_items) line.current_quantity = line.quantity;

    const before = {
      green: await reserved('IPOD2008GREEN'),
      red: await reserved('IPOD2008RED'),
      black: await reserved('IPOD2008BLACK'),
    };
    const created = await shopify('orders/create', JSON.stringify(asCreated), 'evt-450789469-create');
    expect(created.body.status).toBe('created');
    await stack.settle();
    expect(await ledgerOf(created.body.orderId)).toEqual({
      IPOD2008GREEN: 1,
      IPOD2008RED: 1,
      IPOD2008BLACK: 1,
    });

    // The refund reaches us as orders/updated with Shopify's documented body, unchanged.
    const updated = await shopify('orders/updated', refunded, 'evt-450789469-refund');
    expect(updated.body.status).toBe('updated');
    const order = await orderOf(`shopify:${shopifyId}`, '450789469');
    expect(order.status).toBe('confirmed');
    expect(order.lines.map((l: any) => [l.sku, l.ordered, l.reserved])).toEqual([['IPOD2008RED', 1, 1]]);
    expect({
      green: await reserved('IPOD2008GREEN'),
      red: await reserved('IPOD2008RED'),
      black: await reserved('IPOD2008BLACK'),
    }).toEqual({ green: before.green, red: before.red + 1, black: before.black });
    // The ledger shows the release: what the order still holds is the one current unit.
    expect(await ledgerOf(order.id)).toEqual({ IPOD2008GREEN: 0, IPOD2008RED: 1, IPOD2008BLACK: 0 });
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('WooCommerce: a partial refund takes the refunded units off their lines and gives their stock back', async () => {
    const refundedBody = fixtureText(WOO_723);
    // The same order as it was placed: nothing refunded yet.
    const asPlaced = JSON.parse(refundedBody);
    asPlaced.status = 'processing';
    asPlaced.refunds = [];
    asPlaced.date_modified_gmt = asPlaced.date_created_gmt;
    const created = await wooApplied('order.created', JSON.stringify(asPlaced), 'woo-723-created');
    expect(created.body.status).toBe('created');
    await stack.settle();
    expect(await ledgerOf(created.body.orderId)).toEqual({ 'WOO-87': 1, 'WOO-34': 1 });
    const album = await reserved('WOO-87');

    // The refund fires order.updated with the order's own JSON, which lists refunds by amount; the
    // units refunded per line are read from the site.
    const refunds = nock('https://woo.payloads.test')
      .get('/wp-json/wc/v3/orders/723/refunds')
      .query({ per_page: '100', page: '1' })
      .basicAuth({ user: 'ck_payloads', pass: 'cs_payloads' })
      .reply(200, fixtureText(WOO_723_REFUNDS), { 'content-type': 'application/json' });
    const updated = await wooApplied('order.updated', refundedBody, 'woo-723-refund');
    expect(updated.body.status).toBe('updated');
    expect(refunds.isDone()).toBe(true);
    const order = await orderOf(`woocommerce:${wooId}`, '723');
    expect(order.status).toBe('confirmed');
    expect(order.lines.map((l: any) => [l.sku, l.ordered, l.reserved])).toEqual([['WOO-34', 1, 1]]);
    expect(await reserved('WOO-87')).toBe(album - 1);
    expect(await ledgerOf(order.id)).toEqual({ 'WOO-87': 0, 'WOO-34': 1 });
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('WooCommerce: a failed payment is not a cancellation; paid afterwards, the order keeps its stock', async () => {
    const order = JSON.parse(fixtureText(WOO_727));
    const failed = { ...order, status: 'failed' };
    const first = await wooApplied('order.created', JSON.stringify(failed), 'woo-727-created');
    expect(first.body.status).toBe('created');
    await stack.settle();
    const held = await orderOf(`woocommerce:${wooId}`, '727');
    expect(held.status).toBe('confirmed');

    const paid = { ...order, status: 'processing', date_modified_gmt: '2017-03-22T19:40:00' };
    const second = await wooApplied('order.updated', JSON.stringify(paid), 'woo-727-paid');
    expect(second.body.status).not.toBe('stale');
    await stack.settle();
    const after = await orderOf(`woocommerce:${wooId}`, '727');
    expect(after.status).toBe('confirmed');
    expect(after.lines.map((l: any) => [l.sku, l.ordered, l.reserved])).toEqual([
      ['WOO-93', 2, 2],
      ['Bar3', 1, 1],
    ]);
    expect(await ledgerOf(after.id)).toEqual({ 'WOO-93': 2, Bar3: 1 });
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('WooCommerce: a pull that reads a second change made in the same second applies it', async () => {
    const order = JSON.parse(fixtureText(WOO_727));
    order.id = 7271;
    order.number = '7271';
    order.date_modified_gmt = '2017-03-22T19:45:00';
    const sameSecond = {
      ...order,
      line_items: order.line_items.filter((l: { sku: string }) => l.sku !== 'Bar3'),
    };
    const list = (body: unknown) =>
      nock('https://woo.payloads.test')
        .get('/wp-json/wc/v3/orders')
        .query(true)
        .reply(200, JSON.stringify([body]), {
          'content-type': 'application/json',
          'x-wp-total': '1',
          'x-wp-totalpages': '1',
        });

    list(order);
    const first = await stack.api('POST', `/api/channels/${wooId}/sync`);
    expect(first.body).toMatchObject({ orders: 1, outcomes: { created: 1 }, errors: [] });
    await stack.settle();
    list(sameSecond);
    const second = await stack.api('POST', `/api/channels/${wooId}/sync`);
    expect(second.body).toMatchObject({ orders: 1, outcomes: { updated: 1 }, errors: [] });
    list(sameSecond);
    const again = await stack.api('POST', `/api/channels/${wooId}/sync`);
    expect(again.body).toMatchObject({ orders: 1, outcomes: { duplicate: 1 }, errors: [] });
    await stack.settle();
    const pulled = await orderOf(`woocommerce:${wooId}`, '7271');
    expect(pulled.lines.map((l: any) => [l.sku, l.ordered, l.reserved])).toEqual([['WOO-93', 2, 2]]);
    expect(await ledgerOf(pulled.id)).toEqual({ 'WOO-93': 2, Bar3: 0 });
  });

  it('WooCommerce: two changes in one second are two deliveries and two versions; a repeat is a duplicate', async () => {
    const order = JSON.parse(fixtureText(WOO_727));
    order.id = 7270;
    order.number = '7270';
    const created = await wooApplied('order.created', JSON.stringify(order), 'woo-7270-created');
    expect(created.body.status).toBe('created');
    await stack.settle();
    const before = await reserved('Bar3');

    // Within one second the order is put on hold, its Bar3 line removed, then it is cancelled:
    // every delivery carries the same X-WC-Webhook-Delivery-ID (webhook id + the second) and the
    // same date_modified_gmt.
    const sameSecond = '2017-03-22T19:30:00';
    const onHold = JSON.stringify({ ...order, date_modified_gmt: sameSecond, status: 'on-hold' });
    const edited = JSON.stringify({
      ...order,
      date_modified_gmt: sameSecond,
      status: 'on-hold',
      line_items: order.line_items.filter((l: { sku: string }) => l.sku !== 'Bar3'),
    });
    const cancelled = JSON.stringify({ ...order, date_modified_gmt: sameSecond, status: 'cancelled' });
    const answers: Record<string, any>[] = [];
    const outcomes: string[] = [];
    for (const body of [onHold, edited]) {
      const res = await woo('order.updated', body, 'same-second-hash');
      answers.push(res.body);
      outcomes.push((await webhookOutcome(stack.db, res.status, res.body)).body.status);
    }
    expect(answers.map((x) => x.status)).toEqual(['accepted', 'accepted']);
    expect(new Set(answers.map((x) => x.eventId)).size).toBe(2);
    // The first changes no line; the second, of the same second, is a new version and applied.
    expect(outcomes).toEqual(['unchanged', 'updated']);
    expect(await reserved('Bar3')).toBe(before - 1);
    const edit = await orderOf(`woocommerce:${wooId}`, '7270');
    expect(edit.lines.map((l: any) => [l.sku, l.ordered, l.reserved])).toEqual([['WOO-93', 2, 2]]);

    const c = await woo('order.updated', cancelled, 'same-second-hash');
    expect(c.body.status).toBe('accepted');
    expect((await webhookOutcome(stack.db, c.status, c.body)).body.status).toBe('cancelled');
    expect((await orderOf(`woocommerce:${wooId}`, '7270')).status).toBe('cancelled');

    // WooCommerce re-sending the very same body in that second is one delivery: a duplicate.
    const again = await woo('order.updated', cancelled, 'same-second-hash');
    expect(again.body).toEqual({ status: 'duplicate', eventId: c.body.eventId });
    expect(await checkInvariants(stack.db)).toEqual([]);
  });
});
