import { describe, expect, it } from 'vitest';
import type { ChannelOrderSummary } from '../../connectors/contract.js';
import { summaryOf } from '../../connectors/shopify/reconcile.js';
import {
  compareOrder,
  compareStock,
  findingKey,
  missingThere,
  type OurOrder,
  theirsInWindow,
} from '../../src/domain/reconciliation.js';

const theirs = (over: Partial<ChannelOrderSummary> = {}): ChannelOrderSummary => ({
  externalId: '1001',
  name: '#1001',
  placedAt: '2026-11-20T09:00:00.000Z',
  updatedAt: '2026-11-20T09:00:00.000Z',
  cancelled: false,
  currency: 'EUR',
  total: 2500,
  tax: 0,
  shipping: 500,
  ...over,
});
const ours = (over: Partial<OurOrder> = {}): OurOrder => ({
  externalId: '1001',
  status: 'confirmed',
  open: true,
  currency: 'EUR',
  total: 2500,
  tax: 0,
  shipping: 500,
  placedAt: '2026-11-20T09:00:00.000Z',
  ...over,
});

describe('the reconciliation diff', () => {
  it('finds nothing when both sides agree', () => {
    expect(compareOrder('shopify:1', theirs(), ours(), true)).toEqual([]);
  });

  it('an order only on the channel is missing here, healed by intake', () => {
    const [f] = compareOrder('shopify:1', theirs(), null, true);
    expect(f).toMatchObject({ kind: 'order.missing_here', severity: 'error', heal: 'intake', ours: null });
    expect(findingKey(f!)).toBe('order.missing_here:shopify:1:1001');
  });

  it('cancelled there and open here is healed by cancelling only when the channel allows it', () => {
    expect(compareOrder('shopify:1', theirs({ cancelled: true }), ours(), true)[0]).toMatchObject({
      kind: 'order.cancelled_there',
      heal: 'cancel',
    });
    const reported = compareOrder('shopify:1', theirs({ cancelled: true }), ours(), false)[0];
    expect(reported?.kind).toBe('order.cancelled_there');
    expect(reported?.heal).toBeUndefined();
    // Already shipped here: no longer open, nothing to cancel and no amounts to compare.
    expect(
      compareOrder('shopify:1', theirs({ cancelled: true }), ours({ status: 'shipped', open: false }), true),
    ).toEqual([]);
  });

  it('cancelled here and open there is reported', () => {
    expect(
      compareOrder('shopify:1', theirs(), ours({ status: 'cancelled', open: false }), true)[0],
    ).toMatchObject({
      kind: 'order.cancelled_here',
      severity: 'warning',
    });
  });

  it('amounts: total, tax and shipping each compared where the channel gives a figure; never healed', () => {
    const [f] = compareOrder('shopify:1', theirs({ total: 2600, shipping: 600 }), ours(), true);
    expect(f).toMatchObject({ kind: 'order.amount_differs', message: 'order #1001: total, shipping differ' });
    expect(f?.heal).toBeUndefined();
    expect(
      compareOrder('shopify:1', theirs({ total: undefined, tax: undefined }), ours({ total: 1 }), true),
    ).toEqual([]);
    expect(compareOrder('shopify:1', theirs({ currency: 'USD' }), ours(), true)[0]?.message).toContain(
      'currency',
    );
  });

  it('an order of ours the channel does not list is missing there', () => {
    expect(missingThere('shopify:1', ours())).toMatchObject({ kind: 'order.missing_there', theirs: null });
  });

  it('the window takes orders placed or changed in it, end excluded', () => {
    const w = { from: Date.parse('2026-11-20T00:00:00Z'), to: Date.parse('2026-11-21T00:00:00Z') };
    expect(theirsInWindow(theirs(), w)).toBe(true);
    expect(
      theirsInWindow(theirs({ placedAt: '2026-11-01T00:00:00Z', updatedAt: '2026-11-20T23:59:59Z' }), w),
    ).toBe(true);
    expect(
      theirsInWindow(theirs({ placedAt: '2026-11-21T00:00:00Z', updatedAt: '2026-11-21T00:00:00Z' }), w),
    ).toBe(false);
  });

  it('stock drift: the channel shows another figure than the formula, with no push pending', () => {
    const at = { sku: 'TEE', published: 46, expected: 46, shown: 7, pending: false };
    expect(compareStock('shopify:1', at)).toMatchObject({
      kind: 'stock.drift',
      heal: 'push',
      theirs: { shown: 7 },
    });
    expect(compareStock('shopify:1', { ...at, pending: true })).toBeNull();
    expect(compareStock('shopify:1', { ...at, shown: 46 })).toBeNull();
    // The channel cannot say: what we last published against the formula.
    expect(compareStock('shopify:1', { ...at, shown: null })).toBeNull();
    expect(compareStock('shopify:1', { ...at, shown: null, published: 40 })).toMatchObject({
      kind: 'stock.drift',
    });
  });
});

describe('a Shopify bulk row as an order summary', () => {
  it('reads ids, times, cancellation and money in minor units', () => {
    expect(
      summaryOf({
        id: 'gid://shopify/Order/820982911946154508',
        name: '#1001',
        createdAt: '2026-11-20T09:00:00+01:00',
        updatedAt: '2026-11-20T10:00:00Z',
        cancelledAt: '2026-11-20T10:00:00Z',
        currencyCode: 'JPY',
        currentTotalPriceSet: { shopMoney: { amount: '2500.0' } },
        currentTotalTaxSet: { shopMoney: { amount: '0.0' } },
        totalShippingPriceSet: { shopMoney: { amount: '500.0' } },
      }),
    ).toEqual({
      externalId: '820982911946154508',
      name: '#1001',
      placedAt: '2026-11-20T08:00:00.000Z',
      updatedAt: '2026-11-20T10:00:00.000Z',
      cancelled: true,
      currency: 'JPY',
      total: 2500,
      tax: 0,
      shipping: 500,
    });
    expect(summaryOf({ id: 'nope', currencyCode: 'EUR', createdAt: 'x', updatedAt: 'y' })).toBeNull();
  });
});
