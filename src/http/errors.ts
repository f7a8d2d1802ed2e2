import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { ApiError } from '../errors/api-error.js';
import {
  ConflictError,
  type DomainError,
  NotFoundError,
  UpstreamError,
  ValidationError,
} from '../errors/domain-errors.js';
import { zodDetails } from '../errors/zod-details.js';
import type { AppEnv } from './env.js';

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export function errorResponse(c: Context, status: number, code: string, message: string, details?: unknown) {
  const body: ErrorBody = { error: { code, message, ...(details === undefined ? {} : { details }) } };
  return c.json(body, status as ContentfulStatusCode);
}

/** The one error handler: every error leaves the HTTP layer as `{error: {code, message, details}}`. */
export function handleError(err: Error, c: Context<AppEnv>) {
  if (err instanceof ApiError) return errorResponse(c, err.status, err.code, err.message, err.details);
  const status = domainStatus(err);
  if (status !== null) {
    const e = err as DomainError;
    return errorResponse(c, status, e.code, e.message, e.details);
  }
  if (err instanceof HTTPException) {
    const code =
      err.status === 413 ? 'payload_too_large' : err.status === 401 ? 'unauthorized' : 'http_error';
    return errorResponse(c, err.status, code, err.message || 'request failed');
  }
  c.get('log')?.error({ err: err.message, stack: err.stack }, 'unhandled error');
  return errorResponse(c, 500, 'internal_error', 'internal error; see the server log', {
    requestId: c.get('requestId'),
  });
}

/** The HTTP status of a domain error, or null for anything else. */
export function domainStatus(err: unknown): 404 | 409 | 422 | 502 | null {
  if (err instanceof NotFoundError) return 404;
  if (err instanceof ConflictError) return 409;
  if (err instanceof ValidationError) return 422;
  if (err instanceof UpstreamError) return 502;
  return null;
}

/** Reads a JSON body: malformed JSON is 400, a body that breaks the schema is 422 listing every problem. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const text = await c.req.text();
  let value: unknown;
  try {
    value = text.trim() === '' ? undefined : JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, 'invalid_json', `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (value === undefined)
    throw new ApiError(400, 'invalid_json', 'request body is empty; a JSON object is expected');
  const nul = nulPaths(value);
  const result = schema.safeParse(value);
  if (!result.success || nul.length > 0) {
    const all = [...nul, ...(result.success ? [] : zodDetails(result.error))];
    // A schema that refuses NUL itself names the same field again: once is enough.
    const details = [...new Map(all.map((d) => [`${d.path}\u0000${d.message}`, d])).values()];
    throw new ApiError(422, 'validation_failed', 'request body is not valid', details);
  }
  return result.data;
}

/**
 * Where a parsed JSON body holds a NUL character (in a value or a key): refused in every body,
 * whatever its schema, since neither the databases nor the logs keep such text intact.
 */
function nulPaths(value: unknown, path: string[] = []): { path: string; message: string }[] {
  const at = (p: string[]) => p.join('.') || '(body)';
  if (typeof value === 'string')
    return value.includes('\u0000') ? [{ path: at(path), message: 'must not contain NUL characters' }] : [];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const here = [...path, k];
    const key = k.includes('\u0000')
      ? [{ path: at(here), message: 'names must not contain NUL characters' }]
      : [];
    return [...key, ...nulPaths(v, here)];
  });
}

/** Parses a path or query parameter with a schema; a bad one is 400. */
export function parseParam<S extends z.ZodType>(schema: S, value: unknown, name: string): z.output<S> {
  const nul = nulPaths(value);
  if (nul.length > 0) throw new ApiError(400, 'invalid_parameter', `${name} is not valid`, nul);
  const result = schema.safeParse(value);
  if (!result.success)
    throw new ApiError(400, 'invalid_parameter', `${name} is not valid`, zodDetails(result.error));
  return result.data;
}
