import { orderBody, seedCatalog, type TestStack } from './stack.js';

/** The tracking numbers of the two shipments `orderForStatusPage` makes. */
export const SF_NUMBER = 'SF1234567890123';
export const UPS_NUMBER = '1Z999AA10123456784';

export interface StatusPageOrder {
  orderId: number;
  externalId: string;
  /** The status link the admin API gives for it. */
  url: string;
  /** The path of that link (`/status/<token>`). */
  path: string;
}

/**
 * Through the admin API, as a shop would see it: a catalogue (`main`; SKUs TEA, CUP, POT with
 * names), stock for TEA and CUP and one POT, then an order of a zh-CN customer in Asia/Shanghai for
 * 2 TEA, 3 CUP and 4 POT (3 POT backordered), shipped in two parcels (TEA by SF Express, CUP by
 * UPS). The order ends `partially_shipped` with its POT line waiting. A worker must be running.
 */
export async function orderForStatusPage(
  stack: TestStack,
  externalId: string,
  options: { language?: 'zh-CN' | 'en'; seed?: boolean } = {},
): Promise<StatusPageOrder> {
  const ok = (what: string, r: { status: number; body: any }) => {
    if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  if (options.seed !== false) {
    await seedCatalog(stack, [{ code: 'main', priority: 1 }], []);
    const names: Record<string, string> = { TEA: '龙井茶 Longjing tea', CUP: 'Tea cup', POT: 'Clay teapot' };
    for (const [sku, name] of Object.entries(names)) {
      ok('sku', await stack.api('PUT', `/api/skus/${sku}`, { name, unitPrice: 1000, currency: 'EUR' }));
    }
  }
  ok(
    'receipt',
    await stack.api('POST', '/api/stock/receipts', {
      warehouse: 'main',
      reference: `PO-${externalId}`,
      lines: [
        { sku: 'TEA', quantity: 2 },
        { sku: 'CUP', quantity: 3 },
        { sku: 'POT', quantity: 1 },
      ],
    }),
  );
  const created = ok(
    'order',
    await stack.api(
      'POST',
      '/api/orders',
      orderBody(
        externalId,
        [
          { sku: 'TEA', quantity: 2 },
          { sku: 'CUP', quantity: 3 },
          { sku: 'POT', quantity: 4 },
        ],
        {
          customer: {
            name: '王小明',
            email: `${externalId.toLowerCase()}@example.com`,
            language: options.language ?? 'zh-CN',
            timeZone: 'Asia/Shanghai',
          },
        },
      ),
    ),
  );
  const orderId = Number(created.id);
  await stack.settle();
  const detail = ok('order detail', await stack.api('GET', `/api/orders/${orderId}`));
  if (detail.status !== 'backordered') throw new Error(`order is ${detail.status}, not backordered`);
  ok(
    'first shipment',
    await stack.api('POST', `/api/orders/${orderId}/shipments`, {
      lines: [{ sku: 'TEA', quantity: 2 }],
      carrier: 'SF Express',
      trackingNumber: SF_NUMBER,
    }),
  );
  ok(
    'second shipment',
    await stack.api('POST', `/api/orders/${orderId}/shipments`, {
      lines: [{ sku: 'CUP', quantity: 3 }],
      carrier: 'ups',
      trackingNumber: UPS_NUMBER,
    }),
  );
  const link = ok('status link', await stack.api('GET', `/api/orders/${orderId}/status-link`));
  const url = String(link.url);
  return { orderId, externalId, url, path: new URL(url).pathname };
}
