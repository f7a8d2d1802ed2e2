/**
 * An error raised by the HTTP layer itself (bad parameters, malformed bodies), rendered as
 * `{error: {code, message, details}}`. The domain throws `DomainError`s instead (see domain-errors.ts).
 *
 * An error with an HTTP status and a machine-readable code, rendered as `{error: {code, message, details}}`. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 500 | 502 | 503,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}
