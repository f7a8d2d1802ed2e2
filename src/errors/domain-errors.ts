/**
 * Errors the domain and data layers throw. They say what went wrong in the business's terms and
 * carry a machine-readable code; only the HTTP edge (`src/http/errors.ts`) decides the status.
 */
export class DomainError extends Error {
  override name = 'DomainError';
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** The thing asked for does not exist. */
export class NotFoundError extends DomainError {
  override name = 'NotFoundError';
  constructor(what: string, details?: unknown) {
    super('not_found', `${what} not found`, details);
  }
}

/** The request is well formed but clashes with the current state (a duplicate, a lease held, ...). */
export class ConflictError extends DomainError {
  override name = 'ConflictError';
}

/** An order cannot move from its status to the one asked for. */
export class InvalidTransitionError extends ConflictError {
  override name = 'InvalidTransitionError';
  constructor(
    readonly from: string,
    readonly to: string,
    message = `an order in status ${from} cannot become ${to}`,
  ) {
    super('invalid_transition', message, { from, to });
  }
}

/** The input names things that do not fit together or do not exist (unknown codes, bad values). */
export class ValidationError extends DomainError {
  override name = 'ValidationError';
}

/** A channel (or other system we call) failed us; the request may work later. */
export class UpstreamError extends DomainError {
  override name = 'UpstreamError';
}

export const notFound = (what: string, details?: unknown) => new NotFoundError(what, details);
export const conflict = (code: string, message: string, details?: unknown) =>
  new ConflictError(code, message, details);
export const unprocessable = (code: string, message: string, details?: unknown) =>
  new ValidationError(code, message, details);
