import { describe, expect, it } from 'vitest';
import { toMinorUnits } from '../../../connectors/shared/money.js';
import shopify, { parseJsonKeepingBigIds, shopifyIdString } from '../../../connectors/shopify/index.js';
import { PermanentError } from '../../../src/errors/index.js';
import { fixture } from './shopify-fixtures.js';

const load = (name: string) => parseJsonKeepingBigIds(fixture(name).toString('utf8'));

describe('shopify normalizeOrder (webhook shape)', () => {
  it('normalizes the documented orders/create sample: ids exact, money in cents, UTC times', () => {
    const order = shopify.normalizeOrder(load('orders-create.json'));
    expect(order).toEqual({
      externalId: '820982911946154508',
      name: '#9999',
      currency: 'USD',
      placedAt: '2022-01-01T00:00:00.000Z',
      updatedAt: '2022-01-01T00:00:00.000Z',
      cancelled: false,
      paid: true,
      customer: {
        channelCustomerId: '115310627314723954',
        name: 'John Smith',
        email: 'john@example.com',
        phone: '555-555-SHIP',
        language: 'en',
      },
      lines: [
        {
          channelSku: 'IPOD2008PINK',
          productId: '632910392',
          variantId: '808950810',
          inventoryItemId: null,
          title: 'IPod Nano - 8GB',
          quantity: 1,
          unitPrice: 19900,
          discount: 0,
          tax: 0,
        },
        {
          channelSku: 'IPOD2008BLACK',
          productId: '632910392',
          variantId: '457924702',
          inventoryItemId: null,
          title: 'IPod Nano - 8GB',
          quantity: 1,
          // The line's $5 discount allocation is not subtracted: unitPrice is the original price.
          unitPrice: 19900,
          discount: 500,
          tax: 0,
        },
      ],
      // total_price "403.00" = 398.00 - 5.00 (line discount) + 10.00 (shipping) + 0.00 tax.
      // The sample has no `taxes_included`: the channel's setting decides.
      money: { shipping: 1000, discount: 0, tax: 0, total: 40300 },
      problems: [],
    });
  });

  it('reads a cancelled order', () => {
    const order = shopify.normalizeOrder(load('orders-cancelled.json'));
    expect(order.cancelled).toBe(true);
    expect(order.updatedAt).toBe('2022-01-01T14:30:01.000Z');
    // financial_status "voided": not paid, so a trade customer's order would be credit-checked.
    expect(order.paid).toBeUndefined();
  });

  it('is paid only when financial_status is "paid"', () => {
    const body = load('orders-create.json') as Record<string, unknown>;
    expect(shopify.normalizeOrder(body).paid).toBe(true);
    for (const status of ['pending', 'authorized', 'partially_paid', 'refunded', undefined]) {
      const order = shopify.normalizeOrder({ ...body, financial_status: status });
      expect(order.paid).toBeUndefined();
    }
  });

  it('JPY has no minor unit; redacted customer contact data is not required', () => {
    const order = shopify.normalizeOrder(load('orders-create-jpy.json'));
    expect(order.externalId).toBe('5983246188591870123');
    expect(order.currency).toBe('JPY');
    expect(order.placedAt).toBe('2026-03-14T01:15:00.000Z');
    expect(order.lines.map((l) => [l.channelSku, l.quantity, l.unitPrice, l.variantId])).toEqual([
      ['MATCHA-100', 3, 1500, '44123456789012'],
      ['CHASEN', 1, 2960, null],
    ]);
    expect(order.customer).toEqual({ channelCustomerId: '7301887733501234567' });
    expect(order.problems).toEqual([]);
  });

  it('KWD has three decimals; a guest order has no customer; an empty SKU is null', () => {
    const order = shopify.normalizeOrder(load('orders-create-kwd.json'));
    expect(order.lines.map((l) => [l.channelSku, l.unitPrice])).toEqual([
      ['OUD-10', 12500],
      [null, 125],
    ]);
    expect(order.customer).toBeUndefined();
  });

  it('turns a line with a bad price or quantity into an invalid_line problem, keeping the rest', () => {
    const order = shopify.normalizeOrder(load('orders-create-bad-line.json'));
    expect(order.lines.map((l) => [l.channelSku, l.quantity, l.unitPrice])).toEqual([['GOOD-1', 2, 1999]]);
    expect(order.problems).toEqual([
      expect.objectContaining({ code: 'invalid_line', lineNo: 2, sku: 'BAD-PRICE' }),
      expect.objectContaining({ code: 'invalid_line', lineNo: 3, sku: 'BAD-QTY' }),
    ]);
    expect(order.problems[0]?.message).toContain('"19,99"');
    expect(order.customer).toEqual({ email: 'anna@example.com' });
  });

  it('prefers admin_graphql_api_id over an id that JSON.parse already rounded', () => {
    const lossy = JSON.parse(fixture('orders-create.json').toString('utf8'));
    expect(shopify.normalizeOrder(lossy).externalId).toBe('820982911946154508');
  });

  it('refuses a rounded id it cannot recover', () => {
    const lossy = JSON.parse(fixture('orders-create.json').toString('utf8'));
    delete lossy.admin_graphql_api_id;
    expect(() => shopify.normalizeOrder(lossy)).toThrow(PermanentError);
  });

  it.each([
    ['null', null],
    ['a string', 'orders/create'],
    ['an array', []],
    ['a product', { id: 632910392, title: 'IPod Nano', variants: [] }],
    ['an order without a currency', { id: '1', created_at: '2026-01-01T00:00:00Z', line_items: [] }],
    ['an order without a date', { id: '1', currency: 'EUR', created_at: 'yesterday', line_items: [] }],
  ])('throws invalid_payload for %s', (_what, payload) => {
    try {
      shopify.normalizeOrder(payload);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(PermanentError);
      expect((err as PermanentError).reason).toBe('invalid_payload');
    }
  });
});

