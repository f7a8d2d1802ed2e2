import { describe, expect, it } from 'vitest';
import { quoteOutcome } from '../../src/domain/quote.js';
import { planTransferReceipt } from '../../src/domain/transfers.js';

const lines = [
  { skuId: 1, sku: 'BOLT', sent: 60, received: 25 },
  { skuId: 2, sku: 'NUT', sent: 5, received: 5 },
];

describe('planTransferReceipt', () => {
  it('takes everything still in transit when no lines are asked for', () => {
    expect(planTransferReceipt(lines, null)).toEqual({
      take: [{ skuId: 1, sku: 'BOLT', quantity: 35 }],
      unknown: [],
      over: [],
    });
  });

  it('takes what is asked for, codes in any letter case, the same SKU twice added up', () => {
    const plan = planTransferReceipt(lines, [
      { sku: 'bolt', quantity: 10 },
      { sku: 'BOLT', quantity: 25 },
    ]);
    expect(plan).toEqual({ take: [{ skuId: 1, sku: 'BOLT', quantity: 35 }], unknown: [], over: [] });
  });

  it('reports more than is in transit, and SKUs the transfer does not have', () => {
    const plan = planTransferReceipt(lines, [
      { sku: 'BOLT', quantity: 36 },
      { sku: 'NUT', quantity: 1 },
      { sku: 'GEAR', quantity: 1 },
    ]);
    expect(plan.unknown).toEqual(['GEAR']);
    expect(plan.over).toEqual([
      { sku: 'BOLT', sent: 60, received: 25, inTransit: 35, quantity: 36 },
      { sku: 'NUT', sent: 5, received: 5, inTransit: 0, quantity: 1 },
    ]);
    expect(plan.take).toEqual([]);
  });
});

describe('quoteOutcome', () => {
  const line = (reserved: number, backordered: number) => ({
    ordered: reserved + backordered,
    reserved,
    backordered,
    shipped: 0,
    cancelled: 0,
  });

  it('is what reservation gives when no step holds the order', () => {
    expect(quoteOutcome([[], [], []], [line(3, 0)])).toEqual({
      status: 'confirmed',
      holdReason: null,
      problems: [],
    });
    expect(quoteOutcome([[], [], []], [line(3, 0), line(1, 2)]).status).toBe('backordered');
  });

  it("holds with the first holding step's reason, as processing does, and lists every step's problems", () => {
    const noPrice = { code: 'no_price', message: 'no price' };
    const credit = { code: 'credit_limit', message: 'over' };
    const unknown = { code: 'unknown_sku', message: 'unknown' };
    expect(quoteOutcome([[], [noPrice], [credit]], [line(1, 0)])).toEqual({
      status: 'on_hold',
      holdReason: 'no_price',
      problems: [noPrice, credit],
    });
    expect(quoteOutcome([[unknown], [noPrice], []], [line(0, 1)])).toMatchObject({
      holdReason: 'unknown_sku',
      problems: [unknown, noPrice],
    });
  });
});
