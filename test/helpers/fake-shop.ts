import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ordersQueryCost } from '../../connectors/shopify/pull.js';

/*
 * A stateful fake Shopify shop on a real local HTTP server, for reconciliation tests and the
 * reconciliation benchmark. It plays the GraphQL Admin API calls our connector makes — order pages
 * (`orders(first:, after:, query:)` with `updated_at:>=` or `id:… OR id:…`), bulk operations
 * (`bulkOperationRunQuery`, `node(id:)` status, the JSONL result downloaded from its own URL),
 * inventory reads (`nodes(ids:)`) and pushes (`inventorySetQuantities`) — behind Shopify's
 * cost-based throttle: a bucket of `bucketSize` points refilled at `restoreRate` points a second;
 * each query takes its requested cost from the bucket, or is answered `THROTTLED` with
 * `extensions.cost.throttleStatus`, as Shopify does.
 */

export interface FakeOrder {
  /** Numeric id as a string. */
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  cancelledAt: string | null;
  currency: string;
  lines: { sku: string; inventoryItemId: string; quantity: number; price: string }[];
  /** Decimal strings. */
  shipping: string;
  tax: string;
  /** The shop's current total; default: lines + shipping (+ tax when prices exclude it). */
  total?: string;
}

export interface FakeShopOptions {
  /** Cost bucket size (points). Default 2000 (Shopify Advanced; Standard is 1000). */
  bucketSize?: number;
  /** Points restored per second. Default 100 (Standard). */
  restoreRate?: number;
  /** How long a bulk operation runs before it is COMPLETED (ms). Default 0. */
  bulkRunMs?: number;
}

export interface FakeShop {
  apiBaseUrl: string;
  orders: Map<string, FakeOrder>;
  /** `available` per inventory item id. */
  inventory: Map<string, number>;
  /** Requests by kind: `orders`, `bulk`, `bulkStatus`, `bulkDownload`, `stockRead`, `push`, `throttled`. */
  calls: Record<string, number>;
  close(): Promise<void>;
}

const money = (amount: string) => ({ shopMoney: { amount, currencyCode: 'EUR' } });
const cents = (s: string) => Math.round(Number(s) * 100);
const dec = (n: number) => (n / 100).toFixed(2);

function totalOf(o: FakeOrder): string {
  if (o.total !== undefined) return o.total;
  const lines = o.lines.reduce((n, l) => n + l.quantity * cents(l.price), 0);
  return dec(lines + cents(o.shipping) + cents(o.tax));
}

/** The order as the pull's `ORDERS_QUERY` node. */
export function orderNode(o: FakeOrder) {
  return {
    id: `gid://shopify/Order/${o.id}`,
    name: o.name,
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
    cancelledAt: o.cancelledAt,
    displayFinancialStatus: 'PAID',
    currencyCode: o.currency,
    email: 'buyer@example.com',
    phone: null,
    customerLocale: 'en',
    customer: null,
    taxesIncluded: false,
    totalTaxSet: money(o.tax),
    currentTotalTaxSet: money(o.tax),
    totalPriceSet: money(totalOf(o)),
    currentTotalPriceSet: money(totalOf(o)),
    shippingLines: {
      pageInfo: { hasNextPage: false, endCursor: null },
      nodes: [{ originalPriceSet: money(o.shipping), discountAllocations: [] }],
    },
    lineItems: {
      pageInfo: { hasNextPage: false, endCursor: null },
      nodes: o.lines.map((l, i) => ({
        id: `gid://shopify/LineItem/${o.id}${i}`,
        sku: l.sku,
        title: l.sku,
        quantity: l.quantity,
        currentQuantity: l.quantity,
        variant: {
          id: `gid://shopify/ProductVariant/${l.inventoryItemId}`,
          inventoryItem: { id: `gid://shopify/InventoryItem/${l.inventoryItemId}` },
        },
        product: { id: 'gid://shopify/Product/1' },
        originalUnitPriceSet: money(l.price),
        discountAllocations: [],
        taxLines: [],
      })),
    },
  };
}

