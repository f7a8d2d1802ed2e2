import { createHmac } from 'node:crypto';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXCEL_CHANNEL } from '../../src/inbox/import-file.js';
import { fixture as wooFixture } from '../fixtures/woocommerce/helpers.js';
import { webhookOutcome } from '../helpers/applied-event.js';
import { interceptChannelHttp } from '../helpers/nock.js';
import { ADMIN_TOKEN, createStack, seedCatalog, type TestStack } from '../helpers/stack.js';
import { fixture as shopifyFixture } from '../unit/connectors/shopify-fixtures.js';

interceptChannelHttp({ strict: true });

const SHOPIFY_SECRET = 'order-money-shopify-secret';
const WOO_SECRET = 'order-money-woo-secret';
const WOO_SITE = 'https://shop.example.com';

describe.each([
  ['MariaDB', false],
  ['SQLite', true],
])('order money through the HTTP app on %s', (_name, sqlite) => {
  let stack: TestStack;
  let shopifyId: number;
  let wooId: number;
  let eventSeq = 0;

  async function shopifyWebhook(body: string) {
    const res = await stack.app.request(`/webhooks/${shopifyId}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': 'orders/create',
        'x-shopify-shop-domain': 'money-shop.myshopify.com',
        'x-shopify-event-id': `money-evt-${++eventSeq}`,
        'x-shopify-webhook-id': `money-wh-${eventSeq}`,
        'x-shopify-hmac-sha256': createHmac('sha256', SHOPIFY_SECRET).update(body).digest('base64'),
      },
      body,
    });
    return (await webhookOutcome(stack.db, res.status, (await res.json()) as Record<string, any>)).body;
  }

  async function wooWebhook(body: string) {
    const res = await stack.app.request(`/webhooks/${wooId}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-wc-webhook-topic': 'order.created',
        'x-wc-webhook-resource': 'order',
        'x-wc-webhook-event': 'created',
        'x-wc-webhook-signature': createHmac('sha256', WOO_SECRET).update(body).digest('base64'),
        'x-wc-webhook-delivery-id': `money-${++eventSeq}`,
        'x-wc-webhook-source': `${WOO_SITE}/`,
      },
      body,
    });
    return (await webhookOutcome(stack.db, res.status, (await res.json()) as Record<string, any>)).body;
  }

  const order = async (id: number) => (await stack.api('GET', `/api/orders/${id}`)).body;

  beforeAll(async () => {
    stack = await createStack({ sqlite });
    await seedCatalog(
      stack,
      [{ code: 'main', priority: 1 }],
      [
        'IPOD2008GREEN',
        'IPOD2008RED',
        'IPOD2008BLACK',
        'IPOD2008PINK',
        'CUP-ESP',
        'GRINDER-BLK',
        'A',
        'BOOK',
      ],
    );
    // Orders naming a customer code need the customer to exist (else they are held unknown_customer).
    expect((await stack.api('PUT', '/api/customers/ACME', { name: 'Acme' })).status).toBe(201);
    const shop = await stack.api('POST', '/api/channels', {
      type: 'shopify',
      name: 'Money shop',
      settings: {
        shopDomain: 'money-shop.myshopify.com',
        accessToken: 'shpat_money_token_0123456789',
        webhookSecret: SHOPIFY_SECRET,
        apiBaseUrl: 'https://shopify.test/admin/api/2026-10',
        pullIntervalSeconds: 3600,
        pullOverlapSeconds: 600,
        pullStartAt: '2026-11-01T00:00:00Z',
      },
    });
    expect(shop.status).toBe(201);
    shopifyId = shop.body.id;
    const woo = await stack.api('POST', '/api/channels', {
      type: 'woocommerce',
      name: 'Money Woo',
      settings: {
        siteUrl: WOO_SITE,
        consumerKey: 'ck_0123456789abcdef0123456789abcdef01234567',
        consumerSecret: 'cs_fedcba9876543210fedcba9876543210fedcba98',
        webhookSecret: WOO_SECRET,
        pullIntervalSeconds: 3600,
        pullOverlapSeconds: 600,
        pullStartAt: '2026-10-25T01:00:00+02:00',
      },
    });
    expect(woo.status).toBe(201);
    wooId = woo.body.id;
    stack.startWorker(2);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('a Shopify webhook order stores its money as the payload says: discounts, tax, shipping, total', async () => {
    // Shopify's documented order #1001 (3 × 199.00, $10 discount allocated 3.34/3.33/3.33, 6 % State
    // Tax 3.98 a line, total_price 598.94), as it was before its refund.
    const body = shopifyFixture('order-450789469-partially-refunded.json')
      .toString('utf8')
      .replace(/"current_quantity": 0/g, '"current_quantity": 1')
      .replace(/"updated_at": "[^"]+"/, '"updated_at": "2026-11-20T10:00:00Z"');
    const applied = await shopifyWebhook(body);
    expect(applied.status).toBe('created');
    const o = await order(applied.orderId!);
    expect(o.totalAmount).toBe(59894);
    expect(o.money).toEqual({
      currency: 'USD',
      pricesIncludeTax: false,
      lines: [
        {
          lineNo: 1,
          sku: 'IPOD2008GREEN',
          quantity: 1,
          unitPrice: 19900,
          discount: 334,
          amount: 19566,
          tax: 398,
        },
        {
          lineNo: 2,
          sku: 'IPOD2008RED',
          quantity: 1,
          unitPrice: 19900,
          discount: 333,
          amount: 19567,
          tax: 398,
        },
        {
          lineNo: 3,
          sku: 'IPOD2008BLACK',
          quantity: 1,
          unitPrice: 19900,
          discount: 333,
          amount: 19567,
          tax: 398,
        },
      ],
      subtotal: 58700,
      discount: 0,
      shipping: 0,
      tax: 1194,
      total: 59894,
      channelTotal: 59894,
      difference: 0,
    });
    // The columns hold the same, in minor units.
    const row = await stack.db('orders').where({ id: applied.orderId }).first();
    expect(Number(row.tax_amount)).toBe(1194);
    expect(Number(row.channel_total)).toBe(59894);
  });

  it('an update of the Shopify order replaces its money with what the new version says', async () => {
    // The same order #1001 after its refund: one line left, current_total_price 199.65.
    const body = shopifyFixture('order-450789469-partially-refunded.json')
      .toString('utf8')
      .replace(/"updated_at": "[^"]+"/, '"updated_at": "2026-11-20T11:00:00Z"');
    const res = await stack.app.request(`/webhooks/${shopifyId}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': 'orders/updated',
        'x-shopify-shop-domain': 'money-shop.myshopify.com',
        'x-shopify-event-id': `money-evt-${++eventSeq}`,
        'x-shopify-hmac-sha256': createHmac('sha256', SHOPIFY_SECRET).update(body).digest('base64'),
      },
      body,
    });
    const applied = (await webhookOutcome(stack.db, res.status, (await res.json()) as Record<string, any>))
      .body;
    expect(applied.status).toBe('updated');
    const o = await order(applied.orderId);
    expect(o.money).toMatchObject({
      lines: [
        {
          lineNo: 1,
          sku: 'IPOD2008RED',
          quantity: 1,
          unitPrice: 19900,
          discount: 333,
          amount: 19567,
          tax: 398,
        },
      ],
      tax: 398,
      total: 19965,
      channelTotal: 19965,
      difference: 0,
    });
    expect(o.totalAmount).toBe(19965);
  });

  it('a Shopify order whose total differs from ours keeps both and shows the difference', async () => {
    // The documented orders/create sample (398.00 - 5.00 discount + 10.00 shipping = 403.00), with
    // a channel total three dollars lower than its lines add up to.
    const body = shopifyFixture('orders-create.json')
      .toString('utf8')
      .replace('"total_price": "403.00"', '"total_price": "400.00"');
    const applied = await shopifyWebhook(body);
    expect(applied.status).toBe('created');
    const o = await order(applied.orderId!);
    expect(o.money).toMatchObject({
      subtotal: 39300,
      shipping: 1000,
      total: 40300,
      channelTotal: 40000,
      difference: -300,
    });
    expect(o.totalAmount).toBe(40300);
  });

  it('the same order read without money (a GraphQL node, as our pull reads it) leaves the money it has', async () => {
    // The orders/create sample stored above, as a GraphQL order node of the same version: no
    // discounts, taxes, shipping or total in it.
    const node = {
      id: 'gid://shopify/Order/820982911946154508',
      name: '#9999',
      createdAt: '2022-01-01T00:00:00Z',
      updatedAt: '2022-01-01T00:00:00Z',
      cancelledAt: null,
      currencyCode: 'USD',
      email: 'jon@example.com',
      customer: null,
      lineItems: {
        nodes: [
          ['IPOD2008PINK', '808950810'],
          ['IPOD2008BLACK', '457924702'],
        ].map(([sku, variant]) => ({
          sku,
          title: 'IPod Nano - 8GB',
          quantity: 1,
          currentQuantity: 1,
          variant: { id: `gid://shopify/ProductVariant/${variant}`, inventoryItem: null },
          product: { id: 'gid://shopify/Product/632910392' },
          originalUnitPriceSet: { shopMoney: { amount: '199.00', currencyCode: 'USD' } },
        })),
      },
    };
    const applied = await shopifyWebhook(JSON.stringify(node));
    expect(applied.status).toBe('unchanged');
    expect((await order(applied.orderId)).money).toMatchObject({
      lines: [expect.objectContaining({ discount: 0 }), expect.objectContaining({ discount: 500 })],
      shipping: 1000,
      total: 40300,
      channelTotal: 40000,
    });
  });

  it('a WooCommerce order with tax-inclusive prices and a coupon stores its money as the payload says', async () => {
    const applied = await wooWebhook(wooFixture('order-eur-coupon-tax-inclusive.json').toString('utf8'));
    expect(applied.status).toBe('created');
    const o = await order(applied.orderId!);
    expect(o.money).toEqual({
      currency: 'EUR',
      pricesIncludeTax: true,
      lines: [
        { lineNo: 1, sku: 'CUP-ESP', quantity: 3, unitPrice: 1000, discount: 300, amount: 2700, tax: 431 },
        {
          lineNo: 2,
          sku: 'GRINDER-BLK',
          quantity: 1,
          unitPrice: 2499,
          discount: 250,
          amount: 2249,
          tax: 359,
        },
      ],
      subtotal: 4949,
      discount: 0,
      shipping: 0,
      tax: 790,
      total: 4949,
      channelTotal: 4949,
      difference: 0,
    });
    const row = await stack.db('orders').where({ id: applied.orderId }).first();
    expect(Boolean(Number(row.prices_include_tax))).toBe(true);
  });

  it('tax rates: set per zone and class, SKUs get a class, customers and channels a zone; bad input changes nothing', async () => {
    expect((await stack.api('PUT', '/api/tax-rates/cn/standard', { rateBasisPoints: 1300 })).status).toBe(
      201,
    );
    const again = await stack.api('PUT', '/api/tax-rates/CN/standard', { rateBasisPoints: 1300 });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ taxZone: 'cn', taxClass: 'standard', rateBasisPoints: 1300 });
    expect((await stack.api('PUT', '/api/tax-rates/cn/reduced', { rateBasisPoints: 900 })).status).toBe(201);
    expect((await stack.api('PUT', '/api/tax-rates/default/standard', { rateBasisPoints: 600 })).status).toBe(
      201,
    );

    const tooHigh = await stack.api('PUT', '/api/tax-rates/cn/standard', { rateBasisPoints: 10_001 });
    expect(tooHigh.status).toBe(422);
    expect(JSON.stringify(tooHigh.body)).toContain('rateBasisPoints');
    const fraction = await stack.api('PUT', '/api/tax-rates/cn/standard', { rateBasisPoints: 12.5 });
    expect(fraction.status).toBe(422);
    expect((await stack.api('PUT', '/api/tax-rates/c%20n/standard', { rateBasisPoints: 1 })).status).toBe(
      400,
    );
    expect((await stack.api('PUT', '/api/tax-rates/cn/luxury', { rateBasisPoints: 2500 })).status).toBe(201);
    expect((await stack.api('DELETE', '/api/tax-rates/cn/luxury')).status).toBe(204);
    expect((await stack.api('DELETE', '/api/tax-rates/cn/luxury')).status).toBe(404);
    expect((await stack.api('GET', '/api/tax-rates')).body.items).toEqual([
      { taxZone: 'cn', taxClass: 'reduced', rateBasisPoints: 900 },
      { taxZone: 'cn', taxClass: 'standard', rateBasisPoints: 1300 },
      { taxZone: 'default', taxClass: 'standard', rateBasisPoints: 600 },
    ]);

    const book = await stack.api('PUT', '/api/skus/BOOK', {
      name: 'Book',
      unitPrice: 4550,
      currency: 'EUR',
      taxClass: 'reduced',
    });
    expect(book.status).toBe(200);
    expect((await stack.api('GET', '/api/skus/BOOK')).body.taxClass).toBe('reduced');
    expect((await stack.api('GET', '/api/skus/A')).body.taxClass).toBe('standard');

    expect((await stack.api('PUT', '/api/tax-zones/customers/NOBODY', { taxZone: 'cn' })).status).toBe(404);
    expect((await stack.api('PUT', `/api/channels/${wooId}/tax`, {})).status).toBe(422);
    expect((await stack.api('PUT', '/api/channels/999999/tax', { taxZone: 'cn' })).status).toBe(404);
    const channelTax = await stack.api('PUT', `/api/channels/${shopifyId}/tax`, {
      taxZone: 'cn',
      pricesIncludeTax: true,
    });
    expect(channelTax.body).toEqual({ id: shopifyId, taxZone: 'cn', pricesIncludeTax: true });
  });

  it("a channel order that does not say whether prices include tax takes the channel's setting, and the same version again changes nothing", async () => {
    // The channel was set to tax-inclusive prices above; the JPY sample has no taxes_included.
    const body = shopifyFixture('orders-create-jpy.json').toString('utf8');
    const first = await shopifyWebhook(body);
    expect(first.status).toBe('created');
    const o = await order(first.orderId);
    expect(o.money).toMatchObject({ pricesIncludeTax: true, total: 7460, channelTotal: 7460, difference: 0 });
    // Delivered again (another event id, the same version): nothing to change, the money included.
    const again = await shopifyWebhook(body);
    expect(again).toMatchObject({ status: 'unchanged', orderId: first.orderId });
  });

  it('an API order gets its tax per line from the customer zone and each SKU class, rounded per line', async () => {
    // The customer exists (created in beforeAll); then it is put in zone cn.
    const first = await stack.api('POST', '/api/orders', {
      externalId: 'money-first',
      currency: 'EUR',
      customer: { code: 'ACME' },
      lines: [{ sku: 'A', quantity: 1, unitPrice: 1000 }],
    });
    expect(first.status).toBe(202);
    // No zone yet: the default zone's 6 %.
    expect((await order(first.body.id)).money).toMatchObject({ tax: 60, total: 1060 });
    expect((await stack.api('PUT', '/api/tax-zones/customers/acme', { taxZone: 'cn' })).body).toEqual({
      code: 'ACME',
      taxZone: 'cn',
    });

    const post = await stack.api('POST', '/api/orders', {
      externalId: 'money-api-1',
      currency: 'EUR',
      customer: { code: 'ACME' },
      lines: [
        { sku: 'A', quantity: 3, unitPrice: 1999, discount: 500 },
        { sku: 'BOOK', quantity: 2, unitPrice: 4550 },
      ],
      shipping: 800,
    });
    expect(post.status).toBe(202);
    const o = await order(post.body.id);
    expect(o.money).toEqual({
      currency: 'EUR',
      pricesIncludeTax: false,
      lines: [
        // 54.97 at 13 % = 7.1461 -> 7.15
        { lineNo: 1, sku: 'A', quantity: 3, unitPrice: 1999, discount: 500, amount: 5497, tax: 715 },
        // 91.00 at 9 % (class reduced) = 8.19
        { lineNo: 2, sku: 'BOOK', quantity: 2, unitPrice: 4550, discount: 0, amount: 9100, tax: 819 },
      ],
      subtotal: 14597,
      discount: 0,
      shipping: 800,
      tax: 1534,
      total: 16931,
      channelTotal: null,
      difference: null,
    });
    expect(o.totalAmount).toBe(16931);
  });

  it('an API order with tax-inclusive prices: the tax is found inside the price and not added', async () => {
    const post = await stack.api('POST', '/api/orders', {
      externalId: 'money-api-gross',
      currency: 'EUR',
      customer: { code: 'ACME' },
      pricesIncludeTax: true,
      discount: 100,
      lines: [{ sku: 'A', quantity: 1, unitPrice: 1130 }],
    });
    expect(post.status).toBe(202);
    expect((await order(post.body.id)).money).toMatchObject({
      pricesIncludeTax: true,
      lines: [expect.objectContaining({ amount: 1130, tax: 130 })],
      discount: 100,
      tax: 130,
      total: 1030,
    });
  });

  it('an API order that says its own tax keeps it; a discount above its line is refused and stores nothing', async () => {
    const post = await stack.api('POST', '/api/orders', {
      externalId: 'money-api-told',
      currency: 'EUR',
      customer: { code: 'ACME' },
      lines: [{ sku: 'A', quantity: 1, unitPrice: 1000, tax: 77 }],
      tax: 99,
      channelTotal: 1099,
    });
    expect((await order(post.body.id)).money).toMatchObject({
      lines: [expect.objectContaining({ tax: 77 })],
      tax: 99,
      total: 1099,
      channelTotal: 1099,
      difference: 0,
    });
    const bad = await stack.api('POST', '/api/orders', {
      externalId: 'money-api-bad',
      currency: 'EUR',
      lines: [{ sku: 'A', quantity: 1, unitPrice: 1000, discount: 1001 }],
    });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body)).toContain('lines.0.discount');
    expect(await stack.db('orders').where({ external_id: 'money-api-bad' }).first()).toBeUndefined();
  });

  it('an Excel order is taxed from the rates of its customer zone', async () => {
    const csv = 'Order No,Customer,SKU,Qty,Price\nXM-1,ACME,A,2,10.00\nXM-1,ACME,BOOK,1,45.50\n';
    const form = new FormData();
    form.set('currency', 'EUR');
    form.set('file', new File([csv], 'money.csv', { type: 'text/csv' }));
    const res = await stack.app.request('/api/orders/import', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: form,
    });
    expect(res.status).toBe(200);
    const row = await stack
      .db('orders')
      .where({ channel: EXCEL_CHANNEL, external_id: 'ACME:XM-1' })
      .first('id');
    expect(row).toBeTruthy();
    const o = await order(Number(row.id));
    expect(o.money).toMatchObject({
      lines: [
        expect.objectContaining({ sku: 'A', amount: 2000, tax: 260 }),
        // 45.50 at 9 % = 4.095 -> 4.10: the half goes up
        expect.objectContaining({ sku: 'BOOK', amount: 4550, tax: 410 }),
      ],
      tax: 670,
      total: 7220,
    });
    expect(o.totalAmount).toBe(7220);
  });

  it('an Excel sheet may give a discount per line and the order shipping (折扣, 运费); tax is on the discounted line', async () => {
    const wb = new ExcelJS.Workbook();
    const sheet = wb.addWorksheet('订单');
    sheet.addRow(['订单号', '客户编码', '货号', '数量', '单价', '折扣', '运费']);
    sheet.addRow(['XM-2', 'ACME', 'A', 2, 10, 1, 5]);
    const form = new FormData();
    form.set('currency', 'EUR');
    form.set('file', new File([new Uint8Array(await wb.xlsx.writeBuffer())], 'money.xlsx'));
    const res = await stack.app.request('/api/orders/import', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: form,
    });
    expect(res.status).toBe(200);
    const row = await stack
      .db('orders')
      .where({ channel: EXCEL_CHANNEL, external_id: 'ACME:XM-2' })
      .first('id');
    const o = await order(Number(row.id));
    expect(o.money).toMatchObject({
      // 20.00 - 1.00 = 19.00 at 13 % = 2.47
      lines: [expect.objectContaining({ sku: 'A', discount: 100, amount: 1900, tax: 247 })],
      shipping: 500,
      tax: 247,
      total: 2647,
    });
  });
});
