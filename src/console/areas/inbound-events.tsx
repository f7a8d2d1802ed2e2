/** @jsxImportSource hono/jsx */

import { newRoutes } from '../../http/openapi.js';
import type { ConsoleDeps } from '../context.js';

/** The console's inbound-events pages (issue 19). */
export function inboundEventPages(_cd: ConsoleDeps) {
  const app = newRoutes();
  return app;
}
