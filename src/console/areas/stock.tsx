/** @jsxImportSource hono/jsx */

import { newRoutes } from '../../http/openapi.js';
import type { ConsoleDeps } from '../context.js';

/** The console's stock pages (issue 19). */
export function stockPages(_cd: ConsoleDeps) {
  const app = newRoutes();
  return app;
}
