import { describe, expect, it } from 'vitest';
import type { NormalizedOrder } from '../../../connectors/contract.js';
import shopify, { parseJsonKeepingBigIds } from '../../../connectors/shopify/index.js';
import woocommerce from '../../../connectors/woocommerce/index.js';
import { orderTotal } from '../../../src/domain/order-input.js';
import { load as loadWoo, fixture as wooFixture } from '../../fixtures/woocommerce/helpers.js';
import { fixture } from './shopify-fixtures.js';

const loadShopify = (name: string) =>
  parseJsonKeepingBigIds(fixture(name).toString('utf8')) as Record<string, any>;

/** Our total of a normalized order, from its lines and what it says beyond them. */
const ourTotal = (o: NormalizedOrder) => orderTotal(o.lines, o.money);
const lineMoney = (o: NormalizedOrder) => o.lines.map((l) => [l.channelSku, l.discount, l.tax]);

describe('shopify: the order money as the documented payloads say it', () => {
  it('orders/create sample: a $5 line discount, $10 shipping, no tax, total_price 403.00 = ours', () => {
    const order = shopify.normalizeOrder(loadShopify('orders-create.json'));
    expect(lineMoney(order)).toEqual([
      ['IPOD2008PINK', 0, 0],
      ['IPOD2008BLACK', 500, 0],
    ]);
    expect(order.money).toEqual({
      shipping: 1000,
      discount: 0,
      tax: 0,
      total: 40300,
      // The sample has no `taxes_included`: the channel's setting decides.
    });
    expect(ourTotal(order)).toBe(40300);
  });

  it('order #1001 after a partial refund: the kept line keeps its discount and tax; the current totals match it', () => {
    // 3 × 199.00 with a $10 discount spread 3.34/3.33/3.33 and 6 % State Tax of 3.98 each; two lines
    // were refunded: current_total_price 199.65 = 199.00 - 3.33 + 3.98.
    const order = shopify.normalizeOrder(loadShopify('order-450789469-partially-refunded.json'));
    expect(lineMoney(order)).toEqual([['IPOD2008RED', 333, 398]]);
    expect(order.money).toMatchObject({ shipping: 0, tax: 398, total: 19965, pricesIncludeTax: false });
    expect(ourTotal(order)).toBe(19965);
  });

  it('the same order before any refund: total_tax 11.94 and total_price 598.94, equal to ours', () => {
    const raw = loadShopify('order-450789469-partially-refunded.json');
    for (const l of raw.line_items) l.current_quantity = l.quantity;
    const order = shopify.normalizeOrder(raw);
    expect(lineMoney(order)).toEqual([
      ['IPOD2008GREEN', 334, 398],
      ['IPOD2008RED', 333, 398],
      ['IPOD2008BLACK', 333, 398],
    ]);
    expect(order.money).toMatchObject({ tax: 1194, total: 59894 });
    expect(ourTotal(order)).toBe(59894);
  });

  it('our GraphQL pull of order #1001 carries the same money as its webhook body, lines and order alike', () => {
    const pulled = shopify.normalizeOrder(loadShopify('graphql-order-450789469-money.json'));
    const hooked = shopify.normalizeOrder(loadShopify('order-450789469-partially-refunded.json'));
    expect(lineMoney(pulled)).toEqual([['IPOD2008RED', 333, 398]]);
    expect(pulled.lines.map((l) => [l.quantity, l.unitPrice])).toEqual(
      hooked.lines.map((l) => [l.quantity, l.unitPrice]),
    );
    expect(pulled.money).toEqual(hooked.money);
    expect(ourTotal(pulled)).toBe(19965);

    // Before the refund: every line, and the totals before returns.
    const raw = loadShopify('graphql-order-450789469-money.json');
    for (const l of raw.lineItems.nodes) l.currentQuantity = l.quantity;
    const whole = shopify.normalizeOrder(raw);
    expect(lineMoney(whole)).toEqual([
      ['IPOD2008GREEN', 334, 398],
      ['IPOD2008RED', 333, 398],
      ['IPOD2008BLACK', 333, 398],
    ]);
    expect(whole.money).toMatchObject({ tax: 1194, total: 59894, pricesIncludeTax: false });

    // A bad amount holds the order under the field's GraphQL name.
    raw.totalTaxSet.shopMoney.amount = '1,00';
    expect(shopify.normalizeOrder(raw).problems).toContainEqual({
      code: 'invalid_amount',
      message: 'Shopify order: totalTaxSet "1,00" is not a valid USD amount',
    });
  });

  it('a GraphQL node without the money fields says nothing about money', () => {
    expect(shopify.normalizeOrder(loadShopify('graphql-order-node.json')).money).toBeUndefined();
  });

  it('a line with units removed keeps the share of its discount and tax that falls on what is left', () => {
    const raw = loadShopify('order-450789469-partially-refunded.json');
    const red = raw.line_items[1];
    red.quantity = 3;
    red.current_quantity = 2;
    red.discount_allocations[0].amount = '10.00';
    red.discount_allocations[0].amount_set.shop_money.amount = '10.00';
    const order = shopify.normalizeOrder(raw);
    // 10.00 × 2/3 = 6.666… -> 6.67; 3.98 × 2/3 = 2.6533… -> 2.65.
    expect(lineMoney(order)).toEqual([['IPOD2008RED', 667, 265]]);
  });

  it('JPY and KWD samples: totals in the currency minor units (0 and 3 decimals), equal to ours', () => {
    const jpy = shopify.normalizeOrder(loadShopify('orders-create-jpy.json'));
    expect(jpy.money).toMatchObject({ total: 7460 });
    expect(ourTotal(jpy)).toBe(7460);
    const kwd = shopify.normalizeOrder(loadShopify('orders-create-kwd.json'));
    expect(kwd.money).toMatchObject({ total: 25125 });
    expect(ourTotal(kwd)).toBe(25125);
  });

  it('taxes_included: prices hold the tax, so the total is not lines + tax', () => {
    const raw = loadShopify('order-450789469-partially-refunded.json');
    raw.taxes_included = true;
    raw.current_total_price = '195.67';
    const order = shopify.normalizeOrder(raw);
    expect(order.money).toMatchObject({ pricesIncludeTax: true, tax: 398, total: 19567 });
    expect(ourTotal(order)).toBe(19567);
  });

  it('shipping lines: price summed, their discount allocations are the order-level discount', () => {
    const raw = loadShopify('orders-create.json');
    raw.shipping_lines[0].discount_allocations = [
      { amount: '4.00', amount_set: { shop_money: { amount: '4.00', currency_code: 'USD' } } },
    ];
    raw.total_price = '399.00';
    const order = shopify.normalizeOrder(raw);
    expect(order.money).toMatchObject({ shipping: 1000, discount: 400, total: 39900 });
    expect(ourTotal(order)).toBe(39900);
  });

  it('an amount that is not one becomes an invalid_amount problem, never a guess', () => {
    const raw = loadShopify('orders-create.json');
    raw.total_tax = '1,00';
    raw.line_items[1].discount_allocations[0].amount_set.shop_money.amount = '-5.00';
    const order = shopify.normalizeOrder(raw);
    expect(order.problems).toEqual([
      { code: 'invalid_amount', message: 'Shopify order: line 2 discount "-5.00" is not a valid USD amount' },
      { code: 'invalid_amount', message: 'Shopify order: total_tax "1,00" is not a valid USD amount' },
    ]);
  });
});

