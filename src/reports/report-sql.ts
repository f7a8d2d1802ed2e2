import { type Conn, rawRows } from '../db/connection.js';

/** One statement's rows. */
export async function selectRows(db: Conn, sql: string, bindings: readonly unknown[]) {
  const [rows = []] = await rawRows(db, sql, bindings);
  return rows;
}

export const marks = (n: number) => new Array(n).fill('?').join(', ');

/** A figure as the database returns it (MySQL's SUM is a DECIMAL string) as a number; null as 0. */
export const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));

/**
 * Orders that count as sold: processed and not cancelled or rejected. Orders waiting to be
 * processed or held for a person are not (yet) sales; cancelled ones show in the execution report.
 */
export const BOOKED_STATUSES = [
  'confirmed',
  'backordered',
  'partially_shipped',
  'shipped',
  'delivered',
  'completed',
] as const;

/** Ids to `{id -> {code, name}}` for customers, salespeople or SKUs. */
export async function namesOf(
  db: Conn,
  table: 'customers' | 'salespeople' | 'skus',
  ids: readonly number[],
): Promise<Map<number, { code: string | null; name: string | null }>> {
  const wanted = [...new Set(ids.filter((id) => id > 0))];
  const out = new Map<number, { code: string | null; name: string | null }>();
  for (let i = 0; i < wanted.length; i += 500) {
    const part = wanted.slice(i, i + 500);
    const rows = await db(table).whereIn('id', part).select('id', 'code', 'name');
    for (const r of rows)
      out.set(Number(r.id), {
        code: r.code === null ? null : String(r.code),
        name: r.name === null ? null : String(r.name),
      });
  }
  return out;
}