/** The order as one line of the bulk summary query's JSONL. */
function bulkLine(o: FakeOrder): string {
  return JSON.stringify({
    id: `gid://shopify/Order/${o.id}`,
    name: o.name,
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
    cancelledAt: o.cancelledAt,
    currencyCode: o.currency,
    currentTotalPriceSet: money(totalOf(o)),
    currentTotalTaxSet: money(o.tax),
    totalShippingPriceSet: money(o.shipping),
  });
}

/** Orders matching our two kinds of search filter, oldest change first. */
function matching(orders: Iterable<FakeOrder>, filter: string): FakeOrder[] {
  const since = /updated_at:>='([^']+)'/.exec(filter)?.[1];
  const ids = [...filter.matchAll(/id:(\d+)/g)].map((m) => m[1]);
  const all = [...orders];
  const found = since
    ? all.filter((o) => Date.parse(o.updatedAt) >= Date.parse(since))
    : ids.length > 0
      ? all.filter((o) => ids.includes(o.id))
      : all;
  return found.sort((a, b) => Date.parse(a.updatedAt) - Date.parse(b.updatedAt) || a.id.localeCompare(b.id));
}

export async function startFakeShop(options: FakeShopOptions = {}): Promise<FakeShop> {
  const bucketSize = options.bucketSize ?? 2000;
  const restoreRate = options.restoreRate ?? 100;
  const orders = new Map<string, FakeOrder>();
  const inventory = new Map<string, number>();
  const calls: Record<string, number> = {};
  const count = (k: string) => (calls[k] = (calls[k] ?? 0) + 1);
  const bulks = new Map<string, { since: string; createdAt: number; lines: string[] | null }>();
  let available = bucketSize;
  let refilledAt = Date.now();
  let port = 0;

  /** Takes `cost` from the bucket; false (and nothing taken) when it does not hold that much. */
  const take = (cost: number) => {
    const now = Date.now();
    available = Math.min(bucketSize, available + ((now - refilledAt) / 1000) * restoreRate);
    refilledAt = now;
    if (available < cost) return false;
    available -= cost;
    return true;
  };
  const costOf = (query: string, variables: Record<string, any>) => {
    if (query.includes('bulkOperationRunQuery')) return 10;
    if (query.includes('BulkStatus')) return 1;
    if (query.includes('inventorySetQuantities')) return 10;
    if (query.includes('nodes(ids')) return 3 * (variables.ids?.length ?? 1) + 2;
    // The pull's orders query: the requested cost as Shopify reckons it (the connector's own sum).
    if (query.includes('orders(')) return ordersQueryCost(variables.first ?? 1, variables.lines ?? 5);
    return 1;
  };
  const extensions = (cost: number) => ({
    cost: {
      requestedQueryCost: cost,
      actualQueryCost: cost,
      throttleStatus: {
        maximumAvailable: bucketSize,
        currentlyAvailable: Math.floor(available),
        restoreRate,
      },
    },
  });

  const graphql = (body: { query?: string; variables?: Record<string, any> }) => {
    const query = body.query ?? '';
    const variables = body.variables ?? {};
    const cost = costOf(query, variables);
    if (!take(cost)) {
      count('throttled');
      return {
        errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }],
        extensions: {
          cost: {
            requestedQueryCost: cost,
            throttleStatus: {
              maximumAvailable: bucketSize,
              currentlyAvailable: Math.floor(available),
              restoreRate,
            },
          },
        },
      };
    }
    if (query.includes('bulkOperationRunQuery')) {
      count('bulk');
      const id = `gid://shopify/BulkOperation/${bulks.size + 1}`;
      const since = /updated_at:>='([^']+)'/.exec(String(variables.query))?.[1] ?? '1970-01-01T00:00:00Z';
      bulks.set(id, { since, createdAt: Date.now(), lines: null });
      return {
        data: { bulkOperationRunQuery: { bulkOperation: { id, status: 'CREATED' }, userErrors: [] } },
        extensions: extensions(cost),
      };
    }
    if (query.includes('BulkStatus')) {
      count('bulkStatus');
      const op = bulks.get(String(variables.id));
      if (!op) return { data: { node: null }, extensions: extensions(cost) };
      if (Date.now() - op.createdAt < (options.bulkRunMs ?? 0))
        return {
          data: { node: { id: variables.id, status: 'RUNNING', objectCount: '0', url: null } },
          extensions: extensions(cost),
        };
      // The result is fixed when the operation completes, as Shopify's file is.
      op.lines ??= matching(orders.values(), `updated_at:>='${op.since}'`).map(bulkLine);
      const n = String(variables.id).split('/').pop();
      return {
        data: {
          node: {
            id: variables.id,
            status: 'COMPLETED',
            errorCode: null,
            objectCount: String(op.lines.length),
            url: op.lines.length ? `http://127.0.0.1:${port}/bulk/${n}.jsonl` : null,
            partialDataUrl: null,
          },
        },
        extensions: extensions(cost),
      };
    }
    if (query.includes('inventorySetQuantities')) {
      count('push');
      for (const q of variables.input?.quantities ?? [])
        inventory.set(String(q.inventoryItemId).split('/').pop() as string, Number(q.quantity));
      return {
        data: {
          inventorySetQuantities: {
            inventoryAdjustmentGroup: { id: 'gid://shopify/InventoryAdjustmentGroup/1' },
            userErrors: [],
          },
        },
        extensions: extensions(cost),
      };
    }
    if (query.includes('nodes(ids')) {
      count('stockRead');
      const nodes = (variables.ids as string[]).map((gid) => {
        const id = gid.split('/').pop() as string;
        const q = inventory.get(id);
        return q === undefined
          ? null
          : { id: gid, inventoryLevel: { quantities: [{ name: 'available', quantity: q }] } };
      });
      return { data: { nodes }, extensions: extensions(cost) };
    }
    if (query.includes('orders(')) {
      count('orders');
      const found = matching(orders.values(), String(variables.query ?? ''));
      const start = variables.after ? Number(variables.after) : 0;
      const first = Number(variables.first ?? 50);
      const page = found.slice(start, start + first);
      const more = start + first < found.length;
      return {
        data: {
          orders: {
            pageInfo: { hasNextPage: more, endCursor: more ? String(start + first) : null },
            nodes: page.map(orderNode),
          },
        },
        extensions: extensions(cost),
      };
    }
    return { errors: [{ message: 'not played by the fake shop', extensions: { code: 'UNKNOWN' } }] };
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '';
    const bulk = /^\/bulk\/(\d+)\.jsonl$/.exec(url);
    if (bulk) {
      count('bulkDownload');
      const op = bulks.get(`gid://shopify/BulkOperation/${bulk[1]}`);
      res.writeHead(op?.lines ? 200 : 404, { 'content-type': 'application/jsonl' });
      // Written in chunks, as a large file streams.
      const lines = op?.lines ?? [];
      let i = 0;
      const write = () => {
        while (i < lines.length) {
          const chunk = `${lines.slice(i, i + 5000).join('\n')}\n`;
          i += 5000;
          if (!res.write(chunk)) {
            res.once('drain', write);
            return;
          }
        }
        res.end();
      };
      write();
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      let parsed: { query?: string; variables?: Record<string, any> } = {};
      try {
        parsed = JSON.parse(body);
      } catch {
        // answered as an unknown query
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(graphql(parsed)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  port = (server.address() as { port: number }).port;
  return {
    apiBaseUrl: `http://127.0.0.1:${port}/admin/api/2026-10`,
    orders,
    inventory,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
