import { describe, expect, it, onTestFinished } from 'vitest';
import woocommerce, {
  lineUnitPrice,
  wooDateToIso,
  wooIdString,
} from '../../../connectors/woocommerce/index.js';
import { PermanentError } from '../../../src/errors/index.js';
import { fixture, load } from '../../fixtures/woocommerce/helpers.js';

describe('woocommerce normalizeOrder', () => {
  it('normalizes the documented order 727: guest, two lines, one a variation, UTC times, cents', () => {
    const order = woocommerce.normalizeOrder(load('order-727.json'));
    expect(order).toEqual({
      externalId: '727',
      name: '#727',
      // date_paid is set: paid on the channel.
      paid: true,
      currency: 'USD',
      // date_created_gmt "2017-03-22T19:28:02" is UTC; date_created "16:28:02" is the site's zone.
      placedAt: '2017-03-22T19:28:02.000Z',
      updatedAt: '2017-03-22T19:28:08.000Z',
      cancelled: false,
      // customer_id 0: a guest, so no customer code.
      customer: { name: 'John Doe', email: 'john.doe@example.com', phone: '(555) 555-5555' },
      lines: [
        {
          channelSku: null,
          productId: '93',
          variantId: null,
          inventoryItemId: null,
          title: 'Woo Single #1',
          quantity: 2,
          unitPrice: 300,
          discount: 0,
          tax: 45,
        },
        {
          channelSku: 'Bar3',
          productId: '22',
          variantId: '23',
          inventoryItemId: null,
          title: 'Ship Your Idea &ndash; Color: Black, Size: M Test',
          quantity: 1,
          unitPrice: 1200,
          discount: 0,
          tax: 90,
        },
      ],
      // total "29.35" = 18.00 + 10.00 shipping + 1.35 tax.
      money: { shipping: 1000, discount: 0, tax: 135, total: 2935, pricesIncludeTax: false },
      problems: [],
    });
  });

  it('a registered customer is the buyer with its customer_id; the body as WooCommerce sends it parses', () => {
    const order = woocommerce.normalizeOrder(JSON.parse(fixture('order-723-webhook-body.txt').toString()));
    expect(order.customer).toEqual({
      channelCustomerId: '26',
      name: 'João Silva',
      email: 'joao.silva@example.com',
      phone: '(11) 1111-1111',
    });
    expect(order.lines.map((l) => [l.productId, l.unitPrice])).toEqual([
      ['87', 900],
      ['34', 2000],
    ]);
    // Refunds on a completed order do not cancel it.
    expect(order.cancelled).toBe(false);
    // date_paid null (a bank transfer not yet received): not paid on the channel.
    expect(order.paid).toBeUndefined();
  });

  it('prices include tax and a coupon applies: the unit price is the listed gross price before the coupon', () => {
    const raw = load('order-eur-coupon-tax-inclusive.json');
    const order = woocommerce.normalizeOrder(raw);
    expect(order).toMatchObject({
      externalId: '4817',
      currency: 'EUR',
      placedAt: '2026-10-24T16:05:11.000Z',
      updatedAt: '2026-10-24T16:07:40.000Z',
      customer: { channelCustomerId: '12', name: 'Jürgen Weiß', email: 'j.weiss@example.de' },
      problems: [],
    });
    expect(order.lines).toEqual([
      {
        channelSku: 'CUP-ESP',
        productId: '310',
        variantId: null,
        inventoryItemId: null,
        title: 'Espresso-Tasse',
        quantity: 3,
        // subtotal "25.21" + subtotal_tax "4.79" = 30.00 over 3; `price` (7.56…, after the coupon,
        // without tax, a float) is not used.
        unitPrice: 1000,
        // The coupon took (25.21 - 22.69) + (4.79 - 4.31) off the gross line.
        discount: 300,
        tax: 431,
      },
      {
        channelSku: 'GRINDER-BLK',
        productId: '320',
        variantId: '327',
        inventoryItemId: null,
        title: 'Kaffeemühle - Schwarz',
        quantity: 1,
        unitPrice: 2499,
        discount: 250,
        tax: 359,
      },
    ]);
  });

  it('without tax-inclusive prices, the unit price is the net subtotal over the quantity', () => {
    const raw = load('order-eur-coupon-tax-inclusive.json');
    raw.prices_include_tax = false;
    expect(woocommerce.normalizeOrder(raw).lines.map((l) => l.unitPrice)).toEqual([
      // 25.21 does not divide by 3: that line is reported, not rounded.
      2100,
    ]);
    expect(woocommerce.normalizeOrder(raw).problems).toEqual([
      {
        code: 'invalid_line',
        message: 'line 1 (CUP-ESP): subtotal 25.21 over quantity 3 is not a whole number of EUR minor units',
        lineNo: 1,
        sku: 'CUP-ESP',
      },
    ]);
  });

  it('reads currencies by their minor unit: JPY none, KWD three', () => {
    const jpy = woocommerce.normalizeOrder(load('order-jpy.json'));
    expect(jpy.currency).toBe('JPY');
    expect(jpy.placedAt).toBe('2026-03-14T01:15:00.000Z');
    expect(jpy.lines.map((l) => [l.channelSku, l.quantity, l.unitPrice, l.variantId])).toEqual([
      ['MATCHA-100', 3, 1500, null],
      ['CHASEN-100', 1, 2960, '81'],
    ]);
    // A guest with an empty billing address: no customer at all.
    expect(jpy.customer).toBeUndefined();

    const kwd = woocommerce.normalizeOrder(load('order-kwd.json'));
    expect(kwd.lines.map((l) => [l.quantity, l.unitPrice])).toEqual([[2, 2250]]);
    expect(kwd.customer?.channelCustomerId).toBe('5');
  });

  it('cancelled, refunded and trash orders are cancelled; failed (can still be paid) and the others are not', () => {
    const statuses = [
      'pending',
      'processing',
      'on-hold',
      'completed',
      'cancelled',
      'refunded',
      'failed',
      'trash',
    ];
    const cancelled = Object.fromEntries(
      statuses.map((status) => {
        const raw = load('order-727.json');
        raw.status = status;
        return [status, woocommerce.normalizeOrder(raw).cancelled];
      }),
    );
    expect(cancelled).toEqual({
      pending: false,
      processing: false,
      'on-hold': false,
      completed: false,
      cancelled: true,
      refunded: true,
      failed: false,
      trash: true,
    });
    expect(woocommerce.normalizeOrder(load('order-727-cancelled.json'))).toMatchObject({
      cancelled: true,
      updatedAt: '2017-03-23T12:14:40.000Z',
    });
  });

  it('bad lines become problems; the good line stays', () => {
    const order = woocommerce.normalizeOrder(load('order-bad-lines.json'));
    expect(order.lines.map((l) => [l.channelSku, l.unitPrice])).toEqual([['SINGLE-1', 300]]);
    expect(order.problems).toEqual([
      {
        code: 'invalid_line',
        message: 'line 2 (LOGO): quantity 0 is not a whole number of at least 1',
        lineNo: 2,
        sku: 'LOGO',
      },
      {
        code: 'invalid_line',
        message: 'line 3 (THIRD): subtotal 10.00 over quantity 3 is not a whole number of USD minor units',
        lineNo: 3,
        sku: 'THIRD',
      },
    ]);
  });

  it('reports a line that is not an object, or whose subtotal is missing or negative', () => {
    const raw = load('order-727.json');
    const lines = raw.line_items as Record<string, unknown>[];
    raw.line_items = ['nonsense', { ...lines[0], subtotal: undefined }, { ...lines[1], subtotal: '-12.00' }];
    const order = woocommerce.normalizeOrder(raw);
    expect(order.lines).toEqual([]);
    expect(order.problems.map((p) => p.message)).toEqual([
      'line 1: quantity null is not a whole number of at least 1',
      'line 2: subtotal null is not a valid USD amount',
      'line 3 (Bar3): subtotal "-12.00" is not a valid USD amount',
    ]);
  });

  it('reads the _gmt dates as UTC whatever zone this process runs in', () => {
    const tz = process.env.TZ;
    process.env.TZ = 'Europe/Berlin';
    onTestFinished(() => {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    });
    // Read in the process's zone, a zone-less value would be Berlin time here.
    expect(new Date('2026-10-25T00:30:00').toISOString()).not.toBe('2026-10-25T00:30:00.000Z');
    const raw = load('order-727.json');
    raw.date_created_gmt = '2026-10-25T00:30:00';
    raw.date_created = '2026-10-25T02:30:00';
    raw.date_modified_gmt = '2026-10-25T01:30:00';
    raw.date_modified = '2026-10-25T02:30:00';
    const order = woocommerce.normalizeOrder(raw);
    // Same local time, an hour apart in fact (summer time ended in between).
    expect(order.placedAt).toBe('2026-10-25T00:30:00.000Z');
    expect(order.updatedAt).toBe('2026-10-25T01:30:00.000Z');
  });

  it('falls back to the site-local date only when the _gmt one is absent', () => {
    const raw = load('order-727.json');
    delete raw.date_created_gmt;
    delete raw.date_modified_gmt;
    delete raw.date_modified;
    const order = woocommerce.normalizeOrder(raw);
    expect(order.placedAt).toBe('2017-03-22T16:28:02.000Z');
    expect(order.updatedAt).toBe(order.placedAt);
  });

  it('throws invalid_payload for payloads that are not orders', () => {
    for (const payload of [
      null,
      'order',
      [],
      load('order-deleted.json'),
      { ...load('order-727.json'), id: 0 },
      { ...load('order-727.json'), currency: 'dollars' },
      { ...load('order-727.json'), date_created_gmt: 'yesterday', date_created: null },
    ]) {
      let caught: unknown;
      try {
        woocommerce.normalizeOrder(payload);
      } catch (err) {
        caught = err;
      }
      expect(caught, JSON.stringify(payload)?.slice(0, 40)).toBeInstanceOf(PermanentError);
      expect((caught as PermanentError).reason).toBe('invalid_payload');
    }
  });
});

