/**
 * When a failed webhook delivery is tried again: after 5 s, 5 min, 30 min, 2 h, 5 h, then every
 * 10 h (the Standard Webhooks reference schedule), for up to a day after the first attempt. The
 * last retry is moved forward to the window's end, so the endpoint gets one attempt at the 24 h
 * mark; a failure at or after it is final.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export const RETRY_DELAYS_MS: readonly number[] = [
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
];

/** How long after the first attempt an event is still retried. */
export const RETRY_WINDOW_MS = 24 * HOUR;

/**
 * The time of the next attempt after `failedAttempts` attempts failed (the last at `failedAt`), or
 * null when the window is over and the failure is final.
 */
export function nextAttemptAt(firstAttemptAt: Date, failedAttempts: number, failedAt: Date): Date | null {
  const deadline = firstAttemptAt.getTime() + RETRY_WINDOW_MS;
  if (failedAt.getTime() >= deadline) return null;
  const i = Math.min(Math.max(failedAttempts, 1), RETRY_DELAYS_MS.length) - 1;
  const at = failedAt.getTime() + (RETRY_DELAYS_MS[i] as number);
  return new Date(Math.min(at, deadline));
}
