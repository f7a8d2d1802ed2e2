import { describe, expect, it } from 'vitest';
import { cellText, numberText } from '../../../connectors/excel-inbox/cell-text.js';
import { parseQuantity } from '../../../connectors/excel-inbox/check-row.js';
import { formatMinor, minorDigits, parseMajorAmount } from '../../../connectors/excel-inbox/money.js';

describe('parseMajorAmount', () => {
  it.each([
    ['12.5', 'EUR', 1250],
    ['12.50', 'EUR', 1250],
    ['0.10', 'EUR', 10],
    ['0.1', 'EUR', 10],
    ['12', 'EUR', 1200],
    ['0', 'EUR', 0],
    ['007.05', 'EUR', 705],
    ['12.500', 'EUR', 1250],
    ['19.99', 'USD', 1999],
    ['1500', 'JPY', 1500],
    ['1500.00', 'JPY', 1500],
    ['1.234', 'KWD', 1234],
    ['90071992547409.91', 'EUR', 9007199254740991],
  ])('%s %s is %d minor units', (text, currency, minor) => {
    expect(parseMajorAmount(text, currency)).toEqual({ ok: true, value: minor });
  });

  it.each([
    [
      '12.345',
      'EUR',
      'unit price 12.345 has too many decimals: EUR allows at most 2 decimals / 单价 12.345 小数位过多：EUR 最多 2 位小数',
    ],
    [
      '1500.5',
      'JPY',
      'unit price 1500.5 has too many decimals: JPY allows no decimals / 单价 1500.5 小数位过多：JPY 不允许有小数',
    ],
    [
      '1.2345',
      'KWD',
      'unit price 1.2345 has too many decimals: KWD allows at most 3 decimals / 单价 1.2345 小数位过多：KWD 最多 3 位小数',
    ],
    ['-1', 'EUR', 'unit price -1 is negative / 单价 -1 不能为负数'],
    ['-0.50', 'EUR', 'unit price -0.50 is negative / 单价 -0.50 不能为负数'],
    ['abc', 'EUR', 'unit price "abc" is not a decimal number / 单价“abc”不是有效的数字'],
    ['€12', 'EUR', 'unit price "€12" is not a decimal number / 单价“€12”不是有效的数字'],
    ['12.', 'EUR', 'unit price "12." is not a decimal number / 单价“12.”不是有效的数字'],
    ['.5', 'EUR', 'unit price ".5" is not a decimal number / 单价“.5”不是有效的数字'],
    ['1e3', 'EUR', 'unit price "1e3" is not a decimal number / 单价“1e3”不是有效的数字'],
    ['90071992547409.92', 'EUR', 'unit price 90071992547409.92 is too large / 单价 90071992547409.92 过大'],
  ])('%s %s is refused', (text, currency, message) => {
    expect(parseMajorAmount(text, currency)).toMatchObject({ ok: false, message });
  });

  // Decision: a comma is refused rather than guessed at. `1,234.50` (thousands separator) and
  // `1.234,50` / `12,50` (decimal comma) mean different amounts in different locales.
  it.each(['1,234.50', '1.234,50', '12,50', '1,000'])('refuses the comma in %s', (text) => {
    const r = parseMajorAmount(text, 'EUR');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toContain('has a comma');
    expect(!r.ok && r.message).toContain(`单价“${text}”含有逗号`);
  });
});

describe('formatMinor and minorDigits', () => {
  it.each([
    [1250, 'EUR', '12.50'],
    [10, 'EUR', '0.10'],
    [5, 'EUR', '0.05'],
    [0, 'EUR', '0.00'],
    [1500, 'JPY', '1500'],
    [1234, 'KWD', '1.234'],
    [-150, 'EUR', '-1.50'],
  ])('%d %s is %s', (minor, currency, text) => {
    expect(formatMinor(minor, currency)).toBe(text);
  });

  it('knows the currencies that do not have two decimals', () => {
    expect([minorDigits('EUR'), minorDigits('JPY'), minorDigits('KWD'), minorDigits('CLF')]).toEqual([
      2, 0, 3, 4,
    ]);
  });
});

describe('numberText', () => {
  it.each([
    [12.5, '12.5'],
    [0.1, '0.1'],
    [3, '3'],
    [1250, '1250'],
    [0.1 + 0.2, '0.3'],
    [10 * 1.19, '11.9'],
    [10 / 3, '3.33333333333333'],
    [1e21, '1000000000000000000000'],
    [1.5e-7, '0.00000015'],
    [-2.5, '-2.5'],
  ])('%d reads as %s', (n, text) => {
    expect(numberText(n)).toBe(text);
  });
});

describe('cellText', () => {
  it.each([
    [null, ''],
    [undefined, ''],
    ['  A-1 ', 'A-1'],
    [12.5, '12.5'],
    [true, 'TRUE'],
    [{ richText: [{ text: 'A-' }, { text: '1' }] }, 'A-1'],
    [{ text: 'A-1', hyperlink: 'https://example.com' }, 'A-1'],
    [{ formula: 'B2*2', result: 4 }, '4'],
    [{ sharedFormula: 'D2', result: 'x' }, 'x'],
    [{ formula: 'B2*2' }, ''],
    [{ error: '#N/A' }, '#N/A'],
    [new Date('2026-01-02T00:00:00Z'), '2026-01-02T00:00:00.000Z'],
  ])('%j reads as %j', (value, text) => {
    expect(cellText(value)).toBe(text);
  });
});

describe('parseQuantity', () => {
  it.each([
    ['3', 3],
    ['3.0', 3],
    ['03', 3],
    ['1000000', 1_000_000],
  ])('%s is %d', (text, n) => {
    expect(parseQuantity(text)).toEqual({ ok: true, value: n });
  });

  it.each([
    ['', 'quantity is missing / 缺少数量'],
    ['abc', 'quantity "abc" is not a number / 数量“abc”不是数字'],
    ['2.5', 'quantity 2.5 is not a whole number / 数量 2.5 不是整数'],
    ['-3', 'quantity -3 must be at least 1 / 数量 -3 不能小于 1'],
    ['0', 'quantity 0 must be at least 1 / 数量 0 不能小于 1'],
    ['0.0', 'quantity 0.0 must be at least 1 / 数量 0.0 不能小于 1'],
    ['1,000', 'quantity "1,000" is not a number / 数量“1,000”不是数字'],
    ['1000001', 'quantity 1000001 is more than 1000000 / 数量 1000001 超过上限 1000000'],
    [
      '99999999999999999999',
      'quantity 99999999999999999999 is more than 1000000 / 数量 99999999999999999999 超过上限 1000000',
    ],
  ])('%j is refused', (text, message) => {
    expect(parseQuantity(text)).toMatchObject({ ok: false, message });
  });
});
