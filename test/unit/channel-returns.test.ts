import { describe, expect, it } from 'vitest';
import {
  type ChannelRefund,
  planChannelReturns,
  type ReturnableLine,
} from '../../src/domain/channel-returns.js';

const shipped = (sku: string, ordered: number, shippedUnits = ordered, returned = 0): ReturnableLine => ({
  sku,
  ordered,
  shipped: shippedUnits,
  returned,
});
const refund = (reference: string, lines: ChannelRefund['lines']): ChannelRefund => ({ reference, lines });
const base = { recorded: new Set<string>(), channelCurrent: null, restockUnsaid: false };

describe('planChannelReturns', () => {
  it('returns the shipped units of a refund, restocked as the restock type says', () => {
    expect(
      planChannelReturns(
        [
          refund('r1', [
            { sku: 'TEE', quantity: 2, restockType: 'return' },
            { sku: 'MUG', quantity: 1, restockType: 'no_restock' },
          ]),
        ],
        [shipped('TEE', 3), shipped('MUG', 1)],
        base,
      ),
    ).toEqual([
      {
        reference: 'r1',
        lines: [
          { sku: 'TEE', quantity: 2, restock: true },
          { sku: 'MUG', quantity: 1, restock: false },
        ],
      },
    ]);
  });

  it('legacy_restock restocks; an unsaid type takes the channel setting', () => {
    const lines = [shipped('TEE', 5)];
    expect(
      planChannelReturns(
        [refund('r', [{ sku: 'tee', quantity: 1, restockType: 'legacy_restock' }])],
        lines,
        base,
      )[0]!.lines,
    ).toEqual([{ sku: 'TEE', quantity: 1, restock: true }]);
    expect(
      planChannelReturns([refund('r', [{ sku: 'TEE', quantity: 1, restockType: null }])], lines, base)[0]!
        .lines,
    ).toEqual([{ sku: 'TEE', quantity: 1, restock: false }]);
    expect(
      planChannelReturns([refund('r', [{ sku: 'TEE', quantity: 1, restockType: null }])], lines, {
        ...base,
        restockUnsaid: true,
      })[0]!.lines,
    ).toEqual([{ sku: 'TEE', quantity: 1, restock: true }]);
  });

  it('makes no return of cancelled (unfulfilled) units, of money only, of a refund recorded before', () => {
    const lines = [shipped('TEE', 5)];
    expect(
      planChannelReturns([refund('c', [{ sku: 'TEE', quantity: 2, restockType: 'cancel' }])], lines, base),
    ).toEqual([]);
    expect(planChannelReturns([refund('m', [])], lines, base)).toEqual([]);
    expect(
      planChannelReturns([refund('old', [{ sku: 'TEE', quantity: 2, restockType: 'return' }])], lines, {
        ...base,
        recorded: new Set(['old']),
      }),
    ).toEqual([]);
    // Twice in one payload: once.
    expect(
      planChannelReturns(
        [
          refund('r', [{ sku: 'TEE', quantity: 1, restockType: 'return' }]),
          refund('r', [{ sku: 'TEE', quantity: 1, restockType: 'return' }]),
        ],
        lines,
        base,
      ),
    ).toHaveLength(1);
  });

  it('takes at most what shipped and did not come back, refund after refund', () => {
    const lines = [shipped('TEE', 5, 3, 1)];
    expect(
      planChannelReturns(
        [
          refund('a', [{ sku: 'TEE', quantity: 1, restockType: 'return' }]),
          refund('b', [{ sku: 'TEE', quantity: 4, restockType: 'no_restock' }]),
          refund('c', [{ sku: 'TEE', quantity: 1, restockType: 'return' }]),
        ],
        lines,
        base,
      ),
    ).toEqual([
      { reference: 'a', lines: [{ sku: 'TEE', quantity: 1, restock: true }] },
      { reference: 'b', lines: [{ sku: 'TEE', quantity: 1, restock: false }] },
    ]);
  });

  it("with the channel's order: units the amendment took off before they shipped are never a return", () => {
    // Refunded 2 of 5 before shipping: our line became 3 and shipped 3; the channel still holds 3.
    const current = new Map([['tee', 3]]);
    expect(
      planChannelReturns(
        [refund('early', [{ sku: 'TEE', quantity: 2, restockType: 'no_restock' }])],
        [shipped('TEE', 3)],
        { ...base, channelCurrent: current },
      ),
    ).toEqual([]);
    // Shipped 5, refunded 2 after: the channel holds 3, our line 5.
    expect(
      planChannelReturns(
        [refund('late', [{ sku: 'TEE', quantity: 2, restockType: 'no_restock' }])],
        [shipped('TEE', 5)],
        { ...base, channelCurrent: current },
      ),
    ).toEqual([{ reference: 'late', lines: [{ sku: 'TEE', quantity: 2, restock: false }] }]);
    // A return recorded by hand already took those 2 back: the refund adds none.
    expect(
      planChannelReturns(
        [refund('late', [{ sku: 'TEE', quantity: 2, restockType: 'return' }])],
        [shipped('TEE', 5, 5, 2)],
        { ...base, channelCurrent: current },
      ),
    ).toEqual([]);
  });

  it('adds up a SKU over several lines, and ignores SKUs not on the order', () => {
    expect(
      planChannelReturns(
        [
          refund('r', [
            { sku: 'TEE', quantity: 3, restockType: 'return' },
            { sku: 'GHOST', quantity: 1, restockType: 'return' },
          ]),
        ],
        [shipped('TEE', 2), shipped('TEE', 2)],
        base,
      ),
    ).toEqual([{ reference: 'r', lines: [{ sku: 'TEE', quantity: 3, restock: true }] }]);
  });
});
