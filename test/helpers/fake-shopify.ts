import { createServer, type Server } from 'node:http';
import { performance } from 'node:perf_hooks';

/** One request to the fake Admin API: which shop, what it was, when it started and ended (ms). */
export interface FakeShopifyRequest {
  shop: string;
  kind: 'pull' | 'push' | 'other';
  start: number;
  end: number | null;
}

export interface FakeShopify {
  /** The `apiBaseUrl` for a shop of this server (the shop's name is part of the path). */
  apiBaseUrl(shop: string): string;
  /** Every request so far, in arrival order. */
  readonly requests: FakeShopifyRequest[];
  /** Units each stock push set, per inventory item id (the last one wins). */
  readonly published: Map<string, number>;
  close(): Promise<void>;
}

/** Pairs of requests of one shop and kind that were in flight at the same time. */
export function overlaps(
  requests: readonly FakeShopifyRequest[],
  same: (a: FakeShopifyRequest, b: FakeShopifyRequest) => boolean,
): Array<[FakeShopifyRequest, FakeShopifyRequest]> {
  const found: Array<[FakeShopifyRequest, FakeShopifyRequest]> = [];
  const sorted = [...requests].sort((a, b) => a.start - b.start);
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i]!;
    for (let j = i + 1; j < sorted.length; j++) {
      const b = sorted[j]!;
      if (b.start >= (a.end ?? Number.POSITIVE_INFINITY)) break;
      if (same(a, b)) found.push([a, b]);
    }
  }
  return found;
}

const cost = {
  requestedQueryCost: 10,
  actualQueryCost: 10,
  throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 1990, restoreRate: 100 },
};

/**
 * A real HTTP server playing Shopify's GraphQL Admin API, for daemons in other processes (nock
 * works only inside one process): order pulls find nothing new, stock pushes are accepted. Each
 * request is answered after `delayMs`, so that two requests of one shop running side by side
 * would show as overlapping in `requests`.
 */
export async function startFakeShopify(options: { delayMs?: number } = {}): Promise<FakeShopify> {
  const delayMs = options.delayMs ?? 30;
  const requests: FakeShopifyRequest[] = [];
  const published = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const entry: FakeShopifyRequest = {
      shop: /^\/shop\/([^/]+)\//.exec(req.url ?? '')?.[1] ?? '?',
      kind: 'other',
      start: performance.now(),
      end: null,
    };
    requests.push(entry);
    res.once('close', () => {
      entry.end = performance.now();
    });
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      let parsed: { query?: string; variables?: Record<string, any> } = {};
      try {
        parsed = JSON.parse(body);
      } catch {
        // answered below as a GraphQL error
      }
      const query = parsed.query ?? '';
      let answer: unknown;
      if (query.includes('inventorySetQuantities')) {
        entry.kind = 'push';
        for (const q of parsed.variables?.input?.quantities ?? [])
          published.set(String(q.inventoryItemId).split('/').pop()!, Number(q.quantity));
        answer = {
          data: {
            inventorySetQuantities: {
              inventoryAdjustmentGroup: { id: `gid://shopify/InventoryAdjustmentGroup/${requests.length}` },
              userErrors: [],
            },
          },
          extensions: { cost },
        };
      } else if (query.includes('orders(')) {
        entry.kind = 'pull';
        answer = {
          data: { orders: { pageInfo: { hasNextPage: false, endCursor: null }, nodes: [] } },
          extensions: { cost },
        };
      } else {
        answer = { errors: [{ message: 'not played by the fake server' }] };
      }
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  return {
    apiBaseUrl: (shop) => `http://127.0.0.1:${port}/shop/${shop}/admin/api/2026-10`,
    requests,
    published,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
