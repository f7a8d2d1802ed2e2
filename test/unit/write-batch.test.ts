import { describe, expect, it } from 'vitest';
import { placeholders, rowValues } from '../../src/db/write-batch.js';

describe('multi-row INSERT helpers', () => {
  it('placeholders: one group of marks per row, as many marks as columns, every size asked for', () => {
    expect(placeholders(1, 1)).toBe('(?)');
    expect(placeholders(2, 3)).toBe('(?, ?, ?), (?, ?, ?)');
    // Sizes kept from earlier calls never answer for another size.
    expect(placeholders(3, 2)).toBe('(?, ?), (?, ?), (?, ?)');
    expect(placeholders(2, 3)).toBe('(?, ?, ?), (?, ?, ?)');
    for (const [rows, columns] of [
      [32, 16],
      [32, 4],
      [500, 5],
      [1, 1500],
    ] as const) {
      const text = placeholders(rows, columns);
      expect(text.match(/\(/g)).toHaveLength(rows);
      expect(text.match(/\?/g)).toHaveLength(rows * columns);
    }
  });

  it('rowValues: the rows’ values one after another, in order, nulls kept', () => {
    expect(rowValues([])).toEqual([]);
    expect(
      rowValues([
        [1, 'a', null],
        [2, 'b', 3],
      ]),
    ).toEqual([1, 'a', null, 2, 'b', 3]);
  });
});
