/**
 * Time cursors for pulls: an ISO 8601 UTC time, "orders changed at or after this". Shared by every
 * connector that pages orders by their last-change time.
 */

/** ISO 8601 UTC without milliseconds, rounded down (channels filter and store whole seconds). */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * The cursor to start a pull from: `cursor` (an ISO time) moved back by `overlapSeconds`, so
 * orders written late near the previous pull's end are read again. Null (or not a time) is null.
 */
export function pullSince(cursor: string | null, overlapSeconds: number): string | null {
  if (cursor === null) return null;
  const ms = Date.parse(cursor);
  if (Number.isNaN(ms)) return null;
  return isoSeconds(ms - Math.max(0, overlapSeconds) * 1000);
}

/** The cursor a connector was handed, in whole seconds; null for none or for one that is not a time. */
export function cursorSeconds(cursor: string | null): string | null {
  if (cursor === null) return null;
  const ms = Date.parse(cursor);
  return Number.isNaN(ms) ? null : isoSeconds(ms);
}