describe('woocommerce: the order money as the documented payloads say it', () => {
  it('order 727: line taxes 0.45 and 0.90, shipping 10.00, total 29.35 = ours', () => {
    const order = woocommerce.normalizeOrder(loadWoo('order-727.json'));
    expect(lineMoney(order)).toEqual([
      [null, 0, 45],
      ['Bar3', 0, 90],
    ]);
    expect(order.money).toEqual({
      shipping: 1000,
      discount: 0,
      tax: 135,
      total: 2935,
      pricesIncludeTax: false,
    });
    expect(ourTotal(order)).toBe(2935);
  });

  it('prices include tax and a coupon: gross discounts 3.00 and 2.50, tax inside, total 49.49 = ours', () => {
    const order = woocommerce.normalizeOrder(loadWoo('order-eur-coupon-tax-inclusive.json'));
    expect(lineMoney(order)).toEqual([
      ['CUP-ESP', 300, 431],
      ['GRINDER-BLK', 250, 359],
    ]);
    expect(order.money).toEqual({ shipping: 0, discount: 0, tax: 790, total: 4949, pricesIncludeTax: true });
    expect(ourTotal(order)).toBe(4949);
  });

  it('JPY (no decimals) and KWD (three): shipping and totals in minor units, equal to ours', () => {
    const jpy = woocommerce.normalizeOrder(loadWoo('order-jpy.json'));
    expect(jpy.money).toMatchObject({ shipping: 800, total: 8260 });
    expect(ourTotal(jpy)).toBe(8260);
    const kwd = woocommerce.normalizeOrder(loadWoo('order-kwd.json'));
    expect(kwd.money).toMatchObject({ shipping: 1500, total: 6000 });
    expect(ourTotal(kwd)).toBe(6000);
  });

  it('shipping tax goes into shipping when prices include tax (WooCommerce keeps shipping_total net)', () => {
    const raw = loadWoo<Record<string, any>>('order-eur-coupon-tax-inclusive.json');
    raw.shipping_total = '4.20';
    raw.shipping_tax = '0.80';
    raw.total = '54.49';
    const order = woocommerce.normalizeOrder(raw);
    expect(order.money).toMatchObject({ shipping: 500, total: 5449 });
    expect(ourTotal(order)).toBe(5449);
  });

  it('order 723 with its refunds: the channel total is less what was refunded; a refund tied to no line shows as the difference', () => {
    // 9.00 + 20.00 + 10.00 shipping = 39.00; refund 724 gives back line 311 (9.00), refund 726 10.00
    // tied to no line.
    const order = woocommerce.normalizeOrder({
      ...JSON.parse(wooFixture('order-723-webhook-body.txt').toString('utf8')),
    });
    expect(order.money?.total).toBe(2000);
    const withLines = woocommerce.normalizeOrder({
      ...JSON.parse(wooFixture('order-723-webhook-body.txt').toString('utf8')),
      refunds: JSON.parse(wooFixture('order-723-refunds.json').toString('utf8')),
    });
    expect(withLines.lines.map((l) => [l.productId, l.quantity])).toEqual([['34', 1]]);
    expect(withLines.money?.total).toBe(2000);
    expect(ourTotal(withLines)).toBe(3000);
  });

  it('a line with refunded units keeps the share of its discount and tax that falls on the units left', () => {
    const raw = loadWoo<Record<string, any>>('order-727.json');
    raw.refunds = [
      {
        id: 1,
        amount: '3.22',
        line_items: [
          { quantity: -1, meta_data: [{ key: '_refunded_item_id', value: String(raw.line_items[0].id) }] },
        ],
      },
    ];
    const order = woocommerce.normalizeOrder(raw);
    // 0.45 tax over 2 units, one left: 0.225 -> 0.23; the order's tax 1.35 less the 0.22 refunded.
    expect(lineMoney(order)[0]).toEqual([null, 0, 23]);
    // The refund of 3.22 was one unit (3.00) and its share of the tax (0.22): the totals agree.
    expect(order.money).toMatchObject({ tax: 113, total: 2935 - 322 });
    expect(ourTotal(order)).toBe(2613);
  });

  it('a line total above its subtotal, or an unreadable total, becomes an invalid_amount problem', () => {
    const raw = loadWoo<Record<string, any>>('order-727.json');
    raw.line_items[0].total = '7.00';
    raw.total = 'n/a';
    const order = woocommerce.normalizeOrder(raw);
    expect(order.problems.map((p) => p.message)).toEqual([
      'WooCommerce order: line 1 total 7.00 is more than its subtotal 6.00',
      'WooCommerce order: total "n/a" is not a valid USD amount',
    ]);
    expect(order.money).not.toHaveProperty('total');
  });
});
