/** @jsxImportSource hono/jsx */

import { newRoutes } from '../../http/openapi.js';
import type { ConsoleDeps } from '../context.js';
import { contractRoutes } from '../customers/contract-pages.js';
import { customerRoutes } from '../customers/customer-pages.js';
import { priceListRoutes } from '../customers/price-list-pages.js';
import { promotionRoutes } from '../customers/promotion-pages.js';

/**
 * The console's B2B pages (issue 19): customers and salespeople with their credit, price lists,
 * contracts and promotions, over the same schemas and service functions as the API's routes.
 */
export function customerPages(cd: ConsoleDeps) {
  const app = newRoutes();
  customerRoutes(app, cd);
  priceListRoutes(app, cd);
  contractRoutes(app, cd);
  promotionRoutes(app, cd);
  return app;
}
