import type { Knex } from 'knex';
import { type Conn, dialectOf } from './connection.js';

interface Pending {
  sql: string;
  bindings: readonly unknown[];
  /** Rows the statement must affect, or the write fails as a whole. */
  expectAffected?: number;
  onMismatch?: () => Error;
}

/**
 * Writes collected during a transaction and sent together. On MySQL they go to the server in one
 * round trip (a multi-statement query), which matters where a transaction holds a hot row lock:
 * the lock is held for the statements' execution, not for a round trip each. On SQLite they run
 * one after another. Guarded statements say how many rows they must change; a mismatch throws, and
 * the caller's transaction rolls back.
 */
export class WriteBatch {
  private pending: Pending[] = [];

  constructor(readonly conn: Conn) {}

  get size(): number {
    return this.pending.length;
  }

  /** Adds a knex query (compiled now, run at `flush`). */
  add(query: Knex.QueryBuilder | Knex.Raw, expect?: { affected: number; error: () => Error }): this {
    const native = query.toSQL().toNative();
    return this.addSql(native.sql, native.bindings, expect);
  }

  /**
   * Adds a plain SQL statement with `?` placeholders. Hot paths use these: no query building,
   * and the same text on MySQL and SQLite (unquoted identifiers, portable syntax).
   */
  addSql(sql: string, bindings: readonly unknown[], expect?: { affected: number; error: () => Error }): this {
    this.pending.push({
      sql,
      bindings,
      ...(expect ? { expectAffected: expect.affected, onMismatch: expect.error } : {}),
    });
    return this;
  }

  /**
   * Sends everything collected so far and checks the guards. With `commit` (MySQL) and no guarded
   * statement in the batch, the transaction's COMMIT rides in the same round trip, so row locks
   * are released one round trip sooner; use it only as the transaction's last statement.
   * Statement errors (a CHECK constraint, a duplicate key) stop the batch before the COMMIT, and
   * the transaction rolls back. A batch with guards is checked first and committed by the caller's
   * transaction afterwards, so a failed guard still rolls everything back.
   */
  async flush(options: { commit?: boolean } = {}): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const mysql = dialectOf(this.conn) === 'mysql';
    // The COMMIT may ride along only when nothing is left to check afterwards: a guard that fails
    // after the COMMIT could no longer roll anything back. Guarded batches commit separately.
    const commitInline =
      mysql && options.commit === true && batch.every((p) => p.expectAffected === undefined);
    if (mysql && (batch.length > 1 || commitInline)) {
      const sql = batch.map((p) => p.sql).join(';\n') + (commitInline ? ';\nCOMMIT' : '');
      const bindings = rowValues(batch.map((p) => p.bindings));
      const [raw] = (await this.conn.raw(sql, bindings as Knex.RawBinding[])) as [
        Array<{ affectedRows?: number }> | { affectedRows?: number },
      ];
      const results = Array.isArray(raw) ? raw : [raw];
      batch.forEach((p, i) => {
        check(p, results[i]?.affectedRows ?? 0);
      });
      return;
    }
    for (const p of batch) {
      const res = await this.conn.raw(p.sql, p.bindings as Knex.RawBinding[]);
      check(p, affectedRows(res));
    }
  }
}

function affectedRows(res: unknown): number {
  // mysql2: [ResultSetHeader, fields]; better-sqlite3 through knex.raw: RunResult with `changes`.
  if (Array.isArray(res)) return (res[0] as { affectedRows?: number })?.affectedRows ?? 0;
  return (res as { changes?: number })?.changes ?? 0;
}

function check(p: Pending, affected: number): void {
  if (p.expectAffected !== undefined && affected !== p.expectAffected) {
    throw p.onMismatch
      ? p.onMismatch()
      : new Error(`statement changed ${affected} rows, expected ${p.expectAffected}`);
  }
}

/** `(?, ?, ?), (?, ?, ?)` for a multi-row INSERT. */
export function placeholders(rows: number, columns: number): string {
  const key = rows * 1024 + columns;
  let text = placeholderTexts.get(key);
  if (text === undefined) {
    const row = `(${Array.from({ length: columns }, () => '?').join(', ')})`;
    text = Array.from({ length: rows }, () => row).join(', ');
    // A group's inserts come in a few sizes (rows per group, columns per table): kept, within bounds.
    if (placeholderTexts.size >= 512) placeholderTexts.clear();
    if (columns < 1024) placeholderTexts.set(key, text);
  }
  return text;
}

const placeholderTexts = new Map<number, string>();

/** The values of rows, one after another, for a multi-row INSERT (a loop: `flat()` is slower). */
export function rowValues(rows: readonly (readonly unknown[])[]): unknown[] {
  const out: unknown[] = [];
  for (const row of rows) for (const v of row) out.push(v);
  return out;
}
