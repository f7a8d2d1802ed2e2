import { minorDigits } from '../shared/money.js';
import { bilingual } from './bilingual.js';

export { minorDigits };

/** A value read from a cell, or why it cannot be (`English / 中文`, see `bilingual`). */
export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string; en?: string; zh?: string };

/** A `Parsed` that failed, saying why in both languages (together in `message`; apart in `en`, `zh`). */
export const refused = (en: string, zh: string): { ok: false; message: string; en: string; zh: string } => ({
  ok: false,
  message: bilingual(en, zh),
  en,
  zh,
});

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/**
 * A price written in major units (`12.50`, `1500`, `0.125`) as integer minor units of `currency`,
 * from the digits alone: no float ever holds the amount. More decimals than the currency has are
 * refused unless they are zeros (`12.500` EUR is 1250, `12.505` EUR is refused, not rounded).
 * Thousands separators are refused: `1,234` reads as 1234 in one locale and 1.234 in another.
 */
export function parseMajorAmount(
  text: string,
  currency: string,
  label: { en: string; zh: string } = { en: 'unit price', zh: '单价' },
): Parsed<number> {
  const m = DECIMAL.exec(text);
  if (!m) {
    if (/^-\s*\d/.test(text))
      return refused(`${label.en} ${text} is negative`, `${label.zh} ${text} 不能为负数`);
    if (/^\d[\d,.\s]*$/.test(text) && text.includes(',')) {
      return refused(
        `${label.en} "${text}" has a comma: write it without thousands separators and with a decimal point, e.g. 1234.50`,
        `${label.zh}“${text}”含有逗号：请不要使用千位分隔符，小数部分用小数点，如 1234.50`,
      );
    }
    return refused(`${label.en} "${text}" is not a decimal number`, `${label.zh}“${text}”不是有效的数字`);
  }
  const whole = m[1] as string;
  const fraction = m[2] ?? '';
  const digits = minorDigits(currency);
  if (fraction.length > digits && !/^0*$/.test(fraction.slice(digits))) {
    const allowed = digits === 0 ? 'no decimals' : `at most ${digits} decimals`;
    const allowedZh = digits === 0 ? '不允许有小数' : `最多 ${digits} 位小数`;
    return refused(
      `${label.en} ${text} has too many decimals: ${currency} allows ${allowed}`,
      `${label.zh} ${text} 小数位过多：${currency} ${allowedZh}`,
    );
  }
  const minor = BigInt(whole + fraction.slice(0, digits).padEnd(digits, '0'));
  if (minor > BigInt(Number.MAX_SAFE_INTEGER))
    return refused(`${label.en} ${text} is too large`, `${label.zh} ${text} 过大`);
  return { ok: true, value: Number(minor) };
}

/** Integer minor units as a plain decimal string in major units: 1250 EUR -> `12.50`, 1500 JPY -> `1500`. */
export function formatMinor(minor: number, currency: string): string {
  const digits = minorDigits(currency);
  const sign = minor < 0 ? '-' : '';
  const text = String(Math.abs(minor)).padStart(digits + 1, '0');
  if (digits === 0) return sign + text;
  return `${sign}${text.slice(0, -digits)}.${text.slice(-digits)}`;
}
