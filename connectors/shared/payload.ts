/** Reading channel payloads (parsed JSON of unknown shape) without trusting their shape. */

export type Rec = Record<string, unknown>;

/** A JSON object (not an array, not null). */
export const isRecord = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A string trimmed, or null when it is not a string or is blank. */
export function text(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const t = value.trim();
  return t === '' ? null : t;
}

/** A whole number of at least 0, or null for anything else (a string, a fraction, a negative). */
export function count(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null;
}
