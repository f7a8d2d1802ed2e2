import { describe, expect, it } from 'vitest';
import { attachmentDisposition, safeFileName } from '../../src/inbox/file-name.js';

describe('safeFileName', () => {
  it.each([
    ['../../../../../etc/PWNED.csv', 'PWNED.csv'],
    ['..\\..\\Windows\\orders.xlsx', 'orders.xlsx'],
    ['C:\\Users\\a\\orders.xlsx', 'orders.xlsx'],
    ['..', 'upload'],
    ['', 'upload'],
    ['.hidden.csv', 'hidden.csv'],
    ['a\u0000b\nc.csv', 'abc.csv'],
    ['订单.csv', '订单.csv'],
  ])('%j -> %j', (name, safe) => {
    expect(safeFileName(name)).toBe(safe);
  });

  it('shortens a very long name and keeps its extension', () => {
    const safe = safeFileName(`${'x'.repeat(400)}.xlsx`);
    expect(safe).toHaveLength(150);
    expect(safe.endsWith('.xlsx')).toBe(true);
  });
});

describe('attachmentDisposition', () => {
  it('escapes a quote instead of ending the quoted file name with it', () => {
    expect(attachmentDisposition('a"b.result.xlsx')).toBe(
      `attachment; filename="a_b.result.xlsx"; filename*=UTF-8''a%22b.result.xlsx`,
    );
  });

  it('gives non-ASCII names in filename* and an ASCII fallback', () => {
    expect(attachmentDisposition('订单.result.xlsx')).toBe(
      `attachment; filename="__.result.xlsx"; filename*=UTF-8''%E8%AE%A2%E5%8D%95.result.xlsx`,
    );
  });
});
