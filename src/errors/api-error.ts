/**
 * An error raised by the HTTP layer itself (bad parameters, malformed bodies), with its status and
 * a machine-readable code, rendered as `{error: {code, message, details}}`. Only `src/http` throws
 * it; the domain and data layers throw `DomainError`s (see domain-errors.ts).
 */
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