describe('shopify normalizeOrder (GraphQL shape)', () => {
  it('normalizes the order node the pull returns, with the same ids as the webhook path', () => {
    const order = shopify.normalizeOrder(load('graphql-order-node.json'));
    expect(order).toMatchObject({
      externalId: '820982911946154508',
      name: '#9999',
      currency: 'EUR',
      placedAt: '2022-01-01T00:00:00.000Z',
      updatedAt: '2026-11-02T08:30:00.000Z',
      cancelled: false,
      customer: { channelCustomerId: '115310627314723954', name: 'John Smith', email: 'jon@example.com' },
      problems: [],
    });
    expect(order.lines).toEqual([
      {
        channelSku: 'IPOD2008PINK',
        productId: '632910392',
        variantId: '808950810',
        inventoryItemId: '808950810',
        title: 'IPod Nano - 8GB',
        quantity: 2,
        unitPrice: 19900,
      },
      {
        channelSku: null,
        productId: null,
        variantId: null,
        inventoryItemId: null,
        title: 'Custom engraving',
        quantity: 1,
        unitPrice: 1250,
      },
    ]);
  });

  it('accepts edges as well as nodes, and reads cancelledAt', () => {
    const node = load('graphql-order-node.json') as Record<string, any>;
    node.lineItems = { edges: node.lineItems.nodes.map((n: unknown) => ({ node: n })) };
    node.cancelledAt = '2026-11-02T09:00:00Z';
    const order = shopify.normalizeOrder(node);
    expect(order.lines).toHaveLength(2);
    expect(order.cancelled).toBe(true);
  });

  it('reads displayFinancialStatus PAID as paid on the channel', () => {
    const node = load('graphql-order-node.json') as Record<string, any>;
    expect(shopify.normalizeOrder(node).paid).toBeUndefined();
    expect(shopify.normalizeOrder({ ...node, displayFinancialStatus: 'PAID' }).paid).toBe(true);
    expect(shopify.normalizeOrder({ ...node, displayFinancialStatus: 'PENDING' }).paid).toBeUndefined();
  });
});

describe('toMinorUnits', () => {
  it.each([
    ['199.00', 'USD', 19900],
    ['0.1', 'EUR', 10],
    ['12.5', 'EUR', 1250],
    ['1500', 'JPY', 1500],
    ['1500.00', 'JPY', 1500],
    ['1.250', 'KWD', 1250],
    ['0.125', 'BHD', 125],
    ['19.990', 'USD', 1999],
    ['90071992547409.91', 'USD', 9007199254740991],
  ])('%s %s is %i minor units', (amount, currency, minor) => {
    expect(toMinorUnits(amount, currency)).toBe(minor);
  });

  it.each([
    ['1500.50', 'JPY'],
    ['1.2345', 'KWD'],
    ['19,99', 'EUR'],
    ['-1.00', 'USD'],
    ['', 'USD'],
    ['1e3', 'USD'],
    ['90071992547409.92', 'USD'],
    [null, 'USD'],
  ])('%s %s is not an amount', (amount, currency) => {
    expect(toMinorUnits(amount, currency)).toBeNull();
  });

  it('never goes through floats (0.1 + 0.2 style errors)', () => {
    expect(toMinorUnits('1.15', 'USD')).toBe(115); // 1.15 * 100 = 114.99999999999999
    expect(toMinorUnits('4.35', 'USD')).toBe(435); // 4.35 * 100 = 434.99999999999994
  });
});

describe('parseJsonKeepingBigIds / shopifyIdString', () => {
  it('turns only integers beyond 2^53 into strings, leaving strings and other numbers alone', () => {
    const parsed = parseJsonKeepingBigIds(
      '{"a":820982911946154508,"b":-9007199254740993,"c":9007199254740991,"d":"820982911946154508 \\" 123456789012345678","e":1.5e3,"f":[12345678901234567890]}',
    );
    expect(parsed).toEqual({
      a: '820982911946154508',
      b: '-9007199254740993',
      c: 9007199254740991,
      d: '820982911946154508 " 123456789012345678',
      e: 1500,
      f: ['12345678901234567890'],
    });
  });

  it('throws like JSON.parse on invalid JSON', () => {
    expect(() => parseJsonKeepingBigIds('{"id": 820982911946154508')).toThrow(SyntaxError);
  });

  it.each([
    ['gid://shopify/Order/820982911946154508', '820982911946154508'],
    ['gid://shopify/InventoryItem/42?foo=bar', '42'],
    ['820982911946154508', '820982911946154508'],
    [632910392, '632910392'],
    [820982911946154500, null],
    ['abc', null],
    [null, null],
  ])('shopifyIdString(%s) = %s', (input, expected) => {
    expect(shopifyIdString(input)).toBe(expected);
  });
});
