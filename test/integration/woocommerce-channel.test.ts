import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookOutcome } from '../helpers/applied-event.js';
import { checkInvariants } from '../helpers/invariants.js';
import { interceptChannelHttp } from '../helpers/nock.js';
import { createStack, seedCatalog, type TestStack } from '../helpers/stack.js';

interceptChannelHttp({ strict: true });

const SITE = 'https://woo.test';
const WEBHOOK_SECRET = 'woo-webhook-secret-e2e';
const CK = 'ck_e2e_0123456789abcdef0123456789abcdef0123';
const CS = 'cs_e2e_fedcba9876543210fedcba9876543210fedc';

const fixtureText = (name: string) =>
  readFileSync(new URL(`../fixtures/woocommerce/${name}`, import.meta.url), 'utf8');
const fixture = <T = any>(name: string): T => JSON.parse(fixtureText(name)) as T;

let stack: TestStack;
let channelId: number;
let key: string;

async function deliver(topic: string | null, body: string, headers: Record<string, string> = {}) {
  const h: Record<string, string> = { 'content-type': 'application/json', ...headers };
  if (topic) {
    h['x-wc-webhook-topic'] = topic;
    h['x-wc-webhook-resource'] = 'order';
    h['x-wc-webhook-event'] = topic.split('.')[1]!;
    h['x-wc-webhook-signature'] ??= createHmac('sha256', WEBHOOK_SECRET).update(body).digest('base64');
    h['x-wc-webhook-delivery-id'] ??= String(Math.floor(Math.random() * 1e9));
    h['x-wc-webhook-source'] = `${SITE}/`;
  }
  const res = await stack.app.request(`/webhooks/${channelId}`, { method: 'POST', headers: h, body });
  // Acknowledged at store time; what applying it did is read once the event worker has.
  return webhookOutcome(stack.db, res.status, (await res.json()) as Record<string, any>);
}

const orderCount = async () =>
  Number(((await stack.db('orders').where({ channel: key }).count({ n: '*' })) as { n: number }[])[0]!.n);

beforeAll(async () => {
  stack = await createStack();
  await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['CUP-ESP', 'GRINDER-BLK', 'SINGLE-1', 'THIRD']);
  await stack.api('POST', '/api/stock/receipts', {
    warehouse: 'main',
    reference: 'opening',
    lines: ['CUP-ESP', 'GRINDER-BLK', 'SINGLE-1', 'THIRD'].map((sku) => ({ sku, quantity: 50 })),
  });
  const created = await stack.api('POST', '/api/channels', {
    type: 'woocommerce',
    name: 'Woo shop',
    settings: {
      siteUrl: SITE,
      consumerKey: CK,
      consumerSecret: CS,
      webhookSecret: WEBHOOK_SECRET,
      pullIntervalSeconds: 3600,
      pullOverlapSeconds: 600,
      pullStartAt: '2026-10-25T01:00:00+02:00',
    },
  });
  expect(created.status).toBe(201);
  channelId = created.body.id;
  key = `woocommerce:${channelId}`;
  // The shop's orders below carry their own coupons: a promotion allows them (README "Promotions").
  const promotion = await stack.api('PUT', '/api/promotions/SHOP-DISCOUNTS', {
    name: 'The shop own discounts',
    kind: 'percent',
    percent: 100,
    appliesTo: 'order',
    channels: ['woocommerce'],
  });
  expect(promotion.status).toBe(201);
  stack.startWorker(4);
});

afterAll(async () => {
  await stack.close();
});

