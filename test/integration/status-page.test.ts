import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggedPath } from '../../src/http/middleware.js';
import {
  makeStatusToken,
  STATUS_TOKEN_LENGTH,
  statusLinkFor,
  statusTokenKey,
} from '../../src/notify/status-token.js';
import { block, waitForLockWaits } from '../helpers/interleave.js';
import { createStack, jsonOrText, orderBody, type TestStack } from '../helpers/stack.js';
import { orderForStatusPage, SF_NUMBER, type StatusPageOrder, UPS_NUMBER } from '../helpers/status-order.js';

describe('the status page over HTTP', () => {
  let stack: TestStack;
  let order: StatusPageOrder;
  let ip = 0;
  /** A client address of its own per call site, so that the failure limit of one test does not touch another. */
  const newClient = () => `198.51.100.${++ip}`;

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await stack.app.request(path, { headers: { 'x-forwarded-for': newClient(), ...headers } });
    return { status: res.status, headers: res.headers, body: await jsonOrText(res) };
  };

  beforeAll(async () => {
    stack = await createStack();
    stack.startWorker(2);
    order = await orderForStatusPage(stack, 'WEB-7001');
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('gives the admin a link whose token is self-locating, never stored, and rebuilt the same', async () => {
    expect(order.url).toMatch(/^https:\/\/stockbridge\.example\.com\/status\/[A-Za-z0-9_-]+$/);
    const token = order.path.split('/')[2]!;
    expect(token).toHaveLength(STATUS_TOKEN_LENGTH);
    const again = await stack.api('GET', `/api/orders/${order.orderId}/status-link`);
    expect(again.body.url).toBe(order.url);
    const row = await stack.db('orders').where({ id: order.orderId }).first('status_nonce');
    expect(row.status_nonce).toEqual(expect.any(String));
    // The nonce alone does not make the token: the key is needed.
    expect(token).not.toContain(row.status_nonce);
    expect(makeStatusToken(statusTokenKey(stack.secretKey), order.orderId, row.status_nonce)).toBe(token);
    // Nor does the request log keep it.
    expect(loggedPath(order.path)).toBe('/status/[redacted]');
    expect((await stack.api('GET', '/api/orders/999999/status-link')).status).toBe(404);
    expect((await stack.api('GET', '/api/orders/abc/status-link')).status).toBe(400);
    expect(
      (await stack.api('GET', `/api/orders/${order.orderId}/status-link`, undefined, { token: null })).status,
    ).toBe(401);
  });

  it("shows the order in the customer's language, with the headers that keep the link private", async () => {
    const zh = await get(order.path);
    expect(zh.status).toBe(200);
    expect(zh.headers.get('content-type')).toMatch(/^text\/html/);
    expect(zh.headers.get('cache-control')).toBe('no-store');
    expect(zh.headers.get('referrer-policy')).toBe('no-referrer');
    expect(zh.headers.get('x-robots-tag')).toMatch(/noindex/);
    expect(zh.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const html = String(zh.body);
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain('name="viewport"');
    expect(html).toContain('部分发货');
    expect(html).toContain('WEB-7001');
    expect(html).toContain('顺丰速运');
    expect(html).toContain(SF_NUMBER);
    expect(html).toContain(UPS_NUMBER);
    expect(html).toContain(`https://www.sf-express.com/chn/sc/waybill/waybill-detail/${SF_NUMBER}`);
    expect(html).toContain(`https://www.ups.com/track?tracknum=${UPS_NUMBER}`);
    expect(html).toContain('缺货待补');
    expect(html).toContain('Clay teapot');

    const en = await get(`${order.path}?lang=en`);
    expect(en.status).toBe(200);
    const enHtml = String(en.body);
    expect(enHtml).toContain('<html lang="en">');
    expect(enHtml).toContain('Partly shipped');
    expect(enHtml).toContain('SF Express');
    expect(enHtml).toContain('Waiting for stock');
    expect(enHtml).not.toContain('部分发货');

    const bad = await get(`${order.path}?lang=fr`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_parameter');
  });

  it('gives the same as JSON for apps, with no ids, prices or staff notes', async () => {
    const r = await get(order.path, { accept: 'application/json' });
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.body).toMatchObject({
      language: 'zh-CN',
      orderNumber: 'WEB-7001',
      status: { code: 'partially_shipped', label: '部分发货' },
      lines: [
        { lineNo: 1, sku: 'TEA', ordered: 2, shipped: 2, backordered: 0, state: 'shipped' },
        { lineNo: 2, sku: 'CUP', ordered: 3, shipped: 3, state: 'shipped' },
        {
          lineNo: 3,
          sku: 'POT',
          name: 'Clay teapot',
          ordered: 4,
          ready: 1,
          backordered: 3,
          state: 'backordered',
        },
      ],
      backordered: [{ sku: 'POT', ordered: 4, waiting: 3, state: 'partly_available' }],
      shipments: [
        {
          carrier: 'sf',
          carrierName: '顺丰速运',
          trackingNumber: SF_NUMBER,
          trackingUrl: `https://www.sf-express.com/chn/sc/waybill/waybill-detail/${SF_NUMBER}`,
          lines: [{ sku: 'TEA', quantity: 2 }],
        },
        {
          carrier: 'ups',
          trackingNumber: UPS_NUMBER,
          trackingUrl: `https://www.ups.com/track?tracknum=${UPS_NUMBER}`,
          lines: [{ sku: 'CUP', quantity: 3 }],
        },
      ],
    });
    expect(r.body.timeline.map((e: { status: string }) => e.status)).toEqual([
      'received',
      'backordered',
      'partially_shipped',
    ]);
    const keys = new Set<string>();
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) {
          keys.add(k);
          walk(x);
        }
    };
    walk(r.body);
    for (const hidden of [
      'id',
      'orderId',
      'unitPrice',
      'price',
      'amount',
      'totalAmount',
      'currency',
      'customer',
      'contact',
      'email',
      'warehouse',
      'channel',
      'reason',
      'actor',
      'holdReason',
    ])
      expect(keys.has(hidden), hidden).toBe(false);
    expect(JSON.stringify(r.body)).not.toContain('example.com');
    // The English labels on request.
    const en = await get(`${order.path}?lang=en`, { accept: 'application/json' });
    expect(en.body.status.label).toBe('Partly shipped');
    expect(en.body.shipments[0].carrierName).toBe('SF Express');
  });

  it('answers every wrong link 404 with one and the same body', async () => {
    const token = order.path.split('/')[2]!;
    const raw = Buffer.from(token, 'base64url');
    raw[raw.length - 1] = raw[raw.length - 1]! ^ 0x40;
    const tampered = raw.toString('base64url');
    const otherOrder = Buffer.from(token, 'base64url');
    otherOrder.writeBigUInt64BE(BigInt(order.orderId + 1000), 1);
    // An order that exists but never had a link.
    const bare = await stack.api('POST', '/api/orders', orderBody('WEB-7002', [{ sku: 'TEA', quantity: 1 }]));
    const forged = makeStatusToken(statusTokenKey(stack.secretKey), bare.body.id, 'guessed-nonce');
    const wrong = [
      'nonsense',
      'A'.repeat(STATUS_TOKEN_LENGTH),
      tampered,
      otherOrder.toString('base64url'),
      forged,
    ];
    const pages = await Promise.all(wrong.map((t) => get(`/status/${t}`)));
    const jsons = await Promise.all(wrong.map((t) => get(`/status/${t}`, { accept: 'application/json' })));
    for (const p of pages) {
      expect(p.status).toBe(404);
      expect(p.headers.get('cache-control')).toBe('no-store');
      expect(p.headers.get('referrer-policy')).toBe('no-referrer');
      expect(p.headers.get('x-robots-tag')).toMatch(/noindex/);
      expect(p.body).toBe(pages[0]!.body);
    }
    expect(String(pages[0]!.body)).toContain('页面不存在');
    expect(String(pages[0]!.body)).toContain('Page not found');
    for (const j of jsons) {
      expect(j.status).toBe(404);
      expect(j.body).toEqual(jsons[0]!.body);
    }
    expect(jsons[0]!.body.error.code).toBe('not_found');
  });

  it('revokes a link: the old one answers 404, the new one works', async () => {
    const revoked = await stack.api('POST', `/api/orders/${order.orderId}/status-link/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.url).not.toBe(order.url);
    const newPath = new URL(revoked.body.url).pathname;
    expect((await get(order.path)).status).toBe(404);
    expect((await get(newPath)).status).toBe(200);
    expect((await stack.api('GET', `/api/orders/${order.orderId}/status-link`)).body.url).toBe(
      revoked.body.url,
    );
    expect((await stack.api('POST', '/api/orders/999999/status-link/revoke')).status).toBe(404);
    order = { ...order, url: revoked.body.url, path: newPath };
  });

  it('refuses a client that tried too many wrong links, with Retry-After, and no one else', async () => {
    const client = '203.0.113.9';
    const wrong = `/status/${'B'.repeat(STATUS_TOKEN_LENGTH)}`;
    for (let i = 0; i < 20; i++) {
      const r = await get(wrong, { 'x-forwarded-for': client });
      expect(r.status, `attempt ${i + 1}`).toBe(404);
    }
    const refused = await get(wrong, { 'x-forwarded-for': client });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(900);
    expect(refused.body.error.code).toBe('rate_limited');
    // Even a right link, from that client, until the window ends.
    expect((await get(order.path, { 'x-forwarded-for': client })).status).toBe(429);
    // A proxy's chain: the address our proxy saw (the last public one) is the client, whatever came before.
    expect((await get(order.path, { 'x-forwarded-for': `10.9.9.9, ${client}, 10.0.0.1` })).status).toBe(429);
    expect((await get(order.path, { 'x-forwarded-for': `${client}, 203.0.113.10` })).status).toBe(200);
    expect((await get(order.path)).status).toBe(200);
  });

  it('keeps staff notes out of the timeline: a return leaves it as it was', async () => {
    const back = await stack.api('POST', `/api/orders/${order.orderId}/returns`, {
      lines: [{ sku: 'TEA', quantity: 1 }],
      restock: false,
      reason: 'damaged in transit, customer called Mr Li',
    });
    expect(back.status).toBe(201);
    const history = (await stack.api('GET', `/api/orders/${order.orderId}`)).body.history;
    expect(history).toHaveLength(4);
    const r = await get(order.path, { accept: 'application/json' });
    expect(r.body.timeline.map((e: { status: string }) => e.status)).toEqual([
      'received',
      'backordered',
      'partially_shipped',
    ]);
    expect(JSON.stringify(r.body)).not.toContain('Mr Li');
  });

  it('makes one nonce when two first links are asked for at once', async () => {
    const created = await stack.api(
      'POST',
      '/api/orders',
      orderBody('WEB-7003', [{ sku: 'TEA', quantity: 1 }]),
    );
    const id = Number(created.body.id);
    await stack.settle();
    const options = { secretKey: stack.secretKey, publicUrl: 'https://stockbridge.example.com' };
    // Both read "no nonce" while a blocker holds the order row, then both try to write one.
    const blocker = await block(stack.db, 'SELECT id FROM orders WHERE id = ? FOR UPDATE', [id]);
    const first = statusLinkFor(stack.db, options, id);
    const second = statusLinkFor(stack.db, options, id);
    await waitForLockWaits(stack.db, 2, { table: 'orders' });
    await blocker.commit();
    const [a, b] = await Promise.all([first, second]);
    expect(a).toBe(b);
    expect((await get(new URL(a).pathname)).status).toBe(200);
  });
});
