import { describe, expect, it } from 'vitest';
import shopify, { parseJsonKeepingBigIds } from '../../../connectors/shopify/index.js';
import { ORDERS_QUERY } from '../../../connectors/shopify/pull.js';
import woocommerce from '../../../connectors/woocommerce/index.js';
import { fixture as wooFixture } from '../../fixtures/woocommerce/helpers.js';
import { fixture, sign } from './shopify-fixtures.js';

const load = (name: string) => parseJsonKeepingBigIds(fixture(name).toString('utf8')) as Record<string, any>;

describe('channel refunds, as the connectors read them', () => {
  it('Shopify webhook body: each refund with its lines resolved to their items and restock types', () => {
    // Shopify's documented order #1001 after its partial refund (one refund, restock_type legacy_restock).
    const order = shopify.normalizeOrder(load('order-450789469-partially-refunded.json'));
    expect(order.refunds).toEqual([
      {
        id: '509562969',
        createdAt: '2025-04-02T16:29:59.000Z',
        lines: [
          expect.objectContaining({
            channelSku: 'IPOD2008BLACK',
            variantId: '457924702',
            quantity: 1,
            restockType: 'legacy_restock',
          }),
          expect.objectContaining({
            channelSku: 'IPOD2008GREEN',
            quantity: 1,
            restockType: 'legacy_restock',
          }),
        ],
        // Its refund transaction, and the value of the refunded lines (subtotal + tax): no allowance.
        money: { currency: 'USD', amount: 20900, linesAmount: 19566 + 398 + 19567 + 398 },
      },
    ]);
    // An order without refunds says none.
    expect(shopify.normalizeOrder(load('orders-create.json')).refunds).toBeUndefined();
  });

  it('Shopify webhook body: a line item named only by line_item_id is found among the order lines', () => {
    const body = load('order-450789469-partially-refunded.json');
    for (const item of body.refunds[0].refund_line_items) delete item.line_item;
    const order = shopify.normalizeOrder(body);
    expect(order.refunds?.[0]?.lines.map((l) => [l.channelSku, l.restockType])).toEqual([
      ['IPOD2008BLACK', 'legacy_restock'],
      ['IPOD2008GREEN', 'legacy_restock'],
    ]);
    // One it cannot find: the refund is left out whole rather than read in part.
    body.refunds[0].refund_line_items[0].line_item_id = 1;
    expect(shopify.normalizeOrder(body).refunds).toBeUndefined();
  });

  it('Shopify pull: refunds oldest first, money-only kept empty, one with more lines than asked left out', () => {
    const order = shopify.normalizeOrder(load('graphql-order-refunded.json'));
    expect(
      order.refunds?.map((r) => [r.id, r.lines.map((l) => [l.channelSku, l.quantity, l.restockType])]),
    ).toEqual([
      ['509562969', [['IPOD2008BLACK', 1, 'return']]],
      ['509562970', [['IPOD2008RED', 1, 'no_restock']]],
      ['509562971', []],
    ]);
    expect(order.refunds?.[0]?.lines[0]?.inventoryItemId).toBe('457924702');
    expect(ORDERS_QUERY).toMatch(
      /refunds\(first: \d+\) \{\s*id\s*createdAt\s*totalRefundedSet \{ shopMoney \{ amount currencyCode \} \}\s*refundLineItems\(first: \d+\)/,
    );
    expect(ORDERS_QUERY).toMatch(
      /nodes \{\s*quantity restockType lineItem \{ id \}\s*subtotalSet \{ shopMoney \{ amount \} \}\s*totalTaxSet \{ shopMoney \{ amount \} \}\s*\}/,
    );
    // The fixture's refunds carry no money fields: their money is not said (a webhook brings it).
    expect(order.refunds?.every((r) => r.money === undefined)).toBe(true);
  });

  it('Shopify pull: a refund with its money (totalRefundedSet) beside the refunded items’ subtotal and tax', () => {
    const node = load('graphql-order-refunded.json') as Record<string, unknown>;
    const amounts: Record<string, string> = {
      // pays back its unit and 10.00 more
      'gid://shopify/Refund/509562969': '234.87',
      // an amount that cannot be read
      'gid://shopify/Refund/509562970': 'lots',
      // money only
      'gid://shopify/Refund/509562971': '15.50',
    };
    const refunds = (node.refunds as Record<string, unknown>[]).map((r) => {
      const nodes = ((r.refundLineItems as { nodes: Record<string, unknown>[] }).nodes ?? []).map((n) => ({
        ...n,
        subtotalSet: { shopMoney: { amount: '199.00' } },
        totalTaxSet: { shopMoney: { amount: '25.87' } },
      }));
      return {
        ...r,
        refundLineItems: { ...(r.refundLineItems as Record<string, unknown>), nodes },
        totalRefundedSet: { shopMoney: { amount: amounts[String(r.id)] ?? '0', currencyCode: 'USD' } },
      };
    });
    const order = shopify.normalizeOrder({ ...node, refunds });
    const byId = new Map(order.refunds?.map((r) => [r.id, r.money]));
    expect(byId.get('509562969')).toEqual({ currency: 'USD', amount: 23487, linesAmount: 22487 });
    expect(byId.get('509562970')).toBeUndefined();
    expect(byId.get('509562971')).toEqual({ currency: 'USD', amount: 1550, linesAmount: 0 });
  });

  it('Shopify refunds/create: a webhook of its own kind naming the order, read with normalizeRefund', () => {
    const raw = fixture('refunds-create.json');
    const verified = shopify.verifyWebhook(
      raw,
      {
        'x-shopify-hmac-sha256': sign(raw),
        'x-shopify-topic': 'refunds/create',
        'x-shopify-event-id': 'e-1',
      },
      { webhookSecret: 'hush-app-client-secret' } as never,
    );
    expect(verified).toMatchObject({
      valid: true,
      envelope: {
        kind: 'order.refund',
        externalOrderId: '820982911946154508',
        deliveryId: 'refunds/create:e-1',
      },
    });
    const read = shopify.normalizeRefund!(load('refunds-create.json'));
    expect(read).toEqual({
      externalOrderId: '820982911946154508',
      refund: {
        id: '890088186047892319',
        createdAt: '2026-11-28T17:00:00.000Z',
        lines: [
          expect.objectContaining({ channelSku: 'IPOD2008PINK', quantity: 1, restockType: 'return' }),
          expect.objectContaining({ channelSku: 'IPOD2008GREEN', quantity: 1, restockType: 'no_restock' }),
        ],
      },
    });
    expect(() => shopify.normalizeRefund!({ id: 1 })).toThrow(/order_id/);
  });

  it('Shopify refunds/create: the money paid back (successful refund transactions) beside the refunded lines’ value', () => {
    const body = load('refunds-create.json');
    body.transactions = [
      { kind: 'refund', status: 'success', amount: '420.00', currency: 'USD' },
      // A failed attempt and a non-refund transaction pay nothing back.
      { kind: 'refund', status: 'failure', amount: '420.00', currency: 'USD' },
      { kind: 'sale', status: 'success', amount: '1.00', currency: 'USD' },
    ];
    expect(shopify.normalizeRefund!(body).refund.money).toEqual({
      currency: 'USD',
      amount: 42000,
      linesAmount: 19900 + 0 + 19567 + 398,
    });
    // Money only: no refund line items, everything paid back is beyond them.
    body.refund_line_items = [];
    body.transactions = [{ kind: 'refund', status: 'success', amount: '12.34', currency: 'USD' }];
    expect(shopify.normalizeRefund!(body).refund).toMatchObject({
      lines: [],
      money: { currency: 'USD', amount: 1234, linesAmount: 0 },
    });
    // An amount it cannot read: the money is not said (never guessed).
    body.transactions = [{ kind: 'refund', status: 'success', amount: 'twelve', currency: 'USD' }];
    expect(shopify.normalizeRefund!(body).refund.money).toBeUndefined();
  });

  it('Shopify, a multi-currency shop: refund transactions in the buyer’s presentment currency leave the money unsaid (the pull reads shop money)', () => {
    // refunds/create: the line items in shop money (USD), the transactions in the buyer's EUR.
    const body = load('refunds-create.json');
    body.transactions = [{ kind: 'refund', status: 'success', amount: '380.00', currency: 'EUR' }];
    const read = shopify.normalizeRefund!(body).refund;
    expect(read.lines).toHaveLength(2);
    expect(read.money).toBeUndefined();
    // The same in the shop's currency: read.
    body.transactions = [{ kind: 'refund', status: 'success', amount: '420.00', currency: 'USD' }];
    expect(shopify.normalizeRefund!(body).refund.money).toMatchObject({ currency: 'USD', amount: 42000 });
    // In an order webhook: the order's currency is the shop's.
    const order = load('order-450789469-partially-refunded.json');
    for (const t of order.refunds[0].transactions) t.currency = 'EUR';
    const [refund] = shopify.normalizeOrder(order).refunds ?? [];
    expect(refund?.lines).toHaveLength(2);
    expect(refund?.money).toBeUndefined();
    // A money-only refund in another currency than the order's: unsaid too.
    order.refunds[0].refund_line_items = [];
    expect(shopify.normalizeOrder(order).refunds?.[0]?.money).toBeUndefined();
  });

  it('Shopify: a refund line item without its tax amount leaves the money unsaid (not counted as 0)', () => {
    const body = load('refunds-create.json');
    body.transactions = [{ kind: 'refund', status: 'success', amount: '420.00', currency: 'USD' }];
    delete body.refund_line_items[1].total_tax;
    delete body.refund_line_items[1].total_tax_set;
    expect(shopify.normalizeRefund!(body).refund.money).toBeUndefined();
    delete body.refund_line_items[0].subtotal;
    delete body.refund_line_items[0].subtotal_set;
    expect(shopify.normalizeRefund!(body).refund.money).toBeUndefined();
  });

  it('WooCommerce: refunds with their line items (as GET orders/<id>/refunds gives them), no restock type', () => {
    const order = JSON.parse(wooFixture('order-723-webhook-body.txt').toString('utf8'));
    // As the connector reads it without asking the site: refunds by amount only, none whole.
    expect(woocommerce.normalizeOrder(order).refunds).toBeUndefined();
    order.refunds = JSON.parse(wooFixture('order-723-refunds.json').toString('utf8'));
    expect(woocommerce.normalizeOrder(order).refunds).toEqual([
      {
        id: '724',
        createdAt: '2017-03-21T19:55:37.000Z',
        lines: [
          {
            channelSku: null,
            productId: '87',
            variantId: null,
            inventoryItemId: null,
            quantity: 1,
            restockType: null,
          },
        ],
        money: { currency: 'USD', amount: 900, linesAmount: 900 },
      },
      // An amount with no line items: all of it beyond the lines (an allowance).
      {
        id: '726',
        createdAt: '2017-03-21T20:07:11.000Z',
        lines: [],
        money: { currency: 'USD', amount: 1000, linesAmount: 0 },
      },
    ]);
    expect(woocommerce.restockOnRefund?.(woocommerce.manifest.settingsSchema.parse(wooSettings()))).toBe(
      false,
    );
    expect(
      woocommerce.restockOnRefund?.(
        woocommerce.manifest.settingsSchema.parse({ ...wooSettings(), restockOnRefund: true }),
      ),
    ).toBe(true);
  });
});

function wooSettings() {
  return {
    siteUrl: 'https://woo.example.com',
    consumerKey: 'ck_x',
    consumerSecret: 'cs_x',
    webhookSecret: 'w',
  };
}
