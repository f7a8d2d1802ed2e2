import { z } from 'zod';

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
  .max(64)
  .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits and . _ - only');
