import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORM_TYPE, logIn, setCookieOf } from '../../helpers/auth.js';
import { interceptChannelHttp } from '../../helpers/nock.js';
import { shopifyOrderBody } from '../../helpers/shopify-webhook.js';
import { createStack, seedCatalog, type TestStack } from '../../helpers/stack.js';

/** The console's inbound events: filters, paging, the payload, replay. No event worker runs: events stay pending until replayed. */
interceptChannelHttp();

const SECRET = 'events-webhook-secret-1234';
const PASSWORD = 'correct horse battery';

let stack: TestStack;
let channelId: number;
let operator: { cookie: string; csrf: string };
let viewer: { cookie: string; csrf: string };
const signatures: string[] = [];
let seq = 0;

const get = (b: { cookie: string }, path: string, lang = 'en') =>
  stack.app.request(path, { headers: { cookie: b.cookie, 'accept-language': lang } });

const post = (b: { cookie: string; csrf: string }, path: string) =>
  stack.app.request(path, {
    method: 'POST',
    headers: { cookie: b.cookie, 'content-type': FORM_TYPE, 'accept-language': 'en' },
    body: new URLSearchParams({ _csrf: b.csrf }).toString(),
  });

async function webhook(topic: string, body: string) {
  const signature = createHmac('sha256', SECRET).update(body).digest('base64');
  signatures.push(signature);
  const res = await stack.app.request(`/webhooks/${channelId}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-shop-domain': 'events-shop.myshopify.com',
      'x-shopify-event-id': `events-evt-${++seq}`,
      'x-shopify-webhook-id': `events-wh-${seq}`,
      'x-shopify-hmac-sha256': signature,
    },
    body,
  });
  expect(res.status).toBe(200);
  const row = await stack
    .db('inbound_events')
    .where({ delivery_id: `events-evt-${seq}` })
    .first();
  return Number(row.id);
}

const idsOf = (html: string) =>
  [...html.matchAll(/href="\/console\/inbound-events\/(\d+)"/g)].map((m) => Number(m[1]));

let good: number;
let cancel: number;
let broken: number;

beforeAll(async () => {
  stack = await createStack();
  await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['TEE-S']);
  await stack.api('POST', '/api/stock/receipts', {
    warehouse: 'main',
    reference: 'opening',
    lines: [{ sku: 'TEE-S', quantity: 10 }],
  });
  const created = await stack.api('POST', '/api/channels', {
    type: 'shopify',
    name: 'Events shop',
    settings: {
      shopDomain: 'events-shop.myshopify.com',
      accessToken: 'shpat_events_0123456789',
      webhookSecret: SECRET,
      apiBaseUrl: 'https://events-shop.shopify.test/admin/api/2026-10',
    },
  });
  channelId = created.body.id;
  for (const [email, role, ip] of [
    ['ops-events@example.com', 'operator', '203.0.113.31'],
    ['viewer-events@example.com', 'viewer', '203.0.113.32'],
  ] as const) {
    expect((await stack.api('POST', '/api/users', { email, role, password: PASSWORD })).status).toBe(201);
    const session = await logIn(stack.app, email, PASSWORD, ip);
    if (role === 'operator') operator = session;
    else viewer = session;
  }
  good = await webhook(
    'orders/create',
    shopifyOrderBody('5900000000000000001', [
      { sku: 'TEE-S', variantId: '4400000000000000001', quantity: 1 },
    ]),
  );
  cancel = await webhook(
    'orders/cancelled',
    shopifyOrderBody(
      '5900000000000000002',
      [{ sku: 'TEE-S', variantId: '4400000000000000001', quantity: 1 }],
      {
        cancelledAt: '2026-11-20T11:00:00Z',
      },
    ),
  );
  broken = await webhook('orders/updated', '{"id":5900000000000000003,"line_items":"nonsense"}');
});

afterAll(async () => {
  await stack?.close();
});

describe('the inbound events list', () => {
  it('lists the stored events newest first, filtered by channel, topic, state and received date', async () => {
    const all = await get(operator, '/console/inbound-events');
    expect(all.status).toBe(200);
    const html = await all.text();
    expect(html).toContain('<h1>Inbound events</h1>');
    expect(idsOf(html)).toEqual([broken, cancel, good]);
    expect(html).toContain('Events shop (shopify:');

    const key = encodeURIComponent(`shopify:${channelId}`);
    expect(idsOf(await (await get(operator, `/console/inbound-events?channel=${key}`)).text())).toEqual([
      broken,
      cancel,
      good,
    ]);
    expect(idsOf(await (await get(operator, '/console/inbound-events?channel=api')).text())).toEqual([]);
    expect(
      idsOf(
        await (
          await get(operator, `/console/inbound-events?topic=${encodeURIComponent('orders/create')}`)
        ).text(),
      ),
    ).toEqual([good]);
    expect(idsOf(await (await get(operator, '/console/inbound-events?status=pending')).text())).toEqual([
      broken,
      cancel,
      good,
    ]);
    expect(idsOf(await (await get(operator, '/console/inbound-events?status=processed')).text())).toEqual([]);

    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    expect(
      idsOf(
        await (
          await get(operator, `/console/inbound-events?receivedFrom=${today}&receivedTo=${today}`)
        ).text(),
      ),
    ).toHaveLength(3);
    expect(
      idsOf(await (await get(operator, `/console/inbound-events?receivedFrom=${tomorrow}`)).text()),
    ).toEqual([]);
    expect(
      idsOf(await (await get(operator, `/console/inbound-events?receivedTo=${yesterday}`)).text()),
    ).toEqual([]);

    const zh = await (await get(operator, '/console/inbound-events', 'zh-CN')).text();
    expect(zh).toContain('<h1>入站事件</h1>');
    expect(zh).toContain('待处理');
  });

  it('pages with a cursor, keeping the filters', async () => {
    const first = await (await get(operator, '/console/inbound-events?limit=2&status=pending')).text();
    expect(idsOf(first)).toEqual([broken, cancel]);
    const next = /href="([^"]+)" rel="next"/.exec(first)?.[1]?.replace(/&amp;/g, '&');
    expect(next).toContain('status=pending');
    expect(idsOf(await (await get(operator, next!)).text())).toEqual([good]);
  });

  it('answers a bad filter with the error beside its field', async () => {
    const res = await get(operator, '/console/inbound-events?receivedFrom=2026-13-45&status=lost');
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toMatch(
      /id="f-receivedFrom"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="f-receivedFrom"/,
    );
    expect(html).toContain('f-status-error');
  });
});

describe('an inbound event', () => {
  it('shows its raw payload pretty-printed, big ids exact, and never a signature', async () => {
    const res = await get(operator, `/console/inbound-events/${good}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(`<h1>Inbound event ${good}</h1>`);
    expect(html).toMatch(/<pre tabindex="0">\{\n {2}&quot;id&quot;: 5900000000000000001,\n/);
    expect(html).toContain('orders/create');
    for (const signature of signatures) expect(html).not.toContain(signature);
    expect(html).not.toContain(SECRET);
    expect(html).toContain('Replay event');
    expect((await get(operator, '/console/inbound-events/987654')).status).toBe(404);
  });

  it('replays an event through the same function as the API, and shows its new state', async () => {
    const res = await post(operator, `/console/inbound-events/${good}/replay`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/console/inbound-events/${good}`);
    const event = await stack.db('inbound_events').where({ id: good }).first();
    expect(event.processed_at).not.toBeNull();
    const order = await stack
      .db('orders')
      .where({ channel: `shopify:${channelId}`, external_id: '5900000000000000001' })
      .first();
    expect(event.order_id).toBe(order.id);
    const flash = setCookieOf(res, 'stockbridge_flash');
    expect(flash).not.toBeNull();
    const page = await (
      await stack.app.request(`/console/inbound-events/${good}`, {
        headers: { cookie: `${operator.cookie}; ${flash}`, 'accept-language': 'en' },
      })
    ).text();
    expect(page).toContain('Replayed: created');
    expect(page).toContain('Applied');
    expect(page).toContain(`href="/console/orders/${order.id}"`);
    const audit = await stack.db('audit_log').where('operation', 'consoleReplayInboundEvent').first();
    expect(audit).toMatchObject({
      actor: 'ops-events@example.com',
      entity: 'inbound_event',
      entity_id: String(good),
    });
    expect(idsOf(await (await get(operator, '/console/inbound-events?status=processed')).text())).toEqual([
      good,
    ]);
  });

  it('parks an event whose payload cannot be read, and lists it as parked', async () => {
    const res = await post(operator, `/console/inbound-events/${broken}/replay`);
    expect(res.status).toBe(303);
    const row = await stack.db('inbound_events').where({ id: broken }).first();
    expect(row.processed_at).toBeNull();
    expect(row.error).not.toBeNull();
    const parked = await (await get(operator, '/console/inbound-events?status=parked')).text();
    expect(idsOf(parked)).toEqual([broken]);
    expect(parked).toContain('Parked (needs a person)');
    expect(idsOf(await (await get(operator, '/console/inbound-events?status=failed')).text())).toEqual([
      broken,
    ]);
    // The API takes the same filters (one list function for both).
    const today = new Date().toISOString().slice(0, 10);
    const api = await stack.api(
      'GET',
      `/api/inbound-events?status=parked&topic=${encodeURIComponent('orders/updated')}&receivedFrom=${today}&receivedTo=${today}`,
    );
    expect(api.status).toBe(200);
    expect(api.body.items.map((e: { id: number }) => e.id)).toEqual([broken]);
    expect((await stack.api('GET', '/api/inbound-events?receivedFrom=2026-02-30')).status).toBe(400);
  });

  it('shows a viewer no replay button, and refuses their replay', async () => {
    const html = await (await get(viewer, `/console/inbound-events/${cancel}`)).text();
    expect(html).toContain(`Inbound event ${cancel}`);
    expect(html).not.toContain('Replay event');
    expect((await post(viewer, `/console/inbound-events/${cancel}/replay`)).status).toBe(403);
    expect((await stack.db('inbound_events').where({ id: cancel }).first()).processed_at).toBeNull();
  });
});
