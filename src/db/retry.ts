import type { Db, Tx } from './connection.js';

/** MySQL errors that mean "the whole transaction may simply be tried again". */
const RETRYABLE_MYSQL = new Set([1213 /* ER_LOCK_DEADLOCK */, 1205 /* ER_LOCK_WAIT_TIMEOUT */]);

/**
 * Thrown inside a transaction whose plain read (taken before its locks, to save a round trip) is
 * found out of date by the locked rows: the whole transaction is tried again, reading afresh.
 */
export class StaleReadError extends Error {
  readonly code = 'STOCKBRIDGE_STALE_READ';
}

export function isRetryableTxError(err: unknown): boolean {
  if (err instanceof StaleReadError) return true;
  const e = err as { errno?: number; code?: string };
  if (typeof e?.errno === 'number' && RETRYABLE_MYSQL.has(e.errno)) return true;
  return e?.code === 'SQLITE_BUSY' || e?.code === 'SQLITE_BUSY_SNAPSHOT';
}

export function isDuplicateKeyError(err: unknown): boolean {
  const e = err as { errno?: number; code?: string };
  return (
    e?.errno === 1062 || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

/**
 * Transactions this process had to try again, by cause, since it started (or since `reset`):
 * a deadlock is a sign that two units of work lock in different orders.
 */
export const txRetries = {
  deadlocks: 0,
  lockWaitTimeouts: 0,
  staleReads: 0,
  reset(): void {
    this.deadlocks = 0;
    this.lockWaitTimeouts = 0;
    this.staleReads = 0;
  },
};

export interface TxRetryOptions {
  /** Attempts in all, the first included. Default 8. */
  attempts?: number;
  /** Backoff base in ms; attempt n waits a random time in [0, base * 2^n). Default 10. */
  baseDelayMs?: number;
  /** Called before each retry, for logs and counters. */
  onRetry?: (err: unknown, attempt: number) => void;
}

/**
 * Runs `work` in a transaction, retrying the whole transaction on deadlocks (1213), lock-wait
 * timeouts (1205) and a `StaleReadError` with full-jitter exponential backoff. Other errors are
 * thrown at once.
 */
export async function withTransaction<T>(
  db: Db,
  work: (tx: Tx) => Promise<T>,
  options: TxRetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 8;
  const base = options.baseDelayMs ?? 10;
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(work);
    } catch (err) {
      const errno = (err as { errno?: number })?.errno;
      if (errno === 1213) txRetries.deadlocks++;
      if (errno === 1205) txRetries.lockWaitTimeouts++;
      if (err instanceof StaleReadError) txRetries.staleReads++;
      if (attempt >= attempts || !isRetryableTxError(err)) throw err;
      options.onRetry?.(err, attempt);
      await new Promise((r) => setTimeout(r, Math.random() * base * 2 ** attempt));
    }
  }
}
