import type { z } from 'zod';

/** zod issues as `[{path, message}]`, every one of them. */
export function zodDetails(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }));
}
