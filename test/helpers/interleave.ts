import type { Knex } from 'knex';
import type { Db } from '../../src/db/connection.js';

/**
 * A transaction that holds row locks until told to let go: the "blocker" of an interleaving test.
 * The writers under test start while it holds the rows, queue up behind it in a known order, and
 * run when it releases (commit or rollback).
 */
export interface Blocker {
  tx: Knex.Transaction;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

export async function block(db: Db, lockSql: string, bindings: readonly unknown[] = []): Promise<Blocker> {
  const tx = await db.transaction();
  await tx.raw(lockSql, bindings as Knex.RawBinding[]);
  return {
    tx,
    commit: async () => {
      await tx.commit();
    },
    rollback: async () => {
      await tx.rollback();
    },
  };
}

/**
 * How many transactions of this database are waiting for a row lock right now; with `table`, only
 * those waiting for a lock on that table (so that a transaction left waiting by something else —
 * a worker, an earlier test — is not taken for one of the writers under test).
 */
export async function lockWaits(db: Db, table?: string): Promise<number> {
  const [rows] = (await db.raw(
    table === undefined
      ? `SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX t
           JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
          WHERE t.trx_state = 'LOCK WAIT' AND p.DB = DATABASE()`
      : `SELECT COUNT(DISTINCT t.trx_id) AS n FROM information_schema.INNODB_TRX t
           JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
           JOIN information_schema.INNODB_LOCK_WAITS w ON w.requesting_trx_id = t.trx_id
           JOIN information_schema.INNODB_LOCKS l ON l.lock_id = w.requested_lock_id
          WHERE t.trx_state = 'LOCK WAIT' AND p.DB = DATABASE()
            AND l.lock_table = CONCAT('\`', DATABASE(), '\`.\`', ?, '\`')`,
    table === undefined ? [] : [table],
  )) as [{ n: number }[]];
  return Number(rows[0]?.n ?? 0);
}

/**
 * Waits until `n` transactions of this database wait for a lock (the writers have queued up behind
 * the blocker), or fails after the deadline naming what it saw. With `table`, only waits for locks
 * on that table count. `settled` lets a writer that
 * finished instead of waiting fail the wait at once.
 */
export async function waitForLockWaits(
  db: Db,
  n: number,
  options: { timeoutMs?: number; settled?: () => string | null; table?: string } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let seen = 0;
  for (;;) {
    seen = await lockWaits(db, options.table);
    if (seen >= n) return;
    const done = options.settled?.();
    if (done) throw new Error(`expected ${n} lock waits, but ${done}`);
    if (Date.now() > deadline) {
      const [rows] = (await db.raw(
        "SELECT ID, COMMAND, STATE, TIME, LEFT(INFO, 120) AS info FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND COMMAND <> 'Sleep'",
      )) as [Record<string, unknown>[]];
      const [trx] = (await db.raw(
        'SELECT trx_state, trx_mysql_thread_id, LEFT(trx_query, 80) AS q FROM information_schema.INNODB_TRX',
      )) as [Record<string, unknown>[]];
      throw new Error(
        `expected ${n} lock waits, saw ${seen}; sessions: ${JSON.stringify(rows)}; transactions: ${JSON.stringify(trx)}`,
      );
    }
    // InnoDB refreshes its INNODB_TRX table only after 100 ms without a read: poll slower than that.
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** A promise whose state can be read without awaiting it. */
export function track<T>(promise: Promise<T>): { promise: Promise<T>; done: boolean } {
  const t = { promise, done: false };
  promise.then(
    () => {
      t.done = true;
    },
    () => {
      t.done = true;
    },
  );
  return t;
}

/** Polls until `check` returns a value (not undefined), or fails after the deadline. */
export async function waitUntil<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 20_000,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
