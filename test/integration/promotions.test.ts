import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelKey } from '../../src/channels/channel-store.js';
import { currentBusinessTimeZone, setBusinessTimeZone } from '../../src/customers/price-book.js';
import { dbTime } from '../../src/db/connection.js';
import { amendLocked } from '../../src/orders/amend.js';
import { apiOrderDelivery, recordOrder } from '../../src/orders/intake.js';
import { withOrderLocked } from '../../src/orders/order-store.js';
import { processOrder, processOrders } from '../../src/orders/processing.js';
import { webhookOutcome } from '../helpers/applied-event.js';
import { block, track, waitForLockWaits } from '../helpers/interleave.js';
import { checkInvariants } from '../helpers/invariants.js';
import { interceptChannelHttp } from '../helpers/nock.js';
import { shopifyOrderBody } from '../helpers/shopify-webhook.js';
import { createStack, seedCatalog, type TestStack } from '../helpers/stack.js';

interceptChannelHttp({ strict: true });

const SECRET = 'shopify-promotion-test-secret';
const SKUS = [
  'TEN-A',
  'BXGY',
  'MIN',
  'CODE',
  'WIN',
  'PER',
  'CAN',
  'SHOP1',
  'SHOP2',
  'RACE1',
  'RACE2',
  'CRUD',
  'AMD',
];

/** What the tests of both databases share: the stack, orders through the API, promotions. */
function helpers(get: () => TestStack) {
  const order = async (id: number) => (await get().api('GET', `/api/orders/${id}`)).body;
  const putPromotion = (code: string, body: Record<string, unknown>) =>
    get().api('PUT', `/api/promotions/${code}`, { name: `Promotion ${code}`, ...body });
  const promotion = async (code: string) => (await get().api('GET', `/api/promotions/${code}`)).body;
  /** Posts an API order (enforce) and waits until it is processed. */
  const place = async (externalId: string, lines: unknown[], extra: Record<string, unknown> = {}) => {
    const res = await get().api('POST', '/api/orders', { externalId, currency: 'EUR', lines, ...extra });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    await get().settle();
    return order(res.body.id);
  };
  /** Stores API orders as `received` without queueing them: the test processes them itself. */
  const store = async (bodies: Record<string, unknown>[]) => {
    const ids: number[] = [];
    for (const body of bodies)
      ids.push((await recordOrder(get().db, apiOrderDelivery(body as never, JSON.stringify(body)))).orderId);
    return ids;
  };
  return { order, putPromotion, promotion, place, store };
}

async function seed(stack: TestStack) {
  await seedCatalog(stack, [{ code: 'main', priority: 1 }], SKUS);
  const receipt = await stack.api('POST', '/api/stock/receipts', {
    warehouse: 'main',
    reference: 'opening',
    lines: SKUS.map((sku) => ({ sku, quantity: 10_000 })),
  });
  expect(receipt.status).toBeLessThan(300);
  const now = dbTime();
  await stack.db('customers').insert([
    { code: 'ACME', name: 'Acme Trading', created_at: now, updated_at: now, customer_group: 'trade' },
    { code: 'BETA', name: 'Beta Ltd', created_at: now, updated_at: now, customer_group: 'trade' },
  ]);
}

