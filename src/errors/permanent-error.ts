/**
 * A problem that another attempt will not fix (unknown SKU, invalid data, bad credentials).
 * Never retried; an order that meets one goes on hold with `reason`.
 */
export class PermanentError extends Error {
  override name = 'PermanentError';
  constructor(
    /** Machine-readable reason, e.g. `unknown_sku`. */
    readonly reason: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}
