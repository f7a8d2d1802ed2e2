import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicationDrift } from '../../src/channels/channel-publication.js';
import { migrateLatest, migrateRollback, pendingMigrations } from '../../src/db/migrate.js';
import { webhookOutcome } from '../helpers/applied-event.js';
import { checkInvariants } from '../helpers/invariants.js';
import { interceptChannelHttp } from '../helpers/nock.js';
import { createStack, orderBody, seedCatalog, type TestStack } from '../helpers/stack.js';

interceptChannelHttp();

/** The same core flows on the embedded SQLite default that `npm start` uses without DATABASE_URL. */
describe.each([
  ['SQLite (embedded default)', true],
  ['MariaDB', false],
])('core flows on %s', (_name, sqlite) => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await createStack({ sqlite });
    stack.startWorker(4);
    await seedCatalog(
      stack,
      [
        { code: 'a', priority: 1 },
        { code: 'b', priority: 2 },
      ],
      ['S1', 'S2'],
    );
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('reserves, backorders, fills on receipt, ships, cancels and keeps every invariant', async () => {
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'a',
      reference: 'r1',
      lines: [{ sku: 'S1', quantity: 4 }],
    });
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'b',
      reference: 'r1',
      lines: [{ sku: 'S1', quantity: 2 }],
    });
    const posts = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        stack.api('POST', '/api/orders', orderBody(`o${i}`, [{ sku: 'S1', quantity: 1 }])),
      ),
    );
    expect(posts.every((p) => p.status === 202)).toBe(true);
    await stack.settle();
    const statuses = await stack.db('orders').orderBy('id').pluck('status');
    expect(statuses.filter((s: string) => s === 'confirmed')).toHaveLength(6);
    expect(statuses.filter((s: string) => s === 'backordered')).toHaveLength(4);

    const receipt = await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'b',
      reference: 'r2',
      lines: [{ sku: 'S1', quantity: 3 }],
    });
    expect(receipt.body.filledOrders).toHaveLength(3);
    const first = posts[0]!.body.id;
    const shipped = await stack.api('POST', `/api/orders/${first}/shipments`, {});
    expect(shipped.body.status).toBe('shipped');
    const waiting = await stack.db('orders').where({ status: 'backordered' }).pluck('id');
    expect(waiting).toHaveLength(1);
    const confirmed = await stack
      .db('orders')
      .where({ status: 'confirmed' })
      .orderBy('id', 'desc')
      .first('id');
    const cancel = await stack.api('POST', `/api/orders/${confirmed.id}/cancel`);
    expect(cancel.body.filledOrders).toEqual(waiting.map(Number));
    expect((await stack.api('GET', '/api/stock/S1')).body).toMatchObject({
      onHand: 8,
      reserved: 8,
      available: 0,
    });
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('holds an unknown SKU and answers duplicates with the same order', async () => {
    const a = await stack.api('POST', '/api/orders', orderBody('hold-1', [{ sku: 'NOPE', quantity: 1 }]));
    const b = await stack.api('POST', '/api/orders', orderBody('hold-1', [{ sku: 'NOPE', quantity: 1 }]));
    expect(b.status).toBe(200);
    expect(b.body.id).toBe(a.body.id);
    await stack.settle();
    expect((await stack.api('GET', `/api/orders/${a.body.id}`)).body).toMatchObject({
      status: 'on_hold',
      holdReason: 'unknown_sku',
    });
  });

  it('takes a channel through webhooks: create, duplicate, line update, unmapped item, replay, cancel', async () => {
    const secret = 'embedded-webhook-secret';
    const ch = await stack.api('POST', '/api/channels', {
      type: 'woocommerce',
      name: 'Woo',
      settings: {
        siteUrl: 'https://woo.test',
        consumerKey: 'ck_x',
        consumerSecret: 'cs_x',
        webhookSecret: secret,
      },
    });
    expect(ch.status).toBe(201);
    const base = JSON.parse(
      readFileSync(new URL('../fixtures/woocommerce/orders-dst-fall-back.json', import.meta.url), 'utf8'),
    )[0];
    const send = async (topic: string, order: Record<string, unknown>, delivery: string) => {
      const body = JSON.stringify(order);
      const res = await stack.app.request(`/webhooks/${ch.body.id}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-wc-webhook-topic': topic,
          'x-wc-webhook-resource': 'order',
          'x-wc-webhook-event': topic.split('.')[1]!,
          'x-wc-webhook-delivery-id': delivery,
          'x-wc-webhook-signature': createHmac('sha256', secret).update(body).digest('base64'),
        },
        body,
      });
      const answer = await webhookOutcome(stack.db, res.status, (await res.json()) as Record<string, any>);
      return answer.body as { status: string; orderId: number };
    };
    const money = (q: number) => ({
      subtotal: (10 * q).toFixed(2),
      subtotal_tax: '0.00',
      total: (10 * q).toFixed(2),
      total_tax: '0.00',
      taxes: [],
    });
    const lines = (a: number, b: number, bSku = 'S2', variation = 901) => [
      { ...base.line_items[0], sku: 'S1', quantity: a, ...money(a) },
      {
        ...base.line_items[1],
        sku: bSku,
        product_id: 900,
        variation_id: variation,
        quantity: b,
        ...money(b),
      },
    ];
    const order = { ...base, id: 8001, line_items: lines(1, 1), date_modified_gmt: '2026-11-24T10:00:00' };
    const created = await send('order.created', order, 'd1');
    expect(created.status).toBe('created');
    expect((await send('order.created', order, 'd1')).status).toBe('duplicate');
    await stack.settle();
    const updated = await send(
      'order.updated',
      { ...order, line_items: lines(1, 2), date_modified_gmt: '2026-11-24T10:05:00' },
      'd2',
    );
    expect(updated.status).toBe('updated');
    const detail = (await stack.api('GET', `/api/orders/${created.orderId}`)).body;
    expect(detail.lines.map((l: { ordered: number }) => l.ordered)).toEqual([1, 2]);

    const odd = {
      ...order,
      id: 8002,
      line_items: lines(1, 1, 'THEIRS', 951),
      date_modified_gmt: '2026-11-24T10:00:00',
    };
    const held = await send('order.created', odd, 'd3');
    await stack.settle();
    expect((await stack.api('GET', `/api/orders/${held.orderId}`)).body.holdReason).toBe('unmapped_sku');
    // 901 belongs to S2 already; the new item 951 is S2 too.
    const clash = await stack.api('PUT', `/api/channels/${ch.body.id}/skus/S1`, { variantId: '901' });
    expect(clash.status).toBe(409);
    const map = await stack.api('PUT', `/api/channels/${ch.body.id}/skus/S2`, {
      productId: '900',
      variantId: '951',
    });
    expect(map.status).toBe(200);
    const replay = await stack.api('POST', `/api/channels/${ch.body.id}/replay-held`);
    expect(replay.body.outcomes).toEqual({ updated: 1 });
    await stack.settle();
    expect((await stack.api('GET', `/api/orders/${held.orderId}`)).body.status).not.toBe('on_hold');

    const cancelled = await send(
      'order.updated',
      { ...order, status: 'cancelled', line_items: lines(1, 2), date_modified_gmt: '2026-11-24T10:10:00' },
      'd4',
    );
    expect(cancelled.status).toBe('cancelled');
    expect((await stack.api('GET', `/api/channels/${ch.body.id}`)).body.status.orders).toEqual({
      received: 2,
      onHold: 0,
    });
    expect(await stack.channels.duePulls()).toEqual([ch.body.id]);

    // Stock goes back out: the relay marks the mapped SKUs, the push sends what the formula says.
    await stack.api('PATCH', `/api/channels/${ch.body.id}`, { stock: { safetyStock: 1 } });
    await stack.relay.tick();
    const sent: Record<string, number> = {};
    const scope = nock('https://woo.test')
      .post(/^\/wp-json\/wc\/v3\/products(\/\d+\/variations)?\/batch$/)
      .times(2)
      .reply((_uri, body) => {
        for (const u of (body as { update: { id: number; stock_quantity: number }[] }).update)
          sent[u.id] = u.stock_quantity;
        return [200, { update: (body as { update: unknown[] }).update }];
      });
    const pushed = await stack.channels.push(ch.body.id);
    scope.done();
    expect(pushed).toMatchObject({ accepted: 2, rejected: [] });
    const s1 = (await stack.api('GET', '/api/stock/S1')).body;
    expect(sent['310']).toBe(Math.max(0, s1.available - 1));
    expect(s1.channels[0]).toMatchObject({ published: sent['310'], pending: false });
    expect(await publicationDrift(stack.db)).toEqual([]);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('migrations run down and up again', async () => {
    await stack.queues.orders.pause();
    const rolledBack = await migrateRollback(stack.db, { all: true, yes: true });
    expect(rolledBack.length).toBeGreaterThan(0);
    expect((await pendingMigrations(stack.db)).length).toBe(rolledBack.length);
    expect(await migrateLatest(stack.db)).toEqual(rolledBack.slice().reverse());
    expect(await pendingMigrations(stack.db)).toEqual([]);
    await stack.queues.orders.resume();
  });
});
