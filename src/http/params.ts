import { z } from 'zod';
import { LIMITS } from '../domain/order-input.js';

/**
 * A row id in a path or query: digits only, 1 to 2^53 - 1. No sign, exponent, hex or fraction
 * (`-1`, `1e3`, `0x10`, `1.5` are refused), which `z.coerce.number()` would all have let through.
 */
export const idParam = z
  .string()
  .regex(/^\d+$/, 'digits only')
  .transform(Number)
  .pipe(z.number().int().positive().max(Number.MAX_SAFE_INTEGER));

/** A warehouse or SKU code. */
export const codeParam = z
  .string()
  .min(1)
  .max(LIMITS.codeLength)
  .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits and . _ - only');

/** An `Idempotency-Key` header, when sent: 1 to 191 characters, kept exactly (never cut short). */
export const idempotencyKeyParam = z.string().min(1).max(LIMITS.idempotencyKeyLength).optional();

/** An id from outside in a path (a channel's customer id): kept exactly, 1 to 191 characters. */
export const outsideIdParam = z.string().min(1).max(LIMITS.externalIdLength);