describe('woocommerce normalization helpers', () => {
  it('lineUnitPrice divides exactly on the digits, never through floats', () => {
    expect(lineUnitPrice({ quantity: 3, subtotal: '0.30' }, 'USD', false)).toEqual({ ok: true, minor: 10 });
    expect(lineUnitPrice({ quantity: 7, subtotal: '1.19' }, 'EUR', false)).toEqual({ ok: true, minor: 17 });
    expect(lineUnitPrice({ quantity: 1, subtotal: '8.40', subtotal_tax: '1.60' }, 'EUR', true)).toEqual({
      ok: true,
      minor: 1000,
    });
    expect(lineUnitPrice({ quantity: 2, subtotal: '1500.00' }, 'JPY', false)).toEqual({
      ok: true,
      minor: 750,
    });
    expect(lineUnitPrice({ quantity: 1, subtotal: '1500.50' }, 'JPY', false).ok).toBe(false);
    expect(lineUnitPrice({ quantity: 1, subtotal: 9.99 }, 'USD', false)).toEqual({ ok: true, minor: 999 });
    expect(lineUnitPrice({ quantity: 1, subtotal: '9.99' }, 'USD', true).ok).toBe(false);
    expect(lineUnitPrice({ quantity: 1.5, subtotal: '3.00' }, 'USD', false).ok).toBe(false);
  });

  it('wooDateToIso treats a value without a zone as UTC and honours an explicit one', () => {
    expect(wooDateToIso('2017-03-22T19:28:02')).toBe('2017-03-22T19:28:02.000Z');
    expect(wooDateToIso('2017-03-22 19:28:02')).toBe('2017-03-22T19:28:02.000Z');
    expect(wooDateToIso('2017-03-22T19:28:02Z')).toBe('2017-03-22T19:28:02.000Z');
    expect(wooDateToIso('2017-03-22T21:28:02+02:00')).toBe('2017-03-22T19:28:02.000Z');
    expect(wooDateToIso('2017-03-22T21:28:02+0200')).toBe('2017-03-22T19:28:02.000Z');
    expect(wooDateToIso('2017-03-22')).toBeNull();
    expect(wooDateToIso(null)).toBeNull();
    expect(wooDateToIso('22/03/2017 19:28')).toBeNull();
  });

  it('wooIdString: 0 means none', () => {
    expect(wooIdString(727)).toBe('727');
    expect(wooIdString('727')).toBe('727');
    expect(wooIdString(0)).toBeNull();
    expect(wooIdString('0')).toBeNull();
    expect(wooIdString(-1)).toBeNull();
    expect(wooIdString(2 ** 53 + 2)).toBeNull();
    expect(wooIdString(null)).toBeNull();
  });
});
