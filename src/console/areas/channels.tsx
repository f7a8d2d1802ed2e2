/** @jsxImportSource hono/jsx */

import { newRoutes } from '../../http/openapi.js';
import type { ConsoleDeps } from '../context.js';

/** The console's channels pages (issue 19). */
export function channelPages(_cd: ConsoleDeps) {
  const app = newRoutes();
  return app;
}
