/**
 * Excel shows and keeps 15 significant digits. A formula such as `=10*1.19` stores
 * 11.899999999999999 but shows 11.9; reading the number to 15 digits gives back what the customer
 * sees, so that it is checked as written instead of failing on binary noise.
 */
const EXCEL_DIGITS = 15;

/** Expands JavaScript's exponent form (`1e+21`, `1.5e-7`) into plain decimal digits. */
function plainDecimal(text: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!m) return text;
  const sign = m[1] as string;
  const whole = m[2] as string;
  const fraction = m[3] ?? '';
  const digits = whole + fraction;
  const point = whole.length + Number(m[4]);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * A number cell as the shortest decimal text that reads back as the same number, after rounding to
 * Excel's 15 significant digits: 12.5 -> `12.5`, 3 -> `3`, 0.1 -> `0.1`. Money and quantities are
 * then parsed from this text, never computed with.
 */
export function numberText(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return plainDecimal(String(Number(n.toPrecision(EXCEL_DIGITS))));
}

/**
 * The text of a cell value as exceljs gives it (number, string, boolean, date, rich text,
 * hyperlink, formula with its cached result, error), trimmed. Empty for no value.
 */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number') return numberText(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString();
  if (typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (Array.isArray(v.richText)) {
      return (v.richText as { text?: unknown }[])
        .map((run) => (typeof run.text === 'string' ? run.text : ''))
        .join('')
        .trim();
    }
    if ('result' in v || 'formula' in v || 'sharedFormula' in v) return cellText(v.result);
    if ('text' in v) return cellText(v.text);
    if (typeof v.error === 'string') return v.error;
  }
  return '';
}
