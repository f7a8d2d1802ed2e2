import { createHmac } from 'node:crypto';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelKey } from '../../src/channels/channel-store.js';
import { dbTime } from '../../src/db/connection.js';
import { apiOrderDelivery, recordOrder } from '../../src/orders/intake.js';
import { processOrders } from '../../src/orders/processing.js';
import { webhookOutcome } from '../helpers/applied-event.js';
import { checkInvariants } from '../helpers/invariants.js';
import { interceptChannelHttp } from '../helpers/nock.js';
import { shopifyOrderBody } from '../helpers/shopify-webhook.js';
import { ADMIN_TOKEN, createStack, jsonOrText, seedCatalog, type TestStack } from '../helpers/stack.js';

interceptChannelHttp({ strict: true });

const SECRET = 'shopify-price-test-secret';

/** An .xlsx workbook of one sheet: a header row, then the rows. */
async function workbook(header: unknown[], rows: unknown[][]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Sheet1');
  ws.addRow(header);
  for (const r of rows) ws.addRow(r);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

describe.each([
  ['MariaDB', false],
  ['SQLite', true],
])('price lists (一客一价) on %s', (_name, sqlite) => {
  let stack: TestStack;
  let shopId: number;
  let eventSeq = 0;

  const upload = async (path: string, name: string, data: Buffer | string) => {
    const form = new FormData();
    form.set('file', new File([data], name));
    const res = await stack.app.request(path, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: form,
    });
    return { status: res.status, body: await jsonOrText(res) };
  };
  const order = async (id: number) => (await stack.api('GET', `/api/orders/${id}`)).body;
  const orderByExternal = async (channel: string, externalId: string) => {
    const row = await stack.db('orders').where({ channel, external_id: externalId }).first('id');
    expect(row, `order ${externalId}`).toBeTruthy();
    return order(Number(row.id));
  };
  const items = async (code: string) => (await stack.api('GET', `/api/price-lists/${code}/items`)).body.items;
  const putItems = (code: string, list: unknown[]) =>
    stack.api('PUT', `/api/price-lists/${code}/items`, { items: list });
  const putList = (code: string, currency = 'EUR') =>
    stack.api('PUT', `/api/price-lists/${code}`, { name: `List ${code}`, currency });
  const shopifyWebhook = async (body: string, topic = 'orders/create') => {
    const res = await stack.app.request(`/webhooks/${shopId}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': topic,
        'x-shopify-shop-domain': 'price-shop.myshopify.com',
        'x-shopify-event-id': `evt-${++eventSeq}`,
        'x-shopify-webhook-id': `wh-${eventSeq}`,
        'x-shopify-hmac-sha256': createHmac('sha256', SECRET).update(body).digest('base64'),
      },
      body,
    });
    return webhookOutcome(stack.db, res.status, (await res.json()) as Record<string, any>);
  };

  beforeAll(async () => {
    stack = await createStack({ sqlite });
    await seedCatalog(stack, [{ code: 'main', priority: 1 }], ['BOLT', 'NUT', 'TEE-S', 'GEAR']);
    const receipt = await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: 'opening',
      lines: ['BOLT', 'NUT', 'TEE-S', 'GEAR'].map((sku) => ({ sku, quantity: 1000 })),
    });
    expect(receipt.status).toBeLessThan(300);
    // Trade customers are created by people (the customers API is another part of this work).
    const now = dbTime();
    await stack.db('customers').insert([
      { code: 'ACME', name: 'Acme Trading', created_at: now, updated_at: now, customer_group: 'default' },
      { code: 'BETA', name: 'Beta Ltd', created_at: now, updated_at: now, customer_group: 'wholesale' },
    ]);
    const shop = await stack.api('POST', '/api/channels', {
      type: 'shopify',
      name: 'Price shop',
      settings: {
        shopDomain: 'price-shop.myshopify.com',
        accessToken: 'shpat_price_token_0123456789abcdef',
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
    await stack?.close();
  });

  it('creates, reads and bulk-maintains price lists and their assignments', async () => {
    const created = await putList('STD');
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ code: 'STD', currency: 'EUR', itemCount: 0, assignments: [] });
    expect((await putList('STD')).status).toBe(200);
    const saved = await putItems('std', [
      { sku: 'GEAR', price: 5000 },
      { sku: 'GEAR', price: 4500, minQuantity: 10 },
      { sku: 'NUT', price: 20, validFrom: '2026-01-01', validTo: '2099-12-31' },
    ]);
    expect(saved).toMatchObject({ status: 200, body: { created: 3, updated: 0, deleted: 0, unchanged: 0 } });
    const before = await items('STD');
    // The same items again: nothing changes; one price changed and one left out: updated and deleted, ids kept.
    expect(
      (
        await putItems(
          'STD',
          before.map(({ id: _id, ...i }: any) => i),
        )
      ).body,
    ).toMatchObject({ unchanged: 3 });
    const changed = await putItems('STD', [
      { sku: 'GEAR', price: 4900 },
      { sku: 'GEAR', price: 4500, minQuantity: 10 },
    ]);
    expect(changed.body).toMatchObject({ created: 0, updated: 1, deleted: 1, unchanged: 1 });
    const after = await items('STD');
    expect(after.map((i: any) => [i.id, i.sku, i.minQuantity, i.price])).toEqual([
      [before[0].id, 'GEAR', 1, 4900],
      [before[1].id, 'GEAR', 10, 4500],
    ]);

    const assigned = await stack.api('POST', '/api/price-lists/STD/assignments', { default: true });
    expect(assigned).toMatchObject({ status: 201, body: { level: 'default' } });
    expect((await stack.api('POST', '/api/price-lists/STD/assignments', { default: true })).status).toBe(200);
    const listed = await stack.api('GET', '/api/price-lists');
    expect(listed.body.items.find((l: any) => l.code === 'STD')).toMatchObject({
      itemCount: 2,
      assignments: [{ level: 'default' }],
    });

    // Bad input: clear errors, nothing changed.
    const unknownSku = await putItems('STD', [{ sku: 'NOPE', price: 1 }]);
    expect(unknownSku.status).toBe(422);
    expect(JSON.stringify(unknownSku.body)).toContain('NOPE');
    const both = await putItems('STD', [{ sku: 'GEAR', price: 1, percent: 90, basedOn: 'STD' }]);
    expect(both.status).toBe(422);
    const badDate = await putItems('STD', [{ sku: 'GEAR', price: 1, validFrom: '2026-02-30' }]);
    expect(badDate.status).toBe(422);
    const reversed = await putItems('STD', [
      { sku: 'GEAR', price: 1, validFrom: '2026-03-01', validTo: '2026-02-01' },
    ]);
    expect(reversed.status).toBe(422);
    expect((await stack.api('PUT', '/api/price-lists/NOPE/items', { items: [] })).status).toBe(404);
    expect((await stack.api('POST', '/api/price-lists/STD/assignments', { customer: 'NOBODY' })).status).toBe(
      422,
    );
    expect(await items('STD')).toEqual(after);
  });

  it('refuses two rules that would tie for one order line (409 naming both), changing nothing', async () => {
    await putList('ACME-A');
    await putList('ACME-B');
    expect((await putItems('ACME-A', [{ sku: 'BOLT', price: 900, minQuantity: 10 }])).status).toBe(200);
    expect((await putItems('ACME-B', [{ sku: 'BOLT', price: 850, minQuantity: 10 }])).status).toBe(200);
    expect(
      (await stack.api('POST', '/api/price-lists/ACME-A/assignments', { customer: 'acme' })).status,
    ).toBe(201);
    const tie = await stack.api('POST', '/api/price-lists/ACME-B/assignments', { customer: 'ACME' });
    expect(tie.status).toBe(409);
    expect(tie.body.error.code).toBe('price_rule_tie');
    expect(tie.body.error.details.rules.map((r: any) => r.list).sort()).toEqual(['ACME-A', 'ACME-B']);
    expect(tie.body.error.message).toContain('ACME-A');
    expect(tie.body.error.message).toContain('ACME-B');
    expect((await stack.api('GET', '/api/price-lists/ACME-B')).body.assignments).toEqual([]);

    // Within one request, and against the other list once assigned the same way.
    const inOne = await putItems('ACME-B', [
      { sku: 'BOLT', price: 850, minQuantity: 5 },
      { sku: 'bolt', price: 840, minQuantity: 5 },
    ]);
    expect(inOne.status).toBe(409);
    expect(inOne.body.error.details.rules).toHaveLength(2);
    // Another quantity break does not tie: it can be assigned, and then saving the tying break is refused.
    expect((await putItems('ACME-B', [{ sku: 'BOLT', price: 850, minQuantity: 20 }])).status).toBe(200);
    expect(
      (await stack.api('POST', '/api/price-lists/ACME-B/assignments', { customer: 'ACME' })).status,
    ).toBe(201);
    const later = await putItems('ACME-B', [{ sku: 'BOLT', price: 850, minQuantity: 10 }]);
    expect(later.status).toBe(409);
    expect(later.body.error.details.rules.map((r: any) => r.list).sort()).toEqual(['ACME-A', 'ACME-B']);
    expect((await items('ACME-B')).map((i: any) => i.minQuantity)).toEqual([20]);
  });

  it('refuses a basedOn cycle (409) and more than one level, and prices a percentage of another list', async () => {
    await putList('BASE');
    await putList('PCT');
    expect((await putItems('BASE', [{ sku: 'NUT', price: 200 }])).status).toBe(200);
    expect((await putItems('PCT', [{ sku: 'NUT', percent: 87.5, basedOn: 'BASE' }])).status).toBe(200);
    const cycle = await putItems('BASE', [{ sku: 'NUT', percent: 50, basedOn: 'PCT' }]);
    expect(cycle.status).toBe(409);
    expect(cycle.body.error.code).toBe('based_on_cycle');
    expect(cycle.body.error.details.lists.sort()).toEqual(['BASE', 'PCT']);
    const self = await putItems('BASE', [{ sku: 'NUT', percent: 50, basedOn: 'BASE' }]);
    expect(self).toMatchObject({ status: 409, body: { error: { code: 'based_on_cycle' } } });
    await putList('DEEP');
    const deep = await putItems('DEEP', [{ sku: 'NUT', percent: 50, basedOn: 'PCT' }]);
    expect(deep).toMatchObject({ status: 409, body: { error: { code: 'based_on_too_deep' } } });
    expect((await items('BASE'))[0]).toMatchObject({ price: 200, percent: null });
    // A list others are based on cannot go; its currency must match.
    expect((await stack.api('DELETE', '/api/price-lists/BASE')).status).toBe(409);
    await putList('USD-1', 'USD');
    expect((await putItems('USD-1', [{ sku: 'NUT', percent: 50, basedOn: 'BASE' }])).status).toBe(422);

    // BETA (group wholesale) buys at 87.5 % of BASE: 175 per NUT, given no price on the order.
    expect((await stack.api('POST', '/api/price-lists/PCT/assignments', { group: 'WHOLESALE' })).status).toBe(
      201,
    );
    const placed = await stack.api('POST', '/api/orders', {
      externalId: 'PCT-1',
      currency: 'EUR',
      customer: { code: 'BETA' },
      lines: [{ sku: 'NUT', quantity: 4 }],
    });
    expect(placed.status).toBe(202);
    await stack.settle();
    const o = await order(placed.body.id);
    expect(o).toMatchObject({ status: 'confirmed', totalAmount: 700 });
    const nutRule = (await items('PCT'))[0].id;
    expect(o.lines[0]).toMatchObject({
      unitPrice: 175,
      checkedPrice: 175,
      priceRuleId: nutRule,
      orderUnitPrice: null,
    });
  });

  it('applies a quantity-break price to an Excel order (Excel enforces our price)', async () => {
    await putList('ACME-X');
    const saved = await putItems('ACME-X', [
      { sku: 'TEE-S', price: 1000 },
      { sku: 'TEE-S', price: 800, minQuantity: 12 },
    ]);
    expect(saved.status).toBe(200);
    expect(
      (await stack.api('POST', '/api/price-lists/ACME-X/assignments', { customer: 'ACME' })).status,
    ).toBe(201);
    const breakId = (await items('ACME-X')).find((i: any) => i.minQuantity === 12).id;
    const csv =
      'Order No,Customer Code,Item Code,Quantity,Unit Price,Currency\nXB-1,ACME,TEE-S,12,9.99,EUR\nXB-2,ACME,TEE-S,11,9.99,EUR\n';
    const up = await upload('/api/orders/import', 'orders.csv', csv);
    expect(up.status).toBe(200);
    await stack.settle();
    const hit = await orderByExternal('excel', 'ACME:XB-1');
    expect(hit).toMatchObject({ status: 'confirmed', totalAmount: 12 * 800 });
    expect(hit.lines[0]).toMatchObject({
      unitPrice: 800,
      orderUnitPrice: 999,
      checkedPrice: 800,
      priceRuleId: breakId,
      priceVariance: 199,
    });
    const below = await orderByExternal('excel', 'ACME:XB-2');
    expect(below).toMatchObject({ status: 'confirmed', totalAmount: 11 * 1000 });
    expect(below.lines[0]).toMatchObject({ unitPrice: 1000, checkedPrice: 1000, priceVariance: -1 });
  });

  it('treats an order in a currency with no list as having no price', async () => {
    const noPrice = await stack.api('POST', '/api/orders', {
      externalId: 'USD-NP',
      currency: 'GBP',
      customer: { code: 'ACME' },
      lines: [{ sku: 'TEE-S', quantity: 12 }],
    });
    const priced = await stack.api('POST', '/api/orders', {
      externalId: 'USD-P',
      currency: 'GBP',
      customer: { code: 'ACME' },
      lines: [{ sku: 'TEE-S', quantity: 12, unitPrice: 1111 }],
    });
    expect([noPrice.status, priced.status]).toEqual([202, 202]);
    await stack.settle();
    const held = await order(noPrice.body.id);
    expect(held).toMatchObject({ status: 'on_hold', holdReason: 'no_price' });
    expect(held.holdDetails).toEqual([
      expect.objectContaining({ code: 'no_price', lineNo: 1, sku: 'TEE-S' }),
    ]);
    expect(held.lines[0]).toMatchObject({ reserved: 0, checkedPrice: null });
    // With a price of its own the order keeps it: there is nothing to check it against.
    const kept = await order(priced.body.id);
    expect(kept).toMatchObject({ status: 'confirmed', totalAmount: 12 * 1111 });
    expect(kept.lines[0]).toMatchObject({ unitPrice: 1111, checkedPrice: null, priceRuleId: null });
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('holds a Shopify order priced beyond the tolerance with the variance, and lets it through once the list is corrected', async () => {
    const policy = await stack.api('PUT', `/api/channels/${shopId}/price-policy`, {
      policy: 'hold',
      tolerancePercent: 5,
    });
    expect(policy).toMatchObject({
      status: 200,
      body: { policy: 'hold', tolerancePercent: 5, toleranceAmount: null },
    });
    expect(
      (await stack.api('PUT', `/api/channels/${shopId}/price-policy`, { policy: 'strict' })).status,
    ).toBe(422);
    // Shop buyers are in no trade customer's list: the default list STD applies. GEAR is 49.00 there.
    const body = shopifyOrderBody('5800000000000000001', [
      { sku: 'GEAR', variantId: '4400000000000000091', quantity: 2, price: '52.00' },
    ]);
    const applied = await shopifyWebhook(body);
    expect(applied.status).toBe(200);
    await stack.settle();
    const key = channelKey({ type: 'shopify', id: shopId });
    const held = await orderByExternal(key, '5800000000000000001');
    expect(held).toMatchObject({ status: 'on_hold', holdReason: 'price_variance' });
    expect(held.holdDetails).toEqual([
      expect.objectContaining({
        code: 'price_variance',
        lineNo: 1,
        orderPrice: 5200,
        ourPrice: 4900,
        variance: 300,
      }),
    ]);
    expect(held.lines[0]).toMatchObject({ reserved: 0, unitPrice: 5200 });

    // Releasing without correcting holds it again; correcting the list, then releasing, lets it through.
    expect((await stack.api('POST', `/api/orders/${held.id}/release`)).status).toBe(200);
    await stack.settle();
    expect((await order(held.id)).status).toBe('on_hold');
    const corrected = await putItems('STD', [
      { sku: 'GEAR', price: 5150 },
      { sku: 'GEAR', price: 4500, minQuantity: 10 },
    ]);
    expect(corrected.body).toMatchObject({ updated: 1 });
    expect((await stack.api('POST', `/api/orders/${held.id}/release`)).status).toBe(200);
    await stack.settle();
    const released = await order(held.id);
    expect(released).toMatchObject({ status: 'confirmed', totalAmount: 10400 });
    expect(released.lines[0]).toMatchObject({
      reserved: 2,
      unitPrice: 5200,
      checkedPrice: 5150,
      priceVariance: 50,
    });

    // Under `accept` (the shop default) the order's price stays and the variance is recorded.
    expect(
      (await stack.api('PUT', `/api/channels/${shopId}/price-policy`, { policy: 'accept' })).status,
    ).toBe(200);
    await shopifyWebhook(
      shopifyOrderBody('5800000000000000002', [
        { sku: 'GEAR', variantId: '4400000000000000091', quantity: 1, price: '60.00' },
      ]),
    );
    await stack.settle();
    const accepted = await orderByExternal(key, '5800000000000000002');
    expect(accepted).toMatchObject({ status: 'confirmed', totalAmount: 6000 });
    expect(accepted.lines[0]).toMatchObject({ unitPrice: 6000, checkedPrice: 5150, priceVariance: 850 });
    expect(await checkInvariants(stack.db)).toEqual([]);
  });

  it('checks the prices of new lines on a reserved order the channel changes, as for a new order', async () => {
    const key = channelKey({ type: 'shopify', id: shopId });
    const id = '5800000000000000003';
    const update = async (quantity: number, price: string, updatedAt: string) => {
      const body = shopifyOrderBody(
        id,
        [{ sku: 'GEAR', variantId: '4400000000000000091', quantity, price }],
        updatedAt,
      );
      expect((await shopifyWebhook(body, 'orders/updated')).status).toBe(200);
      await stack.settle();
      return orderByExternal(key, id);
    };
    try {
      await stack.api('PUT', `/api/channels/${shopId}/price-policy`, { policy: 'hold', tolerancePercent: 5 });
      const first = await update(2, '51.50', '2026-11-20T10:00:00Z');
      expect(first).toMatchObject({ status: 'confirmed', totalAmount: 10300 });

      // 60.00 is 8.50 over the agreed 51.50: beyond 5 %, so the change waits for a person and the
      // order keeps its lines, reservation and total.
      const refused = await update(3, '60.00', '2026-11-20T11:00:00Z');
      expect(refused).toMatchObject({ status: 'confirmed', totalAmount: 10300 });
      expect(refused.lines).toHaveLength(1);
      expect(refused.lines[0]).toMatchObject({ ordered: 2, reserved: 2, unitPrice: 5150 });
      const note = await stack
        .db('inbound_events')
        .where({ channel: key, order_id: first.id })
        .orderBy('id', 'desc')
        .first('note');
      expect(String(note.note)).toContain('the new prices need a person');

      // Within the tolerance: applied, with what it was checked against.
      const within = await update(3, '52.00', '2026-11-20T12:00:00Z');
      expect(within).toMatchObject({ status: 'confirmed', totalAmount: 15600 });
      expect(within.lines[0]).toMatchObject({
        ordered: 3,
        reserved: 3,
        unitPrice: 5200,
        checkedPrice: 5150,
        priceVariance: 50,
      });

      // Under `enforce` our price replaces the channel's, and the total follows.
      await stack.api('PUT', `/api/channels/${shopId}/price-policy`, { policy: 'enforce' });
      const enforced = await update(4, '70.00', '2026-11-20T13:00:00Z');
      expect(enforced).toMatchObject({ status: 'confirmed', totalAmount: 20600 });
      expect(enforced.lines[0]).toMatchObject({
        ordered: 4,
        reserved: 4,
        unitPrice: 5150,
        priceVariance: 1850,
      });
      expect(await checkInvariants(stack.db)).toEqual([]);
    } finally {
      await stack.api('PUT', `/api/channels/${shopId}/price-policy`, { policy: 'accept' });
    }
  });

  it('gives an API order without a unit price the resolved price, and holds it when none resolves', async () => {
    const priced = await stack.api('POST', '/api/orders', {
      externalId: 'API-NP-1',
      currency: 'EUR',
      lines: [{ sku: 'GEAR', quantity: 10 }],
    });
    const none = await stack.api('POST', '/api/orders', {
      externalId: 'API-NP-2',
      currency: 'EUR',
      lines: [{ sku: 'BOLT', quantity: 1 }],
    });
    await stack.settle();
    expect(await order(priced.body.id)).toMatchObject({ status: 'confirmed', totalAmount: 45000 });
    expect(await order(none.body.id)).toMatchObject({ status: 'on_hold', holdReason: 'no_price' });
  });

  it("taxes a line from our rates on the price processing gives it, and keeps a channel's own tax", async () => {
    expect((await stack.api('PUT', '/api/tax-rates/default/standard', { rateBasisPoints: 600 })).status).toBe(
      201,
    );
    try {
      // No price at intake (taxed 0 then), priced at processing: 10 × 45.00, 6 % = 27.00.
      const unpriced = await stack.api('POST', '/api/orders', {
        externalId: 'TAX-NP-1',
        currency: 'EUR',
        lines: [{ sku: 'GEAR', quantity: 10 }],
      });
      // A price of its own, taxed on it at intake (30.00), then replaced by ours under `enforce`.
      const repriced = await stack.api('POST', '/api/orders', {
        externalId: 'TAX-NP-2',
        currency: 'EUR',
        lines: [{ sku: 'GEAR', quantity: 10, unitPrice: 5000 }],
      });
      // A line that says its tax keeps it, whatever the price becomes.
      const ownTax = await stack.api('POST', '/api/orders', {
        externalId: 'TAX-NP-3',
        currency: 'EUR',
        lines: [{ sku: 'GEAR', quantity: 10, unitPrice: 5000, tax: 111 }],
      });
      await stack.settle();
      for (const id of [unpriced.body.id, repriced.body.id]) {
        const o = await order(id);
        expect(o).toMatchObject({ status: 'confirmed', totalAmount: 47700 });
        expect(o.money).toMatchObject({ subtotal: 45000, tax: 2700, total: 47700 });
        expect(o.money.lines[0]).toMatchObject({ unitPrice: 4500, tax: 2700 });
      }
      const kept = await order(ownTax.body.id);
      expect(kept).toMatchObject({ status: 'confirmed', totalAmount: 45111 });
      expect(kept.money.lines[0]).toMatchObject({ unitPrice: 4500, tax: 111 });
      expect(await checkInvariants(stack.db)).toEqual([]);
    } finally {
      await stack.api('DELETE', '/api/tax-rates/default/standard');
    }
  });

  it('reads the price rules of a whole group of orders in one statement, not one per order', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const body = {
        externalId: `GROUP-${i}`,
        currency: 'EUR',
        customer: { code: i % 2 ? 'ACME' : 'BETA' },
        lines: [
          { sku: 'GEAR', quantity: 1 + i },
          { sku: 'NUT', quantity: 2, unitPrice: 300 },
        ],
      };
      // Stored without queueing: processed below as one group.
      ids.push((await recordOrder(stack.db, apiOrderDelivery(body, JSON.stringify(body)))).orderId);
    }
    const statements: string[] = [];
    const listen = (q: { sql: string }) => statements.push(q.sql);
    stack.db.on('query', listen);
    try {
      await processOrders(stack.db, ids);
    } finally {
      stack.db.removeListener('query', listen);
    }
    expect(statements.filter((sql) => sql.includes('price_list_items'))).toHaveLength(1);
    // Each order got its own customer's prices: BETA's NUT from its group's list, GEAR from the default list.
    for (const [i, id] of ids.entries()) {
      const o = await order(id);
      expect(o.status).toBe('confirmed');
      expect(o.lines[0].checkedPrice).toBe(i + 1 >= 10 ? 4500 : 5150);
      expect(o.lines[1].checkedPrice).toBe(i % 2 ? null : 175);
    }
  });

  it('exports a price list as a sheet and imports one back; a sheet with any bad row changes nothing', async () => {
    await putList('SHEET');
    await putItems('SHEET', [
      { sku: 'NUT', price: 1250, validFrom: '2026-01-01', validTo: '2026-12-31' },
      { sku: 'NUT', price: 1000, minQuantity: 100 },
      { sku: 'GEAR', percent: 92.5, basedOn: 'BASE' },
    ]);
    const res = await stack.app.request('/api/price-lists/SHEET/export', {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('spreadsheetml');
    const exported = Buffer.from(await res.arrayBuffer());
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(exported as unknown as ArrayBuffer);
    const rows: unknown[][] = [];
    // Empty cells read back as '' (the sheet leaves them out).
    wb.worksheets[0]!.eachRow((r) =>
      rows.push(Array.from({ length: 7 }, (_, i) => r.getCell(i + 1).value ?? '')),
    );
    expect(rows[0]).toEqual([
      'SKU / 货号',
      'Min quantity / 起订数量',
      'Price / 价格',
      'Percent / 百分比',
      'Based on list / 基于价目表',
      'Valid from / 生效日期',
      'Valid to / 失效日期',
    ]);
    expect(rows.slice(1)).toEqual([
      ['GEAR', 1, '', '92.5', 'BASE', '', ''],
      ['NUT', 1, '12.50', '', '', '2026-01-01', '2026-12-31'],
      ['NUT', 100, '10.00', '', '', '', ''],
    ]);
    // The export imported back: nothing changes.
    const back = await upload('/api/price-lists/SHEET/import', 'SHEET.xlsx', exported);
    expect(back).toMatchObject({ status: 200, body: { rows: 3, saved: { unchanged: 3 } } });

    const before = await items('SHEET');
    const bad = await workbook(
      ['货号', '起订数量', '价格', '生效日期'],
      [
        ['NUT', 1, '11.00', '2026-01-01'],
        ['NUT', 0, '10.00', ''],
        ['', 5, '1.00', ''],
        ['GEAR', 1, '12.345', ''],
        ['GEAR', 2, '12.00', '31/12/2026'],
      ],
    );
    const refused = await upload('/api/price-lists/SHEET/import', 'prices.xlsx', bad);
    expect(refused.status).toBe(422);
    expect(refused.body.error.message).toContain('nothing was changed');
    expect(refused.body.error.details.rows.map((r: any) => r.row)).toEqual([3, 4, 5, 6]);
    expect(refused.body.error.details.rows[0].reason).toMatch(/起订数量/);
    const unknown = await upload(
      '/api/price-lists/SHEET/import',
      'prices.csv',
      'SKU,Price\nNUT,1.00\nNOPE,2.00\n',
    );
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.details.rows).toEqual([expect.objectContaining({ row: 3 })]);
    expect(await items('SHEET')).toEqual(before);

    const good = await workbook(
      ['SKU', 'Min quantity', 'Price'],
      [
        ['NUT', 1, '11.00'],
        ['NUT', 50, '9.50'],
      ],
    );
    const ok = await upload('/api/price-lists/SHEET/import', 'prices.xlsx', good);
    expect(ok).toMatchObject({ status: 200, body: { rows: 2, saved: { created: 2, deleted: 3 } } });
    expect((await items('SHEET')).map((i: any) => [i.sku, i.minQuantity, i.price])).toEqual([
      ['NUT', 1, 1100],
      ['NUT', 50, 950],
    ]);
  });
});
