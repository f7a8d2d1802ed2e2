import { ApiError } from '../errors/api-error.js';

/**
 * Reports of grouped figures page in the order of their key (the customer's id, the channel, the
 * month, the currency, ...): the cursor is the opaque form of the last key shown, and the next page
 * holds the keys after it. Lists of rows with ids (the execution report's lines) page as every list
 * does (src/http/pagination.ts).
 */
export type ReportKey = readonly (string | number)[];

export const encodeKeyCursor = (key: ReportKey) => Buffer.from(JSON.stringify({ key })).toString('base64url');

/** The key a page starts after (null: the first page); 400 when the cursor is not one of `shape`. */
export function readKeyCursor(
  cursor: string | undefined,
  shape: readonly ('string' | 'number')[],
): ReportKey | null {
  if (!cursor) return null;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))?.key;
  } catch {
    key = undefined;
  }
  const fits =
    Array.isArray(key) &&
    key.length === shape.length &&
    key.every((k, i) =>
      shape[i] === 'number' ? Number.isSafeInteger(k) && k >= 0 : typeof k === 'string' && k.length <= 200,
    );
  if (!fits) throw new ApiError(400, 'invalid_parameter', 'cursor is not valid');
  return key as ReportKey;
}

/**
 * SQL for "the key made of `exprs` comes after `key`" (lexicographic), with its bindings:
 * `(a > ? OR (a = ? AND b > ?))`.
 */
export function keyAfter(exprs: readonly string[], key: ReportKey): { sql: string; bindings: unknown[] } {
  return compare(exprs, key, '>', false);
}

/** SQL for "the key made of `exprs` is at or before `key`". */
export function keyAtOrBefore(
  exprs: readonly string[],
  key: ReportKey,
): { sql: string; bindings: unknown[] } {
  return compare(exprs, key, '<', true);
}

function compare(
  exprs: readonly string[],
  key: ReportKey,
  op: '<' | '>',
  inclusive: boolean,
): { sql: string; bindings: unknown[] } {
  const parts: string[] = [];
  const bindings: unknown[] = [];
  for (let i = 0; i < exprs.length; i++) {
    const eq = exprs.slice(0, i).map((e) => `${e} = ?`);
    parts.push(`(${[...eq, `${exprs[i]} ${op} ?`].join(' AND ')})`);
    bindings.push(...key.slice(0, i + 1));
  }
  if (inclusive) {
    parts.push(`(${exprs.map((e) => `${e} = ?`).join(' AND ')})`);
    bindings.push(...key);
  }
  return { sql: `(${parts.join(' OR ')})`, bindings };
}