describe('WooCommerce channel (HTTP app, MariaDB, Redis, worker)', () => {
  it('answers the unsigned creation ping with 200 and stores nothing; refuses other unsigned bodies', async () => {
    const events = await stack.db('inbound_events').count({ n: '*' });
    const ping = await deliver(null, 'webhook_id=15', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(ping).toMatchObject({ status: 200, body: { status: 'ignored' } });
    const unsigned = await deliver(null, fixtureText('order-727.json'));
    expect(unsigned.status).toBe(401);
    expect(await stack.db('inbound_events').count({ n: '*' })).toEqual(events);
    expect(await orderCount()).toBe(0);
  });

  it('pulls across pages and a daylight-saving change, holding a bad order while the rest go on', async () => {
    const dst = fixture<any[]>('orders-dst-fall-back.json');
    const bad = fixture('order-bad-lines.json');
    // The bad order changed within the same window, as the pull sees it.
    bad.date_modified_gmt = '2026-10-25T01:20:00';
    bad.date_modified = '2026-10-25T02:20:00';
    bad.currency = 'EUR';
    const seen: Record<string, string>[] = [];
    const pages = (n: number) => ({ 'X-WP-Total': '5', 'X-WP-TotalPages': String(n) });
    nock(SITE)
      .get('/wp-json/wc/v3/orders')
      .query((q) => {
        seen.push(q as Record<string, string>);
        return true;
      })
      .basicAuth({ user: CK, pass: CS })
      .reply(200, [dst[0], dst[1], bad], pages(2))
      .get('/wp-json/wc/v3/orders')
      .query((q) => {
        seen.push(q as Record<string, string>);
        return true;
      })
      .reply(200, [dst[2], dst[3]], pages(2));

    const sync = await stack.api('POST', `/api/channels/${channelId}/sync`);
    expect(sync.status).toBe(200);
    expect(sync.body).toMatchObject({ pages: 2, orders: 5, outcomes: { created: 5 }, errors: [] });
    // The start (01:00 summer time in Berlin) is sent in GMT; the cursor is the latest GMT change.
    expect(seen.map((q) => [q.modified_after, q.dates_are_gmt, q.page])).toEqual([
      ['2026-10-24T22:59:59', 'true', '1'],
      ['2026-10-24T22:59:59', 'true', '2'],
    ]);
    expect(sync.body.cursorAfter).toBe('2026-10-25T02:05:00.000Z');

    await stack.settle();
    const rows = await stack.db('orders').where({ channel: key }).orderBy('external_id');
    expect(rows.map((r) => [r.external_id, r.status])).toEqual([
      ['5001', 'confirmed'],
      ['5002', 'confirmed'],
      ['5003', 'confirmed'],
      ['5004', 'confirmed'],
      ['730', 'on_hold'],
    ]);
    expect(rows.find((r) => r.external_id === '730')!.hold_reason).toBe('invalid_line');
    // Placed and updated times are stored in UTC.
    expect(rows[3].placed_at).toMatch(/^2026-10-25 01:59:00/);

    // The next pull starts from the cursor less the overlap and re-reads harmlessly: the same
    // version of an order read again is a duplicate delivery.
    nock(SITE)
      .get('/wp-json/wc/v3/orders')
      .query((q) => q.modified_after === '2026-10-25T01:54:59')
      .reply(200, [dst[3]], pages(1));
    const again = await stack.api('POST', `/api/channels/${channelId}/sync`);
    expect(again.body).toMatchObject({
      orders: 1,
      outcomes: { duplicate: 1 },
      cursorAfter: '2026-10-25T02:05:00.000Z',
    });
    expect(await orderCount()).toBe(5);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('applies signed webhooks: a re-delivery is a duplicate, a cancelling update releases the stock', async () => {
    const order = fixture('orders-dst-fall-back.json')[0];
    order.id = 6001;
    order.number = '6001';
    order.date_modified_gmt = '2026-11-24T10:00:00';
    const body = JSON.stringify(order);
    const created = await deliver('order.created', body, { 'x-wc-webhook-delivery-id': 'd-6001' });
    expect(created).toMatchObject({ status: 200, body: { status: 'created' } });
    const dup = await deliver('order.created', body, { 'x-wc-webhook-delivery-id': 'd-6001' });
    expect(dup.body.status).toBe('duplicate');
    const forged = await deliver('order.created', body, { 'x-wc-webhook-signature': 'AAAA' });
    expect(forged.status).toBe(401);
    await stack.settle();
    const before = (await stack.api('GET', '/api/stock/CUP-ESP')).body.reserved;

    const cancelled = { ...order, status: 'cancelled', date_modified_gmt: '2026-11-24T10:30:00' };
    const res = await deliver('order.updated', JSON.stringify(cancelled));
    expect(res.body.status).toBe('cancelled');
    expect((await stack.api('GET', '/api/stock/CUP-ESP')).body.reserved).toBe(before - 3);
    const detail = (await stack.api('GET', `/api/orders/${created.body.orderId}`)).body;
    expect(detail.status).toBe('cancelled');
    // Trashing it afterwards changes nothing more.
    const trashed = await deliver('order.deleted', JSON.stringify({ id: 6001 }));
    expect(trashed.body.status).toBe('unchanged');
    expect(await checkInvariants(stack.db)).toEqual([]);
  });
});
