import { describe, expect, it } from 'vitest';
import { lowStockDecision } from '../../src/domain/low-stock.js';
import {
  channelItemChanged,
  DEFAULT_RULE,
  effectiveRule,
  publishedQuantity,
} from '../../src/domain/publication.js';

const wh = (onHand: number, reserved: number) => ({ onHand, reserved });

describe('publishedQuantity', () => {
  it.each([
    ['all of it by default', [wh(10, 2), wh(5, 0)], DEFAULT_RULE, 13],
    ['minus safety stock', [wh(10, 2)], { ...DEFAULT_RULE, safetyStock: 3 }, 5],
    ['never below zero', [wh(2, 2)], { ...DEFAULT_RULE, safetyStock: 3 }, 0],
    ['allocation rounds down', [wh(10, 0)], { ...DEFAULT_RULE, allocationPercent: 33 }, 3],
    [
      'safety first, then the share',
      [wh(20, 0)],
      { ...DEFAULT_RULE, safetyStock: 4, allocationPercent: 50 },
      8,
    ],
    ['capped', [wh(100, 0)], { ...DEFAULT_RULE, maxQuantity: 25 }, 25],
    ['cap above the share does nothing', [wh(10, 0)], { ...DEFAULT_RULE, maxQuantity: 25 }, 10],
    ['no feeding warehouse: nothing', [], DEFAULT_RULE, 0],
  ] as const)('%s', (_name, warehouses, rule, expected) => {
    expect(publishedQuantity(warehouses, rule)).toBe(expected);
  });
});

describe('effectiveRule', () => {
  it('takes the SKU setting over the channel setting, field by field', () => {
    expect(
      effectiveRule({ safetyStock: 5, allocationPercent: 50 }, { safetyStock: 1, maxQuantity: null }),
    ).toEqual({
      safetyStock: 1,
      allocationPercent: 50,
      maxQuantity: null,
    });
    expect(effectiveRule(null, null)).toEqual(DEFAULT_RULE);
  });
});

describe('lowStockDecision', () => {
  it('raises once when crossing below, re-arms above, raises again on the next fall', () => {
    let alerted = false;
    const raised: number[] = [];
    for (const available of [12, 10, 9, 8, 3, 10, 11, 9, 9]) {
      const d = lowStockDecision(alerted, available, 10);
      if (d.raise) raised.push(available);
      alerted = d.alerted;
    }
    expect(raised).toEqual([9, 9]);
  });

  it('does nothing without a reorder point', () => {
    expect(lowStockDecision(false, 0, null)).toEqual({ raise: false, alerted: false });
  });
});

describe('channelItemChanged', () => {
  const item = { productId: '7', variantId: '70', inventoryItemId: '700' };
  it('is false for the same ids, true when any id differs or appears', () => {
    expect(channelItemChanged(item, { ...item })).toBe(false);
    expect(channelItemChanged(item, { ...item, inventoryItemId: '701' })).toBe(true);
    expect(channelItemChanged(item, { ...item, variantId: null })).toBe(true);
    expect(
      channelItemChanged(
        { productId: null, variantId: null, inventoryItemId: null },
        { ...item, productId: null },
      ),
    ).toBe(true);
  });
});
