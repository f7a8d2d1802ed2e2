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
