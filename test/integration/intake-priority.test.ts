import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_BODY_BYTES } from '../../src/http/app.js';
import { serverWithFastPath, webhookFastPath } from '../../src/http/webhook-listener.js';
import { IntakePriority } from '../../src/queue/intake-priority.js';
import { checkInvariants } from '../helpers/invariants.js';
import { shopifyOrderBody, shopWithOneSku } from '../helpers/shopify-webhook.js';
import { createStack, seedCatalog, silentLog, type TestStack } from '../helpers/stack.js';

/*
 * In one process with the api and worker roles, applying stored webhook events gives way to
 * receiving them (src/queue/intake-priority.ts): while a delivery is in flight, the deliveries
 * already answered stay stored and unapplied; once intake is quiet they are applied, every one.
 */

const SECRET = 'priority-webhook-secret';
const VARIANT = '4400000000000000777';

describe('applying webhook events waits for a quiet moment in intake', () => {
  let stack: TestStack;
  let server: ReturnType<typeof serve>;
  let port: number;
  let shopId: number;
  let seq = 0;
  const priority = new IntakePriority({ quietMs: 10, maxDeferMs: 60_000 });

  const signed = (orderId: string) => {
    const body = shopifyOrderBody(orderId, [
      { sku: 'PRIO-1', variantId: VARIANT, quantity: 1, price: '5.00' },
    ]);
    const headers = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'x-shopify-topic': 'orders/create',
      'x-shopify-shop-domain': 'prio-shop.myshopify.com',
      'x-shopify-event-id': `evt-${++seq}`,
      'x-shopify-webhook-id': `wh-${seq}`,
      'x-shopify-hmac-sha256': createHmac('sha256', SECRET).update(body).digest('base64'),
    };
    return { body, headers };
  };

  const ordersOf = (externalIds: string[]) =>
    stack.db('orders').whereIn('external_id', externalIds).select('external_id', 'status');

  beforeAll(async () => {
    stack = await createStack();
    shopId = await shopWithOneSku(
      stack,
      (sku) => seedCatalog(stack, [{ code: 'main', priority: 1 }], [sku]),
      {
        name: 'Priority shop',
        domain: 'prio-shop.myshopify.com',
        secret: SECRET,
        sku: 'PRIO-1',
        variantId: VARIANT,
        stock: 10,
      },
    );
    const fast = webhookFastPath({
      channels: stack.channels,
      log: silentLog,
      maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
      priority,
    });
    server = await new Promise((resolve) => {
      const s = serve(
        { fetch: stack.app.fetch, port: 0, hostname: '127.0.0.1', createServer: serverWithFastPath(fast) },
        () => resolve(s),
      );
    });
    port = (server.address() as AddressInfo).port;
    stack.startWorker(4, { priority });
  });

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await stack?.close();
  });

  it('holds the answered deliveries while another is in flight, then applies them all', async () => {
    // A delivery whose body is still on its way: intake is busy for as long as it is.
    const slow = signed('7800000000000000001');
    const half = Math.floor(slow.body.length / 2);
    let finish = () => {};
    const slowAnswer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, method: 'POST', path: `/webhooks/${shopId}`, headers: slow.headers },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c) => {
            text += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.write(slow.body.slice(0, half));
      // The rest is sent below, once the other deliveries have been answered and checked.
      finish = () => req.end(slow.body.slice(half));
    });
    const deadline = Date.now() + 10_000;
    while (!priority.busy()) {
      if (Date.now() > deadline) throw new Error('the slow delivery never reached the fast path');
      await new Promise((r) => setTimeout(r, 5));
    }

    const quick = ['7800000000000000002', '7800000000000000003', '7800000000000000004'];
    for (const id of quick) {
      const { body, headers } = signed(id);
      const res = await fetch(`http://127.0.0.1:${port}/webhooks/${shopId}`, {
        method: 'POST',
        headers,
        body,
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'accepted' });
    }
    // Answered and stored, and (intake being busy) not applied: no order yet, events unprocessed.
    const stored = await stack.db('inbound_events').whereNotNull('kind');
    expect(stored).toHaveLength(3);
    await new Promise((r) => setTimeout(r, 500));
    expect(await ordersOf(quick)).toEqual([]);
    expect(await stack.db('inbound_events').whereNull('processed_at').count({ n: '*' })).toEqual([{ n: 3 }]);
    expect(priority.busy()).toBe(true);

    // The slow delivery arrives in full and is answered; intake goes quiet and everything is applied.
    finish();
    const last = await slowAnswer;
    expect(last.status).toBe(200);
    const all = ['7800000000000000001', ...quick];
    const until = Date.now() + 30_000;
    for (;;) {
      const rows = await ordersOf(all);
      if (rows.length === 4 && rows.every((r) => r.status === 'confirmed')) break;
      if (Date.now() > until) throw new Error(`not applied in time: ${JSON.stringify(rows)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await stack.db('inbound_events').whereNull('processed_at').count({ n: '*' })).toEqual([{ n: 0 }]);
    expect(priority.waited.groups).toBeGreaterThanOrEqual(1);
    const [level] = await stack.db('stock_levels').select('on_hand', 'reserved');
    expect({ onHand: Number(level.on_hand), reserved: Number(level.reserved) }).toEqual({
      onHand: 10,
      reserved: 4,
    });
    expect(await checkInvariants(stack.db)).toEqual([]);
  });
});
