import { z } from 'zod';
import { ApiError } from '../errors/api-error.js';

/**
 * Lists are paged newest first by id; a cursor is the opaque form of the last id shown, and the
 * next page holds the ids below it. The same format for every list.
 */
export const encodeCursor = (id: number) => Buffer.from(JSON.stringify({ id })).toString('base64url');

export function decodeCursor(cursor: string): number | null {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Number.isSafeInteger(v?.id) && v.id > 0 ? v.id : null;
  } catch {
    return null;
  }
}

/** The `limit` and `cursor` query parameters every list takes. */
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
};

/** The id a page starts below, from the `cursor` parameter (null: the first page); 400 for a bad cursor. */
export function readCursor(cursor: string | undefined): number | null {
  if (!cursor) return null;
  const id = decodeCursor(cursor);
  if (id === null) throw new ApiError(400, 'invalid_parameter', 'cursor is not valid');
  return id;
}

/** The cursor of the page after one that ended at `nextId` (null: there is none). */
export const nextCursor = (nextId: number | null | undefined): string | null =>
  nextId === null || nextId === undefined ? null : encodeCursor(nextId);

/**
 * Lists keyed by a pair of ids (stock rows: SKU, then warehouse) page the same way, newest first by
 * the pair: the cursor holds the last pair shown, and the next page holds the pairs below it.
 */
export const encodePairCursor = (id: number, sub: number) =>
  Buffer.from(JSON.stringify({ id, sub })).toString('base64url');

/** The pair a page starts below, from the `cursor` parameter (null: the first page); 400 for a bad cursor. */
export function readPairCursor(cursor: string | undefined): { id: number; sub: number } | null {
  if (!cursor) return null;
  const id = decodeCursor(cursor);
  let sub: unknown;
  try {
    sub = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))?.sub;
  } catch {
    sub = undefined;
  }
  if (id === null || !Number.isSafeInteger(sub) || (sub as number) < 0)
    throw new ApiError(400, 'invalid_parameter', 'cursor is not valid');
  return { id, sub: sub as number };
}

/** The cursor of the page after one that ended at `next` (null: there is none). */
export const nextPairCursor = (next: { id: number; sub: number } | null): string | null =>
  next === null ? null : encodePairCursor(next.id, next.sub);
