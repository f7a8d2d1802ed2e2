/** @jsxImportSource hono/jsx */

import { newRoutes } from '../../http/openapi.js';
import type { ConsoleDeps } from '../context.js';

/** The console's customers pages (issue 19). */
export function customerPages(_cd: ConsoleDeps) {
  const app = newRoutes();
  return app;
}
