/**
 * Waiting in tests without assuming how fast the machine is: poll a condition until it holds or a
 * deadline passes. The deadline is a generous upper bound for a busy machine, never the expected
 * duration; a test that needs "nothing happened" must prove it another way (counts, job ids),
 * not by sleeping.
 */
export interface WaitOptions {
  /** Give up after this long (ms). Default 30 s. */
  timeoutMs?: number;
  /** Time between two looks at the condition (ms). Default 50. */
  intervalMs?: number;
  /** What was awaited, for the error; a function is called only when the wait fails. */
  message?: string | (() => string | Promise<string>);
}

export const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Resolves with the condition's first truthy value. Throws once `timeoutMs` has passed and the
 * condition (looked at one last time) still does not hold; errors thrown by the condition propagate.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: WaitOptions = {},
): Promise<NonNullable<T>> {
  const { timeoutMs = 30_000, intervalMs = 50, message = 'a condition' } = options;
  const started = Date.now();
  for (;;) {
    const value = await condition();
    if (value) return value as NonNullable<T>;
    if (Date.now() - started >= timeoutMs) {
      const what = typeof message === 'function' ? await message() : message;
      throw new Error(`waited ${Date.now() - started} ms (limit ${timeoutMs} ms) for ${what}`);
    }
    await pause(intervalMs);
  }
}