describe('promotions on MariaDB', () => {
  let stack: TestStack;
  let shopId: number;
  let eventSeq = 0;
  const h = helpers(() => stack);

  /** A Shopify order of `quantity` × 10.00 of `sku`, claiming `discount` (a decimal string) on its line. */
  const shopifyOrder = async (id: string, sku: string, quantity: number, discount: string) => {
    const variantId = sku === 'SHOP1' ? '4400000000000000771' : '4400000000000000772';
    const body = shopifyOrderBody(id, [{ sku, variantId, quantity, price: '10.00' }]).replace(
      '"price":"10.00"}',
      `"price":"10.00","discount_allocations":[{"amount":"${discount}"}]}`,
    );
    const res = await stack.app.request(`/webhooks/${shopId}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': 'orders/create',
        'x-shopify-shop-domain': 'promo-shop.myshopify.com',
        'x-shopify-event-id': `evt-${++eventSeq}`,
        'x-shopify-webhook-id': `wh-${eventSeq}`,
        'x-shopify-hmac-sha256': createHmac('sha256', SECRET).update(body).digest('base64'),
      },
      body,
    });
    const applied = await webhookOutcome(stack.db, res.status, (await res.json()) as Record<string, any>);
    expect(applied.status).toBe(200);
    await stack.settle();
    const row = await stack
      .db('orders')
      .where({ channel: channelKey({ type: 'shopify', id: shopId }), external_id: id })
      .first('id');
    return h.order(Number(row.id));
  };

  beforeAll(async () => {
    stack = await createStack({ poolMax: 32 });
    await seed(stack);
    const shop = await stack.api('POST', '/api/channels', {
      type: 'shopify',
      name: 'Promotion shop',
      settings: {
        shopDomain: 'promo-shop.myshopify.com',
        accessToken: 'shpat_promo_token_0123456789abcdef',
        webhookSecret: SECRET,
        apiBaseUrl: 'https://shopify.test/admin/api/2026-10',
        pullIntervalSeconds: 3600,
      },
    });
    expect(shop.status).toBe(201);
    shopId = shop.body.id;
    stack.startWorker(4);
  });

  afterAll(async () => {
    if (stack) expect(await checkInvariants(stack.db)).toEqual([]);
    await stack?.close();
  });

  it('creates, reads, lists, changes and deletes promotions by code; PUT twice changes nothing; bad input is refused', async () => {
    const body = {
      kind: 'percent',
      percent: 12.5,
      skus: ['CRUD'],
      validFrom: '2026-01-01',
      validTo: '2099-12-31',
    };
    const created = await h.putPromotion('CRUD-12', body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      code: 'CRUD-12',
      kind: 'percent',
      appliesTo: 'line',
      percent: 12.5,
      skus: ['CRUD'],
      active: true,
      requiresCode: false,
      usageLimit: null,
      used: 0,
    });
    const again = await h.putPromotion('CRUD-12', body);
    expect(again.status).toBe(200);
    expect(again.body.updatedAt).toBe(created.body.updatedAt);
    expect((await h.promotion('crud-12')).code).toBe('CRUD-12');
    const list = await stack.api('GET', '/api/promotions');
    expect(list.body.items.map((p: { code: string }) => p.code)).toContain('CRUD-12');
    const changed = await h.putPromotion('CRUD-12', { ...body, percent: 15, usageLimit: 5 });
    expect(changed).toMatchObject({ status: 200, body: { percent: 15, usageLimit: 5 } });

    for (const bad of [
      { kind: 'percent' },
      { kind: 'amount', amount: 100 },
      { kind: 'buy_x_get_y', buy: 2 },
      { kind: 'buy_x_get_y', buy: 2, get: 1, appliesTo: 'order' },
      { kind: 'percent', percent: 101 },
      { kind: 'percent', percent: 10, validFrom: '2026-12-02', validTo: '2026-12-01' },
      { kind: 'fixed', percent: 10 },
    ]) {
      const res = await h.putPromotion('CRUD-BAD', bad);
      expect(res.status, JSON.stringify(bad)).toBe(422);
    }
    expect((await stack.api('GET', '/api/promotions/CRUD-BAD')).status).toBe(404);
    expect((await stack.api('DELETE', '/api/promotions/CRUD-12')).status).toBe(204);
    expect((await stack.api('DELETE', '/api/promotions/CRUD-12')).status).toBe(404);
  });

  it('applies the promotion to an enforce (API) order, recalculates its total and shows it per line', async () => {
    expect((await h.putPromotion('TEN-A', { kind: 'percent', percent: 10, skus: ['TEN-A'] })).status).toBe(
      201,
    );
    const placed = await h.place('PR-ENF-1', [
      { sku: 'TEN-A', quantity: 3, unitPrice: 1000 },
      { sku: 'CRUD', quantity: 1, unitPrice: 500 },
    ]);
    expect(placed).toMatchObject({ status: 'confirmed', totalAmount: 3200 });
    expect(placed.lines[0].promotions).toEqual([{ code: 'TEN-A', name: 'Promotion TEN-A', discount: 300 }]);
    expect(placed.lines[1].promotions).toEqual([]);
    expect(placed.money.lines[0]).toMatchObject({ discount: 300, amount: 2700 });
    expect(placed.money.total).toBe(3200);
    expect((await h.promotion('TEN-A')).used).toBe(1);
  });

  it('holds a Shopify (accept) order claiming a discount no promotion allows, with the difference; a valid claim passes', async () => {
    const held = await shopifyOrder('5900000000000000001', 'SHOP1', 2, '2.00');
    expect(held).toMatchObject({ status: 'on_hold', holdReason: 'promotion_invalid' });
    expect(held.holdDetails).toEqual([
      expect.objectContaining({ code: 'promotion_invalid', claimed: 200, allowed: 0, difference: 200 }),
    ]);
    expect(held.lines[0]).toMatchObject({ reserved: 0 });

    expect(
      (
        await h.putPromotion('SHOP-10', {
          kind: 'percent',
          percent: 10,
          skus: ['SHOP2'],
          channels: ['shopify'],
        })
      ).status,
    ).toBe(201);
    const valid = await shopifyOrder('5900000000000000002', 'SHOP2', 2, '2.00');
    expect(valid, JSON.stringify(valid.holdDetails)).toMatchObject({
      status: 'confirmed',
      totalAmount: 1800,
    });
    expect(valid.lines[0].promotions).toEqual([
      { code: 'SHOP-10', name: 'Promotion SHOP-10', discount: 200 },
    ]);
    const less = await shopifyOrder('5900000000000000003', 'SHOP2', 2, '1.50');
    // The shop's own (smaller) discount stays: accept does not reprice.
    expect(less).toMatchObject({ status: 'confirmed', totalAmount: 1850 });
    const more = await shopifyOrder('5900000000000000004', 'SHOP2', 2, '3.00');
    expect(more).toMatchObject({ status: 'on_hold', holdReason: 'promotion_invalid' });
    expect(more.holdDetails).toEqual([
      expect.objectContaining({ claimed: 300, allowed: 200, difference: 100 }),
    ]);
    // An order that claims nothing takes no use under accept.
    const none = await shopifyOrder('5900000000000000005', 'SHOP2', 2, '0.00');
    expect(none).toMatchObject({ status: 'confirmed', totalAmount: 2000 });
    expect(none.lines[0].promotions).toEqual([]);
    expect((await h.promotion('SHOP-10')).used).toBe(2);
  });

  it('buy 2 get 1: 7 units, 2 free', async () => {
    await h.putPromotion('B2G1', { kind: 'buy_x_get_y', buy: 2, get: 1, skus: ['BXGY'] });
    const placed = await h.place('PR-BXGY-1', [{ sku: 'BXGY', quantity: 7, unitPrice: 1000 }]);
    expect(placed).toMatchObject({ status: 'confirmed', totalAmount: 5000 });
    expect(placed.lines[0].promotions).toEqual([expect.objectContaining({ code: 'B2G1', discount: 2000 })]);
  });

  it('an order promotion with a minimum amount: not below it, on the order at it', async () => {
    await h.putPromotion('MIN-100', {
      kind: 'amount',
      appliesTo: 'order',
      amount: 500,
      currency: 'EUR',
      minOrderAmount: 10_000,
      skus: ['MIN'],
    });
    const below = await h.place('PR-MIN-1', [{ sku: 'MIN', quantity: 9, unitPrice: 1000 }]);
    expect(below).toMatchObject({ status: 'confirmed', totalAmount: 9000, promotions: [] });
    const at = await h.place('PR-MIN-2', [{ sku: 'MIN', quantity: 10, unitPrice: 1000 }]);
    expect(at).toMatchObject({ status: 'confirmed', totalAmount: 9500 });
    expect(at.promotions).toEqual([expect.objectContaining({ code: 'MIN-100', discount: 500 })]);
    expect(at.money.discount).toBe(500);
    expect(at.lines[0].promotions).toEqual([]);
  });

  it('a promotion that needs its code applies only to orders naming it; an unknown code holds the order', async () => {
    await h.putPromotion('CODE15', { kind: 'percent', percent: 15, skus: ['CODE'], requiresCode: true });
    const without = await h.place('PR-CODE-1', [{ sku: 'CODE', quantity: 2, unitPrice: 1000 }]);
    expect(without).toMatchObject({ status: 'confirmed', totalAmount: 2000 });
    const named = await h.place('PR-CODE-2', [{ sku: 'CODE', quantity: 2, unitPrice: 1000 }], {
      promotionCodes: ['code15'],
    });
    expect(named).toMatchObject({ status: 'confirmed', totalAmount: 1700 });
    const unknown = await h.place('PR-CODE-3', [{ sku: 'CODE', quantity: 2, unitPrice: 1000 }], {
      promotionCodes: ['NOPE'],
    });
    expect(unknown).toMatchObject({ status: 'on_hold', holdReason: 'promotion_invalid' });
    expect(unknown.holdDetails).toEqual([
      expect.objectContaining({ code: 'promotion_invalid', promotion: 'NOPE', reason: 'no such promotion' }),
    ]);
    const bad = await stack.api('POST', '/api/orders', {
      externalId: 'PR-CODE-4',
      currency: 'EUR',
      lines: [{ sku: 'CODE', quantity: 1, unitPrice: 1000 }],
      promotionCodes: [''],
    });
    expect(bad.status).toBe(422);
  });

  it('a validity window starts and ends at midnight business time (Asia/Shanghai)', async () => {
    const before = currentBusinessTimeZone();
    setBusinessTimeZone('Asia/Shanghai');
    try {
      await h.putPromotion('WIN-DAY', {
        kind: 'percent',
        percent: 10,
        skus: ['WIN'],
        validFrom: '2026-12-05',
        validTo: '2026-12-05',
      });
      const at = async (externalId: string, placedAt: string) =>
        (await h.place(externalId, [{ sku: 'WIN', quantity: 1, unitPrice: 1000 }], { placedAt })).totalAmount;
      expect(await at('PR-WIN-1', '2026-12-04T15:59:59Z')).toBe(1000); // 23:59:59 on the 4th in Shanghai
      expect(await at('PR-WIN-2', '2026-12-04T16:00:00Z')).toBe(900); // 00:00 on the 5th
      expect(await at('PR-WIN-3', '2026-12-05T23:59:59+08:00')).toBe(900);
      expect(await at('PR-WIN-4', '2026-12-06T00:00:00+08:00')).toBe(1000);
    } finally {
      setBusinessTimeZone(before);
    }
  });

  it('a per-customer limit: once per customer', async () => {
    await h.putPromotion('ONCE', { kind: 'percent', percent: 20, skus: ['PER'], customerLimit: 1 });
    const line = [{ sku: 'PER', quantity: 1, unitPrice: 1000 }];
    expect((await h.place('PR-PER-1', line, { customer: { code: 'ACME' } })).totalAmount).toBe(800);
    expect((await h.place('PR-PER-2', line, { customer: { code: 'ACME' } })).totalAmount).toBe(1000);
    expect((await h.place('PR-PER-3', line, { customer: { code: 'BETA' } })).totalAmount).toBe(800);
    // No customer: a per-customer limit cannot be counted, so the promotion does not apply.
    expect((await h.place('PR-PER-4', line)).totalAmount).toBe(1000);
    expect((await h.promotion('ONCE')).used).toBe(2);
  });

  it("recomputes promotions when a reserved order's lines change: taken when it qualifies, given back when not", async () => {
    await h.putPromotion('AMEND-3', {
      kind: 'percent',
      percent: 10,
      skus: ['AMD'],
      minOrderQuantity: 3,
      usageLimit: 5,
    });
    const placed = await h.place('PR-AMD-1', [{ sku: 'AMD', quantity: 1, unitPrice: 1000 }]);
    expect(placed).toMatchObject({ status: 'confirmed', totalAmount: 1000 });
    expect((await h.promotion('AMEND-3')).used).toBe(0);
    const amend = (quantity: number) =>
      withOrderLocked(stack.db, placed.id, (tx, locked) =>
        amendLocked(tx, locked, {
          lines: [{ sku: 'AMD', quantity, unitPrice: 1000 }],
          problems: [],
          actor: 'test',
        }),
      );
    expect((await amend(3)).outcome).toBe('updated');
    const grown = await h.order(placed.id);
    expect(grown).toMatchObject({ status: 'confirmed', totalAmount: 2700 });
    expect(grown.lines[0]).toMatchObject({ reserved: 3 });
    expect(grown.lines[0].promotions).toEqual([
      { code: 'AMEND-3', name: 'Promotion AMEND-3', discount: 300 },
    ]);
    expect((await h.promotion('AMEND-3')).used).toBe(1);
    expect(await checkInvariants(stack.db)).toEqual([]);

    expect((await amend(1)).outcome).toBe('updated');
    const shrunk = await h.order(placed.id);
    expect(shrunk).toMatchObject({ status: 'confirmed', totalAmount: 1000 });
    expect(shrunk.lines[0].promotions).toEqual([]);
    expect((await h.promotion('AMEND-3')).used).toBe(0);
    const ledger = await stack
      .db('promotion_uses as u')
      .join('promotions as p', 'p.id', 'u.promotion_id')
      .where('p.code', 'AMEND-3')
      .orderBy('u.id')
      .select('u.delta');
    expect(ledger.map((r) => Number(r.delta))).toEqual([1, -1]);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('cancelling an order gives its use back', async () => {
    await h.putPromotion('LIMIT-1', { kind: 'percent', percent: 50, skus: ['CAN'], usageLimit: 1 });
    const line = [{ sku: 'CAN', quantity: 1, unitPrice: 1000 }];
    const first = await h.place('PR-CAN-1', line);
    expect(first.totalAmount).toBe(500);
    expect((await h.place('PR-CAN-2', line)).totalAmount).toBe(1000);
    expect((await h.promotion('LIMIT-1')).used).toBe(1);
    expect(
      (await stack.api('POST', `/api/orders/${first.id}/cancel`, { reason: 'customer called' })).status,
    ).toBe(200);
    expect((await h.promotion('LIMIT-1')).used).toBe(0);
    expect(await checkInvariants(stack.db)).toEqual([]);
    expect((await h.place('PR-CAN-3', line)).totalAmount).toBe(500);
    const ledger = await stack
      .db('promotion_uses as u')
      .join('promotions as p', 'p.id', 'u.promotion_id')
      .where('p.code', 'LIMIT-1')
      .orderBy('u.id')
      .select('u.delta');
    expect(ledger.map((r) => Number(r.delta))).toEqual([1, -1, 1]);
    // A limit below the uses is refused; a limit cannot be given to a promotion used without one.
    expect(
      (await h.putPromotion('LIMIT-1', { kind: 'percent', percent: 50, skus: ['CAN'], usageLimit: 0 }))
        .status,
    ).toBe(409);
    expect(
      (await h.putPromotion('TEN-A', { kind: 'percent', percent: 10, skus: ['TEN-A'], usageLimit: 9 })).body,
    ).toMatchObject({ error: { code: 'promotion_in_use' } });
    expect((await stack.api('DELETE', '/api/promotions/LIMIT-1')).status).toBe(409);
  });

  it('20 orders in one worker group take a promotion limited to 10 exactly 10 times', async () => {
    await h.putPromotion('RACE-10', { kind: 'percent', percent: 10, skus: ['RACE1'], usageLimit: 10 });
    const ids = await h.store(
      Array.from({ length: 20 }, (_, i) => ({
        externalId: `PR-RACE1-${i}`,
        currency: 'EUR',
        lines: [{ sku: 'RACE1', quantity: 1, unitPrice: 1000 }],
      })),
    );
    await processOrders(stack.db, ids);
    const totals = await stack.db('orders').whereIn('id', ids).pluck('total_amount');
    expect(totals.filter((t) => Number(t) === 900)).toHaveLength(10);
    expect(totals.filter((t) => Number(t) === 1000)).toHaveLength(10);
    expect((await h.promotion('RACE-10')).used).toBe(10);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('20 orders in separate transactions, queued behind the locked counter, take a promotion limited to 10 exactly 10 times', async () => {
    await h.putPromotion('RACE-10B', { kind: 'percent', percent: 10, skus: ['RACE2'], usageLimit: 10 });
    const ids = await h.store(
      Array.from({ length: 20 }, (_, i) => ({
        externalId: `PR-RACE2-${i}`,
        currency: 'EUR',
        lines: [{ sku: 'RACE2', quantity: 1, unitPrice: 1000 }],
      })),
    );
    const blocker = await block(stack.db, "SELECT id FROM promotions WHERE code = 'RACE-10B' FOR UPDATE");
    const runs = ids.map((id) => track(processOrder(stack.db, id)));
    await waitForLockWaits(stack.db, 20, {
      table: 'promotions',
      settled: () => (runs.some((r) => r.done) ? 'an order did not wait for the counter' : null),
    });
    await blocker.commit();
    await Promise.all(runs.map((r) => r.promise));
    const orders = await stack.db('orders').whereIn('id', ids).select('status', 'total_amount');
    expect(orders.every((o) => o.status === 'confirmed')).toBe(true);
    expect(orders.filter((o) => Number(o.total_amount) === 900)).toHaveLength(10);
    expect((await h.promotion('RACE-10B')).used).toBe(10);
    expect(await checkInvariants(stack.db)).toEqual([]);
  });
});

describe('promotions on SQLite', () => {
  let stack: TestStack;
  const h = helpers(() => stack);

  beforeAll(async () => {
    stack = await createStack({ sqlite: true });
    await seed(stack);
    stack.startWorker(2);
  });

  afterAll(async () => {
    if (stack) expect(await checkInvariants(stack.db)).toEqual([]);
    await stack?.close();
  });

  it('applies, limits, holds and gives back as on MariaDB', async () => {
    expect(
      (await h.putPromotion('LITE', { kind: 'percent', percent: 10, skus: ['RACE1'], usageLimit: 3 })).status,
    ).toBe(201);
    const ids = await h.store(
      Array.from({ length: 6 }, (_, i) => ({
        externalId: `PL-${i}`,
        currency: 'EUR',
        lines: [{ sku: 'RACE1', quantity: 1, unitPrice: 1000 }],
      })),
    );
    await processOrders(stack.db, ids.slice(0, 4));
    await Promise.all(ids.slice(4).map((id) => processOrder(stack.db, id)));
    const totals = await stack.db('orders').whereIn('id', ids).orderBy('id').pluck('total_amount');
    expect(totals.map(Number)).toEqual([900, 900, 900, 1000, 1000, 1000]);
    const first = await h.order(ids[0]!);
    expect(first.lines[0].promotions).toEqual([expect.objectContaining({ code: 'LITE', discount: 100 })]);
    expect((await stack.api('POST', `/api/orders/${ids[0]}/cancel`, {})).status).toBe(200);
    expect((await h.promotion('LITE')).used).toBe(2);
    const claimed = await h.place('PL-CLAIM', [{ sku: 'CAN', quantity: 1, unitPrice: 1000, discount: 100 }]);
    expect(claimed).toMatchObject({ status: 'on_hold', holdReason: 'promotion_invalid' });
    expect(claimed.holdDetails).toEqual([expect.objectContaining({ difference: 100 })]);
  });
});
