import { describe, expect, it } from 'vitest';
import { allocate, allocateInTurn, type WarehouseStock } from '../../src/domain/allocation.js';

const wh = (
  warehouseId: number,
  priority: number,
  onHand: number,
  reserved = 0,
  code = `w${warehouseId}`,
): WarehouseStock => ({
  warehouseId,
  priority,
  code,
  onHand,
  reserved,
});

describe('allocate', () => {
  it('takes from the highest-priority warehouse first', () => {
    expect(allocate(3, [wh(2, 5, 10), wh(1, 1, 10)])).toEqual({
      allocations: [{ warehouseId: 1, quantity: 3 }],
      reserved: 3,
      backordered: 0,
    });
  });

  it('spills over to the next warehouse and backorders the rest', () => {
    expect(allocate(10, [wh(1, 1, 4, 1), wh(2, 2, 5)])).toEqual({
      allocations: [
        { warehouseId: 1, quantity: 3 },
        { warehouseId: 2, quantity: 5 },
      ],
      reserved: 8,
      backordered: 2,
    });
  });

  it('breaks priority ties by warehouse code, whatever order the rows come in', () => {
    const a = allocate(1, [wh(1, 1, 5, 0, 'zeta'), wh(2, 1, 5, 0, 'alpha')]);
    const b = allocate(1, [wh(2, 1, 5, 0, 'alpha'), wh(1, 1, 5, 0, 'zeta')]);
    expect(a).toEqual(b);
    expect(a.allocations).toEqual([{ warehouseId: 2, quantity: 1 }]);
  });

  it('backorders everything when nothing is available (or stock rows are missing)', () => {
    expect(allocate(2, [wh(1, 1, 5, 5)])).toEqual({ allocations: [], reserved: 0, backordered: 2 });
    expect(allocate(2, [])).toEqual({ allocations: [], reserved: 0, backordered: 2 });
  });

  it('never hands out more than on hand minus reserved, even from inconsistent input', () => {
    expect(allocate(5, [wh(1, 1, 3, 7)]).reserved).toBe(0);
  });

  it('rejects quantities that are not whole and non-negative', () => {
    expect(() => allocate(-1, [])).toThrow(RangeError);
    expect(() => allocate(1.5, [])).toThrow(RangeError);
  });
});

describe('allocateInTurn', () => {
  it('lets earlier requests take stock before later ones and updates the pool', () => {
    const pool = new Map([[7, [wh(1, 1, 3)]]]);
    const results = allocateInTurn(
      [
        { skuId: 7, quantity: 2 },
        { skuId: 7, quantity: 2 },
        { skuId: 8, quantity: 1 },
      ],
      pool,
    );
    expect(results.map((r) => [r.reserved, r.backordered])).toEqual([
      [2, 0],
      [1, 1],
      [0, 1],
    ]);
    expect(pool.get(7)![0]!.reserved).toBe(3);
  });
});
