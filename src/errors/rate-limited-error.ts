/** The other side asked us to wait `waitMs` before trying again. */
export class RateLimitedError extends Error {
  override name = 'RateLimitedError';
  constructor(
    message: string,
    readonly waitMs: number,
  ) {
    super(message);
  }
}
