/** @jsxImportSource hono/jsx */

import { newRoutes } from '../../http/openapi.js';
import type { ConsoleDeps } from '../context.js';

/** The console's dashboard pages (issue 19). */
export function dashboardPages(_cd: ConsoleDeps) {
  const app = newRoutes();
  return app;
}
